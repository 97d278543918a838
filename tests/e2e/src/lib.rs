//! The end-to-end test world: the local AWS emulator (started by `make local-up`), the stack
//! deployed from `infra/template.yaml` with the real `bootstrap` binaries, and AWS SDK clients
//! pointed at it. Tests fail loudly, naming the command that fixes a missing part.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The local AWS endpoint (`WACAMP_LOCAL_AWS`, default `http://127.0.0.1:4566`).
pub fn endpoint() -> String {
    std::env::var("WACAMP_LOCAL_AWS").unwrap_or_else(|_| "http://127.0.0.1:4566".to_owned())
}

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| PathBuf::from("../.."))
}

/// The API key the test stacks are deployed with.
pub const API_KEY: &str = "e2e-test-key";

/// An HTTP client that sends the test stacks' API key.
pub fn http() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-api-key", reqwest::header::HeaderValue::from_static(API_KEY));
    reqwest::Client::builder().default_headers(headers).build().unwrap_or_default()
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
    /// The sender function's name.
    pub sender_function_name: String,
}

fn check_local_aws() {
    let url = format!("{}/_ministack/health", endpoint());
    let ok = Command::new("curl")
        .args(["-fsS", "-m", "3", &url])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let ok = ok || {
        let url = format!("{}/_localstack/health", endpoint());
        Command::new("curl")
            .args(["-fsS", "-m", "3", &url])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    assert!(ok, "no local AWS answers at {}: start it with `make local-up`", endpoint());
}

/// Deploys (creates or updates) `name` with test-friendly parameters, once per test binary.
/// The binaries must be built first (`make build`): a test cannot run cargo while cargo runs it.
pub fn stack(name: &str) -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| deploy(name, &[]))
}

/// Deploys (creates or updates) `name` with the test-friendly parameters plus `extra`
/// (`Key=Value`), and returns its outputs.
pub fn deploy(name: &str, extra: &[&str]) -> Stack {
    {
        check_local_aws();
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
            .env("WACAMP_API_KEY", API_KEY)
            .env("AWS_ENDPOINT_URL", endpoint())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .status()
            .unwrap_or_else(|e| panic!("could not run infra/deploy.py: {e}"));
        assert!(status.success(), "deploying {name} failed (binaries missing? run `make build`)");
        let text = std::fs::read_to_string(&outputs).unwrap_or_else(|e| panic!("{}: {e}", outputs.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", outputs.display()))
    }
}

/// SDK configuration for the emulator: fixed test credentials, few retries (a 5xx should fail
/// a test quickly, not hang it).
pub async fn aws() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "e2e"))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .load()
        .await
}

/// An S3 client that uses path-style addressing (the emulator has no bucket hostnames).
pub async fn s3() -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&aws().await).force_path_style(true).build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// Polls `probe` until it yields a value or `timeout` passes; the panic names `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Creates a table shaped like the template's (`PK`/`SK` keys, status index `GSI1`) under a
/// unique `prefix-…` name in the local AWS and returns its client and name; for tests and
/// benches of the store adapters that need no whole stack.
pub async fn fresh_table(prefix: &str) -> (aws_sdk_dynamodb::Client, String) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
        ProjectionType, ScalarAttributeType,
    };
    fn attr(name: &str) -> Option<AttributeDefinition> {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .ok()
    }
    fn key(name: &str, kind: KeyType) -> Option<KeySchemaElement> {
        KeySchemaElement::builder().attribute_name(name).key_type(kind).build().ok()
    }
    let client = aws_sdk_dynamodb::Client::new(&aws().await);
    let table = format!("{prefix}-{}", uuid::Uuid::new_v4().simple());
    let index = GlobalSecondaryIndex::builder()
        .index_name("GSI1")
        .set_key_schema(Some(
            vec![key("GSI1PK", KeyType::Hash), key("GSI1SK", KeyType::Range)].into_iter().flatten().collect(),
        ))
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .build()
        .ok();
    client
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(
            ["PK", "SK", "GSI1PK", "GSI1SK"].into_iter().filter_map(attr).collect(),
        ))
        .set_key_schema(Some(
            [key("PK", KeyType::Hash), key("SK", KeyType::Range)].into_iter().flatten().collect(),
        ))
        .set_global_secondary_indexes(index.map(|i| vec![i]))
        .send()
        .await
        .unwrap_or_else(|e| {
            panic!("cannot create a table in the local AWS ({e}): start it with `make local-up`")
        });
    (client, table)
}

/// GETs `url` with the test API key and returns the JSON body.
pub async fn get_json(url: String) -> serde_json::Value {
    json_of(http().get(&url), &url).await
}

/// POSTs to `url` (no body) with the test API key and returns the JSON body.
pub async fn post_json(url: String) -> serde_json::Value {
    json_of(http().post(&url), &url).await
}

async fn json_of(request: reqwest::RequestBuilder, url: &str) -> serde_json::Value {
    let resp = request.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    resp.json().await.unwrap_or_else(|e| panic!("{url}: the body is not JSON: {e}"))
}
