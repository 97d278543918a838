//! The simulator driven by real headless Chromium: login, session keys in the profile, the ways a session
//! dies, sending with acknowledgements (texts here, files through the attach menu in `media`), and the
//! admin API. Browser tests run one at a time (see `helpers::serial`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;
mod media;

use std::time::Duration;

use helpers::{
    TestWorld, click, click_xpath, copy_profile, eval, eval_async, exists, http, http_with_timeout, js, json,
    record_acks_of_next_bubble, recorded_acks, serial, wait_for, wait_for_text, wait_until,
};
use serde_json::Value;
use wa_sim::{Fault, Selectors, SimConfig};

const ACCOUNT: &str = "15550000001";
const PROFILE_PARTS: [&str; 3] = ["Default/IndexedDB", "Default/Local Storage", "Default/Cookies"];

#[test]
fn a_scanned_qr_code_syncs_and_shows_the_chat_list() {
    let _serial = serial();
    let world =
        TestWorld::start(SimConfig { sync_duration: Duration::from_millis(1000), ..SimConfig::for_tests() });
    let css = world.sim.css();
    let chrome = world.launch("main");
    let tab = chrome.tab();

    // Given an unpaired page showing a QR code
    tab.navigate_to(&world.sim.base_url()).unwrap();
    wait_for(&tab, &css.qr_canvas);
    let shown = eval(&tab, "document.querySelector('div[data-ref]').getAttribute('data-ref')").unwrap();
    let shown = shown.as_str().unwrap().to_owned();
    assert!(shown.starts_with("2@"), "QR payload looks like WhatsApp's: {shown}");
    assert_eq!(world.sim.current_qr().unwrap().qr, shown);
    eval(&tab, "window.__before_link = true");

    // When the phone scans it
    let device = world.sim.link_qr(&shown, ACCOUNT).unwrap();

    // Then the page reloads itself once, syncs and shows the chat list
    wait_for_text(&tab, &Selectors::default().loading_text);
    wait_for(&tab, &css.chat_list);
    assert_eq!(eval(&tab, "window.__before_link === undefined"), Some(Value::Bool(true)));
    assert!(!exists(&tab, &css.qr_canvas));
    let sessions = world.sim.sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].device, device.device);
    assert_eq!(sessions[0].latest_generation, 2, "linked as 1, the reload stored 2");
}

#[test]
fn a_profile_copy_keeps_the_login_only_with_both_indexeddb_and_local_storage() {
    let _serial = serial();
    let world = TestWorld::new();
    let css = world.sim.css();

    // Given a linked profile, closed so that localStorage reaches the disk
    let chrome = world.launch("original");
    world.open_and_link(&chrome.tab(), ACCOUNT);
    chrome.close();
    let original = world.profile("original");
    let full = world.profile("full-copy");
    copy_profile(&original, &full, &PROFILE_PARTS);
    let without_idb = world.profile("without-indexeddb");
    copy_profile(&original, &without_idb, &["Default/Local Storage", "Default/Cookies"]);
    let without_ls = world.profile("without-local-storage");
    copy_profile(&original, &without_ls, &["Default/IndexedDB", "Default/Cookies"]);

    // Then the copy of IndexedDB + Local Storage + Cookies opens logged in on the same origin
    let restored = world.launch("full-copy");
    let tab = restored.tab();
    tab.navigate_to(&world.sim.base_url()).unwrap();
    wait_for(&tab, &css.chat_list);
    drop(restored);

    // And a copy missing either store shows the QR code
    for profile in ["without-indexeddb", "without-local-storage"] {
        let chrome = world.launch(profile);
        let tab = chrome.tab();
        tab.navigate_to(&world.sim.base_url()).unwrap();
        wait_for(&tab, &css.qr_canvas);
        assert!(!exists(&tab, &css.chat_list), "{profile} must not be logged in");
    }
}

#[test]
fn a_revoked_device_shows_the_qr_code_with_post_logout() {
    let _serial = serial();
    let world = TestWorld::new();
    let css = world.sim.css();
    let chrome = world.launch("main");
    let tab = chrome.tab();
    world.open_and_link(&tab, ACCOUNT);

    // When the phone logs the device out
    assert_eq!(world.sim.revoke(ACCOUNT).unwrap(), 1);

    // Then the open page drops to the QR code with post_logout=1
    wait_until(&tab, "post_logout=1 in the URL", "location.search.includes('post_logout=1')");
    wait_for(&tab, &css.qr_canvas);

    // And a reload stays logged out: storage was cleared
    tab.navigate_to(&world.sim.base_url()).unwrap();
    wait_for(&tab, &css.qr_canvas);
    assert_eq!(eval(&tab, "localStorage.getItem('WASecretBundle') === null"), Some(Value::Bool(true)));
}

#[test]
fn damaged_credentials_are_refused_while_an_older_profile_copy_still_logs_in() {
    let _serial = serial();
    let world = TestWorld::new();
    let css = world.sim.css();

    // Given a backup of a linked profile taken at generation K
    let chrome = world.launch("live");
    world.open_and_link(&chrome.tab(), ACCOUNT);
    chrome.close();
    copy_profile(&world.profile("live"), &world.profile("backup"), &PROFILE_PARTS);
    let k = world.sim.latest_generation(ACCOUNT).unwrap();

    // And the live profile used once more, which stores generation K+1
    let chrome = world.launch("live");
    let tab = chrome.tab();
    tab.navigate_to(&world.sim.base_url()).unwrap();
    wait_for(&tab, &css.chat_list);
    assert_eq!(world.sim.latest_generation(ACCOUNT), Some(k + 1));

    // When the server refuses everything after K
    assert_eq!(world.sim.damage_after_generation(ACCOUNT, k).unwrap(), 1);

    // Then the live profile's current credentials are refused
    tab.navigate_to(&world.sim.base_url()).unwrap();
    wait_for(&tab, &css.qr_canvas);
    drop(chrome);

    // And the older copy still logs in
    let restored = world.launch("backup");
    let tab = restored.tab();
    tab.navigate_to(&world.sim.base_url()).unwrap();
    wait_for(&tab, &css.chat_list);
}

#[test]
fn an_idle_session_expires_on_the_admin_clock() {
    let _serial = serial();
    let world = TestWorld::start(SimConfig {
        idle_expiry: Duration::from_secs(14 * 24 * 3600),
        ..SimConfig::for_tests()
    });
    let css = world.sim.css();
    let chrome = world.launch("main");
    let tab = chrome.tab();
    world.open_and_link(&tab, ACCOUNT);
    tab.navigate_to("about:blank").unwrap();
    wait_until(&tab, "about:blank", "location.href === 'about:blank'");

    // When fifteen days pass on the admin clock without use
    world.sim.advance_clock(Duration::from_secs(15 * 24 * 3600));

    // Then the next load shows the QR code
    tab.navigate_to(&world.sim.base_url()).unwrap();
    wait_for(&tab, &css.qr_canvas);
    assert!(world.sim.sessions()[0].expired);
}

#[test]
fn a_second_window_takes_the_session_and_use_here_takes_it_back() {
    let _serial = serial();
    let world = TestWorld::new();
    let css = world.sim.css();
    let selectors = Selectors::default();
    let chrome = world.launch("main");
    let first = chrome.tab();
    world.open_and_link(&first, ACCOUNT);

    // When a second window opens with the same credentials
    let second = chrome.tab();
    second.navigate_to(&world.sim.base_url()).unwrap();
    wait_for(&second, &css.chat_list);

    // Then the older window says WhatsApp is open in another window
    wait_for_text(&first, "WhatsApp is open in another window");
    wait_for(&first, &css.popup);

    // And "Use here" takes the session over
    first.bring_to_front().unwrap();
    click_xpath(&first, &css.use_here_button_xpath);
    wait_until(&first, "conflict popup gone", &format!("!document.querySelector({})", js(&css.popup)));
    assert!(exists(&first, &css.chat_list));
    wait_for_text(&second, &selectors.use_here_text);

    // And an admin conflict (another computer) reaches the open window too
    world.sim.conflict(ACCOUNT).unwrap();
    wait_for_text(&first, "WhatsApp is open in another window");

    // And holds the session at load time, until "Use here" is clicked
    drop(second);
    first.navigate_to(&world.sim.base_url()).unwrap();
    wait_until(&first, "conflict popup after load", "document.readyState === 'complete'");
    wait_for(&first, &css.popup);
    assert!(!exists(&first, &css.chat_list));
    click_xpath(&first, &css.use_here_button_xpath);
    wait_for(&first, &css.chat_list);
    assert!(!world.sim.sessions()[0].held_elsewhere);
}

#[test]
fn a_message_sent_from_the_send_url_is_delivered_once_with_acks_in_order() {
    let _serial = serial();
    let world = TestWorld::new();
    let css = world.sim.css();
    let chrome = world.launch("main");
    let tab = chrome.tab();
    world.open_and_link(&tab, ACCOUNT);
    let phone = "15551230001";
    let text = "Hello Ana, your order #42 is ready & waiting";

    // Given the chat opened through /send with the composer filled
    tab.navigate_to(&world.sim.send_url(phone, text)).unwrap();
    wait_for(&tab, &css.composer);
    let composer = format!("document.querySelector({}).innerText", js(&css.composer));
    assert_eq!(eval(&tab, &composer), Some(Value::String(text.to_owned())));

    // When the send button is clicked
    record_acks_of_next_bubble(&tab, &css.outgoing_message);
    click(&tab, &css.send_button);

    // Then the bubble goes clock, one check, two checks
    wait_for(&tab, &format!("{} {}", css.outgoing_message, css.ack_delivered));
    assert_eq!(recorded_acks(&tab), ["msg-time", "msg-check", "msg-dblcheck"]);

    // And the recipient got it exactly once, from the linked device
    let deliveries = world.sim.deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].to, phone);
    assert_eq!(deliveries[0].text, text);
    assert_eq!(deliveries[0].account, ACCOUNT);
    assert_eq!(deliveries[0].device, world.sim.sessions()[0].device);

    // And the admin JSON endpoint reports the same record
    let reply = eval_async(&tab, "fetch('/_admin/deliveries?to=15551230001').then(r => r.text())").unwrap();
    let reply = json(reply.as_str().unwrap());
    assert_eq!(reply["deliveries"][0]["id"], Value::String(deliveries[0].id.clone()));

    // And reopening the chat shows the earlier message, so a sender can check before resending
    tab.navigate_to(&world.sim.send_url(phone, "")).unwrap();
    wait_for(&tab, &css.outgoing_text);
    let shown = eval(&tab, &format!("document.querySelector({}).innerText", js(&css.outgoing_text)));
    assert_eq!(shown, Some(Value::String(text.to_owned())));
    assert_eq!(world.sim.deliveries().len(), 1);
}

#[test]
fn an_open_chat_shows_blue_checks_once_the_recipient_reads_it_but_never_for_one_with_read_receipts_off() {
    let _serial = serial();
    let world = TestWorld::new();
    let css = world.sim.css();
    let chrome = world.launch("main");
    let tab = chrome.tab();
    world.open_and_link(&tab, ACCOUNT);
    let (reader, private) = ("15551230011", "15551230012");
    world.sim.set_read_receipts(private, false).unwrap();
    let bubble_with = |ack: &str| format!("{} {}", css.outgoing_message, ack);

    for phone in [reader, private] {
        // Given a message delivered to the recipient, shown with two grey checks in the open chat
        tab.navigate_to(&world.sim.send_url(phone, "Your order shipped")).unwrap();
        wait_for(&tab, &css.composer);
        record_acks_of_next_bubble(&tab, &css.outgoing_message);
        click(&tab, &css.send_button);
        wait_for(&tab, &bubble_with(&css.ack_delivered));

        // When the recipient opens the chat on the phone
        let read = world.sim.read_chat(phone).unwrap();

        if phone == reader {
            // Then the open chat turns the checks blue, after the grey ones
            assert_eq!(read, 1);
            wait_for(&tab, &bubble_with(&css.ack_read));
            assert_eq!(recorded_acks(&tab), ["msg-time", "msg-check", "msg-dblcheck", "msg-dblcheck-ack"]);
        } else {
            // Then nothing is shown of it: read receipts are off
            assert_eq!(read, 0);
            assert_eq!(recorded_acks(&tab), ["msg-time", "msg-check", "msg-dblcheck"]);
        }
    }

    // And a receipt the server sends again or out of order shows as it comes, in an open chat
    // and when the chat is opened again
    let id = world.sim.deliveries_to(reader)[0].id.clone();
    world.sim.show_ack(&id, wa_sim::Ack::Delivered).unwrap();
    tab.navigate_to(&world.sim.send_url(reader, "")).unwrap();
    wait_for(&tab, &bubble_with(&css.ack_delivered));
    world.sim.show_ack(&id, wa_sim::Ack::Read).unwrap();
    wait_for(&tab, &bubble_with(&css.ack_read));
}

#[test]
fn a_wa_me_link_clicked_inside_the_app_opens_the_chat_in_place_and_sends_once() {
    let _serial = serial();
    let world = TestWorld::new();
    let css = world.sim.css();
    let chrome = world.launch("main");
    let tab = chrome.tab();
    world.open_and_link(&tab, ACCOUNT);
    eval(&tab, "window.__same_document = true");

    for (phone, href) in [
        ("15551230002", "https://wa.me/15551230002?text=Hi%20from%20a%20link"),
        ("15551230003", "https://api.whatsapp.com/send?phone=15551230003&text=Hi%20from%20a%20link"),
    ] {
        // When an extension injects a chat link into the app and clicks it
        let inject = format!(
            "(() => {{ const a = document.createElement('a'); a.href = {}; a.textContent = 'open chat'; \
             document.body.appendChild(a); a.click(); a.remove(); return true; }})()",
            js(href)
        );
        assert_eq!(eval(&tab, &inject), Some(Value::Bool(true)));

        // Then the chat opens in place with the composer filled
        wait_until(
            &tab,
            "the chat with the composer filled",
            &format!(
                "(() => {{ const c = document.querySelector({}); return !!c && c.innerText === 'Hi from a link' \
                 && document.querySelector('#main').dataset.phone === {}; }})()",
                js(&css.composer),
                js(phone)
            ),
        );
        assert_eq!(eval(&tab, "window.__same_document === true"), Some(Value::Bool(true)));

        // And sending delivers exactly once with acks in order
        record_acks_of_next_bubble(&tab, &css.outgoing_message);
        click(&tab, &css.send_button);
        wait_until(
            &tab,
            "delivered bubble",
            &format!(
                "document.querySelectorAll({}).length === 1",
                js(&format!("{} {}", css.outgoing_message, css.ack_delivered))
            ),
        );
        assert_eq!(recorded_acks(&tab), ["msg-time", "msg-check", "msg-dblcheck"]);
        let to_phone = world.sim.deliveries_to(phone);
        assert_eq!(to_phone.len(), 1);
        assert_eq!(to_phone[0].text, "Hi from a link");
    }
    assert_eq!(world.sim.deliveries().len(), 2);
    assert_eq!(eval(&tab, "window.__same_document === true"), Some(Value::Bool(true)));
}

#[test]
fn a_send_that_loses_its_connection_keeps_the_clock_and_shows_up_when_the_chat_reopens() {
    let _serial = serial();
    let world = TestWorld::new();
    let css = world.sim.css();
    let chrome = world.launch("main");
    let tab = chrome.tab();
    world.open_and_link(&tab, ACCOUNT);
    let phone = "15551230004";

    // Given the connection drops right after the server took the message
    world.sim.fail_next(Fault::DropAfterDelivery).unwrap();
    tab.navigate_to(&world.sim.send_url(phone, "Are you there?")).unwrap();
    wait_for(&tab, &css.composer);

    // When the message is sent
    click(&tab, &css.send_button);

    // Then the page never hears the ack: the bubble keeps its clock
    wait_for(&tab, &format!("{}[data-send-error] {}", css.outgoing_message, css.ack_pending));
    assert_eq!(world.sim.deliveries_to(phone).len(), 1, "the recipient did get it");

    // And reopening the chat shows the message as sent, so it is not sent twice
    tab.navigate_to(&world.sim.send_url(phone, "")).unwrap();
    wait_for(&tab, &format!("{} {}", css.outgoing_message, css.ack_delivered));
    assert_eq!(world.sim.deliveries_to(phone).len(), 1);
}

#[test]
fn a_number_not_on_whatsapp_shows_the_invalid_popup_and_sends_nothing() {
    let _serial = serial();
    let world = TestWorld::new();
    let css = world.sim.css();
    let chrome = world.launch("main");
    let tab = chrome.tab();
    world.open_and_link(&tab, ACCOUNT);
    let phone = world.sim.mark_not_on_whatsapp("+1 555 999 0000").unwrap();

    // When the chat is opened by URL
    tab.navigate_to(&world.sim.send_url(&phone, "hello")).unwrap();

    // Then the invalid-number popup shows, with an OK button that closes it
    wait_for(&tab, &css.popup);
    wait_for_text(&tab, "Phone number shared via url is invalid.");
    assert!(!exists(&tab, &css.composer));
    click_xpath(&tab, &css.popup_ok_button_xpath);
    wait_until(&tab, "popup closed", &format!("!document.querySelector({})", js(&css.popup)));

    // And an in-app link to it shows the same popup
    let inject = format!(
        "(() => {{ const a = document.createElement('a'); a.href = 'https://wa.me/{phone}?text=hi'; \
         document.body.appendChild(a); a.click(); a.remove(); return true; }})()"
    );
    eval(&tab, &inject);
    wait_for(&tab, &css.popup);
    assert!(world.sim.deliveries().is_empty());
}

#[test]
fn banned_and_outdated_screens_are_shown() {
    let _serial = serial();
    let world = TestWorld::new();
    let css = world.sim.css();
    let selectors = Selectors::default();
    let chrome = world.launch("main");
    let tab = chrome.tab();
    world.open_and_link(&tab, ACCOUNT);

    // When the account is banned, the open page shows the banned screen
    world.sim.ban(ACCOUNT).unwrap();
    wait_for_text(&tab, &selectors.banned_text);
    assert!(!exists(&tab, &css.chat_list));

    // And when WhatsApp Web is outdated, a load shows the outdated screen
    world.sim.unban(ACCOUNT).unwrap();
    world.sim.set_outdated(true);
    tab.navigate_to(&world.sim.base_url()).unwrap();
    wait_for_text(&tab, &selectors.outdated_text);

    // And once both are lifted the stored session still works
    world.sim.set_outdated(false);
    tab.navigate_to(&world.sim.base_url()).unwrap();
    wait_for(&tab, &css.chat_list);
}

#[test]
fn an_unreachable_whatsapp_web_answers_every_load_with_503_until_it_is_back() {
    let _serial = serial();
    let world = TestWorld::new();
    let css = world.sim.css();
    let chrome = world.launch("main");
    let tab = chrome.tab();
    world.open_and_link(&tab, ACCOUNT);

    // While WhatsApp Web is unreachable, every load is an error page, again and again,
    world.sim.set_unreachable(true);
    for _ in 0..2 {
        tab.navigate_to(&world.sim.base_url()).unwrap();
        wait_for_text(&tab, "HTTP 503");
        assert!(!exists(&tab, &css.chat_list));
    }
    // and once it is back the stored session still works.
    world.sim.set_unreachable(false);
    tab.navigate_to(&world.sim.base_url()).unwrap();
    wait_for(&tab, &css.chat_list);
}

#[test]
fn an_unscanned_qr_goes_idle_and_click_to_reload_brings_a_fresh_one() {
    let _serial = serial();
    let world = TestWorld::start(SimConfig {
        qr_rotation: Duration::from_millis(1000),
        qr_codes_before_idle: 3,
        ..SimConfig::for_tests()
    });
    let css = world.sim.css();
    let chrome = world.launch("main");
    let tab = chrome.tab();
    tab.navigate_to(&world.sim.base_url()).unwrap();
    wait_for(&tab, &css.qr_canvas);
    let record = "(() => { window.__refs = []; const note = () => { const box = document.querySelector('div[data-ref]'); \
                  const ref = box && box.getAttribute('data-ref'); \
                  if (ref && !window.__refs.includes(ref)) window.__refs.push(ref); }; note(); \
                  new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true }); \
                  return true; })()";
    assert_eq!(eval(&tab, record), Some(Value::Bool(true)));

    // When nobody scans it, it rotates and then goes idle behind "click to reload"
    wait_for(&tab, &css.qr_reload_button);
    assert!(!exists(&tab, &css.qr_canvas));
    let refs: Vec<String> =
        serde_json::from_str(eval(&tab, "JSON.stringify(window.__refs)").unwrap().as_str().unwrap()).unwrap();
    assert_eq!(refs.len(), 3, "three QR codes before idle: {refs:?}");
    assert!(world.sim.link_current_qr(ACCOUNT).is_err(), "an idle QR cannot be scanned");

    // Then the reload button brings a fresh QR that can be scanned
    click(&tab, &css.qr_reload_button);
    wait_for(&tab, &css.qr_canvas);
    let fresh = eval(&tab, "document.querySelector('div[data-ref]').getAttribute('data-ref')").unwrap();
    assert!(!refs.contains(&fresh.as_str().unwrap().to_owned()));
    world.sim.link_current_qr(ACCOUNT).unwrap();
    wait_for(&tab, &css.chat_list);
}

#[test]
fn a_chat_list_id_override_is_what_the_page_renders() {
    let _serial = serial();
    let selectors = Selectors { chat_list_id: "pane-side-v2".to_owned(), ..Selectors::default() };
    let world = TestWorld::start(SimConfig { selectors, ..SimConfig::for_tests() });
    let css = world.sim.css();
    assert_eq!(css.chat_list, "#pane-side-v2");
    let chrome = world.launch("main");
    let tab = chrome.tab();
    world.open_and_link(&tab, ACCOUNT);
    assert!(!exists(&tab, "#pane-side"));
}

#[test]
fn the_admin_http_api_drives_the_same_world_as_the_rust_api() {
    let world = TestWorld::new();
    let sim = &world.sim;

    // No page shows a QR yet
    let (status, body) = http(sim, "POST", "/_admin/link", Some(r#"{"account":"a1"}"#));
    assert_eq!((status, json(&body)["error"].clone()), (409, Value::from("no_qr_shown")));

    // Clock, numbers, latency, faults and selectors
    let (_, body) = http(sim, "POST", "/_admin/clock/advance", Some(r#"{"ms":1500}"#));
    assert_eq!(json(&body)["now_ms"], 1500);
    assert_eq!(sim.clock(), Duration::from_millis(1500));
    let (_, body) = http(sim, "POST", "/_admin/not-on-whatsapp", Some(r#"{"phone":"+44 20 7946 0000"}"#));
    assert_eq!(json(&body)["phone"], "442079460000");
    let (_, body) = http(sim, "POST", "/_admin/latency", Some(r#"{"server_ack_ms":7}"#));
    assert_eq!(json(&body)["server_ack"], 7);
    assert_eq!(sim.latency().server_ack, Duration::from_millis(7));
    let (status, _) = http(sim, "POST", "/_admin/fail-next", Some(r#"{"fault":"page_error","status":42}"#));
    assert_eq!(status, 400);
    let (status, _) = http(sim, "POST", "/_admin/fail-next", Some(r#"{"fault":"page_error","status":503}"#));
    assert_eq!(status, 200);
    assert_eq!(sim.pending_faults(), [Fault::PageError { status: 503 }]);
    let (_, body) = http(sim, "GET", "/_admin/selectors", None);
    assert_eq!(json(&body)["css"]["chat_list"], "#pane-side");
    let (_, body) = http(sim, "GET", "/_admin/deliveries", None);
    assert_eq!(json(&body)["deliveries"], Value::Array(Vec::new()));
    let (status, _) = http(sim, "POST", "/_admin/revoke", Some(r#"{"account":"nobody"}"#));
    assert_eq!(status, 404);

    // The queued page error answers the next load, then the app is served again
    let (status, _) = http(sim, "GET", "/", None);
    assert_eq!(status, 503);
    let (status, page) = http(sim, "GET", "/send?phone=1&text=x", None);
    assert_eq!(status, 200);
    assert!(page.contains("\"chat_list_id\":\"pane-side\""));

    // A hung load answers only after release_hangs
    let (status, _) = http(sim, "POST", "/_admin/hang-next-load", None);
    assert_eq!(status, 200);
    let hung = http_with_timeout(sim, "GET", "/", None, Duration::from_millis(300));
    assert_eq!(hung, None, "the load hangs");
    let (status, _) = http(sim, "POST", "/_admin/release-hangs", None);
    assert_eq!(status, 200);
    let (status, _) = http(sim, "GET", "/", None);
    assert_eq!(status, 200);

    // An API error answers the next page API call only
    let (status, _) = http(sim, "POST", "/_admin/fail-next", Some(r#"{"fault":"api_error","status":502}"#));
    assert_eq!(status, 200);
    assert_eq!(http(sim, "POST", "/api/login/start", None).0, 502);
    assert_eq!(http(sim, "POST", "/api/login/start", None).0, 200);
}

#[test]
fn a_simulator_restarts_on_the_same_port() {
    // Ports below the kernel's ephemeral range, so the other tests (port 0) never take one between
    // the shutdown and the restart. Another process of the machine may still bind one in that
    // instant (the long end-to-end tests run beside this one): a restart refused on one port is
    // tried on the next, and at least one of five must restart.
    let candidates = (0..500u16)
        .map(|i| 20_000 + (u16::try_from(std::process::id() % 5_000).unwrap() + i * 7) % 10_000)
        .filter_map(|port| {
            wa_sim::Simulator::start(SimConfig::for_tests().with_port(port)).ok().map(|s| (s, port))
        })
        .take(5);
    let mut refused = Vec::new();
    for (first, port) in candidates {
        first.shutdown();
        match wa_sim::Simulator::start(SimConfig::for_tests().with_port(port)) {
            Ok(second) => {
                assert_eq!(second.base_url(), format!("http://127.0.0.1:{port}"));
                assert_eq!(http(&second, "GET", "/_admin/clock", None).0, 200);
                return;
            }
            Err(error) => refused.push(format!("{port}: {error}")),
        }
    }
    panic!("no simulator restarted on its port: {refused:?}");
}

/// Drives the page API the way the page script does, to reach a page session without a browser.
fn linked_page(world: &TestWorld, account: &str) -> String {
    let sim = &world.sim;
    let attempt = json(&http(sim, "POST", "/api/login/start", None).1);
    let attempt = attempt["attempt"].as_str().unwrap().to_owned();
    let (status, _) = http(sim, "POST", "/_admin/link", Some(&format!(r#"{{"account":"{account}"}}"#)));
    assert_eq!(status, 200);
    let view = json(&http(sim, "GET", &format!("/api/login/poll?attempt={attempt}"), None).1);
    assert_eq!(view["state"], "linked");
    let c = &view["credential"];
    let body = serde_json::json!({
        "device": c["device"], "generation": c["generation"], "key_a": c["key_a"], "key_b": c["key_b"],
    });
    let auth = json(&http(sim, "POST", "/api/auth", Some(&body.to_string())).1);
    assert_eq!(auth["result"], "ok");
    assert_eq!(auth["next"]["generation"], 2);
    auth["page"].as_str().unwrap().to_owned()
}

#[test]
fn the_page_api_records_each_message_once_and_plays_send_faults() {
    let world = TestWorld::new();
    let sim = &world.sim;
    let page = linked_page(&world, ACCOUNT);
    let send = |id: &str| {
        let body = serde_json::json!({ "page": page, "to": "15557770001", "text": "hi", "id": id });
        http_with_timeout(sim, "POST", "/api/send", Some(&body.to_string()), Duration::from_millis(500))
    };

    // A send is acknowledged, then delivered; resending the same id is not a second delivery
    let (status, body) = send("m1").unwrap();
    assert_eq!((status, json(&body)["id"].clone()), (200, Value::from("m1")));
    let (status, _) = http(sim, "GET", &format!("/api/delivered?page={page}&id=m1"), None);
    assert_eq!(status, 200);
    assert_eq!(send("m1").unwrap().0, 200);
    assert_eq!(sim.deliveries().len(), 1);

    // Dropped before delivery: nothing recorded; dropped after: recorded; no ack: recorded, no answer
    let cut_short = |reply: Option<(u16, String)>| {
        reply.is_none_or(|(_, body)| serde_json::from_str::<Value>(&body).is_err())
    };
    sim.fail_next(Fault::DropBeforeDelivery).unwrap();
    assert!(cut_short(send("m2")));
    assert_eq!(sim.deliveries_to("15557770001").len(), 1);
    sim.fail_next(Fault::DropAfterDelivery).unwrap();
    assert!(cut_short(send("m3")));
    sim.fail_next(Fault::NoAck).unwrap();
    assert_eq!(send("m4"), None, "no answer at all");
    let ids: Vec<String> = sim.deliveries().into_iter().map(|d| d.id).collect();
    assert_eq!(ids, ["m1", "m3", "m4"]);

    // A number not on WhatsApp is refused
    sim.mark_not_on_whatsapp("15557770002").unwrap();
    let body = serde_json::json!({ "page": page, "to": "15557770002", "text": "hi", "id": "m5" });
    assert_eq!(http(sim, "POST", "/api/send", Some(&body.to_string())).0, 404);
    assert_eq!(sim.deliveries().len(), 3);
}
