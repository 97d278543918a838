//! Scheduled starts through the handler, against in-memory ports and a clock the test moves: a
//! campaign with `send_at` waits SCHEDULED with nothing queued until the reconciler finds it due;
//! before then it can be moved, started early or cancelled, and a resume does not start it.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use campaign_store::{CampaignStore, InMemoryCampaignStore};
use domain::{CampaignId, CampaignStatus, ManualClock};
use message_queue::InMemoryMessageQueue;
use serde_json::{Value, json};
use start_campaign::{Deps, handle};
use std::sync::Arc;

mod helpers;
use helpers::{body_json, event};

/// 2027-01-15T08:00:00Z.
const T0: i64 = 1_800_000_000;

struct World {
    deps: Deps,
    store: Arc<InMemoryCampaignStore>,
    queue: Arc<InMemoryMessageQueue>,
    clock: Arc<ManualClock>,
}

fn world() -> World {
    let store = Arc::new(InMemoryCampaignStore::default());
    let queue = Arc::new(InMemoryMessageQueue::default());
    let clock = Arc::new(ManualClock::at(T0));
    let deps = Deps {
        store: store.clone(),
        queue: queue.clone(),
        sessions: Arc::new(session_store::InMemoryProfileStore::new(session_store::StoreConfig::new(
            "bucket", "table",
        ))),
        windows: Arc::new(campaign_store::InMemorySendingWindows::default()),
        media: Arc::new(media_store::InMemoryMediaStore::default()),
        clock: clock.clone(),
        api_key: http_api::ApiKey::for_secret("fixture-key"),
    };
    World { deps, store, queue, clock }
}

impl World {
    async fn call(&self, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let resp = handle(&self.deps, event(method, path, &body.to_string(), &[])).await.unwrap();
        (resp.status().as_u16(), body_json(resp.body()))
    }

    async fn start(&self, send_at: &str) -> (u16, Value) {
        let body = json!({
            "name": "spring", "account": "shop", "template": "Hi {{name}}", "send_at": send_at,
            "recipients": [
                { "phone": "+4915112345670", "vars": { "name": "Ana" } },
                { "phone": "+4915112345671", "vars": { "name": "Ben" } },
            ],
        });
        self.call("POST", "/campaigns", &body).await
    }

    async fn scheduled(&self, send_at: &str) -> CampaignId {
        let (status, body) = self.start(send_at).await;
        assert_eq!(status, 202, "{body}");
        CampaignId::parse(body["campaign_id"].as_str().unwrap()).unwrap()
    }

    async fn released(&self) -> u64 {
        let deps = reconcile::Deps {
            store: self.store.clone(),
            queue: self.queue.clone(),
            dead_letters: Arc::new(message_queue::InMemoryDeadLetters::default()),
            windows: Arc::new(campaign_store::InMemorySendingWindows::default()),
            clock: self.clock.clone(),
            config: reconcile::Config::default(),
        };
        reconcile::run(&deps, &reconcile::Scope::Due).await.unwrap().released
    }

    fn queued(&self) -> usize {
        self.queue.queued.lock().unwrap().len()
    }

    async fn status(&self, id: &CampaignId) -> CampaignStatus {
        self.store.campaign(id).await.unwrap().unwrap().status
    }
}

#[tokio::test]
async fn a_campaign_with_a_start_time_waits_scheduled_with_nothing_queued_until_the_reconciler_finds_it_due()
{
    let w = world();
    let (status, body) = w.start("2027-01-15T09:30:00+01:00").await;
    assert_eq!(status, 202, "{body}");
    assert_eq!((body["status"].as_str(), body["queued"].as_u64()), (Some("SCHEDULED"), Some(0)));
    assert_eq!((body["scheduled"].as_u64(), body["paused"].as_u64()), (Some(2), Some(0)));
    assert_eq!(body["send_at"], "2027-01-15T08:30:00Z", "kept in UTC");
    let id = CampaignId::parse(body["campaign_id"].as_str().unwrap()).unwrap();
    let view = w.store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.status, view.counts.paused, view.reason), (CampaignStatus::Scheduled, 2, None));
    assert_eq!(view.send_at.as_deref(), Some("2027-01-15T08:30:00Z"));

    w.clock.set(T0 + 1799);
    assert_eq!(w.released().await, 0, "a second early");
    assert_eq!(w.queued(), 0);
    w.clock.set(T0 + 1800);
    assert_eq!(w.released().await, 1);
    assert_eq!(w.queued(), 2, "each held row queued once");
    let view = w.store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.status, view.counts.queued, view.counts.paused), (CampaignStatus::Running, 2, 0));
    assert_eq!(w.released().await, 0, "released once");
    assert_eq!(w.queued(), 2);
}

#[tokio::test]
async fn a_start_time_in_the_past_without_an_offset_or_beyond_a_year_is_refused_naming_send_at() {
    let w = world();
    for bad in [
        "2027-01-15T07:59:59Z",
        "2027-01-15T08:00:00Z",
        "2027-01-15T09:00:00",
        "2028-02-01T00:00:00Z",
        "soon",
    ] {
        let (status, body) = w.start(bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["code"], "BAD_REQUEST");
        assert!(body["message"].as_str().unwrap().starts_with("send_at: "), "{bad}: {body}");
    }
    assert_eq!(w.queued(), 0);
}

#[tokio::test]
async fn before_it_starts_a_scheduled_campaign_can_be_moved_or_started_early_and_a_resume_does_not_start_it()
{
    let w = world();
    let id = w.scheduled("2027-01-15T09:00:00Z").await;
    let path = format!("/campaigns/{id}");
    let (status, body) = w.call("PATCH", &path, &json!({ "send_at": "2027-01-16T09:00:00+02:00" })).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("SCHEDULED")), "{body}");
    assert_eq!(body["send_at"], "2027-01-16T07:00:00Z");
    w.clock.set(T0 + 3600);
    assert_eq!(w.released().await, 0, "the old time no longer starts it");

    for bad in [json!({ "send_at": "2027-01-15T08:00:00Z" }), json!({}), json!({ "send_at": 5 })] {
        let (status, body) = w.call("PATCH", &path, &bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["message"].as_str().unwrap().starts_with("send_at"), "{bad}: {body}");
    }
    let (status, body) = w.call("POST", &format!("{path}/resume"), &json!({})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("CONFLICT")), "{body}");
    assert_eq!((w.queued(), w.status(&id).await), (0, CampaignStatus::Scheduled));

    let (status, body) = w.call("PATCH", &path, &json!({ "send_at": null })).await;
    assert_eq!((status, body["status"].as_str(), body["requeued"].as_u64()), (200, Some("RUNNING"), Some(2)));
    assert_eq!(body["send_at"], "2027-01-15T09:00:00Z", "started now: its start time is now");
    assert_eq!(w.queued(), 2);
    let (status, body) = w.call("PATCH", &path, &json!({ "send_at": null })).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("CONFLICT")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("RUNNING"), "{body}");
    assert_eq!(w.queued(), 2, "started once");

    let (status, _) = w.call("PATCH", "/campaigns/c-nobody", &json!({ "send_at": null })).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_cancelled_scheduled_campaign_never_starts() {
    let w = world();
    let id = w.scheduled("2027-01-15T08:10:00Z").await;
    let (status, body) = w.call("POST", &format!("/campaigns/{id}/cancel"), &json!({})).await;
    assert_eq!(
        (status, body["status"].as_str(), body["cancelled"].as_u64()),
        (200, Some("CANCELLED"), Some(2))
    );
    let (status, _) = w.call("PATCH", &format!("/campaigns/{id}"), &json!({ "send_at": null })).await;
    assert_eq!(status, 409);
    w.clock.set(T0 + 3600);
    assert_eq!(w.released().await, 0);
    assert_eq!((w.queued(), w.status(&id).await), (0, CampaignStatus::Cancelled));
}
