//! Sending end to end: the real `sender` bootstrap run by the local AWS through the event-source
//! mapping, real Chromium, and the WhatsApp Web simulator; every count is taken from the
//! simulator's delivery record, i.e. from the recipients' side.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use serde_json::{Value, json};
use session_store::ProfileStore;
use std::sync::OnceLock;
use std::time::Duration;
use test_support::logs::now_ms;
use test_support::world::profiles;
use test_support::{Stack, World, delivered, eventually, link_account, numbered, sdk_config, wait_status};
use wa_sim::SimConfig;

const STACK: &str = "wacamp-send";

/// One simulator for the whole binary (its origin is baked into the deployed stack) and the
/// stack deployed against it.
fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| World::start(STACK, SimConfig::for_tests(), test_support::world::SENDING))
}

/// Tests here share one sender; one at a time keeps Chromium launches within the machine.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

fn account() -> String {
    format!("acct-{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

/// What `wacamp setup` does, for an account of the binary's stack.
async fn link_new_generation(w: &'static World, account: &str) {
    link_account(&w.sim, &w.stack, account).await;
}

/// [`link_new_generation`] for an account of another stack on the same simulator.
async fn link_new_generation_in(w: &'static World, stack: &Stack, account: &str) {
    link_account(&w.sim, stack, account).await;
}

fn recipients(n: u32) -> Vec<Value> {
    numbered(340_000, n)
}

async fn start(stack: &Stack, account: &str, recipients: Vec<Value>) -> String {
    let accepted = test_support::start_campaign(stack, account, recipients).await;
    accepted["campaign_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn fifty_recipients_each_get_exactly_one_message() {
    let _serial = serial().await;
    let w = world();
    let account = account();
    link_new_generation(w, &account).await;
    let id = start(&w.stack, &account, recipients(50)).await;
    let status = wait_status(&w.stack, &id, "the campaign to complete", |s| s["status"] == "COMPLETED").await;
    assert_eq!(status["counts"]["sent"], 50, "{status}");
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.len(), 50, "every recipient got a message");
    assert!(counts.values().all(|&c| c == 1), "nobody got a message twice: {counts:?}");
    let texts: Vec<String> =
        w.sim.deliveries().into_iter().filter(|d| d.account == account).map(|d| d.text).collect();
    assert!(texts.contains(&"Hello #49".to_string()));
    // The batches that sent backed the profile up: the account now has more than the setup generation.
    let gens = profiles(&w.stack).await.list(&domain::AccountId::parse(&account).unwrap()).await.unwrap();
    assert!(gens.len() >= 2, "{gens:?}");
}

#[tokio::test]
async fn a_number_that_opts_out_while_its_campaign_waits_is_never_sent_and_a_later_campaign_refuses_it_at_the_door()
 {
    let _serial = serial().await;
    let w = world();
    let account = account();
    link_new_generation(w, &account).await;
    // Given a campaign accepted while its session is gone (it waits, paused),
    w.sim.revoke(&account).unwrap();
    let id = start(&w.stack, &account, numbered(560_000, 3)).await;
    wait_status(&w.stack, &id, "the campaign to pause", |s| s["counts"]["paused"] == 3).await;
    // when its second recipient opts out, and the campaign is set up and resumed,
    let opt_out = format!("{}/accounts/{account}/opt-outs/%2B4915112560001", w.stack.http_base_url);
    let resp = test_support::http().put(opt_out).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    link_new_generation(w, &account).await;
    let resumed: Value =
        test_support::post_json(format!("{}/campaigns/{id}/resume", w.stack.http_base_url)).await;
    assert_eq!(resumed["requeued"], 3);
    // then that number never gets the message, the others get it once, and its row says why.
    let done = wait_status(&w.stack, &id, "the campaign to complete", |s| s["status"] == "COMPLETED").await;
    assert_eq!(
        (done["counts"]["sent"].clone(), done["counts"]["failed"].clone()),
        (json!(2), json!(1)),
        "{done}"
    );
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.keys().cloned().collect::<Vec<_>>(), ["4915112560000", "4915112560002"], "digits only");
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
    let page =
        test_support::get_json(format!("{}/campaigns/{id}/messages?status=FAILED", w.stack.http_base_url))
            .await;
    assert_eq!(page["items"][0]["phone"], "+4915112560001");
    assert_eq!(page["items"][0]["code"], "OPTED_OUT");
    // A later campaign to the same people refuses that number at the door: listed, never queued.
    let accepted = test_support::start_campaign(&w.stack, &account, numbered(560_000, 3)).await;
    assert_eq!(accepted["queued"], 2, "{accepted}");
    assert_eq!(accepted["invalid"], json!([{"row": 1, "phone": "+4915112560001", "code": "OPTED_OUT"}]));
    let again = accepted["campaign_id"].as_str().unwrap();
    let done =
        wait_status(&w.stack, again, "the second campaign to complete", |s| s["status"] == "COMPLETED").await;
    assert_eq!((done["counts"]["sent"].as_u64(), done["counts"]["failed"].as_u64()), (Some(2), Some(1)));
    let counts = delivered(&w.sim, &account);
    assert!(!counts.contains_key("4915112560001"), "never messaged: {counts:?}");
    assert!(counts.values().all(|&c| c == 2), "the others once per campaign: {counts:?}");
}

#[tokio::test]
async fn a_damaged_current_generation_is_replaced_by_an_older_one_that_still_logs_in() {
    let _serial = serial().await;
    let w = world();
    let account = account();
    link_new_generation(w, &account).await;
    let linked_at = w.sim.latest_generation(&account).unwrap();
    // A first campaign makes a newer generation current (its backup).
    let first = start(&w.stack, &account, recipients(2)).await;
    wait_status(&w.stack, &first, "the first campaign to complete", |s| s["status"] == "COMPLETED").await;
    // When WhatsApp stops accepting every credential issued after setup,
    w.sim.damage_after_generation(&account, linked_at).unwrap();
    let second = start(&w.stack, &account, recipients(3)).await;
    // then the sender falls back to the setup generation, promotes it, and the campaign completes.
    let status =
        wait_status(&w.stack, &second, "the second campaign to complete", |s| s["status"] == "COMPLETED")
            .await;
    assert_eq!(status["notice"], "SESSION_RESTORED_FROM_BACKUP", "{status}");
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert_eq!(counts.values().sum::<usize>(), 2 + 3, "the first two recipients of each campaign overlap");
}

#[tokio::test]
async fn a_revoked_session_pauses_everything_and_resume_after_a_new_setup_delivers_each_once() {
    let _serial = serial().await;
    let w = world();
    let account = account();
    link_new_generation(w, &account).await;
    // Given the phone logged the device out (no backup can help),
    w.sim.revoke(&account).unwrap();
    let id = start(&w.stack, &account, recipients(5)).await;
    // then nothing is sent and the campaign pauses with the commands that fix it.
    let paused = wait_status(&w.stack, &id, "the campaign to pause", |s| s["counts"]["paused"] == 5).await;
    assert_eq!(paused["status"], "PAUSED");
    assert_eq!(paused["reason"], "SESSION_EXPIRED");
    assert!(paused["hint"].as_str().unwrap().contains(&format!("wacamp setup --account {account} --force")));
    assert!(delivered(&w.sim, &account).is_empty());

    // When setup links a new device and the operator resumes,
    link_new_generation(w, &account).await;
    let resumed: Value =
        test_support::post_json(format!("{}/campaigns/{id}/resume", w.stack.http_base_url)).await;
    assert_eq!(resumed["requeued"], 5);
    // then every recipient gets the message exactly once.
    let done =
        wait_status(&w.stack, &id, "the resumed campaign to complete", |s| s["status"] == "COMPLETED").await;
    assert_eq!(done["counts"]["sent"], 5, "{done}");
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.len(), 5);
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
}

#[tokio::test]
async fn every_record_delivered_twice_by_the_queue_still_sends_each_message_once() {
    let _serial = serial().await;
    let w = world();
    let account = account();
    link_new_generation(w, &account).await;
    let id = start(&w.stack, &account, recipients(6)).await;
    // Given the queue delivers every record a second time (at-least-once delivery),
    let sqs = aws_sdk_sqs::Client::new(&sdk_config().await);
    for seq in 0..6 {
        let body = json!({"campaign_id": id, "seq": seq, "account": account}).to_string();
        sqs.send_message()
            .queue_url(&w.stack.queue_url)
            .message_body(body)
            .message_group_id(&account)
            .message_deduplication_id(format!("duplicate-{id}-{seq}"))
            .send()
            .await
            .unwrap();
    }
    // then, once the queue has drained, each recipient got exactly one message.
    wait_status(&w.stack, &id, "the campaign to complete", |s| s["status"] == "COMPLETED").await;
    eventually("the queue to drain", Duration::from_secs(120), || {
        let sqs = sqs.clone();
        let url = w.stack.queue_url.clone();
        async move {
            let attrs = sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
                .attribute_names(
                    aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
                )
                .send()
                .await
                .ok()?
                .attributes
                .unwrap_or_default();
            let left: u64 = attrs.values().filter_map(|v| v.parse::<u64>().ok()).sum();
            (left == 0).then_some(())
        }
    })
    .await;
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.len(), 6);
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
}

#[tokio::test]
async fn a_number_not_on_whatsapp_fails_with_its_code_and_the_others_are_sent() {
    let _serial = serial().await;
    let w = world();
    let account = account();
    link_new_generation(w, &account).await;
    let all = numbered(900_000, 3);
    let missing = all[1]["phone"].as_str().unwrap().trim_start_matches('+').to_owned();
    w.sim.mark_not_on_whatsapp(&missing).unwrap();
    let id = start(&w.stack, &account, all).await;
    let status = wait_status(&w.stack, &id, "the campaign to complete", |s| s["status"] == "COMPLETED").await;
    assert_eq!(
        (status["counts"]["sent"].as_u64(), status["counts"]["failed"].as_u64()),
        (Some(2), Some(1)),
        "{status}"
    );
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.len(), 2);
    assert!(!counts.contains_key(&missing));
}

/// Deploys stack `name` against the binary's simulator: the main stack's settings plus `extra`.
fn variant(w: &World, name: &str, extra: &[&str]) -> Stack {
    let mut params = vec!["MaxReceiveCount=20", "PaceMinMs=0", "PaceMaxMs=0", "RetryDelaySeconds=1"];
    params.extend_from_slice(extra);
    w.variant(name, &params)
}

/// The sender's log lines since `since_ms` that contain the phrase `phrase`.
fn sender_log(stack: &Stack, since_ms: i64, phrase: &str) -> Vec<String> {
    test_support::logs::function_log(&stack.sender_function_name, since_ms, phrase)
        .into_iter()
        .map(|l| l.message)
        .collect()
}

#[tokio::test]
async fn a_sender_that_dies_at_each_crash_point_neither_loses_nor_duplicates_a_message() {
    let _serial = serial().await;
    let w = world();
    // Given a sender whose process dies (browser and all, like a Lambda sandbox) on the first
    // attempt of row 1 right after its claim, of row 3 after the send click was acknowledged but
    // before SENT was written, and of row 4 after SENT was written but before the batch answered,
    // and a short visibility timeout so the queue redelivers soon after each death,
    let stack = variant(
        w,
        "wacamp-crash",
        &[
            "SenderTimeoutSeconds=30",
            "QueueVisibilityTimeoutSeconds=35",
            "ClaimLeaseSeconds=5",
            "SenderFailPoints=sender::claimed=return(1);sender::clicked=return(3);sender::recorded=return(4)",
        ],
    );
    let account = account();
    link_new_generation_in(w, &stack, &account).await;
    let since = now_ms();
    // when a campaign of six runs,
    let id = start(&stack, &account, numbered(350_000, 6)).await;
    // then it completes after the redeliveries, every recipient got exactly one message,
    let status = wait_status(&stack, &id, "the campaign to complete", |s| s["status"] == "COMPLETED").await;
    assert_eq!(status["counts"]["sent"], 6, "{status}");
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.len(), 6, "no recipient was lost: {counts:?}");
    assert!(counts.values().all(|&c| c == 1), "nobody got a message twice: {counts:?}");
    // and the process really died at each of the three points.
    let crashes = sender_log(&stack, since, "crash point reached");
    let crashes: Vec<&String> = crashes.iter().filter(|l| l.contains(&id)).collect();
    for point in ["sender::claimed", "sender::clicked", "sender::recorded"] {
        assert!(
            crashes.iter().any(|l| l.contains(point)),
            "no crash at {point} in {crashes:?} (is the sender built with its crash points? run `make build`)"
        );
    }
    assert_eq!(crashes.len(), 3, "each point fired once: {crashes:?}");
}

#[tokio::test]
async fn whatsapp_open_in_another_window_pauses_with_session_conflict_when_take_over_is_off() {
    let _serial = serial().await;
    let w = world();
    let account = account();
    link_new_generation(w, &account).await;
    // Given WhatsApp Web is open for the account in another window (take-over is off here),
    w.sim.conflict(&account).unwrap();
    let id = start(&w.stack, &account, numbered(360_000, 3)).await;
    // then nothing is sent and the campaign pauses with its own code and the fixing hint.
    let paused = wait_status(&w.stack, &id, "the campaign to pause", |s| s["counts"]["paused"] == 3).await;
    assert_eq!(paused["status"], "PAUSED");
    assert_eq!(paused["reason"], "SESSION_CONFLICT", "{paused}");
    assert!(paused["hint"].as_str().unwrap().contains("TAKE_OVER_CONFLICT=true"), "{paused}");
    assert!(delivered(&w.sim, &account).is_empty());
}

#[tokio::test]
async fn whatsapp_open_in_another_window_is_taken_over_when_configured_and_every_message_goes_out() {
    let _serial = serial().await;
    let w = world();
    let stack = variant(w, "wacamp-takeover", &["SenderTimeoutSeconds=120", "TakeOverConflict=true"]);
    let account = account();
    link_new_generation_in(w, &stack, &account).await;
    // Given WhatsApp Web is open for the account in another window and take-over is on,
    w.sim.conflict(&account).unwrap();
    let id = start(&stack, &account, numbered(370_000, 3)).await;
    // then the sender clicks "Use here" and sends everything, each exactly once.
    let status = wait_status(&stack, &id, "the campaign to complete", |s| s["status"] == "COMPLETED").await;
    assert_eq!(status["counts"]["sent"], 3, "{status}");
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
}

#[tokio::test]
async fn a_tiny_invocation_timeout_leaves_the_rest_to_later_invocations_without_duplicates() {
    let _serial = serial().await;
    let w = world();
    // Given a sender whose invocations are too short for the whole batch (it stops sending a
    // third of the invocation before the deadline, to close the browser and back up),
    let stack = variant(w, "wacamp-tiny", &["SenderTimeoutSeconds=18", "ClaimLeaseSeconds=15"]);
    let account = account();
    link_new_generation_in(w, &stack, &account).await;
    let since = now_ms();
    // (sends slowed down so that no batch of five or more fits in one invocation: it stops
    // starting messages 12 s in, and each takes over 3 s; the queue hands out batches of five
    // or ten)
    let latency = w.sim.latency();
    w.sim.set_latency(wa_sim::Latency { server_ack: Duration::from_millis(3000), ..latency });
    let id = start(&stack, &account, numbered(380_000, 10)).await;
    let status = wait_status(&stack, &id, "the campaign to complete", |s| s["status"] == "COMPLETED").await;
    w.sim.set_latency(latency);
    // then the records it could not reach went back and later invocations sent them: all ten
    // recipients got exactly one message,
    assert_eq!(status["counts"]["sent"], 10, "{status}");
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.len(), 10, "{counts:?}");
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
    // and at least one invocation really ran out of time.
    let given_back = sender_log(&stack, since, "the invocation is about to time out");
    assert!(!given_back.is_empty(), "every batch fitted in one invocation; the test proves nothing");
}

#[tokio::test]
async fn an_account_at_its_hourly_cap_keeps_the_rest_queued_for_the_next_hour_instead_of_failing_it() {
    let _serial = serial().await;
    let w = world();
    // Given an account may send two messages per hour,
    let stack = variant(w, "wacamp-capped", &["SenderTimeoutSeconds=120", "SendCapPerHour=2"]);
    let account = account();
    link_new_generation_in(w, &stack, &account).await;
    // when a campaign of three runs,
    let id = start(&stack, &account, numbered(390_000, 3)).await;
    // then two go out and the third waits in the queue (QUEUED, not FAILED) for the next hour.
    let status = wait_status(&stack, &id, "two sent and one waiting", |s| {
        s["counts"]["sent"] == 2 && s["counts"]["queued"] == 1 && s["counts"]["sending"] == 0
    })
    .await;
    assert_eq!(status["status"], "RUNNING", "{status}");
    assert_eq!(status["counts"]["failed"], 0, "{status}");
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.len(), 2, "{counts:?}");
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
}

#[tokio::test]
async fn an_account_on_its_first_warm_up_day_sends_only_that_day_s_step_and_the_rest_waits_for_the_next() {
    let _serial = serial().await;
    let w = world();
    // Given a ramp of two messages on a link's first day and five on its second,
    let stack = variant(w, "wacamp-warm", &["SenderTimeoutSeconds=120", "WarmUpRamp=2,5"]);
    let account = account();
    link_new_generation_in(w, &stack, &account).await;
    profiles(&stack).await.record_linked(&domain::AccountId::parse(&account).unwrap()).await.unwrap();
    // an account linked just now is on its day 0, as its session health says,
    let health = test_support::get_json(format!("{}/accounts/{account}/session", stack.http_base_url)).await;
    assert_eq!(
        (health["warm_up"]["day"].as_u64(), health["warm_up"]["daily_cap"].as_u64()),
        (Some(0), Some(2))
    );
    // and of a campaign of three, two go out and the third waits in the queue (QUEUED, not FAILED).
    let id = start(&stack, &account, numbered(570_000, 3)).await;
    let status = wait_status(&stack, &id, "two sent and one waiting for the next day", |s| {
        s["counts"]["sent"] == 2 && s["counts"]["queued"] == 1 && s["counts"]["sending"] == 0
    })
    .await;
    assert_eq!((status["status"].as_str(), status["counts"]["failed"].as_u64()), (Some("RUNNING"), Some(0)));
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.len(), 2, "{counts:?}");
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
}

/// The rows of campaign `id` (at most 1,000).
async fn rows(stack: &Stack, id: &str) -> Vec<Value> {
    let page =
        test_support::get_json(format!("{}/campaigns/{id}/messages?limit=1000", stack.http_base_url)).await;
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn receipts_move_messages_to_delivered_and_read_and_a_late_or_repeated_one_never_moves_one_back() {
    let _serial = serial().await;
    let w = world();
    // A paced sender: the pause between messages is where it watches receipts.
    let stack =
        variant(w, "wacamp-receipts", &["SenderTimeoutSeconds=120", "PaceMinMs=1500", "PaceMaxMs=1500"]);
    let account = account();
    link_new_generation_in(w, &stack, &account).await;
    let people = numbered(395_000, 4);
    let digits = |i: usize| people[i]["phone"].as_str().unwrap().trim_start_matches('+').to_owned();

    // Given recipients who read what reaches them at once, the last of whom turned read receipts off,
    w.sim.set_read_after(Some(Duration::ZERO));
    w.sim.set_read_receipts(&digits(3), false).unwrap();
    // when a campaign goes to them,
    let first = start(&stack, &account, people.clone()).await;
    let status = wait_status(&stack, &first, "the campaign sent, its receipts seen", |s| {
        s["status"] == "COMPLETED" && s["counts"]["delivered"] == 4 && s["counts"]["read"] == 3
    })
    .await;
    // then three rows are read and the fourth delivered only, as the counters say.
    assert_eq!(status["counts"]["sent"], 4, "{status}");
    let before = rows(&stack, &first).await;
    for (i, row) in before.iter().enumerate() {
        assert!(row["delivered_at"].is_string(), "{row}");
        assert_eq!(row["read_at"].is_string(), i < 3, "{row}");
    }

    // Given the fourth recipient reads the chat later with read receipts on again, and the first
    // one's message shows delivered again (a receipt late or out of order),
    w.sim.set_read_receipts(&digits(3), true).unwrap();
    assert_eq!(w.sim.read_chat(&digits(3)).unwrap(), 1);
    let first_message = w.sim.deliveries_to(&digits(0))[0].id.clone();
    w.sim.show_ack(&first_message, wa_sim::Ack::Delivered).unwrap();
    // when the next campaign sends to both of them (a later visit to their chats),
    let next = start(&stack, &account, vec![people[3].clone(), people[0].clone()]).await;
    wait_status(&stack, &next, "the next campaign to complete", |s| s["status"] == "COMPLETED").await;
    // then the earlier campaign's fourth row is read now, and the first keeps its read.
    let status = wait_status(&stack, &first, "the later read recorded", |s| s["counts"]["read"] == 4).await;
    assert_eq!(
        (status["counts"]["delivered"].as_u64(), status["counts"]["sent"].as_u64()),
        (Some(4), Some(4))
    );
    let after = rows(&stack, &first).await;
    assert!(after[3]["read_at"].is_string(), "{}", after[3]);
    assert_eq!(after[0]["read_at"], before[0]["read_at"], "a late receipt moved nothing");
    assert_eq!(after[0]["delivered_at"], before[0]["delivered_at"]);
    // And every message went out once.
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.values().copied().collect::<Vec<_>>(), [2, 1, 1, 2], "{counts:?}");
    w.sim.set_read_after(None);
}
