//! The S3 adapter against the local AWS, and through the AWS fault proxy where S3 is harsher
//! than the emulator: a pre-signed upload takes exactly the bytes it was arranged for, a look at
//! it reads its size, name and first bytes, the campaign's copy is taken only of the upload that
//! was looked at, and fetching streams it to a file within its bound — each still once and whole
//! when S3 slows down or a reply is lost.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use aws_proxy::{FaultKind, FaultPlan, FaultProxy, Rule};
use domain::{AccountId, CampaignId, MediaId};
use media_store::{MediaStore, MediaStoreError, S3MediaStore, UploadRequest, keys};
use std::time::Duration;

const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

fn shop() -> AccountId {
    AccountId::parse("shop").unwrap()
}

/// PUTs `bytes` to an arranged upload with its headers; the status.
async fn put(store: &S3MediaStore, id: &MediaId, name: &str, bytes: &[u8]) -> u16 {
    let request = UploadRequest {
        content_type: "application/pdf",
        size: bytes.len() as u64,
        file_name: name,
        sha256: None,
    };
    let upload = store.presign_upload(&shop(), id, &request, Duration::from_secs(300)).await.unwrap();
    let mut put = reqwest::Client::new().put(&upload.url).body(bytes.to_vec());
    for (name, value) in &upload.headers {
        put = put.header(name, value);
    }
    put.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn an_upload_is_looked_at_copied_for_its_campaign_and_fetched_whole() {
    let (client, bucket) = test_support::fresh_bucket("media").await;
    let store = S3MediaStore::new(client.clone(), bucket.clone());
    let id = MediaId::generate(1);
    let campaign = CampaignId::parse("c-media").unwrap();
    assert!(store.inspect(&shop(), &id).await.unwrap().is_none(), "nothing uploaded yet");
    assert_eq!(put(&store, &id, "Frühling offer.pdf", PDF).await, 200);
    let found = store.inspect(&shop(), &id).await.unwrap().unwrap();
    assert_eq!((found.size, found.head.as_slice()), (PDF.len() as u64, PDF));
    assert_eq!(found.file_name.as_deref(), Some("Frühling offer.pdf"), "the name survives as metadata");
    // A copy names the upload it looked at: one uploaded again meanwhile is not taken.
    let stale = store.adopt(&shop(), &id, "\"0000\"", &campaign).await.unwrap_err();
    assert!(matches!(stale, MediaStoreError::Changed(_)), "{stale}");
    store.adopt(&shop(), &id, &found.etag, &campaign).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("offer.pdf");
    assert!(store.fetch(&campaign, &id, &file, 1_000).await.unwrap());
    assert_eq!(std::fs::read(&file).unwrap(), PDF);
    // A fetch past its bound stops and leaves nothing; a missing copy is no file.
    let small = store.fetch(&campaign, &id, &dir.path().join("small.pdf"), 10).await.unwrap_err();
    assert!(matches!(small, MediaStoreError::TooLarge { .. }), "{small}");
    assert!(!dir.path().join("small.pdf").exists());
    let other = CampaignId::parse("c-other").unwrap();
    assert!(!store.fetch(&other, &id, &dir.path().join("none.pdf"), 1_000).await.unwrap());
    // The copy is the campaign's own: the upload's removal does not touch it.
    client.delete_object().bucket(&bucket).key(keys::upload(&shop(), &id)).send().await.unwrap();
    assert!(store.fetch(&campaign, &id, &file, 1_000).await.unwrap());
}

#[tokio::test]
async fn copies_and_fetches_go_through_when_s3_slows_down_and_replies_are_lost() {
    let (client, bucket) = test_support::fresh_bucket("media-faults").await;
    let direct = S3MediaStore::new(client, bucket.clone());
    let proxy = FaultProxy::start(&test_support::endpoint()).unwrap();
    let conf = test_support::aws::sdk_config_at(&proxy.url()).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&conf).force_path_style(true).build(),
    );
    let store = S3MediaStore::new(s3, bucket);
    let mut ids = Vec::new();
    for n in 0..4u128 {
        let id = MediaId::generate(100 + n);
        assert_eq!(put(&direct, &id, "offer.pdf", PDF).await, 200);
        ids.push(id);
    }
    // Given S3 slowing down and every other reply of a copy or a read lost,
    proxy.set_plan(FaultPlan::with_rules(
        vec![
            Rule::new(FaultKind::S3SlowDown, 0.3),
            Rule::new(FaultKind::ReplyLost, 0.5).on(&["CopyObject", "GetObject", "HeadObject"]),
        ],
        29,
    ));
    let dir = tempfile::tempdir().unwrap();
    for (n, id) in ids.iter().enumerate() {
        let campaign = CampaignId::parse(&format!("c-{n}")).unwrap();
        let found = store.inspect(&shop(), id).await.unwrap().unwrap();
        store.adopt(&shop(), id, &found.etag, &campaign).await.unwrap();
        let file = dir.path().join(format!("{n}.pdf"));
        assert!(store.fetch(&campaign, id, &file, 1_000).await.unwrap());
        assert_eq!(std::fs::read(&file).unwrap(), PDF, "whole");
    }
    let stats = proxy.stats();
    assert!(
        stats.injected(FaultKind::ReplyLost) >= 1 && stats.injected(FaultKind::S3SlowDown) >= 1,
        "{}",
        stats.table()
    );
}
