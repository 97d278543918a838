//! Quiet hours end to end, on a stack of its own whose functions read a clock the test moves (a
//! test build's `TestClockFile`): at 02:00 UTC, with a sending window of 09:00–20:00 set through
//! `wacamp window set`, a campaign to two German numbers (03:00 or 04:00 there) and a Japanese
//! one (11:00 there) sends the Japanese message at once and holds the German ones QUEUED, the
//! status saying until when; once the stack's time passes 09:00 in Berlin the minute schedule's
//! run gives them their records and they go out, each recipient exactly once — no real waiting.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use domain::{PhoneNumber, RecipientZones, SendingWindow};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;
use test_support::campaigns::wait_status_within;
use test_support::logs::now_ms;
use test_support::world::SENDING;
use test_support::{World, delivered, link_account, wacamp};
use wa_sim::SimConfig;

const STACK: &str = "wacamp-quiet";

/// The file whose seconds the stack's functions add to their clock.
fn clock_file() -> PathBuf {
    test_support::root().join(format!(".local/clocks/{STACK}"))
}

fn move_clock(offset_seconds: i64) {
    let file = clock_file();
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, offset_seconds.to_string()).unwrap();
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        move_clock(0);
        let clock = format!("TestClockFile={}", clock_file().display());
        let mut params = SENDING.to_vec();
        params.push(&clock);
        World::start(STACK, SimConfig::for_tests(), &params)
    })
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn rfc3339(unix: i64) -> String {
    domain::rfc3339(time::OffsetDateTime::from_unix_timestamp(unix).unwrap())
}

#[tokio::test]
async fn recipients_outside_the_window_wait_and_go_out_once_when_it_opens_in_their_own_zone() {
    let w = world();
    let account = format!("quiet-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    link_account(&w.sim, &w.stack, &account).await;
    // Given the account's window, set as an operator does,
    let (ok, out, err) = wacamp(
        &w.stack,
        &["window", "set", "--account", &account, "09:00-20:00", "--time-zone", "Europe/Berlin"],
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("09:00–20:00 every day"), "{out}");
    // and the stack's clock at 02:00 UTC tomorrow,
    let wall = unix_now();
    let night = (wall / 86_400 + 1) * 86_400 + 2 * 3600;
    let offset = night - wall;
    move_clock(offset);
    let (germans, japanese) = (["+4915112582001", "+4915112582002"], "+81312345678");
    let recipients: Vec<Value> = germans
        .iter()
        .chain([&japanese])
        .enumerate()
        .map(|(i, phone)| json!({"phone": phone, "vars": {"n": i.to_string()}}))
        .collect();
    // when a campaign to two German numbers and a Japanese one starts,
    let accepted = test_support::start_campaign(&w.stack, &account, recipients).await;
    let id = accepted["campaign_id"].as_str().unwrap().to_owned();
    // then the Japanese message goes out and the German ones wait, the status saying until when:
    // 09:00 in Berlin, whatever the season.
    let window = SendingWindow::parse("09:00", "20:00", &[] as &[&str], "Europe/Berlin").unwrap();
    let german = PhoneNumber::parse(germans[0], None).unwrap();
    let opens = window.opens_at(&RecipientZones::of(&german, window.zone()), night).expect("closed at night");
    let waiting = wait_status_within(
        &w.stack,
        &id,
        "the Japanese message sent and the German ones held",
        Duration::from_secs(180),
        |s| s["counts"]["sent"] == 1 && s["waiting_until"].is_string(),
    )
    .await;
    assert_eq!(waiting["waiting_until"], rfc3339(opens).as_str(), "{waiting}");
    assert_eq!(
        (waiting["counts"]["queued"].as_u64(), waiting["status"].as_str()),
        (Some(2), Some("RUNNING"))
    );
    let queued =
        test_support::get_json(format!("{}/campaigns/{id}/messages?status=QUEUED", w.stack.http_base_url))
            .await;
    let items = queued["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{queued}");
    assert!(items.iter().all(|i| i["waiting_until"] == rfc3339(opens).as_str()), "{queued}");
    let before = delivered(&w.sim, &account);
    assert_eq!(
        before.into_keys().collect::<Vec<_>>(),
        [japanese[1..].to_owned()],
        "no German message at night"
    );
    // When the stack's time passes the window's opening, its minute schedule's run (invoked here
    // rather than waited for) gives the held rows their records, and they go out.
    let moved_at = now_ms();
    move_clock(offset + (opens - night) + 60);
    let report = test_support::invoke(&w.stack.reconciler_function_name, &json!({"due": true})).await;
    assert_eq!(report["unheld"], 2, "{report}");
    let done = wait_status_within(&w.stack, &id, "the held messages sent", Duration::from_secs(180), |s| {
        s["status"] == "COMPLETED"
    })
    .await;
    assert_eq!((done["counts"]["sent"].as_u64(), done["waiting_until"].as_str()), (Some(3), None), "{done}");
    // Each recipient got it exactly once, the German ones only after the window opened.
    let counts = delivered(&w.sim, &account);
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
    for d in w.sim.deliveries().into_iter().filter(|d| d.account == account && d.to.starts_with("49")) {
        assert!(i64::try_from(d.unix_ms).unwrap() >= moved_at, "a German message went out at night: {d:?}");
    }
    // The operator can read the window back.
    let (ok, out, err) = wacamp(&w.stack, &["window", "show", "--account", &account]);
    assert!(ok && out.contains("account zone Europe/Berlin"), "{out}{err}");
    move_clock(0);
}
