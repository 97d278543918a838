//! `make bench`: the fan-out of one campaign into DynamoDB and the FIFO queue, and the cost of
//! a status poll, against the local AWS. Every number is compared with a baseline measured in
//! the same run:
//! - fan-out: batched, bounded-concurrency writes (BatchWriteItem of 25, SendMessageBatch of 10)
//!   against one PutItem and one SendMessage per row, in sequence; AWS calls are counted by an
//!   SDK interceptor (every attempt, so retries are included).
//! - status poll: reading a 10,000-row campaign against reading a 10-row one (one GetItem each:
//!   counters live on the campaign row).
//!
//! Rows: `WACAMP_BENCH_ROWS` (default 10,000). Needs the local AWS (`make local-up`).
#![allow(clippy::unwrap_used)] // a benchmark: a failed unwrap is a failed run

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::types::AttributeValue;
use campaign_store::{CampaignStore, DynamoCampaignStore, NewCampaign, NewMessage};
use domain::{AccountId, CampaignId, MessageSeq, PhoneNumber, QueuedMessage, Template};
use measure::{Ratio, record};
use message_queue::{MessageQueue, SqsMessageQueue};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counts every request attempt that goes over the wire.
#[derive(Debug, Clone, Default)]
struct CallCounter(Arc<AtomicU64>);

impl CallCounter {
    fn take(&self) -> u64 {
        self.0.swap(0, Ordering::SeqCst)
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }
    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

struct World {
    ddb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
    table: String,
    queue_url: String,
    ddb_calls: CallCounter,
    sqs_calls: CallCounter,
}

async fn world() -> World {
    let conf = test_support::sdk_config().await;
    let (ddb_calls, sqs_calls) = (CallCounter::default(), CallCounter::default());
    let ddb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&conf).interceptor(ddb_calls.clone()).build(),
    );
    let sqs = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&conf).interceptor(sqs_calls.clone()).build(),
    );
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let (_, table) = test_support::fresh_table("bench-fanout").await;
    let queue_url = sqs
        .create_queue()
        .queue_name(format!("bench-fanout-{suffix}.fifo"))
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    ddb_calls.take();
    sqs_calls.take();
    World { ddb, sqs, table, queue_url, ddb_calls, sqs_calls }
}

fn campaign(rows: u32) -> NewCampaign {
    NewCampaign {
        id: CampaignId::generate(uuid::Uuid::new_v4().as_u128()),
        name: "bench".into(),
        account: AccountId::parse("bench").unwrap(),
        template: Template::parse("Hello {{name}}").unwrap(),
        messages: (0..rows)
            .map(|i| NewMessage {
                seq: MessageSeq(i),
                phone: PhoneNumber::parse(&format!("+49151{:08}", 10_000_000 + i), None)
                    .map_err(|e| e.to_string()),
                vars: [("name".to_owned(), format!("R{i}"))].into_iter().collect(),
                opted_out: false,
                media: None,
            })
            .collect(),
        created_at: "2026-11-29T00:00:00Z".into(),
        paused: None,
        webhook: None,
        send_at: None,
        attachments: Vec::new(),
    }
}

fn records(c: &NewCampaign) -> Vec<QueuedMessage> {
    c.messages.iter().map(|m| QueuedMessage::new(c.id.clone(), m.seq, c.account.clone(), 0)).collect()
}

/// The batched fan-out the start function uses.
async fn fan_out(w: &World, c: &NewCampaign) -> (Duration, u64, u64) {
    let store = DynamoCampaignStore::new(w.ddb.clone(), w.table.clone());
    let queue = SqsMessageQueue::new(w.sqs.clone(), w.queue_url.clone());
    let t = Instant::now();
    store.create_campaign(c).await.unwrap();
    queue.enqueue(&records(c)).await.unwrap();
    (t.elapsed(), w.ddb_calls.take(), w.sqs_calls.take())
}

/// The naive fan-out: one PutItem and one SendMessage per row, one after another.
async fn one_call_per_row(w: &World, c: &NewCampaign) -> (Duration, u64, u64) {
    let t = Instant::now();
    for m in &c.messages {
        w.ddb
            .put_item()
            .table_name(&w.table)
            .item("PK", AttributeValue::S(format!("BASELINE#{}", c.id)))
            .item("SK", AttributeValue::S(table_layout::keys::message_sk(m.seq)))
            .item(
                "phone",
                AttributeValue::S(m.phone.as_ref().map(|p| p.e164().to_owned()).unwrap_or_default()),
            )
            .send()
            .await
            .unwrap();
    }
    for r in records(c) {
        w.sqs
            .send_message()
            .queue_url(&w.queue_url)
            .message_body(serde_json::to_string(&r).unwrap())
            .message_group_id(r.account.as_str())
            .message_deduplication_id(format!("baseline-{}", r.dedup_id()))
            .send()
            .await
            .unwrap();
    }
    (t.elapsed(), w.ddb_calls.take(), w.sqs_calls.take())
}

/// Mean time of `polls` status reads, and the calls they made.
async fn poll(w: &World, id: &CampaignId, polls: u32) -> (Duration, u64) {
    let store = DynamoCampaignStore::new(w.ddb.clone(), w.table.clone());
    let t = Instant::now();
    for _ in 0..polls {
        store.campaign(id).await.unwrap().unwrap();
    }
    (t.elapsed() / polls, w.ddb_calls.take())
}

#[tokio::main]
async fn main() {
    let rows: u32 = std::env::var("WACAMP_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let w = world().await;

    let big = campaign(rows);
    let (fast, fast_ddb, fast_sqs) = fan_out(&w, &big).await;
    let (slow, slow_ddb, slow_sqs) = one_call_per_row(&w, &big).await;
    let n = u64::from(rows);
    let (ddb_bound, sqs_bound) = (n.div_ceil(25) + 1, n.div_ceil(10));
    println!("fan-out of {rows} rows");
    println!(
        "  batched:           {:>8.2} s  {fast_ddb:>6} DynamoDB calls (bound {ddb_bound} + retries)  {fast_sqs:>6} SQS calls (bound {sqs_bound} + retries)",
        fast.as_secs_f64()
    );
    println!(
        "  one call per row:  {:>8.2} s  {slow_ddb:>6} DynamoDB calls  {slow_sqs:>6} SQS calls",
        slow.as_secs_f64()
    );
    println!(
        "  ratio: {:.3}x the time, {:.3}x the calls",
        fast.as_secs_f64() / slow.as_secs_f64(),
        (fast_ddb + fast_sqs) as f64 / (slow_ddb + slow_sqs) as f64
    );
    let b = "fanout";
    record(&Ratio::new(b, "batched / one call per row: time", fast.as_secs_f64(), slow.as_secs_f64(), "s"));
    record(&Ratio::new(
        b,
        "batched / one call per row: calls",
        (fast_ddb + fast_sqs) as f64,
        (slow_ddb + slow_sqs) as f64,
        "calls",
    ));

    let small = campaign(10);
    fan_out(&w, &small).await;
    let polls = 200;
    let (t_small, calls_small) = poll(&w, &small.id, polls).await;
    let (t_big, calls_big) = poll(&w, &big.id, polls).await;
    println!("status poll ({polls} polls each)");
    println!(
        "  10 rows:      {:>8.2} ms per poll  {:.1} calls per poll",
        t_small.as_secs_f64() * 1e3,
        calls_small as f64 / f64::from(polls)
    );
    println!(
        "  {rows} rows:  {:>8.2} ms per poll  {:.1} calls per poll",
        t_big.as_secs_f64() * 1e3,
        calls_big as f64 / f64::from(polls)
    );
    println!(
        "  ratio: {:.2}x the time, {:.2}x the calls",
        t_big.as_secs_f64() / t_small.as_secs_f64(),
        calls_big as f64 / calls_small as f64
    );
    record(&Ratio::new(
        b,
        &format!("status poll, {rows} rows / 10 rows: time"),
        t_big.as_secs_f64() * 1e3,
        t_small.as_secs_f64() * 1e3,
        "ms",
    ));
    record(&Ratio::new(
        b,
        &format!("status poll, {rows} rows / 10 rows: calls"),
        calls_big as f64,
        calls_small as f64,
        "calls",
    ));

    let _ = w.ddb.delete_table().table_name(&w.table).send().await;
    let _ = w.sqs.delete_queue().queue_url(&w.queue_url).send().await;
}
