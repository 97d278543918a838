//! `reconciler`: run by an EventBridge schedule (and on demand with `{"campaign_id": "…"}`), it
//! reconciles every campaign not over yet and drains the dead-letter queue back (see the
//! `reconcile` crate), then writes one log line and one metric. A second, minute schedule sends
//! `{"due": true}`: only the scheduled campaigns whose time has come are started.

use domain::CampaignId;
use lambda_runtime::LambdaEvent;
use reconcile::{Deps, Report, Scope};
use serde_json::Value;

/// Settings read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table.
    pub table_name: String,
    /// The sender's queue.
    pub queue_url: String,
    /// Its dead-letter queue.
    pub dead_letter_queue_url: String,
    /// The reconciler's patience.
    pub reconcile: reconcile::Config,
}

impl Config {
    /// Reads `TABLE_NAME`, `QUEUE_URL`, `DEAD_LETTER_QUEUE_URL`, `RECONCILE_GRACE_SECONDS`
    /// (600), `RECONCILE_STALE_CLAIM_SECONDS` (3600) and `RECONCILE_MAX_DEAD_LETTERS` (1000).
    pub fn from_env() -> Result<Self, platform::ConfigError> {
        Ok(Self {
            table_name: platform::required("TABLE_NAME")?,
            queue_url: platform::required("QUEUE_URL")?,
            dead_letter_queue_url: platform::required("DEAD_LETTER_QUEUE_URL")?,
            reconcile: reconcile::Config {
                grace: platform::seconds("RECONCILE_GRACE_SECONDS", 600)?,
                stale_claim: platform::seconds("RECONCILE_STALE_CLAIM_SECONDS", 3600)?,
                max_dead_letters: platform::optional("RECONCILE_MAX_DEAD_LETTERS", 1000u32)?,
            },
        })
    }
}

/// What an event asks for: one campaign (`{"campaign_id": "…"}`, on demand), only the scheduled
/// campaigns that are due (`{"due": true}`, the minute schedule), or everything (the scheduled
/// event of the reconciler's own schedule names neither).
pub fn scope(event: &Value) -> Result<Scope, lambda_runtime::Error> {
    if event.get("due").and_then(Value::as_bool) == Some(true) {
        return Ok(Scope::Due);
    }
    match event.get("campaign_id").and_then(Value::as_str) {
        None => Ok(Scope::All),
        Some(raw) => {
            CampaignId::parse(raw).map(Scope::Campaign).map_err(|e| format!("campaign_id: {e}").into())
        }
    }
}

/// Handles one invocation: reconciles, logs the run and returns its counts.
pub async fn handle(deps: &Deps, event: LambdaEvent<Value>) -> Result<Report, lambda_runtime::Error> {
    let scope = scope(&event.payload)?;
    let report = reconcile::run(deps, &scope).await.map_err(|e| {
        tracing::error!(error = %e, "reconciliation stopped; the next run continues");
        lambda_runtime::Error::from(e.to_string())
    })?;
    report.log();
    // One line on stdout in CloudWatch's embedded metric format.
    println!("{}", report.metric(deps.clock.unix_millis()));
    Ok(report)
}
