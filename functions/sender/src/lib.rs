//! `sender`: takes SQS FIFO batches (group = account) and moves each message row forward,
//! reporting the records to retry as batch-item failures.
//!
//! Rules kept here: a malformed record is logged and acknowledged (it can never succeed); once a
//! record of a group is given back, every later record of that group in the batch is given back
//! too, so FIFO order holds; a record whose row is final or paused is acknowledged and skipped;
//! when the account has no usable session the message is PAUSED with the command that fixes it
//! — the row keeps the work, nothing is lost.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use campaign_store::{CampaignStore, MessageQueue, PauseReason, QueuedMessage, Transition};
use domain::{ErrorCode, MessageStatus, SessionState};
use lambda_runtime::LambdaEvent;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Settings read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table.
    pub table_name: String,
    /// The FIFO queue this function consumes (for retry delays).
    pub queue_url: String,
    /// How long a record given back for a retry stays invisible.
    pub retry_delay: Duration,
}

impl Config {
    /// Reads `TABLE_NAME`, `QUEUE_URL` and `RETRY_DELAY_SECONDS` (default 30).
    pub fn from_env() -> Result<Self, platform::ConfigError> {
        Ok(Self {
            table_name: platform::required("TABLE_NAME")?,
            queue_url: platform::required("QUEUE_URL")?,
            retry_delay: platform::seconds("RETRY_DELAY_SECONDS", 30)?,
        })
    }
}

/// What the handler needs; built once per cold start.
pub struct Deps {
    /// Settings.
    pub config: Config,
    /// Campaign rows.
    pub store: Arc<dyn CampaignStore>,
    /// The queue, for retry delays.
    pub queue: Arc<dyn MessageQueue>,
    /// The current time, RFC 3339.
    pub clock: Arc<dyn Fn() -> String + Send + Sync>,
}

/// The current UTC time in RFC 3339.
pub fn utc_now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done with it (sent, paused, skipped, or unusable): acknowledge.
    Ack(&'static str),
    /// Give it back to the queue for a later attempt.
    Retry(String),
}

/// Handles one SQS batch.
pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut failed_groups: HashSet<String> = HashSet::new();
    let (mut acked, mut retried) = (0usize, 0usize);
    for record in &event.payload.records {
        let id = record.message_id.clone().unwrap_or_default();
        let group = record.attributes.get("MessageGroupId").cloned().unwrap_or_default();
        if failed_groups.contains(&group) {
            failures.push(item_failure(id));
            retried += 1;
            continue;
        }
        match process_record(deps, record).await {
            Outcome::Ack(what) => {
                tracing::debug!(message_id = %id, what, "record acknowledged");
                acked += 1;
            }
            Outcome::Retry(why) => {
                tracing::warn!(message_id = %id, reason = %why, "record given back for retry");
                if let Some(handle) = &record.receipt_handle
                    && let Err(e) = deps.queue.retry_later(handle, deps.config.retry_delay).await
                {
                    tracing::warn!(error = %e, "could not set the retry delay; the queue's visibility timeout applies");
                }
                failed_groups.insert(group);
                failures.push(item_failure(id));
                retried += 1;
            }
        }
    }
    tracing::info!(
        records = event.payload.records.len(),
        acked,
        retried,
        ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "batch done"
    );
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    Ok(response)
}

fn item_failure(id: String) -> BatchItemFailure {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = id;
    failure
}

/// Decides one record's fate.
pub async fn process_record(deps: &Deps, record: &SqsMessage) -> Outcome {
    let body = record.body.as_deref().unwrap_or_default();
    let msg: QueuedMessage = match serde_json::from_str(body) {
        Ok(m) => m,
        Err(e) => {
            // It can never succeed: log it (without its content) and drop it.
            tracing::error!(error = %e, bytes = body.len(), "malformed queue record acknowledged");
            return Outcome::Ack("malformed");
        }
    };
    let row = match deps.store.message(&msg.campaign_id, msg.seq).await {
        Ok(Some(row)) => row,
        Ok(None) => return Outcome::Retry(format!("row {}#{} not found", msg.campaign_id, msg.seq)),
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    if row.status.is_final() || row.status == MessageStatus::Paused {
        return Outcome::Ack("already settled");
    }
    let session = match deps.store.session(&msg.account).await {
        Ok(s) => s,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let usable =
        session.as_ref().is_some_and(|s| s.current_key.is_some() && s.state != SessionState::Expired);
    if !usable {
        let reason = PauseReason {
            code: ErrorCode::SessionExpired,
            hint: ErrorCode::SessionExpired.hint_for(msg.account.as_str(), msg.campaign_id.as_str()),
            at: (deps.clock)(),
        };
        return match deps.store.pause_message(&msg.campaign_id, msg.seq, &reason).await {
            Ok(Transition::Applied) => {
                tracing::info!(campaign = %msg.campaign_id, seq = %msg.seq, account = %msg.account, code = %reason.code, "message paused");
                Outcome::Ack("paused")
            }
            Ok(Transition::NotApplicable) => Outcome::Ack("already settled"),
            Err(e) => Outcome::Retry(e.to_string()),
        };
    }
    Outcome::Retry("sending through WhatsApp Web is not part of this build yet".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use campaign_store::{
        InMemoryCampaignStore, InMemoryMessageQueue, NewCampaign, NewMessage, SessionRecord,
    };
    use domain::{AccountId, CampaignId, MessageSeq, PhoneNumber, Template};
    use std::collections::HashMap;

    fn deps(store: Arc<InMemoryCampaignStore>, queue: Arc<InMemoryMessageQueue>) -> Deps {
        Deps {
            config: Config {
                table_name: "t".into(),
                queue_url: "q".into(),
                retry_delay: Duration::from_secs(7),
            },
            store,
            queue,
            clock: Arc::new(|| "2026-11-29T00:00:00Z".into()),
        }
    }

    async fn campaign(store: &InMemoryCampaignStore, n: u32) -> CampaignId {
        let id = CampaignId::parse("c-1").unwrap();
        let messages = (0..n)
            .map(|i| NewMessage {
                seq: MessageSeq(i),
                phone: PhoneNumber::parse(&format!("+49151123456{i:02}"), None).map_err(|e| e.to_string()),
                vars: Default::default(),
            })
            .collect();
        store
            .create_campaign(&NewCampaign {
                id: id.clone(),
                name: "n".into(),
                account: AccountId::parse("shop").unwrap(),
                template: Template::parse("hi").unwrap(),
                messages,
                created_at: "2026-11-29T00:00:00Z".into(),
            })
            .await
            .unwrap();
        id
    }

    fn record(id: &str, group: &str, body: &str) -> SqsMessage {
        let mut r = SqsMessage::default();
        r.message_id = Some(id.into());
        r.receipt_handle = Some(format!("rh-{id}"));
        r.body = Some(body.into());
        r.attributes = HashMap::from([("MessageGroupId".to_string(), group.to_string())]);
        r
    }

    fn body(campaign: &CampaignId, seq: u32) -> String {
        serde_json::to_string(&QueuedMessage {
            campaign_id: campaign.clone(),
            seq: MessageSeq(seq),
            account: AccountId::parse("shop").unwrap(),
            round: 0,
        })
        .unwrap()
    }

    async fn run(d: &Deps, records: Vec<SqsMessage>) -> Vec<String> {
        let mut ev = SqsEvent::default();
        ev.records = records;
        let resp = handle(d, LambdaEvent::new(ev, Default::default())).await.unwrap();
        resp.batch_item_failures.into_iter().map(|f| f.item_identifier).collect()
    }

    #[tokio::test]
    async fn without_a_session_every_message_is_paused_with_the_setup_hint() {
        let store = Arc::new(InMemoryCampaignStore::default());
        let id = campaign(&store, 2).await;
        let d = deps(store.clone(), Arc::default());
        let failed =
            run(&d, vec![record("a", "shop", &body(&id, 0)), record("b", "shop", &body(&id, 1))]).await;
        assert!(failed.is_empty());
        let view = store.campaign(&id).await.unwrap().unwrap();
        assert_eq!((view.counts.paused, view.counts.queued), (2, 0));
        assert_eq!(view.reason, Some(ErrorCode::SessionExpired));
        assert_eq!(
            view.hint.as_deref(),
            Some("Run `wacamp setup --account shop --force`, then `wacamp resume c-1`.")
        );
    }

    #[tokio::test]
    async fn malformed_records_are_acknowledged_and_do_not_stop_the_batch() {
        let store = Arc::new(InMemoryCampaignStore::default());
        let id = campaign(&store, 1).await;
        let d = deps(store.clone(), Arc::default());
        let failed =
            run(&d, vec![record("x", "shop", "{not json"), record("a", "shop", &body(&id, 0))]).await;
        assert!(failed.is_empty());
        assert_eq!(store.campaign(&id).await.unwrap().unwrap().counts.paused, 1);
    }

    #[tokio::test]
    async fn after_a_retry_later_records_of_the_same_group_are_given_back_too() {
        let store = Arc::new(InMemoryCampaignStore::default());
        let id = campaign(&store, 1).await;
        let queue = Arc::new(InMemoryMessageQueue::default());
        let d = deps(store.clone(), queue.clone());
        let missing = body(&CampaignId::parse("c-missing").unwrap(), 0);
        let failed = run(
            &d,
            vec![
                record("m", "shop", &missing),
                record("a", "shop", &body(&id, 0)),
                record("o", "other", "{}"),
            ],
        )
        .await;
        assert_eq!(failed, vec!["m".to_string(), "a".to_string()]);
        assert_eq!(
            store.campaign(&id).await.unwrap().unwrap().counts.queued,
            1,
            "the later record was not touched"
        );
        assert_eq!(queue.retried.lock().unwrap().as_slice(), &[("rh-m".to_string(), Duration::from_secs(7))]);
    }

    #[tokio::test]
    async fn a_settled_row_is_acknowledged_without_changes() {
        let store = Arc::new(InMemoryCampaignStore::default());
        let id = campaign(&store, 1).await;
        store.set_session(
            AccountId::parse("shop").unwrap(),
            SessionRecord { state: SessionState::Expired, current_key: None, version: 1 },
        );
        let d = deps(store.clone(), Arc::default());
        assert!(run(&d, vec![record("a", "shop", &body(&id, 0))]).await.is_empty());
        assert!(run(&d, vec![record("a", "shop", &body(&id, 0))]).await.is_empty(), "redelivery is harmless");
        assert_eq!(store.campaign(&id).await.unwrap().unwrap().counts.paused, 1);
    }
}
