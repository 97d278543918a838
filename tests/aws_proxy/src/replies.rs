//! AWS's own error replies, byte for byte where it matters to the SDK: the status, the
//! `__type` (DynamoDB, SQS), `x-amzn-query-error` (SQS, which the SDK needs to pick the error
//! variant) and the XML `<Error>` (S3).

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use hyper::http::StatusCode;
use serde_json::json;

/// A reply the proxy sends instead of the emulator's.
pub type Reply = Response<Full<Bytes>>;

fn request_id() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..52).map(|_| char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[rng.random_range(0..36)])).collect()
}

fn json_reply(status: StatusCode, body: serde_json::Value, query_error: Option<&str>) -> Reply {
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-requestid", request_id());
    if let Some(code) = query_error {
        builder = builder.header("x-amzn-query-error", code);
    }
    builder.body(Full::new(Bytes::from(body.to_string()))).unwrap_or_else(|_| Response::new(Full::default()))
}

/// DynamoDB `TransactionCanceledException`, one reason per transact item: `TransactionConflict`
/// for the conflicting ones, `None` for the rest.
pub fn transaction_conflict(items: usize, conflicting: &[usize]) -> Reply {
    let reasons: Vec<serde_json::Value> = (0..items.max(1))
        .map(|i| {
            if conflicting.contains(&i) || (conflicting.is_empty() && i == 0) {
                json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item."})
            } else {
                json!({"Code": "None"})
            }
        })
        .collect();
    let codes: Vec<&str> = reasons.iter().map(|r| r["Code"].as_str().unwrap_or("None")).collect();
    json_reply(
        StatusCode::BAD_REQUEST,
        json!({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "CancellationReasons": reasons,
            "Message": format!(
                "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                codes.join(", ")
            ),
        }),
        None,
    )
}

/// DynamoDB `TransactionConflictException`: a single-item write against an item a transaction
/// is writing.
pub fn item_in_transaction() -> Reply {
    json_reply(
        StatusCode::BAD_REQUEST,
        json!({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionConflictException",
            "message": "Operation was rejected because there is an ongoing transaction for the item.",
        }),
        None,
    )
}

/// DynamoDB `ProvisionedThroughputExceededException`.
pub fn provisioned_throughput_exceeded() -> Reply {
    json_reply(
        StatusCode::BAD_REQUEST,
        json!({
            "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            "message": "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
        }),
        None,
    )
}

/// DynamoDB `ThrottlingException` (on-demand tables).
pub fn throttling() -> Reply {
    json_reply(
        StatusCode::BAD_REQUEST,
        json!({
            "__type": "com.amazon.coral.availability#ThrottlingException",
            "message": "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html",
        }),
        None,
    )
}

/// DynamoDB `InternalServerError` (500).
pub fn internal_server_error() -> Reply {
    json_reply(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "Internal server error"}),
        None,
    )
}

/// DynamoDB `ValidationException` with `message`.
pub fn validation(message: &str) -> Reply {
    json_reply(
        StatusCode::BAD_REQUEST,
        json!({"__type": "com.amazon.coral.validate#ValidationException", "message": message}),
        None,
    )
}

/// SQS `RequestThrottled` (403, retried by the SDK as throttling).
pub fn sqs_throttled() -> Reply {
    json_reply(
        StatusCode::FORBIDDEN,
        json!({"__type": "com.amazonaws.sqs#RequestThrottled", "message": "Request is throttled."}),
        Some("RequestThrottled;Sender"),
    )
}

/// SQS `ServiceUnavailable` (503).
pub fn sqs_unavailable() -> Reply {
    json_reply(
        StatusCode::SERVICE_UNAVAILABLE,
        json!({
            "__type": "com.amazonaws.sqs#ServiceUnavailable",
            "message": "A required server needed by SQS is unavailable. Try again later.",
        }),
        Some("ServiceUnavailable;Receiver"),
    )
}

/// SQS `InvalidParameterValue` with `message`.
pub fn sqs_invalid_parameter(message: &str) -> Reply {
    json_reply(
        StatusCode::BAD_REQUEST,
        json!({"__type": "com.amazonaws.sqs#InvalidParameterValue", "message": message}),
        Some("InvalidParameterValue;Sender"),
    )
}

/// SQS `BatchRequestTooLong`.
pub fn sqs_batch_too_long(bytes: usize, limit: usize) -> Reply {
    json_reply(
        StatusCode::BAD_REQUEST,
        json!({
            "__type": "com.amazonaws.sqs#BatchRequestTooLong",
            "message": format!("Batch requests cannot be longer than {limit} bytes. You have sent {bytes} bytes."),
        }),
        Some("AWS.SimpleQueueService.BatchRequestTooLong;Sender"),
    )
}

/// S3 `SlowDown` (503).
pub fn s3_slow_down() -> Reply {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>{}</RequestId><HostId>proxy</HostId></Error>",
        &request_id()[..16]
    );
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .header("content-type", "application/xml")
        .header("x-amz-request-id", &request_id()[..16])
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_else(|_| Response::new(Full::default()))
}
