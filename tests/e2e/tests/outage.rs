//! WhatsApp Web unreachable for longer than the queue's redrive allows: every receive the
//! sender gives back counts toward `MaxReceiveCount` on AWS, so without care a long outage moves
//! the whole batch to the dead-letter queue. Here the outage lasts until every record has been
//! received twice as often as the redrive allows (with the defaults, 30 s retries and five
//! receives, that is three minutes); not one record dead-letters, nothing fails, and when
//! WhatsApp Web is back every recipient gets the message once. The stack reaches SQS through
//! the AWS fault proxy (no faults) to count the sender's calls.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use serde_json::json;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;
use test_support::world::ProxiedWorld;
use test_support::{World, eventually, link_account, sdk_config};
use wa_sim::SimConfig;

const STACK: &str = "wacamp-outage";
const MAX_RECEIVE_COUNT: u64 = 2;
const RECIPIENTS: u64 = 10;

fn world() -> &'static ProxiedWorld {
    static WORLD: OnceLock<ProxiedWorld> = OnceLock::new();
    WORLD.get_or_init(|| {
        let receives = format!("MaxReceiveCount={MAX_RECEIVE_COUNT}");
        World::start_behind_proxy(
            STACK,
            SimConfig::for_tests(),
            &[
                &receives,
                "SenderTimeoutSeconds=60",
                "QueueVisibilityTimeoutSeconds=65",
                "RetryDelaySeconds=2",
                "PaceMinMs=0",
                "PaceMaxMs=0",
            ],
        )
    })
}

async fn depth(url: &str) -> u64 {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let out = aws_sdk_sqs::Client::new(&sdk_config().await)
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::ApproximateNumberOfMessages)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .attribute_names(A::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .unwrap();
    out.attributes().map_or(0, |a| a.values().filter_map(|v| v.parse::<u64>().ok()).sum())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whatsapp_web_unreachable_past_every_receive_the_queue_allows_dead_letters_nothing_and_loses_nothing()
{
    let w = world();
    let (stack, sim, proxy) = (&w.world.stack, &w.world.sim, &w.proxy);
    let account = format!("outage-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    link_account(sim, stack, &account).await;
    // Given WhatsApp Web unreachable, and a campaign of ten,
    sim.set_unreachable(true);
    proxy.reset_stats();
    let recipients: Vec<_> = (0..RECIPIENTS)
        .map(|i| json!({"phone": format!("+4915114{i:06}"), "vars": {"n": i.to_string()}}))
        .collect();
    let started = test_support::http()
        .post(format!("{}/campaigns", stack.http_base_url))
        .json(&json!({"name": "outage", "account": account, "template": "Hello #{{n}}", "recipients": recipients}))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 202);
    let id = started.json::<serde_json::Value>().await.unwrap()["campaign_id"].as_str().unwrap().to_owned();
    // when the outage lasts until every record was issued again twice (each time at the last
    // receive the redrive allows: received 2 × MaxReceiveCount times in all),
    let reissues = || proxy.stats().calls.get("SQS.SendMessageBatch").copied().unwrap_or(0).saturating_sub(1);
    eventually("every record to be issued again twice", Duration::from_secs(600), || async {
        (reissues() >= 2 * RECIPIENTS).then_some(())
    })
    .await;
    // nothing reached the dead-letter queue and no row failed;
    assert_eq!(depth(&stack.dead_letter_queue_url).await, 0, "nothing dead-lettered during the outage");
    let url = format!("{}/campaigns/{id}", stack.http_base_url);
    let during = test_support::get_json(url.clone()).await;
    assert_eq!(during["counts"]["failed"], 0, "{during}");
    assert_eq!(during["counts"]["queued"], RECIPIENTS, "{during}");
    // and once WhatsApp Web is back, every recipient gets the message exactly once.
    sim.set_unreachable(false);
    let done = eventually("the campaign to complete", Duration::from_secs(600), || {
        let url = url.clone();
        async move {
            let s = test_support::get_json(url).await;
            (s["status"] == "COMPLETED").then_some(s)
        }
    })
    .await;
    assert_eq!(done["counts"]["sent"], RECIPIENTS, "{done}");
    let mut delivered: BTreeMap<String, u64> = BTreeMap::new();
    for d in sim.deliveries().into_iter().filter(|d| d.account == account) {
        *delivered.entry(d.to).or_insert(0) += 1;
    }
    assert_eq!(delivered.len() as u64, RECIPIENTS);
    assert!(delivered.values().all(|n| *n == 1), "each once: {delivered:?}");
    eventually("both queues to be empty", Duration::from_secs(120), || async {
        (depth(&stack.queue_url).await == 0 && depth(&stack.dead_letter_queue_url).await == 0).then_some(())
    })
    .await;
}
