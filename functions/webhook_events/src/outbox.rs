//! The webhook queue as the events function writes it: envelopes in batches of ten through
//! `message_queue::batch` (the entries SQS refused sent again after a growing wait), and an
//! error when some still cannot be queued (the stream then hands the whole batch again).

use async_trait::async_trait;
use message_queue::QueueError;
use message_queue::batch::{self, BATCH, Entry};
use webhook::Envelope;

/// Why envelopes could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The queue could not be reached or refused the call.
    #[error("webhook queue unavailable: {0}")]
    Unavailable(String),
    /// Some entries were refused every time.
    #[error("the webhook queue refused {0} events: {1}")]
    Refused(usize, String),
}

/// Where events wait for delivery.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Queues every envelope, or fails.
    async fn put(&self, envelopes: &[Envelope]) -> Result<(), OutboxError>;
}

/// The SQS webhook queue.
pub struct SqsOutbox {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsOutbox {
    /// The queue at `queue_url`.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into() }
    }
}

#[async_trait]
impl Outbox for SqsOutbox {
    async fn put(&self, envelopes: &[Envelope]) -> Result<(), OutboxError> {
        let entries = envelopes
            .iter()
            .map(|e| serde_json::to_string(e).map(Entry::standard))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| OutboxError::Unavailable(e.to_string()))?;
        for chunk in entries.chunks(BATCH) {
            batch::send(&self.client, &self.queue_url, chunk).await.map_err(|e| match &e {
                QueueError::Partial { failed, .. } => OutboxError::Refused(*failed, e.to_string()),
                QueueError::Unavailable(inner) => OutboxError::Unavailable(inner.to_string()),
            })?;
        }
        Ok(())
    }
}
