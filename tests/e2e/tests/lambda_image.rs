//! The sender's container image (`make image`) run the way Lambda runs it: its own root
//! filesystem read-only, `/tmp` the only writable place, no `/dev/shm`, Lambda's non-root user
//! without user namespaces, the environment the template gives the image function (as the local
//! AWS resolved it) over the image's own, Lambda's reserved variables, and the Runtime API. It
//! takes a batch of the stack's queue, restores the account's profile (sealed with the key the
//! stack's Secrets Manager secret holds, read at cold start), sends to the simulator, backs up
//! sealed with that key, writes nothing outside `/tmp`, and stays within the function's
//! `MemorySize`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use base64::Engine as _;
use serde_json::json;
use session_store::{ProfileKey, ProfileStore};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;
use test_support::lambda_sandbox::{self, Image};
use test_support::queue::{delete_records, take_records};
use test_support::runtime_api::{Outcome, RuntimeApi};
use test_support::world::{SENDING, profiles, sealed_profiles};
use test_support::{World, delivered, function_configuration, link_account_sealed, numbered, wait_status};
use wa_sim::SimConfig;

const STACK: &str = "wacamp-image";
const MIB: u64 = 1024 * 1024;

/// A secret in the local AWS holding a fresh profile key, as an operator creates it; the key and
/// the secret's ARN.
async fn profile_key_secret() -> (ProfileKey, String) {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    let secrets = aws_sdk_secretsmanager::Client::new(&test_support::sdk_config().await);
    let created = secrets
        .create_secret()
        .name(test_support::unique("wacamp-image-profile-key"))
        .secret_string(base64::engine::general_purpose::STANDARD.encode(bytes))
        .send()
        .await
        .expect("the secret is created in the local AWS");
    (ProfileKey::from_bytes(bytes), created.arn().unwrap().to_owned())
}

fn tail(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sender_image_sends_a_batch_as_lambda_runs_it_writing_only_tmp_within_its_memory() {
    let root = test_support::root();
    let work = tempfile::tempdir().unwrap();
    let layout = root.join(".local/image/oci");
    let unpacked = {
        let dir = work.path().to_path_buf();
        std::thread::spawn(move || lambda_sandbox::unpack(&layout, "sender", &dir))
    };
    let (key, secret_arn) = profile_key_secret().await;
    let secret = format!("ProfileKeySecretArn={secret_arn}");
    let mut params = SENDING.to_vec();
    params.extend([
        "SenderPackaging=Image",
        "SenderImageUri=000000000000.dkr.ecr.us-east-1.amazonaws.com/wacamp-sender:test",
        "SendingEnabled=false",
        "BackupMinIntervalSeconds=0",
        &secret,
    ]);
    let world: &'static World = Box::leak(Box::new(World::start(STACK, SimConfig::for_tests(), &params)));
    let image: Image = unpacked.join().expect("the image unpacks");

    let account = format!("acct-img-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    link_account_sealed(&world.sim, &world.stack, &account, Some(key.clone())).await;
    let account_id = domain::AccountId::parse(&account).unwrap();
    let generations_before = profiles(&world.stack).await.list(&account_id).await.unwrap().len();
    let accepted = test_support::start_campaign(&world.stack, &account, numbered(350_000, 3)).await;
    let campaign = accepted["campaign_id"].as_str().unwrap().to_owned();
    let records = take_records(&world.stack.queue_url, &[campaign.as_str()], 3).await;

    // The environment: the image's, then the function's as the template resolved it, then Lambda's
    // own (the local AWS's Lambda also points the SDK at itself, as here).
    let function = &world.stack.sender_function_name;
    let config = function_configuration(function).await;
    assert_eq!(config["PackageType"], "Image", "the stack runs the sender from its image: {config}");
    let memory_mb = config["MemorySize"].as_u64().expect("MemorySize");
    let timeout = Duration::from_secs(config["Timeout"].as_u64().expect("Timeout"));
    let ephemeral_mb = config["EphemeralStorage"]["Size"].as_u64().unwrap_or(512);
    let api = RuntimeApi::start(function).await;
    let mut env = image.env.clone();
    env.extend(test_support::function_variables(&config));
    assert_eq!(env.get("PROFILE_KEY_SECRET_ARN"), Some(&secret_arn), "the template passes the secret's ARN");
    env.extend(api.lambda_environment(function, memory_mb));
    env.insert("AWS_ENDPOINT_URL".to_owned(), test_support::endpoint());

    let tmp: PathBuf = work.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let log = work.path().join("bootstrap.log");
    let rootfs_before = lambda_sandbox::manifest(&image.rootfs);
    let running = lambda_sandbox::start(&image, &env, &tmp, &log);
    let outcome = api.invoke(json!({ "Records": &records }), timeout).await;
    let peak = running.stop();
    let outcome = outcome.unwrap_or_else(|e| panic!("{e}\nbootstrap log:\n{}", tail(&log)));
    assert_eq!(
        outcome,
        Outcome::Response(json!({"batchItemFailures": []})),
        "the batch succeeded as a whole; bootstrap log:\n{}",
        tail(&log)
    );
    delete_records(&world.stack.queue_url, &records).await;

    // Sent, each once, from the recipients' side; the rows agree.
    let counts = delivered(&world.sim, &account);
    assert_eq!(counts.len(), 3, "every recipient got a message: {counts:?}");
    assert!(counts.values().all(|&c| c == 1), "nobody got a message twice: {counts:?}");
    let status =
        wait_status(&world.stack, &campaign, "the campaign to complete", |s| s["status"] == "COMPLETED")
            .await;
    assert_eq!(status["counts"]["sent"], 3, "{status}");
    // The batch backed the profile up from inside the sandbox, sealed with the secret's key: it
    // opens with that key, and without it the store refuses it as a missing key.
    let generations = profiles(&world.stack).await.list(&account_id).await.unwrap();
    assert!(
        generations.len() > generations_before,
        "a new generation: {generations_before} → {}",
        generations.len()
    );
    assert!(generations.iter().all(|g| g.encrypted), "every generation is sealed: {generations:?}");
    sealed_profiles(&world.stack, Some(key))
        .await
        .restore(&account_id, None)
        .await
        .expect("opens with the key");
    let keyless = profiles(&world.stack).await.restore(&account_id, None).await.map(drop).unwrap_err();
    assert_eq!(keyless.code(), "PROFILE_KEY_MISSING", "{keyless}");
    // Nothing written outside /tmp, /tmp within the ephemeral storage, the tree within MemorySize.
    assert!(lambda_sandbox::manifest(&image.rootfs) == rootfs_before, "the read-only root is unchanged");
    let used = lambda_sandbox::disk_usage(&tmp);
    // Straight to stderr, past the test harness's capture: `make test` shows the measurement.
    let _ = writeln!(
        std::io::stderr(),
        "sender image: peak memory (PSS of the process tree) {} MiB of {memory_mb} MiB; /tmp {} MiB of {ephemeral_mb} MiB",
        peak / MIB,
        used / MIB
    );
    assert!(peak > 0, "the memory of the process tree was sampled");
    assert!(peak <= memory_mb * MIB, "peak memory {} MiB is above MemorySize {memory_mb} MiB", peak / MIB);
    assert!(used <= ephemeral_mb * MIB, "/tmp holds {} MiB, above {ephemeral_mb} MiB", used / MIB);
}
