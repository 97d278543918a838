//! The transitions of a campaign: how it opens, when it completes, and what resume and cancel
//! may do to it.

use super::Counters;
use crate::CampaignStatus;

/// A new campaign's first status and counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    /// Its status.
    pub status: CampaignStatus,
    /// Its counters.
    pub counts: Counters,
    /// Whether the pause reason is recorded (it paused because the session is known expired).
    pub paused_reason: bool,
}

/// A campaign of `total` rows of which `invalid` have no valid number (recorded FAILED at once),
/// started paused or not (the account's session is known expired): nothing to send is
/// COMPLETED from the start; a paused one keeps its sendable rows PAUSED.
pub fn opening(total: u64, invalid: u64, paused: bool) -> Opening {
    let sendable = total.saturating_sub(invalid);
    let (status, queued, held) = match paused {
        _ if sendable == 0 => (CampaignStatus::Completed, 0, 0),
        true => (CampaignStatus::Paused, 0, sendable),
        false => (CampaignStatus::Running, sendable, 0),
    };
    let counts = Counters { total, queued, paused: held, failed: invalid, ..Counters::default() };
    Opening { status, counts, paused_reason: paused && sendable > 0 }
}

/// Whether a campaign in `status` with `counts` is now complete: running or paused, and nothing
/// queued, being sent or paused. (A paused campaign with nothing paused has nothing a resume
/// could continue: a pause that raced a resume leaves it so once the resume re-queued the row.)
pub fn completes(status: CampaignStatus, counts: &Counters) -> bool {
    matches!(status, CampaignStatus::Running | CampaignStatus::Paused) && counts.open() == 0
}

/// The statuses a campaign completes from.
pub const COMPLETES_FROM: &[CampaignStatus] = &[CampaignStatus::Running, CampaignStatus::Paused];

/// Whether a completed campaign runs again because rows were queued again (a retry).
pub fn reopens(status: CampaignStatus, counts: &Counters) -> bool {
    status == CampaignStatus::Completed && (counts.queued > 0 || counts.sending > 0)
}

/// The statuses a resume moves to RUNNING: PAUSED, and COMPLETED too when failed rows are retried.
pub fn resumable(reopen_completed: bool) -> &'static [CampaignStatus] {
    if reopen_completed {
        &[CampaignStatus::Paused, CampaignStatus::Completed]
    } else {
        &[CampaignStatus::Paused]
    }
}

/// The statuses a cancel applies to (a cancel is repeatable; a completed campaign cannot be).
pub const CANCELLABLE: &[CampaignStatus] =
    &[CampaignStatus::Running, CampaignStatus::Paused, CampaignStatus::Cancelled];

/// Whether a campaign in `status` is over (nothing will happen to it any more).
pub fn is_terminal(status: CampaignStatus) -> bool {
    matches!(status, CampaignStatus::Completed | CampaignStatus::Cancelled)
}
