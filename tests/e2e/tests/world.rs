//! World check: the template deploys to the local AWS, the resources have the declared
//! attributes, and the real `bootstrap` binaries run behind their real triggers.

use serde_json::{Value, json};
use std::time::Duration;
use test_support::{eventually, s3, sdk_config, stack};

const STACK: &str = "wacamp-world";

#[tokio::test]
async fn queues_are_fifo_with_explicit_dedup_and_a_redrive_to_a_fifo_dlq() {
    let st = stack(STACK);
    let sqs = aws_sdk_sqs::Client::new(&sdk_config().await);
    let attrs = |url: String| {
        let sqs = sqs.clone();
        async move {
            sqs.get_queue_attributes()
                .queue_url(url)
                .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
                .send()
                .await
                .unwrap()
                .attributes
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k.as_str().to_owned(), v))
                .collect::<std::collections::HashMap<_, _>>()
        }
    };
    let main = attrs(st.queue_url.clone()).await;
    let dlq = attrs(st.dead_letter_queue_url.clone()).await;
    assert_eq!(main.get("FifoQueue").map(String::as_str), Some("true"));
    assert_eq!(main.get("ContentBasedDeduplication").map(String::as_str), Some("false"));
    assert_eq!(main.get("VisibilityTimeout").map(String::as_str), Some("30"), "6x the sender timeout");
    let redrive: Value = serde_json::from_str(main.get("RedrivePolicy").unwrap()).unwrap();
    assert_eq!(redrive["deadLetterTargetArn"].as_str(), dlq.get("QueueArn").map(String::as_str));
    assert_eq!(redrive["maxReceiveCount"].to_string().trim_matches('"'), "2");
    assert_eq!(dlq.get("FifoQueue").map(String::as_str), Some("true"));
}

#[tokio::test]
async fn the_table_has_the_single_table_keys_and_the_status_index() {
    let st = stack(STACK);
    let ddb = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let table = ddb.describe_table().table_name(&st.table_name).send().await.unwrap().table.unwrap();
    let keys: Vec<(String, String)> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name().to_owned(), k.key_type().as_str().to_owned()))
        .collect();
    assert_eq!(keys, vec![("PK".into(), "HASH".into()), ("SK".into(), "RANGE".into())]);
    let gsi: Vec<&str> = table.global_secondary_indexes().iter().filter_map(|g| g.index_name()).collect();
    assert_eq!(gsi, vec!["GSI1"]);
}

#[tokio::test]
async fn the_profile_bucket_is_versioned_encrypted_and_not_public() {
    let st = stack(STACK);
    let s3 = s3().await;
    let b = &st.profile_bucket_name;
    let versioning = s3.get_bucket_versioning().bucket(b).send().await.unwrap();
    assert_eq!(versioning.status().map(|s| s.as_str()), Some("Enabled"));
    let enc = s3.get_bucket_encryption().bucket(b).send().await.unwrap();
    let rules = enc.server_side_encryption_configuration().map(|c| c.rules().to_vec()).unwrap_or_default();
    let algo = rules
        .first()
        .and_then(|r| r.apply_server_side_encryption_by_default())
        .map(|d| d.sse_algorithm().as_str().to_owned());
    assert_eq!(algo.as_deref(), Some("AES256"));
    let pab = s3.get_public_access_block().bucket(b).send().await.unwrap();
    let c = pab.public_access_block_configuration().unwrap();
    assert_eq!(
        (c.block_public_acls(), c.block_public_policy(), c.ignore_public_acls(), c.restrict_public_buckets()),
        (Some(true), Some(true), Some(true), Some(true))
    );
}

#[tokio::test]
async fn a_campaign_started_over_http_reaches_the_sender_and_pauses_without_a_session() {
    let st = stack(STACK);
    let http = test_support::http();
    let account = format!("world-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    // Given an account that was never set up, when a campaign starts through the HTTP API
    let resp = http
        .post(format!("{}/campaigns", st.http_base_url))
        .json(&json!({
            "name": "world check",
            "account": account,
            "template": "Hello {{name}}",
            "default_region": "DE",
            "recipients": [
                {"phone": "0151 12345678", "vars": {"name": "Ana"}},
                {"phone": "+49 151 12345679", "vars": {"name": "Ben"}},
                {"phone": "not a number", "vars": {"name": "Cy"}}
            ]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let accepted: Value = resp.json().await.unwrap();
    let id = accepted["campaign_id"].as_str().unwrap().to_owned();
    assert_eq!(accepted["queued"], 2);
    assert_eq!(accepted["invalid"][0]["row"], 2);
    assert_eq!(accepted["warning"]["code"], "SESSION_EXPIRED");

    // then the sender (through the event-source mapping) pauses both messages, and the status
    // function (through HTTP) reports it with the commands that fix it.
    let status: Value = eventually("the campaign to pause", Duration::from_secs(60), || {
        let http = http.clone();
        let url = format!("{}/campaigns/{id}", st.http_base_url);
        async move {
            let body: Value = http.get(url).send().await.ok()?.json().await.ok()?;
            (body["counts"]["paused"] == 2).then_some(body)
        }
    })
    .await;
    assert_eq!(status["status"], "PAUSED");
    assert_eq!(status["reason"], "SESSION_EXPIRED");
    assert_eq!(status["counts"]["failed"], 1, "the invalid number is FAILED, not lost");
    assert_eq!(status["counts"]["queued"], 0);
    assert_eq!(
        status["hint"].as_str().unwrap(),
        format!(
            "Run `wacamp setup --account {account} --force`; campaign {id} then resumes by itself (after `--no-resume`: `wacamp resume {id}`)."
        )
    );
    let paused_at = status["updated_at"].as_str().unwrap().to_owned();

    // When the operator resumes it (still without a session), exactly the paused rows are queued
    // again (the invalid one stays FAILED), and the sender pauses them again — nothing is lost,
    // and a resume is never swallowed by the queue's deduplication window.
    let resumed: Value = test_support::post_json(format!("{}/campaigns/{id}/resume", st.http_base_url)).await;
    assert_eq!(resumed["requeued"], 2, "{resumed}");
    let again: Value = eventually("the resumed campaign to pause again", Duration::from_secs(60), || {
        let http = http.clone();
        let url = format!("{}/campaigns/{id}", st.http_base_url);
        let paused_at = paused_at.clone();
        async move {
            let body: Value = http.get(url).send().await.ok()?.json().await.ok()?;
            (body["counts"]["paused"] == 2 && body["updated_at"].as_str() != Some(&paused_at)).then_some(body)
        }
    })
    .await;
    assert_eq!(again["status"], "PAUSED");
    assert_eq!(again["counts"]["failed"], 1);
    assert_eq!(again["counts"]["queued"], 0);
}

#[tokio::test]
async fn bad_requests_get_a_json_error_naming_the_field() {
    let st = stack(STACK);
    let http = test_support::http();
    let post = |body: String| {
        let http = http.clone();
        let url = format!("{}/campaigns", st.http_base_url);
        async move {
            let r =
                http.post(url).header("content-type", "application/json").body(body).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = post("{\"name\": 5}".into()).await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "BAD_REQUEST");
    assert!(body["message"].as_str().unwrap().starts_with("name: invalid type"), "{body}");

    let (status, body) = post(
        json!({"name": "x", "account": "shop", "template": "Hi {{name}}", "recipients": [{"phone": "+4915112345678"}]})
            .to_string(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "TEMPLATE_VARIABLE_MISSING");
    assert_eq!(body["message"], "recipients[0]: variable 'name' is missing");

    let missing = http.get(format!("{}/campaigns/c-does-not-exist", st.http_base_url)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.json::<Value>().await.unwrap()["code"], "NOT_FOUND");
}

#[tokio::test]
async fn every_route_refuses_a_missing_or_wrong_api_key() {
    let st = stack(STACK);
    let anonymous = reqwest::Client::new();
    let routes = [
        anonymous.post(format!("{}/campaigns", st.http_base_url)).body("{}"),
        anonymous.post(format!("{}/campaigns/c-1/resume", st.http_base_url)),
        anonymous.get(format!("{}/campaigns/c-1", st.http_base_url)).header("x-api-key", "wrong"),
    ];
    for route in routes {
        let resp = route.send().await.unwrap();
        assert_eq!(resp.status(), 401);
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], "UNAUTHORIZED");
        assert!(body["message"].as_str().unwrap().starts_with("header x-api-key is"), "{body}");
    }
}

#[tokio::test]
async fn a_record_the_sender_gives_back_is_redelivered_then_moved_to_the_dlq() {
    let st = stack(STACK);
    let sqs = aws_sdk_sqs::Client::new(&sdk_config().await);
    // Given a record pointing at a row that does not exist (the sender retries those), in a
    // message group of its own so no earlier record holds it back,
    let marker = format!("c-missing-{}", uuid::Uuid::new_v4().simple());
    let group = format!("world-dlq-{}", &marker[10..20]);
    let body = json!({"campaign_id": marker, "seq": 0, "account": group}).to_string();
    sqs.send_message()
        .queue_url(&st.queue_url)
        .message_body(&body)
        .message_group_id(&group)
        .message_deduplication_id(&marker)
        .send()
        .await
        .unwrap();
    // when the event-source mapping delivers it and the sender reports it failed each time,
    // then after maxReceiveCount deliveries it lands in the dead-letter queue.
    let receive_count: u32 = eventually("the record in the DLQ", Duration::from_secs(90), || {
        let sqs = sqs.clone();
        let (dlq, marker) = (st.dead_letter_queue_url.clone(), marker.clone());
        async move {
            let out = sqs
                .receive_message()
                .queue_url(&dlq)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .message_system_attribute_names(
                    aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
                )
                .send()
                .await
                .ok()?;
            let mut found = None;
            for m in out.messages() {
                let body = m.body().unwrap_or_default();
                if body.contains(&marker) {
                    found = Some(
                        m.attributes()
                            .and_then(|a| {
                                a.get(
                                    &aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
                                )
                            })
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0),
                    );
                }
                // This test's records (this run's and earlier runs') are removed once seen, so a
                // persisted emulator never fills the DLQ with them.
                if body.contains("c-missing-")
                    && let Some(handle) = m.receipt_handle()
                {
                    let _ = sqs.delete_message().queue_url(&dlq).receipt_handle(handle).send().await;
                }
            }
            found
        }
    })
    .await;
    assert!(receive_count >= 2, "delivered {receive_count} times before the DLQ");
}
