//! Records taken from a stack's queue the way Lambda's event source takes them, for tests and
//! benchmarks that hand them to the sender themselves.

use crate::eventually;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// The records `n` queued messages make in the SQS event Lambda's event source hands the
/// function, received from `queue_url` as an event source mapping receives them (on a stack whose
/// event source is off, so the queue keeps them for the test). Each stays in flight for the
/// queue's visibility timeout, until [`delete_records`] deletes it as the event source would.
///
/// Only the records of `campaigns` count: any other (a reused local stack's leftovers from an
/// earlier run) is left in flight.
pub async fn take_records(queue_url: &str, campaigns: &[&str], n: usize) -> Vec<Value> {
    let sqs = crate::aws::sqs().await;
    let arn = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetQueueAttributes {queue_url}: {e}"))
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn).cloned())
        .unwrap_or_else(|| panic!("{queue_url} has no QueueArn"));
    let records = std::sync::Mutex::new(Vec::new());
    eventually("the campaign's records in the queue", Duration::from_secs(60), || {
        let (sqs, arn, records) = (&sqs, &arn, &records);
        async move {
            let got = sqs
                .receive_message()
                .queue_url(queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .send()
                .await
                .ok()?;
            let mut records = records.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            for m in got.messages() {
                let body: Value = m.body().and_then(|b| serde_json::from_str(b).ok()).unwrap_or_default();
                if !body["campaign_id"].as_str().is_some_and(|c| campaigns.contains(&c)) {
                    continue;
                }
                let attributes: BTreeMap<String, String> = m
                    .attributes()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                    .collect();
                records.push(json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": attributes,
                    "messageAttributes": {},
                    "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn,
                    "awsRegion": "us-east-1",
                }));
            }
            (records.len() >= n).then_some(())
        }
    })
    .await;
    let records = records.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
    assert_eq!(records.len(), n, "exactly the campaigns' records were queued");
    records
}

/// Deletes `records` from `queue_url`, as the event source mapping does with the records of a
/// batch the function reported no failure for.
pub async fn delete_records(queue_url: &str, records: &[Value]) {
    let sqs = crate::aws::sqs().await;
    for chunk in records.chunks(10) {
        let mut batch = sqs.delete_message_batch().queue_url(queue_url);
        for (i, record) in chunk.iter().enumerate() {
            let entry = aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(record["receiptHandle"].as_str().unwrap_or_default())
                .build()
                .unwrap_or_else(|e| panic!("a delete entry: {e}"));
            batch = batch.entries(entry);
        }
        let out = batch.send().await.unwrap_or_else(|e| panic!("DeleteMessageBatch: {e}"));
        assert!(out.failed().is_empty(), "records not deleted: {:?}", out.failed());
    }
}
