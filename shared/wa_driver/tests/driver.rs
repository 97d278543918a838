//! The driver against the WhatsApp Web simulator in real headless Chromium: every session state, setup
//! through the self-reload, sending and its failure modes, crashes, profile locks, close with flush and
//! runtime selector overrides. Browser tests run one at a time (see `helpers::serial`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

use std::time::{Duration, Instant};

use helpers::{ACCOUNT, KEPT_PARTS, TestWorld, copy_profile, page_bool, phone, serial};
use wa_driver::{Ack, ChatOpening, DriverError, Earlier, Screen, Timeouts, WaDriver};
use wa_sim::{SimConfig, percent_encode};

#[test]
fn a_scanned_qr_survives_the_self_reload_and_an_in_app_link_sends_exactly_once() {
    let _serial = serial();
    let world = TestWorld::new();
    let driver = world.launch("main");

    // Given a fresh profile showing the QR, scanned by the phone (the page reloads itself after link)
    let mut shown = Vec::new();
    assert_eq!(driver.open(false).unwrap(), Screen::NeedsQr);
    let state = driver
        .link_with_qr(
            &mut |qr| {
                shown.push(qr.to_owned());
                world.scan(qr);
            },
            Duration::from_secs(15),
        )
        .unwrap();
    assert_eq!(state, Screen::Ready);
    assert!(!shown.is_empty() && shown[0].starts_with("2@"), "QR payloads handed out: {shown:?}");
    assert_eq!(world.sim.sessions()[0].latest_generation, 2, "the reload after link stored generation 2");

    // When a message is sent through the in-app link
    page_bool(&driver, "window.__same_document = true; true");
    let to = phone(1);
    let text = "Hello Ana, your order #42 is ready & waiting";
    let sent = driver.send(&to, text).unwrap();

    // Then it was acknowledged in place (no page load) and delivered exactly once
    assert_eq!(sent.opened_via, ChatOpening::InAppLink);
    assert_eq!(page_bool(&driver, "window.__same_document === true"), Some(true));
    let deliveries = world.sim.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].to, to.digits());
    assert_eq!(deliveries[0].text, text);

    // And verify-before-resend finds it, and only it
    assert_eq!(driver.already_sent(&to, text, None).unwrap(), Earlier::Delivered);
    assert_eq!(driver.already_sent(&to, "another text", None).unwrap(), Earlier::Absent);
    assert_eq!(driver.already_sent(&phone(2), text, None).unwrap(), Earlier::Absent);
    assert_eq!(world.sim.deliveries().len(), 1);
}

#[test]
fn an_app_that_intercepts_links_only_after_its_chat_list_shows_still_opens_every_chat_in_place() {
    let _serial = serial();
    let world = TestWorld::new();
    let mut driver = world.launch("main");
    world.link(&driver);
    driver.set_timeouts(Timeouts { intercept: Duration::from_secs(15), ..helpers::test_timeouts() });
    // Given an app that intercepts chat links only 3 s after its chat list shows,
    world.sim.set_links_ready_after(Duration::from_secs(3));
    assert_eq!(driver.open(false).unwrap(), Screen::Ready);
    let loads = driver.full_loads();
    page_bool(&driver, "window.__same_document = true; true");
    // when messages go out at once after the chat list showed,
    for n in 1..=3 {
        let sent = driver.send(&phone(n), &format!("Hello {n}")).unwrap();
        // then each chat opened in place, the first after a wait, and the app never reloaded.
        assert_eq!(sent.opened_via, ChatOpening::InAppLink, "message {n}");
    }
    assert_eq!(page_bool(&driver, "window.__same_document === true"), Some(true));
    assert_eq!(driver.full_loads(), loads);
    assert_eq!(world.sim.deliveries().len(), 3);
}

#[test]
fn without_a_wait_for_interception_a_link_the_app_ignores_costs_a_full_load_and_never_navigates_away() {
    let _serial = serial();
    let world = TestWorld::new();
    let mut driver = world.launch("main");
    world.link(&driver);
    world.sim.set_links_ready_after(Duration::from_secs(30));
    driver.set_timeouts(Timeouts { intercept: Duration::ZERO, ..helpers::test_timeouts() });
    assert_eq!(driver.open(false).unwrap(), Screen::Ready);
    let loads = driver.full_loads();
    // An ignored link is cancelled (the page stays on the app), then the chat loads by URL.
    let sent = driver.send(&phone(4), "Hello").unwrap();
    assert_eq!(sent.opened_via, ChatOpening::SendUrl);
    assert_eq!(driver.full_loads(), loads + 1);
    assert!(
        driver.current_url().starts_with(&world.sim.base_url()),
        "still on the app: {}",
        driver.current_url()
    );
    assert_eq!(world.sim.deliveries().len(), 1);
}

#[test]
fn an_identical_message_sent_before_the_claim_is_no_proof_of_an_earlier_attempt() {
    let _serial = serial();
    let world = TestWorld::new();
    let driver = world.launch("main");
    world.link(&driver);
    let to = phone(8);
    let text = "Your weekly reminder: the shop opens at 9";
    // Given the same text went to this number an hour ago (last week's run of a recurring campaign),
    let now = time::OffsetDateTime::now_utc();
    let hour_ago = u64::try_from((now - time::Duration::hours(1)).unix_timestamp() * 1000).unwrap();
    world.sim.record_earlier_message(ACCOUNT, to.digits(), text, hour_ago).unwrap();
    // then a check for this claim (claimed now) finds no proof, while a check of any time does;
    assert_eq!(
        driver.already_sent(&to, text, Some(now)).unwrap(),
        Earlier::Absent,
        "last week's message is not this claim's"
    );
    assert_eq!(driver.already_sent(&to, text, None).unwrap(), Earlier::Delivered);
    // and once this claim's message is out, the check finds it.
    driver.send(&to, text).unwrap();
    assert_eq!(driver.already_sent(&to, text, Some(now)).unwrap(), Earlier::Delivered);
}

#[test]
fn receipts_follow_a_sent_message_to_read_and_a_later_look_at_the_chat_sees_older_ones() {
    let _serial = serial();
    let world = TestWorld::new();
    let driver = world.launch("main");
    world.link(&driver);
    let (reader, private) = (phone(11), phone(12));
    world.sim.set_read_receipts(private.digits(), false).unwrap();

    // Given recipients who read what reaches them at once,
    world.sim.set_read_after(Some(Duration::ZERO));
    // when a message is sent and its receipts awaited, the wait ends as it shows read;
    driver.send(&reader, "Your order shipped").unwrap();
    let seen = driver.receipts(Duration::from_secs(10)).unwrap();
    let id = world.sim.deliveries_to(reader.digits())[0].id.clone();
    let just = seen.just_sent.clone().expect("the message just sent is on screen");
    assert!(just.id.ends_with(&id), "{} is the bubble's id of {id}", just.id);
    assert_eq!(just.ack, Ack::Read);
    assert_eq!(seen.messages, std::slice::from_ref(&just));

    // and for a recipient who turned read receipts off the wait runs out at delivered.
    let started = Instant::now();
    driver.send(&private, "Your order shipped").unwrap();
    let seen = driver.receipts(Duration::from_millis(1500)).unwrap();
    assert_eq!(seen.just_sent.map(|m| m.ack), Some(Ack::Delivered));
    assert!(started.elapsed() >= Duration::from_millis(1500));

    // Given a message not read while its chat was open,
    world.sim.set_read_after(None);
    driver.send(&reader, "It arrives tomorrow").unwrap();
    let seen = driver.receipts(Duration::ZERO).unwrap();
    let second = seen.just_sent.unwrap();
    assert!(second.ack < Ack::Read, "{second:?}");
    // when the recipient reads it later and the chat is looked at again,
    world.sim.read_chat(reader.digits()).unwrap();
    let later = driver.chat_receipts(&reader).unwrap();
    // then both messages show read, and none is taken for one just sent from this look.
    assert_eq!(later.just_sent, None);
    let acks: Vec<(String, Ack)> = later.messages.into_iter().map(|m| (m.id, m.ack)).collect();
    assert_eq!(acks, [(just.id, Ack::Read), (second.id, Ack::Read)]);
    // A number not on WhatsApp shows nothing.
    world.sim.mark_not_on_whatsapp(phone(13).digits()).unwrap();
    assert_eq!(driver.chat_receipts(&phone(13)).unwrap(), Default::default());
}

#[test]
fn a_fresh_profile_and_a_revoked_one_need_the_qr() {
    let _serial = serial();
    let world = TestWorld::new();
    let driver = world.launch("main");
    world.link(&driver);

    // When the phone logs the device out
    world.sim.revoke(ACCOUNT).unwrap();

    // Then the page (post_logout) and a fresh load both need the QR
    assert_eq!(driver.open(false).unwrap(), Screen::NeedsQr);
    assert_eq!(driver.open(false).unwrap(), Screen::NeedsQr);
}

#[test]
fn a_long_sync_is_loading_until_the_chat_list_shows() {
    let _serial = serial();
    let world =
        TestWorld::start(SimConfig { sync_duration: Duration::from_millis(2500), ..SimConfig::for_tests() });
    let mut driver = world.launch("main");
    world.link(&driver);

    // Given a loading limit shorter than the sync, the state is LOADING (not UNKNOWN, not expired)
    driver.set_timeouts(Timeouts { loading: Duration::from_millis(500), ..helpers::test_timeouts() });
    assert_eq!(driver.open(false).unwrap(), Screen::Loading);

    // And with a longer limit the same load ends READY
    driver.set_timeouts(helpers::test_timeouts());
    assert_eq!(driver.wait_for_session(false).unwrap(), Screen::Ready);
}

#[test]
fn a_conflict_is_reported_and_taken_over_with_use_here() {
    let _serial = serial();
    let world = TestWorld::new();
    let driver = world.launch("main");
    world.link(&driver);

    // When another window takes the session
    world.sim.conflict(ACCOUNT).unwrap();

    // Then a load shows CONFLICT, and a take-over clicks "Use here" and reaches READY
    assert_eq!(driver.open(false).unwrap(), Screen::Conflict);
    assert_eq!(driver.open(true).unwrap(), Screen::Ready);
    assert!(!world.sim.sessions()[0].held_elsewhere);

    // And a conflict during a send is SESSION_LOST
    world.sim.conflict(ACCOUNT).unwrap();
    let started = Instant::now();
    let error = loop {
        match driver.send(&phone(3), "hi") {
            Err(error) => break error,
            Ok(_) => {
                assert!(started.elapsed() < Duration::from_secs(10), "the conflict never reached the page")
            }
        }
    };
    assert_eq!(error.code(), "SESSION_LOST", "{error}");
}

#[test]
fn banned_and_outdated_screens_are_reported() {
    let _serial = serial();
    let world = TestWorld::new();
    let driver = world.launch("main");
    world.link(&driver);

    world.sim.ban(ACCOUNT).unwrap();
    assert_eq!(driver.open(false).unwrap(), Screen::Banned);
    world.sim.unban(ACCOUNT).unwrap();

    world.sim.set_outdated(true);
    assert_eq!(driver.open(false).unwrap(), Screen::Outdated);
}

#[test]
fn a_hung_or_unreachable_whatsapp_is_unknown_within_the_bound_and_never_needs_qr() {
    let _serial = serial();
    let world = TestWorld::new();
    let mut driver = world.launch("main");
    world.link(&driver);
    let bound = Duration::from_secs(3);
    driver.set_timeouts(Timeouts { first_screen: bound, ..helpers::test_timeouts() });

    // When the next page load never answers
    world.sim.hang_next_load();
    let started = Instant::now();
    let state = driver.open(false).unwrap();

    // Then the state is UNKNOWN within the bound (the old page is not mistaken for READY)
    assert_eq!(state, Screen::Unknown);
    let took = started.elapsed();
    assert!(took >= bound && took < bound + Duration::from_secs(3), "took {took:?}");
    assert!(std::fs::read_dir(world.diagnostics()).unwrap().count() >= 2, "screenshot and URL captured");

    // And with WhatsApp unreachable (closed port) it is UNKNOWN too, without waiting out the bound
    world.sim.release_hangs();
    let TestWorld { sim, dir: _dir } = world;
    sim.shutdown();
    let started = Instant::now();
    assert_eq!(driver.open(false).unwrap(), Screen::Unknown);
    assert!(started.elapsed() < bound + Duration::from_secs(3));
}

#[test]
fn a_number_not_on_whatsapp_is_reported_and_nothing_is_delivered() {
    let _serial = serial();
    let world = TestWorld::new();
    let driver = world.launch("main");
    world.link(&driver);
    let nobody = phone(4);
    world.sim.mark_not_on_whatsapp(nobody.digits()).unwrap();

    let error = driver.send(&nobody, "hello").unwrap_err();
    assert!(matches!(error, DriverError::NotOnWhatsapp), "{error}");
    assert_eq!(error.code(), "NOT_ON_WHATSAPP");
    assert!(world.sim.deliveries().is_empty());

    // And the popup was dismissed: the next send works
    driver.send(&phone(5), "hello").unwrap();
    assert_eq!(world.sim.deliveries().len(), 1);
}

#[test]
fn an_ack_that_never_comes_is_a_send_timeout_within_the_bound() {
    let _serial = serial();
    let world = TestWorld::new();
    let mut driver = world.launch("main");
    world.link(&driver);
    let bound = Duration::from_secs(2);
    driver.set_timeouts(Timeouts { ack: bound, ..helpers::test_timeouts() });
    world.sim.set_never_ack(true);

    let started = Instant::now();
    let error = driver.send(&phone(6), "are you there?").unwrap_err();
    let took = started.elapsed();

    assert!(matches!(error, DriverError::SendTimeout { .. }), "{error}");
    assert_eq!(error.code(), "SEND_TIMEOUT");
    assert!(took >= bound && took < bound + Duration::from_secs(4), "took {took:?}");
    // The message did leave: a resend must verify first, and already_sent sees it
    assert_eq!(driver.already_sent(&phone(6), "are you there?", None).unwrap(), Earlier::Delivered);
}

#[test]
fn a_crashed_renderer_or_a_killed_browser_is_browser_crashed() {
    let _serial = serial();
    let world = TestWorld::new();

    // Given a renderer that crashes
    let driver = world.launch("crash");
    world.link(&driver);
    let tab = std::sync::Arc::clone(driver.tab());
    std::thread::spawn(move || {
        let _ = tab.navigate_to("chrome://crash");
    });
    let started = Instant::now();
    let error = loop {
        match driver.current_state() {
            Err(error) => break error,
            Ok(_) => assert!(started.elapsed() < Duration::from_secs(10), "the crash was never noticed"),
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(error.code(), "BROWSER_CRASHED", "{error}");
    assert_eq!(driver.send(&phone(7), "hi").unwrap_err().code(), "BROWSER_CRASHED");
    drop(driver);

    // Given a browser process killed under the driver
    let driver = world.launch("kill");
    let pid = driver.browser_pid().unwrap();
    let status = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    let started = Instant::now();
    let error = driver.open(false).unwrap_err();
    assert_eq!(error.code(), "BROWSER_CRASHED", "{error}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_stale_singleton_lock_from_another_host_never_hangs_the_launch() {
    let _serial = serial();
    let world = TestWorld::new();
    let profile = world.profile("restored");
    std::fs::create_dir_all(&profile).unwrap();
    std::os::unix::fs::symlink("otherhost-12345", profile.join("SingletonLock")).unwrap();

    // When the lock may not be removed: a bounded PROFILE_LOCKED
    let started = Instant::now();
    let error = WaDriver::launch(world.config("restored")).unwrap_err();
    assert_eq!(error.code(), "PROFILE_LOCKED", "{error}");
    assert!(started.elapsed() < Duration::from_secs(2));

    // When it may: a clean start (here also in the Lambda-friendly single-process mode)
    let mut config = world.config("restored");
    config.remove_stale_lock = true;
    config.single_process = true;
    let driver = WaDriver::launch(config).unwrap();
    assert_eq!(driver.open(false).unwrap(), Screen::NeedsQr);
    driver.close().unwrap();
}

#[test]
fn close_flushes_the_profile_so_a_copy_of_the_kept_folders_logs_in_again() {
    let _serial = serial();
    let world = TestWorld::new();
    let probe = "localStorage.getItem('wacamp-flush-probe') === 'written-just-before-shutdown'";
    let write_probe = "localStorage.setItem('wacamp-flush-probe', 'written-just-before-shutdown'); true";

    // Given a linked profile with a key written to localStorage just before shutdown (Chromium
    // batches such writes to disk a few seconds later unless it is closed with flush)
    let flushed = world.launch("flushed");
    world.link(&flushed);
    assert_eq!(page_bool(&flushed, write_probe), Some(true));
    // When it is closed with flush
    flushed.close().unwrap();

    // Then a copy of only the kept folders logs in again on the same origin, with the last
    // localStorage write. (Whether a killed Chromium loses such a write depends on the timing of
    // its background commit, so no test asserts the loss; the sender only archives after a close
    // with flush.)
    copy_profile(&world.profile("flushed"), &world.profile("flushed-copy"), &KEPT_PARTS);
    let restored = world.launch("flushed-copy");
    assert_eq!(restored.open(false).unwrap(), Screen::Ready);
    assert_eq!(page_bool(&restored, probe), Some(true), "the write just before close reached the disk");
    restored.close().unwrap();
}

#[test]
fn a_runtime_selector_override_follows_a_whatsapp_dom_change() {
    let _serial = serial();
    let mut sim_config = SimConfig::for_tests();
    sim_config.selectors.chat_list_id = "pane-side-v2".to_owned();
    let world = TestWorld::start(sim_config);

    // Given a driver with the compiled-in selectors: the new chat list is not recognised
    let mut config = world.config("main");
    config.timeouts.first_screen = Duration::from_secs(3);
    let stale = WaDriver::launch(config).unwrap();
    assert_eq!(stale.open(false).unwrap(), Screen::NeedsQr);
    let state = stale.link_with_qr(&mut |qr| world.scan(qr), Duration::from_secs(4)).unwrap();
    assert_ne!(state, Screen::Ready);
    let state = stale.open(false).unwrap();
    assert!(matches!(state, Screen::Unknown | Screen::Loading), "{state}");
    stale.close().unwrap();

    // When the operator writes only the changed key into an override file
    let file = world.dir.path().join("selectors-override.toml");
    std::fs::write(&file, "version = \"wa-web-2026.12\"\n[css]\nchat_list = \"#pane-side-v2\"\n").unwrap();
    let mut config = world.config("main");
    config.selectors = wa_driver::Selectors::load(Some(&file)).unwrap();

    // Then the same profile is READY, and sending works
    let driver = WaDriver::launch(config).unwrap();
    assert_eq!(driver.open(false).unwrap(), Screen::Ready);
    driver.send(&phone(8), "after the DOM change").unwrap();
    assert_eq!(world.sim.deliveries().len(), 1);
}

#[test]
fn a_send_url_load_is_the_fallback_way_to_open_a_chat() {
    let _serial = serial();
    let world = TestWorld::new();
    let driver = world.launch("main");
    world.link(&driver);
    let text = "via /send & a full load";

    let sent = driver.send_with(&phone(9), text, ChatOpening::SendUrl).unwrap();

    assert_eq!(sent.opened_via, ChatOpening::SendUrl);
    assert!(driver.current_url().contains(&format!("text={}", percent_encode(text))));
    assert_eq!(world.sim.deliveries_to(phone(9).digits()).len(), 1);
}
