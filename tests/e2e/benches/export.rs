//! Benchmark: the CSV report's memory does not grow with the campaign. The `campaign_status`
//! bootstrap, run as Lambda runs it (handed API Gateway events over the Runtime API, its process
//! tree's PSS sampled throughout), serves the whole report of a 1,000-row campaign and then, in a
//! new process, of a 10,000-row one, page by page as `wacamp export` walks it (following each
//! page's `link`). Reported: the peak PSS at 10,000 rows against 1,000 (goal at most 1.25×: flat,
//! a page at a time), each walk checked complete (every row once, in order).
//!
//! `make build` first (the stack runs the built functions); `cargo bench -p e2e --bench export`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use measure::{Ratio, record};
use serde_json::{Value, json};
use std::time::Duration;
use test_support::lambda_sandbox;
use test_support::runtime_api::{Outcome, RuntimeApi};
use test_support::{API_KEY, Stack, delete_campaign, function_configuration, numbered, start_campaign};

const STACK: &str = "wacamp-bench-export";
/// The baseline campaign's rows, and the measured one's.
const SMALL: u32 = 1_000;
const LARGE: u32 = 10_000;

/// An API Gateway HTTP API (payload 2.0) event for `GET path?query`, with the API key.
fn get_event(path: &str, query: &str) -> Value {
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": { "x-api-key": API_KEY, "accept": "text/csv", "host": "bench.local" },
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "bench",
            "domainName": "bench.local",
            "domainPrefix": "bench",
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "bench"
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Dec/2026:00:00:00 +0000",
            "timeEpoch": 1_796_083_200_000_u64
        },
        "isBase64Encoded": false
    })
}

/// What one walk of a report measured.
struct Walk {
    rows: u32,
    pages: u32,
    peak_pss: u64,
}

/// Walks the report of campaign `id` (of `rows` rows) through a new `campaign_status` process:
/// every page in turn, each checked to continue where the last one ended.
async fn walk(stack: &Stack, id: &str, rows: u32) -> Walk {
    let function = &stack.status_function_name;
    let config = function_configuration(function).await;
    let memory_mb = config["MemorySize"].as_u64().expect("MemorySize");
    let timeout = Duration::from_secs(config["Timeout"].as_u64().expect("Timeout"));
    let api = RuntimeApi::start(function).await;
    let mut env = test_support::function_variables(&config);
    env.extend(api.lambda_environment(function, memory_mb));
    env.insert("PATH".to_owned(), "/usr/bin:/bin".to_owned());
    // The local AWS gives the functions it runs its endpoint; this process runs outside it.
    env.insert("AWS_ENDPOINT_URL".to_owned(), test_support::endpoint());
    let logs = tempfile::tempdir().unwrap();
    let log = logs.path().join("campaign_status.log");
    let binary = test_support::root().join("target/debug/campaign_status");
    let running = lambda_sandbox::start_on_host(&binary, &env, &log);
    let path = format!("/campaigns/{id}/messages.csv");
    let mut query = String::new();
    let (mut seen, mut pages) = (0u32, 0u32);
    loop {
        let outcome = api.invoke(get_event(&path, &query), timeout).await;
        let text = || std::fs::read_to_string(&log).unwrap_or_default();
        let Ok(Outcome::Response(resp)) = outcome else { panic!("{outcome:?}\n{}", text()) };
        assert_eq!(resp["statusCode"], 200, "{resp}\n{}", text());
        let body = resp["body"].as_str().expect("a text body");
        let mut reader = csv::ReaderBuilder::new().has_headers(pages == 0).from_reader(body.as_bytes());
        for record in reader.records() {
            let record = record.unwrap();
            assert_eq!(record.get(0), Some(seen.to_string().as_str()), "rows in order, each once");
            seen += 1;
        }
        pages += 1;
        let link = resp["headers"]["link"].as_str().or_else(|| {
            resp["multiValueHeaders"]["link"].as_array().and_then(|l| l.first()).and_then(Value::as_str)
        });
        match link.and_then(|l| l.strip_prefix("<messages.csv?")).and_then(|l| l.split_once('>')) {
            Some((next, _)) => query = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, rows, "the report holds every row");
    Walk { rows, pages, peak_pss: running.stop() }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let stack = test_support::deploy(STACK, &["SendingEnabled=false"]);
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut walks = Vec::new();
    for rows in [SMALL, LARGE] {
        let account = format!("acct-export-{}-{rows}", &run[..8]);
        let accepted = start_campaign(&stack, &account, numbered(0, rows)).await;
        let id = accepted["campaign_id"].as_str().expect("a campaign id").to_owned();
        let got = walk(&stack, &id, rows).await;
        println!(
            "{} rows in {} pages: peak PSS of campaign_status {:.1} MiB",
            got.rows,
            got.pages,
            got.peak_pss as f64 / (1024.0 * 1024.0)
        );
        delete_campaign(&stack, &id, rows).await;
        walks.push(got);
    }
    // Sending is off: the records stay queued; empty the queue for the next run.
    let sqs = aws_sdk_sqs::Client::new(&test_support::sdk_config().await);
    sqs.purge_queue().queue_url(&stack.queue_url).send().await.expect("PurgeQueue");
    let mib = |w: &Walk| w.peak_pss as f64 / (1024.0 * 1024.0);
    record(
        &Ratio::new(
            "export",
            &format!("CSV report peak PSS, {LARGE} rows / {SMALL}"),
            mib(&walks[1]),
            mib(&walks[0]),
            "MiB",
        )
        .with_goal(1.25),
    );
}
