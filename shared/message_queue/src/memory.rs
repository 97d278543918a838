//! The in-memory queue, for unit tests of pure logic only.

use crate::{DeadLetter, DeadLetters, MessageQueue, QueueError};
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
    /// What [`MessageQueue::depth`] answers.
    pub depth: Mutex<u64>,
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

    async fn depth(&self) -> Result<u64, QueueError> {
        Ok(*self.depth.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// A dead-letter queue in a vector.
#[derive(Default)]
pub struct InMemoryDeadLetters {
    /// The records in it.
    pub letters: Mutex<Vec<DeadLetter>>,
}

#[async_trait]
impl DeadLetters for InMemoryDeadLetters {
    async fn receive(&self, max: u32) -> Result<Vec<DeadLetter>, QueueError> {
        let letters = self.letters.lock().unwrap_or_else(|p| p.into_inner());
        Ok(letters.iter().take(max.min(10) as usize).cloned().collect())
    }

    async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.letters.lock().unwrap_or_else(|p| p.into_inner()).retain(|l| l.receipt_handle != receipt_handle);
        Ok(())
    }
}
