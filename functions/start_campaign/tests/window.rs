//! `PUT` and `DELETE /accounts/{account}/sending-window`: a window is stored as given, every bad
//! field is refused with a 400 naming it, and removing a window that is not there is a 404.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod helpers;

use campaign_store::{InMemoryCampaignStore, InMemorySendingWindows, SendingWindows};
use domain::AccountId;
use helpers::{body_json, event};
use message_queue::InMemoryMessageQueue;
use serde_json::json;
use start_campaign::{Deps, handle};
use std::sync::Arc;

fn deps() -> (Deps, Arc<InMemorySendingWindows>) {
    let windows = Arc::new(InMemorySendingWindows::default());
    let deps = Deps {
        store: Arc::new(InMemoryCampaignStore::default()),
        queue: Arc::new(InMemoryMessageQueue::default()),
        sessions: Arc::new(session_store::InMemoryProfileStore::new(session_store::StoreConfig::new(
            "bucket", "table",
        ))),
        windows: windows.clone(),
        media: Arc::new(media_store::InMemoryMediaStore::default()),
        clock: Arc::new(|| time::macros::datetime!(2027-01-15 08:00:00 UTC)),
        api_key: http_api::ApiKey::for_secret("fixture-key"),
    };
    (deps, windows)
}

async fn put(deps: &Deps, body: serde_json::Value) -> (u16, serde_json::Value) {
    let resp =
        handle(deps, event("PUT", "/accounts/shop/sending-window", &body.to_string(), &[])).await.unwrap();
    (resp.status().as_u16(), body_json(resp.body()))
}

#[tokio::test]
async fn a_window_is_stored_and_answered_as_the_store_keeps_it() {
    let (deps, windows) = deps();
    let (status, body) = put(
        &deps,
        json!({"from": "09:00", "to": "20:00", "days": ["mon-fri", "sat"], "time_zone": "europe/berlin"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"account": "shop", "from": "09:00", "to": "20:00",
            "days": ["mon", "tue", "wed", "thu", "fri", "sat"], "time_zone": "Europe/Berlin",
            "set_at": "2027-01-15T08:00:00Z"})
    );
    let stored = windows.window(&AccountId::parse("shop").unwrap()).await.unwrap().unwrap();
    assert_eq!(stored.window.to_string(), "09:00–20:00 mon,tue,wed,thu,fri,sat (Europe/Berlin)");
    assert_eq!(stored.set_at, 1_800_000_000);
}

#[tokio::test]
async fn every_bad_field_is_refused_with_a_400_naming_it() {
    let (deps, windows) = deps();
    let base = json!({"from": "09:00", "to": "20:00", "time_zone": "Europe/Berlin"});
    let with = |field: &str, value: serde_json::Value| {
        let mut b = base.clone();
        b[field] = value;
        b
    };
    for (body, field) in [
        (with("from", json!("9am")), "from: "),
        (with("to", json!("25:00")), "to: "),
        (with("to", json!("08:00")), "to: "),
        (with("days", json!(["someday"])), "days: "),
        (with("time_zone", json!("Mars/Olympus_Mons")), "time_zone: "),
        (with("time_zone", json!(3)), "time_zone: "),
        (with("colour", json!("red")), "colour: unknown field `colour`"),
        (json!({"from": "09:00", "to": "20:00"}), "body: missing field `time_zone`"),
    ] {
        let (status, answer) = put(&deps, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["code"], "BAD_REQUEST");
        assert!(answer["message"].as_str().unwrap().starts_with(field), "{body}: {answer}");
    }
    assert!(windows.window(&AccountId::parse("shop").unwrap()).await.unwrap().is_none(), "nothing stored");
}

#[tokio::test]
async fn a_window_is_removed_once_and_removing_none_is_a_404() {
    let (deps, _) = deps();
    put(&deps, json!({"from": "09:00", "to": "20:00", "time_zone": "UTC"})).await;
    let delete = || handle(&deps, event("DELETE", "/accounts/shop/sending-window", "", &[]));
    assert_eq!(delete().await.unwrap().status(), 204);
    let again = delete().await.unwrap();
    assert_eq!(again.status(), 404);
    assert_eq!(body_json(again.body())["code"], "NOT_FOUND");
}

#[tokio::test]
async fn a_get_belongs_to_the_read_side_and_a_post_is_not_allowed() {
    let (deps, _) = deps();
    let post = handle(&deps, event("POST", "/accounts/shop/sending-window", "{}", &[])).await.unwrap();
    assert_eq!(post.status(), 405);
    assert_eq!(post.headers()["allow"], "GET, PUT, DELETE");
}
