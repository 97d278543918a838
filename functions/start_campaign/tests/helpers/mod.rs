//! What the handler tests share: API Gateway v2 events built from the captured fixture, and
//! reading JSON bodies.
#![allow(dead_code, clippy::unwrap_used)] // each test file uses some of these; a failed unwrap is a failed test

use lambda_http::Body;
use serde_json::Value;

/// The JSON of a response body.
pub fn body_json(body: &Body) -> Value {
    serde_json::from_slice(body.as_ref()).unwrap()
}

/// An API Gateway v2 request for `method path` (with a query string) carrying `body` and
/// `headers`, built from the captured fixture (its API key included).
pub fn event(method: &str, path: &str, body: &str, headers: &[(&str, &str)]) -> lambda_http::Request {
    let mut e: Value =
        serde_json::from_str(include_str!("../fixtures/apigw_v2_post_campaigns.json")).unwrap();
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    e["rawQueryString"] = query.into();
    let params: serde_json::Map<String, Value> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), Value::from(v)))
        .collect();
    if !params.is_empty() {
        e["queryStringParameters"] = Value::Object(params);
    }
    e["rawPath"] = path.into();
    e["routeKey"] = format!("{method} {path}").into();
    e["requestContext"]["http"]["method"] = method.into();
    e["requestContext"]["http"]["path"] = path.into();
    e["headers"]["content-length"] = body.len().to_string().into();
    for (k, v) in headers {
        e["headers"][*k] = (*v).into();
    }
    e["body"] = body.into();
    lambda_http::request::from_str(&e.to_string()).unwrap()
}

/// A campaign body for account `shop` with these phones.
pub fn campaign_body(name: &str, phones: &[&str]) -> String {
    let recipients: Vec<Value> =
        phones.iter().map(|p| serde_json::json!({ "phone": p, "vars": { "name": "Ana" } })).collect();
    serde_json::json!({ "name": name, "account": "shop", "template": "Hi {{name}}", "recipients": recipients })
        .to_string()
}
