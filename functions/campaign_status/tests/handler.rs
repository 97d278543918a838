//! The handler called directly with captured API Gateway v2 events, against in-memory ports
//! (pure logic; the real HTTP path is covered in tests/e2e).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use campaign_status::{Deps, handle};
use campaign_store::{CampaignStore, InMemoryCampaignStore, NewCampaign, NewMessage};
use domain::{AccountId, CampaignId, MessageSeq, PhoneNumber, Template};
use lambda_http::Body;
use serde_json::Value;
use session_store::{GenerationState, InMemoryProfileStore, ProfileStore, StoreConfig};
use std::sync::Arc;

const CAMPAIGN: &str = "c-0000000000000000000000000000c0de";
const MESSAGES: &str = include_str!("fixtures/apigw_v2_get_messages.json");
const SESSION: &str = include_str!("fixtures/apigw_v2_get_session.json");

struct World {
    deps: Deps,
    store: Arc<InMemoryCampaignStore>,
    profiles: Arc<InMemoryProfileStore>,
    windows: Arc<campaign_store::InMemorySendingWindows>,
}

fn world() -> World {
    let store = Arc::new(InMemoryCampaignStore::default());
    let profiles = Arc::new(InMemoryProfileStore::new(StoreConfig::new("bucket", "table")));
    let windows = Arc::new(campaign_store::InMemorySendingWindows::default());
    let deps = Deps {
        store: store.clone(),
        profiles: profiles.clone(),
        windows: windows.clone(),
        api_key: http_api::ApiKey::for_secret("fixture-key"),
        clock: domain::system_clock(),
        session_warn_after: domain::session_age::DEFAULT_WARN_AFTER,
        warm_up: domain::WarmUp::default(),
    };
    World { deps, store, profiles, windows }
}

/// A campaign of `valid` sendable rows followed by one invalid number.
async fn campaign(store: &InMemoryCampaignStore, valid: u32) {
    let mut messages: Vec<NewMessage> = (0..valid)
        .map(|i| NewMessage {
            seq: MessageSeq(i),
            phone: PhoneNumber::parse(&format!("+49151123456{i:02}"), None).map_err(|e| e.to_string()),
            vars: Default::default(),
            opted_out: false,
            media: None,
        })
        .collect();
    messages.push(NewMessage {
        seq: MessageSeq(valid),
        phone: Err("12".into()),
        vars: Default::default(),
        opted_out: false,
        media: None,
    });
    create(store, "Hi", messages).await;
}

/// Stores the fixture campaign of account `shop` with `template` and `messages`.
async fn create(store: &InMemoryCampaignStore, template: &str, messages: Vec<NewMessage>) {
    store
        .create_campaign(&NewCampaign {
            id: CampaignId::parse(CAMPAIGN).unwrap(),
            name: "fixture".into(),
            account: AccountId::parse("shop").unwrap(),
            template: Template::parse(template).unwrap(),
            messages,
            created_at: "2026-11-29T14:36:36Z".into(),
            paused: None,
            webhook: None,
            send_at: None,
            attachments: Vec::new(),
        })
        .await
        .unwrap();
}

async fn call(deps: &Deps, event: &str) -> (u16, Value) {
    let resp = handle(deps, lambda_http::request::from_str(event).unwrap()).await.unwrap();
    let body: Value = match resp.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap(),
        other => serde_json::from_slice(other.as_ref()).unwrap(),
    };
    (resp.status().as_u16(), body)
}

/// The messages fixture with another query string.
fn messages_event(query: &str) -> String {
    MESSAGES
        .replace("\"rawQueryString\": \"status=QUEUED&limit=2\"", &format!("\"rawQueryString\": \"{query}\""))
}

#[tokio::test]
async fn a_status_filtered_page_lists_the_rows_with_their_phone_and_a_cursor_to_the_next_page() {
    let w = world();
    campaign(&w.store, 3).await;
    // Given three queued rows, when the first page of two QUEUED rows is asked for
    let (status, page) = call(&w.deps, MESSAGES).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["status_filter"], "QUEUED");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["row"], 0);
    assert_eq!(items[0]["phone"], "+4915112345600");
    assert_eq!(items[0]["status"], "QUEUED");
    assert_eq!(items[0]["attempts"], 0);
    // then the cursor leads to the last queued row, and that page ends the walk.
    let cursor = page["next_cursor"].as_str().unwrap();
    let (status, last) =
        call(&w.deps, &messages_event(&format!("status=QUEUED&limit=2&cursor={cursor}"))).await;
    assert_eq!(status, 200, "{last}");
    let rows: Vec<&Value> = last["items"].as_array().unwrap().iter().map(|i| &i["row"]).collect();
    assert_eq!(rows, [&Value::from(2)]);
    assert_eq!(last["next_cursor"], Value::Null);
}

#[tokio::test]
async fn without_a_filter_every_row_is_listed_including_failed_ones_with_their_code() {
    let w = world();
    campaign(&w.store, 2).await;
    let (status, page) = call(&w.deps, &messages_event("")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["limit"], 100);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(items[2]["status"], "FAILED");
    assert_eq!(items[2]["code"], "INVALID_PHONE");
    assert_eq!(items[2]["phone"], "12");
    assert_eq!(page["next_cursor"], Value::Null);
}

#[tokio::test]
async fn a_bad_cursor_limit_or_status_is_a_400_naming_the_parameter() {
    let w = world();
    campaign(&w.store, 1).await;
    for (query, field) in [
        ("cursor=bm90LWEtY3Vyc29y", "cursor: "),
        ("limit=1001", "limit: "),
        ("limit=0", "limit: "),
        ("status=LOST", "status: "),
    ] {
        let (status, body) = call(&w.deps, &messages_event(query)).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["code"], "BAD_REQUEST");
        assert!(body["message"].as_str().unwrap().starts_with(field), "{query}: {body}");
    }
}

#[tokio::test]
async fn the_messages_of_an_unknown_campaign_are_a_404() {
    let w = world();
    let (status, body) = call(&w.deps, MESSAGES).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "NOT_FOUND");
}

#[tokio::test]
async fn an_account_never_set_up_is_a_404_that_names_the_setup_command() {
    let w = world();
    let (status, body) = call(&w.deps, SESSION).await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], "NOT_FOUND");
    assert_eq!(body["hint"], "Run `wacamp setup --account shop` to link it.");
}

#[tokio::test]
async fn session_health_counts_generations_and_bad_ones_and_names_the_current() {
    let w = world();
    let shop = AccountId::parse("shop").unwrap();
    // Given two stored generations, the older one marked bad
    for marker in ["old", "new"] {
        let dir = tempfile::tempdir().unwrap();
        let leveldb = dir.path().join("Default/Local Storage/leveldb");
        std::fs::create_dir_all(&leveldb).unwrap();
        std::fs::write(leveldb.join("marker.log"), marker).unwrap();
        w.profiles.backup(&shop, dir.path(), GenerationState::Ready).await.unwrap();
    }
    let generations = w.profiles.list(&shop).await.unwrap();
    w.profiles.mark_bad(&shop, &generations[1].id).await.unwrap();
    // when the session health is asked for
    let (status, body) = call(&w.deps, SESSION).await;
    // then it reports the state, the current (newest) generation and the counts.
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["account"], "shop");
    assert_eq!(body["state"], "READY");
    assert_eq!(body["current_generation"], generations[0].id.as_str());
    assert_eq!(body["generations"]["count"], 2);
    assert_eq!(body["generations"]["bad"], 1);
    assert_eq!(body["generations"]["newest"]["current"], true);
    assert_eq!(body["generations"]["oldest"]["bad"], true);
    assert!(body["last_backup"].is_string(), "{body}");
    assert_eq!(body["hint"], Value::Null);
}

#[tokio::test]
async fn a_newly_linked_account_s_health_shows_its_warm_up_day_and_today_s_cap_and_none_without_a_link_time()
{
    let mut w = world();
    w.deps.warm_up = domain::WarmUp::parse("20,50").unwrap();
    let shop = AccountId::parse("shop").unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("Default/Local Storage/leveldb")).unwrap();
    std::fs::write(dir.path().join("Default/Local Storage/leveldb/marker.log"), "x").unwrap();
    w.profiles.backup(&shop, dir.path(), GenerationState::Ready).await.unwrap();
    // Linked before link times were kept: taken to be warm.
    let (_, body) = call(&w.deps, SESSION).await;
    assert_eq!(body["warm_up"], Value::Null, "{body}");
    // Linked just now: day 0 of the ramp.
    w.profiles.record_linked(&shop).await.unwrap();
    let (status, body) = call(&w.deps, SESSION).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["warm_up"]["day"].as_u64(), body["warm_up"]["daily_cap"].as_u64()), (Some(0), Some(20)));
    assert!(body["warm_up"]["ends_at"].is_string(), "{body}");
}

#[tokio::test]
async fn a_session_that_has_not_logged_in_for_longer_than_the_threshold_is_reported_with_a_warning() {
    let mut w = world();
    let shop = AccountId::parse("shop").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let leveldb = dir.path().join("Default/Local Storage/leveldb");
    std::fs::create_dir_all(&leveldb).unwrap();
    std::fs::write(leveldb.join("marker.log"), "m").unwrap();
    // Given a generation stored from a working session just now,
    w.profiles.backup(&shop, dir.path(), GenerationState::Ready).await.unwrap();
    let stored = time::OffsetDateTime::now_utc().unix_timestamp();
    let clock = Arc::new(domain::ManualClock::at(stored + 9 * 86_400));
    w.deps.clock = clock.clone();
    // nine days later it is fresh: the age is told, nothing warns;
    let (status, body) = call(&w.deps, SESSION).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["last_ready"].is_string(), "{body}");
    assert!(body["since_last_ready_seconds"].as_u64().is_some_and(|s| s >= 9 * 86_400 - 5), "{body}");
    assert_eq!(body["warning"], Value::Null);
    // eleven days later (the threshold is ten) it warns, with WhatsApp's limits and the fix.
    clock.advance(2 * 86_400 + 60);
    let (_, body) = call(&w.deps, SESSION).await;
    assert_eq!(body["warning"]["code"], "SESSION_STALE", "{body}");
    let message = body["warning"]["message"].as_str().unwrap();
    assert!(message.contains("11 d") && message.contains("14 days without the phone"), "{message}");
    assert!(body["warning"]["hint"].as_str().unwrap().contains("wacamp setup --account shop --force"));
}

#[tokio::test]
async fn the_read_routes_refuse_a_request_without_the_api_key() {
    let w = world();
    for event in [MESSAGES, SESSION] {
        let (status, body) = call(&w.deps, &event.replace("\"x-api-key\": \"fixture-key\",", "")).await;
        assert_eq!(status, 401);
        assert_eq!(body["code"], "UNAUTHORIZED");
    }
}

/// The report's event: the messages fixture on `messages.csv`, with `query`.
fn report_event(query: &str) -> String {
    messages_event(query).replace("/messages\"", "/messages.csv\"")
}

/// Calls the handler with a report request: the status, the headers asked for, and the body.
async fn call_text(deps: &Deps, event: &str) -> (u16, lambda_http::http::HeaderMap, String) {
    let resp = handle(deps, lambda_http::request::from_str(event).unwrap()).await.unwrap();
    let body = match resp.body() {
        Body::Text(t) => t.clone(),
        other => String::from_utf8(other.as_ref().to_vec()).unwrap(),
    };
    (resp.status().as_u16(), resp.headers().clone(), body)
}

/// A campaign whose template uses `{{name}}`, of `names.len()` valid rows and one invalid
/// number.
async fn named_campaign(store: &InMemoryCampaignStore, names: &[&str]) {
    let row = |i: usize, phone: Result<PhoneNumber, String>| NewMessage {
        seq: MessageSeq(i as u32),
        phone,
        vars: [("name".to_owned(), names.get(i).copied().unwrap_or("").to_owned())].into(),
        opted_out: false,
        media: None,
    };
    let mut messages: Vec<NewMessage> = (0..names.len())
        .map(|i| row(i, PhoneNumber::parse(&format!("+49151123456{i:02}"), None).map_err(|e| e.to_string())))
        .collect();
    messages.push(row(names.len(), Err("12".into())));
    create(store, "Hi {{name}}", messages).await;
}

/// The records of a CSV page.
fn records(csv_text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn the_report_pages_concatenate_to_one_csv_with_the_header_once_and_a_link_to_each_next_page() {
    let w = world();
    named_campaign(&w.store, &["Ana", "Ben", "Cleo"]).await;
    // Given four rows, when the report is walked two rows at a time
    let (status, headers, first) = call_text(&w.deps, &report_event("limit=2")).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8; header=present");
    assert_eq!(headers["content-disposition"], format!("attachment; filename=\"{CAMPAIGN}.csv\""));
    assert!(first.ends_with("\r\n"), "lines end in CRLF: {first:?}");
    let link = headers["link"].to_str().unwrap();
    assert_eq!(link, "<messages.csv?cursor=1&limit=2>; rel=\"next\"");
    let target = link.trim_start_matches('<').split('>').next().unwrap();
    let (status, headers, second) =
        call_text(&w.deps, &report_event(target.trim_start_matches("messages.csv?"))).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8; header=absent");
    // then the last page has no link, and the pages in order are the whole report.
    assert!(!headers.contains_key("link"), "{headers:?}");
    let all = records(&format!("{first}{second}"));
    assert_eq!(
        all[0],
        [
            "row",
            "phone",
            "name",
            "status",
            "code",
            "reason",
            "attempts",
            "updated_at",
            "sent_at",
            "delivered_at",
            "read_at"
        ]
    );
    let rows: Vec<(&str, &str, &str)> =
        all[1..].iter().map(|r| (r[0].as_str(), r[2].as_str(), r[3].as_str())).collect();
    assert_eq!(
        rows,
        [("0", "Ana", "QUEUED"), ("1", "Ben", "QUEUED"), ("2", "Cleo", "QUEUED"), ("3", "", "FAILED")]
    );
    assert_eq!(all[1][1], "+4915112345600", "an E.164 phone is written as it is");
    let failed = &all[4];
    assert_eq!((failed[1].as_str(), failed[4].as_str()), ("12", "INVALID_PHONE"));
    assert!(!failed[5].is_empty(), "a failed row says why: {failed:?}");
}

#[tokio::test]
async fn a_filtered_report_holds_only_that_status_and_its_link_keeps_the_filter() {
    let w = world();
    named_campaign(&w.store, &["Ana", "Ben", "Cleo"]).await;
    let (status, headers, body) = call_text(&w.deps, &report_event("status=QUEUED&limit=2")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["link"], "<messages.csv?cursor=1&limit=2&status=QUEUED>; rel=\"next\"");
    let (_, _, body) = call_text(&w.deps, &report_event("status=FAILED")).await;
    let all = records(&body);
    assert_eq!(all.len(), 2, "the header and the one failed row: {body}");
    assert_eq!(all[1][3], "FAILED");
}

#[tokio::test]
async fn a_variable_a_spreadsheet_would_run_as_a_formula_is_written_as_text() {
    let w = world();
    named_campaign(&w.store, &["=HYPERLINK(\"http://x\",\"y\")", "@SUM(A1)"]).await;
    let (status, _, body) = call_text(&w.deps, &report_event("")).await;
    assert_eq!(status, 200, "{body}");
    let all = records(&body);
    assert_eq!(all[1][2], "'=HYPERLINK(\"http://x\",\"y\")");
    assert_eq!(all[2][2], "'@SUM(A1)");
}

#[tokio::test]
async fn the_report_of_an_unknown_campaign_or_with_a_bad_parameter_is_a_json_error() {
    let w = world();
    let (status, body) = call(&w.deps, &report_event("")).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("NOT_FOUND")), "{body}");
    named_campaign(&w.store, &["Ana"]).await;
    let (status, body) = call(&w.deps, &report_event("limit=1001")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().starts_with("limit: "), "{body}");
    let (status, body) =
        call(&w.deps, &report_event("").replace("\"x-api-key\": \"fixture-key\",", "")).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("UNAUTHORIZED")), "{body}");
}

/// The session fixture asking for another path of the account.
fn account_event(path: &str) -> String {
    SESSION
        .replace("/accounts/shop/session", path)
        .replace("/accounts/{account}/session", "/accounts/{account}/x")
}

#[tokio::test]
async fn the_sending_window_is_served_and_an_account_without_one_is_a_404() {
    let w = world();
    let event = account_event("/accounts/shop/sending-window");
    let (status, body) = call(&w.deps, &event).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("NOT_FOUND")), "{body}");
    let window = domain::SendingWindow::parse("08:30", "24:00", &["sat-sun"], "America/Sao_Paulo").unwrap();
    use campaign_store::SendingWindows;
    w.windows.set_window(&AccountId::parse("shop").unwrap(), &window, 1_800_000_000).await.unwrap();
    let (status, body) = call(&w.deps, &event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"account": "shop", "from": "08:30", "to": "24:00", "days": ["sat", "sun"],
            "time_zone": "America/Sao_Paulo", "set_at": "2027-01-15T08:00:00Z"})
    );
}

#[tokio::test]
async fn a_row_held_for_its_window_shows_until_when_in_the_listing_and_on_the_campaign() {
    let w = world();
    campaign(&w.store, 2).await;
    let id = CampaignId::parse(CAMPAIGN).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let hold = domain::lifecycle::hold::Hold { until: now + 3600, since: now };
    w.store.hold_message(&id, MessageSeq(0), &hold).await.unwrap();
    let until = domain::rfc3339(time::OffsetDateTime::from_unix_timestamp(now + 3600).unwrap());
    let (status, page) = call(&w.deps, &messages_event("")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"][0]["waiting_until"], until.as_str());
    assert_eq!(page["items"][1]["waiting_until"], Value::Null, "not held");
    let status_event = MESSAGES
        .replace(&format!("/campaigns/{CAMPAIGN}/messages"), &format!("/campaigns/{CAMPAIGN}"))
        .replace("\"rawQueryString\": \"status=QUEUED&limit=2\"", "\"rawQueryString\": \"\"");
    let (status, body) = call(&w.deps, &status_event).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["waiting_until"], until.as_str());
}
