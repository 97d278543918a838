//! `S3ProfileStore` against the local AWS (`make local-up`): round trips, corruption,
//! encryption, concurrent writers, retention, promotion and marking generations bad.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

use helpers::{MARKER, TestWorld, kept, tree};
use session_store::{GenerationState, ProfileKey, ProfileStore, SessionPointers, SessionStoreError};
use std::collections::BTreeSet;
use std::sync::Arc;
use time::OffsetDateTime;

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or("")
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn a_snapshot_restores_the_login_files_byte_for_byte_without_caches_or_locks() {
    // Given a profile with login files, caches, logs and stale Singleton* symlinks
    let world = TestWorld::new().await;
    let store = world.store(world.config());
    let profile = world.profile("live", "gen-1");
    let original = tree(&profile);
    let expected = kept(&original);
    assert!(expected.len() >= 12, "fixture should have the login files: {:?}", expected.keys());
    assert!(original.keys().any(|k| k.starts_with("Default/Cache/")));

    // When it is backed up and restored
    let out = store.backup(&world.account, &profile, GenerationState::Ready).await.unwrap();
    assert!(out.current);
    assert!(
        out.generation.key.starts_with("profiles/shop.main/") && out.generation.key.ends_with(".tar.zst")
    );
    let restored = store.restore(&world.account, None).await.unwrap();

    // Then the restored dir holds exactly the kept files, identical, and nothing else
    let got = tree(restored.path());
    assert_eq!(got.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
    for (k, v) in &expected {
        assert!(got[k] == *v, "{k} differs after restore");
    }
    assert!(!got.keys().any(|k| k.contains("Singleton") || k.contains("Cache") || k.ends_with("debug.log")));
    assert_eq!(restored.generation().map(|g| g.id.clone()), Some(out.generation.id.clone()));

    // And the object is small next to the profile, and the pointer has the shape campaign_store reads
    let total: usize = original.values().map(Vec::len).sum();
    assert!(out.generation.size < (total / 10) as u64, "{} vs {total}", out.generation.size);
    let item = world
        .dynamo
        .get_item()
        .table_name(&world.table)
        .set_key(Some(table_layout::codec::key_item(&table_layout::keys::session(&world.account))))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(item["state"].as_s().unwrap(), "READY");
    assert_eq!(item["current_key"].as_s().unwrap(), &out.generation.key);
    assert_eq!(item["version"].as_n().unwrap(), "1");
    assert_eq!(item["sha256"].as_s().unwrap(), &out.generation.sha256);
    assert!(item.contains_key("last_backup"));

    // And dropping the guard deletes the directory
    let path = restored.path().to_path_buf();
    drop(restored);
    assert!(!path.exists());
}

#[tokio::test]
async fn a_flipped_byte_in_s3_is_reported_corrupt_and_nothing_is_unpacked() {
    let world = TestWorld::new().await;
    let store = world.store(world.config());
    let out = store.backup(&world.account, &world.profile("p", "x"), GenerationState::Ready).await.unwrap();
    let mut bytes = world.object(&out.generation.key).await;
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    world.overwrite(&out.generation.key, bytes).await;

    let err = store.restore(&world.account, None).await.unwrap_err();

    // Refused by the checksum, before any decompression or unpacking
    assert!(matches!(&err, SessionStoreError::Corrupt(m) if m.contains("checksum")), "{err}");
    assert_eq!(err.code(), "PROFILE_CORRUPT");
    assert_eq!(world.restore_root_entries(), 0, "a restore dir was created for corrupt bytes");
}

#[tokio::test]
async fn with_encryption_no_plaintext_is_stored_and_a_wrong_key_is_refused() {
    let world = TestWorld::new().await;
    let mut config = world.config();
    config.key = Some(ProfileKey::from_bytes([0x11; 32]));
    let store = world.store(config.clone());
    let out = store.backup(&world.account, &world.profile("p", "enc"), GenerationState::Ready).await.unwrap();
    assert!(out.generation.encrypted && out.generation.key.ends_with(".tar.zst.enc"));

    // The stored object never shows the marker, compressed or not
    let stored = world.object(&out.generation.key).await;
    assert!(!contains(&stored, MARKER.as_bytes()));
    assert!(zstd::decode_all(stored.as_slice()).is_err(), "stored object must not be a plain zstd stream");

    // The right key restores; a wrong key or no key is a configuration error (never "corrupt":
    // nothing is marked bad) and unpacks nothing
    let restored = store.restore(&world.account, None).await.unwrap();
    let log = restored.path().join("Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb/000003.log");
    assert!(text(&std::fs::read(log).unwrap()).contains(MARKER));
    drop(restored);
    let mut wrong = config.clone();
    wrong.key = Some(ProfileKey::from_bytes([0x22; 32]));
    let err = world.store(wrong).restore(&world.account, None).await.unwrap_err();
    let sealing = ProfileKey::from_bytes([0x11; 32]).sealing_key_id();
    assert!(
        matches!(&err, SessionStoreError::KeyMissing(m) if m.contains("PROFILE_ENCRYPTION_KEY") && m.contains(&sealing)),
        "{err}"
    );
    let mut none = config;
    none.key = None;
    let err = world.store(none).restore(&world.account, None).await.unwrap_err();
    assert_eq!(err.code(), "PROFILE_KEY_MISSING", "{err}");
    assert_eq!(world.restore_root_entries(), 0);
}

#[tokio::test]
async fn after_a_key_rotation_generations_sealed_with_the_old_key_still_restore_and_none_is_marked_bad() {
    let world = TestWorld::new().await;
    let mut old = world.config();
    old.key = Some(ProfileKey::from_bytes([0x31; 32]));
    let first = world
        .store(old.clone())
        .backup(&world.account, &world.profile("p1", "sealed-with-old"), GenerationState::Ready)
        .await
        .unwrap();

    // Rotated: the new key seals, the old one stays configured after it.
    let mut rotated = old.clone();
    rotated.key = old.key.clone().map(|k| k.rotated_to([0x32; 32]));
    let store = world.store(rotated.clone());
    let restored = store.restore(&world.account, Some(&first.generation.id)).await.unwrap();
    drop(restored);
    let second = store
        .backup(&world.account, &world.profile("p2", "sealed-with-new"), GenerationState::Ready)
        .await
        .unwrap();
    assert!(store.restore(&world.account, None).await.is_ok());
    assert!(store.restore(&world.account, Some(&first.generation.id)).await.is_ok());

    // The old key alone cannot open the new generation: a configuration error naming the key,
    // and nothing is marked bad by it.
    let err = world.store(old).restore(&world.account, Some(&second.generation.id)).await.unwrap_err();
    assert_eq!(err.code(), "PROFILE_KEY_MISSING", "{err}");
    let generations = store.list(&world.account).await.unwrap();
    assert!(generations.iter().all(|g| !g.bad), "{generations:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_writers_both_keep_their_generations_and_the_pointer_ends_on_the_later() {
    let world = TestWorld::new().await;
    let a = world.store(world.config());
    let b = world.store(world.config());
    let (pa, pb) = (world.profile("a", "writer-a"), world.profile("b", "writer-b"));

    let (ra, rb) = tokio::join!(
        a.backup(&world.account, &pa, GenerationState::Ready),
        b.backup(&world.account, &pb, GenerationState::Ready)
    );

    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_ne!(ra.generation.id, rb.generation.id);
    assert!(world.exists(&ra.generation.key).await && world.exists(&rb.generation.key).await);
    let later = if ra.generation.id > rb.generation.id { &ra } else { &rb };
    assert!(later.current);
    let pointer = a.pointer(&world.account).await.unwrap().unwrap();
    assert_eq!(pointer.current.as_ref(), Some(&later.generation.id));
    assert_eq!(pointer.current_key.as_deref(), Some(later.generation.key.as_str()));
    assert!(pointer.version >= 1 && pointer.version <= 2);
    assert_eq!(a.list(&world.account).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_stale_writer_never_moves_the_pointer_backwards() {
    let world = TestWorld::new().await;
    let fresh = world.store(world.config());
    let past = OffsetDateTime::now_utc() - time::Duration::hours(1);
    let stale = world.store(world.config()).with_clock(Arc::new(move || past));

    let newer =
        fresh.backup(&world.account, &world.profile("n", "new"), GenerationState::Ready).await.unwrap();
    let older =
        stale.backup(&world.account, &world.profile("o", "old"), GenerationState::Ready).await.unwrap();

    assert!(older.generation.id < newer.generation.id);
    assert!(!older.current, "an older generation must not become current");
    assert!(world.exists(&older.generation.key).await, "the stale writer's generation is still kept");
    let pointer = fresh.pointer(&world.account).await.unwrap().unwrap();
    assert_eq!(pointer.current, Some(newer.generation.id));
    assert_eq!(pointer.version, 1);
}

#[tokio::test]
async fn retention_keeps_exactly_n_plus_the_current_and_the_newest_good() {
    // Given five generations (only the second READY) and the pointer promoted back to the first
    let world = TestWorld::new().await;
    let store = world.store(world.config());
    let profile = world.profile("p", "r");
    let states = [
        GenerationState::Unknown,
        GenerationState::Ready,
        GenerationState::Unknown,
        GenerationState::NeedsQr,
        GenerationState::Unknown,
    ];
    let mut gens = Vec::new();
    for s in states {
        gens.push(store.backup(&world.account, &profile, s).await.unwrap().generation);
    }
    store.promote(&world.account, &gens[0].id, None).await.unwrap();

    // When retention runs with keep = 2
    let mut tight = world.config();
    tight.keep = 2;
    let deleted = world.store(tight).prune(&world.account).await.unwrap();

    // Then the newest two, the current one and the newest good one remain; only the third goes
    assert_eq!(deleted, vec![gens[2].id.clone()]);
    let left: BTreeSet<_> = store.list(&world.account).await.unwrap().into_iter().map(|g| g.id).collect();
    let want: BTreeSet<_> = [0, 1, 3, 4].iter().map(|i| gens[*i].id.clone()).collect();
    assert_eq!(left, want);
    assert!(!world.exists(&gens[2].key).await);
    for i in [0, 1, 3, 4] {
        assert!(world.exists(&gens[i].key).await, "generation {i} object was deleted");
    }

    // And a backup prunes on its own (keep = 2 again): newest two + current(new) + good
    let mut tight = world.config();
    tight.keep = 2;
    let out = world.store(tight).backup(&world.account, &profile, GenerationState::Unknown).await.unwrap();
    let left: Vec<_> = store.list(&world.account).await.unwrap().into_iter().map(|g| g.id).collect();
    assert_eq!(left, vec![out.generation.id, gens[4].id.clone(), gens[1].id.clone()]);
}

#[tokio::test]
async fn promoting_an_older_generation_makes_it_current_and_restorable() {
    let world = TestWorld::new().await;
    let store = world.store(world.config());
    let one = store.backup(&world.account, &world.profile("1", "one"), GenerationState::Ready).await.unwrap();
    let two =
        store.backup(&world.account, &world.profile("2", "two"), GenerationState::NeedsQr).await.unwrap();
    assert_eq!(
        store.pointer(&world.account).await.unwrap().unwrap().current,
        Some(two.generation.id.clone())
    );

    let pointer = store.promote(&world.account, &one.generation.id, None).await.unwrap();

    assert_eq!(pointer.current, Some(one.generation.id.clone()));
    assert_eq!(pointer.current_key.as_deref(), Some(one.generation.key.as_str()));
    assert_eq!(pointer.version, 3);
    let restored = store.restore(&world.account, None).await.unwrap();
    assert_eq!(text(&std::fs::read(restored.path().join("Local State")).unwrap()), "{\"profile\":\"one\"}");
    let explicit = store.restore(&world.account, Some(&two.generation.id)).await.unwrap();
    assert_eq!(text(&std::fs::read(explicit.path().join("Local State")).unwrap()), "{\"profile\":\"two\"}");
    let missing = session_store::GenerationId::new(1, 1);
    assert_eq!(store.promote(&world.account, &missing, None).await.unwrap_err().code(), "PROFILE_NOT_FOUND");
}

#[tokio::test]
async fn a_promote_from_a_pointer_read_before_a_new_link_is_refused_and_the_new_link_stays_current() {
    let world = TestWorld::new().await;
    let store = world.store(world.config());
    let old = store.backup(&world.account, &world.profile("1", "old"), GenerationState::Ready).await.unwrap();
    let tried =
        store.backup(&world.account, &world.profile("2", "tried"), GenerationState::NeedsQr).await.unwrap();
    // Given a sender that read the pointer (at the generation it then found needing the QR),
    let seen = store.pointer(&world.account).await.unwrap().unwrap().version;
    assert_eq!(tried.generation.id, store.pointer(&world.account).await.unwrap().unwrap().current.unwrap());
    // and a setup that links a new device meanwhile,
    let linked =
        store.backup(&world.account, &world.profile("3", "linked"), GenerationState::Ready).await.unwrap();
    // the sender's promote of the older generation that still logs in is refused,
    let refused = store.promote(&world.account, &old.generation.id, Some(seen)).await.unwrap_err();
    assert_eq!(refused.code(), "PROFILE_CONFLICT");
    // and the new link stays current.
    assert_eq!(store.pointer(&world.account).await.unwrap().unwrap().current, Some(linked.generation.id));
}

#[tokio::test]
async fn marking_bad_and_recording_state_show_in_the_newest_first_listing() {
    let world = TestWorld::new().await;
    let store = world.store(world.config());
    let profile = world.profile("p", "m");
    let first = store.backup(&world.account, &profile, GenerationState::Ready).await.unwrap().generation;
    let second = store.backup(&world.account, &profile, GenerationState::Unknown).await.unwrap().generation;

    store.mark_bad(&world.account, &first.id).await.unwrap();
    store.record_state(&world.account, &second.id, GenerationState::NeedsQr).await.unwrap();
    store.set_session_state(&world.account, domain::SessionHealth::Expired).await.unwrap();

    let list = store.list(&world.account).await.unwrap();
    assert_eq!(list.iter().map(|g| &g.id).collect::<Vec<_>>(), vec![&second.id, &first.id]);
    assert!(list[1].bad && !list[0].bad);
    assert_eq!(list[0].state, GenerationState::NeedsQr);
    assert_eq!(list[1].state, GenerationState::Ready);
    assert!(list.iter().all(|g| g.size > 0 && g.sha256.len() == 64));
    assert!(list[0].created >= list[1].created);
    // A generation stored from a working session logged in when it was stored; one never seen
    // working has no login, until a check shows its chat list.
    assert_eq!(list[1].last_ready, Some(first.created));
    assert_eq!(list[0].last_ready, None);
    store.record_state(&world.account, &second.id, GenerationState::Ready).await.unwrap();
    let checked = store.inspect(&world.account, &second.id).await.unwrap();
    assert!(checked.last_ready.is_some_and(|at| at >= second.created), "{checked:?}");
    assert_eq!(store.inspect(&world.account, &first.id).await.unwrap(), list[1]);
    let pointer = store.pointer(&world.account).await.unwrap().unwrap();
    assert_eq!(pointer.state, domain::SessionHealth::Expired);
    assert!(pointer.last_check.is_some());
    let missing = session_store::GenerationId::new(2, 2);
    assert_eq!(store.mark_bad(&world.account, &missing).await.unwrap_err().code(), "PROFILE_NOT_FOUND");
    // The link's time is recorded once setup linked a device, kept across later moves.
    assert_eq!(pointer.linked_at, None);
    store.record_linked(&world.account).await.unwrap();
    let linked_at = store.pointer(&world.account).await.unwrap().unwrap().linked_at;
    assert!(linked_at.is_some());
    store.backup(&world.account, &profile, GenerationState::Ready).await.unwrap();
    assert_eq!(store.pointer(&world.account).await.unwrap().unwrap().linked_at, linked_at);
    let never = domain::AccountId::parse("never-linked").unwrap();
    assert_eq!(store.record_linked(&never).await.unwrap_err().code(), "PROFILE_NOT_FOUND");
    // The account is listed as linked once its pointer moved, for the session keeper.
    let linked = store.linked_accounts(None, 1000).await.unwrap();
    assert!(linked.contains(&world.account), "{linked:?}");
    let after: Vec<_> = store.linked_accounts(Some(&world.account), 1000).await.unwrap();
    assert!(!after.contains(&world.account) && after.iter().all(|a| a.as_str() > world.account.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retention_racing_a_promote_never_leaves_the_pointer_on_a_deleted_generation() {
    let world = TestWorld::new().await;
    let mut roomy = world.config();
    roomy.keep = 10;
    let store = world.store(roomy);
    // Given three generations, of which retention keeping one (besides the current and the newest
    // good one) deletes the oldest,
    let mut ids = Vec::new();
    for tag in ["one", "two", "three"] {
        ids.push(
            store
                .backup(&world.account, &world.profile(tag, tag), GenerationState::Ready)
                .await
                .unwrap()
                .generation
                .id,
        );
    }
    let proxy = aws_proxy::FaultProxy::start(&test_support::endpoint()).unwrap();
    let mut tight = world.config();
    tight.keep = 1;
    let pruning_store = world.store_through(&proxy, tight);
    // when the retention's first write is held at the proxy and a promote of that very generation
    // lands meanwhile,
    proxy.set_plan(aws_proxy::FaultPlan::with_delays(vec![aws_proxy::Delay {
        operations: vec!["TransactWriteItems".into(), "DeleteObject".into()],
        duration: std::time::Duration::from_secs(1),
        budget: Some(1),
    }]));
    let account = world.account.clone();
    let pruning = tokio::spawn(async move { pruning_store.prune(&account).await });
    test_support::eventually("the retention's write to be held", std::time::Duration::from_secs(10), || {
        let holding = proxy.stats().holding;
        async move { (holding > 0).then_some(()) }
    })
    .await;
    store.promote(&world.account, &ids[0], None).await.unwrap();
    pruning.await.unwrap().unwrap();
    // then the pointer names a generation that still exists, and it restores.
    let pointer = store.pointer(&world.account).await.unwrap().unwrap();
    assert_eq!(pointer.current.as_ref(), Some(&ids[0]));
    assert!(store.inspect(&world.account, &ids[0]).await.is_ok(), "the promoted generation was not deleted");
    drop(store.restore(&world.account, None).await.unwrap());
}
