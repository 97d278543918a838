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
