//! A campaign's files at the door: an upload is arranged only for an accepted type and size, and
//! a campaign is accepted only with files that were uploaded, are what their bytes say (a JPEG, a
//! PNG or a PDF) and fit WhatsApp's limits — each refusal a 400 naming the field — after which the
//! campaign holds its own copy of each.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod helpers;

use campaign_store::{CampaignStore, InMemoryCampaignStore, InMemorySendingWindows};
use domain::{AccountId, CampaignId, MediaId, MediaKind, MessageSeq};
use helpers::{body_json, event};
use media_store::InMemoryMediaStore;
use message_queue::InMemoryMessageQueue;
use serde_json::{Value, json};
use start_campaign::{Deps, handle};
use std::sync::Arc;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

struct World {
    deps: Deps,
    store: Arc<InMemoryCampaignStore>,
    media: Arc<InMemoryMediaStore>,
}

fn world() -> World {
    let store = Arc::new(InMemoryCampaignStore::default());
    let media = Arc::new(InMemoryMediaStore::default());
    let deps = Deps {
        store: store.clone(),
        queue: Arc::new(InMemoryMessageQueue::default()),
        sessions: Arc::new(session_store::InMemoryProfileStore::new(session_store::StoreConfig::new(
            "bucket", "table",
        ))),
        windows: Arc::new(InMemorySendingWindows::default()),
        media: media.clone(),
        clock: Arc::new(|| time::macros::datetime!(2027-01-15 08:00:00 UTC)),
        api_key: http_api::ApiKey::for_secret("fixture-key"),
    };
    World { deps, store, media }
}

fn shop() -> AccountId {
    AccountId::parse("shop").unwrap()
}

async fn call(w: &World, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let resp = handle(&w.deps, event(method, path, &body.to_string(), &[])).await.unwrap();
    (resp.status().as_u16(), body_json(resp.body()))
}

/// Arranges an upload of `bytes` as `file_name` of `content_type` and does it; the media id.
async fn uploaded(w: &World, file_name: &str, content_type: &str, bytes: &[u8]) -> String {
    let asked = json!({"file_name": file_name, "content_type": content_type, "size": bytes.len()});
    let (status, body) = call(w, "POST", "/accounts/shop/media", &asked).await;
    assert_eq!(status, 201, "{body}");
    let id = body["media_id"].as_str().unwrap().to_owned();
    w.media.upload(&shop(), &MediaId::parse(&id).unwrap(), bytes);
    id
}

fn campaign(media: Option<&str>, recipients: Value) -> Value {
    json!({"name": "spring", "account": "shop", "template": "Hi {{name}}", "media": media, "recipients": recipients})
}

fn two(own: Option<&str>) -> Value {
    json!([
        {"phone": "+4915112345601", "vars": {"name": "Ana"}},
        {"phone": "+4915112345602", "vars": {"name": "Ben"}, "media": own},
    ])
}

#[tokio::test]
async fn an_upload_is_arranged_for_an_accepted_type_and_size_with_the_headers_it_must_carry() {
    let w = world();
    let asked = json!({"file_name": "offer", "content_type": "application/pdf", "size": 1234});
    let (status, body) = call(&w, "POST", "/accounts/shop/media", &asked).await;
    assert_eq!(status, 201, "{body}");
    assert!(MediaId::parse(body["media_id"].as_str().unwrap()).is_ok(), "{body}");
    assert_eq!(body["upload_headers"]["content-type"], "application/pdf");
    assert_eq!(body["upload_headers"]["content-length"], "1234");
    assert_eq!(body["expires_at"], "2027-01-15T08:15:00Z");
    for (asked, field) in [
        (json!({"file_name": "a.gif", "content_type": "image/gif", "size": 10}), "content_type: "),
        (json!({"file_name": "a.png", "content_type": "image/png", "size": 5 * 1024 * 1024 + 1}), "size: "),
        (json!({"file_name": "a.pdf", "content_type": "application/pdf", "size": 0}), "size: "),
        (json!({"file_name": "../a.pdf", "content_type": "application/pdf", "size": 10}), "file_name: "),
        (json!({"file_name": "a.pdf", "content_type": "application/pdf"}), "body: missing field `size`"),
    ] {
        let (status, body) = call(&w, "POST", "/accounts/shop/media", &asked).await;
        assert_eq!(status, 400, "{asked}: {body}");
        assert!(body["message"].as_str().unwrap().starts_with(field), "{asked}: {body}");
    }
}

#[tokio::test]
async fn a_campaign_with_a_file_holds_its_own_copy_and_each_row_names_its_file() {
    let w = world();
    let flyer = uploaded(&w, "Spring offer.pdf", "application/pdf", PDF).await;
    let photo = uploaded(&w, "shelf.png", "image/png", PNG).await;
    // Given a campaign-wide PDF and one recipient's own picture,
    let (status, body) = call(&w, "POST", "/campaigns", &campaign(Some(&flyer), two(Some(&photo)))).await;
    assert_eq!(status, 202, "{body}");
    let id = CampaignId::parse(body["campaign_id"].as_str().unwrap()).unwrap();
    // then the campaign holds both, as their bytes say, each row its own,
    let view = w.store.campaign(&id).await.unwrap().unwrap();
    let kinds: Vec<(MediaKind, &str, &str)> =
        view.attachments.iter().map(|m| (m.kind, m.mime.as_str(), m.file_name.as_str())).collect();
    assert_eq!(
        kinds,
        vec![
            (MediaKind::Document, "application/pdf", "Spring offer.pdf"),
            (MediaKind::Image, "image/png", "shelf.png")
        ]
    );
    let media_of = |seq| {
        let store = w.store.clone();
        let id = id.clone();
        async move { store.message(&id, MessageSeq(seq)).await.unwrap().unwrap().media.map(|m| m.to_string()) }
    };
    assert_eq!((media_of(0).await, media_of(1).await), (Some(flyer.clone()), Some(photo.clone())));
    // and its own copy of each, which a later upload under the same id cannot change.
    let copy = media_store::keys::campaign_copy(&id, &MediaId::parse(&flyer).unwrap());
    assert_eq!(w.media.object(&copy).unwrap(), PDF);
}

#[tokio::test]
async fn a_file_not_uploaded_or_not_what_is_accepted_is_refused_naming_the_field_that_named_it() {
    let w = world();
    let photo = uploaded(&w, "shelf.png", "image/png", PNG).await;
    // A text file declared as a PNG: its bytes decide.
    let text = uploaded(&w, "notes.png", "image/png", b"just some text, not a picture at all").await;
    let big = uploaded(&w, "huge.pdf", "application/pdf", PDF).await;
    w.media.upload(&shop(), &MediaId::parse(&big).unwrap(), &[PNG, &vec![0u8; 5 * 1024 * 1024]].concat());
    let never = MediaId::generate(42).to_string();
    for (body, field) in [
        (campaign(Some(&never), two(None)), "media: 'm-"),
        (
            campaign(Some(&photo), two(Some(&text))),
            "recipients[1].media: the file is not a JPEG or PNG image or a PDF",
        ),
        (
            campaign(None, two(Some(&big))),
            "recipients[1].media: 5242913 bytes; a JPEG or PNG image may be at most 5242880",
        ),
        (campaign(Some("m-not-an-id"), two(None)), "media: 'm-not-an-id' is not a media id"),
        (campaign(None, two(Some("x"))), "recipients[1].media: 'x' is not a media id"),
    ] {
        let (status, answer) = call(&w, "POST", "/campaigns", &body).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["message"].as_str().unwrap().starts_with(field), "{field}: {answer}");
    }
    assert!(w.store.open_campaigns(None, 10).await.unwrap().is_empty(), "nothing written");
}

#[tokio::test]
async fn a_caption_longer_than_whatsapp_takes_is_refused_naming_the_recipient() {
    let w = world();
    let photo = uploaded(&w, "shelf.png", "image/png", PNG).await;
    let half = "x".repeat(600);
    let body = |media: Option<&str>| {
        json!({"name": "spring", "account": "shop", "template": "{{a}} {{b}}", "media": media,
            "recipients": [{"phone": "+4915112345601", "vars": {"a": half, "b": half}}]})
    };
    let (status, answer) = call(&w, "POST", "/campaigns", &body(Some(&photo))).await;
    assert_eq!(status, 400, "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.starts_with("recipients[0]: the message is 1201 characters; sent with a file"),
        "{answer}"
    );
    let (status, _) = call(&w, "POST", "/campaigns", &body(None)).await;
    assert_eq!(status, 202, "without a file the same text is a message, not a caption");
}

#[tokio::test]
async fn an_upload_named_by_its_hash_gets_the_same_id_each_time_so_a_retried_start_names_the_same_file() {
    let w = world();
    let hash = "9f".repeat(32);
    let asked = json!({"file_name": "a.pdf", "content_type": "application/pdf", "size": 10, "sha256": hash});
    let (status, first) = call(&w, "POST", "/accounts/shop/media", &asked).await;
    assert_eq!(status, 201, "{first}");
    let (_, again) = call(&w, "POST", "/accounts/shop/media", &asked).await;
    assert_eq!(first["media_id"], again["media_id"]);
    let (_, other) = call(&w, "POST", "/accounts/other/media", &asked).await;
    assert_ne!(first["media_id"], other["media_id"], "another account's file is its own");
    let bad = json!({"file_name": "a.pdf", "content_type": "application/pdf", "size": 10, "sha256": "xyz"});
    let (status, answer) = call(&w, "POST", "/accounts/shop/media", &bad).await;
    assert_eq!(status, 400);
    assert!(answer["message"].as_str().unwrap().starts_with("sha256: "), "{answer}");
}
