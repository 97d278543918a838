//! `webhook_events`' settings, read once per cold start.

use domain::WebhookUrl;
use platform::ConfigError;

/// `webhook_events`' settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table.
    pub table_name: String,
    /// The webhook queue.
    pub queue_url: String,
    /// The deployment's default endpoint.
    pub default_url: Option<WebhookUrl>,
}

impl Config {
    /// Reads `TABLE_NAME`, `WEBHOOK_QUEUE_URL` and `WEBHOOK_URL` (empty: no default).
    pub fn from_env() -> Result<Self, ConfigError> {
        let default_url = match std::env::var("WEBHOOK_URL") {
            Ok(raw) if !raw.trim().is_empty() => Some(WebhookUrl::parse(&raw).map_err(|e| {
                ConfigError::Invalid { name: "WEBHOOK_URL", value: raw.clone(), reason: e.to_string() }
            })?),
            _ => None,
        };
        Ok(Self {
            table_name: platform::required("TABLE_NAME")?,
            queue_url: platform::required("WEBHOOK_QUEUE_URL")?,
            default_url,
        })
    }
}
