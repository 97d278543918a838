//! Benchmark: a failing webhook endpoint never slows sending. The same stack sends campaigns of
//! N messages (the deployed sender through its event source, real Chromium, the simulator),
//! alternately with no webhook and with every event posted to an endpoint that answers 503 to
//! everything (so the delivery function keeps retrying while the campaign sends). Reported:
//! the time from the start to COMPLETED with the failing endpoint against without, the fastest
//! of the rounds of each; and the events the endpoint was sent meanwhile (work that was done).
//!
//! `make build` first; `cargo bench -p e2e --bench webhooks`. `WA_BENCH_MESSAGES` sets N
//! (default 20) and `WA_BENCH_ROUNDS` the rounds of each (default 2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use measure::{Ratio, record};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use test_support::webhooks::Receiver;
use test_support::world::SENDING;
use test_support::{Stack, World, delivered, link_account, numbered, wait_status};
use wa_sim::SimConfig;

const STACK: &str = "wacamp-bench-hooks";

async fn send(stack: &Stack, account: &str, recipients: Vec<Value>, webhook: Option<&str>) -> Duration {
    let mut body =
        json!({"name": "bench", "account": account, "template": "Hello #{{n}}", "recipients": recipients});
    if let Some(url) = webhook {
        body["webhook_url"] = json!(url);
    }
    let started = Instant::now();
    let resp = test_support::http()
        .post(format!("{}/campaigns", stack.http_base_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let id = resp.json::<Value>().await.unwrap()["campaign_id"].as_str().unwrap().to_owned();
    wait_status(stack, &id, "the campaign to complete", |s| s["status"] == "COMPLETED").await;
    started.elapsed()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let per: u32 = std::env::var("WA_BENCH_MESSAGES").ok().and_then(|n| n.parse().ok()).unwrap_or(20).max(1);
    let rounds: u32 = std::env::var("WA_BENCH_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(2).max(1);
    let mut params = SENDING.to_vec();
    params.push("WebhookRetryBaseSeconds=1");
    let world: &'static World = Box::leak(Box::new(World::start(STACK, SimConfig::for_benches(), &params)));
    let receiver = Receiver::start().await;
    let account = format!("bench-hooks-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    link_account(&world.sim, &world.stack, &account).await;
    // A first campaign warms the functions up (cold starts are not what is measured).
    send(&world.stack, &account, numbered(700_000, 2), None).await;

    let (mut without, mut with) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let base = 710_000 + round * 2 * per;
        without.push(send(&world.stack, &account, numbered(base, per), None).await);
        with.push(
            send(&world.stack, &account, numbered(base + per, per), Some(&receiver.url("/refuse/bench")))
                .await,
        );
    }
    let counts = delivered(&world.sim, &account);
    assert!(counts.values().all(|&c| c == 1), "nobody got a message twice");
    let fastest = |d: &[Duration]| d.iter().min().copied().unwrap_or_default().as_secs_f64();
    let tries = receiver.received().len();
    println!(
        "webhooks: {per} messages; to COMPLETED without a webhook {:.1} s, with a failing endpoint {:.1} s ({tries} refused posts meanwhile)",
        fastest(&without),
        fastest(&with)
    );
    assert!(tries > 0, "the failing endpoint was sent events");
    record(
        &Ratio::new(
            "webhooks",
            "campaign time, failing endpoint / no webhook",
            fastest(&with),
            fastest(&without),
            "s",
        )
        .with_goal(1.15),
    );
}
