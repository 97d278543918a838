//! Resume and cancel where DynamoDB turns every row transaction away (as AWS does under
//! conflicts and throttling, through the AWS fault proxy): the call stops part-way with a 503
//! that says how far it got and loses nothing; the same call once AWS lets it through finishes
//! the job, and the counters equal the rows.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use aws_proxy::{FaultKind, FaultPlan, FaultProxy, Rule};
use campaign_store::{CampaignStore, DynamoCampaignStore};
use domain::{CampaignId, Counters, MessageStatus};
use message_queue::SqsMessageQueue;
use start_campaign::{Deps, handle};
use std::sync::Arc;

mod helpers;
use helpers::{body_json, campaign_body, event};

#[tokio::test]
async fn a_resume_and_a_cancel_turned_away_by_every_transaction_stop_resumably_and_the_retry_finishes() {
    let proxy = FaultProxy::start(&test_support::endpoint()).unwrap();
    let conf = test_support::sdk_config_at(&proxy.url()).await;
    let (_, table) = test_support::fresh_table("contended").await;
    let sqs = aws_sdk_sqs::Client::new(&conf);
    let queue_url = sqs
        .create_queue()
        .queue_name(format!("{}.fifo", test_support::unique("contended")))
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let store = Arc::new(DynamoCampaignStore::new(aws_sdk_dynamodb::Client::new(&conf), table));
    let deps = Deps {
        store: store.clone(),
        queue: Arc::new(SqsMessageQueue::new(sqs, queue_url)),
        sessions: Arc::new(session_store::InMemoryProfileStore::new(session_store::StoreConfig::new(
            "bucket", "table",
        ))),
        windows: Arc::new(campaign_store::InMemorySendingWindows::default()),
        media: Arc::new(media_store::InMemoryMediaStore::default()),
        clock: Arc::new(|| time::macros::datetime!(2026-12-01 10:00:00 UTC)),
        api_key: http_api::ApiKey::for_secret("fixture-key"),
    };
    // Given a campaign of 150 rows, paused after none was sent,
    let phones: Vec<String> = (0..150).map(|i| format!("+4915112{i:06}")).collect();
    let phones: Vec<&str> = phones.iter().map(String::as_str).collect();
    let started = body_json(
        handle(&deps, event("POST", "/campaigns", &campaign_body("busy", &phones), &[]))
            .await
            .unwrap()
            .body(),
    );
    let id = CampaignId::parse(started["campaign_id"].as_str().unwrap()).unwrap();
    let reason = campaign_store::PauseReason {
        code: domain::ErrorCode::SessionExpired,
        hint: "Run setup.".into(),
        at: "t".into(),
    };
    let queued = store.messages_in_status(&id, MessageStatus::Queued, None, 500).await.unwrap();
    for row in &queued {
        store.pause_message(&id, row.seq, &reason).await.unwrap();
    }
    let counted = async || {
        let rows = store.list_messages(&id, None, None, 1000).await.unwrap();
        Counters::of_rows(rows.into_iter().map(|e| e.row.status))
    };
    // when every transaction is cancelled for a conflict, the resume stops with a 503 that says
    // how far it got and what to do, and nothing moved behind its back;
    proxy.set_plan(FaultPlan::with_rules(
        vec![Rule::new(FaultKind::TransactionConflict, 1.0).on(&["TransactWriteItems"])],
        3,
    ));
    let resume = format!("/campaigns/{id}/resume");
    let stopped = handle(&deps, event("POST", &resume, "", &[])).await.unwrap();
    assert_eq!(stopped.status(), 503);
    let body = body_json(stopped.body());
    assert_eq!(body["code"], "STORE_BUSY");
    assert!(body["message"].as_str().unwrap().contains("resumed 0 messages"), "{body}");
    assert!(body["hint"].as_str().unwrap().contains("again"), "{body}");
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!(view.counts, counted().await, "the counters equal the rows");
    assert_eq!(view.counts.paused, 150);
    // and once AWS lets it through, the same call finishes the job.
    proxy.set_plan(FaultPlan::strict());
    let done = body_json(handle(&deps, event("POST", &resume, "", &[])).await.unwrap().body());
    assert_eq!(done["requeued"], 150, "{done}");
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().counts, counted().await);
    // The same for a cancel: it says the campaign is cancelled and how many rows it moved,
    proxy.set_plan(FaultPlan::with_rules(
        vec![Rule::new(FaultKind::TransactionConflict, 1.0).on(&["TransactWriteItems"])],
        4,
    ));
    let cancel = format!("/campaigns/{id}/cancel");
    let stopped = body_json(handle(&deps, event("POST", &cancel, "", &[])).await.unwrap().body());
    assert_eq!(stopped["code"], "STORE_BUSY");
    assert!(
        stopped["message"].as_str().unwrap().contains("is CANCELLED and 0 messages were cancelled"),
        "{stopped}"
    );
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().status, domain::CampaignStatus::Cancelled);
    // and repeated, it cancels the rest.
    proxy.set_plan(FaultPlan::strict());
    let done = body_json(handle(&deps, event("POST", &cancel, "", &[])).await.unwrap().body());
    assert_eq!(done["cancelled"], 150, "{done}");
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!(view.counts, counted().await);
    assert_eq!(view.counts.cancelled, 150);
}
