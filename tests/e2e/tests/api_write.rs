//! The write side of the HTTP API through the real path: API Gateway in the local AWS, the real
//! `start_campaign` bootstrap, DynamoDB and the FIFO queue, counted through the AWS API. The
//! stack is deployed with sending disabled, so every queued record stays in the queue to be
//! counted.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use aws_sdk_dynamodb::types::{AttributeValue, Select};
use domain::{CampaignId, MessageStatus};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use table_layout::codec::key_item;
use table_layout::keys;
use test_support::{API_KEY, Stack, sdk_config};

const STACK: &str = "wacamp-api";

fn stack() -> &'static Stack {
    static STACK_ONCE: OnceLock<Stack> = OnceLock::new();
    STACK_ONCE.get_or_init(|| test_support::deploy(STACK, &["SendingEnabled=false"]))
}

/// Every test here reads the whole queue, so they take turns.
static QUEUE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

fn recipients(n: usize) -> Vec<Value> {
    (0..n).map(|i| json!({ "phone": format!("+49151{:08}", 10_000_000 + i), "vars": { "name": format!("R{i}") } })).collect()
}

async fn post(path: &str, body: &Value, key: Option<&str>) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = test_support::http().post(format!("{}{path}", stack().http_base_url)).json(body);
    if let Some(key) = key {
        req = req.header("idempotency-key", key);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")), headers)
}

/// Receives and deletes every record in the queue; returns campaign id → row → times seen.
async fn drain_queue() -> BTreeMap<String, BTreeMap<u64, u32>> {
    let sqs = aws_sdk_sqs::Client::new(&sdk_config().await);
    let mut seen: BTreeMap<String, BTreeMap<u64, u32>> = BTreeMap::new();
    let mut empty_polls = 0;
    while empty_polls < 2 {
        let out = sqs
            .receive_message()
            .queue_url(&stack().queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            empty_polls += 1;
            continue;
        }
        empty_polls = 0;
        let mut entries = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let body: Value = serde_json::from_str(m.body().unwrap()).unwrap();
            let campaign = body["campaign_id"].as_str().unwrap().to_owned();
            *seen.entry(campaign).or_default().entry(body["seq"].as_u64().unwrap()).or_default() += 1;
            entries.push(
                aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().unwrap())
                    .build()
                    .unwrap(),
            );
        }
        sqs.delete_message_batch()
            .queue_url(&stack().queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .unwrap();
    }
    seen
}

/// Items under `pk` (in the table or, with `index`, in the status index), counted by the store.
async fn count(pk_name: &str, pk: &str, index: Option<&str>) -> i32 {
    let ddb = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let mut total = 0;
    let mut start = None;
    loop {
        let out = ddb
            .query()
            .table_name(&stack().table_name)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
            .select(Select::Count)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        total += out.count;
        match out.last_evaluated_key {
            Some(k) => start = Some(k),
            None => return total,
        }
    }
}

#[tokio::test]
async fn ten_thousand_recipients_are_written_and_queued_once_and_a_retry_with_the_same_key_adds_nothing() {
    let _turn = QUEUE.lock().await;
    drain_queue().await;
    let key = unique("bulk");
    let body = json!({
        "name": "Ten thousand",
        "account": unique("bulk"),
        "template": "Hello {{name}}",
        "recipients": recipients(10_000),
    });
    let (status, first, _) = post("/campaigns", &body, Some(&key)).await;
    assert_eq!(status, 202, "{first}");
    // A request that runs short of time (a loaded machine) hands the rest to the reconciler;
    // either way every row gets exactly one record.
    let (queued, handed_over) = (first["queued"].as_u64().unwrap(), first["handed_over"].as_u64().unwrap());
    assert_eq!((first["total"].as_u64(), queued + handed_over), (Some(10_000), 10_000));
    let id = first["campaign_id"].as_str().unwrap().to_owned();
    if handed_over > 0 {
        let report =
            test_support::invoke(&stack().reconciler_function_name, &json!({ "campaign_id": id })).await;
        assert_eq!(report["handed_over"].as_u64(), Some(handed_over), "{report}");
    }

    let (status, again, headers) = post("/campaigns", &body, Some(&key)).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(
        again["campaign_id"].as_str(),
        Some(id.as_str()),
        "the same key answers with the same campaign"
    );
    assert_eq!(headers.get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));

    assert_eq!(
        count("PK", &keys::campaign_partition(&campaign_id(&id)), None).await,
        10_001,
        "10,000 rows and the campaign row"
    );
    assert_eq!(
        count("GSI1PK", &keys::status_index_pk(&campaign_id(&id), MessageStatus::Queued), Some("GSI1")).await,
        10_000
    );
    let seen = drain_queue().await;
    let rows = seen.get(&id).cloned().unwrap_or_default();
    assert_eq!(rows.len(), 10_000, "every row has a record");
    assert!(rows.values().all(|&n| n == 1), "no row was queued twice");
    assert_eq!(seen.len(), 1, "nothing else was queued: {:?}", seen.keys().collect::<Vec<_>>());
    the_report_holds_every_row_once_in_order(&id);
    test_support::delete_campaign(stack(), &id, 10_000).await;
}

/// `wacamp export` of the ten-thousand-row campaign: one header line, then every row once, in
/// row order, with its phone, its variable and its status, fetched a page at a time.
fn the_report_holds_every_row_once_in_order(id: &str) {
    let (ok, report, stderr) = test_support::wacamp(stack(), &["export", id]);
    assert!(ok, "wacamp export failed: {stderr}");
    assert!(stderr.contains("10000 message(s)"), "{stderr}");
    let mut reader = csv::ReaderBuilder::new().from_reader(report.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(&header[..4], ["row", "phone", "name", "status"], "{header:?}");
    let mut rows = 0;
    for (i, record) in reader.records().enumerate() {
        let record = record.unwrap_or_else(|e| panic!("record {i}: {e}"));
        assert_eq!(record.len(), header.len(), "record {i} has every column");
        let expected =
            [i.to_string(), format!("+49151{:08}", 10_000_000 + i), format!("R{i}"), "QUEUED".into()];
        assert_eq!(&record.iter().take(4).collect::<Vec<_>>()[..], expected.each_ref().map(String::as_str));
        rows += 1;
    }
    assert_eq!(rows, 10_000, "every row once");
}

fn campaign_id(id: &str) -> CampaignId {
    CampaignId::parse(id).unwrap()
}

#[tokio::test]
async fn a_campaign_for_an_expired_session_is_accepted_paused_and_resume_queues_exactly_the_paused_rows() {
    let _turn = QUEUE.lock().await;
    drain_queue().await;
    let account = unique("expired");
    let ddb = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    ddb.put_item()
        .table_name(&stack().table_name)
        .set_item(Some(key_item(&keys::session(&domain::AccountId::parse(&account).unwrap()))))
        .item("state", AttributeValue::S("EXPIRED".into()))
        .item("version", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    let mut list = recipients(30);
    list[3] = json!({ "phone": "12", "vars": { "name": "bad" } });
    list[17] = json!({ "phone": "not a number", "vars": { "name": "bad" } });
    let body = json!({ "name": "Paused at start", "account": account, "template": "Hi {{name}}", "recipients": list });
    let (status, started, _) = post("/campaigns", &body, None).await;
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["status"], "PAUSED");
    assert_eq!((started["queued"].as_u64(), started["paused"].as_u64()), (Some(0), Some(28)));
    assert_eq!(started["warning"]["code"], "SESSION_EXPIRED");
    assert!(
        started["warning"]["hint"]
            .as_str()
            .unwrap()
            .contains(&format!("wacamp setup --account {account} --force"))
    );
    let id = started["campaign_id"].as_str().unwrap().to_owned();
    assert!(drain_queue().await.is_empty(), "nothing is queued while the session is expired");

    let (status, resumed, _) = post(&format!("/campaigns/{id}/resume"), &json!({}), None).await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(resumed["requeued"], 28);
    let seen = drain_queue().await;
    let rows: Vec<u64> = seen.get(&id).map(|r| r.keys().copied().collect()).unwrap_or_default();
    let expected: Vec<u64> = (0..30).filter(|r| *r != 3 && *r != 17).collect();
    assert_eq!(rows, expected, "exactly the paused rows, the invalid ones stay FAILED");
    assert!(seen.get(&id).unwrap().values().all(|&n| n == 1));
}

#[tokio::test]
async fn cancel_through_the_api_stops_every_queued_row_and_the_status_shows_it() {
    let _turn = QUEUE.lock().await;
    let body = json!({ "name": "Cancel", "account": unique("cancel"), "template": "Hi {{name}}", "recipients": recipients(40) });
    let (status, started, _) = post("/campaigns", &body, None).await;
    assert_eq!(status, 202, "{started}");
    let id = started["campaign_id"].as_str().unwrap().to_owned();
    let (status, cancelled, _) = post(&format!("/campaigns/{id}/cancel"), &json!({}), None).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(
        (cancelled["status"].as_str(), cancelled["cancelled"].as_u64()),
        (Some("CANCELLED"), Some(40))
    );
    let view: Value = test_support::get_json(format!("{}/campaigns/{id}", stack().http_base_url)).await;
    assert_eq!(view["status"], "CANCELLED", "{view}");
    assert_eq!(
        count("GSI1PK", &keys::status_index_pk(&campaign_id(&id), MessageStatus::Cancelled), Some("GSI1"))
            .await,
        40
    );
    let (status, again, _) = post(&format!("/campaigns/{id}/resume"), &json!({}), None).await;
    assert_eq!((status, again["code"].as_str()), (409, Some("CONFLICT")));
    drain_queue().await;
}

#[tokio::test]
async fn bad_requests_get_their_status_and_a_body_naming_the_problem() {
    let _turn = QUEUE.lock().await;
    let base = &stack().http_base_url;
    let client = test_support::http();
    let valid = |recipients: Value| json!({ "name": "Bad", "account": "shop", "template": "Hi {{name}}", "recipients": recipients });
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str, &str)> = vec![
        ("bad JSON", client.post(format!("{base}/campaigns")).body("{\"name\": "), 400, "BAD_REQUEST", "EOF while parsing"),
        (
            "wrong type",
            client.post(format!("{base}/campaigns")).json(&json!({ "name": "x", "account": "shop", "template": "t", "recipients": "everyone" })),
            400,
            "BAD_REQUEST",
            "recipients:",
        ),
        (
            "missing variable",
            client.post(format!("{base}/campaigns")).json(&valid(json!([{ "phone": "+4915112345678", "vars": { "nam": "x" } }]))),
            400,
            "TEMPLATE_VARIABLE_MISSING",
            "recipients[0]: variable 'name'",
        ),
        (
            "invalid phone in strict mode",
            client.post(format!("{base}/campaigns")).json(&json!({ "name": "x", "account": "shop", "template": "t", "strict": true, "recipients": [{ "phone": "+4915112345678" }, { "phone": "12" }] })),
            400,
            "INVALID_PHONE",
            "recipients[1]",
        ),
        (
            "oversize body",
            client.post(format!("{base}/campaigns")).body(format!("{{\"name\":\"{}\"}}", "x".repeat(5 * 1024 * 1024 + 10))),
            413,
            "PAYLOAD_TOO_LARGE",
            "the limit is",
        ),
        ("unknown campaign", client.get(format!("{base}/campaigns/c-00000000000000000000000000000000")), 404, "NOT_FOUND", "c-00000000000000000000000000000000"),
        ("unknown campaign resume", client.post(format!("{base}/campaigns/c-00000000000000000000000000000000/resume")), 404, "NOT_FOUND", "does not exist"),
        ("missing API key", reqwest::Client::new().post(format!("{base}/campaigns")).json(&valid(json!([]))), 401, "UNAUTHORIZED", ""),
        ("wrong API key", reqwest::Client::new().get(format!("{base}/campaigns/c-1")).header("x-api-key", format!("{API_KEY}-wrong")), 401, "UNAUTHORIZED", ""),
    ];
    for (what, req, status, code, needle) in cases {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), status, "{what}");
        let body: Value = resp.json().await.unwrap_or_else(|e| panic!("{what}: body is not JSON: {e}"));
        assert_eq!(body["code"], code, "{what}: {body}");
        assert!(body["message"].as_str().unwrap().contains(needle), "{what}: {body}");
        assert!(body["hint"].is_string(), "{what}: every error carries a hint: {body}");
    }
}
