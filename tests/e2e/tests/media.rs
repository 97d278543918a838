//! Media end to end, on a stack of its own: `wacamp start --media` with a picture for everyone
//! and a CSV `media` column giving one recipient a PDF instead uploads each file straight to the
//! media bucket (pre-signed, checked there by size, type, name and SHA-256), the campaign checks
//! what each file's bytes are and keeps its own copy, and the sender attaches them in WhatsApp
//! Web with the rendered text as caption: each recipient gets their file once, byte for byte. A
//! file that is not what it claims is refused at the door, naming the field.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;
use test_support::world::SENDING;
use test_support::{World, link_account, wacamp, wait_status};
use wa_sim::SimConfig;

const STACK: &str = "wacamp-media";

/// POSTs `body` as JSON with the test stacks' key; the status and the answer.
async fn post(url: String, body: &Value) -> (u16, Value) {
    let resp = test_support::http().post(&url).json(body).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0,
    0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 0x0d, b'I', b'D', b'A', b'T', 0x78, 0x9c, 0x63, 0,
    1, 0, 0, 5, 0, 1, 0x0d, 0x0a, 0x2d, 0xb4, 0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82,
];

fn pdf() -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    bytes.extend((0..=255u8).cycle().take(20_000));
    bytes.extend(b"\n%%EOF\n");
    bytes
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| World::start(STACK, SimConfig::for_tests(), SENDING))
}

fn account() -> String {
    format!("media-{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

#[tokio::test]
async fn a_picture_for_everyone_and_a_pdf_for_one_recipient_each_arrive_once_with_their_captions() {
    let w = world();
    let account = account();
    link_account(&w.sim, &w.stack, &account).await;
    let dir = tempfile::tempdir().unwrap();
    let (photo, offer) = (dir.path().join("shelf.png"), dir.path().join("offer.pdf"));
    std::fs::write(&photo, PNG).unwrap();
    std::fs::write(&offer, pdf()).unwrap();
    let csv = dir.path().join("list.csv");
    std::fs::write(&csv, "phone,name,media\n+4915112590001,Ana,\n+4915112590002,Ben,offer.pdf\n").unwrap();
    // When the operator starts it with a picture for everyone and Ben's own PDF,
    let csv_arg = csv.display().to_string();
    let photo_arg = photo.display().to_string();
    let args = [
        "start",
        "--csv",
        &csv_arg,
        "--account",
        &account,
        "--template",
        "Hi {{name}}, see what is new",
        "--media",
        &photo_arg,
        "--json",
    ];
    let (ok, out, err) = wacamp(&w.stack, &args);
    assert!(ok, "{out}{err}");
    let accepted: Value = serde_json::from_str(out.trim()).unwrap();
    let id = accepted["campaign_id"].as_str().unwrap().to_owned();
    // then each recipient gets their file once, byte for byte, with their text as its caption,
    let done = wait_status(&w.stack, &id, "the campaign to complete", |s| s["status"] == "COMPLETED").await;
    assert_eq!(done["counts"]["sent"], 2, "{done}");
    let files: Vec<(&str, &str)> = done["media"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["kind"].as_str().unwrap(), m["file_name"].as_str().unwrap()))
        .collect();
    assert_eq!(files, [("image", "shelf.png"), ("document", "offer.pdf")], "{done}");
    let rows = test_support::get_json(format!("{}/campaigns/{id}/messages", w.stack.http_base_url)).await;
    assert_eq!(rows["items"][1]["media_id"], done["media"][1]["id"], "Ben's own file: {rows}");
    let mut got: Vec<(String, String, String, String, String)> = w
        .sim
        .deliveries()
        .into_iter()
        .filter(|d| d.account == account)
        .map(|d| {
            let m = d.media.expect("a file");
            (d.to, d.text, m.kind.as_str().to_owned(), m.file_name, m.sha256)
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "4915112590001".into(),
                "Hi Ana, see what is new".into(),
                "image".into(),
                "shelf.png".into(),
                sha256(PNG)
            ),
            (
                "4915112590002".into(),
                "Hi Ben, see what is new".into(),
                "document".into(),
                "offer.pdf".into(),
                sha256(&pdf())
            ),
        ]
    );
    // and running the same command again names the same files and starts nothing new.
    let (ok, out, err) = wacamp(&w.stack, &args);
    assert!(ok, "{out}{err}");
    let again: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((again["campaign_id"].as_str(), again["replayed"].as_bool()), (Some(id.as_str()), Some(true)));
    assert_eq!(w.sim.deliveries().into_iter().filter(|d| d.account == account).count(), 2);
}

#[tokio::test]
async fn a_file_whose_bytes_are_not_a_picture_is_refused_at_the_door_naming_the_field() {
    let w = world();
    let account = account();
    let base = &w.stack.http_base_url;
    let bytes = b"these bytes are text, whatever the upload declared".to_vec();
    // Given a text file uploaded as a PNG through the arranged, pre-signed upload,
    let asked = json!({"file_name": "notes.png", "content_type": "image/png", "size": bytes.len()});
    let (status, arranged) = post(format!("{base}/accounts/{account}/media"), &asked).await;
    assert_eq!(status, 201, "{arranged}");
    let mut put = reqwest::Client::new().put(arranged["upload_url"].as_str().unwrap()).body(bytes.clone());
    for (name, value) in arranged["upload_headers"].as_object().unwrap() {
        put = put.header(name.as_str(), value.as_str().unwrap());
    }
    let uploaded = put.send().await.unwrap();
    assert!(uploaded.status().is_success(), "{}", uploaded.text().await.unwrap_or_default());
    // an upload that breaks the signature (other bytes than declared) is refused by the bucket,
    let mut wrong =
        reqwest::Client::new().put(arranged["upload_url"].as_str().unwrap()).body(b"short".to_vec());
    for (name, value) in arranged["upload_headers"].as_object().unwrap() {
        if name != "content-length" {
            wrong = wrong.header(name.as_str(), value.as_str().unwrap());
        }
    }
    assert!(!wrong.send().await.unwrap().status().is_success(), "the signature fixes the size");
    // and one named by its SHA-256 takes only those bytes.
    let pinned = json!({"file_name": "a.pdf", "content_type": "application/pdf", "size": 8, "sha256": sha256(b"%PDF-1.7")});
    let (status, arranged_pinned) = post(format!("{base}/accounts/{account}/media"), &pinned).await;
    assert_eq!(status, 201, "{arranged_pinned}");
    let mut other = reqwest::Client::new()
        .put(arranged_pinned["upload_url"].as_str().unwrap())
        .body(b"%PDF-1.6".to_vec());
    for (name, value) in arranged_pinned["upload_headers"].as_object().unwrap() {
        other = other.header(name.as_str(), value.as_str().unwrap());
    }
    assert!(!other.send().await.unwrap().status().is_success(), "other bytes of the same size are refused");
    // and a campaign naming the text file is refused, nothing written, the field named.
    let body = json!({"name": "n", "account": account, "template": "Hi", "media": arranged["media_id"],
        "recipients": [{"phone": "+4915112590003"}]});
    let (status, refused) = post(format!("{base}/campaigns"), &body).await;
    assert_eq!(status, 400, "{refused}");
    let message = refused["message"].as_str().unwrap();
    assert!(message.starts_with("media: the file is not a JPEG or PNG image or a PDF"), "{refused}");
}
