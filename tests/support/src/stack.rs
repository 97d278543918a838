//! A stack deployed from `infra/template.yaml` to the local AWS with the real `bootstrap`
//! binaries, and its outputs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("../.."))
}

/// The outputs of a deployed stack.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Stack {
    /// Stack name.
    pub stack_name: String,
    /// Base URL of the HTTP API (emulator form).
    pub http_base_url: String,
    /// DynamoDB table.
    pub table_name: String,
    /// FIFO queue feeding the sender.
    pub queue_url: String,
    /// Its dead-letter queue.
    pub dead_letter_queue_url: String,
    /// Session profile bucket.
    pub profile_bucket_name: String,
    /// The campaigns' files.
    pub media_bucket_name: String,
    /// The sender function's name.
    pub sender_function_name: String,
    /// The campaign_status function's name.
    pub status_function_name: String,
    /// The reconciler function's name.
    pub reconciler_function_name: String,
    /// The session keeper function's name (empty on a stack that packages the sender as an image,
    /// which has none yet).
    #[serde(default)]
    pub session_keeper_function_name: String,
    /// The SNS topic of session alerts.
    pub alert_topic_arn: String,
    /// The queue of webhook events waiting for delivery.
    pub webhook_queue_url: String,
    /// Where events no endpoint took wait.
    pub webhook_dead_letter_queue_url: String,
    /// The secret webhook requests are signed with.
    pub webhook_secret_arn: String,
}

/// Deploys (creates or updates) `name` with the test-friendly parameters, once per test binary.
/// The binaries must be built first (`make build`): a test cannot run cargo while cargo runs it.
pub fn stack(name: &str) -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| deploy(name, &[]))
}

/// Deploys (creates or updates) `name` with the test-friendly parameters plus `extra`
/// (`Key=Value`), and returns its outputs.
pub fn deploy(name: &str, extra: &[&str]) -> Stack {
    crate::aws::require_local_aws();
    let root = root();
    let python = root.join(".venv/bin/python");
    assert!(python.exists(), "{} is missing: run `make setup`", python.display());
    let outputs = root.join(format!(".local/stacks/{name}.json"));
    let status = Command::new(&python)
        .arg(root.join("infra/deploy.py"))
        .args(["--stack", name, "--outputs"])
        .arg(&outputs)
        .args([
            "--param",
            "SenderTimeoutSeconds=5",
            "--param",
            "RetryDelaySeconds=1",
            "--param",
            "MaxReceiveCount=2",
            "--param",
            "LogLevel=debug",
        ])
        .args(extra.iter().flat_map(|p| ["--param", p]))
        .env("WACAMP_API_KEY", crate::http::API_KEY)
        .env("AWS_ENDPOINT_URL", crate::aws::endpoint())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .status()
        .unwrap_or_else(|e| panic!("could not run infra/deploy.py: {e}"));
    assert!(status.success(), "deploying {name} failed (binaries missing? run `make build`)");
    let text = std::fs::read_to_string(&outputs).unwrap_or_else(|e| panic!("{}: {e}", outputs.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", outputs.display()))
}

/// A deployed function's configuration as Lambda's `GetFunctionConfiguration` answers it (the
/// environment the template resolved to, `MemorySize`, `Timeout`, `EphemeralStorage`).
pub async fn function_configuration(function: &str) -> serde_json::Value {
    let url = format!("{}/2015-03-31/functions/{function}/configuration", crate::aws::endpoint());
    let resp = reqwest::Client::new()
        .get(&url)
        .header("authorization", SIGNATURE)
        .send()
        .await
        .unwrap_or_else(|e| panic!("reading {function}'s configuration: {e}"));
    assert!(resp.status().is_success(), "reading {function}'s configuration: {}", resp.status());
    resp.json().await.unwrap_or_else(|e| panic!("{function}'s configuration is not JSON: {e}"))
}

/// The environment variables of a function's configuration (from [`function_configuration`]), as
/// the template resolved them.
pub fn function_variables(config: &serde_json::Value) -> std::collections::BTreeMap<String, String> {
    let variables = config["Environment"]["Variables"].as_object();
    variables
        .unwrap_or_else(|| panic!("the configuration has no variables: {config}"))
        .iter()
        .map(|(name, value)| (name.clone(), value.as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// The local AWS routes Lambda calls by the signature's service; it checks nothing else.
const SIGNATURE: &str = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0";

/// Invokes a deployed function of the local AWS synchronously with `payload` (Lambda's Invoke
/// API) and returns what it answered; panics when it failed.
pub async fn invoke(function: &str, payload: &serde_json::Value) -> serde_json::Value {
    try_invoke(function, payload).await.unwrap_or_else(|e| panic!("{e}"))
}

/// [`invoke`], with a failed invocation (or no answer) as an error instead of a panic.
pub async fn try_invoke(function: &str, payload: &serde_json::Value) -> Result<serde_json::Value, String> {
    let url = format!("{}/2015-03-31/functions/{function}/invocations", crate::aws::endpoint());
    let resp = reqwest::Client::new()
        .post(&url)
        .header("authorization", SIGNATURE)
        .json(payload)
        .send()
        .await
        .map_err(|e| format!("invoking {function}: {e}"))?;
    let failed = resp.headers().get("x-amz-function-error").is_some();
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.unwrap_or(serde_json::Value::Null);
    if status.is_success() && !failed {
        Ok(body)
    } else {
        Err(format!("{function} failed ({status}): {body}"))
    }
}
