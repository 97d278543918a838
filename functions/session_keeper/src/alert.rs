//! What the keeper tells operators: an alert per session found unusable (expired, open in
//! another window, banned, outdated) or restored from a backup, through a port with an SNS
//! adapter, and one metric per state in CloudWatch's embedded metric format.

use async_trait::async_trait;
use domain::{AccountId, ErrorCode};
use serde_json::json;

/// One alert: the account, the code, what happened and what to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// The account.
    pub account: AccountId,
    /// The code (`SESSION_EXPIRED`, `SESSION_CONFLICT`, ...).
    pub code: ErrorCode,
    /// What happened, one sentence.
    pub message: String,
    /// What to run or change.
    pub hint: String,
}

impl Alert {
    /// The alert for `code` on `account`, with the catalogue's sentence and hint.
    pub fn new(account: &AccountId, code: ErrorCode) -> Self {
        Self {
            account: account.clone(),
            code,
            message: code.sentence().to_owned(),
            hint: code.hint_for(account.as_str(), "<campaign>"),
        }
    }

    /// The subject line (SNS allows 100 ASCII characters).
    pub fn subject(&self) -> String {
        let subject = format!("wacamp: {} for account {}", self.code, self.account);
        subject.chars().take(100).collect()
    }

    /// The body, JSON: what a subscriber (e-mail, chat hook, queue) reads.
    pub fn body(&self) -> String {
        json!({
            "account": self.account,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        })
        .to_string()
    }
}

/// Where alerts go.
#[async_trait]
pub trait Alerts: Send + Sync {
    /// Sends one alert; an error says why it could not.
    async fn send(&self, alert: &Alert) -> Result<(), String>;
}

/// Alerts published to an SNS topic (its subscriptions fan them out).
pub struct SnsAlerts {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsAlerts {
    /// Publishes to `topic_arn`.
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self { client, topic_arn: topic_arn.into() }
    }
}

#[async_trait]
impl Alerts for SnsAlerts {
    async fn send(&self, alert: &Alert) -> Result<(), String> {
        let publish =
            self.client.publish().topic_arn(&self.topic_arn).subject(alert.subject()).message(alert.body());
        platform::retry::call(|| publish.clone().send())
            .await
            .map(|_| ())
            .map_err(|e| format!("SNS Publish: {}", aws_sdk_sns::error::DisplayErrorContext(e)))
    }
}

/// Alerts written as log lines only (no topic configured, or the CLI).
pub struct LoggedAlerts;

#[async_trait]
impl Alerts for LoggedAlerts {
    async fn send(&self, alert: &Alert) -> Result<(), String> {
        tracing::warn!(account = %alert.account, code = %alert.code, hint = %alert.hint, "{}", alert.message);
        Ok(())
    }
}

/// One metric line (CloudWatch embedded metric format) counting a check of an account whose
/// session was found in `state`, so a dashboard or an alarm can watch each state.
pub fn state_metric(state: &str, timestamp_ms: i64) -> serde_json::Value {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": "wacamp",
                "Dimensions": [["SessionState"]],
                "Metrics": [{ "Name": "SessionChecks", "Unit": "Count" }],
            }],
        },
        "SessionState": state,
        "SessionChecks": 1,
    })
}
