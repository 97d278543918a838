//! `webhook_events`: one batch of the table's change stream in, its events on the webhook
//! queue. An image that is not a campaign or message row is skipped; one that does not parse is
//! logged (by key, never its contents) and skipped so it cannot block the stream; a queue or
//! store failure fails the batch, which the stream then hands again.

use crate::changes::{campaign_events, message_events};
use crate::outbox::Outbox;
use aws_lambda_events::event::dynamodb::EventRecord;
use campaign_store::images::{self, Image};
use campaign_store::{CampaignStore, StoreError};
use domain::{CampaignId, WebhookUrl};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use webhook::Envelope;
use webhook::Event;

/// What the events function works with.
pub struct Deps {
    /// Where campaigns live (a message's campaign names its URL).
    pub store: Arc<dyn CampaignStore>,
    /// The webhook queue.
    pub outbox: Arc<dyn Outbox>,
    /// Where the events of campaigns that name no URL go (none: nowhere).
    pub default_url: Option<WebhookUrl>,
}

/// What one batch did.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Stream records read.
    pub records: usize,
    /// Events queued.
    pub queued: usize,
    /// Events of campaigns with nowhere to go.
    pub unrouted: usize,
    /// Records skipped as unreadable.
    pub unreadable: usize,
}

/// Why a batch must be handed again.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    /// A campaign's URL could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The queue refused.
    #[error(transparent)]
    Outbox(#[from] crate::outbox::OutboxError),
    /// An event could not be written as JSON.
    #[error("an event could not be encoded: {0}")]
    Encode(#[from] serde_json::Error),
}

fn image(raw: serde_dynamo::Item) -> Result<Image, StoreError> {
    if raw.is_empty() {
        return Ok(Image::Other);
    }
    let item: HashMap<String, aws_sdk_dynamodb::types::AttributeValue> = raw.into();
    images::read(&item)
}

/// When the stream recorded a change, RFC 3339 (empty when the record does not say).
fn recorded_at(record: &EventRecord) -> String {
    let seconds = record.change.approximate_creation_date_time.timestamp();
    match time::OffsetDateTime::from_unix_timestamp(seconds) {
        Ok(at) if seconds > 0 => domain::rfc3339(at),
        _ => String::new(),
    }
}

/// The events of one stream record (none for a removal or an item that is not a row).
fn record_events(record: EventRecord) -> Result<Vec<Event>, StoreError> {
    let at = recorded_at(&record);
    let old = image(record.change.old_image)?;
    let new = image(record.change.new_image)?;
    Ok(match (old, new) {
        (Image::Other, Image::Campaign(new)) => campaign_events(None, &new),
        (Image::Campaign(old), Image::Campaign(new)) => campaign_events(Some(&old), &new),
        (Image::Other, Image::Message(new)) => message_events(None, &new, &at),
        (Image::Message(old), Image::Message(new)) => message_events(Some(&old), &new, &at),
        _ => Vec::new(),
    })
}

/// Handles one batch of stream records (`Records` of a DynamoDB stream event).
pub async fn handle(deps: &Deps, event: serde_json::Value) -> Result<Summary, EventsError> {
    let records = event.get("Records").and_then(|r| r.as_array()).cloned().unwrap_or_default();
    let mut summary = Summary { records: records.len(), ..Summary::default() };
    let mut events = Vec::new();
    for raw in records {
        let parsed = serde_json::from_value::<EventRecord>(raw)
            .map_err(|e| e.to_string())
            .and_then(|r| record_events(r).map_err(|e| e.to_string()));
        match parsed {
            Ok(found) => events.extend(found),
            Err(reason) => {
                summary.unreadable += 1;
                tracing::warn!(%reason, "skipped a stream record that is not a readable row change");
            }
        }
    }
    let mut urls: HashMap<CampaignId, Option<String>> = HashMap::new();
    let mut envelopes = Vec::with_capacity(events.len());
    for event in &events {
        let id = CampaignId::parse(&event.campaign_id)
            .map_err(|e| StoreError::Malformed { key: event.campaign_id.clone(), reason: e.to_string() })?;
        if !urls.contains_key(&id) {
            let named = deps.store.campaign(&id).await?.and_then(|c| c.webhook_url);
            urls.insert(id.clone(), named);
        }
        let url =
            urls.get(&id).cloned().flatten().or_else(|| deps.default_url.as_ref().map(|u| u.to_string()));
        match url {
            Some(url) => envelopes.push(Envelope::new(&url, event)?),
            None => summary.unrouted += 1,
        }
    }
    deps.outbox.put(&envelopes).await?;
    summary.queued = envelopes.len();
    tracing::info!(
        records = summary.records,
        queued = summary.queued,
        unrouted = summary.unrouted,
        unreadable = summary.unreadable,
        "stream batch turned into webhook events"
    );
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::OutboxError;
    use async_trait::async_trait;
    use campaign_store::InMemoryCampaignStore;
    use serde_json::json;
    use std::sync::Mutex;

    /// Keeps what it is given, or refuses everything.
    #[derive(Default)]
    struct Kept {
        envelopes: Mutex<Vec<Envelope>>,
        refuse: bool,
    }

    #[async_trait]
    impl Outbox for Kept {
        async fn put(&self, envelopes: &[Envelope]) -> Result<(), OutboxError> {
            if self.refuse {
                return Err(OutboxError::Unavailable("down".into()));
            }
            self.envelopes.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(envelopes);
            Ok(())
        }
    }

    /// The stream record of a new campaign row, as the stream shows it.
    fn inserted(id: &CampaignId) -> serde_json::Value {
        let s = |v: &str| json!({"S": v});
        let n = |v: u64| json!({"N": v.to_string()});
        json!({
            "eventID": "1", "eventName": "INSERT", "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": 1_796_000_000,
                "Keys": {"PK": s(&format!("CAMPAIGN#{id}")), "SK": s("META")},
                "NewImage": {
                    "PK": s(&format!("CAMPAIGN#{id}")), "SK": s("META"), "name": s("spring"),
                    "account": s("shop"), "template": s("hi"), "status": s("RUNNING"),
                    "total": n(1), "queued": n(1), "sending": n(0), "sent": n(0), "failed": n(0),
                    "paused": n(0), "cancelled": n(0),
                    "created_at": s("2026-12-01T00:00:00Z"), "updated_at": s("2026-12-01T00:00:00Z")
                },
                "SizeBytes": 100, "StreamViewType": "NEW_AND_OLD_IMAGES"
            }
        })
    }

    async fn campaign(store: &InMemoryCampaignStore, webhook: Option<&str>) -> CampaignId {
        let c = campaign_store::NewCampaign {
            webhook: webhook.map(|u| WebhookUrl::parse(u).unwrap_or_else(|e| panic!("{e}"))),
            ..test_support::fixtures::campaign(1)
        };
        store.create_campaign(&c).await.unwrap_or_else(|e| panic!("{e}"));
        c.id
    }

    fn deps(store: Arc<InMemoryCampaignStore>, outbox: Arc<Kept>, default: Option<&str>) -> Deps {
        Deps {
            store,
            outbox,
            default_url: default.map(|u| WebhookUrl::parse(u).unwrap_or_else(|e| panic!("{e}"))),
        }
    }

    #[tokio::test]
    async fn an_event_goes_to_its_campaigns_url_or_else_the_default_or_else_nowhere() {
        let store = Arc::new(InMemoryCampaignStore::default());
        let named = campaign(&store, Some("https://named.example/hook")).await;
        let unnamed = campaign(&store, None).await;
        let outbox = Arc::new(Kept::default());
        let with_default = deps(store.clone(), outbox.clone(), Some("https://default.example/"));
        let batch = json!({"Records": [inserted(&named), inserted(&unnamed)]});
        let summary = handle(&with_default, batch.clone()).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((summary.records, summary.queued, summary.unrouted), (2, 2, 0));
        let urls: Vec<String> = outbox
            .envelopes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|e| e.url.clone())
            .collect();
        assert_eq!(urls, ["https://named.example/hook", "https://default.example/"]);

        let none = deps(store, Arc::new(Kept::default()), None);
        let summary = handle(&none, batch).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((summary.queued, summary.unrouted), (1, 1));
    }

    #[tokio::test]
    async fn an_unreadable_record_is_skipped_and_a_queue_that_refuses_fails_the_batch() {
        let store = Arc::new(InMemoryCampaignStore::default());
        let id = campaign(&store, Some("https://named.example/hook")).await;
        let mut broken = inserted(&id);
        broken["dynamodb"]["NewImage"]["status"] = json!({"S": "SOMEWHERE"});
        let batch = json!({"Records": [broken, {"not": "a record"}, inserted(&id)]});
        let outbox = Arc::new(Kept::default());
        let summary =
            handle(&deps(store.clone(), outbox, None), batch.clone()).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((summary.unreadable, summary.queued), (2, 1));

        let refusing = Arc::new(Kept { refuse: true, ..Kept::default() });
        assert!(matches!(handle(&deps(store, refusing, None), batch).await, Err(EventsError::Outbox(_))));
    }
}
