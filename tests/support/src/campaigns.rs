//! Driving campaigns through a deployed stack's HTTP API and counting what the recipients got
//! from the simulator's delivery record.

use crate::stack::Stack;
use crate::wait::eventually;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use wa_sim::SimHandle;

/// `n` recipients from `first` on (`+4915112<first + i>`, variable `n` = i); a test that changes
/// how the simulator treats a number uses a range of its own, because a simulator is shared by
/// its whole test binary.
pub fn numbered(first: u32, n: u32) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"phone": format!("+4915112{:06}", first + i), "vars": {"n": i.to_string()}}))
        .collect()
}

/// Starts a campaign of `account` with template `Hello #{{n}}`; returns the accepted body (202).
pub async fn start_campaign(stack: &Stack, account: &str, recipients: Vec<Value>) -> Value {
    let resp = crate::http::http()
        .post(format!("{}/campaigns", stack.http_base_url))
        .json(
            &json!({"name": "e2e", "account": account, "template": "Hello #{{n}}", "recipients": recipients}),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST /campaigns: {e}"));
    assert_eq!(resp.status(), 202);
    resp.json::<Value>().await.unwrap_or_else(|e| panic!("POST /campaigns answered no JSON: {e}"))
}

/// Polls the campaign's status until `done` holds (at most five minutes); returns that status.
pub async fn wait_status(stack: &Stack, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    wait_status_within(stack, id, what, Duration::from_secs(300), done).await
}

/// [`wait_status`] with another bound. On timeout the panic shows the last status seen, so a
/// failure says where the campaign stood (its counts, its session, what waits) instead of only
/// that it never got there.
pub async fn wait_status_within(
    stack: &Stack,
    id: &str,
    what: &str,
    timeout: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let http = crate::http::http();
    let last = std::sync::Mutex::new(Value::Null);
    let outcome = tokio::time::timeout(
        timeout,
        eventually(what, timeout + Duration::from_secs(60), || {
            let url = format!("{}/campaigns/{id}", stack.http_base_url);
            let http = http.clone();
            let (done, last) = (&done, &last);
            async move {
                let body: Value = http.get(url).send().await.ok()?.json().await.ok()?;
                if done(&body) {
                    return Some(body);
                }
                *last.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = body;
                None
            }
        }),
    )
    .await;
    outcome.unwrap_or_else(|_| {
        let mut seen = last.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(map) = seen.as_object_mut() {
            // The fields that tell where a campaign stands; the rest only lengthens the panic.
            map.retain(|k, _| {
                matches!(k.as_str(), "status" | "counts" | "reason" | "hint" | "notice" | "waiting_until")
            });
        }
        panic!("timed out after {timeout:?} waiting for {what}; the last status seen: {seen}")
    })
}

/// Deliveries of `account`, counted per recipient.
pub fn delivered(sim: &SimHandle, account: &str) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for d in sim.deliveries().into_iter().filter(|d| d.account == account) {
        *counts.entry(d.to).or_insert(0) += 1;
    }
    counts
}

/// Removes a campaign's `rows` rows and its campaign row, so the local AWS (which keeps its state
/// between runs) does not grow by a large campaign per run.
pub async fn delete_campaign(stack: &Stack, id: &str, rows: u32) {
    use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
    use table_layout::{codec::key_item, keys};
    let ddb = aws_sdk_dynamodb::Client::new(&crate::aws::sdk_config().await);
    let id = domain::CampaignId::parse(id).unwrap_or_else(|e| panic!("{id}: {e}"));
    let key = |key: keys::Key| {
        let delete = DeleteRequest::builder().set_key(Some(key_item(&key))).build();
        WriteRequest::builder().delete_request(delete.unwrap_or_else(|e| panic!("{e}"))).build()
    };
    let mut requests: Vec<WriteRequest> =
        (0..rows).map(|i| key(keys::message(&id, domain::MessageSeq(i)))).collect();
    requests.push(key(keys::campaign(&id)));
    for chunk in requests.chunks(25) {
        let mut pending = chunk.to_vec();
        while !pending.is_empty() {
            let out = ddb
                .batch_write_item()
                .request_items(stack.table_name.clone(), pending)
                .send()
                .await
                .unwrap_or_else(|e| panic!("BatchWriteItem: {e}"));
            pending = out.unprocessed_items.and_then(|mut m| m.remove(&stack.table_name)).unwrap_or_default();
        }
    }
}
