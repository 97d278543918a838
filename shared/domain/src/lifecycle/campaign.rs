//! The transitions of a campaign: how it opens (now, paused or scheduled), when it completes,
//! and what release, resume and cancel may do to it.

use super::Counters;
use crate::CampaignStatus;

/// How a new campaign's sendable rows start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Queued at once.
    Now,
    /// Held PAUSED because the account's session is known expired (the reason is recorded).
    Paused,
    /// Held PAUSED until the campaign's start time, when they are queued (SCHEDULED).
    Scheduled,
}

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

impl Opening {
    /// Whether its sendable rows start held (PAUSED) rather than queued.
    pub fn holds_rows(&self) -> bool {
        self.counts.paused > 0
    }
}

/// A campaign of `total` rows of which `invalid` are refused (recorded FAILED at once), started
/// as `start` says: nothing to send is COMPLETED from the start; a paused or scheduled one keeps
/// its sendable rows PAUSED. A start time wins over a known-expired session (there is time to
/// set it up again; if not, the rows pause in the sender once released).
pub fn opening(total: u64, invalid: u64, start: Start) -> Opening {
    let sendable = total.saturating_sub(invalid);
    let (status, queued, held) = match start {
        _ if sendable == 0 => (CampaignStatus::Completed, 0, 0),
        Start::Scheduled => (CampaignStatus::Scheduled, 0, sendable),
        Start::Paused => (CampaignStatus::Paused, 0, sendable),
        Start::Now => (CampaignStatus::Running, sendable, 0),
    };
    let counts = Counters { total, queued, paused: held, failed: invalid, ..Counters::default() };
    Opening { status, counts, paused_reason: start == Start::Paused && sendable > 0 }
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
    &[CampaignStatus::Scheduled, CampaignStatus::Running, CampaignStatus::Paused, CampaignStatus::Cancelled];

/// The status a scheduled campaign is released from (to RUNNING, its held rows queued) once its
/// start time has come, and the one its start time may still be changed in.
pub const RELEASES_FROM: CampaignStatus = CampaignStatus::Scheduled;

/// Whether a campaign in `status` is over (nothing will happen to it any more).
pub fn is_terminal(status: CampaignStatus) -> bool {
    matches!(status, CampaignStatus::Completed | CampaignStatus::Cancelled)
}
