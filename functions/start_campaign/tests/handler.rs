//! The handler called directly with captured API Gateway v2 and Function URL events, against
//! in-memory ports (pure logic; the real HTTP path is covered in tests/e2e).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use campaign_store::{CampaignStore, InMemoryCampaignStore, InMemoryMessageQueue};
use lambda_http::Body;
use serde_json::Value;
use start_campaign::{Deps, handle};
use std::sync::Arc;

fn deps() -> (Deps, Arc<InMemoryCampaignStore>, Arc<InMemoryMessageQueue>) {
    let store = Arc::new(InMemoryCampaignStore::default());
    let queue = Arc::new(InMemoryMessageQueue::default());
    let deps = Deps {
        store: store.clone(),
        queue: queue.clone(),
        clock: Arc::new(|| "2026-11-29T14:36:36Z".into()),
        api_key: http_api::ApiKey::for_secret("fixture-key"),
    };
    (deps, store, queue)
}

fn body_json(body: &Body) -> Value {
    serde_json::from_slice(body.as_ref()).unwrap()
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
