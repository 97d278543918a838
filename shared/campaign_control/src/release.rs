//! Starting a scheduled campaign: once its start time has come (the reconciler's schedule), or at
//! once when the operator says so. The campaign moves SCHEDULED → RUNNING in one conditional
//! write, then its held (PAUSED) rows are queued. Repeatable and safe to race: two releases of one
//! campaign queue each row once (a row that moved is left out), and a release that died after
//! the status move is finished by the reconciler (the campaign is marked issuing first).

use crate::Control;
use crate::resume::{ResumeError, requeue_rows};
use campaign_store::Transition;
use domain::{CampaignId, CampaignStatus, MessageStatus, SendAt};

/// When a release applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Only if its start time has come.
    Due,
    /// Now, whatever its start time (the start time becomes now).
    Now,
}

/// What a release did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Released {
    /// It runs now; this many held rows were queued.
    Started {
        /// Rows queued.
        requeued: usize,
        /// Its status after (RUNNING, or COMPLETED when nothing was left).
        status: CampaignStatus,
    },
    /// Its start time is still ahead (only for [`When::Due`]).
    NotYet,
    /// It is not scheduled (any more): released already, or cancelled.
    NotScheduled(CampaignStatus),
}

/// Releases campaign `id` as `when` says.
pub async fn release(control: &Control, id: &CampaignId, when: When) -> Result<Released, ResumeError> {
    let store = control.store.as_ref();
    let view = store.campaign(id).await?.ok_or_else(|| ResumeError::Unknown(id.clone()))?;
    if view.status != CampaignStatus::Scheduled {
        return Ok(Released::NotScheduled(view.status));
    }
    let now = control.clock.now();
    let at = control.now();
    let due = view.send_at.as_deref().and_then(SendAt::read).is_some_and(|s| s.is_due(now.unix_timestamp()));
    if when == When::Due && !due {
        return Ok(Released::NotYet);
    }
    if !due && store.reschedule_campaign(id, SendAt::at(now), &at).await? != Transition::Applied {
        return Ok(Released::NotScheduled(current(control, id).await?));
    }
    // Until every held row has its record, the reconciler re-issues the rows this moves.
    let issuing = control.clock.unix();
    store.mark_issuing(id, issuing).await?;
    match store.release_campaign(id, &at, now.unix_timestamp()).await? {
        Transition::Applied => {}
        Transition::Missing => return Err(ResumeError::Unknown(id.clone())),
        // Released meanwhile by another run (or this write applied and its reply lost): queueing
        // the held rows again is harmless; a cancelled one is left alone.
        Transition::NotApplicable => match current(control, id).await? {
            CampaignStatus::Running => {}
            other => {
                store.mark_issued(id, issuing).await?;
                return Ok(Released::NotScheduled(other));
            }
        },
    }
    let requeued = requeue_rows(control, id, &[MessageStatus::Paused], &at, "started").await?;
    store.settle_campaign(id, &at).await?;
    store.mark_issued(id, issuing).await?;
    let status = current(control, id).await?;
    tracing::info!(campaign = %id, requeued, early = !due, "scheduled campaign started");
    Ok(Released::Started { requeued, status })
}

async fn current(control: &Control, id: &CampaignId) -> Result<CampaignStatus, ResumeError> {
    Ok(control.store.campaign(id).await?.ok_or_else(|| ResumeError::Unknown(id.clone()))?.status)
}
