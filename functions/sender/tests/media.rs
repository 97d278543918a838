//! A campaign's file in the sender: fetched from the campaign's own copy once per batch and sent
//! with the rendered text as its caption; a file gone from the bucket or refused by WhatsApp Web
//! ends the row FAILED with its code, nothing sent; a bucket that fails is tried again within
//! the row's tries; a chat is looked in before the file is fetched.
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
    {
        let mut script = w.script.lock().unwrap();
        script.delivered.push(("+4915112345600".into(), "Hi R0".into()));
        script.delivered_files.push(("+4915112345600".into(), "Spring offer.pdf".into(), PDF.to_vec()));
    }
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

#[tokio::test]
async fn a_bucket_that_keeps_failing_gives_the_record_back_until_the_last_try_ends_it_media_unavailable() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign_with_media(1, &flyer(), PDF).await;
    w.media.set_unavailable(true);
    // Each try gives the record back under its claim (the next one looks in the chat first)
    for try_no in 1..=2 {
        assert_eq!(w.run(records(&id, 1)).await.len(), 1, "try {try_no} gives the record back");
        let row = w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap();
        assert_eq!(row.status, MessageStatus::Sending, "try {try_no}");
        *w.now.lock().unwrap() += 61;
    }
    // and the last one ends the row, retryable, nothing having gone out.
    assert!(w.run(records(&id, 1)).await.is_empty());
    let row = w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap();
    assert_eq!((row.status, row.error), (MessageStatus::Failed, Some(ErrorCode::MediaUnavailable)));
    assert!(ErrorCode::MediaUnavailable.is_retryable());
    assert!(w.delivered().is_empty());
    assert_eq!(
        w.script.lock().unwrap().looked.len(),
        2,
        "the second and third tries looked in the chat first"
    );
}

#[tokio::test]
async fn an_earlier_attempt_is_looked_for_in_the_chat_before_the_file_is_fetched() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign_with_media(1, &flyer(), PDF).await;
    // The first try's click went out with the file, then the process died before SENT was
    // written (the row is left SENDING under its claim);
    w.script.lock().unwrap().next.push_back(sender::browser::SendOutcome::Uncertain(ErrorCode::SendTimeout));
    assert_eq!(w.run(records(&id, 1)).await.len(), 1);
    assert_eq!(w.delivered().len(), 1);
    // since then the campaign's file is gone from the bucket:
    w.media.remove(&media_store::keys::campaign_copy(&id, &flyer().id));
    *w.now.lock().unwrap() += 61;
    assert!(w.run(records(&id, 1)).await.is_empty());
    // the look finds the message with its file, so the row is SENT, not failed for a file it
    // no longer needs.
    let row = w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap();
    assert_eq!(row.status, MessageStatus::Sent);
    assert_eq!(w.delivered().len(), 1, "sent once");
    assert_eq!(w.script.lock().unwrap().looked, vec![("+4915112345600".to_string(), true)]);
}

#[test]
fn a_file_name_that_would_leave_its_directory_is_written_under_the_files_id() {
    let safe = flyer();
    assert_eq!(sender::media_files::disk_name(&safe), "Spring offer.pdf");
    for bad in ["../../etc/passwd", "/tmp/x.pdf", "", ".hidden.pdf"] {
        let media = Media { file_name: bad.into(), ..flyer() };
        assert_eq!(sender::media_files::disk_name(&media), format!("{}.pdf", media.id), "{bad:?}");
    }
}
