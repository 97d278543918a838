//! What a request is: its service, its operation and the resource it names, read from the wire
//! (DynamoDB and SQS speak JSON 1.0 with the operation in `X-Amz-Target`; S3 speaks REST).

use crate::plan::Service;
use hyper::http::{HeaderMap, Method};
use serde_json::Value;

/// One call as the proxy sees it.
#[derive(Debug, Clone)]
pub struct Call {
    /// Its service.
    pub service: Service,
    /// The operation (`TransactWriteItems`, `ChangeMessageVisibility`, `PutObject`...).
    pub operation: String,
    /// The table, queue URL or bucket it names, when it names one.
    pub resource: Option<String>,
    /// The JSON body (DynamoDB, SQS), `Null` otherwise.
    pub json: Value,
}

/// Reads `method`, `path`, `headers` and `body` into a call.
pub fn classify(method: &Method, path: &str, headers: &HeaderMap, body: &[u8]) -> Call {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let json = || serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    if let Some(op) = target.strip_prefix("DynamoDB_20120810.") {
        let json = json();
        let resource = json.get("TableName").and_then(Value::as_str).map(str::to_owned).or_else(|| {
            // BatchWriteItem and TransactWriteItems name their tables inside.
            json.get("RequestItems")
                .and_then(Value::as_object)
                .and_then(|m| m.keys().next().cloned())
                .or_else(|| first_transaction_table(&json))
        });
        return Call { service: Service::DynamoDb, operation: op.to_owned(), resource, json };
    }
    if let Some(op) = target.strip_prefix("AmazonSQS.") {
        let json = json();
        let resource = json.get("QueueUrl").and_then(Value::as_str).map(str::to_owned);
        return Call { service: Service::Sqs, operation: op.to_owned(), resource, json };
    }
    let bucket = path.trim_start_matches('/').split('/').next().filter(|b| !b.is_empty()).map(str::to_owned);
    let has_key = path.trim_start_matches('/').split_once('/').is_some_and(|(_, k)| !k.is_empty());
    let operation = match (method, has_key) {
        (&Method::GET, true) => "GetObject",
        (&Method::PUT, true) => "PutObject",
        (&Method::DELETE, true) => "DeleteObject",
        (&Method::HEAD, true) => "HeadObject",
        (&Method::GET, false) => "ListObjects",
        (&Method::PUT, false) => "CreateBucket",
        _ => "Other",
    };
    Call { service: Service::S3, operation: operation.to_owned(), resource: bucket, json: Value::Null }
}

fn first_transaction_table(json: &Value) -> Option<String> {
    json.get("TransactItems")?.as_array()?.iter().find_map(|item| {
        item.as_object()?.values().find_map(|action| action.get("TableName")?.as_str().map(str::to_owned))
    })
}

/// One item a DynamoDB write touches: table and key (the `PK`/`SK` attributes, as JSON text).
pub type ItemKey = (String, String);

/// The key of a DynamoDB item value: its `PK` and `SK` attributes (the only key schema the
/// project's tables use; other attributes are ignored).
fn key_of(table: &str, attributes: &Value) -> Option<ItemKey> {
    let pk = attributes.get("PK")?;
    let sk = attributes.get("SK").cloned().unwrap_or(Value::Null);
    Some((table.to_owned(), format!("{pk}|{sk}")))
}

/// The items a transaction touches, one per transact item, in order.
pub fn transaction_keys(json: &Value) -> Vec<Option<ItemKey>> {
    let Some(items) = json.get("TransactItems").and_then(Value::as_array) else { return Vec::new() };
    items
        .iter()
        .map(|item| {
            let (kind, action) = item.as_object()?.iter().next()?;
            let table = action.get("TableName")?.as_str()?;
            let attrs = if kind == "Put" { action.get("Item")? } else { action.get("Key")? };
            key_of(table, attrs)
        })
        .collect()
}

/// The item a single-item write (`PutItem`, `UpdateItem`, `DeleteItem`) touches.
pub fn single_write_key(call: &Call) -> Option<ItemKey> {
    let table = call.json.get("TableName")?.as_str()?;
    match call.operation.as_str() {
        "PutItem" => key_of(table, call.json.get("Item")?),
        "UpdateItem" | "DeleteItem" => key_of(table, call.json.get("Key")?),
        _ => None,
    }
}
