//! Benchmark: many accounts at once. K = 1, 2 and 4 accounts, each linked to its own simulator
//! account with its own campaign, sent through the local AWS at once the way Lambda runs a FIFO
//! queue: one invocation in flight per message group (account), each its own sender process with
//! its own browser, handed its group's batch over the Runtime API. (The local AWS's own event
//! source runs a FIFO queue's batches one at a time, which would measure the emulator, not the
//! sender.) Reported in one run: messages per minute at K against K = 1, nothing sent twice; the
//! AWS calls per message the stack's functions made (through the AWS fault proxy, which counts
//! them), and from those and the measured billed time, the cost per 1,000 messages on Lambda.
//!
//! `make build` first (the stack runs the built functions); `cargo bench -p e2e --bench accounts`.
//! `WA_BENCH_MESSAGES` sets the messages per account (default 10, the template's batch size).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use futures::future::join_all;
use measure::{Ratio, record};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use test_support::lambda_sandbox;
use test_support::queue::{delete_records, take_records};
use test_support::runtime_api::{Outcome, RuntimeApi};
use test_support::world::SENDING;
use test_support::{World, delivered, function_configuration, link_account, numbered, start_campaign};
use wa_sim::SimConfig;

const STACK: &str = "wacamp-bench-accounts";
const KS: [usize; 3] = [1, 2, 4];
/// The mean wait between two messages at the template's default pacing (`PaceMinMs` 2000 to
/// `PaceMaxMs` 6000): billed on Lambda like the rest of an invocation.
const DEFAULT_MEAN_PACE: Duration = Duration::from_secs(4);

/// us-east-1 list prices (USD) as of 2026, for the cost estimate; check the AWS price pages.
mod price {
    /// Lambda duration per GB-second, arm64 and x86_64 (first tier).
    pub const GB_SECOND_ARM64: f64 = 0.000_013_333_4;
    pub const GB_SECOND_X86_64: f64 = 0.000_016_666_7;
    /// Lambda per request.
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    /// DynamoDB on demand: per write request unit and per read request unit.
    pub const DYNAMO_WRITE: f64 = 0.625 / 1e6;
    pub const DYNAMO_READ: f64 = 0.125 / 1e6;
    /// SQS FIFO per request.
    pub const SQS_FIFO: f64 = 0.50 / 1e6;
    /// S3 Standard: per PUT/COPY/POST/LIST and per GET (and others).
    pub const S3_WRITE: f64 = 0.005 / 1e3;
    pub const S3_READ: f64 = 0.000_4 / 1e3;
    /// A small always-on VM (t4g.small, 2 vCPU, 2 GiB) per hour.
    pub const VM_HOUR: f64 = 0.0168;
}

/// What one round of K accounts measured.
struct Round {
    k: usize,
    memory_mb: u64,
    messages: usize,
    wall: Duration,
    /// Each invocation's duration (Lambda bills each).
    invocations: Vec<Duration>,
    peak_pss: u64,
    calls: BTreeMap<String, u64>,
}

impl Round {
    fn per_minute(&self) -> f64 {
        self.messages as f64 / self.wall.as_secs_f64() * 60.0
    }
}

/// The records by message group (account).
fn by_group(records: Vec<Value>) -> BTreeMap<String, Vec<Value>> {
    let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for record in records {
        let group =
            record["attributes"]["MessageGroupId"].as_str().expect("a FIFO record's group").to_owned();
        groups.entry(group).or_default().push(record);
    }
    groups
}

/// The cost of one DynamoDB, SQS or S3 call by its `Service.Operation` name: writes at the
/// transactional price (2 units) since most of the sender's writes are conditional or transactional.
fn call_price(name: &str) -> f64 {
    let (service, op) = name.split_once('.').unwrap_or((name, ""));
    let reads = ["Get", "Query", "Scan", "BatchGet", "Describe", "List", "Head"];
    let is_read = reads.iter().any(|r| op.starts_with(r));
    match service {
        "DynamoDB" if is_read => price::DYNAMO_READ,
        "DynamoDB" => 2.0 * price::DYNAMO_WRITE,
        "SQS" => price::SQS_FIFO,
        "S3" if is_read && !op.starts_with("List") => price::S3_READ,
        "S3" => price::S3_WRITE,
        _ => 0.0,
    }
}

async fn round(
    world: &'static World,
    proxy: &aws_proxy::ProxyHandle,
    accounts: &[String],
    per: u32,
    base: u32,
) -> Round {
    let k = accounts.len();
    let before: Vec<_> = accounts.iter().map(|a| delivered(&world.sim, a)).collect();
    proxy.reset_stats();
    let mut campaigns = Vec::new();
    for (i, account) in accounts.iter().enumerate() {
        let accepted =
            start_campaign(&world.stack, account, numbered(base + u32::try_from(i).unwrap() * 1000, per))
                .await;
        campaigns.push(accepted["campaign_id"].as_str().expect("a campaign id").to_owned());
    }
    let campaigns: Vec<&str> = campaigns.iter().map(String::as_str).collect();
    let messages = k * usize::try_from(per).unwrap();
    let groups = by_group(take_records(&world.stack.queue_url, &campaigns, messages).await);
    assert_eq!(groups.len(), k, "one message group per account");

    let function = &world.stack.sender_function_name;
    let config = function_configuration(function).await;
    let memory_mb = config["MemorySize"].as_u64().expect("MemorySize");
    let timeout = Duration::from_secs(config["Timeout"].as_u64().expect("Timeout"));
    let binary = test_support::root().join("target/debug/sender");
    let logs = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for (group, records) in groups {
        let api = RuntimeApi::start(function).await;
        let mut env = test_support::function_variables(&config);
        env.extend(api.lambda_environment(function, memory_mb));
        env.insert("PATH".to_owned(), "/usr/bin:/bin".to_owned());
        env.insert("HOME".to_owned(), logs.path().display().to_string());
        let log = logs.path().join(format!("{group}.log"));
        let running = lambda_sandbox::start_on_host(&binary, &env, &log);
        runs.push((api, running, records, log));
    }
    let started = Instant::now();
    let outcomes = join_all(runs.iter().map(|(api, _, records, _)| async move {
        let began = Instant::now();
        let outcome = api.invoke(json!({ "Records": records }), timeout).await;
        (outcome, began.elapsed())
    }))
    .await;
    let wall = started.elapsed();
    let mut peak_pss = 0;
    let mut invocations = Vec::new();
    for ((outcome, took), (_, running, records, log)) in outcomes.into_iter().zip(runs) {
        peak_pss = peak_pss.max(running.stop());
        let text = || std::fs::read_to_string(&log).unwrap_or_default();
        let outcome = outcome.unwrap_or_else(|e| panic!("{e}\n{}", text()));
        assert_eq!(outcome, Outcome::Response(json!({"batchItemFailures": []})), "{}", text());
        delete_records(&world.stack.queue_url, &records).await;
        invocations.push(took);
    }
    // This round's deliveries: each account's count now less its count before.
    for (account, before) in accounts.iter().zip(before) {
        let mut counts = delivered(&world.sim, account);
        counts.retain(|phone, n| {
            *n -= before.get(phone).copied().unwrap_or(0);
            *n > 0
        });
        assert_eq!(
            counts.len(),
            usize::try_from(per).unwrap(),
            "{account}: every recipient got one: {counts:?}"
        );
        assert!(counts.values().all(|&c| c == 1), "{account}: nobody got a message twice: {counts:?}");
    }
    Round { k, memory_mb, messages, wall, invocations, peak_pss, calls: proxy.stats().calls }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let per: u32 = std::env::var("WA_BENCH_MESSAGES").ok().and_then(|n| n.parse().ok()).unwrap_or(10).max(1);
    let mut params = SENDING.to_vec();
    params.push("SendingEnabled=false");
    let proxied = World::start_behind_proxy(STACK, SimConfig::for_benches(), &params);
    let (world, proxy): (&'static World, _) = (Box::leak(Box::new(proxied.world)), proxied.proxy);

    let run = uuid::Uuid::new_v4().simple().to_string();
    let accounts: Vec<String> =
        (0..KS[KS.len() - 1]).map(|i| format!("acct-bench-{}-{i}", &run[..8])).collect();
    for account in &accounts {
        link_account(&world.sim, &world.stack, account).await;
    }
    // Each round sends new numbers; K accounts' rounds do not overlap.
    let mut rounds = Vec::new();
    for (i, &k) in KS.iter().enumerate() {
        let base = 100_000 + u32::try_from(i).unwrap() * 10_000;
        // Each account starts a new campaign per round: the first K accounts.
        let got = round(world, &proxy, &accounts[..k], per, base).await;
        println!(
            "K={}: {} messages in {:.1} s ({:.1}/min), invocations {:?} ms, peak PSS per sender {} MiB",
            got.k,
            got.messages,
            got.wall.as_secs_f64(),
            got.per_minute(),
            got.invocations.iter().map(Duration::as_millis).collect::<Vec<_>>(),
            got.peak_pss / (1024 * 1024)
        );
        rounds.push(got);
    }
    let one = &rounds[0];
    for r in &rounds[1..] {
        record(&Ratio::new(
            "accounts",
            &format!("messages/min at K={} / K=1", r.k),
            r.per_minute(),
            one.per_minute(),
            "messages/min",
        ));
    }

    // AWS calls per message (the stack's functions: start, sender; not the event source's own
    // receive/delete, about two per batch), from the K=1 round.
    let mut per_service: BTreeMap<&str, u64> = BTreeMap::new();
    for (name, n) in &one.calls {
        *per_service.entry(name.split_once('.').map_or(name.as_str(), |(s, _)| s)).or_default() += n;
    }
    for (service, n) in &per_service {
        record(&Ratio::new(
            "accounts",
            &format!("{service} calls / message"),
            *n as f64,
            one.messages as f64,
            "calls",
        ));
    }
    println!("calls at K=1: {:?}", one.calls);

    // Cost per 1,000 messages on Lambda from the K=1 round: each invocation's billed time at
    // MemorySize (2 GB here), one request per batch, and the calls above.
    let gb = one.memory_mb as f64 / 1024.0;
    let billed: f64 = one.invocations.iter().map(Duration::as_secs_f64).sum();
    let scale = 1000.0 / one.messages as f64;
    let calls: f64 = one.calls.iter().map(|(name, &n)| call_price(name) * n as f64).sum::<f64>()
        + price::SQS_FIFO * 2.0 * one.invocations.len() as f64;
    let requests = price::LAMBDA_REQUEST * one.invocations.len() as f64;
    let vm_month = price::VM_HOUR * 24.0 * 30.4;
    // Measured without pacing; the sender waits between messages, billed too.
    let paced = billed + one.messages as f64 * DEFAULT_MEAN_PACE.as_secs_f64();
    for (arch, gb_second) in [("arm64", price::GB_SECOND_ARM64), ("x86_64", price::GB_SECOND_X86_64)] {
        for (pacing, seconds) in [("no pacing", billed), ("default pacing", paced)] {
            let compute = seconds * gb * gb_second * scale;
            let per_thousand = compute + (requests + calls) * scale;
            println!(
                "cost per 1,000 messages on Lambda {arch}, {pacing}: ${per_thousand:.4} (compute ${compute:.4}, \
                 requests and AWS calls ${:.4}); break-even with a t4g.small VM (${vm_month:.2}/month) at {:.0} \
                 messages/month",
                (calls + requests) * scale,
                vm_month / per_thousand * 1000.0
            );
            record(&Ratio::new(
                "accounts",
                &format!("Lambda {arch} per 1,000 messages, {pacing} / VM per day"),
                per_thousand * 100.0,
                vm_month / 30.4 * 100.0,
                "US cents",
            ));
        }
    }
}
