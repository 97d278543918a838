//! The handler called directly with captured API Gateway v2 and Function URL events, against
//! in-memory ports (pure logic; the real HTTP path is covered in tests/e2e).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use campaign_store::{CampaignStore, InMemoryCampaignStore};
use message_queue::InMemoryMessageQueue;
use serde_json::Value;
use start_campaign::{Deps, handle};
use std::sync::Arc;

mod helpers;
use helpers::{body_json, campaign_body, event};

fn deps() -> (Deps, Arc<InMemoryCampaignStore>, Arc<InMemoryMessageQueue>) {
    let store = Arc::new(InMemoryCampaignStore::default());
    let queue = Arc::new(InMemoryMessageQueue::default());
    let deps = Deps {
        store: store.clone(),
        queue: queue.clone(),
        sessions: Arc::new(session_store::InMemoryProfileStore::new(session_store::StoreConfig::new(
            "bucket", "table",
        ))),
        windows: Arc::new(campaign_store::InMemorySendingWindows::default()),
        media: Arc::new(media_store::InMemoryMediaStore::default()),
        clock: Arc::new(|| time::macros::datetime!(2026-11-29 14:36:36 UTC)),
        api_key: http_api::ApiKey::for_secret("fixture-key"),
    };
    (deps, store, queue)
}

#[tokio::test]
async fn an_api_gateway_request_is_accepted_with_duplicates_collapsed_and_bad_numbers_listed() {
    let (deps, store, queue) = deps();
    let req = lambda_http::request::from_str(include_str!("fixtures/apigw_v2_post_campaigns.json")).unwrap();
    let resp = handle(&deps, req).await.unwrap();
    assert_eq!(resp.status(), 202);
    let body = body_json(resp.body());
    assert_eq!(body["total"], 2, "the second Ana is the same number and is collapsed");
    assert_eq!(body["queued"], 1);
    assert_eq!(body["invalid"][0]["phone"], "12");
    assert_eq!(body["invalid"][0]["code"], "INVALID_PHONE");
    let queued = queue.queued.lock().unwrap().clone();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].account.as_str(), "shop");
    let id = domain::CampaignId::parse(body["campaign_id"].as_str().unwrap()).unwrap();
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.counts.total, view.counts.queued, view.counts.failed), (2, 1, 1));
}

#[tokio::test]
async fn a_request_without_the_api_key_is_refused_before_anything_is_written() {
    let (deps, _, queue) = deps();
    let text =
        include_str!("fixtures/apigw_v2_post_campaigns.json").replace("\"x-api-key\": \"fixture-key\",", "");
    let resp = handle(&deps, lambda_http::request::from_str(&text).unwrap()).await.unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(body_json(resp.body())["code"], "UNAUTHORIZED");
    assert!(queue.queued.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_function_url_request_with_a_base64_body_names_the_wrong_field() {
    let (deps, _, queue) = deps();
    let req =
        lambda_http::request::from_str(include_str!("fixtures/function_url_post_campaigns_base64.json"))
            .unwrap();
    let resp = handle(&deps, req).await.unwrap();
    assert_eq!(resp.status(), 400);
    let body = body_json(resp.body());
    assert_eq!(body["code"], "BAD_REQUEST");
    assert!(body["message"].as_str().unwrap().starts_with("name: invalid type: integer `5`"), "{body}");
    assert!(queue.queued.lock().unwrap().is_empty());
}

/// The captured API Gateway v2 event with another method, path, body and extra headers.
#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_campaign_and_queues_nothing_twice() {
    let (deps, store, queue) = deps();
    let body = campaign_body("Retry me", &["+4915112345678", "+4915112345679"]);
    let key = [("idempotency-key", "order-0001")];
    let first = handle(&deps, event("POST", "/campaigns", &body, &key)).await.unwrap();
    assert_eq!(first.status(), 202);
    let again = handle(&deps, event("POST", "/campaigns", &body, &key)).await.unwrap();
    assert_eq!(again.status(), 202);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let (first, again) = (body_json(first.body()), body_json(again.body()));
    assert_eq!(first["campaign_id"], again["campaign_id"]);
    assert_eq!(again["replayed"], true);
    assert_eq!(queue.queued.lock().unwrap().len(), 2, "the retry queued nothing");
    let id = domain::CampaignId::parse(first["campaign_id"].as_str().unwrap()).unwrap();
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().counts.total, 2);
}

#[tokio::test]
async fn an_idempotency_key_reused_with_another_body_is_refused_with_422() {
    let (deps, _, queue) = deps();
    let key = [("idempotency-key", "order-0002")];
    let first = campaign_body("First", &["+4915112345678"]);
    assert_eq!(handle(&deps, event("POST", "/campaigns", &first, &key)).await.unwrap().status(), 202);
    let other = campaign_body("Second", &["+4915112345678"]);
    let resp = handle(&deps, event("POST", "/campaigns", &other, &key)).await.unwrap();
    assert_eq!(resp.status(), 422);
    let body = body_json(resp.body());
    assert_eq!(body["code"], "IDEMPOTENCY_KEY_REUSED");
    assert!(body["message"].as_str().unwrap().starts_with("Idempotency-Key:"), "{body}");
    assert_eq!(queue.queued.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_campaign_for_an_expired_session_is_accepted_paused_with_the_setup_hint() {
    let (mut deps, store, queue) = deps();
    // Given the account's session is known expired,
    let sessions =
        Arc::new(session_store::InMemoryProfileStore::new(session_store::StoreConfig::new("b", "t")));
    let shop = domain::AccountId::parse("shop").unwrap();
    session_store::ProfileStore::set_session_state(&*sessions, &shop, domain::SessionHealth::Expired)
        .await
        .unwrap();
    deps.sessions = sessions;
    let body = campaign_body("Paused", &["+4915112345678", "12"]);
    let resp = handle(&deps, event("POST", "/campaigns", &body, &[])).await.unwrap();
    assert_eq!(resp.status(), 202);
    let body = body_json(resp.body());
    assert_eq!(body["status"], "PAUSED");
    assert_eq!((body["queued"].as_u64(), body["paused"].as_u64()), (Some(0), Some(1)));
    assert_eq!(body["warning"]["code"], "SESSION_EXPIRED");
    let hint = body["warning"]["hint"].as_str().unwrap();
    assert!(hint.contains("wacamp setup --account shop --force"), "{hint}");
    assert!(hint.contains(body["campaign_id"].as_str().unwrap()), "{hint}");
    assert!(queue.queued.lock().unwrap().is_empty(), "nothing is queued that would only pause");
    let id = domain::CampaignId::parse(body["campaign_id"].as_str().unwrap()).unwrap();
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!(view.status, domain::CampaignStatus::Paused);
    assert_eq!((view.counts.paused, view.counts.failed), (1, 1));
}

#[tokio::test]
async fn cancel_stops_queued_and_paused_rows_and_is_repeatable() {
    let (deps, store, _) = deps();
    let body = campaign_body("Cancel me", &["+4915112345678", "+4915112345679", "+4915112345670"]);
    let started = body_json(handle(&deps, event("POST", "/campaigns", &body, &[])).await.unwrap().body());
    let id = started["campaign_id"].as_str().unwrap().to_owned();
    let path = format!("/campaigns/{id}/cancel");
    let resp = handle(&deps, event("POST", &path, "", &[])).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = body_json(resp.body());
    assert_eq!((body["status"].as_str(), body["cancelled"].as_u64()), (Some("CANCELLED"), Some(3)));
    let again = body_json(handle(&deps, event("POST", &path, "", &[])).await.unwrap().body());
    assert_eq!(again["cancelled"], 0, "a second cancel finds nothing left to stop");
    let view = store.campaign(&domain::CampaignId::parse(&id).unwrap()).await.unwrap().unwrap();
    assert_eq!((view.counts.cancelled, view.counts.queued), (3, 0));
    let resume = handle(&deps, event("POST", &format!("/campaigns/{id}/resume"), "", &[])).await.unwrap();
    assert_eq!(resume.status(), 409, "a cancelled campaign cannot resume");
}

#[tokio::test]
async fn cancelling_an_unknown_campaign_is_a_404_naming_it() {
    let (deps, _, _) = deps();
    let resp = handle(&deps, event("POST", "/campaigns/c-doesnotexist/cancel", "", &[])).await.unwrap();
    assert_eq!(resp.status(), 404);
    assert!(body_json(resp.body())["message"].as_str().unwrap().contains("c-doesnotexist"));
}

#[tokio::test]
async fn an_oversize_body_is_a_413_that_states_the_limit() {
    let (deps, _, queue) = deps();
    let body = format!("{{\"name\":\"{}\"}}", "x".repeat(start_campaign::MAX_BODY_BYTES));
    let resp = handle(&deps, event("POST", "/campaigns", &body, &[])).await.unwrap();
    assert_eq!(resp.status(), 413);
    let body = body_json(resp.body());
    assert_eq!(body["code"], "PAYLOAD_TOO_LARGE");
    assert!(body["message"].as_str().unwrap().contains(&start_campaign::MAX_BODY_BYTES.to_string()));
    assert!(queue.queued.lock().unwrap().is_empty());
}

#[tokio::test]
async fn resume_with_retry_failed_requeues_only_the_retryable_failures_of_a_completed_campaign() {
    use campaign_store::{Claim, Finish, Lease};
    use domain::{ErrorCode, MessageSeq};
    let (deps, store, queue) = deps();
    let body = campaign_body("Retry", &["+4915112345678", "+4915112345679", "+4915112345670"]);
    let started = body_json(handle(&deps, event("POST", "/campaigns", &body, &[])).await.unwrap().body());
    let id = domain::CampaignId::parse(started["campaign_id"].as_str().unwrap()).unwrap();
    let lease = Lease { now: 1, until: 100, at: "t".into() };
    let endings =
        [Finish::Sent, Finish::Failed(ErrorCode::SendTimeout), Finish::Failed(ErrorCode::NotOnWhatsapp)];
    for (seq, finish) in endings.iter().enumerate() {
        let seq = MessageSeq(u32::try_from(seq).unwrap());
        assert!(matches!(store.claim_message(&id, seq, &lease).await.unwrap(), Claim::Fresh(_)));
        store.finish_message(&id, seq, 1, finish, "t").await.unwrap();
    }
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().status, domain::CampaignStatus::Completed);
    queue.queued.lock().unwrap().clear();

    let plain = handle(&deps, event("POST", &format!("/campaigns/{id}/resume"), "", &[])).await.unwrap();
    assert_eq!(plain.status(), 409, "a completed campaign has nothing paused to resume");
    let bad = handle(&deps, event("POST", &format!("/campaigns/{id}/resume?retry_failed=yes"), "", &[]))
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(body_json(bad.body())["message"].as_str().unwrap().starts_with("retry_failed:"));

    let resp = handle(&deps, event("POST", &format!("/campaigns/{id}/resume?retry_failed=true"), "", &[]))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body = body_json(resp.body());
    assert_eq!((body["requeued"].as_u64(), body["status"].as_str()), (Some(1), Some("RUNNING")));
    let queued = queue.queued.lock().unwrap().clone();
    assert_eq!(
        queued.iter().map(|q| q.seq).collect::<Vec<_>>(),
        vec![MessageSeq(1)],
        "only the send timeout"
    );
    assert_eq!(queued[0].round, 1, "a new round, so the queue does not drop it as a duplicate");
}

#[tokio::test]
async fn a_campaign_without_one_valid_number_is_accepted_completed() {
    let (deps, store, queue) = deps();
    let body = campaign_body("Nobody", &["12", "not a number"]);
    let resp = body_json(handle(&deps, event("POST", "/campaigns", &body, &[])).await.unwrap().body());
    assert_eq!((resp["status"].as_str(), resp["queued"].as_u64()), (Some("COMPLETED"), Some(0)));
    let id = domain::CampaignId::parse(resp["campaign_id"].as_str().unwrap()).unwrap();
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.status, view.counts.failed), (domain::CampaignStatus::Completed, 2));
    assert!(queue.queued.lock().unwrap().is_empty());
}

#[tokio::test]
async fn resume_gives_rows_still_queued_their_record_again_with_the_same_round() {
    let (deps, _, queue) = deps();
    let body = campaign_body("Lost records", &["+4915112345678", "+4915112345679"]);
    let started = body_json(handle(&deps, event("POST", "/campaigns", &body, &[])).await.unwrap().body());
    let id = started["campaign_id"].as_str().unwrap().to_owned();
    let first: Vec<_> = queue.queued.lock().unwrap().drain(..).collect();
    let resp = body_json(
        handle(&deps, event("POST", &format!("/campaigns/{id}/resume"), "", &[])).await.unwrap().body(),
    );
    assert_eq!((resp["requeued"].as_u64(), resp["reissued"].as_u64()), (Some(0), Some(2)));
    let again = queue.queued.lock().unwrap().clone();
    assert_eq!(
        again.iter().map(domain::QueuedMessage::dedup_id).collect::<Vec<_>>(),
        first.iter().map(domain::QueuedMessage::dedup_id).collect::<Vec<_>>(),
        "the same deduplication ids, so records still in the queue are dropped as duplicates"
    );
}

#[tokio::test]
async fn requests_that_would_break_aws_limits_are_refused_at_the_door_naming_the_row() {
    let (deps, store, queue) = deps();
    let recipient = |vars: Value| serde_json::json!({ "phone": "+4915112345678", "vars": vars });
    let body = |recipients: Vec<Value>| {
        serde_json::json!({ "name": "big", "account": "shop", "template": "Hi {{name}}", "recipients": recipients })
            .to_string()
    };
    // A variable of 300 KB (the row would pass DynamoDB's 400 KB item, or come close), too many
    // variables, and a message that renders longer than WhatsApp campaign messages may be:
    let huge = "x".repeat(300 * 1024);
    let many: serde_json::Map<String, Value> = (0..40).map(|i| (format!("v{i}"), Value::from("a"))).collect();
    let long = "y".repeat(4_100);
    let ok = recipient(serde_json::json!({ "name": "Ana" }));
    for (bad, expected) in [
        (
            recipient(serde_json::json!({ "name": huge })),
            "recipients[1]: vars.name: longer than 1024 characters",
        ),
        (
            recipient(Value::Object({
                let mut m = many.clone();
                m.insert("name".into(), "Ana".into());
                m
            })),
            "recipients[1]: vars: 41 given; the limit is 32",
        ),
        (
            recipient(serde_json::json!({ "name": long })),
            "recipients[1]: vars.name: longer than 1024 characters",
        ),
    ] {
        let resp =
            handle(&deps, event("POST", "/campaigns", &body(vec![ok.clone(), bad]), &[])).await.unwrap();
        assert_eq!(resp.status(), 400);
        let body = body_json(resp.body());
        assert_eq!(body["code"], "BAD_REQUEST");
        assert_eq!(body["message"], expected);
    }
    // and a message whose variables fit but whose rendering passes 4,096 characters:
    let template_body = serde_json::json!({
        "name": "big", "account": "shop",
        "template": format!("{}{{{{name}}}}", "z".repeat(3_500)),
        "recipients": [ok, recipient(serde_json::json!({ "name": "w".repeat(1_000) }))],
    })
    .to_string();
    let resp = handle(&deps, event("POST", "/campaigns", &template_body, &[])).await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        body_json(resp.body())["message"],
        "recipients[1]: the message is 4500 characters; the limit is 4096"
    );
    assert!(queue.queued.lock().unwrap().is_empty(), "nothing was queued");
    let _ = store;
}

#[tokio::test]
async fn a_number_on_the_opt_out_list_is_refused_at_the_door_and_listed_and_off_the_list_it_is_queued() {
    let (deps, store, queue) = deps();
    let put = handle(&deps, event("PUT", "/accounts/shop/opt-outs/%2B4915112345678", "", &[])).await.unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(
        body_json(put.body()),
        serde_json::json!({"account": "shop", "phone": "+4915112345678", "opted_out": true})
    );
    let body = serde_json::json!({
        "name": "spring", "account": "shop", "template": "hi",
        "recipients": [{ "phone": "+49 151 12345678" }, { "phone": "+4915112345679" }],
    })
    .to_string();
    let resp = handle(&deps, event("POST", "/campaigns", &body, &[])).await.unwrap();
    assert_eq!(resp.status(), 202);
    let accepted = body_json(resp.body());
    assert_eq!(accepted["queued"], 1);
    assert_eq!(
        accepted["invalid"],
        serde_json::json!([{"row": 0, "phone": "+4915112345678", "code": "OPTED_OUT"}])
    );
    let id = domain::CampaignId::parse(accepted["campaign_id"].as_str().unwrap()).unwrap();
    let row = store.message(&id, domain::MessageSeq(0)).await.unwrap().unwrap();
    assert_eq!((row.status, row.error), (domain::MessageStatus::Failed, Some(domain::ErrorCode::OptedOut)));
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().counts.failed, 1);
    assert_eq!(queue.queued.lock().unwrap().len(), 1);

    // Off the list (`+` as is), the next campaign queues the number; a second DELETE is a 404.
    let delete =
        handle(&deps, event("DELETE", "/accounts/shop/opt-outs/+4915112345678", "", &[])).await.unwrap();
    assert_eq!(delete.status(), 200);
    assert_eq!(body_json(delete.body())["opted_out"], false);
    let again =
        handle(&deps, event("DELETE", "/accounts/shop/opt-outs/+4915112345678", "", &[])).await.unwrap();
    assert_eq!(again.status(), 404);
    let resp = handle(&deps, event("POST", "/campaigns", &body, &[])).await.unwrap();
    assert_eq!(body_json(resp.body())["queued"], 2);
}

#[tokio::test]
async fn an_opt_out_of_a_number_that_is_not_one_is_refused_naming_the_phone() {
    let (deps, _, _) = deps();
    let resp = handle(&deps, event("PUT", "/accounts/shop/opt-outs/12", "", &[])).await.unwrap();
    assert_eq!(resp.status(), 400);
    let body = body_json(resp.body());
    assert_eq!(body["code"], "INVALID_PHONE");
    assert!(body["message"].as_str().unwrap().starts_with("phone: "), "{body}");
    let get = handle(&deps, event("GET", "/accounts/shop/opt-outs/%2B4915112345678", "", &[])).await.unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "PUT, DELETE");
}

#[tokio::test]
async fn a_webhook_url_is_kept_with_the_campaign_and_a_bad_one_is_refused_naming_it() {
    let (deps, store, queue) = deps();
    let body = |url: &str| {
        serde_json::json!({
            "name": "hooks", "account": "shop", "template": "hi", "webhook_url": url,
            "recipients": [{ "phone": "+4915112345678" }],
        })
        .to_string()
    };
    for (url, message) in [
        ("ftp://hooks.example.com/x", "webhook_url: must use https:// or http://, not ftp://"),
        (
            "https://me:pw@hooks.example.com/",
            "webhook_url: must not carry a user name or password (sign requests with the webhook secret instead)",
        ),
        ("hooks.example.com/x", "webhook_url: is not an absolute URL: relative URL without a base"),
    ] {
        let resp = handle(&deps, event("POST", "/campaigns", &body(url), &[])).await.unwrap();
        assert_eq!(resp.status(), 400, "{url}");
        assert_eq!(body_json(resp.body())["message"], message);
    }
    assert!(queue.queued.lock().unwrap().is_empty(), "nothing was queued");
    let resp = handle(&deps, event("POST", "/campaigns", &body("https://hooks.example.com/w?t=1"), &[]))
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let id = domain::CampaignId::parse(body_json(resp.body())["campaign_id"].as_str().unwrap()).unwrap();
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!(view.webhook_url.as_deref(), Some("https://hooks.example.com/w?t=1"));
}

#[tokio::test]
async fn a_template_with_an_empty_alternative_is_refused_naming_the_template_and_choices_count_at_their_longest()
 {
    let (deps, store, queue) = deps();
    let body = |template: String, name: &str| {
        serde_json::json!({
            "name": "variants", "account": "shop", "template": template,
            "recipients": [{ "phone": "+4915112345678", "vars": { "name": name } }],
        })
        .to_string()
    };
    let resp = handle(&deps, event("POST", "/campaigns", &body("{Hi||Hello} {{name}}".into(), "Ana"), &[]))
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        body_json(resp.body())["message"],
        "template: template has an empty alternative in the choice at character 0"
    );
    // A message fits only when it fits with the longest alternative of each choice.
    let template = format!("{{Hi|{}}} {{{{name}}}}", "z".repeat(3_500));
    let resp =
        handle(&deps, event("POST", "/campaigns", &body(template, &"w".repeat(1_000)), &[])).await.unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        body_json(resp.body())["message"],
        "recipients[0]: the message is 4501 characters; the limit is 4096"
    );
    assert!(queue.queued.lock().unwrap().is_empty(), "nothing was queued");
    let _ = store;
}

#[tokio::test]
async fn a_start_out_of_time_hands_its_rows_to_the_reconciler_which_queues_each_once_as_the_start_would() {
    use lambda_http::RequestExt;
    let (deps, store, queue) = deps();
    let phones = ["+4915112345670", "+4915112345671", "+4915112345672"];
    let req = event("POST", "/campaigns", &campaign_body("late", &phones), &[]);
    // The invocation's deadline is closer than the time kept back for answering.
    let mut ctx = lambda_http::Context::default();
    let left = start_campaign::RESERVE.saturating_sub(std::time::Duration::from_secs(1));
    ctx.deadline = u64::try_from(
        (std::time::SystemTime::now() + left).duration_since(std::time::UNIX_EPOCH).unwrap().as_millis(),
    )
    .unwrap();
    let resp = handle(&deps, req.with_lambda_context(ctx)).await.unwrap();
    assert_eq!(resp.status(), 202);
    let body = body_json(resp.body());
    assert_eq!(
        (body["total"].as_u64(), body["queued"].as_u64(), body["handed_over"].as_u64()),
        (Some(3), Some(0), Some(3))
    );
    assert!(queue.queued.lock().unwrap().is_empty(), "nothing queued past the budget");
    let id = domain::CampaignId::parse(body["campaign_id"].as_str().unwrap()).unwrap();

    let reconcile = reconcile::Deps {
        store: store.clone(),
        queue: queue.clone(),
        dead_letters: Arc::new(message_queue::InMemoryDeadLetters::default()),
        windows: Arc::new(campaign_store::InMemorySendingWindows::default()),
        clock: deps.clock.clone(),
        config: reconcile::Config::default(),
    };
    // The queue is not idle (other campaigns' records wait) and the start is seconds old: only
    // the hand-over makes the reconciler act now.
    *queue.depth.lock().unwrap() = 50;
    let report = reconcile::run(&reconcile, &reconcile::Scope::All).await.unwrap();
    assert_eq!((report.handed_over, report.reissued), (3, 0));
    let account = domain::AccountId::parse("shop").unwrap();
    let expected: Vec<String> = (0..3)
        .map(|seq| {
            domain::QueuedMessage::new(id.clone(), domain::MessageSeq(seq), account.clone(), 0).dedup_id()
        })
        .collect();
    let queued: Vec<String> =
        queue.queued.lock().unwrap().iter().map(domain::QueuedMessage::dedup_id).collect();
    assert_eq!(queued, expected, "each row once, with the start's own deduplication id");

    let again = reconcile::run(&reconcile, &reconcile::Scope::All).await.unwrap();
    assert_eq!((again.handed_over, again.reissued), (0, 0), "the hand-over is done once");
    assert_eq!(queue.queued.lock().unwrap().len(), 3);
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().counts.queued, 3);
}
