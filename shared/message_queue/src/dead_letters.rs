//! `DeadLetters` on the SQS FIFO dead-letter queue.

use crate::{DeadLetter, DeadLetters, QueueError};
use async_trait::async_trait;
use aws_sdk_sqs::Client;
use platform::retry;

/// The SQS adapter of the dead-letter queue.
#[derive(Clone)]
pub struct SqsDeadLetters {
    client: Client,
    queue_url: String,
}

impl SqsDeadLetters {
    /// Uses the dead-letter queue at `queue_url` through `client`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }
}

#[async_trait]
impl DeadLetters for SqsDeadLetters {
    async fn receive(&self, max: u32) -> Result<Vec<DeadLetter>, QueueError> {
        let request = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(i32::try_from(max.clamp(1, 10)).unwrap_or(10))
            // Hidden while handled; a reconciler that dies gives them back to the next one.
            .visibility_timeout(120);
        let out =
            retry::call(|| request.clone().send()).await.map_err(|e| QueueError::Unavailable(Box::new(e)))?;
        Ok(out
            .messages()
            .iter()
            .filter_map(|m| {
                Some(DeadLetter {
                    receipt_handle: m.receipt_handle()?.to_owned(),
                    body: m.body().unwrap_or_default().to_owned(),
                })
            })
            .collect())
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        let request = self.client.delete_message().queue_url(&self.queue_url).receipt_handle(receipt_handle);
        retry::call(|| request.clone().send()).await.map_err(|e| QueueError::Unavailable(Box::new(e)))?;
        Ok(())
    }
}
