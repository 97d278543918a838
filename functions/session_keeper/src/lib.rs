//! `session_keeper`: run by an EventBridge schedule (and on demand with `{"account": "…"}`, or by
//! `wacamp session keep --account A`), it keeps every linked account's WhatsApp Web session
//! from going stale before a campaign needs it: for each account whose browser lease is free it
//! restores and checks the session and stores a fresh generation ([`keep`]), alerts on sessions
//! that stopped working ([`alert`]), looks at the chats of recent messages for receipts the
//! sender did not see ([`sweep`]), and writes one metric line per account and one log line per
//! run. It never runs a browser beside a sender: both take the account's browser lease.

pub mod alert;
pub mod keep;
pub mod sweep;

pub use keep::Kept;

use alert::Alerts;
use campaign_store::AccountGate;
use domain::{AccountId, SharedClock};
use sender::browser::Launcher;
use serde::Serialize;
use serde_json::Value;
use session_store::ProfileStore;
use std::sync::Arc;
use std::time::Duration;

/// Linked accounts read per listing page.
const LISTING_PAGE: u32 = 100;
/// The lease is held this long past the invocation's deadline (as the sender does), so it
/// cannot lapse while the keeper still runs.
const LEASE_MARGIN_SECONDS: i64 = 30;

/// Settings read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table.
    pub table_name: String,
    /// The sender's queue (resumed campaigns' records go there).
    pub queue_url: String,
    /// Older generations tried when the current one does not log in.
    pub max_fallback: usize,
    /// No account is started with less than this left before the deadline.
    pub reserve: Duration,
    /// The SNS topic alerts go to; `None`: alerts are log lines only.
    pub alert_topic_arn: Option<String>,
}

impl Config {
    /// Reads `TABLE_NAME`, `QUEUE_URL`, `MAX_BACKUP_FALLBACK` (3), `KEEPER_RESERVE_SECONDS`
    /// (120) and `ALERT_TOPIC_ARN` (optional).
    pub fn from_env() -> Result<Self, platform::ConfigError> {
        let topic: String = platform::optional("ALERT_TOPIC_ARN", String::new())?;
        Ok(Self {
            table_name: platform::required("TABLE_NAME")?,
            queue_url: platform::required("QUEUE_URL")?,
            max_fallback: platform::optional("MAX_BACKUP_FALLBACK", 3usize)?,
            reserve: platform::seconds("KEEPER_RESERVE_SECONDS", 120)?,
            alert_topic_arn: Some(topic).filter(|t| !t.is_empty()),
        })
    }
}

/// What a run needs; built once per cold start.
pub struct Deps {
    /// Settings.
    pub config: Config,
    /// Session profile generations and the session pointer.
    pub profiles: Arc<dyn ProfileStore>,
    /// Starts browsers (the sender's launcher).
    pub launcher: Arc<dyn Launcher>,
    /// The account's browser lease, shared with the sender.
    pub gate: Arc<dyn AccountGate>,
    /// Resuming campaigns that paused for the session.
    pub control: campaign_control::Control,
    /// Where alerts go.
    pub alerts: Arc<dyn Alerts>,
    /// The current time.
    pub clock: SharedClock,
}

impl Deps {
    /// The deployed wiring: DynamoDB, S3 and SQS from `aws`, Chromium from `driver` (never
    /// taking a session over from another window: that is for the operator to decide), alerts to
    /// `alerts`.
    pub fn on_aws(
        aws: &platform::SdkConfig,
        config: Config,
        store: session_store::StoreConfig,
        driver: wa_driver::DriverConfig,
        alerts: Arc<dyn Alerts>,
    ) -> Self {
        let dynamo = aws_sdk_dynamodb::Client::new(aws);
        let clock = platform::clock();
        Self {
            profiles: Arc::new(session_store::S3ProfileStore::new(
                platform::s3_client(aws),
                dynamo.clone(),
                store,
            )),
            launcher: Arc::new(sender::browser::ChromiumLauncher {
                template: driver,
                take_over_conflict: false,
            }),
            gate: Arc::new(campaign_store::DynamoAccountGate::new(dynamo.clone(), config.table_name.clone())),
            control: campaign_control::Control::on_aws(
                dynamo,
                aws_sdk_sqs::Client::new(aws),
                config.table_name.clone(),
                config.queue_url.clone(),
                clock.clone(),
            ),
            alerts,
            clock,
            config,
        }
    }
}

/// One account's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountReport {
    /// The account.
    pub account: AccountId,
    /// What was found and done.
    #[serde(flatten)]
    pub kept: Kept,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Each account looked at, in order.
    pub accounts: Vec<AccountReport>,
    /// Whether accounts were left for the next run (the deadline came near).
    pub stopped_early: bool,
}

/// Which accounts a run keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every linked account.
    All,
    /// One account.
    Account(AccountId),
}

/// The account an on-demand event names (`{"account": "…"}`); a scheduled event (EventBridge's
/// envelope, whose `account` is the AWS account) keeps every account.
pub fn scope(event: &Value) -> Result<Scope, String> {
    if event.get("detail-type").is_some() || event.get("source").and_then(Value::as_str) == Some("aws.events")
    {
        return Ok(Scope::All);
    }
    match event.get("account") {
        None => Ok(Scope::All),
        Some(Value::String(raw)) => {
            AccountId::parse(raw).map(Scope::Account).map_err(|e| format!("account: {e}"))
        }
        Some(other) => Err(format!("account: expected a string, got {other}")),
    }
}

/// Keeps the accounts of `scope`, starting none with less than the reserve left before
/// `deadline` (epoch milliseconds); `holder` names this invocation on the browser lease. Every
/// run starts at another account (the minute picks it), so when the linked accounts take longer
/// than one invocation, none waits behind the others run after run.
pub async fn run(deps: &Deps, scope: &Scope, deadline_ms: u64, holder: &str) -> Result<Report, String> {
    let until = i64::try_from(deadline_ms / 1000).unwrap_or(i64::MAX).saturating_add(LEASE_MARGIN_SECONDS);
    let accounts = match scope {
        Scope::Account(account) => vec![account.clone()],
        Scope::All => {
            let mut accounts = linked_accounts(deps.profiles.as_ref()).await?;
            if !accounts.is_empty() {
                let start = usize::try_from(deps.clock.unix() / 60).unwrap_or(0) % accounts.len();
                accounts.rotate_left(start);
            }
            accounts
        }
    };
    let mut report = Report::default();
    for account in &accounts {
        let left_ms = deadline_ms.saturating_sub(u64::try_from(deps.clock.unix_millis()).unwrap_or(0));
        if Duration::from_millis(left_ms) < deps.config.reserve {
            tracing::info!(%account, "the invocation's deadline is near; the other accounts wait for the next run");
            report.stopped_early = true;
            break;
        }
        let kept = keep::keep(deps, account, holder, until).await;
        println!("{}", alert::state_metric(kept.state(), deps.clock.unix_millis()));
        tracing::info!(%account, state = kept.state(), outcome = ?kept, "session kept");
        report.accounts.push(AccountReport { account: account.clone(), kept });
    }
    Ok(report)
}

/// Every linked account, in account order.
async fn linked_accounts(profiles: &dyn ProfileStore) -> Result<Vec<AccountId>, String> {
    let mut accounts: Vec<AccountId> = Vec::new();
    loop {
        let page = profiles
            .linked_accounts(accounts.last(), LISTING_PAGE)
            .await
            .map_err(|e| format!("listing the linked accounts: {e}"))?;
        let full = page.len() == LISTING_PAGE as usize;
        accounts.extend(page);
        if !full {
            return Ok(accounts);
        }
    }
}

/// Handles one invocation.
pub async fn handle(
    deps: &Deps,
    event: lambda_runtime::LambdaEvent<Value>,
) -> Result<Report, lambda_runtime::Error> {
    let scope = scope(&event.payload).map_err(lambda_runtime::Error::from)?;
    let report = run(deps, &scope, event.context.deadline, &event.context.request_id).await.map_err(|e| {
        tracing::error!(error = %e, "the keeper stopped; the next run continues");
        lambda_runtime::Error::from(e)
    })?;
    tracing::info!(accounts = report.accounts.len(), stopped_early = report.stopped_early, "keeper run done");
    Ok(report)
}
