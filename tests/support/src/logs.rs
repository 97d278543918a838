//! A deployed function's log lines in the local AWS's CloudWatch Logs, read with the project
//! venv's AWS CLI: what a test checks about what a function did (and when) from the outside.

use serde_json::Value;

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// When it was logged, Unix milliseconds.
    pub timestamp_ms: i64,
    /// The line.
    pub message: String,
}

/// Now, Unix milliseconds (to read only the lines a test caused).
pub fn now_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The lines of function `function` logged since `since_ms` that contain `phrase` (none when
/// it has no log group yet: nothing was logged).
pub fn function_log(function: &str, since_ms: i64, phrase: &str) -> Vec<LogLine> {
    let root = crate::root();
    let out = std::process::Command::new(root.join(".venv/bin/aws"))
        .args(["logs", "filter-log-events", "--output", "json", "--log-group-name"])
        .arg(format!("/aws/lambda/{function}"))
        .args(["--start-time", &since_ms.to_string(), "--filter-pattern", &format!("\"{phrase}\"")])
        .env("AWS_ENDPOINT_URL", crate::endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap_or_else(|e| panic!("the AWS CLI of the project venv runs (make setup): {e}"));
    if !out.status.success() {
        return Vec::new();
    }
    let body: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    body["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some(LogLine {
                timestamp_ms: e["timestamp"].as_i64()?,
                message: e["message"].as_str()?.to_owned(),
            })
        })
        .filter(|l| l.message.contains(phrase))
        .collect()
}
