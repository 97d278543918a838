//! The local AWS: where it answers, SDK clients pointed at it, and resources with unique names.

use std::process::Command;

/// The local AWS endpoint (`WACAMP_LOCAL_AWS`, default `http://127.0.0.1:4566`).
pub fn endpoint() -> String {
    std::env::var("WACAMP_LOCAL_AWS").unwrap_or_else(|_| "http://127.0.0.1:4566".to_owned())
}

/// `prefix-` and 16 random hex digits: a name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..16])
}

/// Panics with the command that starts it when no local AWS answers.
pub fn require_local_aws() {
    let answers = |probe: &str| {
        Command::new("curl")
            .args(["-fsS", "-m", "3", &format!("{}{probe}", endpoint())])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    assert!(
        answers("/_ministack/health") || answers("/_localstack/health"),
        "no local AWS answers at {}: start it with `make local-up`",
        endpoint()
    );
}

/// SDK configuration for the emulator: fixed test credentials, few retries (a 5xx should fail
/// a test quickly, not hang it).
pub async fn sdk_config() -> aws_config::SdkConfig {
    sdk_config_at(&endpoint()).await
}

/// [`sdk_config`] for another endpoint (e.g. the AWS fault proxy in front of the emulator).
pub async fn sdk_config_at(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "tests"))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(2))
        .load()
        .await
}

/// An S3 client that uses path-style addressing (the emulator has no bucket hostnames).
pub async fn s3() -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&sdk_config().await).force_path_style(true).build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// A DynamoDB client.
pub async fn dynamo() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&sdk_config().await)
}

/// An SQS client.
pub async fn sqs() -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&sdk_config().await)
}

/// Creates a table shaped like the template's (`PK`/`SK` keys, status index `GSI1`) under a
/// unique `prefix-…` name and returns its client and name; for tests and benches of the store
/// adapters that need no whole stack.
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
    let client = dynamo().await;
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

/// Creates a bucket under a unique `prefix-…` name and returns its client and name.
pub async fn fresh_bucket(prefix: &str) -> (aws_sdk_s3::Client, String) {
    let client = s3().await;
    let bucket = unique(prefix);
    client.create_bucket().bucket(&bucket).send().await.unwrap_or_else(|e| {
        panic!(
            "creating bucket {bucket} at {} failed ({e:?}): start the local AWS with `make local-up`",
            endpoint()
        )
    });
    (client, bucket)
}
