//! One `SendMessageBatch` of at most ten entries to any SQS queue, standard or FIFO, with the
//! entries SQS refuses (throttled, internal errors) and whole calls that fail transiently sent
//! again after a growing wait. The sender's FIFO queue and the webhook queue both write through it.

use crate::QueueError;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use platform::retry;

/// Entries per call (SQS's limit).
pub const BATCH: usize = 10;
/// Calls per batch, at most.
const MAX_ATTEMPTS: u32 = 6;

/// One message of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its body.
    pub body: String,
    /// Its message group (FIFO queues only).
    pub group: Option<String>,
    /// Its deduplication id (FIFO queues only).
    pub dedup: Option<String>,
}

impl Entry {
    /// An entry for a standard queue.
    pub fn standard(body: String) -> Self {
        Self { body, group: None, dedup: None }
    }
}

/// Sends `batch` (at most [`BATCH`] entries) to `queue_url`; `Partial` when some entries were
/// still refused after the retries.
pub async fn send(client: &Client, queue_url: &str, batch: &[Entry]) -> Result<(), QueueError> {
    let mut pending: Vec<(String, &Entry)> =
        batch.iter().enumerate().map(|(i, e)| (i.to_string(), e)).collect();
    for attempt in 0..MAX_ATTEMPTS {
        let entries = pending
            .iter()
            .map(|(id, e)| {
                SendMessageBatchRequestEntry::builder()
                    .id(id.clone())
                    .message_body(e.body.clone())
                    .set_message_group_id(e.group.clone())
                    .set_message_deduplication_id(e.dedup.clone())
                    .build()
                    .map_err(|e| QueueError::Unavailable(Box::new(e)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sent = client.send_message_batch().queue_url(queue_url).set_entries(Some(entries)).send().await;
        let out = match sent {
            Ok(out) => out,
            // Throttling, a 5xx or no reply that outlived the SDK's retries: the whole batch
            // again (on a FIFO queue the deduplication ids drop what did get through).
            Err(e) if attempt + 1 < MAX_ATTEMPTS && retry::is_transient(&e) => {
                tokio::time::sleep(retry::backoff(attempt + 1)).await;
                continue;
            }
            Err(e) => return Err(QueueError::Unavailable(Box::new(e))),
        };
        let failed: Vec<&str> = out.failed.iter().map(|f| f.id.as_str()).collect();
        pending.retain(|(id, _)| failed.contains(&id.as_str()));
        if pending.is_empty() {
            return Ok(());
        }
        tokio::time::sleep(retry::backoff(attempt + 1)).await;
    }
    Err(QueueError::Partial { failed: pending.len(), total: batch.len() })
}
