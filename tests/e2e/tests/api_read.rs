//! The read side through the real HTTP path in the local AWS: a campaign's messages walked page
//! by page return every row exactly once, with and without a status filter.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use domain::AccountId;
use serde_json::{Value, json};
use session_store::{GenerationState, ProfileStore, S3ProfileStore, SessionPointers, StoreConfig};
use std::collections::BTreeSet;
use std::time::Duration;
use test_support::{Stack, eventually, stack, wacamp};

const STACK: &str = "wacamp-api-read";
/// Recipients in the campaign; every tenth number is invalid (FAILED at once).
const ROWS: u32 = 260;
const PAGE: u32 = 37;

/// Walks `GET /campaigns/{id}/messages` with `filter` until `next_cursor` is null; returns the
/// rows in the order they came and the number of pages.
async fn walk(st: &Stack, id: &str, filter: Option<&str>) -> (Vec<Value>, usize) {
    let http = test_support::http();
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut url = format!("{}/campaigns/{id}/messages?limit={PAGE}", st.http_base_url);
        if let Some(s) = filter {
            url.push_str(&format!("&status={s}"));
        }
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let resp = http.get(url).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let page: Value = resp.json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= PAGE as usize);
        rows.extend(items.iter().cloned());
        pages += 1;
        assert!(pages <= ROWS as usize, "the walk does not end");
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(items.len(), PAGE as usize, "only the last page may be short");
                cursor = Some(next.to_owned());
            }
            None => break,
        }
    }
    (rows, pages)
}

fn row_numbers(rows: &[Value]) -> Vec<u64> {
    rows.iter().map(|r| r["row"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn walking_a_campaigns_messages_page_by_page_returns_every_row_exactly_once() {
    let st = stack(STACK);
    let http = test_support::http();
    // Given a campaign of 260 recipients started through the API, 26 of them invalid numbers,
    // for an account without a session (the sender pauses every sendable row)
    let account = format!("read-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let recipients: Vec<Value> = (0..ROWS)
        .map(|i| {
            let phone = if i % 10 == 9 { format!("bad-{i}") } else { format!("+4915112{i:06}") };
            json!({ "phone": phone, "vars": { "n": i.to_string() } })
        })
        .collect();
    let resp = http
        .post(format!("{}/campaigns", st.http_base_url))
        .json(
            &json!({ "name": "pages", "account": account, "template": "Hi {{n}}", "recipients": recipients }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let accepted: Value = resp.json().await.unwrap();
    let id = accepted["campaign_id"].as_str().unwrap().to_owned();
    assert_eq!(accepted["total"], ROWS);

    // and nothing is moving any more (every row FAILED or PAUSED),
    eventually("every sendable row to pause", Duration::from_secs(120), || {
        let http = http.clone();
        let url = format!("{}/campaigns/{id}", st.http_base_url);
        async move {
            let body: Value = http.get(url).send().await.ok()?.json().await.ok()?;
            let c = &body["counts"];
            (c["paused"] == 234 && c["queued"] == 0 && c["sending"] == 0).then_some(())
        }
    })
    .await;

    // when the rows are walked 37 at a time without a filter
    let (all, pages) = walk(st, &id, None).await;
    // then every row comes exactly once, in row order, in ceil(260 / 37) = 8 pages.
    assert_eq!(row_numbers(&all), (0..u64::from(ROWS)).collect::<Vec<_>>());
    assert_eq!(pages, 8);
    assert_eq!(all[9]["status"], "FAILED");
    assert_eq!(all[9]["code"], "INVALID_PHONE");
    assert_eq!(all[9]["phone"], "bad-9");
    assert_eq!(all[0]["phone"], "+4915112000000");

    // When the walk is filtered by status, each filter returns exactly its rows, once each, and
    // together they are the whole campaign again.
    let (paused, _) = walk(st, &id, Some("PAUSED")).await;
    let (failed, _) = walk(st, &id, Some("FAILED")).await;
    assert!(paused.iter().all(|r| r["status"] == "PAUSED"));
    assert!(failed.iter().all(|r| r["status"] == "FAILED"));
    let (paused, failed) = (row_numbers(&paused), row_numbers(&failed));
    assert_eq!(paused.len(), 234);
    assert_eq!(failed, (0..u64::from(ROWS)).filter(|i| i % 10 == 9).collect::<Vec<_>>());
    let union: BTreeSet<u64> = paused.iter().chain(&failed).copied().collect();
    assert_eq!(union.len(), ROWS as usize, "no row in both walks, none missing");
    let (sent, pages) = walk(st, &id, Some("SENT")).await;
    assert!(sent.is_empty());
    assert_eq!(pages, 1, "an empty filter is one empty page");

    // The CLI walks the same pages: one line per row.
    let (ok, out, err) = wacamp(st, &["messages", &id, "--page-size", "37"]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), ROWS as usize, "{err}");
    let (ok, out, err) = wacamp(st, &["messages", &id, "--status", "failed"]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 26);
    assert!(out.lines().all(|l| l.contains("INVALID_PHONE")), "{out}");
}

#[tokio::test]
async fn the_cli_lists_checks_and_restores_an_accounts_session_generations() {
    let st = stack(STACK);
    let account =
        AccountId::parse(&format!("cli-{}", &uuid::Uuid::new_v4().simple().to_string()[..8])).unwrap();
    // Given an account never set up, the session commands say so and name the setup command
    let (ok, _, err) = wacamp(st, &["session", "check", "--account", account.as_str()]);
    assert!(!ok);
    assert!(err.contains(&format!("wacamp setup --account {account}")), "{err}");

    // Given two stored generations (the newer one current)
    let aws = test_support::sdk_config().await;
    let store = S3ProfileStore::new(
        test_support::s3().await,
        aws_sdk_dynamodb::Client::new(&aws),
        StoreConfig::new(&st.profile_bucket_name, &st.table_name),
    );
    let mut ids = Vec::new();
    for marker in ["older", "newer"] {
        let profile = tempfile::tempdir().unwrap();
        let leveldb = profile.path().join("Default/Local Storage/leveldb");
        std::fs::create_dir_all(&leveldb).unwrap();
        std::fs::write(leveldb.join("000003.log"), marker).unwrap();
        ids.push(store.backup(&account, profile.path(), GenerationState::Ready).await.unwrap().generation.id);
    }
    let (older, newer) = (ids[0].as_str().to_owned(), ids[1].as_str().to_owned());

    // when they are listed, the newest comes first, marked current;
    let (ok, out, err) = wacamp(st, &["session", "list", "--account", account.as_str()]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with(&format!("* {newer}")), "{out}");
    assert!(lines[1].starts_with(&format!("  {older}")), "{out}");

    // when the older one is restored, it becomes current, and the health check says so.
    let (ok, out, err) =
        wacamp(st, &["session", "restore", "--account", account.as_str(), "--generation", &older]);
    assert!(ok, "{err}");
    assert!(out.contains(&format!("generation {older} is current again")), "{out}");
    assert_eq!(store.pointer(&account).await.unwrap().unwrap().current.unwrap().as_str(), older);
    let (ok, out, err) = wacamp(st, &["session", "check", "--account", account.as_str()]);
    assert!(ok, "{err}");
    assert!(out.contains(&format!("READY (generation {older}")), "{out}");
    assert!(out.contains("generations: 2 stored, 0 marked bad"), "{out}");

    // A generation marked bad is only restored with --force.
    store.mark_bad(&account, &ids[1]).await.unwrap();
    let (ok, _, err) =
        wacamp(st, &["session", "restore", "--account", account.as_str(), "--generation", &newer]);
    assert!(!ok);
    assert!(err.contains("marked bad"), "{err}");
}

#[tokio::test]
async fn a_cursor_is_the_last_row_shown_so_a_walk_resumes_from_any_row_and_anything_else_is_refused() {
    let st = stack(STACK);
    let http = test_support::http();
    let resp = http
        .post(format!("{}/campaigns", st.http_base_url))
        .json(&json!({
            "name": "cursor",
            "account": format!("read-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
            "template": "Hi",
            "recipients": [{"phone": "+4915112345670"}, {"phone": "+4915112345671"}, {"phone": "x"}]
        }))
        .send()
        .await
        .unwrap();
    let id = resp.json::<Value>().await.unwrap()["campaign_id"].as_str().unwrap().to_owned();
    let page: Value =
        test_support::get_json(format!("{}/campaigns/{id}/messages?limit=1", st.http_base_url)).await;
    assert_eq!(page["next_cursor"], "0", "{page}");
    // The FAILED row (row 2) comes after row 0 under the status filter too.
    let page: Value = test_support::get_json(format!(
        "{}/campaigns/{id}/messages?limit=1&status=FAILED&cursor=0",
        st.http_base_url
    ))
    .await;
    assert_eq!((page["items"][0]["row"].as_u64(), &page["next_cursor"]), (Some(2), &Value::Null), "{page}");
    let resp = http
        .get(format!("{}/campaigns/{id}/messages?limit=1&cursor=djEuQUxMLjA", st.http_base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "BAD_REQUEST");
    assert!(body["message"].as_str().unwrap().starts_with("cursor: "), "{body}");
}
