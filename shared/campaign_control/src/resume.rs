//! Resuming one campaign: the PAUSED rows (after the session was fixed) and, with
//! `retry_failed`, the rows that FAILED with a retryable code (one more attempt each) queued
//! again; rows still QUEUED get their record again; a COMPLETED campaign reopens for retries.

use crate::Control;
use crate::pages::{IssueError, Pages, requeue_queued};
use campaign_store::StoreError;
use domain::{CampaignId, CampaignStatus, ErrorCode, MessageStatus, QueuedMessage};
use message_queue::QueueError;

/// What a resume did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumed {
    /// The campaign's status after it.
    pub status: CampaignStatus,
    /// Rows queued again (paused, and retryable failures when asked).
    pub requeued: usize,
    /// Rows still QUEUED whose record was issued again.
    pub reissued: usize,
}

/// Why a resume did not happen or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// No such campaign.
    #[error("campaign '{0}' does not exist")]
    Unknown(CampaignId),
    /// Cancelled, scheduled (it starts at its time), or completed with nothing to retry.
    #[error("campaign '{id}' is {status} and cannot resume")]
    Over {
        /// The campaign.
        id: CampaignId,
        /// Its status.
        status: CampaignStatus,
    },
    /// The store stopped it part-way while moving rows; `progress` says how far it got
    /// (everything before stays done, and the same call again continues from there).
    #[error("{progress}: {source}")]
    Stopped {
        /// How far it got.
        progress: String,
        /// What stopped it.
        source: StoreError,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The queue failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl From<IssueError> for ResumeError {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::Store(e) => Self::Store(e),
            IssueError::Queue(e) => Self::Queue(e),
        }
    }
}

/// Resumes campaign `id` (see the module docs). Repeatable: a resume stopped part-way is
/// finished by calling it again.
pub async fn resume(control: &Control, id: &CampaignId, retry_failed: bool) -> Result<Resumed, ResumeError> {
    let store = control.store.as_ref();
    let campaign = store.campaign(id).await?.ok_or_else(|| ResumeError::Unknown(id.clone()))?;
    // A scheduled campaign starts at its time or when told to start now (`release`), never
    // by a resume.
    let over = match campaign.status {
        CampaignStatus::Cancelled | CampaignStatus::Scheduled => true,
        CampaignStatus::Completed => !retry_failed,
        _ => false,
    };
    if over {
        return Err(ResumeError::Over { id: id.clone(), status: campaign.status });
    }
    let now = control.now();
    // Until this resume has queued every record, the reconciler re-issues the rows it moved.
    let issuing = control.clock.unix();
    store.mark_issuing(id, issuing).await?;
    // RUNNING first: a sender that pauses a row again from here on marks the campaign PAUSED again.
    store.resume_campaign(id, &now, retry_failed).await?;
    // Rows already QUEUED get their record again first (same round): one left without a record
    // by an interrupted resume, or whose record ended in the dead-letter queue, is sent after
    // all; a record still in the queue is dropped as a duplicate or settled by the claim.
    let reissued = requeue_queued(control, id).await?;
    let mut statuses = vec![MessageStatus::Paused];
    if retry_failed {
        statuses.push(MessageStatus::Failed);
    }
    let requeued = requeue_rows(control, id, &statuses, &now, "resumed").await?;
    // Nothing left to wait for (e.g. no failed row was retryable): completed again at once.
    store.settle_campaign(id, &now).await?;
    store.mark_issued(id, issuing).await?;
    let status = store.campaign(id).await?.map_or(CampaignStatus::Running, |c| c.status);
    tracing::info!(campaign = %id, requeued, reissued, retry_failed, "campaign resumed");
    Ok(Resumed { status, requeued, reissued })
}

/// Queues again the rows of `id` in each of `statuses` (`done` names the move in the progress
/// of an error) (PAUSED ones all; FAILED ones with a
/// retryable code), a page at a time, and returns how many. Many rows per transaction, the
/// counters moving once for all of them; a row that moved meanwhile is left out. Rows that moved
/// get their records before anything else.
pub(crate) async fn requeue_rows(
    control: &Control,
    id: &CampaignId,
    statuses: &[MessageStatus],
    now: &str,
    done: &str,
) -> Result<usize, ResumeError> {
    let store = control.store.as_ref();
    let mut requeued = 0usize;
    for &status in statuses {
        let mut pages = Pages::new(store, id, status);
        while let Some(page) = pages.next().await? {
            let chosen: Vec<campaign_store::MessageRow> = page
                .iter()
                .filter(|r| status == MessageStatus::Paused || r.error.is_some_and(ErrorCode::is_retryable))
                .cloned()
                .collect();
            let batch: Vec<QueuedMessage> =
                store.requeue_messages(id, &chosen, status, now).await.map_err(|source| {
                    ResumeError::Stopped {
                        progress: format!("campaign '{id}' {done} {requeued} messages"),
                        source,
                    }
                })?;
            control.queue.enqueue(&batch).await?;
            requeued += batch.len();
        }
    }
    Ok(requeued)
}
