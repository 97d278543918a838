//! Webhooks end to end: the table's change stream read by the real `webhook_events` bootstrap,
//! the events queued and posted by the real `webhook_delivery` bootstrap to an endpoint the test
//! starts, every request checked against the stack's secret from the receiving side.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;
use std::time::Duration;
use test_support::webhooks::{Received, Receiver};
use test_support::{Stack, World, eventually, link_account, numbered, wait_status};
use wa_sim::SimConfig;
use webhook::{Event, EventData, EventKind};

const STACK: &str = "wacamp-hooks";

/// Retries a second apart at first, and few of them, so a refused event reaches the
/// dead-letter queue within a test.
const PARAMS: &[&str] = &[
    "SenderTimeoutSeconds=120",
    "MaxReceiveCount=20",
    "PaceMinMs=0",
    "PaceMaxMs=0",
    "ClaimLeaseSeconds=15",
    "WebhookRetryBaseSeconds=1",
    "WebhookMaxReceiveCount=4",
];

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| World::start(STACK, SimConfig::for_tests(), PARAMS))
}

fn account() -> String {
    format!("hook-{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

/// The stack's signing secret, as a receiver would fetch it once.
async fn secret(stack: &Stack) -> Vec<u8> {
    let client = aws_sdk_secretsmanager::Client::new(&test_support::sdk_config().await);
    let out = client.get_secret_value().secret_id(&stack.webhook_secret_arn).send().await.unwrap();
    out.secret_string.expect("the webhook secret is a string").into_bytes()
}

async fn start(stack: &Stack, account: &str, recipients: Vec<Value>, webhook_url: &str) -> String {
    let resp = test_support::http()
        .post(format!("{}/campaigns", stack.http_base_url))
        .json(&json!({"name": "hooks", "account": account, "template": "Hello #{{n}}",
            "webhook_url": webhook_url, "recipients": recipients}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    resp.json::<Value>().await.unwrap()["campaign_id"].as_str().unwrap().to_owned()
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The document's `WebhookEvent` schema, with the components its `$ref`s point into.
fn event_schema() -> &'static jsonschema::Validator {
    static SCHEMA: OnceLock<jsonschema::Validator> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let text = std::fs::read_to_string(test_support::root().join("docs/openapi.yaml")).unwrap();
        let spec: Value = serde_norway::from_str(&text).unwrap();
        let mut root = spec["components"]["schemas"]["WebhookEvent"].clone();
        root["components"] = spec["components"].clone();
        jsonschema::draft202012::options().build(&root).unwrap()
    })
}

/// The event a request carried, after checking its signature, its headers and its shape (the
/// document's `WebhookEvent`) against its body.
fn verified(request: &Received, secret: &[u8]) -> Event {
    let signature = request.header(webhook::SIGNATURE_HEADER).expect("a signature header");
    let timestamp = request.header(webhook::TIMESTAMP_HEADER).expect("a timestamp header");
    webhook::verify(secret, signature, timestamp, &request.body, now(), 300)
        .unwrap_or_else(|e| panic!("a request to {} does not verify: {e}", request.path));
    let body: Value = serde_json::from_slice(&request.body).expect("the body is JSON");
    let errors: Vec<String> =
        event_schema().iter_errors(&body).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "an event does not match docs/openapi.yaml: {errors:?}\n{body}");
    let event: Event = serde_json::from_value(body).expect("the body is an event");
    assert_eq!(request.header(webhook::EVENT_ID_HEADER), Some(event.id.as_str()));
    assert_eq!(request.header(webhook::EVENT_TYPE_HEADER), Some(event.kind.as_str()));
    event
}

/// The events `path` took (answered 2xx), each id once.
fn taken(receiver: &Receiver, path: &str, secret: &[u8]) -> BTreeMap<String, Event> {
    receiver
        .received()
        .iter()
        .filter(|r| r.path == path && r.status < 300)
        .map(|r| verified(r, secret))
        .map(|e| (e.id.clone(), e))
        .collect()
}

fn seq_of(event: &Event) -> Option<u32> {
    match event.data {
        EventData::Message { seq, .. } => Some(seq),
        _ => None,
    }
}

fn kinds_of(events: &BTreeMap<String, Event>) -> BTreeMap<EventKind, usize> {
    let mut out = BTreeMap::new();
    for e in events.values() {
        *out.entry(e.kind).or_default() += 1;
    }
    out
}

async fn rows(stack: &Stack, id: &str) -> Vec<Value> {
    let page =
        test_support::get_json(format!("{}/campaigns/{id}/messages?limit=100", stack.http_base_url)).await;
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn every_event_of_a_paused_and_resumed_campaign_reaches_its_endpoint_signed_after_it_failed_for_a_while()
 {
    let w = world();
    let receiver = Receiver::start().await;
    let secret = secret(&w.stack).await;
    let account = account();
    let path = "/hooks/paused-and-resumed";
    link_account(&w.sim, &w.stack, &account).await;
    // Given a session the phone logged out and an endpoint that is down,
    w.sim.revoke(&account).unwrap();
    receiver.set_failing(true);
    let id = start(&w.stack, &account, numbered(610_000, 3), &receiver.url(path)).await;
    eventually("the endpoint to refuse two deliveries", Duration::from_secs(120), || async {
        (receiver.received().iter().filter(|r| r.status == 503).count() >= 2).then_some(())
    })
    .await;
    // when it comes back, the campaign pauses, is set up again, resumed and completes,
    receiver.set_failing(false);
    wait_status(&w.stack, &id, "the campaign to pause", |s| s["counts"]["paused"] == 3).await;
    link_account(&w.sim, &w.stack, &account).await;
    let resumed = test_support::post_json(format!("{}/campaigns/{id}/resume", w.stack.http_base_url)).await;
    assert_eq!(resumed["requeued"], 3, "{resumed}");
    wait_status(&w.stack, &id, "the campaign to complete", |s| s["status"] == "COMPLETED").await;
    let rows = rows(&w.stack, &id).await;

    // then the endpoint gets every event of it, each signed, the refused ones later,
    let events = eventually("every event of the campaign", Duration::from_secs(180), || {
        let (receiver, secret, rows) = (&receiver, &secret, &rows);
        async move {
            let events = taken(receiver, path, secret);
            let kinds = kinds_of(&events);
            let count = |k: EventKind| kinds.get(&k).copied().unwrap_or(0);
            let receipts = |field: &str| rows.iter().filter(|r| r[field].is_string()).count();
            let all = count(EventKind::CampaignAccepted) == 1
                && count(EventKind::CampaignPaused) == 1
                && count(EventKind::SessionExpired) == 1
                && count(EventKind::CampaignResumed) == 1
                && count(EventKind::CampaignCompleted) == 1
                && count(EventKind::MessageSent) == 3
                && count(EventKind::MessageDelivered) >= receipts("delivered_at")
                && count(EventKind::MessageRead) >= receipts("read_at");
            all.then_some(events)
        }
    })
    .await;
    let requests: Vec<Received> = receiver.received().into_iter().filter(|r| r.path == path).collect();
    let refused: BTreeSet<String> =
        requests.iter().filter(|r| r.status == 503).map(|r| verified(r, &secret).id).collect();
    assert!(!refused.is_empty());
    assert!(refused.iter().all(|id| events.contains_key(id)), "a refused event never arrived: {refused:?}");
    // and the events agree with the rows: one sent per row, a receipt event per receipt.
    for row in &rows {
        let seq = row["row"].as_u64().unwrap() as u32;
        let of_row: Vec<&Event> = events.values().filter(|e| seq_of(e) == Some(seq)).collect();
        let has = |kind: EventKind| of_row.iter().filter(|e| e.kind == kind).count();
        assert_eq!(has(EventKind::MessageSent), 1, "row {seq}: {of_row:?}");
        assert_eq!(
            has(EventKind::MessageDelivered),
            usize::from(row["delivered_at"].is_string()),
            "row {seq}"
        );
        assert_eq!(has(EventKind::MessageRead), usize::from(row["read_at"].is_string()), "row {seq}");
        assert!(of_row.iter().all(|e| e.campaign_id == id && e.account == account));
    }
    let paused = events.values().find(|e| e.kind == EventKind::CampaignPaused).unwrap();
    assert!(
        matches!(&paused.data, EventData::Campaign { code: Some(code), hint: Some(hint), .. }
            if code == "SESSION_EXPIRED" && hint.contains("wacamp setup")),
        "{paused:?}"
    );
}

#[tokio::test]
async fn an_event_an_endpoint_never_takes_waits_in_the_webhook_dead_letter_queue() {
    let w = world();
    let receiver = Receiver::start().await;
    let secret = secret(&w.stack).await;
    let path = "/refuse/always";
    // A campaign whose only number is invalid: accepted, completed and failed at once, no sender.
    let recipients = vec![json!({"phone": "12", "vars": {"n": "0"}})];
    let id = start(&w.stack, &account(), recipients, &receiver.url(path)).await;
    let sqs = aws_sdk_sqs::Client::new(&test_support::sdk_config().await);
    let dead = eventually("the campaign's events in the dead-letter queue", Duration::from_secs(180), || {
        let (sqs, queue, id) = (&sqs, &w.stack.webhook_dead_letter_queue_url, &id);
        async move {
            let out = sqs.receive_message().queue_url(queue).max_number_of_messages(10).send().await.ok()?;
            let ours: Vec<webhook::Envelope> = out
                .messages()
                .iter()
                .filter_map(|m| serde_json::from_str::<webhook::Envelope>(m.body()?).ok())
                .filter(|e| e.body.contains(id.as_str()))
                .collect();
            (!ours.is_empty()).then_some(ours)
        }
    })
    .await;
    assert!(dead.iter().all(|e| e.url.ends_with(path)));
    // Each was tried the queue's receive limit (four) times, every try signed.
    let tries: Vec<Received> = receiver.received().into_iter().filter(|r| r.path == path).collect();
    for envelope in &dead {
        let of_it = tries.iter().filter(|r| verified(r, &secret).id == envelope.id).count();
        assert_eq!(of_it, 4, "{} was tried {of_it} times", envelope.kind);
    }
}
