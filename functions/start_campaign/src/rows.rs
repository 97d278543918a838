//! Walking and re-issuing a campaign's rows a store page at a time, for resume, cancel and the
//! completion of a half-finished start.

use crate::{ApiError, Deps};
use campaign_store::StoreError;
use domain::{CampaignId, ErrorCode, QueuedMessage};

/// The answer for a resume or cancel the store stopped part-way: for AWS turning it away past
/// every try, a 503 that says how far it got (everything before stays done, and the same call
/// again continues from there); anything else is internal.
pub(crate) fn stopped(context: &str, err: &StoreError, progress: impl FnOnce() -> String) -> ApiError {
    match err {
        StoreError::Contended(_) | StoreError::Unavailable(_) => {
            tracing::warn!(error = %err, context, "stopped part-way; the same call continues");
            ApiError::new(
                ErrorCode::StoreBusy,
                format!("{}; the table turned the rest away for now: call it again to continue", progress()),
            )
        }
        _ => ApiError::internal(context, err),
    }
}

/// Queues a record for every row still QUEUED, with the row's round, so the queue drops the
/// records that are still there (within its deduplication window). Returns how many were sent.
pub(crate) async fn requeue_queued(deps: &Deps, id: &CampaignId) -> Result<usize, ApiError> {
    let mut pages = Pages::new(deps, id, domain::MessageStatus::Queued);
    let mut queued = 0;
    while let Some(page) = pages.next().await? {
        let batch: Vec<QueuedMessage> =
            page.iter().map(|r| QueuedMessage::new(id.clone(), r.seq, r.account.clone(), r.round)).collect();
        deps.queue.enqueue(&batch).await.map_err(|e| ApiError::internal("enqueue", &e))?;
        queued += batch.len();
    }
    tracing::debug!(campaign = %id, queued, "records queued again for QUEUED rows");
    Ok(queued)
}

/// Rows handled per store page during a resume or a cancel.
pub(crate) const PAGE: u32 = 500;

/// Walks a campaign's rows in one status, a store page at a time, in row order. Rows may leave
/// the status while it walks (that is what a resume or a cancel does): paging goes by row number.
pub(crate) struct Pages<'a> {
    deps: &'a Deps,
    id: &'a CampaignId,
    status: domain::MessageStatus,
    after: Option<domain::MessageSeq>,
    done: bool,
}

impl<'a> Pages<'a> {
    pub(crate) fn new(deps: &'a Deps, id: &'a CampaignId, status: domain::MessageStatus) -> Self {
        Self { deps, id, status, after: None, done: false }
    }

    pub(crate) async fn next(&mut self) -> Result<Option<Vec<campaign_store::MessageRow>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let page = self
            .deps
            .store
            .messages_in_status(self.id, self.status, self.after, PAGE)
            .await
            .map_err(|e| ApiError::internal("list rows", &e))?;
        self.done = page.len() < PAGE as usize;
        self.after = page.last().map(|r| r.seq);
        Ok(if page.is_empty() { None } else { Some(page) })
    }
}
