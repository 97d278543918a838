//! Where campaigns live: the `CampaignStore` port (campaign rows, message rows and their
//! counters), its DynamoDB adapter and an in-memory fake for unit tests of pure logic; and the
//! `AccountGate` (one browser per account, send caps) every sender instance agrees on, and the
//! accounts' `SendingWindows`.
//!
//! The table's layout (every key) is owned by `table_layout`; the session pointer by
//! `session_store`; the queue by `message_queue`. Counters change in the same transaction as the
//! row they count.

mod dynamo;
mod gate;
mod memory;
mod model;
mod windows;

pub use domain::lifecycle::message::Finish;
pub use dynamo::{DynamoCampaignStore, images};
pub use gate::{AccountGate, DynamoAccountGate, InMemoryAccountGate, LeaseGrant, SendCaps, SlotGrant};
pub use memory::InMemoryCampaignStore;
pub use model::{
    CampaignPosition, CampaignView, Census, Claim, Idempotency, IdempotencyClaim, Lease, MessageEntry,
    MessageRow, NewCampaign, NewMessage, PauseReason, SentLink,
};
pub use windows::{DynamoSendingWindows, InMemorySendingWindows, SendingWindows, StoredWindow};

use async_trait::async_trait;
use domain::lifecycle::hold::Hold;
use domain::{
    AccountId, CampaignId, ErrorCode, MessageSeq, PhoneNumber, QueuedMessage, Receipt, SendAt, WaMessageId,
};
use std::collections::BTreeSet;

/// A failure of the campaign store, with the SDK error kept as the source.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or refused the call.
    #[error("campaign store unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A stored item does not have the expected shape.
    #[error("stored item {key} is malformed: {reason}")]
    Malformed {
        /// The item's key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// The row changed under us more often than the retry bound.
    #[error("row {0} kept changing; giving up for now")]
    Contended(String),
}

impl From<table_layout::codec::Malformed> for StoreError {
    fn from(m: table_layout::codec::Malformed) -> Self {
        Self::Malformed { key: m.key, reason: m.reason }
    }
}

impl StoreError {
    pub(crate) fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable(Box::new(e))
    }
}

/// What a pause changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The row moved.
    Applied,
    /// The row was already in a state the transition does not apply to (e.g. SENT); nothing changed.
    NotApplicable,
    /// There is no such row (a stray queue record); nothing changed.
    Missing,
}

/// Campaign rows and counters.
#[async_trait]
pub trait CampaignStore: Send + Sync {
    /// Writes the campaign row and every message row.
    async fn create_campaign(&self, campaign: &NewCampaign) -> Result<(), StoreError>;
    /// The campaign row with its counters; one read whatever the campaign's size.
    async fn campaign(&self, id: &CampaignId) -> Result<Option<CampaignView>, StoreError>;
    /// One message row.
    async fn message(&self, id: &CampaignId, seq: MessageSeq) -> Result<Option<MessageRow>, StoreError>;
    /// Moves a QUEUED or SENDING row to PAUSED and the campaign to PAUSED with the reason, in one
    /// transaction with the counters.
    async fn pause_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        reason: &PauseReason,
    ) -> Result<Transition, StoreError>;
    /// Moves a PAUSED campaign (and, with `reopen_completed`, a COMPLETED one whose failed rows
    /// are retried) back to RUNNING and clears its reason. `NotApplicable` otherwise (a RUNNING
    /// one needs nothing; a cancelled one cannot resume).
    async fn resume_campaign(
        &self,
        id: &CampaignId,
        at: &str,
        reopen_completed: bool,
    ) -> Result<Transition, StoreError>;
    /// Moves a SCHEDULED campaign whose start time is at or before Unix second `due_by` to
    /// RUNNING (its held rows are then queued by the caller). `NotApplicable` when it is not
    /// scheduled (any more) or not due yet.
    async fn release_campaign(
        &self,
        id: &CampaignId,
        at: &str,
        due_by: i64,
    ) -> Result<Transition, StoreError>;
    /// Sets a SCHEDULED campaign's start time. `NotApplicable` when it is not scheduled (any
    /// more: released, cancelled).
    async fn reschedule_campaign(
        &self,
        id: &CampaignId,
        send_at: SendAt,
        at: &str,
    ) -> Result<Transition, StoreError>;
    /// Marks a RUNNING campaign COMPLETED when nothing is queued, sending or paused any more.
    async fn settle_campaign(&self, id: &CampaignId, at: &str) -> Result<(), StoreError>;
    /// One page of a campaign's rows in `status`, in row order, read from the status index.
    async fn messages_in_status(
        &self,
        id: &CampaignId,
        status: domain::MessageStatus,
        after: Option<MessageSeq>,
        limit: u32,
    ) -> Result<Vec<MessageRow>, StoreError>;
    /// One page of a campaign's rows in row order, after `after`, for the listing API: read from
    /// the status index when `status` is given, by the campaign's primary key otherwise (never a
    /// scan of the table).
    async fn list_messages(
        &self,
        id: &CampaignId,
        status: Option<domain::MessageStatus>,
        after: Option<MessageSeq>,
        limit: u32,
    ) -> Result<Vec<MessageEntry>, StoreError>;
    /// Moves a PAUSED (or FAILED, for a retry) row back to QUEUED with its counters, in one
    /// transaction, and returns the queue record for it (with a new round so the queue does not
    /// drop it as a duplicate). The attempt count is kept; the tries start again.
    async fn requeue_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        from: domain::MessageStatus,
        at: &str,
    ) -> Result<Option<QueuedMessage>, StoreError> {
        let Some(row) = self.message(id, seq).await? else { return Ok(None) };
        Ok(self.requeue_messages(id, &[row], from, at).await?.into_iter().next())
    }
    /// Moves many rows (as last read, all in `from`: PAUSED, or FAILED for a retry) back to
    /// QUEUED, the counters moving once for all of them; returns the queue records of the rows
    /// that moved (a row that moved meanwhile is left out). Many rows share one transaction.
    async fn requeue_messages(
        &self,
        id: &CampaignId,
        rows: &[MessageRow],
        from: domain::MessageStatus,
        at: &str,
    ) -> Result<Vec<QueuedMessage>, StoreError>;
    /// Claims a row for sending: QUEUED → SENDING under a lease (counters in the same
    /// transaction), or takes over a SENDING row whose lease expired (`Claim::Ambiguous`). A row
    /// found settled also completes its campaign if nothing is left (a redelivered record after
    /// a finish whose completion was never written).
    async fn claim_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        lease: &Lease,
    ) -> Result<Claim, StoreError>;
    /// Ends a claim made with attempt number `attempt`: SENT, FAILED(code) or back to QUEUED, with
    /// the counters; marks the campaign COMPLETED when nothing is left. `NotApplicable` when the
    /// claim was lost to another sender meanwhile.
    async fn finish_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        attempt: u32,
        finish: &Finish,
        at: &str,
    ) -> Result<Transition, StoreError>;
    /// Holds a QUEUED row out of the queue until `hold.until`, when its recipient's sending
    /// window opens (`domain::lifecycle::hold`), and notes on the campaign row the earliest
    /// opening its waiting rows wait for. `NotApplicable` when the row is not QUEUED (any more);
    /// holding it again writes the same hold.
    async fn hold_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        hold: &Hold,
    ) -> Result<Transition, StoreError>;
    /// Ends the row's hold `hold` (its record was issued again). `NotApplicable` when the row no
    /// longer has that hold (it moved, or was held again).
    async fn end_hold(&self, id: &CampaignId, seq: MessageSeq, hold: &Hold)
    -> Result<Transition, StoreError>;
    /// Replaces the campaign row's note of the earliest opening its held rows wait for with
    /// `next` (none: nothing waits), only while the note is still `seen`: a hold taken meanwhile
    /// wrote its own. `NotApplicable` when it changed.
    async fn note_waiting(
        &self,
        id: &CampaignId,
        seen: Option<i64>,
        next: Option<i64>,
    ) -> Result<Transition, StoreError>;
    /// Remembers which row the message WhatsApp knows as `link.wa_id` is, until Unix second
    /// `expires_at`, so a later look at its chat can record its receipts.
    async fn link_sent(&self, link: &SentLink, expires_at: i64) -> Result<(), StoreError>;
    /// The links of those of `wa_ids` (sent from `account`) that are remembered.
    async fn sent_links(
        &self,
        account: &AccountId,
        wa_ids: &[WaMessageId],
    ) -> Result<Vec<SentLink>, StoreError>;
    /// Up to `max` links of `account`'s messages sent at or after Unix second `since` that are
    /// not yet seen read (what a sweep of recent chats looks at), in no particular order.
    async fn unread_links(
        &self,
        account: &AccountId,
        since: i64,
        max: usize,
    ) -> Result<Vec<SentLink>, StoreError>;
    /// Records that the linked SENT message reached `receipt`, seen at `at`, with the campaign's
    /// `delivered` and `read` counters in the same write. Only ever forward: a read message
    /// counts as delivered too (at `at` when that was never seen), and a receipt at or behind
    /// what is recorded changes nothing (`NotApplicable`), so one seen late or twice is harmless.
    async fn record_receipt(
        &self,
        link: &SentLink,
        receipt: Receipt,
        at: &str,
    ) -> Result<Transition, StoreError>;
    /// Puts `phone` on `account`'s opt-out list (it asked not to be contacted); already there
    /// changes nothing but the time.
    async fn add_opt_out(&self, account: &AccountId, phone: &PhoneNumber, at: &str)
    -> Result<(), StoreError>;
    /// Takes `phone` off the list; `false` when it was not on it.
    async fn remove_opt_out(&self, account: &AccountId, phone: &PhoneNumber) -> Result<bool, StoreError>;
    /// Those of `phones` (E.164) on `account`'s opt-out list, read consistently.
    async fn opted_out(&self, account: &AccountId, phones: &[String])
    -> Result<BTreeSet<String>, StoreError>;
    /// Notes something on the campaign that needed no action (e.g. a session restored from a backup).
    async fn record_notice(&self, id: &CampaignId, notice: ErrorCode, at: &str) -> Result<(), StoreError>;
    /// Moves a SCHEDULED, RUNNING or PAUSED campaign to CANCELLED: from then on no row is claimed or
    /// re-queued, rows being sent finish as they end. `NotApplicable` when it is COMPLETED
    /// (already CANCELLED counts as applied: a cancel is repeatable).
    async fn cancel_campaign(&self, id: &CampaignId, at: &str) -> Result<Transition, StoreError>;
    /// Moves one QUEUED or PAUSED row of a cancelled campaign to CANCELLED, with the counters.
    async fn cancel_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        from: domain::MessageStatus,
        at: &str,
    ) -> Result<Transition, StoreError> {
        let Some(row) = self.message(id, seq).await? else { return Ok(Transition::Missing) };
        let moved = self.cancel_messages(id, &[row], from, at).await?;
        Ok(if moved > 0 { Transition::Applied } else { Transition::NotApplicable })
    }
    /// Moves many QUEUED or PAUSED rows (as last read, all in `from`) of a cancelled campaign to
    /// CANCELLED, the counters moving once for all of them; returns how many moved.
    async fn cancel_messages(
        &self,
        id: &CampaignId,
        rows: &[MessageRow],
        from: domain::MessageStatus,
        at: &str,
    ) -> Result<usize, StoreError>;
    /// The account's campaigns, newest first, older than `after` (the last of the previous page),
    /// at most `limit`. Read from an index: a campaign just started may show a moment later.
    async fn account_campaigns(
        &self,
        account: &AccountId,
        after: Option<&CampaignPosition>,
        limit: u32,
    ) -> Result<Vec<CampaignView>, StoreError>;
    /// The campaigns that are not over yet (and ones just over whose listing the reconciler has
    /// not removed), in id order after `after`, at most `limit`.
    async fn open_campaigns(
        &self,
        after: Option<&CampaignId>,
        limit: u32,
    ) -> Result<Vec<CampaignId>, StoreError>;
    /// Takes a campaign off the open listing if it is over: COMPLETED or CANCELLED with nothing
    /// queued, sending or paused, checked in the same write (`NotApplicable` otherwise, e.g. a
    /// retry reopened it meanwhile).
    async fn close_listing(&self, id: &CampaignId) -> Result<Transition, StoreError>;
    /// Takes the listing of a campaign off when its campaign row does not exist and it was listed
    /// before `listed_before` (RFC 3339): a start that died before writing it. `NotApplicable`
    /// when the row exists or the listing is newer (a start still under way).
    async fn drop_orphan_listing(
        &self,
        id: &CampaignId,
        listed_before: &str,
    ) -> Result<Transition, StoreError>;
    /// Counts a campaign's rows by status and lists those not settled (QUEUED, SENDING, PAUSED);
    /// `None` when the campaign row does not exist.
    async fn census(&self, id: &CampaignId) -> Result<Option<Census>, StoreError>;
    /// Sets the campaign's counters to `counted` (as its rows say), only while the campaign row
    /// is still as `seen` (no row moved since the count began): counters are only ever repaired
    /// from the rows, never guessed. `NotApplicable` when it changed.
    async fn repair_counters(
        &self,
        seen: &CampaignView,
        counted: &domain::Counters,
        at: &str,
    ) -> Result<Transition, StoreError>;
    /// Notes that a start or resume began queueing the campaign's records at Unix second `since`
    /// (cleared by [`CampaignStore::mark_issued`]); the reconciler re-issues rows of one that
    /// never finished.
    async fn mark_issuing(&self, id: &CampaignId, since: i64) -> Result<(), StoreError>;
    /// Notes that every QUEUED row of the campaign has its record: clears the mark set with
    /// `since` (a newer mark, from a resume that started meanwhile, stays).
    async fn mark_issued(&self, id: &CampaignId, since: i64) -> Result<(), StoreError>;
    /// Notes that the start whose mark is `since` queued the records of the rows before `from`
    /// and leaves the rest to the reconciler, which queues them on its next run and then clears
    /// the mark (a newer mark stays as it is).
    async fn hand_off_issuing(&self, id: &CampaignId, since: i64, from: MessageSeq)
    -> Result<(), StoreError>;
    /// Claims an `Idempotency-Key` for a campaign start (see [`Idempotency`]).
    async fn claim_idempotency(&self, claim: &IdempotencyClaim) -> Result<Idempotency, StoreError>;
    /// Marks the key's work done: later requests with it are answered from the campaign.
    async fn finish_idempotency(&self, key_hash: &str) -> Result<(), StoreError>;
    /// Gives up a claim whose work failed, so a retry may take over at once instead of waiting
    /// for the claim to lapse.
    async fn release_idempotency(&self, key_hash: &str) -> Result<(), StoreError>;
}
