//! Scheduled starts end to end: a campaign accepted with `send_at` a little ahead waits
//! SCHEDULED, nothing queued and no sender run, until the stack's own minute schedule (fired by
//! the local AWS, not by the test) starts it; then every message goes out once. The stack is this
//! test's own, so every sender invocation it saw is this campaign's.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use serde_json::{Value, json};
use std::sync::OnceLock;
use std::time::Duration;
use test_support::campaigns::wait_status_within;
use test_support::logs::{function_log, now_ms};
use test_support::world::SENDING;
use test_support::{World, delivered, link_account, numbered};
use time::format_description::well_known::Rfc3339;
use wa_sim::SimConfig;

const STACK: &str = "wacamp-sched";

/// How far ahead the campaign is scheduled.
const AHEAD: Duration = Duration::from_secs(45);

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| World::start(STACK, SimConfig::for_tests(), SENDING))
}

#[tokio::test]
async fn a_campaign_scheduled_ahead_runs_no_sender_before_its_time_and_completes_once_the_schedule_starts_it()
{
    let w = world();
    let account = format!("sched-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    link_account(&w.sim, &w.stack, &account).await;
    let since = now_ms();
    // Given a campaign to start a little ahead, its time written with an offset,
    let start = (time::OffsetDateTime::now_utc() + AHEAD).replace_nanosecond(0).unwrap();
    let send_at_ms = i64::try_from(start.unix_timestamp_nanos() / 1_000_000).unwrap();
    let local = start.to_offset(time::macros::offset!(+1)).format(&Rfc3339).unwrap();
    let resp = test_support::http()
        .post(format!("{}/campaigns", w.stack.http_base_url))
        .json(&json!({"name": "later", "account": account, "template": "Hello #{{n}}",
            "send_at": local, "recipients": numbered(580_000, 3)}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let accepted: Value = resp.json().await.unwrap();
    assert_eq!(
        (accepted["status"].as_str(), accepted["queued"].as_u64(), accepted["scheduled"].as_u64()),
        (Some("SCHEDULED"), Some(0), Some(3)),
        "{accepted}"
    );
    assert_eq!(accepted["send_at"].as_str(), Some(start.format(&Rfc3339).unwrap().as_str()), "shown in UTC");
    let id = accepted["campaign_id"].as_str().unwrap().to_owned();
    // before its time it waits, and a run of the release schedule starts nothing,
    let report = test_support::invoke(&w.stack.reconciler_function_name, &json!({"due": true})).await;
    if now_ms() < send_at_ms {
        assert_eq!(report["released"], 0, "{report}");
        let status = test_support::get_json(format!("{}/campaigns/{id}", w.stack.http_base_url)).await;
        assert_eq!(status["status"], "SCHEDULED", "{status}");
        assert_eq!(
            (status["counts"]["paused"].as_u64(), status["counts"]["queued"].as_u64()),
            (Some(3), Some(0))
        );
    }
    // when its time has come, the stack's minute schedule starts it and it completes,
    let done = wait_status_within(
        &w.stack,
        &id,
        "the release schedule to start the campaign and the sender to complete it",
        AHEAD + Duration::from_secs(240),
        |s| s["status"] == "COMPLETED",
    )
    .await;
    assert_eq!(done["counts"]["sent"], 3, "{done}");
    // each recipient got it once, none before its time, and no sender ran before then.
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
    for d in w.sim.deliveries().into_iter().filter(|d| d.account == account) {
        assert!(i64::try_from(d.unix_ms).unwrap() >= send_at_ms, "delivered before its time: {d:?}");
    }
    let runs = function_log(&w.stack.sender_function_name, since, "batch done");
    assert!(!runs.is_empty(), "the sender ran");
    for run in &runs {
        assert!(
            run.timestamp_ms >= send_at_ms,
            "a sender ran {} ms before the start: {}",
            send_at_ms - run.timestamp_ms,
            run.message
        );
    }
}
