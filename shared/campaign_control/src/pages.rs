//! Walking and re-issuing a campaign's rows a store page at a time, for resume, cancel and the
//! completion of a half-finished start.

use crate::Control;
use campaign_store::{CampaignStore, MessageRow, StoreError};
use domain::{CampaignId, MessageSeq, MessageStatus, QueuedMessage};
use message_queue::QueueError;

/// Rows handled per store page during a resume or a cancel.
pub const PAGE: u32 = 500;

/// Walks a campaign's rows in one status, a store page at a time, in row order. Rows may leave
/// the status while it walks (that is what a resume or a cancel does): paging goes by row number.
pub struct Pages<'a> {
    store: &'a dyn CampaignStore,
    id: &'a CampaignId,
    status: MessageStatus,
    after: Option<MessageSeq>,
    done: bool,
}

impl<'a> Pages<'a> {
    /// The rows of `id` in `status`, from the first.
    pub fn new(store: &'a dyn CampaignStore, id: &'a CampaignId, status: MessageStatus) -> Self {
        Self { store, id, status, after: None, done: false }
    }

    /// The next page, or `None` when every row was walked.
    pub async fn next(&mut self) -> Result<Option<Vec<MessageRow>>, StoreError> {
        if self.done {
            return Ok(None);
        }
        let page = self.store.messages_in_status(self.id, self.status, self.after, PAGE).await?;
        self.done = page.len() < PAGE as usize;
        self.after = page.last().map(|r| r.seq);
        Ok(if page.is_empty() { None } else { Some(page) })
    }
}

/// Why re-issuing stopped.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The queue failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Queues a record for every row still QUEUED, with the row's round, so the queue drops the
/// records that are still there (within its deduplication window). Returns how many were sent.
pub async fn requeue_queued(control: &Control, id: &CampaignId) -> Result<usize, IssueError> {
    let mut pages = Pages::new(control.store.as_ref(), id, MessageStatus::Queued);
    let mut queued = 0;
    while let Some(page) = pages.next().await? {
        let batch: Vec<QueuedMessage> =
            page.iter().map(|r| QueuedMessage::new(id.clone(), r.seq, r.account.clone(), r.round)).collect();
        control.queue.enqueue(&batch).await?;
        queued += batch.len();
    }
    tracing::debug!(campaign = %id, queued, "records queued again for QUEUED rows");
    Ok(queued)
}
