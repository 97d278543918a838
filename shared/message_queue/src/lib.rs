//! The FIFO queue that feeds the sender: the `MessageQueue` port start_campaign, the sender and
//! the reconciler use, and the `DeadLetters` port the reconciler drains its dead-letter queue
//! through; their SQS adapters and in-memory fakes for unit tests of pure logic. A record is a
//! `domain::QueuedMessage`; the message group is the sending account. [`batch`] writes batches
//! to any SQS queue (also the webhook queue).

pub mod batch;
mod dead_letters;
mod memory;
mod sqs;

pub use dead_letters::SqsDeadLetters;
pub use memory::{InMemoryDeadLetters, InMemoryMessageQueue};
pub use sqs::SqsMessageQueue;

use async_trait::async_trait;
use domain::QueuedMessage;
use std::time::Duration;

/// A failure of the message queue.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue could not be reached or refused the call.
    #[error("message queue unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Some entries were still refused after the retries.
    #[error("{failed} of {total} queue entries were refused after retries")]
    Partial {
        /// Refused entries.
        failed: usize,
        /// Entries attempted.
        total: usize,
    },
}

/// The FIFO queue that feeds the sender.
#[async_trait]
pub trait MessageQueue: Send + Sync {
    /// Queues messages (group = account, deduplication id = campaign + row + round).
    async fn enqueue(&self, messages: &[QueuedMessage]) -> Result<(), QueueError>;
    /// Makes a delivered record visible again after `delay` (a retry with backoff).
    async fn retry_later(&self, receipt_handle: &str, delay: Duration) -> Result<(), QueueError>;
    /// About how many records the queue holds (waiting, in flight and delayed); SQS's figures are
    /// approximate, so callers only ever use it to decide to do more, never less.
    async fn depth(&self) -> Result<u64, QueueError>;
}

/// A record that reached the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Deletes it once handled.
    pub receipt_handle: String,
    /// Its body as sent (a `QueuedMessage` in JSON, unless something else was sent).
    pub body: String,
}

/// The dead-letter queue, as the reconciler drains it back.
#[async_trait]
pub trait DeadLetters: Send + Sync {
    /// Up to `max` records (at most 10 per call), hidden from other readers for a while.
    async fn receive(&self, max: u32) -> Result<Vec<DeadLetter>, QueueError>;
    /// Deletes a handled record.
    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError>;
}
