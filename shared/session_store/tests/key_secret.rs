//! The profile key read from a Secrets Manager secret in the local AWS: a rotated key ring in the
//! secret opens generations sealed with the older key, and a secret that is missing or holds no
//! key is a configuration error naming it (`PROFILE_KEY_MISSING`), never "corrupt".

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

use base64::Engine as _;
use helpers::TestWorld;
use session_store::key_source::read_secret;
use session_store::{GenerationState, ProfileKey, ProfileStore};

const OLD: [u8; 32] = [0x41; 32];
const NEW: [u8; 32] = [0x42; 32];

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn secrets() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&test_support::aws::sdk_config().await)
}

/// Creates a secret with a unique name holding `text`; returns its ARN.
async fn secret_with_string(client: &aws_sdk_secretsmanager::Client, text: &str) -> String {
    let out = client
        .create_secret()
        .name(test_support::aws::unique("wacamp-profile-key"))
        .secret_string(text)
        .send()
        .await
        .expect("create the secret in the local AWS");
    out.arn().expect("the secret's ARN").to_owned()
}

#[tokio::test]
async fn a_rotated_key_ring_read_from_the_secret_opens_generations_sealed_with_the_old_key() {
    let world = TestWorld::new().await;
    let mut before = world.config();
    before.key = Some(ProfileKey::from_bytes(OLD));
    let sealed_with_old = world
        .store(before)
        .backup(&world.account, &world.profile("p1", "sealed-with-old"), GenerationState::Ready)
        .await
        .unwrap();

    // Rotated in the secret: the new key first (it seals), the old one after it (it still opens).
    let client = secrets().await;
    let arn = secret_with_string(&client, &format!("{},{}", b64(&NEW), b64(&OLD))).await;
    let key = read_secret(&client, &arn).await.unwrap();
    assert_eq!(key.sealing_key_id(), ProfileKey::from_bytes(NEW).sealing_key_id());

    let mut after = world.config();
    after.key = Some(key);
    let store = world.store(after);
    store.restore(&world.account, Some(&sealed_with_old.generation.id)).await.unwrap();
    let sealed_with_new = store
        .backup(&world.account, &world.profile("p2", "sealed-with-new"), GenerationState::Ready)
        .await
        .unwrap();
    assert!(sealed_with_new.generation.encrypted);
    store.restore(&world.account, None).await.unwrap();
}

#[tokio::test]
async fn the_32_raw_bytes_of_a_binary_secret_are_the_key() {
    let client = secrets().await;
    let out = client
        .create_secret()
        .name(test_support::aws::unique("wacamp-profile-key"))
        .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(NEW.to_vec()))
        .send()
        .await
        .unwrap();
    let key = read_secret(&client, out.arn().unwrap()).await.unwrap();
    assert_eq!(key.sealing_key_id(), ProfileKey::from_bytes(NEW).sealing_key_id());
}

#[tokio::test]
async fn a_secret_that_does_not_exist_is_a_missing_key_naming_it() {
    let client = secrets().await;
    let arn = format!(
        "arn:aws:secretsmanager:us-east-1:000000000000:secret:{}",
        test_support::aws::unique("wacamp-absent")
    );
    let err = read_secret(&client, &arn).await.unwrap_err();
    assert_eq!(err.code(), "PROFILE_KEY_MISSING", "{err}");
    assert!(err.to_string().contains(&arn), "{err}");
}

#[tokio::test]
async fn a_secret_holding_no_valid_key_is_a_missing_key_naming_it_and_nothing_is_marked_bad() {
    let world = TestWorld::new().await;
    let mut sealed = world.config();
    sealed.key = Some(ProfileKey::from_bytes(OLD));
    let store = world.store(sealed);
    store.backup(&world.account, &world.profile("p1", "sealed"), GenerationState::Ready).await.unwrap();

    let client = secrets().await;
    for text in ["not a key", &b64(&[7; 16])] {
        let arn = secret_with_string(&client, text).await;
        let err = read_secret(&client, &arn).await.unwrap_err();
        assert_eq!(err.code(), "PROFILE_KEY_MISSING", "{text}: {err}");
        assert!(err.to_string().contains(&arn), "{err}");
    }
    let generations = store.list(&world.account).await.unwrap();
    assert!(generations.iter().all(|g| !g.bad), "{generations:?}");
}
