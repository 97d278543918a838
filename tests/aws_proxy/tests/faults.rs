//! The proxy's faults as the AWS SDK for Rust sees them: each one parses into the error variant
//! AWS's own reply would, the limits refuse what AWS refuses, concurrent transactions on one item
//! conflict, and a lost reply leaves the write applied.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_proxy::{FaultKind, FaultPlan, FaultProxy, Limits, ProxyHandle, Rule};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_sdk_sqs::operation::send_message_batch::SendMessageBatchError;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use std::time::Duration;

fn proxy() -> ProxyHandle {
    FaultProxy::start(&test_support::endpoint()).expect("the proxy starts")
}

/// SDK configuration through the proxy with `attempts` tries per call (1: no retries).
async fn through(proxy: &ProxyHandle, attempts: u32) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(proxy.url())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new("test", "test", None, None, "tests"))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(attempts))
        .load()
        .await
}

fn only(kind: FaultKind, ops: &[&str]) -> FaultPlan {
    FaultPlan::with_rules(vec![Rule::new(kind, 1.0).on(ops)], 7)
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn put(table: &str, pk: &str) -> TransactWriteItem {
    TransactWriteItem::builder()
        .put(Put::builder().table_name(table).item("PK", s(pk)).item("SK", s("A")).build().unwrap())
        .build()
}

#[tokio::test]
async fn a_transaction_conflict_is_a_cancelled_transaction_with_a_transaction_conflict_reason() {
    let proxy = proxy();
    let (_, table) = test_support::fresh_table("proxy").await;
    proxy.set_plan(only(FaultKind::TransactionConflict, &[]));
    let ddb = aws_sdk_dynamodb::Client::new(&through(&proxy, 1).await);
    let err = ddb
        .transact_write_items()
        .transact_items(put(&table, "a"))
        .transact_items(put(&table, "b"))
        .send()
        .await
        .unwrap_err();
    let Some(TransactWriteItemsError::TransactionCanceledException(tce)) = err.as_service_error() else {
        panic!("expected TransactionCanceledException, got {err:?}")
    };
    let codes: Vec<Option<&str>> = tce.cancellation_reasons().iter().map(|r| r.code()).collect();
    assert_eq!(codes, vec![Some("None"), Some("TransactionConflict")]);
    assert_eq!(proxy.stats().injected(FaultKind::TransactionConflict), 1);
}

#[tokio::test]
async fn dynamodb_throttling_and_500s_parse_into_their_modelled_errors() {
    let proxy = proxy();
    let (_, table) = test_support::fresh_table("proxy").await;
    let ddb = aws_sdk_dynamodb::Client::new(&through(&proxy, 1).await);
    let put = || ddb.put_item().table_name(&table).item("PK", s("x")).item("SK", s("y")).send();
    proxy.set_plan(only(FaultKind::ProvisionedThroughputExceeded, &["PutItem"]));
    assert!(matches!(
        put().await.unwrap_err().as_service_error(),
        Some(PutItemError::ProvisionedThroughputExceededException(_))
    ));
    proxy.set_plan(only(FaultKind::Throttling, &["PutItem"]));
    assert!(matches!(
        put().await.unwrap_err().as_service_error(),
        Some(PutItemError::ThrottlingException(_))
    ));
    proxy.set_plan(only(FaultKind::InternalServerError, &["PutItem"]));
    assert!(matches!(
        put().await.unwrap_err().as_service_error(),
        Some(PutItemError::InternalServerError(_))
    ));
}

#[tokio::test]
async fn the_sdk_retries_throttling_and_500s_and_succeeds_once_they_pass() {
    let proxy = proxy();
    let (_, table) = test_support::fresh_table("proxy").await;
    let ddb = aws_sdk_dynamodb::Client::new(&through(&proxy, 3).await);
    proxy.set_plan(FaultPlan::with_rules(
        vec![
            Rule::new(FaultKind::Throttling, 1.0).on(&["PutItem"]).at_most(1),
            Rule::new(FaultKind::InternalServerError, 1.0).on(&["PutItem"]).at_most(1),
        ],
        1,
    ));
    ddb.put_item()
        .table_name(&table)
        .item("PK", s("x"))
        .item("SK", s("y"))
        .send()
        .await
        .expect("the third attempt");
    let stats = proxy.stats();
    assert_eq!(
        (stats.injected(FaultKind::Throttling), stats.injected(FaultKind::InternalServerError)),
        (1, 1)
    );
    assert_eq!(stats.calls.get("DynamoDB.PutItem"), Some(&3));
}

#[tokio::test]
async fn sqs_throttling_and_503s_parse_as_sqs_sends_them() {
    let proxy = proxy();
    let sqs = aws_sdk_sqs::Client::new(&through(&proxy, 1).await);
    let url =
        sqs.create_queue().queue_name(test_support::unique("proxy")).send().await.unwrap().queue_url.unwrap();
    let entry = SendMessageBatchRequestEntry::builder().id("0").message_body("hi").build().unwrap();
    proxy.set_plan(only(FaultKind::SqsThrottled, &["SendMessageBatch"]));
    let err = sqs.send_message_batch().queue_url(&url).entries(entry.clone()).send().await.unwrap_err();
    assert!(matches!(err.as_service_error(), Some(SendMessageBatchError::RequestThrottled(_))), "{err:?}");
    proxy.set_plan(only(FaultKind::SqsUnavailable, &["SendMessageBatch"]));
    let err = sqs.send_message_batch().queue_url(&url).entries(entry).send().await.unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(503));
    assert_eq!(aws_sdk_sqs::error::ProvideErrorMetadata::code(&err), Some("ServiceUnavailable"));
}

#[tokio::test]
async fn s3_slow_down_is_a_503_with_its_code() {
    let proxy = proxy();
    let (_, bucket) = test_support::fresh_bucket("proxy").await;
    let conf = aws_sdk_s3::config::Builder::from(&through(&proxy, 1).await).force_path_style(true).build();
    let s3 = aws_sdk_s3::Client::from_conf(conf);
    proxy.set_plan(only(FaultKind::S3SlowDown, &["PutObject"]));
    let err = s3.put_object().bucket(&bucket).key("k").body(b"v".to_vec().into()).send().await.unwrap_err();
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(503));
    assert_eq!(aws_sdk_s3::error::ProvideErrorMetadata::code(&err), Some("SlowDown"));
}

#[tokio::test]
async fn a_lost_reply_leaves_the_write_applied_and_the_caller_without_an_answer() {
    let proxy = proxy();
    let (direct, table) = test_support::fresh_table("proxy").await;
    proxy.set_plan(only(FaultKind::ReplyLost, &["PutItem"]));
    let ddb = aws_sdk_dynamodb::Client::new(&through(&proxy, 1).await);
    let err =
        ddb.put_item().table_name(&table).item("PK", s("lost")).item("SK", s("y")).send().await.unwrap_err();
    assert!(err.as_service_error().is_none(), "no reply, so no service error: {err:?}");
    let item = direct
        .get_item()
        .table_name(&table)
        .key("PK", s("lost"))
        .key("SK", s("y"))
        .send()
        .await
        .unwrap()
        .item;
    assert!(item.is_some(), "the write was applied");
}

#[tokio::test]
async fn aws_limits_are_refused_as_aws_refuses_them() {
    let proxy = proxy();
    let (_, table) = test_support::fresh_table("proxy").await;
    let conf = through(&proxy, 1).await;
    let ddb = aws_sdk_dynamodb::Client::new(&conf);
    let big = "x".repeat(401 * 1024);
    let err = ddb
        .put_item()
        .table_name(&table)
        .item("PK", s("a"))
        .item("SK", s("b"))
        .item("v", s(&big))
        .send()
        .await
        .unwrap_err();
    assert_eq!(aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&err), Some("ValidationException"));
    let mut tx = ddb.transact_write_items();
    for i in 0..101 {
        tx = tx.transact_items(put(&table, &format!("row{i}")));
    }
    let err = tx.send().await.unwrap_err();
    assert_eq!(aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&err), Some("ValidationException"));

    let sqs = aws_sdk_sqs::Client::new(&conf);
    let url =
        sqs.create_queue().queue_name(test_support::unique("proxy")).send().await.unwrap().queue_url.unwrap();
    let err =
        sqs.send_message().queue_url(&url).message_body("y".repeat(257 * 1024)).send().await.unwrap_err();
    assert_eq!(aws_sdk_sqs::error::ProvideErrorMetadata::code(&err), Some("InvalidParameterValue"));
    sqs.send_message().queue_url(&url).message_body("ok").send().await.unwrap();
    let received = sqs.receive_message().queue_url(&url).send().await.unwrap();
    let handle = received.messages()[0].receipt_handle().unwrap().to_owned();
    // A 12-hour visibility right after the receipt goes past 12 hours from it: AWS refuses it.
    let err = sqs
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&handle)
        .visibility_timeout(43_200)
        .send()
        .await
        .unwrap_err();
    assert_eq!(aws_sdk_sqs::error::ProvideErrorMetadata::code(&err), Some("InvalidParameterValue"));
    sqs.change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&handle)
        .visibility_timeout(3600)
        .send()
        .await
        .unwrap();
    let refused: u64 = proxy.stats().refused.values().sum();
    assert_eq!(refused, 4);
}

#[tokio::test]
async fn concurrent_transactions_on_one_item_conflict_as_on_dynamodb() {
    let proxy = proxy();
    let (_, table) = test_support::fresh_table("proxy").await;
    proxy.set_plan(FaultPlan {
        limits: Limits { transaction_latency: Duration::from_millis(300), ..Limits::default() },
        ..FaultPlan::strict()
    });
    let ddb = aws_sdk_dynamodb::Client::new(&through(&proxy, 1).await);
    let bump = |row: &str| {
        let update = Update::builder()
            .table_name(&table)
            .key("PK", s("meta"))
            .key("SK", s("A"))
            .update_expression("ADD n :one")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .build()
            .unwrap();
        ddb.transact_write_items()
            .transact_items(put(&table, row))
            .transact_items(TransactWriteItem::builder().update(update).build())
            .send()
    };
    let (a, b) = tokio::join!(bump("r1"), bump("r2"));
    let results = [a.is_ok(), b.is_ok()];
    assert_eq!(
        results.iter().filter(|ok| **ok).count(),
        1,
        "exactly one of two overlapping transactions commits"
    );
    let err = a.err().or(b.err()).unwrap();
    let Some(TransactWriteItemsError::TransactionCanceledException(tce)) = err.as_service_error() else {
        panic!("{err:?}")
    };
    assert_eq!(tce.cancellation_reasons()[1].code(), Some("TransactionConflict"));
    assert_eq!(proxy.stats().conflicts, 1);
}
