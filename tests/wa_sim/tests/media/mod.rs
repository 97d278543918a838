//! Media through the attach menu, driven the way wacamp's driver does it: the page's file input
//! clicks are intercepted (no OS file chooser), the file is set with CDP `DOM.setFileInputFiles`, a
//! caption is typed into the media editor, and its send control is clicked. Also the page API's
//! `/api/send-media` without a browser.

use std::path::{Path, PathBuf};
use std::time::Duration;

use headless_chrome::Tab;
use headless_chrome::browser::tab::ModifierKey;
use headless_chrome::protocol::cdp::DOM;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use wa_sim::{Css, Fault, MediaKind, MediaLimits, SimConfig};

use super::{ACCOUNT, linked_page};
use crate::helpers::{
    TestWorld, click, click_xpath, eval, exists, http, http_with_timeout, js, json,
    record_acks_of_next_bubble, recorded_acks, serial, wait_for, wait_for_text, wait_until,
};

/// A 4×4 green PNG.
const PNG: [u8; 72] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04, 0x08, 0x02, 0x00, 0x00, 0x00, 0x26, 0x93, 0x09, 0x29, 0x00,
    0x00, 0x00, 0x0f, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x58, 0xd1, 0x82, 0x40, 0xc4, 0x71,
    0x00, 0xdf, 0x83, 0x12, 0xc1, 0x41, 0x0b, 0x62, 0x95, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

/// A PDF-looking file holding every byte value, so a transfer that mangles binary data shows.
fn pdf() -> Vec<u8> {
    let mut bytes = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    bytes.extend(0..=255u8);
    bytes.extend_from_slice(b"\n%%EOF\n");
    bytes
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a file to pick into the test's temp dir.
fn file(world: &TestWorld, name: &str, bytes: &[u8]) -> PathBuf {
    let dir = world.dir.path().join("files");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// As the driver does: a file input the page clicks opens no chooser and is kept in
/// `window.__fileInputs`. Needed again after every page load.
fn intercept_file_inputs(tab: &Tab) {
    let script = "(() => { window.__fileInputs = []; const click = HTMLInputElement.prototype.click; \
                  HTMLInputElement.prototype.click = function () { \
                    if (this.type === 'file') { window.__fileInputs.push(this); return; } \
                    return click.call(this); }; return true; })()";
    assert_eq!(eval(tab, script), Some(Value::Bool(true)), "file input interceptor installed");
}

/// Opens the attach menu, clicks `item`, and sets `path` on the file input the page created for it
/// (which fires its `change`). Answers the input's `accept`.
fn attach(tab: &Tab, css: &Css, item: &str, path: &Path) -> String {
    let before = eval(tab, "window.__fileInputs.length").unwrap().as_u64().unwrap();
    click(tab, &css.attach_button);
    wait_for(tab, &css.attach_menu);
    click(tab, item);
    wait_until(tab, "a new file input clicked", &format!("window.__fileInputs.length === {}", before + 1));
    assert!(!exists(tab, &css.attach_menu), "a picked item closes the menu");
    let last = "window.__fileInputs[window.__fileInputs.length - 1]";
    let hidden = eval(
        tab,
        &format!(
            "{last}.type === 'file' && {last}.parentNode === document.body && getComputedStyle({last}).display === 'none'"
        ),
    );
    assert_eq!(hidden, Some(Value::Bool(true)), "a hidden file input appended to the body");
    let accept = eval(tab, &format!("{last}.accept")).unwrap().as_str().unwrap().to_owned();
    let input = tab.evaluate(last, false).unwrap();
    tab.call_method(DOM::SetFileInputFiles {
        files: vec![path.display().to_string()],
        node_id: None,
        backend_node_id: None,
        object_id: input.object_id,
    })
    .unwrap();
    accept
}

/// What each outgoing bubble shows: its data-id, captions, picture, document icon and name, stamp.
fn bubbles(tab: &Tab, css: &Css) -> Vec<Value> {
    let script = format!(
        "JSON.stringify([...document.querySelectorAll({outgoing})].map((row) => ({{ \
            id: row.getAttribute('data-id'), \
            texts: [...row.querySelectorAll('span.selectable-text')].map((s) => s.innerText), \
            image: !!row.querySelector('img[src^=\"blob:\"]'), \
            pdf: !!row.querySelector({pdf}), \
            name: (row.querySelector('span.document-name') || {{}}).textContent || null, \
            stamped: !!row.querySelector('div.copyable-text[data-pre-plain-text]') }})))",
        outgoing = js(&css.outgoing_message),
        pdf = js(&format!("span[data-icon=\"{}\"]", wa_sim::Selectors::default().document_pdf_icon)),
    );
    serde_json::from_str(eval(tab, &script).unwrap().as_str().unwrap()).unwrap()
}

fn delivered_bubbles(tab: &Tab, css: &Css, n: usize) {
    let selector = format!("{} {}", css.outgoing_message, css.ack_delivered);
    wait_until(
        tab,
        &format!("{n} delivered bubbles"),
        &format!("document.querySelectorAll({}).length === {n}", js(&selector)),
    );
}

#[test]
fn an_image_attached_through_photos_and_videos_is_delivered_once_with_its_caption_and_hash() {
    let _serial = serial();
    let world = TestWorld::new();
    let css = world.sim.css();
    let chrome = world.launch("main");
    let tab = chrome.tab();
    world.open_and_link(&tab, ACCOUNT);
    let phone = "15551240001";
    let caption = "Your table for 4 & more — tonight";
    let photo = file(&world, "photo.png", &PNG);

    // Given an open chat whose attach menu opens and closes (the button again, Escape)
    tab.navigate_to(&world.sim.send_url(phone, "")).unwrap();
    wait_for(&tab, &css.composer);
    intercept_file_inputs(&tab);
    click(&tab, &css.attach_button);
    wait_for(&tab, &css.attach_photos_item);
    assert!(exists(&tab, &css.attach_document_item));
    click(&tab, &css.attach_button);
    wait_until(
        &tab,
        "menu closed by its button",
        &format!("!document.querySelector({})", js(&css.attach_menu)),
    );
    click(&tab, &css.attach_button);
    wait_for(&tab, &css.attach_menu);
    tab.press_key("Escape").unwrap();
    wait_until(&tab, "menu closed by Escape", &format!("!document.querySelector({})", js(&css.attach_menu)));

    // When a picture is picked through "Photos & videos"
    let accept = attach(&tab, &css, &css.attach_photos_item, &photo);
    assert_eq!(accept, "image/*,video/mp4,video/3gpp,video/quicktime");

    // Then the media editor shows it over the chat, which stays in the DOM, with an empty caption
    wait_for(&tab, &css.media_caption);
    assert!(exists(&tab, ".media-editor img[src^=\"blob:\"]"));
    assert!(exists(&tab, &format!("{} {}", css.media_send_button, css.media_send_icon)));
    assert!(exists(&tab, &css.media_close_button));
    let outside_main = format!(
        "!!document.querySelector('#main') && !document.querySelector('#main').contains(document.querySelector({})) \
         && document.querySelector({}).innerText.trim() === ''",
        js(&css.media_caption),
        js(&css.media_caption)
    );
    assert_eq!(eval(&tab, &outside_main), Some(Value::Bool(true)));
    assert_eq!(
        eval(&tab, &format!("document.querySelectorAll({}).length", js(&css.send_button))),
        Some(Value::from(1)),
        "the text composer's send button selector never matches the editor's send control"
    );

    // When a caption is typed and the editor's send is clicked
    click(&tab, &css.media_caption);
    tab.send_character(caption).unwrap();
    record_acks_of_next_bubble(&tab, &css.outgoing_message);
    click(&tab, &css.media_send_button);

    // Then the editor closes and the bubble shows the picture and the caption, clock to two checks
    delivered_bubbles(&tab, &css, 1);
    assert!(!exists(&tab, &css.media_caption));
    assert_eq!(recorded_acks(&tab), ["msg-time", "msg-check", "msg-dblcheck"]);
    let shown = bubbles(&tab, &css);
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0]["texts"], serde_json::json!([caption]));
    assert_eq!(
        (shown[0]["image"].clone(), shown[0]["stamped"].clone()),
        (Value::Bool(true), Value::Bool(true))
    );

    // And the recipient got it once: the caption as text, the picture intact
    let deliveries = world.sim.deliveries();
    assert_eq!(deliveries.len(), 1);
    let delivery = &deliveries[0];
    assert_eq!(
        (delivery.to.as_str(), delivery.text.as_str(), delivery.account.as_str()),
        (phone, caption, ACCOUNT)
    );
    let media = delivery.media.clone().expect("a media delivery");
    assert_eq!(media.kind, MediaKind::Image);
    assert_eq!((media.file_name.as_str(), media.mime.as_str()), ("photo.png", "image/png"));
    assert_eq!((media.size, media.sha256), (PNG.len() as u64, sha256_hex(&PNG)));
    assert_eq!(shown[0]["id"], Value::String(format!("true_{phone}@c.us_{}", delivery.id)));

    // And the admin JSON says the same
    let (_, body) = http(&world.sim, "GET", &format!("/_admin/deliveries?to={phone}"), None);
    let reported = &json(&body)["deliveries"][0]["media"];
    assert_eq!(reported["kind"], "image");
    assert_eq!(reported["sha256"], Value::String(sha256_hex(&PNG)));
}

#[test]
fn a_pdf_attached_as_a_document_shows_its_icon_and_caption_and_both_bubbles_come_back_after_a_reload() {
    let _serial = serial();
    let world = TestWorld::new();
    let css = world.sim.css();
    let chrome = world.launch("main");
    let tab = chrome.tab();
    world.open_and_link(&tab, ACCOUNT);
    let phone = "15551240002";
    let caption = "Invoice #42\nDue on Friday";
    let pdf_bytes = pdf();
    let invoice = file(&world, "invoice 42.pdf", &pdf_bytes);
    let photo = file(&world, "photo.png", &PNG);
    tab.navigate_to(&world.sim.send_url(phone, "")).unwrap();
    wait_for(&tab, &css.composer);
    intercept_file_inputs(&tab);

    // Given a picture sent without a caption
    attach(&tab, &css, &css.attach_photos_item, &photo);
    click(&tab, &css.media_send_button);
    delivered_bubbles(&tab, &css, 1);

    // When a PDF is picked through "Document" and sent with a caption
    let accept = attach(&tab, &css, &css.attach_document_item, &invoice);
    assert_eq!(accept, "*");
    wait_for(&tab, &css.media_caption);
    wait_for_text(&tab, "invoice 42.pdf");
    click(&tab, &css.media_caption);
    tab.send_character("Invoice #42").unwrap();
    tab.press_key_with_modifiers("Enter", Some(&[ModifierKey::Shift])).unwrap();
    tab.send_character("Due on Friday").unwrap();
    click(&tab, &css.media_send_button);

    // Then its bubble shows the PDF icon, the file name (not as the caption) and the caption
    delivered_bubbles(&tab, &css, 2);
    let shown = bubbles(&tab, &css);
    assert_eq!(shown[0]["texts"], serde_json::json!([]), "no caption, no selectable text");
    assert_eq!(shown[0]["image"], Value::Bool(true));
    assert_eq!(shown[1]["texts"], serde_json::json!([caption]));
    assert_eq!(
        (shown[1]["pdf"].clone(), shown[1]["name"].clone()),
        (Value::Bool(true), Value::from("invoice 42.pdf"))
    );

    // And the recipient got each once, the document intact
    let deliveries = world.sim.deliveries_to(phone);
    assert_eq!(deliveries.len(), 2);
    assert_eq!(deliveries[0].text, "");
    assert_eq!(deliveries[1].text, caption);
    let media = deliveries[1].media.clone().expect("a media delivery");
    assert_eq!(media.kind, MediaKind::Document);
    assert_eq!((media.file_name.as_str(), media.mime.as_str()), ("invoice 42.pdf", "application/pdf"));
    assert_eq!((media.size, media.sha256), (pdf_bytes.len() as u64, sha256_hex(&pdf_bytes)));

    // And opening the chat again shows both bubbles the same way, picture included
    tab.navigate_to(&world.sim.send_url(phone, "")).unwrap();
    wait_until(
        &tab,
        "the picture shown again",
        &format!("!!document.querySelector({})", js(&css.outgoing_image)),
    );
    delivered_bubbles(&tab, &css, 2);
    assert_eq!(bubbles(&tab, &css), shown);
    let image = format!("document.querySelector({})", js(&css.outgoing_image));
    wait_until(&tab, "the picture decoded", &format!("{image}.complete && {image}.naturalWidth > 0"));
    assert_eq!(
        eval(&tab, &format!("{image}.naturalWidth")),
        Some(Value::from(4)),
        "the very picture sent, from the server"
    );
    assert_eq!(world.sim.deliveries().len(), 2);
}

#[test]
fn a_non_image_through_photos_and_videos_or_a_file_over_its_limit_shows_a_popup_and_sends_nothing() {
    let _serial = serial();
    let limits = MediaLimits { image_max_bytes: 64, document_max_bytes: 1024 };
    let world = TestWorld::start(SimConfig { media_limits: limits, ..SimConfig::for_tests() });
    let css = world.sim.css();
    let chrome = world.launch("main");
    let tab = chrome.tab();
    world.open_and_link(&tab, ACCOUNT);
    let notes = file(&world, "notes.txt", b"not a picture");
    let photo = file(&world, "photo.png", &PNG);
    let big = file(&world, "big.pdf", &[b'%'; 2048]);
    let small = file(&world, "small.pdf", &pdf());
    tab.navigate_to(&world.sim.send_url("15551240003", "")).unwrap();
    wait_for(&tab, &css.composer);
    intercept_file_inputs(&tab);

    for (item, path, text) in [
        (&css.attach_photos_item, &notes, "The file you tried adding is not supported."),
        (&css.attach_photos_item, &photo, "The file you tried adding is larger than the 64 B limit."),
        (&css.attach_document_item, &big, "The file you tried adding is larger than the 1 kB limit."),
    ] {
        // When a file that does not fit is picked
        attach(&tab, &css, item, path);

        // Then a popup says why, no editor opens, and OK closes it
        wait_for(&tab, &css.popup);
        wait_for_text(&tab, text);
        assert!(!exists(&tab, &css.media_caption));
        click_xpath(&tab, &css.popup_ok_button_xpath);
        wait_until(&tab, "popup closed", &format!("!document.querySelector({})", js(&css.popup)));
    }

    // And a file that fits, discarded with the editor's close control, is not sent either
    attach(&tab, &css, &css.attach_document_item, &small);
    wait_for(&tab, &css.media_caption);
    click(&tab, &css.media_close_button);
    wait_until(&tab, "editor closed", &format!("!document.querySelector({})", js(&css.media_caption)));
    assert!(exists(&tab, &css.composer), "the chat is still open");
    assert!(!exists(&tab, &css.outgoing_message));
    assert!(world.sim.deliveries().is_empty());
}

#[test]
fn the_media_api_refuses_files_that_do_not_fit_and_plays_send_faults_as_for_a_text() {
    let limits = MediaLimits { image_max_bytes: 100, document_max_bytes: 1000 };
    let world = TestWorld::start(SimConfig { media_limits: limits, ..SimConfig::for_tests() });
    let sim = &world.sim;
    let page = linked_page(&world, ACCOUNT);
    let send = |id: &str, kind: &str, mime: &str, bytes: &[u8]| {
        use base64::Engine as _;
        let data = base64::engine::general_purpose::STANDARD.encode(bytes);
        let body = serde_json::json!({
            "page": page, "to": "15557780001", "caption": "Look", "id": id,
            "kind": kind, "file_name": "f", "mime": mime, "data": data,
        });
        http_with_timeout(sim, "POST", "/api/send-media", Some(&body.to_string()), Duration::from_millis(500))
    };

    // A picture is acknowledged and recorded once, however often it is resent
    let (status, body) = send("m1", "image", "image/png", &PNG).unwrap();
    assert_eq!((status, json(&body)["id"].clone()), (200, Value::from("m1")));
    assert_eq!(send("m1", "image", "image/png", &PNG).unwrap().0, 200);
    assert_eq!(sim.deliveries().len(), 1);

    // What does not fit is refused: not an image, over the limit, empty, not base64
    assert_eq!(send("m2", "image", "text/plain", b"hello").unwrap().0, 415);
    assert_eq!(send("m3", "image", "image/png", &[0; 101]).unwrap().0, 413);
    assert_eq!(send("m4", "document", "application/pdf", &[0; 1001]).unwrap().0, 413);
    assert_eq!(send("m5", "document", "application/pdf", b"").unwrap().0, 400);
    let body = serde_json::json!({
        "page": page, "to": "15557780001", "id": "m6", "kind": "document", "file_name": "f", "data": "***",
    });
    assert_eq!(http(sim, "POST", "/api/send-media", Some(&body.to_string())).0, 400);
    assert_eq!(sim.deliveries().len(), 1);

    // Send faults play as for a text: dropped before delivery records nothing, no ack never answers
    sim.fail_next(Fault::DropBeforeDelivery).unwrap();
    let cut_short = send("m7", "document", "application/pdf", b"%PDF");
    assert!(cut_short.is_none_or(|(_, body)| serde_json::from_str::<Value>(&body).is_err()));
    sim.fail_next(Fault::NoAck).unwrap();
    assert_eq!(send("m8", "document", "", b"%PDF"), None, "no answer at all");
    let ids: Vec<String> = sim.deliveries().into_iter().map(|d| d.id).collect();
    assert_eq!(ids, ["m1", "m8"]);
    assert_eq!(sim.deliveries()[1].media.as_ref().unwrap().mime, "");

    // A number not on WhatsApp is refused
    sim.mark_not_on_whatsapp("15557780002").unwrap();
    let body = serde_json::json!({
        "page": page, "to": "15557780002", "id": "m9", "kind": "document", "file_name": "f", "data": "JVBERg==",
    });
    assert_eq!(http(sim, "POST", "/api/send-media", Some(&body.to_string())).0, 404);
    assert_eq!(sim.deliveries().len(), 2);
}
