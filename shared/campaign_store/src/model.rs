//! The records the store reads and writes, free of SDK types.

use domain::lifecycle::campaign::{Opening, Start};
use domain::lifecycle::hold::Hold;
use domain::lifecycle::{Move, RowState};
use domain::{
    AccountId, CampaignId, CampaignStatus, Counters, ErrorCode, Media, MediaId, MessageSeq, MessageStatus,
    PhoneNumber, Receipt, SendAt, Template, Vars, WaMessageId, WebhookUrl,
};
use serde::{Deserialize, Serialize};

/// A validated campaign about to be written.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    /// Its id.
    pub id: CampaignId,
    /// Operator's name for it.
    pub name: String,
    /// Sending account.
    pub account: AccountId,
    /// Message template.
    pub template: Template,
    /// One per recipient, in request order.
    pub messages: Vec<NewMessage>,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Set when the account's session is known expired at creation: the sendable rows start
    /// PAUSED (not queued) and the campaign PAUSED with this reason, ready for a resume.
    pub paused: Option<PauseReason>,
    /// Where its events are posted (none: the deployment's default, if any).
    pub webhook: Option<WebhookUrl>,
    /// When it starts: until then it is SCHEDULED, its sendable rows held PAUSED and nothing
    /// queued (it wins over `paused`: the session may be set up again before then).
    pub send_at: Option<SendAt>,
    /// The files its rows send (each row names its own by id), as checked at acceptance.
    pub attachments: Vec<Media>,
}

/// One recipient of a new campaign.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Row number.
    pub seq: MessageSeq,
    /// The number as given, or parsed; invalid numbers are recorded FAILED with the code.
    pub phone: Result<PhoneNumber, String>,
    /// The recipient's variables.
    pub vars: Vars,
    /// The number is on the account's opt-out list: the row is recorded FAILED with OPTED_OUT.
    pub opted_out: bool,
    /// The file sent with the message (its text the caption), one of the campaign's attachments.
    pub media: Option<MediaId>,
}

impl NewCampaign {
    /// The campaign's first status and counters (one rule for every store, and for the answer
    /// the API gives).
    pub fn opening(&self) -> Opening {
        let refused = self.messages.iter().filter(|m| m.refusal().is_some()).count() as u64;
        domain::lifecycle::campaign::opening(self.messages.len() as u64, refused, self.start())
    }

    /// How its sendable rows start.
    pub fn start(&self) -> Start {
        match (&self.send_at, &self.paused) {
            (Some(_), _) => Start::Scheduled,
            (None, Some(_)) => Start::Paused,
            (None, None) => Start::Now,
        }
    }

    /// Why its rows start paused, when they do for a reason (not for a start time).
    pub fn pause_reason(&self) -> Option<&PauseReason> {
        self.paused.as_ref().filter(|_| self.start() == Start::Paused)
    }
}

impl NewMessage {
    /// Why the row is refused at acceptance (recorded FAILED with it): an invalid phone, or a
    /// number on the account's opt-out list.
    pub fn refusal(&self) -> Option<ErrorCode> {
        match (&self.phone, self.opted_out) {
            (Err(_), _) => Some(ErrorCode::InvalidPhone),
            (Ok(_), true) => Some(ErrorCode::OptedOut),
            (Ok(_), false) => None,
        }
    }

    /// The status the row starts in: FAILED when refused, else QUEUED, or PAUSED when the
    /// campaign holds its rows (it starts paused or scheduled).
    pub fn initial_status(&self, held: bool) -> MessageStatus {
        match (self.refusal(), held) {
            (Some(_), _) => MessageStatus::Failed,
            (None, true) => MessageStatus::Paused,
            (None, false) => MessageStatus::Queued,
        }
    }
}

/// The campaign as the status API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignView {
    /// Its id.
    pub id: CampaignId,
    /// Operator's name for it.
    pub name: String,
    /// Sending account.
    pub account: AccountId,
    /// Where it stands.
    pub status: CampaignStatus,
    /// Per-status counts.
    pub counts: Counters,
    /// Why it is paused.
    pub reason: Option<ErrorCode>,
    /// What to run to continue.
    pub hint: Option<String>,
    /// Something the operator should know that needed no action (e.g. SESSION_RESTORED_FROM_BACKUP).
    pub notice: Option<ErrorCode>,
    /// The message template.
    pub template: String,
    /// Where its events are posted, when the campaign names a URL.
    pub webhook_url: Option<String>,
    /// When it starts (was scheduled to start), RFC 3339 UTC; none when it started at once.
    pub send_at: Option<String>,
    /// The earliest Unix second at which a row held for its recipient's sending window may go
    /// (a note for the status API; it may have passed).
    pub waiting_until: Option<i64>,
    /// The files its rows send, by id.
    pub attachments: Vec<Media>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// Where a walk through an account's campaigns (newest first) stands: the last campaign it
/// returned. The next page holds older ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignPosition {
    /// The campaign's creation, Unix nanoseconds (the order the listing sorts by).
    pub created_unix_nanos: i128,
    /// The campaign (it breaks ties within a nanosecond).
    pub id: CampaignId,
}

impl CampaignPosition {
    /// The position of a listed campaign.
    pub fn of(view: &CampaignView) -> Self {
        Self { created_unix_nanos: created_unix_nanos(&view.created_at), id: view.id.clone() }
    }
}

/// Unix nanoseconds of an RFC 3339 time (0 when it is not one).
pub(crate) fn created_unix_nanos(at: &str) -> i128 {
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339)
        .map_or(0, time::OffsetDateTime::unix_timestamp_nanos)
}

/// One message row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    /// Campaign.
    pub campaign: CampaignId,
    /// Row number.
    pub seq: MessageSeq,
    /// Sending account (copied from the campaign so a sender needs one read).
    pub account: AccountId,
    /// Recipient in E.164, or the refused input for INVALID_PHONE rows.
    pub phone: String,
    /// Where it stands.
    pub status: MessageStatus,
    /// Claims so far (a claim's number is its token: a finish names it).
    pub attempts: u32,
    /// Claims since the row was last queued for a retry (bounded by the sender's attempts).
    pub tries: u32,
    /// When it was first claimed (Unix seconds).
    pub claimed_at: Option<i64>,
    /// Why it failed or paused.
    pub error: Option<ErrorCode>,
    /// How often a resume queued it again.
    pub round: u32,
    /// While SENDING: the claim holds until this Unix time (seconds).
    pub lease_until: i64,
    /// The recipient's template variables.
    pub vars: domain::Vars,
    /// An earlier attempt may have gone out (a failure queued again for a retry, a row paused
    /// while it was being sent): the next claim is `Claim::Ambiguous`, so the chat is checked
    /// before sending.
    pub verify_first: bool,
    /// While QUEUED out of the queue: until when its recipient's sending window keeps it
    /// waiting (any move ends it).
    pub hold: Option<Hold>,
    /// The file sent with it (one of its campaign's attachments).
    pub media: Option<MediaId>,
}

impl CampaignView {
    /// The campaign's attachment `id`, if it has one.
    pub fn attachment(&self, id: &MediaId) -> Option<&Media> {
        self.attachments.iter().find(|m| &m.id == id)
    }
}

impl MessageRow {
    /// What the lifecycle decides on.
    pub fn state(&self) -> RowState {
        RowState {
            status: self.status,
            attempts: self.attempts,
            tries: self.tries,
            lease_until: self.lease_until,
            verify_first: self.verify_first,
            round: self.round,
            claimed_at: self.claimed_at,
        }
    }

    /// The row after `mv`.
    pub fn moved(&self, mv: &Move) -> Self {
        let s = mv.applied_to(&self.state());
        let error = match &mv.write.error {
            Some(e) => *e,
            None => self.error,
        };
        Self {
            status: s.status,
            attempts: s.attempts,
            tries: s.tries,
            lease_until: s.lease_until,
            verify_first: s.verify_first,
            round: s.round,
            claimed_at: s.claimed_at,
            error,
            hold: None,
            ..self.clone()
        }
    }
}

/// One message row as the listing API shows it: the row and when it last moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEntry {
    /// The row.
    pub row: MessageRow,
    /// When the row last changed status, RFC 3339 (none while it is still as created).
    pub updated_at: Option<String>,
    /// When WhatsApp acknowledged it, RFC 3339 (SENT rows only).
    pub sent_at: Option<String>,
    /// When its delivery to the recipient's phone was seen, RFC 3339 (a read message's is no
    /// later than its read).
    pub delivered_at: Option<String>,
    /// When its read receipt was seen, RFC 3339.
    pub read_at: Option<String>,
}

impl MessageEntry {
    /// The furthest receipt recorded.
    pub fn receipt(&self) -> Option<Receipt> {
        if self.read_at.is_some() {
            Some(Receipt::Read)
        } else {
            self.delivered_at.as_ref().map(|_| Receipt::Delivered)
        }
    }
}

/// A sent message as WhatsApp knows it (its id in the chat) and the row it is, so a later look
/// at the chat can record its receipts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentLink {
    /// The account that sent it.
    pub account: AccountId,
    /// Its id in the chat.
    pub wa_id: WaMessageId,
    /// Its campaign.
    pub campaign: CampaignId,
    /// Its row.
    pub seq: MessageSeq,
    /// Its recipient, E.164 (whose chat to look at).
    pub phone: String,
    /// When it was sent, Unix seconds.
    pub sent_at: i64,
    /// The furthest receipt recorded for it.
    pub receipt: Option<Receipt>,
}

/// A claim's time window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Now, Unix seconds.
    pub now: i64,
    /// The claim holds until this Unix time (seconds).
    pub until: i64,
    /// Now, RFC 3339 (for `updated_at`).
    pub at: String,
}

/// What claiming a row found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// QUEUED → SENDING: never attempted before; send it.
    Fresh(MessageRow),
    /// SENDING with an expired lease: an earlier attempt may have sent it; verify before sending.
    Ambiguous(MessageRow),
    /// Like `Ambiguous`, but the campaign was cancelled meanwhile: verify only. Found in the chat,
    /// it ends SENT; not found, it is given back (`Finish::Released`) and ends CANCELLED.
    VerifyOnly(MessageRow),
    /// Another sender holds a live lease; leave the record for redelivery.
    Busy {
        /// When that lease ends.
        lease_until: i64,
    },
    /// SENT, FAILED, CANCELLED or PAUSED (or the campaign was cancelled): acknowledge and skip.
    Settled,
    /// No such row: a stray record, kept for inspection (it ends in the dead-letter queue).
    Missing,
}

/// Why messages are paused, and what the operator runs to continue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseReason {
    /// The code.
    pub code: ErrorCode,
    /// The command line(s) to run.
    pub hint: String,
    /// When, RFC 3339.
    pub at: String,
}

/// An `Idempotency-Key` being claimed for one `POST /campaigns` (`table_layout::keys::idempotency`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyClaim {
    /// SHA-256 (hex) of the key; the key itself is never stored.
    pub key_hash: String,
    /// SHA-256 (hex) of the canonical request body: the same key with another body is refused.
    pub fingerprint: String,
    /// The campaign the key creates.
    pub campaign_id: CampaignId,
    /// Now, Unix seconds.
    pub now: i64,
    /// The claim holds until this Unix time; a request that died is taken over after it.
    pub until: i64,
    /// The record is forgotten (TTL) at this Unix time.
    pub expires_at: i64,
}

/// What claiming an `Idempotency-Key` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotency {
    /// This request owns the key (first use, or an earlier attempt died half-way): do the work,
    /// then mark it done.
    Owned {
        /// The campaign to create or complete.
        campaign_id: CampaignId,
    },
    /// The work was done before: answer with the existing campaign, queue nothing.
    Done {
        /// The campaign created by the first request.
        campaign_id: CampaignId,
    },
    /// Another request with this key is still at work.
    InProgress {
        /// Its claim holds until this Unix time.
        until: i64,
    },
    /// The key was used with a different body.
    Mismatch,
}

/// What the reconciler learns of one campaign: its row as read before its rows were counted, and
/// the rows themselves, read consistently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Census {
    /// The campaign row as it was when the count began (its `updated_at` guards a repair).
    pub view: CampaignView,
    /// The rows counted by status.
    pub counted: Counters,
    /// The rows not settled yet (QUEUED, SENDING, PAUSED) with when they last moved.
    pub open_rows: Vec<MessageEntry>,
    /// Since when (Unix seconds) a start or a resume has been queueing the campaign's records
    /// without finishing: its rows may have no record.
    pub issuing_since: Option<i64>,
    /// The start queued the records of the rows before this one and handed the rest to the
    /// reconciler (its request's time ran short): the QUEUED rows from here on have no record.
    pub handed_off_from: Option<MessageSeq>,
    /// Rows moved while they were counted (the campaign row changed during the count): a
    /// difference between `counted` and the counters proves nothing then.
    pub moving: bool,
}
