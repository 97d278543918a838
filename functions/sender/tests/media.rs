//! A campaign's file in the sender: fetched from the campaign's own copy once per batch and sent
//! with the rendered text as its caption; a file gone from the bucket or refused by WhatsApp Web
//! ends the row FAILED with its code, nothing sent.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod helpers;

use campaign_store::CampaignStore;
use domain::{ErrorCode, Media, MediaId, MediaKind, MessageSeq, MessageStatus};
use helpers::{records, world};

const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

fn flyer() -> Media {
    Media {
        id: MediaId::generate(7),
        kind: MediaKind::Document,
        mime: "application/pdf".into(),
        size: PDF.len() as u64,
        file_name: "Spring offer.pdf".into(),
    }
}

#[tokio::test]
async fn each_recipient_gets_the_campaigns_file_with_their_text_as_its_caption() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign_with_media(2, &flyer(), PDF).await;
    assert!(w.run(records(&id, 2)).await.is_empty());
    let script = w.script.lock().unwrap();
    assert_eq!(
        script.delivered,
        vec![
            ("+4915112345600".to_string(), "Hi R0".to_string()),
            ("+4915112345601".to_string(), "Hi R1".to_string())
        ]
    );
    let files: Vec<(&str, &str, &[u8])> =
        script.delivered_files.iter().map(|(p, n, b)| (p.as_str(), n.as_str(), b.as_slice())).collect();
    assert_eq!(
        files,
        vec![("+4915112345600", "Spring offer.pdf", PDF), ("+4915112345601", "Spring offer.pdf", PDF)],
        "the file under the name it was accepted with"
    );
}

#[tokio::test]
async fn a_file_gone_from_the_bucket_fails_the_row_with_media_missing_and_sends_nothing() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign_with_media(1, &flyer(), PDF).await;
    w.media.remove(&media_store::keys::campaign_copy(&id, &flyer().id));
    assert!(w.run(records(&id, 1)).await.is_empty(), "acknowledged: no retry brings it back");
    assert!(w.delivered().is_empty());
    let row = w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap();
    assert_eq!((row.status, row.error), (MessageStatus::Failed, Some(ErrorCode::MediaMissing)));
}

#[tokio::test]
async fn a_file_whatsapp_web_refuses_fails_the_row_with_media_refused() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign_with_media(1, &flyer(), PDF).await;
    w.script.lock().unwrap().refuse_files = true;
    assert!(w.run(records(&id, 1)).await.is_empty());
    assert!(w.delivered().is_empty());
    let row = w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap();
    assert_eq!((row.status, row.error), (MessageStatus::Failed, Some(ErrorCode::MediaRefused)));
    assert!(!ErrorCode::MediaRefused.is_retryable());
}

#[tokio::test]
async fn a_file_message_that_went_out_before_a_crash_is_found_in_the_chat_and_not_sent_again() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign_with_media(1, &flyer(), PDF).await;
    // The click went out, then the browser died before the ack was seen;
    w.script.lock().unwrap().next.push_back(sender::browser::SendOutcome::Crashed("gone".into()));
    w.script.lock().unwrap().delivered.push(("+4915112345600".into(), "Hi R0".into()));
    assert!(w.run(records(&id, 1)).await.is_empty());
    // the relaunched browser looks in the chat first and records SENT without a second send.
    let row = w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap();
    assert_eq!(row.status, MessageStatus::Sent);
    assert_eq!(w.delivered().len(), 1, "sent once");
}

#[tokio::test]
async fn a_file_is_fetched_once_and_kept_for_the_instances_later_batches() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign_with_media(3, &flyer(), PDF).await;
    assert!(w.run(records(&id, 2)).await.is_empty());
    assert!(w.run(vec![helpers::record("m-2", "shop", &helpers::body(&id, 2))]).await.is_empty());
    assert_eq!(w.delivered().len(), 3);
    assert_eq!(w.media.fetches(), 1, "one fetch for three messages in two batches");
}

#[tokio::test]
async fn kept_files_stay_within_their_budget_the_least_recently_used_going_first() {
    let store = std::sync::Arc::new(media_store::InMemoryMediaStore::default());
    let root = tempfile::tempdir().unwrap();
    let files =
        sender::media_files::MediaFiles::new(store.clone(), root.path().to_path_buf(), 2 * PDF.len() as u64);
    let campaign = domain::CampaignId::parse("c-1").unwrap();
    let shop = domain::AccountId::parse("shop").unwrap();
    let mut media = Vec::new();
    for n in 0..3u128 {
        let m = Media { id: MediaId::generate(n), ..flyer() };
        store.upload(&shop, &m.id, PDF);
        let etag = media_store::MediaStore::inspect(&*store, &shop, &m.id).await.unwrap().unwrap().etag;
        media_store::MediaStore::adopt(&*store, &shop, &m.id, &etag, &campaign).await.unwrap();
        media.push(m);
    }
    for m in &media {
        assert!(matches!(files.get(&campaign, m).await.unwrap(), sender::media_files::Fetched::Ready(_)));
    }
    assert_eq!(files.kept_bytes().await, 2 * PDF.len() as u64, "two fit, the first went");
    assert_eq!(store.fetches(), 3);
    files.get(&campaign, &media[2]).await.unwrap();
    assert_eq!(store.fetches(), 3, "the latest is kept");
    files.get(&campaign, &media[0]).await.unwrap();
    assert_eq!(store.fetches(), 4, "the first was let go and is fetched again");
    let dirs = std::fs::read_dir(root.path()).unwrap().count();
    assert_eq!(dirs, 2, "a file let go leaves nothing behind");
}
