//! Resuming by themselves the campaigns of an account that paused because its session stopped
//! working (expired, lost mid-send, open in another window), once a session works again. A
//! campaign paused for any other reason — cancelled, a cap, a ban, an outdated browser, a key —
//! is left for the operator.

use crate::Control;
use crate::resume::{ResumeError, resume};
use domain::{AccountId, CampaignId, CampaignStatus, ErrorCode};

/// Open campaigns read per listing page.
const LISTING_PAGE: u32 = 100;

/// Whether a campaign paused with `reason` continues by itself once the account's session
/// works again.
pub fn resumes_after_link(reason: Option<ErrorCode>) -> bool {
    matches!(reason, Some(ErrorCode::SessionExpired | ErrorCode::SessionLost | ErrorCode::SessionConflict))
}

/// One campaign resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumed {
    /// The campaign.
    pub campaign: CampaignId,
    /// Why it had paused.
    pub reason: ErrorCode,
    /// Rows queued again.
    pub requeued: usize,
}

/// Resumes every open campaign of `account` that paused for a session reason; returns what it
/// resumed, in campaign order. A campaign that cannot resume now (it moved meanwhile) is skipped
/// and logged; a store or queue failure stops the walk (what was resumed stays resumed, and the
/// same call continues).
pub async fn resume_after_link(control: &Control, account: &AccountId) -> Result<Vec<Resumed>, ResumeError> {
    let mut resumed = Vec::new();
    let mut after: Option<CampaignId> = None;
    loop {
        let page = control.store.open_campaigns(after.as_ref(), LISTING_PAGE).await?;
        for id in &page {
            let Some(view) = control.store.campaign(id).await? else { continue };
            if view.account != *account
                || view.status != CampaignStatus::Paused
                || !resumes_after_link(view.reason)
            {
                continue;
            }
            let reason = view.reason.unwrap_or(ErrorCode::SessionExpired);
            match resume(control, id, false).await {
                Ok(done) => {
                    tracing::info!(campaign = %id, %account, %reason, requeued = done.requeued, "paused campaign resumed after the session works again");
                    resumed.push(Resumed { campaign: id.clone(), reason, requeued: done.requeued });
                }
                Err(ResumeError::Over { .. } | ResumeError::Unknown(_)) => {
                    tracing::info!(campaign = %id, "campaign moved meanwhile; not resumed");
                }
                Err(e) => return Err(e),
            }
        }
        if page.len() < LISTING_PAGE as usize {
            return Ok(resumed);
        }
        after = page.last().cloned();
    }
}
