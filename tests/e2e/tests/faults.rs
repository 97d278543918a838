//! Nothing lost, nothing twice, in a local AWS made as harsh as AWS: every deployed function
//! (real bootstraps in the local AWS) and this test reach DynamoDB, SQS and S3 through the AWS
//! fault proxy, which cancels transactions with conflicts, throttles, answers 5xx and loses
//! replies of writes it applied, and enforces AWS's limits; the sender dies at its crash points;
//! an operator revokes, relinks and resumes one campaign and cancels another while they send.
//! Then the reconciler runs, and the recipients' side (the simulator's delivery record) and the
//! table must agree: each recipient got its message at most once, every row ended SENT, FAILED
//! with a reason, CANCELLED or PAUSED, the counters equal the rows, and both queues are empty.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use aws_proxy::{FaultKind, FaultPlan, Rule};
use domain::{Counters, MessageStatus};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;
use test_support::world::ProxiedWorld;
use test_support::{Stack, World, eventually, link_account, sdk_config};
use wa_sim::SimConfig;

const STACK: &str = "wacamp-faults";
const PER_CAMPAIGN: u32 = 200;

/// The proxy in front of the local AWS, the simulator, and a stack whose functions call AWS
/// through the proxy.
fn world() -> &'static ProxiedWorld {
    static WORLD: OnceLock<ProxiedWorld> = OnceLock::new();
    WORLD.get_or_init(|| {
        World::start_behind_proxy(
            STACK,
            SimConfig::for_tests(),
            &[
                "SenderTimeoutSeconds=60",
                "QueueVisibilityTimeoutSeconds=65",
                "MaxReceiveCount=3",
                "RetryDelaySeconds=1",
                "PaceMinMs=0",
                "PaceMaxMs=0",
                "ClaimLeaseSeconds=8",
                "ReconcileGraceSeconds=20",
                "ReconcileStaleClaimSeconds=30",
                "SenderFailPoints=sender::claimed=return(5);sender::clicked=return(17);sender::recorded=return(29)",
            ],
        )
    })
}

/// Every fault AWS produces under stress, on a share of the calls they apply to.
fn harsh() -> FaultPlan {
    FaultPlan::with_rules(
        vec![
            Rule::new(FaultKind::ReplyLost, 0.06),
            Rule::new(FaultKind::TransactionConflict, 0.3),
            Rule::new(FaultKind::ProvisionedThroughputExceeded, 0.08),
            Rule::new(FaultKind::Throttling, 0.08),
            Rule::new(FaultKind::InternalServerError, 0.08),
            Rule::new(FaultKind::SqsThrottled, 0.4),
            Rule::new(FaultKind::SqsUnavailable, 0.55),
            Rule::new(FaultKind::S3SlowDown, 0.8),
        ],
        0x5eed,
    )
}

fn account(tag: &str) -> String {
    format!("faults-{tag}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])
}

/// A request the API answers with a 5xx or a 409 in progress under faults is simply made again,
/// as a client would (the start with the same `Idempotency-Key`).
async fn call(
    stack: &Stack,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    key: Option<&str>,
) -> Value {
    let http = test_support::http();
    eventually(&format!("{method} {path} to succeed"), Duration::from_secs(180), || {
        let mut req = http.request(method.clone(), format!("{}{path}", stack.http_base_url));
        if let Some(body) = &body {
            req = req.json(body);
        }
        if let Some(key) = key {
            req = req.header("idempotency-key", key);
        }
        async move {
            let resp = req.send().await.ok()?;
            let ok = resp.status().is_success();
            let body: Value = resp.json().await.ok()?;
            ok.then_some(body)
        }
    })
    .await
}

async fn status(stack: &Stack, id: &str) -> Value {
    call(stack, reqwest::Method::GET, &format!("/campaigns/{id}"), None, None).await
}

/// The fault suite's runs are long: a campaign's status is waited on for up to fifteen minutes.
async fn wait_for(stack: &Stack, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    test_support::campaigns::wait_status_within(stack, id, what, Duration::from_secs(900), done).await
}

fn recipients(first: u32) -> Vec<Value> {
    (0..PER_CAMPAIGN)
        .map(|i| json!({"phone": format!("+4915113{:06}", first + i), "vars": {"n": i.to_string()}}))
        .collect()
}

/// Runs the deployed reconciler until one run completes (under faults a run may stop, and the
/// next continues) and returns its report.
async fn reconcile(stack: &Stack) -> Value {
    eventually("a reconciler run to complete", Duration::from_secs(180), || async {
        test_support::try_invoke(&stack.reconciler_function_name, &json!({})).await.ok()
    })
    .await
}

/// The reconciler on its schedule while the senders run (every few seconds instead of minutes),
/// until `stop` says so; returns how many runs completed and how many stopped under the faults
/// (a run that stops is simply continued by the next one).
fn sweeping(
    stack: &'static Stack,
    stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<(u32, u32)> {
    tokio::spawn(async move {
        let (mut done, mut stopped) = (0, 0);
        let mut stop = stop;
        loop {
            match test_support::try_invoke(&stack.reconciler_function_name, &json!({})).await {
                Ok(_) => done += 1,
                Err(_) => stopped += 1,
            }
            let pause = tokio::time::sleep(Duration::from_secs(5));
            tokio::select! {
                () = pause => {}
                _ = stop.changed() => return (done, stopped),
            }
        }
    })
}

/// The rows of a campaign by status, read from the table directly.
/// Every row of campaign `id` as the table holds it: row number, status, error code and the
/// furthest receipt recorded.
async fn rows(stack: &Stack, id: &str) -> Vec<(u32, MessageStatus, Option<String>, Option<domain::Receipt>)> {
    let ddb = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let campaign = domain::CampaignId::parse(id).unwrap();
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = ddb
            .query()
            .table_name(&stack.table_name)
            .key_condition_expression("PK = :pk AND begins_with(SK, :msg)")
            .expression_attribute_values(
                ":pk",
                aws_sdk_dynamodb::types::AttributeValue::S(table_layout::keys::campaign_partition(&campaign)),
            )
            .expression_attribute_values(":msg", aws_sdk_dynamodb::types::AttributeValue::S("MSG#".into()))
            .consistent_read(true)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap();
        for item in page.items() {
            let sk = item["SK"].as_s().unwrap();
            let seq = table_layout::keys::parse_message_sk(sk).unwrap().0;
            let status: MessageStatus = item["status"].as_s().unwrap().parse().unwrap();
            let code = item.get("error_code").and_then(|v| v.as_s().ok()).cloned();
            let receipt = if item.contains_key("read_at") {
                Some(domain::Receipt::Read)
            } else {
                item.contains_key("delivered_at").then_some(domain::Receipt::Delivered)
            };
            out.push((seq, status, code, receipt));
        }
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => break,
        }
    }
    out
}

async fn queue_depth(url: &str) -> u64 {
    use aws_sdk_sqs::types::QueueAttributeName as A;
    let sqs = aws_sdk_sqs::Client::new(&sdk_config().await);
    let out = sqs
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

fn sent(s: &Value) -> u64 {
    s["counts"]["sent"].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_campaigns_under_every_aws_fault_with_crashes_a_relink_a_resume_and_a_cancel_lose_nothing_and_send_nothing_twice()
 {
    let w = world();
    let (stack, sim, proxy) = (&w.world.stack, &w.world.sim, &w.proxy);
    let (a, b) = (account("a"), account("b"));
    link_account(sim, stack, &a).await;
    link_account(sim, stack, &b).await;
    // Given AWS at its harshest, and two campaigns of two hundred whose template holds choices
    // (a retry that picked another alternative would not find its message and send it twice),
    proxy.reset_stats();
    proxy.set_plan(harsh());
    let body = |account: &str, first: u32| json!({"name": "faults", "account": account, "template": "{Hello|Hi|Hey} #{{n}}", "recipients": recipients(first)});
    let key_a = format!("start-{a}");
    let key_b = format!("start-{b}");
    let id_a = call(stack, reqwest::Method::POST, "/campaigns", Some(body(&a, 0)), Some(&key_a)).await["campaign_id"].as_str().unwrap().to_owned();
    let id_b = call(stack, reqwest::Method::POST, "/campaigns", Some(body(&b, 500)), Some(&key_b)).await["campaign_id"].as_str().unwrap().to_owned();
    // with the reconciler sweeping on its schedule all along, racing the senders,
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let sweeper = sweeping(stack, stopped);
    // when account A's phone logs the device out partway, and the operator links it again and
    // resumes (twice, racing the sender),
    wait_for(stack, &id_a, "campaign A to send forty", |s| sent(s) >= 40).await;
    sim.revoke(&a).unwrap();
    wait_for(stack, &id_a, "campaign A to pause", |s| {
        s["status"] == "PAUSED" && s["reason"] == "SESSION_EXPIRED"
    })
    .await;
    link_account(sim, stack, &a).await;
    let resume = format!("/campaigns/{id_a}/resume");
    call(stack, reqwest::Method::POST, &resume, None, None).await;
    call(stack, reqwest::Method::POST, &resume, None, None).await;
    // and campaign B is cancelled while it sends,
    wait_for(stack, &id_b, "campaign B to send sixty", |s| sent(s) >= 60).await;
    let cancelled =
        call(stack, reqwest::Method::POST, &format!("/campaigns/{id_b}/cancel"), None, None).await;
    assert_eq!(cancelled["status"], "CANCELLED");
    let open = |s: &Value| ["queued", "sending"].iter().all(|k| s["counts"][k] == 0);
    wait_for(stack, &id_a, "campaign A to finish", |s| {
        s["status"] == "COMPLETED" || (s["status"] == "PAUSED" && open(s))
    })
    .await;
    wait_for(stack, &id_b, "campaign B's last messages to end", open).await;
    // then the reconciler runs (under the faults, then once more without them),
    stop.send(true).unwrap();
    let (swept, sweeps_stopped) = sweeper.await.unwrap();
    let under_faults = reconcile(stack).await;
    proxy.set_plan(FaultPlan::strict());
    let calm = reconcile(stack).await;
    eventually("the queue and the dead-letter queue to empty", Duration::from_secs(300), || async {
        let empty =
            queue_depth(&stack.queue_url).await == 0 && queue_depth(&stack.dead_letter_queue_url).await == 0;
        if !empty {
            reconcile(stack).await;
        }
        empty.then_some(())
    })
    .await;
    let stats = proxy.stats();
    println!("faults injected by kind:\n{}", stats.table());
    println!(
        "reconciler while sending: {swept} runs, {sweeps_stopped} stopped by faults and continued by the next"
    );
    println!("reconciler under faults: {under_faults}\nreconciler after: {calm}");

    // and every recipient got its message at most once,
    let mut delivered: BTreeMap<String, usize> = BTreeMap::new();
    for d in sim.deliveries().into_iter().filter(|d| d.account == a || d.account == b) {
        *delivered.entry(d.to).or_insert(0) += 1;
    }
    let twice: Vec<_> = delivered.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "recipients who got a message twice: {twice:?}");
    // every accepted row ended SENT, FAILED with a reason, CANCELLED or PAUSED, the table agrees
    // with the recipients, and the counters equal the rows.
    let mut outcome = BTreeMap::new();
    for (id, first) in [(&id_a, 0u32), (&id_b, 500u32)] {
        let rows = rows(stack, id).await;
        assert_eq!(rows.len() as u32, PER_CAMPAIGN);
        let mut statuses = Vec::new();
        let mut receipts = Vec::new();
        for (seq, status, code, receipt) in rows {
            receipts.push(receipt);
            assert!(
                !matches!(status, MessageStatus::Queued | MessageStatus::Sending),
                "row {seq} of {id} is still {status}"
            );
            if status == MessageStatus::Failed {
                assert!(code.is_some(), "row {seq} of {id} FAILED without a reason");
            }
            let phone = format!("4915113{:06}", first + seq);
            let got = delivered.get(&phone).copied().unwrap_or(0);
            if status == MessageStatus::Sent {
                assert_eq!(got, 1, "row {seq} of {id} is SENT: its recipient got it once");
            }
            if matches!(status, MessageStatus::Cancelled) {
                assert_eq!(got, 0, "row {seq} of {id} is CANCELLED and was never sent");
            }
            statuses.push(status);
            *outcome.entry((id.clone(), status.as_str())).or_insert(0u32) += 1;
        }
        let view = status(stack, id).await;
        let mut counted = Counters::of_rows(statuses);
        receipts.into_iter().for_each(|r| counted.add_receipt(r));
        let stored: Counters = serde_json::from_value(view["counts"].clone()).unwrap();
        assert_eq!(stored, counted, "the counters of {id} equal its rows");
    }
    println!("outcome by campaign and status: {outcome:?}");
    assert_eq!(status(stack, &id_a).await["status"], "COMPLETED");
    // And every kind of fault was met at least two hundred times.
    for kind in FaultKind::ALL {
        assert!(
            stats.injected(*kind) >= 200,
            "only {} faults of kind {kind:?}:\n{}",
            stats.injected(*kind),
            stats.table()
        );
    }
}
