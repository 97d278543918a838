//! The in-memory queue, for unit tests of pure logic only.

use crate::{MessageQueue, QueueError};
use async_trait::async_trait;
use domain::QueuedMessage;
use std::sync::Mutex;
use std::time::Duration;

/// A queue in a vector; records retries so tests can assert them.
#[derive(Default)]
pub struct InMemoryMessageQueue {
    /// Everything enqueued, in order.
    pub queued: Mutex<Vec<QueuedMessage>>,
    /// Receipt handles given back for a retry, with their delay.
    pub retried: Mutex<Vec<(String, Duration)>>,
}

#[async_trait]
impl MessageQueue for InMemoryMessageQueue {
    async fn enqueue(&self, messages: &[QueuedMessage]) -> Result<(), QueueError> {
        self.queued.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(messages);
        Ok(())
    }

    async fn retry_later(&self, receipt_handle: &str, delay: Duration) -> Result<(), QueueError> {
        self.retried.lock().unwrap_or_else(|p| p.into_inner()).push((receipt_handle.to_owned(), delay));
        Ok(())
    }
}
