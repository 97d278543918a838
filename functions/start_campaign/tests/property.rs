//! Arbitrary bodies thrown at the start handler: it never panics, never answers 5xx for bad
//! input, and every refusal is a JSON error with a stable code and a message.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use campaign_store::InMemoryCampaignStore;
use message_queue::InMemoryMessageQueue;
use proptest::prelude::*;
use serde_json::{Value, json};
use start_campaign::{Deps, handle};
use std::sync::Arc;

fn deps() -> Deps {
    Deps {
        store: Arc::new(InMemoryCampaignStore::default()),
        queue: Arc::new(InMemoryMessageQueue::default()),
        sessions: Arc::new(session_store::InMemoryProfileStore::new(session_store::StoreConfig::new(
            "bucket", "table",
        ))),
        windows: Arc::new(campaign_store::InMemorySendingWindows::default()),
        media: Arc::new(media_store::InMemoryMediaStore::default()),
        clock: Arc::new(|| time::macros::datetime!(2026-11-29 14:36:36 UTC)),
        api_key: http_api::ApiKey::for_secret("fixture-key"),
    }
}

fn request(body: Vec<u8>, idempotency_key: Option<Vec<u8>>) -> lambda_http::Request {
    let mut builder = lambda_http::http::Request::builder()
        .method("POST")
        .uri("https://api.example.com/campaigns")
        .header("x-api-key", "fixture-key")
        .header("content-type", "application/json");
    if let Some(key) = idempotency_key {
        // Anything a client can put in a header: visible ASCII, spaces, tabs and high bytes.
        builder =
            builder.header("idempotency-key", lambda_http::http::HeaderValue::from_bytes(&key).unwrap());
    }
    builder.body(lambda_http::Body::Binary(body)).unwrap()
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,24}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(".{0,10}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Bodies shaped like a campaign, with any field possibly wrong.
fn campaign_like() -> impl Strategy<Value = Value> {
    let phone = prop_oneof!["\\+[0-9]{6,16}", "0[0-9 ]{5,14}", ".{0,20}", Just("+4915112345678".to_owned()),];
    let vars = prop::collection::btree_map("[a-z]{1,6}", ".{0,12}", 0..4);
    let recipient = (phone, vars, any_json()).prop_map(|(phone, vars, extra)| {
        let mut r = json!({ "phone": phone, "vars": vars });
        if extra.is_string() {
            r["unexpected"] = extra;
        }
        r
    });
    (
        prop_oneof![".{0,30}".prop_map(Value::from), any_json()],
        prop_oneof!["[a-z0-9_-]{0,20}".prop_map(Value::from), any_json()],
        prop_oneof![
            "(Hi|Hello) \\{\\{[a-z]{1,6}\\}\\}.{0,20}".prop_map(Value::from),
            ".{0,40}".prop_map(Value::from)
        ],
        prop_oneof![Just(Value::Null), "[A-Z]{2}".prop_map(Value::from), any_json()],
        prop::collection::vec(recipient, 0..8),
        any::<bool>(),
    )
        .prop_map(|(name, account, template, region, recipients, strict)| {
            json!({ "name": name, "account": account, "template": template,
                    "default_region": region, "recipients": recipients, "strict": strict })
        })
}

fn check(body: Vec<u8>, key: Option<Vec<u8>>) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let resp = rt.block_on(handle(&deps(), request(body, key))).unwrap();
    let status = resp.status().as_u16();
    prop_assert!(status < 500, "bad input got {status}: {:?}", resp.body());
    let json: Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
    if status >= 400 {
        prop_assert!(json["code"].is_string() && json["message"].is_string(), "{json}");
    } else {
        prop_assert_eq!(status, 202);
        prop_assert!(json["campaign_id"].is_string(), "{json}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_crash_the_handler_or_get_a_5xx(body in prop::collection::vec(any::<u8>(), 0..512)) {
        check(body, None)?;
    }

    #[test]
    fn arbitrary_json_never_crashes_the_handler_or_gets_a_5xx(body in any_json()) {
        check(body.to_string().into_bytes(), None)?;
    }

    #[test]
    fn campaign_shaped_bodies_are_accepted_or_refused_cleanly(
        body in campaign_like(),
        key in prop::option::of(prop::collection::vec(prop_oneof![Just(b'\t'), 0x20u8..0x7f, 0x80u8..=0xff], 0..40)),
    ) {
        check(body.to_string().into_bytes(), key)?;
    }
}
