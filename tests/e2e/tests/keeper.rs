//! The session keeper end to end: the real `session_keeper` and `sender` bootstraps run by the
//! local AWS, real Chromium, the WhatsApp Web simulator, alerts through the stack's SNS topic
//! into a queue subscribed to it, and `wacamp setup` as an operator runs it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::OnceLock;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use test_support::{
    Stack, World, delivered, eventually, invoke, link_account, numbered, start_campaign, wacamp_command,
    wait_status,
};
use wa_sim::SimConfig;

const STACK: &str = "wacamp-keeper";

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| World::start(STACK, SimConfig::for_tests(), test_support::world::SENDING))
}

/// One at a time: the simulator's QR on screen and its key window are the binary's.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// The simulator's key window, back to every version accepted when the test ends however it ends.
struct KeyWindow(&'static World);

impl KeyWindow {
    fn set(w: &'static World, versions: u64) -> Self {
        w.sim.set_key_window(versions);
        Self(w)
    }
}

impl Drop for KeyWindow {
    fn drop(&mut self) {
        self.0.sim.set_key_window(0);
    }
}

/// The simulator's acknowledgements slowed down, back to what they were when the test ends.
struct SlowAcks(&'static World, wa_sim::Latency);

impl SlowAcks {
    fn set(w: &'static World, server_ack: Duration) -> Self {
        let before = w.sim.latency();
        w.sim.set_latency(wa_sim::Latency { server_ack, ..before });
        Self(w, before)
    }
}

impl Drop for SlowAcks {
    fn drop(&mut self) {
        self.0.sim.set_latency(self.1);
    }
}

fn account() -> String {
    test_support::unique("keep")
}

/// Runs the deployed keeper for `account`; returns that account's outcome.
async fn keep(stack: &Stack, account: &str) -> Value {
    let report = invoke(&stack.session_keeper_function_name, &json!({ "account": account })).await;
    let outcome = report["accounts"][0].clone();
    assert_eq!(outcome["account"], account, "{report}");
    outcome
}

/// Runs the keeper for `account` until it finds the account's browser free (a sender that just
/// finished may still be closing its browser and backing up); returns that outcome.
async fn keep_when_free(stack: &Stack, account: &str) -> Value {
    eventually("the keeper to find the account's browser free", Duration::from_secs(60), || async {
        let outcome = keep(stack, account).await;
        (outcome["outcome"] != "BUSY").then_some(outcome)
    })
    .await
}

/// A queue subscribed to the stack's alert topic (raw delivery off: each body is SNS's envelope).
async fn alert_queue(stack: &Stack) -> (aws_sdk_sqs::Client, String) {
    let config = test_support::sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let name = test_support::unique("alerts");
    let url = sqs.create_queue().queue_name(&name).send().await.unwrap().queue_url.unwrap();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn).cloned())
        .unwrap();
    let sns = aws_sdk_sns::Client::new(&config);
    sns.subscribe().topic_arn(&stack.alert_topic_arn).protocol("sqs").endpoint(arn).send().await.unwrap();
    (sqs, url)
}

/// The alerts (their JSON bodies) that reached `queue` so far, for `account`.
async fn alerts_for(sqs: &aws_sdk_sqs::Client, queue: &str, account: &str) -> Vec<Value> {
    let out = sqs.receive_message().queue_url(queue).max_number_of_messages(10).send().await.unwrap();
    out.messages()
        .iter()
        .filter_map(|m| serde_json::from_str::<Value>(m.body()?).ok())
        .filter_map(|envelope| serde_json::from_str::<Value>(envelope["Message"].as_str()?).ok())
        .filter(|alert| alert["account"] == account)
        .collect()
}

#[tokio::test]
async fn a_revoked_session_is_alerted_by_the_keeper_before_any_campaign_and_setup_resumes_the_campaign_by_itself()
 {
    let _serial = serial().await;
    let w = world();
    let account = account();
    let (sqs, queue) = alert_queue(&w.stack).await;
    link_account(&w.sim, &w.stack, &account).await;
    // Given the phone logged the device out,
    w.sim.revoke(&account).unwrap();
    // the keeper finds it, marks the session EXPIRED and alerts, before any campaign ran;
    let outcome = keep(&w.stack, &account).await;
    assert_eq!(outcome["outcome"], "EXPIRED", "{outcome}");
    let alert =
        eventually("the SESSION_EXPIRED alert in the subscribed queue", Duration::from_secs(60), || {
            let (sqs, queue, account) = (sqs.clone(), queue.clone(), account.clone());
            async move {
                alerts_for(&sqs, &queue, &account).await.into_iter().find(|a| a["code"] == "SESSION_EXPIRED")
            }
        })
        .await;
    assert!(
        alert["hint"].as_str().unwrap().contains(&format!("wacamp setup --account {account} --force")),
        "{alert}"
    );
    // a campaign started then is accepted paused, nothing sent;
    let accepted = start_campaign(&w.stack, &account, numbered(510_000, 4)).await;
    assert_eq!(accepted["status"], "PAUSED", "{accepted}");
    let id = accepted["campaign_id"].as_str().unwrap().to_owned();
    // and when the operator runs `wacamp setup` and the phone scans its QR code (once the QR the
    // keeper's check saw is off screen, so the phone scans setup's),
    eventually("the keeper's QR code to leave the screen", Duration::from_secs(30), || {
        let gone = w.sim.current_qr().is_none();
        async move { gone.then_some(()) }
    })
    .await;
    let qr_dir = tempfile::tempdir().unwrap();
    let qr_png = qr_dir.path().join("qr.png");
    let qr_arg = qr_png.display().to_string();
    let mut setup = wacamp_command(
        &w.stack,
        &[
            "setup",
            "--account",
            &account,
            "--force",
            "--wa-url",
            &w.sim.base_url(),
            "--timeout",
            "120",
            "--qr-png",
            &qr_arg,
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // (the terminal's lines as setup prints them: the phone scans once the QR code is shown there)
    let printed = Arc::new(Mutex::new(String::new()));
    let reader = {
        let (stdout, printed) = (setup.stdout.take().unwrap(), Arc::clone(&printed));
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut text = printed.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        })
    };
    eventually("setup to print its QR code and the phone to scan it", Duration::from_secs(60), || {
        let shown =
            printed.lock().unwrap().contains("and scan:") && w.sim.current_qr().is_some() && qr_png.exists();
        let linked = shown && w.sim.link_current_qr(&account).is_ok();
        async move { linked.then_some(()) }
    })
    .await;
    let out = tokio::task::spawn_blocking(move || setup.wait_with_output()).await.unwrap().unwrap();
    reader.join().unwrap();
    let stdout = printed.lock().unwrap().clone();
    assert!(out.status.success(), "setup failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("the same code as an image: {qr_arg}")), "{stdout}");
    assert!(!qr_png.exists(), "the QR code image is removed once setup ends");
    // then setup resumed the campaign by itself, and every recipient got the message once.
    assert!(
        stdout.contains(&format!("resumed campaign {id} (paused for SESSION_EXPIRED): 4 messages")),
        "{stdout}"
    );
    let done = wait_status(&w.stack, &id, "the campaign to complete", |s| s["status"] == "COMPLETED").await;
    assert_eq!(done["counts"]["sent"], 4, "{done}");
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.len(), 4);
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
}

#[tokio::test]
async fn the_keeper_and_the_sender_at_once_for_one_account_never_run_two_browsers() {
    let _serial = serial().await;
    let w = world();
    let account = account();
    link_account(&w.sim, &w.stack, &account).await;
    // Two browsers on one account at once would show WhatsApp Web's "open in another window" to
    // the older one (the simulator moves the session to the newest page): the sender would pause
    // with SESSION_CONFLICT, or the keeper report CONFLICT. Neither may happen.
    // Sends slowed to a second each, so the sender's batch holds the browser for seconds.
    let _slow = SlowAcks::set(w, Duration::from_millis(1000));
    let id = start_campaign(&w.stack, &account, numbered(520_000, 8)).await["campaign_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Once the sender is sending, the keeper is invoked three times in a row:
    wait_status(&w.stack, &id, "the sender to be sending", |s| s["counts"]["sent"].as_u64() >= Some(1)).await;
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        outcomes.push(keep(&w.stack, &account).await["outcome"].as_str().unwrap().to_owned());
    }
    // the first finds the browser taken and leaves it; none runs a second browser beside it.
    assert_eq!(outcomes[0], "BUSY", "{outcomes:?}");
    assert!(outcomes.iter().all(|o| o == "BUSY" || o == "REFRESHED"), "{outcomes:?}");
    let done = wait_status(&w.stack, &id, "the campaign to complete", |s| s["status"] == "COMPLETED").await;
    assert_eq!((done["counts"]["sent"].as_u64(), done["reason"].clone()), (Some(8), Value::Null), "{done}");
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.len(), 8);
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
}

#[tokio::test]
async fn with_keys_rewritten_on_every_load_a_refused_newest_key_is_survived_from_a_fresh_backup() {
    let _serial = serial().await;
    let w = world();
    let account = account();
    // Given only the last three key versions log in (each load rewrites them),
    let _window = KeyWindow::set(w, 3);
    link_account(&w.sim, &w.stack, &account).await;
    // after a campaign and a keeper run, each storing what the session saved,
    let first = start_campaign(&w.stack, &account, numbered(530_000, 3)).await["campaign_id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_status(&w.stack, &first, "the first campaign to complete", |s| s["status"] == "COMPLETED").await;
    // (the sender may still be closing its browser and backing up: the keeper waits its turn)
    let kept = keep_when_free(&w.stack, &account).await;
    assert_eq!(kept["outcome"], "REFRESHED", "{kept}");
    // when WhatsApp refuses the newest key,
    let newest = w.sim.latest_generation(&account).unwrap();
    w.sim.damage_after_generation(&account, newest - 1).unwrap();
    // then the next campaign restores the backup before it, without a pause, each message once.
    let second = start_campaign(&w.stack, &account, numbered(530_100, 3)).await["campaign_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done =
        wait_status(&w.stack, &second, "the second campaign to complete", |s| s["status"] == "COMPLETED")
            .await;
    assert_eq!(done["notice"], "SESSION_RESTORED_FROM_BACKUP", "{done}");
    assert_eq!(done["counts"]["paused"], 0, "{done}");
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.len(), 6);
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
}

#[tokio::test]
async fn the_keeper_records_receipts_that_came_after_the_sender_moved_on() {
    let _serial = serial().await;
    let w = world();
    let account = account();
    link_account(&w.sim, &w.stack, &account).await;
    // Given a campaign sent without pacing (the sender saw no read while the chats were open),
    let people = numbered(540_000, 3);
    let id =
        start_campaign(&w.stack, &account, people.clone()).await["campaign_id"].as_str().unwrap().to_owned();
    let done = wait_status(&w.stack, &id, "the campaign to complete", |s| s["status"] == "COMPLETED").await;
    assert_eq!(done["counts"]["read"], 0, "{done}");
    // when the recipients read it afterwards and the keeper keeps the session,
    // (a message is on the phone a moment after WhatsApp's ack, which completes the campaign:
    // each is read once it arrived)
    for p in &people {
        let digits = p["phone"].as_str().unwrap().trim_start_matches('+');
        eventually("the message to reach the phone and be read", Duration::from_secs(30), || async {
            (w.sim.read_chat(digits).unwrap() == 1).then_some(())
        })
        .await;
    }
    // (the sender may still be closing its browser and backing up: the keeper waits its turn)
    let kept = keep_when_free(&w.stack, &account).await;
    assert_eq!(kept["outcome"], "REFRESHED", "{kept}");
    // then its sweep of the recent chats recorded every read, and sent nothing.
    let status = wait_status(&w.stack, &id, "the reads recorded", |s| s["counts"]["read"] == 3).await;
    assert_eq!(
        (status["counts"]["delivered"].as_u64(), status["counts"]["sent"].as_u64()),
        (Some(3), Some(3))
    );
    let counts = delivered(&w.sim, &account);
    assert!(counts.len() == 3 && counts.values().all(|&c| c == 1), "{counts:?}");
}
