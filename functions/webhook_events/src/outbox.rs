//! The webhook queue as the events function writes it: envelopes in batches of ten, the
//! entries SQS refused sent again, and an error when some still cannot be queued (the stream
//! then hands the whole batch again).

use async_trait::async_trait;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
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

    /// Sends one batch (at most ten); answers the entries refused, by index, with the reason.
    async fn send(&self, batch: &[(usize, &Envelope)]) -> Result<Vec<(usize, String)>, OutboxError> {
        let mut entries = Vec::with_capacity(batch.len());
        for (i, envelope) in batch {
            let body =
                serde_json::to_string(envelope).map_err(|e| OutboxError::Unavailable(e.to_string()))?;
            let entry = SendMessageBatchRequestEntry::builder()
                .id(i.to_string())
                .message_body(body)
                .build()
                .map_err(|e| OutboxError::Unavailable(e.to_string()))?;
            entries.push(entry);
        }
        let out = self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| OutboxError::Unavailable(aws_sdk_sqs::error::DisplayErrorContext(&e).to_string()))?;
        Ok(out
            .failed
            .iter()
            .map(|f| {
                (
                    f.id.parse().unwrap_or(usize::MAX),
                    format!("{}: {}", f.code, f.message.clone().unwrap_or_default()),
                )
            })
            .collect())
    }
}

/// Tries for the entries SQS refuses one by one (throttled, internal errors).
const ATTEMPTS: usize = 3;

#[async_trait]
impl Outbox for SqsOutbox {
    async fn put(&self, envelopes: &[Envelope]) -> Result<(), OutboxError> {
        for chunk in envelopes.iter().enumerate().collect::<Vec<_>>().chunks(10) {
            let mut pending: Vec<(usize, &Envelope)> = chunk.to_vec();
            let mut last = String::new();
            for _ in 0..ATTEMPTS {
                if pending.is_empty() {
                    break;
                }
                let refused = self.send(&pending).await?;
                last = refused.first().map(|(_, r)| r.clone()).unwrap_or_default();
                pending.retain(|(i, _)| refused.iter().any(|(r, _)| r == i));
            }
            if !pending.is_empty() {
                return Err(OutboxError::Refused(pending.len(), last));
            }
        }
        Ok(())
    }
}
