//! `sender`: takes SQS FIFO batches (group = sending account) and sends each message exactly
//! once through WhatsApp Web, or pauses it with the command that lets it continue.
//!
//! Per batch and account: a session is opened (restore the current profile generation, check it,
//! fall back to older generations — see [`session`]); each record's row is claimed under a lease
//! (QUEUED → SENDING) before anything is sent; a row found SENDING with an expired lease was
//! maybe sent, so the chat is checked before sending again; SENT / FAILED and the counters are
//! written in one transaction. After every batch that loaded the app the browser is closed with a
//! flush and the profile is backed up as a new generation (each load rewrites WhatsApp Web's keys).
//!
//! The modules, outside in:
//! - [`batch`]: SQS records to per-account work and back to a batch response (the FIFO rule);
//!   the only module that knows SQS.
//! - [`account`]: one account's run — preflight, the browser lease, the session, close and backup.
//! - [`delivery`]: one message — send slot, claim, check or send, settle — with a typed
//!   [`Disposition`].
//! - [`quiet_hours`]: the account's sending window — records whose recipient must wait are held
//!   out of the queue, before a browser opens and again right before each send.
//! - [`receipts`]: after a send, the message's delivered and read receipts (and those of the
//!   chat's earlier messages), watched within the pause between messages.
//! - [`relaunch`], [`deadline`], [`pacing`], [`tally`]: the one relaunch a batch may spend, the
//!   invocation deadline on the injected clock, the pause between messages, the metric line.
//! - [`media_files`]: the files the sender attaches, fetched from the media bucket and kept for
//!   the instance's later batches within a budget.
//! - [`browser`], [`session`], [`crash`]: the browser port and its Chromium adapter, opening a
//!   session with fallback, and the test-only crash points.

pub mod account;
pub mod batch;
pub mod browser;
pub mod crash;
pub mod deadline;
pub mod delivery;
pub mod media_files;
pub mod pacing;
pub mod quiet_hours;
pub mod receipts;
pub mod relaunch;
pub mod session;
pub mod tally;

pub use delivery::{Disposition, Done};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use browser::Launcher;
use campaign_store::{AccountGate, CampaignStore, SendCaps, SendingWindows};
use domain::{SharedClock, WarmUp};
use lambda_runtime::LambdaEvent;
use message_queue::MessageQueue;
use session_store::ProfileStore;
use std::sync::Arc;
use std::time::Duration;

/// Settings read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table.
    pub table_name: String,
    /// The FIFO queue this function consumes (for retry delays).
    pub queue_url: String,
    /// The bucket of the campaigns' files.
    pub media_bucket: String,
    /// How long a record given back for a retry stays invisible.
    pub retry_delay: Duration,
    /// How long a claim (SENDING) holds before another sender may take it over.
    pub lease: Duration,
    /// Attempts after which an uncertain send ends FAILED with its code.
    pub max_attempts: u32,
    /// Older generations tried when the current one does not log in.
    pub max_fallback: usize,
    /// Random pause between two messages, lower and upper bound.
    pub pace: (Duration, Duration),
    /// The longest wait, within that pause, for a message just sent to show it was read.
    pub receipt_wait: Duration,
    /// Time kept free at the end of an invocation to close the browser and back up.
    pub deadline_reserve: Duration,
    /// Sends allowed per account per hour and per day.
    pub caps: SendCaps,
    /// A newly linked account's daily ramp (lowers the daily cap by the age of its link).
    pub warm_up: WarmUp,
    /// A batch that loaded the app backs the profile up only when the last backup is at least
    /// this old (zero: after every batch).
    pub backup_every: Duration,
    /// Click "Use here" when WhatsApp Web is open in another window, instead of pausing.
    pub take_over_conflict: bool,
    /// The queue's `maxReceiveCount`: a record received this often is issued again rather than
    /// given back into the dead-letter queue.
    pub max_receive_count: u32,
}

impl Config {
    /// Reads `TABLE_NAME`, `QUEUE_URL`, `MEDIA_BUCKET`, `RETRY_DELAY_SECONDS` (30), `CLAIM_LEASE_SECONDS` (120),
    /// `MAX_SEND_ATTEMPTS` (3), `MAX_BACKUP_FALLBACK` (3), `PACE_MIN_MS` (2000), `PACE_MAX_MS`
    /// (6000), `RECEIPT_WAIT_MS` (6000, within the pause), `DEADLINE_RESERVE_SECONDS` (25), `CAP_PER_HOUR` and `CAP_PER_DAY` (0 or unset: no
    /// cap), `WARM_UP_RAMP` (unset: none), `BACKUP_MIN_INTERVAL_SECONDS` (0: after every batch),
    /// `TAKE_OVER_CONFLICT` (false) and `MAX_RECEIVE_COUNT` (5, the queue's redrive setting).
    pub fn from_env() -> Result<Self, platform::ConfigError> {
        let min = Duration::from_millis(platform::optional("PACE_MIN_MS", 2000u64)?);
        let max = Duration::from_millis(platform::optional("PACE_MAX_MS", 6000u64)?);
        Ok(Self {
            table_name: platform::required("TABLE_NAME")?,
            queue_url: platform::required("QUEUE_URL")?,
            media_bucket: platform::required("MEDIA_BUCKET")?,
            retry_delay: platform::seconds("RETRY_DELAY_SECONDS", 30)?,
            lease: platform::seconds("CLAIM_LEASE_SECONDS", 120)?,
            max_attempts: platform::optional("MAX_SEND_ATTEMPTS", 3u32)?,
            max_fallback: platform::optional("MAX_BACKUP_FALLBACK", 3usize)?,
            pace: (min, max.max(min)),
            receipt_wait: Duration::from_millis(platform::optional("RECEIPT_WAIT_MS", 6000u64)?),
            deadline_reserve: platform::seconds("DEADLINE_RESERVE_SECONDS", 25)?,
            caps: SendCaps::from_limits(
                platform::optional("CAP_PER_HOUR", 0u32)?,
                platform::optional("CAP_PER_DAY", 0u32)?,
            ),
            warm_up: platform::optional("WARM_UP_RAMP", WarmUp::default())?,
            backup_every: platform::seconds("BACKUP_MIN_INTERVAL_SECONDS", 0)?,
            take_over_conflict: platform::optional("TAKE_OVER_CONFLICT", false)?,
            max_receive_count: platform::optional("MAX_RECEIVE_COUNT", 5u32)?.max(1),
        })
    }
}

/// What the handler needs; built once per cold start.
pub struct Deps {
    /// Settings.
    pub config: Config,
    /// Campaign rows.
    pub store: Arc<dyn CampaignStore>,
    /// The account's browser lease and send caps, shared by every instance.
    pub gate: Arc<dyn AccountGate>,
    /// The accounts' sending windows.
    pub windows: Arc<dyn SendingWindows>,
    /// The queue, for retry delays.
    pub queue: Arc<dyn MessageQueue>,
    /// Session profile generations and the session pointer.
    pub profiles: Arc<dyn ProfileStore>,
    /// Starts browsers.
    pub launcher: Arc<dyn Launcher>,
    /// The campaigns' files, fetched and kept for the instance's batches.
    pub files: Arc<media_files::MediaFiles>,
    /// The current time (a parameter so tests control it).
    pub clock: SharedClock,
}

/// Handles one SQS batch.
pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    // The runtime's deadline is wall-clock time; read it on the injected clock.
    let deadline = event.context.deadline.saturating_add_signed(deps.clock.ahead_of_runtime_ms());
    Ok(batch::handle_batch(deps, &event.payload, deadline, &event.context.request_id).await)
}
