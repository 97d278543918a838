//! The transitions of one message row.

use super::{CampaignGuard, Move, RowState};
use crate::{ErrorCode, MessageStatus};

/// A claim's time window, as the sender asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimWindow {
    /// Now, Unix seconds.
    pub now: i64,
    /// The claim holds until this Unix second.
    pub until: i64,
}

/// How a claimed row is to be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    /// Never attempted (or known not sent): send it.
    Fresh,
    /// An earlier attempt may have gone out: check the chat before sending.
    Ambiguous,
    /// Like `Ambiguous`, but the campaign was cancelled meanwhile: check, never send.
    VerifyOnly,
}

/// What claiming a row decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimDecision {
    /// Take the row with this move; it is then handled as `kind`.
    Take(Move, ClaimKind),
    /// The row of a cancelled campaign ends CANCELLED instead (nothing was ever sent).
    Cancel(Move),
    /// Another sender holds a live claim until then.
    Busy {
        /// When that claim ends (Unix seconds).
        lease_until: i64,
    },
    /// SENT, FAILED, CANCELLED or PAUSED: nothing to do.
    Settled,
}

/// Claims `row` for a send in `window`; `cancelled` says whether its campaign is known cancelled
/// (a move carries the guard, so a claim made before the cancel was seen is refused by the
/// campaign row and decided again with `cancelled = true`).
pub fn claim(row: &RowState, cancelled: bool, window: ClaimWindow) -> ClaimDecision {
    let attempt = row.attempts + 1;
    let take = |from: MessageStatus, guard: CampaignGuard| {
        let mut mv = Move::new(from, MessageStatus::Sending, guard);
        mv.expect_attempts = Some(row.attempts);
        mv.write.attempts = Some(attempt);
        mv.write.tries = Some(row.tries + 1);
        mv.write.lease_until = Some(Some(window.until));
        if row.claimed_at.is_none() {
            mv.write.claimed_at = Some(window.now);
        }
        mv
    };
    match row.status {
        MessageStatus::Queued if cancelled => match cancel(row, MessageStatus::Queued) {
            Some(mv) => ClaimDecision::Cancel(mv),
            None => ClaimDecision::Settled,
        },
        MessageStatus::Queued => {
            let kind = if row.verify_first { ClaimKind::Ambiguous } else { ClaimKind::Fresh };
            ClaimDecision::Take(take(MessageStatus::Queued, CampaignGuard::NotCancelled), kind)
        }
        // An earlier attempt lost its lease: take it over; it may have gone out. After a cancel
        // the new attempt may only look, not send.
        MessageStatus::Sending if row.lease_until < window.now => {
            if cancelled {
                ClaimDecision::Take(
                    take(MessageStatus::Sending, CampaignGuard::Cancelled),
                    ClaimKind::VerifyOnly,
                )
            } else {
                ClaimDecision::Take(
                    take(MessageStatus::Sending, CampaignGuard::NotCancelled),
                    ClaimKind::Ambiguous,
                )
            }
        }
        MessageStatus::Sending => ClaimDecision::Busy { lease_until: row.lease_until },
        MessageStatus::Sent | MessageStatus::Failed | MessageStatus::Paused | MessageStatus::Cancelled => {
            ClaimDecision::Settled
        }
    }
}

/// How a claimed row ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// WhatsApp acknowledged it (or the chat shows it).
    Sent,
    /// It will not be sent, with this code.
    Failed(ErrorCode),
    /// The session stopped being usable while it was out: it may have gone out, so it waits,
    /// PAUSED and checked in the chat before any send after the resume.
    Paused(ErrorCode),
    /// Not sent and known not sent: back to QUEUED (CANCELLED when the campaign was cancelled).
    Released,
}

/// Ends the claim number `attempt` of `row` with `finish`; `None` when the claim was lost (the
/// row moved on, or another claim took it over). `cancelled` says whether the campaign is known
/// cancelled (a release then ends the row CANCELLED).
pub fn finish(row: &RowState, attempt: u32, finish: Finish, cancelled: bool) -> Option<Move> {
    if row.attempts != attempt {
        return None;
    }
    let ending = |to: MessageStatus| {
        let mut mv = Move::new(row.status, to, CampaignGuard::Any);
        mv.expect_attempts = Some(attempt);
        mv.write.lease_until = Some(None);
        mv.settles = true;
        mv
    };
    match (row.status, finish) {
        // A proof of delivery always counts, even when a pause won the race against this claim.
        (MessageStatus::Sending | MessageStatus::Paused, Finish::Sent) => {
            let mut mv = ending(MessageStatus::Sent);
            mv.write.sent = true;
            mv.write.error = Some(None);
            Some(mv)
        }
        // Losing the session is never a failure: nothing but a resume could reach the row again
        // (unless the campaign was cancelled: then nothing will, and the row ends FAILED with it).
        (MessageStatus::Sending, Finish::Failed(code) | Finish::Paused(code)) if code.pauses() => {
            pause(row, code, cancelled)
        }
        (MessageStatus::Sending, Finish::Paused(code)) => pause(row, code, cancelled),
        (MessageStatus::Sending, Finish::Failed(code)) => {
            let mut mv = ending(MessageStatus::Failed);
            mv.write.error = Some(Some(code));
            Some(mv)
        }
        (MessageStatus::Sending, Finish::Released) if cancelled => {
            let mut mv = ending(MessageStatus::Cancelled);
            mv.guard = CampaignGuard::Cancelled;
            mv.write.error = Some(Some(ErrorCode::Cancelled));
            Some(mv)
        }
        (MessageStatus::Sending, Finish::Released) => {
            let mut mv =
                Move::new(MessageStatus::Sending, MessageStatus::Queued, CampaignGuard::NotCancelled);
            mv.expect_attempts = Some(attempt);
            mv.write.lease_until = Some(None);
            Some(mv)
        }
        _ => None,
    }
}

/// Pauses `row` (QUEUED or SENDING) with `code`; the campaign pauses with it. A row paused while
/// SENDING may have gone out: it keeps that fact, so its chat is checked before any send after
/// the resume. `None` for a row in any other status. In a campaign known `cancelled` nothing
/// resumes, so a pause ends the row instead: a QUEUED one CANCELLED (it never went out), a
/// SENDING one FAILED with `code` (it may have).
pub fn pause(row: &RowState, code: ErrorCode, cancelled: bool) -> Option<Move> {
    match row.status {
        MessageStatus::Queued if cancelled => return cancel(row, MessageStatus::Queued),
        MessageStatus::Sending if cancelled => {
            let mut mv = Move::new(MessageStatus::Sending, MessageStatus::Failed, CampaignGuard::Any);
            mv.expect_attempts = Some(row.attempts);
            mv.write.lease_until = Some(None);
            mv.write.error = Some(Some(code));
            mv.settles = true;
            return Some(mv);
        }
        MessageStatus::Queued | MessageStatus::Sending => {}
        _ => return None,
    }
    let mut mv = Move::new(row.status, MessageStatus::Paused, CampaignGuard::NotCancelled);
    mv.expect_attempts = Some(row.attempts);
    mv.write.error = Some(Some(code));
    if row.status == MessageStatus::Sending {
        mv.write.verify_first = Some(true);
        mv.write.lease_until = Some(None);
    }
    mv.pause = Some(code);
    Some(mv)
}

/// Queues `row` again (a resume): from PAUSED, or from FAILED for a retry (the failed attempt may
/// have gone out, so the retry checks the chat first). A new round, so the queue does not drop
/// the record as a duplicate; the tries start again. `None` when the row is not in `from`.
pub fn requeue(row: &RowState, from: MessageStatus) -> Option<Move> {
    if row.status != from || !matches!(from, MessageStatus::Paused | MessageStatus::Failed) {
        return None;
    }
    let mut mv = Move::new(from, MessageStatus::Queued, CampaignGuard::NotCancelled);
    mv.expect_attempts = Some(row.attempts);
    mv.write.round = Some(row.round + 1);
    mv.write.error = Some(None);
    mv.write.tries = Some(0);
    if from == MessageStatus::Failed {
        mv.write.verify_first = Some(true);
    }
    Some(mv)
}

/// Ends a QUEUED or PAUSED row of a cancelled campaign CANCELLED. `None` otherwise.
pub fn cancel(row: &RowState, from: MessageStatus) -> Option<Move> {
    if row.status != from || !matches!(from, MessageStatus::Queued | MessageStatus::Paused) {
        return None;
    }
    let mut mv = Move::new(from, MessageStatus::Cancelled, CampaignGuard::Cancelled);
    mv.write.error = Some(Some(ErrorCode::Cancelled));
    Some(mv)
}

/// Whether a row claimed `tries` times since it was last queued has no try left of `max`.
pub fn out_of_tries(row: &RowState, max: u32) -> bool {
    row.tries >= max
}
