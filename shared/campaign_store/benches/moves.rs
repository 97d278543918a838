//! `make bench`: resume and cancel of one large campaign where DynamoDB is as harsh as AWS
//! (through the AWS fault proxy: concurrent transactions on one item conflict, and a share of
//! the rest is cancelled or throttled anyway), and how often the campaign row conflicts at the
//! sender's own rate. Each path is compared with the one it replaced, in the same run:
//! - batched: the rows move 99 to a transaction with one counter update for all of them (what
//!   `resume` and `cancel` do now);
//! - one row per transaction, 16 in flight: the path before, every row's transaction also
//!   updating the campaign row, so they conflict with each other on it.
//!
//! Both paths try again on conflicts with jittered backoff and must end with every row moved
//! and the counters equal to the rows; the numbers are time, DynamoDB calls and conflicts.
//!
//! Rows: `WACAMP_BENCH_ROWS` (default 10,000). Needs the local AWS (`make local-up`).
#![allow(clippy::unwrap_used)] // a benchmark: a failed unwrap is a failed run

use aws_proxy::{FaultKind, FaultPlan, FaultProxy, ProxyHandle, Rule};
use campaign_store::{
    CampaignStore, Claim, DynamoCampaignStore, Finish, Lease, MessageRow, NewCampaign, PauseReason,
};
use domain::{CampaignId, Counters, ErrorCode, MessageSeq, MessageStatus};
use futures::StreamExt;
use measure::{Ratio, record};
use std::time::{Duration, Instant};

/// What one path cost.
struct Cost {
    time: Duration,
    calls: u64,
    conflicts: u64,
}

impl Cost {
    fn line(&self, name: &str) -> String {
        format!(
            "  {name:<34} {:>8.2} s  {:>7} DynamoDB calls  {:>6} conflicts",
            self.time.as_secs_f64(),
            self.calls,
            self.conflicts
        )
    }
}

fn conflicts(proxy: &ProxyHandle) -> u64 {
    let s = proxy.stats();
    s.conflicts + s.injected(FaultKind::TransactionConflict)
}

fn dynamo_calls(proxy: &ProxyHandle) -> u64 {
    proxy.stats().calls.iter().filter(|(op, _)| op.starts_with("DynamoDB.")).map(|(_, n)| n).sum()
}

/// AWS under load: real conflicts between concurrent transactions on one item, plus a share
/// cancelled for conflicts and throttled regardless.
fn harsh() -> FaultPlan {
    FaultPlan::with_rules(
        vec![
            Rule::new(FaultKind::TransactionConflict, 0.05),
            Rule::new(FaultKind::ProvisionedThroughputExceeded, 0.02),
        ],
        0xbe4c,
    )
}

fn paused_campaign(rows: u32) -> NewCampaign {
    NewCampaign {
        paused: Some(PauseReason {
            code: ErrorCode::SessionExpired,
            hint: "Run setup.".into(),
            at: "2026-12-01T00:00:00Z".into(),
        }),
        ..test_support::fixtures::campaign(rows)
    }
}

/// Every row in `status`, read page by page.
async fn rows_in(store: &DynamoCampaignStore, id: &CampaignId, status: MessageStatus) -> Vec<MessageRow> {
    let mut out: Vec<MessageRow> = Vec::new();
    loop {
        let page = store.messages_in_status(id, status, out.last().map(|r| r.seq), 1000).await.unwrap();
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

/// Checks that `moved` rows ended in `status` and the counters equal the rows.
async fn check(store: &DynamoCampaignStore, id: &CampaignId, moved: usize, status: MessageStatus) {
    let listed = store.list_messages(id, None, None, 100_000).await.unwrap();
    let counted = Counters::of_rows(listed.iter().map(|e| e.row.status));
    assert_eq!(
        listed.iter().filter(|e| e.row.status == status).count(),
        moved,
        "the moved rows are {status}"
    );
    assert_eq!(store.campaign(id).await.unwrap().unwrap().counts, counted, "the counters equal the rows");
}

/// What one path did: its cost, the rows it moved and the rows it gave up on (turned away by
/// conflicts on every try).
struct Run {
    cost: Cost,
    moved: usize,
    gave_up: usize,
}

impl Run {
    fn line(&self, name: &str) -> String {
        let end = if self.gave_up == 0 {
            "all moved".to_owned()
        } else {
            format!("{} moved, {} given up after every try", self.moved, self.gave_up)
        };
        format!("{}  {end}", self.cost.line(name))
    }
}

/// Resume then cancel, `batched` or one row per transaction with 16 in flight.
async fn resume_and_cancel(
    store: &DynamoCampaignStore,
    proxy: &ProxyHandle,
    rows: u32,
    batched: bool,
) -> (Run, Run) {
    let c = paused_campaign(rows);
    store.create_campaign(&c).await.unwrap();
    let id = &c.id;
    let at = "2026-12-01T00:01:00Z";
    let measure = async |from: MessageStatus, resume: bool| {
        let found = rows_in(store, id, from).await;
        proxy.reset_stats();
        let t = Instant::now();
        if resume {
            store.resume_campaign(id, at, false).await.unwrap();
        } else {
            store.cancel_campaign(id, at).await.unwrap();
        }
        let step = |chunk: Vec<MessageRow>| async move {
            let n = chunk.len();
            let moved = if resume {
                store.requeue_messages(id, &chunk, from, at).await.map(|m| m.len())
            } else {
                store.cancel_messages(id, &chunk, from, at).await
            };
            match moved {
                Ok(m) => (m, 0),
                Err(campaign_store::StoreError::Contended(_)) => (0, n),
                Err(e) => panic!("{e}"),
            }
        };
        let results: Vec<(usize, usize)> = if batched {
            let mut out = Vec::new();
            for chunk in found.chunks(500) {
                out.push(step(chunk.to_vec()).await);
            }
            out
        } else {
            futures::stream::iter(found.iter().map(|r| step(vec![r.clone()])))
                .buffer_unordered(16)
                .collect()
                .await
        };
        let cost = Cost { time: t.elapsed(), calls: dynamo_calls(proxy), conflicts: conflicts(proxy) };
        let (moved, gave_up) = results.iter().fold((0, 0), |(m, g), (a, b)| (m + a, g + b));
        assert_eq!(moved + gave_up, found.len(), "every row moved once or was given up");
        Run { cost, moved, gave_up }
    };
    let resume = measure(MessageStatus::Paused, true).await;
    check(store, id, resume.moved, MessageStatus::Queued).await;
    let cancel = measure(MessageStatus::Queued, false).await;
    check(store, id, cancel.moved, MessageStatus::Cancelled).await;
    (resume, cancel)
}

/// A sender's own traffic on one campaign row: claim and finish, one message at a time, while a
/// status poll reads along; the conflicts per thousand transactions.
async fn sender_rate(store: &DynamoCampaignStore, proxy: &ProxyHandle, rows: u32) -> (u64, u64) {
    let mut c = paused_campaign(rows);
    c.paused = None;
    store.create_campaign(&c).await.unwrap();
    proxy.reset_stats();
    for i in 0..rows {
        let lease = Lease { now: 1_800_000_000, until: 1_800_000_120, at: "2026-12-01T00:02:00Z".into() };
        let Claim::Fresh(row) = store.claim_message(&c.id, MessageSeq(i), &lease).await.unwrap() else {
            panic!("row {i} is fresh")
        };
        store
            .finish_message(&c.id, MessageSeq(i), row.attempts, &Finish::Sent, "2026-12-01T00:02:01Z")
            .await
            .unwrap();
        store.campaign(&c.id).await.unwrap();
    }
    let s = proxy.stats();
    (s.calls.get("DynamoDB.TransactWriteItems").copied().unwrap_or(0), s.conflicts)
}

#[tokio::main]
async fn main() {
    let rows: u32 = std::env::var("WACAMP_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let proxy = FaultProxy::start(&test_support::endpoint()).unwrap();
    let (_, table) = test_support::fresh_table("bench-moves").await;
    let conf = test_support::sdk_config_at(&proxy.url()).await;
    let store = DynamoCampaignStore::new(aws_sdk_dynamodb::Client::new(&conf), table.clone());
    proxy.set_plan(harsh());

    let (resume, cancel) = resume_and_cancel(&store, &proxy, rows, true).await;
    let (resume_one, cancel_one) = resume_and_cancel(&store, &proxy, rows, false).await;
    println!("resume and cancel of {rows} rows, real conflicts plus 5% injected, 2% throttled");
    println!("{}", resume.line("resume, batched:"));
    println!("{}", resume_one.line("resume, one row per transaction:"));
    println!("{}", cancel.line("cancel, batched:"));
    println!("{}", cancel_one.line("cancel, one row per transaction:"));
    for (name, new, old) in [("resume", &resume, &resume_one), ("cancel", &cancel, &cancel_one)] {
        let (new, old) = (&new.cost, &old.cost);
        println!(
            "  {name} ratio: {:.3}x the time, {:.3}x the calls, {:.3}x the conflicts",
            new.time.as_secs_f64() / old.time.as_secs_f64(),
            new.calls as f64 / old.calls.max(1) as f64,
            new.conflicts as f64 / old.conflicts.max(1) as f64
        );
        let b = "moves";
        let what = format!("{name}, batched / one row per transaction");
        record(&Ratio::new(b, &format!("{what}: time"), new.time.as_secs_f64(), old.time.as_secs_f64(), "s"));
        record(&Ratio::new(b, &format!("{what}: calls"), new.calls as f64, old.calls as f64, "calls"));
    }

    proxy.set_plan(FaultPlan::strict());
    let sample = rows.min(500);
    let (transactions, found) = sender_rate(&store, &proxy, sample).await;
    println!(
        "the sender's rate on one campaign row ({sample} messages claimed and finished, a poll after each)"
    );
    println!(
        "  {transactions} transactions, {found} conflicts: {:.1} per thousand",
        found as f64 * 1000.0 / transactions.max(1) as f64
    );

    let _ = aws_sdk_dynamodb::Client::new(&test_support::sdk_config().await)
        .delete_table()
        .table_name(&table)
        .send()
        .await;
}
