//! `MessageQueue` on an SQS FIFO queue: batches of ten (`batch`, failed entries retried with backoff),
//! one message group per sending account so one browser serves one account at a time.

use crate::batch::{self, BATCH, Entry};
use crate::{MessageQueue, QueueError};
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use domain::QueuedMessage;
use futures::{StreamExt, TryStreamExt};
use platform::retry;
use std::time::Duration;

const CONCURRENCY: usize = 8;

/// The SQS FIFO adapter.
#[derive(Clone)]
pub struct SqsMessageQueue {
    client: Client,
    queue_url: String,
}

impl SqsMessageQueue {
    /// Uses the FIFO queue at `queue_url` through `client`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }

    async fn send_batch(&self, batch: &[QueuedMessage]) -> Result<(), QueueError> {
        let entries = batch
            .iter()
            .map(|m| {
                let body = serde_json::to_string(m).map_err(|e| QueueError::Unavailable(Box::new(e)))?;
                Ok(Entry { body, group: Some(m.account.as_str().to_owned()), dedup: Some(m.dedup_id()) })
            })
            .collect::<Result<Vec<_>, QueueError>>()?;
        batch::send(&self.client, &self.queue_url, &entries).await
    }
}

#[async_trait]
impl MessageQueue for SqsMessageQueue {
    async fn enqueue(&self, messages: &[QueuedMessage]) -> Result<(), QueueError> {
        // Batches of ten go out CONCURRENCY at a time: a 10,000-row campaign is queued well inside
        // an API request's time. Order holds within each batch and roughly across batches; the
        // sender does not rely on it (every record names its own row).
        let sends: Vec<_> = messages.chunks(BATCH).map(|chunk| self.send_batch(chunk)).collect();
        futures::stream::iter(sends).buffer_unordered(CONCURRENCY).try_collect::<Vec<()>>().await?;
        Ok(())
    }

    async fn depth(&self) -> Result<u64, QueueError> {
        use aws_sdk_sqs::types::QueueAttributeName as A;
        let request = self
            .client
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(A::ApproximateNumberOfMessages)
            .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(A::ApproximateNumberOfMessagesDelayed);
        let out =
            retry::call(|| request.clone().send()).await.map_err(|e| QueueError::Unavailable(Box::new(e)))?;
        Ok(out.attributes().map_or(0, |a| a.values().filter_map(|v| v.parse::<u64>().ok()).sum()))
    }

    async fn retry_later(&self, receipt_handle: &str, delay: Duration) -> Result<(), QueueError> {
        let secs = i32::try_from(delay.as_secs()).unwrap_or(43_200).min(43_200);
        let request = self
            .client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .visibility_timeout(secs);
        retry::call(|| request.clone().send()).await.map_err(|e| QueueError::Unavailable(Box::new(e)))?;
        Ok(())
    }
}
