//! The one lifecycle of messages and campaigns, as pure decisions: which transitions exist, what
//! each requires of the row and of its campaign, and what each writes (status, attempts, the
//! "may have been sent, check the chat first" flag, the error code, the counters, the campaign's
//! status). The DynamoDB adapter and the in-memory fake both ask these functions and only carry
//! out the [`Move`] they decide, so the two cannot diverge.
//!
//! - [`message`]: claim, finish, pause, requeue and cancel of one row.
//! - [`campaign`]: a campaign's opening status and counters, completion, resume, cancel.
//! - [`hold`]: a QUEUED row waiting out of the queue for its recipient's sending window.
//!
//! A message moves `QUEUED → SENDING → SENT | FAILED(code)`; `QUEUED/SENDING → PAUSED` when the
//! session is unusable, and back to `QUEUED` on resume; `QUEUED/PAUSED → CANCELLED` on cancel.
//! Whatever happens, a recipient ends SENT, FAILED with a reason, CANCELLED, or PAUSED — never
//! dropped, never sent twice: a row that may have gone out is checked in the chat first.

pub mod campaign;
pub mod hold;
pub mod message;

#[cfg(test)]
mod tests;

use crate::{ErrorCode, MessageStatus};
use serde::{Deserialize, Serialize};

/// Per-status counts of a campaign; they change in the same write as the row they count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Every accepted recipient.
    pub total: u64,
    /// Waiting in the queue.
    pub queued: u64,
    /// Claimed by a sender.
    pub sending: u64,
    /// Delivered to WhatsApp.
    pub sent: u64,
    /// Will not be sent.
    pub failed: u64,
    /// Waiting for the operator.
    pub paused: u64,
    /// Stopped by a cancel.
    pub cancelled: u64,
    /// Of the sent ones, how many reached the recipient's phone (read ones included). Receipts
    /// come after SENT and only ever add: no status move changes them.
    #[serde(default)]
    pub delivered: u64,
    /// Of the sent ones, how many the recipient read.
    #[serde(default)]
    pub read: u64,
}

impl Counters {
    /// The stored name of one status's counter.
    pub fn field(status: MessageStatus) -> &'static str {
        match status {
            MessageStatus::Queued => "queued",
            MessageStatus::Sending => "sending",
            MessageStatus::Sent => "sent",
            MessageStatus::Failed => "failed",
            MessageStatus::Paused => "paused",
            MessageStatus::Cancelled => "cancelled",
        }
    }

    /// The counter of `status`.
    pub fn of(&self, status: MessageStatus) -> u64 {
        match status {
            MessageStatus::Queued => self.queued,
            MessageStatus::Sending => self.sending,
            MessageStatus::Sent => self.sent,
            MessageStatus::Failed => self.failed,
            MessageStatus::Paused => self.paused,
            MessageStatus::Cancelled => self.cancelled,
        }
    }

    /// Adds `delta` to the counter of `status` (never below zero).
    pub fn add(&mut self, status: MessageStatus, delta: i64) {
        let c = match status {
            MessageStatus::Queued => &mut self.queued,
            MessageStatus::Sending => &mut self.sending,
            MessageStatus::Sent => &mut self.sent,
            MessageStatus::Failed => &mut self.failed,
            MessageStatus::Paused => &mut self.paused,
            MessageStatus::Cancelled => &mut self.cancelled,
        };
        *c = c.saturating_add_signed(delta);
    }

    /// Counts one row's receipt (none, delivered or read) in `delivered` and `read`.
    pub fn add_receipt(&mut self, receipt: Option<crate::Receipt>) {
        if receipt.is_some() {
            self.delivered += 1;
        }
        if receipt == Some(crate::Receipt::Read) {
            self.read += 1;
        }
    }

    /// Rows that still need something to happen (queued, being sent, or paused).
    pub fn open(&self) -> u64 {
        self.queued + self.sending + self.paused
    }

    /// The counts of a set of row statuses.
    pub fn of_rows(statuses: impl IntoIterator<Item = MessageStatus>) -> Self {
        let mut c = Self::default();
        for s in statuses {
            c.total += 1;
            c.add(s, 1);
        }
        c
    }
}

/// What the lifecycle knows of one message row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowState {
    /// Where it stands.
    pub status: MessageStatus,
    /// Claims so far: every claim adds one, and a claim's number is its token (a finish names it).
    pub attempts: u32,
    /// Claims since the row was last queued for a retry: bounded by the sender's attempts.
    pub tries: u32,
    /// While SENDING: the claim holds until this Unix second.
    pub lease_until: i64,
    /// An earlier attempt may have gone out: the next claim checks the chat before sending.
    pub verify_first: bool,
    /// How often a resume queued it again.
    pub round: u32,
    /// When it was first claimed (Unix seconds): the chat check counts only messages since.
    pub claimed_at: Option<i64>,
}

/// What a move requires of the campaign row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignGuard {
    /// The campaign is not cancelled: claims, pauses, re-queues.
    NotCancelled,
    /// Anything: a row being sent finishes as it ends, even after a cancel.
    Any,
    /// The campaign is cancelled: the rows a cancel stops.
    Cancelled,
}

impl CampaignGuard {
    /// Whether a campaign that is `cancelled` (or not) allows the move.
    pub fn allows(self, cancelled: bool) -> bool {
        match self {
            Self::NotCancelled => !cancelled,
            Self::Any => true,
            Self::Cancelled => cancelled,
        }
    }
}

/// What a move writes to the row besides its status (`None`: left as it is).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RowWrite {
    /// New attempt count.
    pub attempts: Option<u32>,
    /// New tries count.
    pub tries: Option<u32>,
    /// New lease end (`Some(None)`: the lease is removed).
    pub lease_until: Option<Option<i64>>,
    /// New value of the check-first flag.
    pub verify_first: Option<bool>,
    /// New error code (`Some(None)`: removed).
    pub error: Option<Option<ErrorCode>>,
    /// New resume round.
    pub round: Option<u32>,
    /// The first claim's time, set once.
    pub claimed_at: Option<i64>,
    /// Record the time as the row's `sent_at`.
    pub sent: bool,
}

/// A decided transition of one row: the adapters turn it into one conditional write of the row
/// and its campaign row, or apply it to their map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    /// The status the row must still have.
    pub from: MessageStatus,
    /// The status it gets.
    pub to: MessageStatus,
    /// The attempt count the row must still have (guards against a concurrent claim).
    pub expect_attempts: Option<u32>,
    /// What else the row gets.
    pub write: RowWrite,
    /// What the campaign row must allow.
    pub guard: CampaignGuard,
    /// The campaign pauses with this reason (the hint is filled by the caller).
    pub pause: Option<ErrorCode>,
    /// After it the campaign may be complete: check.
    pub settles: bool,
}

impl Move {
    fn new(from: MessageStatus, to: MessageStatus, guard: CampaignGuard) -> Self {
        Self {
            from,
            to,
            expect_attempts: None,
            write: RowWrite::default(),
            guard,
            pause: None,
            settles: false,
        }
    }

    /// Whether the counters change (a move within one status changes none).
    pub fn counts(&self) -> bool {
        self.from != self.to
    }

    /// The row as it is after the move.
    pub fn applied_to(&self, row: &RowState) -> RowState {
        let w = &self.write;
        RowState {
            status: self.to,
            attempts: w.attempts.unwrap_or(row.attempts),
            tries: w.tries.unwrap_or(row.tries),
            lease_until: w.lease_until.map_or(row.lease_until, |l| l.unwrap_or(0)),
            verify_first: w.verify_first.unwrap_or(row.verify_first),
            round: w.round.unwrap_or(row.round),
            claimed_at: row.claimed_at.or(w.claimed_at),
        }
    }

    /// Whether `row` still is where the move expects it.
    pub fn expects(&self, row: &RowState) -> bool {
        row.status == self.from && self.expect_attempts.is_none_or(|a| a == row.attempts)
    }
}
