//! Conformance: real responses of the deployed stack (through the HTTP API in the local AWS,
//! with the real `bootstrap` binaries behind it) are checked against `docs/openapi.yaml` — the
//! status code must be documented for the route, and the body must match that response's
//! schema (JSON Schema 2020-12, formats checked).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use domain::AccountId;
use serde_json::{Value, json};
use session_store::{GenerationState, ProfileStore, S3ProfileStore, StoreConfig};
use std::sync::OnceLock;
use std::time::Duration;
use test_support::{Stack, stack};

const STACK: &str = "wacamp-openapi";

/// The OpenAPI document, parsed once.
fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = test_support::root().join("docs/openapi.yaml");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}

/// Follows a local `$ref` (`#/components/...`) in the document.
fn resolve(value: &Value) -> &Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(pointer) => {
            let target = spec()
                .pointer(pointer.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("dangling {pointer}"));
            resolve(target)
        }
        None => value,
    }
}

/// Asserts that `body`, answered with `status` by `method path` (the documented template, e.g.
/// `/campaigns/{id}`), is a documented response of that operation.
fn conforms(method: &str, path: &str, status: u16, body: &Value) {
    let operation = spec()["paths"][path][method].clone();
    assert!(operation.is_object(), "{method} {path} is not in docs/openapi.yaml");
    let response = operation["responses"].get(status.to_string()).unwrap_or_else(|| {
        panic!("{method} {path} answered {status}, which the document does not list: {body}")
    });
    let schema = resolve(response)["content"]["application/json"]["schema"].clone();
    assert!(schema.is_object(), "{method} {path} {status} documents no JSON body");
    // The schema's `$ref`s point into the document's components: validate against a schema
    // document that carries them at the same place.
    let mut root = schema;
    root["components"] = spec()["components"].clone();
    let validator = jsonschema::draft202012::options().should_validate_formats(true).build(&root).unwrap();
    let errors: Vec<String> =
        validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status} does not match the document:\n{}\nbody: {body}",
        errors.join("\n")
    );
}

/// Sends a request and returns the status and JSON body.
async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let content_type = resp.headers().get("content-type").map(|v| v.to_str().unwrap_or("").to_owned());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(content_type.as_deref(), Some("application/json"), "{body}");
    (status, body)
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

async fn start(st: &Stack, account: &str) -> Value {
    let (status, body) =
        send(test_support::http().post(format!("{}/campaigns", st.http_base_url)).json(&json!({
            "name": "conformance",
            "account": account,
            "template": "Hi {{name}}",
            "default_region": "DE",
            "recipients": [
                {"phone": "0151 12345678", "vars": {"name": "Ana"}},
                {"phone": "+49 151 12345679", "vars": {"name": "Ben"}},
                {"phone": "12", "vars": {"name": "Cy"}}
            ]
        })))
        .await;
    conforms("post", "/campaigns", status, &body);
    assert_eq!(status, 202, "{body}");
    typed::<api_types::Accepted>(&body);
    body
}

/// Reads `body` into the shared API type: what the functions wrote, the CLI can read.
fn typed<T: serde::de::DeserializeOwned>(body: &Value) -> T {
    serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("{} does not read {body}: {e}", std::any::type_name::<T>()))
}

#[tokio::test]
async fn a_campaign_started_read_resumed_and_cancelled_answers_as_documented() {
    let st = stack(STACK);
    let http = test_support::http();
    // Given a campaign started through the API (202, with a warning: the account has no session)
    let accepted = start(st, &unique("oas")).await;
    assert_eq!(accepted["warning"]["code"], "SESSION_EXPIRED");
    let id = accepted["campaign_id"].as_str().unwrap();

    // then its status, a page of its messages, the next page and a resume all match the document.
    let (status, body) = send(http.get(format!("{}/campaigns/{id}", st.http_base_url))).await;
    conforms("get", "/campaigns/{id}", status, &body);
    assert_eq!(status, 200);
    typed::<api_types::CampaignStatusBody>(&body);

    let (status, page) =
        send(http.get(format!("{}/campaigns/{id}/messages?limit=2", st.http_base_url))).await;
    conforms("get", "/campaigns/{id}/messages", status, &page);
    assert_eq!(status, 200);
    typed::<api_types::MessagesPage>(&page);
    let cursor = page["next_cursor"].as_str().expect("three rows, two per page: a next page");
    let (status, last) =
        send(http.get(format!("{}/campaigns/{id}/messages?limit=2&cursor={cursor}", st.http_base_url))).await;
    conforms("get", "/campaigns/{id}/messages", status, &last);
    assert_eq!((status, last["items"][0]["code"].as_str()), (200, Some("INVALID_PHONE")));

    let (status, page) =
        send(http.get(format!("{}/campaigns/{id}/messages?status=FAILED", st.http_base_url))).await;
    conforms("get", "/campaigns/{id}/messages", status, &page);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));

    // Its report, two rows a page, is CSV with the documented headers: a link to the next page,
    // which ends the report.
    let documented = &spec()["paths"]["/campaigns/{id}/messages.csv"]["get"]["responses"]["200"];
    let resp =
        http.get(format!("{}/campaigns/{id}/messages.csv?limit=2", st.http_base_url)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let header = |name: &str| resp.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    let content_type = header("content-type").unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default();
    assert!(documented["content"].get(media).is_some(), "{content_type} is not documented");
    for name in documented["headers"].as_object().unwrap().keys() {
        assert!(header(name).is_some(), "the first of two pages has no {name} header");
    }
    let link = header("link").unwrap();
    let target = link.strip_prefix('<').and_then(|l| l.split_once('>')).map(|(t, _)| t.to_owned()).unwrap();
    let first = resp.text().await.unwrap();
    assert!(first.starts_with("row,phone,name,status,code,reason,attempts,"), "{first}");
    let resp = http.get(format!("{}/campaigns/{id}/{target}", st.http_base_url)).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.headers().get("link").is_none(), "the last page names no next page");
    let last = resp.text().await.unwrap();
    assert!(last.starts_with("2,12,Cy,FAILED,INVALID_PHONE,"), "{last}");

    let (status, body) = send(http.post(format!("{}/campaigns/{id}/resume", st.http_base_url))).await;
    conforms("post", "/campaigns/{id}/resume", status, &body);
    assert_eq!(status, 200);
    typed::<api_types::ResumeResult>(&body);

    // When it is cancelled (twice: a cancel is repeatable), both answers match the document too.
    for _ in 0..2 {
        let (status, body) = send(http.post(format!("{}/campaigns/{id}/cancel", st.http_base_url))).await;
        conforms("post", "/campaigns/{id}/cancel", status, &body);
        assert_eq!((status, body["status"].as_str()), (200, Some("CANCELLED")), "{body}");
        typed::<api_types::CancelResult>(&body);
    }
    let (status, body) = send(http.post(format!("{}/campaigns/{id}/resume", st.http_base_url))).await;
    conforms("post", "/campaigns/{id}/resume", status, &body);
    assert_eq!(status, 409, "a cancelled campaign cannot resume: {body}");
}

#[tokio::test]
async fn a_scheduled_campaign_read_moved_refused_a_resume_and_started_now_answers_as_documented() {
    let st = stack(STACK);
    let http = test_support::http();
    let in_a_day = (time::OffsetDateTime::now_utc() + time::Duration::days(1))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let (status, accepted) = send(http.post(format!("{}/campaigns", st.http_base_url)).json(&json!({
        "name": "later", "account": unique("oas"), "template": "Hi", "send_at": in_a_day,
        "recipients": [{"phone": "+4915112345678"}]
    })))
    .await;
    conforms("post", "/campaigns", status, &accepted);
    assert_eq!((status, accepted["status"].as_str()), (202, Some("SCHEDULED")), "{accepted}");
    typed::<api_types::Accepted>(&accepted);
    let id = accepted["campaign_id"].as_str().unwrap();
    let url = format!("{}/campaigns/{id}", st.http_base_url);

    let (status, body) = send(http.get(&url)).await;
    conforms("get", "/campaigns/{id}", status, &body);
    assert!(body["send_at"].is_string(), "{body}");
    let in_two_days = (time::OffsetDateTime::now_utc() + time::Duration::days(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    for (request, expected) in [
        (json!({"send_at": in_two_days}), 200),
        (json!({"send_at": "yesterday"}), 400),
        (json!({"send_at": null}), 200),
        (json!({"send_at": null}), 409),
    ] {
        let (status, body) = send(http.patch(&url).json(&request)).await;
        conforms("patch", "/campaigns/{id}", status, &body);
        assert_eq!(status, expected, "{request}: {body}");
        if status == 200 {
            typed::<api_types::ScheduleResult>(&body);
        }
    }
    let scheduled = send(http.post(format!("{}/campaigns", st.http_base_url)).json(&json!({
        "name": "later", "account": unique("oas"), "template": "Hi", "send_at": in_a_day,
        "recipients": [{"phone": "+4915112345678"}]
    })))
    .await
    .1;
    let other = scheduled["campaign_id"].as_str().unwrap();
    let (status, body) = send(http.post(format!("{}/campaigns/{other}/resume", st.http_base_url))).await;
    conforms("post", "/campaigns/{id}/resume", status, &body);
    assert_eq!(status, 409, "a scheduled campaign starts at its time, not by a resume: {body}");
}

#[tokio::test]
async fn refused_requests_answer_with_the_documented_error_body() {
    let st = stack(STACK);
    let http = test_support::http();
    let base = &st.http_base_url;
    let post_raw = |body: &str| {
        http.post(format!("{base}/campaigns"))
            .header("content-type", "application/json")
            .body(body.to_owned())
    };

    // Bad JSON, a wrong type, a missing variable: 400 naming the problem.
    for (body, code, starts) in [
        ("not json", "BAD_REQUEST", "body: "),
        ("{\"name\": 5}", "BAD_REQUEST", "name: invalid type"),
        (
            r#"{"name":"x","account":"shop","template":"Hi {{name}}","recipients":[{"phone":"+4915112345678"}]}"#,
            "TEMPLATE_VARIABLE_MISSING",
            "recipients[0]: variable 'name' is missing",
        ),
    ] {
        let (status, err) = send(post_raw(body)).await;
        conforms("post", "/campaigns", status, &err);
        assert_eq!((status, err["code"].as_str()), (400, Some(code)), "{body}: {err}");
        assert!(err["message"].as_str().unwrap().starts_with(starts), "{err}");
    }

    // No key, a wrong key: 401 on every route.
    let anonymous = reqwest::Client::new();
    for (method, path, req) in [
        ("post", "/campaigns", anonymous.post(format!("{base}/campaigns")).body("{}")),
        (
            "get",
            "/campaigns/{id}",
            anonymous.get(format!("{base}/campaigns/c-1")).header("x-api-key", "wrong"),
        ),
        ("get", "/campaigns/{id}/messages", anonymous.get(format!("{base}/campaigns/c-1/messages"))),
        ("post", "/campaigns/{id}/resume", anonymous.post(format!("{base}/campaigns/c-1/resume"))),
        ("post", "/campaigns/{id}/cancel", anonymous.post(format!("{base}/campaigns/c-1/cancel"))),
        ("get", "/accounts/{account}/session", anonymous.get(format!("{base}/accounts/shop/session"))),
    ] {
        let (status, err) = send(req).await;
        conforms(method, path, status, &err);
        assert_eq!(status, 401, "{method} {path}: {err}");
    }

    // Unknown campaign, unknown account: 404; a forged cursor: 400 naming it.
    let unknown = "c-00000000000000000000000000000000";
    for (method, path, req, code) in [
        ("get", "/campaigns/{id}", http.get(format!("{base}/campaigns/{unknown}")), 404),
        ("get", "/campaigns/{id}/messages", http.get(format!("{base}/campaigns/{unknown}/messages")), 404),
        ("post", "/campaigns/{id}/resume", http.post(format!("{base}/campaigns/{unknown}/resume")), 404),
        ("post", "/campaigns/{id}/cancel", http.post(format!("{base}/campaigns/{unknown}/cancel")), 404),
        (
            "get",
            "/accounts/{account}/session",
            http.get(format!("{base}/accounts/{}/session", unique("nobody"))),
            404,
        ),
        (
            "get",
            "/campaigns/{id}/messages",
            http.get(format!("{base}/campaigns/{unknown}/messages?cursor=Zm9yZ2Vk")),
            400,
        ),
        (
            "get",
            "/campaigns/{id}/messages",
            http.get(format!("{base}/campaigns/{unknown}/messages?limit=5000")),
            400,
        ),
    ] {
        let (status, err) = send(req).await;
        conforms(method, path, status, &err);
        assert_eq!(status, code, "{method} {path}: {err}");
    }
}

#[tokio::test]
async fn the_session_health_of_a_linked_account_answers_as_documented() {
    let st = stack(STACK);
    // Given an account with one stored generation (stored the way `wacamp setup` stores it)
    let account = AccountId::parse(&unique("linked")).unwrap();
    let aws = test_support::sdk_config().await;
    let store = S3ProfileStore::new(
        test_support::s3().await,
        aws_sdk_dynamodb::Client::new(&aws),
        StoreConfig::new(&st.profile_bucket_name, &st.table_name),
    );
    let profile = tempfile::tempdir().unwrap();
    let leveldb = profile.path().join("Default/Local Storage/leveldb");
    std::fs::create_dir_all(&leveldb).unwrap();
    std::fs::write(leveldb.join("000003.log"), b"session").unwrap();
    let stored = store.backup(&account, profile.path(), GenerationState::Ready).await.unwrap();

    // when its health is asked for over HTTP, then it matches the document and names the generation.
    let (status, body) =
        send(test_support::http().get(format!("{}/accounts/{account}/session", st.http_base_url))).await;
    conforms("get", "/accounts/{account}/session", status, &body);
    assert_eq!(status, 200, "{body}");
    typed::<api_types::SessionHealthBody>(&body);
    assert_eq!(body["current_generation"], stored.generation.id.as_str());
    assert_eq!(body["generations"]["count"], 1);
}

#[test]
fn the_checker_refuses_bodies_and_statuses_the_document_does_not_allow() {
    let refused = |method: &str, path: &str, status: u16, body: Value| {
        std::panic::catch_unwind(|| conforms(method, path, status, &body)).is_err()
    };
    let error = json!({"code": "NOT_FOUND", "message": "campaign 'c-1' does not exist", "hint": "Check it."});
    assert!(!refused("get", "/campaigns/{id}", 404, error.clone()), "a documented error passes");
    assert!(refused("get", "/campaigns/{id}", 418, error.clone()), "an undocumented status");
    assert!(refused("get", "/campaigns/{id}", 404, json!({"code": "NOT_FOUND", "message": "x"})), "no hint");
    assert!(
        refused("get", "/campaigns/{id}", 404, json!({"code": "GONE", "message": "x", "hint": "y"})),
        "unknown code"
    );
    let page = json!({"campaign_id": "c-1", "status_filter": null, "limit": 1, "next_cursor": null,
        "items": [{"row": 0, "phone": "+4915112345678", "status": "SENT", "code": null, "reason": null,
                   "attempts": 1, "updated_at": "yesterday", "sent_at": null}]});
    assert!(refused("get", "/campaigns/{id}/messages", 200, page), "a timestamp that is not RFC 3339");
}

#[tokio::test]
async fn a_start_retried_with_an_idempotency_key_answers_as_documented() {
    let st = stack(STACK);
    let http = test_support::http();
    let key = unique("key");
    let body = json!({
        "name": "retried", "account": unique("idem"), "template": "Hi",
        "recipients": [{"phone": "+4915112345678"}]
    });
    let post = |body: &Value| {
        http.post(format!("{}/campaigns", st.http_base_url)).header("Idempotency-Key", &key).json(body)
    };
    // Given a start with a key, when it is retried with the same body, then the same campaign
    // comes back, marked as a replay;
    let (status, first) = send(post(&body)).await;
    conforms("post", "/campaigns", status, &first);
    assert_eq!(status, 202, "{first}");
    let resp = post(&body).send().await.unwrap();
    assert_eq!(resp.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap_or("")), Some("true"));
    let (status, again) = (resp.status().as_u16(), resp.json::<Value>().await.unwrap());
    conforms("post", "/campaigns", status, &again);
    assert_eq!(
        (status, &again["campaign_id"], &again["replayed"]),
        (202, &first["campaign_id"], &json!(true))
    );
    // when the key comes back with another body, it is refused.
    let mut other = body.clone();
    other["name"] = json!("something else");
    let (status, err) = send(post(&other)).await;
    conforms("post", "/campaigns", status, &err);
    assert_eq!((status, err["code"].as_str()), (422, Some("IDEMPOTENCY_KEY_REUSED")), "{err}");
}

#[tokio::test]
async fn an_account_s_campaigns_are_listed_newest_first_across_pages_as_documented() {
    let st = stack(STACK);
    let http = test_support::http();
    let account = unique("lister");
    let mut started = Vec::new();
    for _ in 0..3 {
        started.push(start(st, &account).await["campaign_id"].as_str().unwrap().to_owned());
    }
    started.reverse();
    // The listing is read from an index: wait until it shows all three, two per page.
    let walk = || async {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{}/campaigns?account={account}&limit=2", st.http_base_url);
            if let Some(c) = &cursor {
                url.push_str(&format!("&cursor={c}"));
            }
            let (status, page) = send(http.get(url)).await;
            conforms("get", "/campaigns", status, &page);
            assert_eq!(status, 200, "{page}");
            let page: api_types::CampaignsPage = typed(&page);
            ids.extend(page.items.into_iter().map(|c| c.campaign_id.to_string()));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return ids,
            }
        }
    };
    let ids = test_support::eventually(
        "the listing to show the three campaigns",
        Duration::from_secs(30),
        || async {
            let ids = walk().await;
            (ids.len() == 3).then_some(ids)
        },
    )
    .await;
    assert_eq!(ids, started, "newest first, each once");
    let (status, err) =
        send(http.get(format!("{}/campaigns?account={account}&cursor=x", st.http_base_url))).await;
    conforms("get", "/campaigns", status, &err);
    assert_eq!(status, 400, "{err}");
}

#[tokio::test]
async fn a_sending_window_set_read_and_removed_answers_as_documented() {
    let st = stack(STACK);
    let http = test_support::http();
    let path = "/accounts/{account}/sending-window";
    let url = format!("{}/accounts/{}/sending-window", st.http_base_url, unique("windowed"));
    let (status, body) = send(http.get(&url)).await;
    conforms("get", path, status, &body);
    assert_eq!(status, 404, "none yet: {body}");
    let window =
        json!({"from": "09:00", "to": "20:00", "days": ["mon-fri", "sat"], "time_zone": "Europe/Berlin"});
    let (status, body) = send(http.put(&url).json(&window)).await;
    conforms("put", path, status, &body);
    assert_eq!(status, 200, "{body}");
    typed::<api_types::SendingWindowBody>(&body);
    let (status, body) = send(http.get(&url)).await;
    conforms("get", path, status, &body);
    assert_eq!(body["days"], json!(["mon", "tue", "wed", "thu", "fri", "sat"]));
    let (status, body) =
        send(http.put(&url).json(&json!({"from": "09:00", "to": "20:00", "time_zone": "Berlin"}))).await;
    conforms("put", path, status, &body);
    assert_eq!(status, 400, "{body}");
    let removed = http.delete(&url).send().await.unwrap();
    assert_eq!(removed.status().as_u16(), 204);
    assert!(spec()["paths"][path]["delete"]["responses"]["204"].is_object(), "204 is documented");
    let (status, body) = send(http.delete(&url)).await;
    conforms("delete", path, status, &body);
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn a_media_upload_arranged_and_refused_answers_as_documented() {
    let st = stack(STACK);
    let http = test_support::http();
    let path = "/accounts/{account}/media";
    let url = format!("{}/accounts/{}/media", st.http_base_url, unique("media"));
    let asked = json!({"file_name": "offer.pdf", "content_type": "application/pdf", "size": 1200, "sha256": "ab".repeat(32)});
    let (status, body) = send(http.post(&url).json(&asked)).await;
    conforms("post", path, status, &body);
    assert_eq!(status, 201, "{body}");
    typed::<api_types::MediaUpload>(&body);
    let (status, body) =
        send(http.post(&url).json(&json!({"file_name": "a.gif", "content_type": "image/gif", "size": 1})))
            .await;
    conforms("post", path, status, &body);
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn a_known_path_asked_with_another_method_is_a_405_naming_the_methods_it_takes() {
    let st = stack(STACK);
    let http = test_support::http();
    for (method, path, allow) in [
        (reqwest::Method::DELETE, "/campaigns/c-1", "GET, PATCH"),
        (reqwest::Method::PUT, "/campaigns", "GET, POST"),
        (reqwest::Method::GET, "/campaigns/c-1/cancel", "POST"),
        (reqwest::Method::POST, "/accounts/shop/sending-window", "GET, PUT, DELETE"),
    ] {
        let resp = http.request(method.clone(), format!("{}{path}", st.http_base_url)).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 405, "{method} {path}");
        assert_eq!(
            resp.headers().get("allow").map(|v| v.to_str().unwrap().to_owned()),
            Some(allow.to_owned())
        );
        let err: api_types::Problem = resp.json().await.unwrap();
        assert_eq!(err.code, domain::ErrorCode::MethodNotAllowed);
    }
    let (status, err) = send(http.get(format!("{}/nowhere", st.http_base_url))).await;
    assert_eq!((status, err["code"].as_str()), (404, Some("NOT_FOUND")), "{err}");
}

/// Schemathesis (pinned in the project's venv) against the deployed stack, every check on, a
/// bounded number of examples per operation, one worker (two workers parse Python source in two
/// threads at once, which CPython 3.11's parser does not survive every time): no request the document allows is refused, no
/// answer falls outside it, nothing is a 5xx. `tests/e2e/schemathesis.toml` names the
/// operations allowed to refuse schema-valid bodies, and why.
#[test]
fn schemathesis_finds_no_allowed_request_refused_and_no_undocumented_answer() {
    let st = stack(STACK);
    let root = test_support::root();
    let st_bin = root.join(".venv/bin/st");
    assert!(st_bin.exists(), "{} is missing: run `make setup`", st_bin.display());
    let out = std::process::Command::new(&st_bin)
        .current_dir(root.join("tests/e2e"))
        .args(["--config-file", "schemathesis.toml", "--no-color", "run"])
        .arg(root.join("docs/openapi.yaml"))
        .args(["--url", &st.http_base_url, "--checks", "all", "--max-examples", "20", "--workers", "1"])
        .args(["--header", &format!("x-api-key: {}", test_support::API_KEY)])
        .args(["--seed", "20261202"])
        .output()
        .unwrap();
    let report =
        format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "Schemathesis found problems:\n{report}");
    assert!(report.contains("passed"), "Schemathesis ran no test:\n{report}");
}
