//! `webhook_delivery`'s settings, read once per cold start, and the signing secret.

use platform::ConfigError;
use std::time::Duration;

/// `webhook_delivery`'s settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The webhook queue.
    pub queue_url: String,
    /// The Secrets Manager secret holding the signing secret.
    pub secret_arn: String,
    /// The first backoff after a failed delivery.
    pub retry_base: Duration,
    /// How long one POST may take.
    pub timeout: Duration,
}

impl Config {
    /// Reads `WEBHOOK_QUEUE_URL`, `WEBHOOK_SECRET_ARN`, `WEBHOOK_RETRY_BASE_SECONDS` (30) and
    /// `WEBHOOK_TIMEOUT_SECONDS` (10).
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            queue_url: platform::required("WEBHOOK_QUEUE_URL")?,
            secret_arn: platform::required("WEBHOOK_SECRET_ARN")?,
            retry_base: platform::seconds("WEBHOOK_RETRY_BASE_SECONDS", 30)?,
            timeout: platform::seconds("WEBHOOK_TIMEOUT_SECONDS", 10)?,
        })
    }
}

/// The signing secret's bytes (the secret's string, or its binary value).
pub async fn read_secret(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
    let out = client.get_secret_value().secret_id(arn).send().await.map_err(|e| {
        format!("reading the webhook secret: {}", aws_sdk_secretsmanager::error::DisplayErrorContext(&e))
    })?;
    let bytes = match (out.secret_string, out.secret_binary) {
        (Some(s), _) => s.into_bytes(),
        (None, Some(b)) => b.into_inner(),
        (None, None) => Vec::new(),
    };
    if bytes.len() < 16 {
        return Err("the webhook secret is shorter than 16 bytes".into());
    }
    Ok(bytes)
}
