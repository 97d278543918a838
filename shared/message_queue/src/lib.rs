//! The FIFO queue that feeds the sender: the `MessageQueue` port start_campaign and the sender
//! use, its SQS adapter and an in-memory fake for unit tests of pure logic. A record is a
//! `domain::QueuedMessage`; the message group is the sending account.

mod memory;
mod sqs;

pub use memory::InMemoryMessageQueue;
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
}
