//! `sender`: takes SQS FIFO batches (group = sending account) and sends each message exactly
//! once through WhatsApp Web, or pauses it with the command that lets it continue.
//!
//! Per batch and account: a session is opened (restore the current profile generation, check it,
//! fall back to older generations — see [`session`]); each record's row is claimed under a lease
//! (QUEUED → SENDING) before anything is sent; a row found SENDING with an expired lease was
//! maybe sent, so the chat is checked before sending again; SENT / FAILED and the counters are
//! written in one transaction. After a batch that sent something the browser is closed with a
//! flush and the profile is backed up as a new generation.
//!
//! Across instances: one browser per account at a time (a lease in the table, taken before the
//! browser starts until the invocation's deadline plus a margin, so it never lapses while its
//! holder lives, and released at its end; a busy account's records go back until the lease
//! ends; the profile is backed up only while the lease is still held), and the per-account caps
//! per hour and day (a slot is taken before a row is claimed; a full window sends nothing more:
//! the rest goes back untouched until the next window opens, never FAILED). A browser that
//! crashes mid-batch is relaunched once on the same profile; the message it was sending is
//! verified in the chat before it is sent again.
//!
//! Rules kept here: a malformed record is logged and acknowledged (it can never succeed); once a
//! record of a group is given back, every later record of that group in the batch is given back
//! too, so FIFO order holds; when no generation logs in, the messages are PAUSED with the commands
//! that fix it and the records acknowledged — the rows keep the work, nothing is lost; "could not
//! tell" (unreachable, timeout) is retried and never treated as expired.

pub mod browser;
pub mod crash;
pub mod session;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use browser::{Browser, Launcher, SendOutcome};
use campaign_store::{
    AccountGate, CampaignStore, Claim, Finish, Lease, LeaseGrant, MessageQueue, PauseReason, QueuedMessage,
    SendCaps, SlotGrant, Transition,
};
use domain::{CampaignId, ErrorCode, PhoneNumber, Template};
use lambda_runtime::LambdaEvent;
use session_store::{GenerationState, ProfileStore};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use time::OffsetDateTime;

/// Settings read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table.
    pub table_name: String,
    /// The FIFO queue this function consumes (for retry delays).
    pub queue_url: String,
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
    /// Time kept free at the end of an invocation to close the browser and back up.
    pub deadline_reserve: Duration,
    /// Sends allowed per account per hour and per day.
    pub caps: SendCaps,
    /// A batch that sent backs the profile up only when the last backup is at least this old
    /// (zero: after every batch that sent).
    pub backup_every: Duration,
}

/// The longest visibility delay SQS accepts (12 hours).
const MAX_DELAY: Duration = Duration::from_secs(12 * 3600);

/// How long the account's browser lease outlives the invocation's deadline. An invocation cannot
/// run past its deadline, so the lease never lapses while its holder lives; the margin covers
/// clock skew between instances. A holder that died blocks the account at most this long after
/// its deadline (the records go back with that delay, never FAILED).
pub const LEASE_MARGIN: Duration = Duration::from_secs(30);

impl Config {
    /// Reads `TABLE_NAME`, `QUEUE_URL`, `RETRY_DELAY_SECONDS` (30), `CLAIM_LEASE_SECONDS` (120),
    /// `MAX_SEND_ATTEMPTS` (3), `MAX_BACKUP_FALLBACK` (3), `PACE_MIN_MS` (2000), `PACE_MAX_MS`
    /// (6000), `DEADLINE_RESERVE_SECONDS` (25), `CAP_PER_HOUR` and `CAP_PER_DAY` (0 or unset: no
    /// cap), `BACKUP_MIN_INTERVAL_SECONDS` (0: after every batch that sent).
    pub fn from_env() -> Result<Self, platform::ConfigError> {
        let cap = |name: &'static str| platform::optional(name, 0u32).map(|c| Some(c).filter(|c| *c > 0));
        let min = Duration::from_millis(platform::optional("PACE_MIN_MS", 2000u64)?);
        let max = Duration::from_millis(platform::optional("PACE_MAX_MS", 6000u64)?);
        Ok(Self {
            table_name: platform::required("TABLE_NAME")?,
            queue_url: platform::required("QUEUE_URL")?,
            retry_delay: platform::seconds("RETRY_DELAY_SECONDS", 30)?,
            lease: platform::seconds("CLAIM_LEASE_SECONDS", 120)?,
            max_attempts: platform::optional("MAX_SEND_ATTEMPTS", 3u32)?,
            max_fallback: platform::optional("MAX_BACKUP_FALLBACK", 3usize)?,
            pace: (min, max.max(min)),
            deadline_reserve: platform::seconds("DEADLINE_RESERVE_SECONDS", 25)?,
            caps: SendCaps { per_hour: cap("CAP_PER_HOUR")?, per_day: cap("CAP_PER_DAY")? },
            backup_every: platform::seconds("BACKUP_MIN_INTERVAL_SECONDS", 0)?,
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
    /// The queue, for retry delays.
    pub queue: Arc<dyn MessageQueue>,
    /// Session profile generations.
    pub profiles: Arc<dyn ProfileStore>,
    /// Starts browsers.
    pub launcher: Arc<dyn Launcher>,
    /// The current time (a parameter so tests control it).
    pub clock: Arc<dyn Fn() -> OffsetDateTime + Send + Sync>,
}

/// The current UTC time.
pub fn utc_now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done with it (sent, failed, paused, skipped, or unusable): acknowledge.
    Ack(&'static str),
    /// Give it back to the queue, visible again after the delay (the configured one if `None`).
    Retry(String, Option<Duration>),
}

/// Counts for the batch's metric line.
#[derive(Debug, Default)]
struct Tally {
    sent: u32,
    failed: u32,
    paused: u32,
    retried: u32,
    acked: u32,
    relaunched: u32,
    open_ms: u128,
    restore_ms: u128,
    launch_ms: u128,
    send_ms: u128,
}

fn item_failure(id: String) -> BatchItemFailure {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = id;
    failure
}

/// One parsed record.
struct Item<'a> {
    record: &'a SqsMessage,
    message: QueuedMessage,
}

/// Handles one SQS batch.
pub async fn handle(
    deps: &Deps,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    let started = Instant::now();
    // Stop sending early enough to close and back up; with a short function timeout the reserve
    // shrinks to a third of the invocation, so a small timeout still sends something.
    let deadline = deadline_instant(event.context.deadline);
    let reserve = deps.config.deadline_reserve.min(deadline.saturating_duration_since(started) / 3);
    let stop_sending_at = deadline.checked_sub(reserve).unwrap_or(started);
    let mut tally = Tally::default();
    // Records by group, in order of first appearance; malformed ones are acknowledged at once.
    let mut groups: Vec<(String, Vec<Item<'_>>)> = Vec::new();
    for record in &event.payload.records {
        let body = record.body.as_deref().unwrap_or_default();
        let message: QueuedMessage = match serde_json::from_str(body) {
            Ok(m) => m,
            Err(e) => {
                // It can never succeed: log it (without its content) and drop it.
                tracing::error!(error = %e, bytes = body.len(), "malformed queue record acknowledged");
                tally.acked += 1;
                continue;
            }
        };
        let group =
            record.attributes.get("MessageGroupId").cloned().unwrap_or_else(|| message.account.to_string());
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, items)) => items.push(Item { record, message }),
            None => groups.push((group, vec![Item { record, message }])),
        }
    }
    let mut failures = Vec::new();
    // The account's browser lease names this invocation and lasts until its deadline plus a
    // margin: it cannot lapse while this invocation lives, however long opening a session or
    // closing and backing up takes, so it is never renewed.
    let lease = BrowserLease {
        holder: format!("{}/{}", std::process::id(), event.context.request_id),
        until: browser_lease_until(
            (deps.clock)().unix_timestamp(),
            deadline.saturating_duration_since(Instant::now()),
        ),
    };
    for (_, items) in groups {
        let outcomes = process_group(deps, &items, stop_sending_at, &lease, &mut tally).await;
        // Once a record goes back, the later ones of its group follow it, with its delay.
        let mut given_back: Option<Option<Duration>> = None;
        for (item, outcome) in items.iter().zip(outcomes) {
            let id = item.record.message_id.clone().unwrap_or_default();
            let outcome = match given_back {
                Some(delay) => Outcome::Retry("an earlier record of its group was given back".into(), delay),
                None => outcome,
            };
            match outcome {
                Outcome::Ack(what) => {
                    tracing::debug!(message_id = %id, what, "record acknowledged");
                    tally.acked += 1;
                }
                Outcome::Retry(why, delay) => {
                    tracing::warn!(message_id = %id, reason = %why, "record given back for retry");
                    if let Some(handle) = &item.record.receipt_handle
                        && let Err(e) =
                            deps.queue.retry_later(handle, delay.unwrap_or(deps.config.retry_delay)).await
                    {
                        tracing::warn!(error = %e, "could not set the retry delay; the queue's visibility timeout applies");
                    }
                    given_back.get_or_insert(delay);
                    tally.retried += 1;
                    failures.push(item_failure(id));
                }
            }
        }
    }
    let per_message = if tally.sent > 0 { tally.send_ms / u128::from(tally.sent) } else { 0 };
    tracing::info!(
        records = event.payload.records.len(),
        sent = tally.sent,
        failed = tally.failed,
        paused = tally.paused,
        acked = tally.acked,
        retried = tally.retried,
        relaunched = tally.relaunched,
        open_ms = u64::try_from(tally.open_ms).unwrap_or(u64::MAX),
        restore_ms = u64::try_from(tally.restore_ms).unwrap_or(u64::MAX),
        launch_ms = u64::try_from(tally.launch_ms).unwrap_or(u64::MAX),
        ms_per_message = u64::try_from(per_message).unwrap_or(u64::MAX),
        ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "batch done"
    );
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    Ok(response)
}

/// The account's browser lease this invocation takes.
struct BrowserLease {
    /// Names this invocation.
    holder: String,
    /// Epoch seconds: the invocation's deadline plus [`LEASE_MARGIN`].
    until: i64,
}

/// The end of the browser lease of an invocation at `now` (epoch seconds) with `left` before its
/// deadline: the deadline (rounded up to a second) plus [`LEASE_MARGIN`].
fn browser_lease_until(now: i64, left: Duration) -> i64 {
    let left = i64::try_from(left.as_millis().div_ceil(1000)).unwrap_or(i64::MAX / 4);
    now.saturating_add(left).saturating_add(secs(LEASE_MARGIN))
}

/// The invocation deadline (epoch millis from the runtime) as an `Instant`.
fn deadline_instant(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let left = u128::from(deadline_ms).saturating_sub(now_ms);
    Instant::now() + Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX).min(15 * 60 * 1000))
}

/// Handles the records of one account, in order, sending none after `stop_sending_at`; returns
/// one outcome per item.
async fn process_group(
    deps: &Deps,
    items: &[Item<'_>],
    stop_sending_at: Instant,
    lease: &BrowserLease,
    tally: &mut Tally,
) -> Vec<Outcome> {
    let Some(first) = items.first() else { return Vec::new() };
    let account = first.message.account.clone();
    // Preflight: an account known to have no usable session pauses without a browser.
    match deps.store.session(&account).await {
        Err(e) => return retry_all(items, &e.to_string()),
        Ok(s)
            if s.as_ref()
                .is_none_or(|s| s.current_key.is_none() || s.state == domain::SessionState::Expired) =>
        {
            return pause_all(deps, items, ErrorCode::SessionExpired, tally).await;
        }
        Ok(_) => {}
    }
    // One browser per account across instances: without the lease, the records wait for it.
    let now = (deps.clock)().unix_timestamp();
    match deps.gate.acquire_browser(&account, &lease.holder, now, lease.until).await {
        Err(e) => return retry_all(items, &e.to_string()),
        Ok(LeaseGrant::Busy { until, .. }) => {
            let wait = wait_until(until + 1, now);
            tracing::info!(%account, wait_s = wait.as_secs(), "another instance holds the account's browser; records given back");
            return items
                .iter()
                .map(|_| Outcome::Retry("another instance holds the account's browser".into(), Some(wait)))
                .collect();
        }
        Ok(LeaseGrant::Acquired) => {}
    }
    let outcomes = with_browser(deps, items, stop_sending_at, lease, tally).await;
    if let Err(e) = deps.gate.release_browser(&account, &lease.holder).await {
        tracing::warn!(%account, error = %e, "could not release the account's browser lease; it expires on its own");
    }
    outcomes
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4)
}

/// The delay until epoch second `at`, from `now`: at least a second, at most what SQS accepts.
fn wait_until(at: i64, now: i64) -> Duration {
    Duration::from_secs(u64::try_from(at - now).unwrap_or(1).max(1)).min(MAX_DELAY)
}

/// Opens the account's session and sends the group's messages under the browser lease.
async fn with_browser(
    deps: &Deps,
    items: &[Item<'_>],
    stop_sending_at: Instant,
    lease: &BrowserLease,
    tally: &mut Tally,
) -> Vec<Outcome> {
    let Some(first) = items.first() else { return Vec::new() };
    let account = first.message.account.clone();
    let opened = match session::open(&deps.profiles, &deps.launcher, &account, deps.config.max_fallback).await
    {
        Ok(o) => o,
        Err(session::NotOpened::Transient(why)) => return retry_all(items, &why),
        Err(session::NotOpened::Unusable(code)) => return pause_all(deps, items, code, tally).await,
    };
    tally.open_ms += opened.took.as_millis();
    tally.restore_ms += opened.restore.as_millis();
    tally.launch_ms += opened.launch.as_millis();
    let session::Opened { mut browser, profile, from_backup, .. } = opened;
    let mut relaunch = Relaunch { dir: profile.path(), left: true };
    // Per campaign: its template, and whether it is cancelled (its rows are never sent).
    let mut campaigns: HashMap<CampaignId, (Option<Template>, bool)> = HashMap::new();
    let mut outcomes = Vec::with_capacity(items.len());
    let mut sent_any = false;
    let mut stopped: Option<String> = None;
    for item in items {
        if let Some(why) = &stopped {
            outcomes.push(Outcome::Retry(why.clone(), None));
            continue;
        }
        if Instant::now() >= stop_sending_at {
            stopped = Some("the invocation is about to time out".into());
            outcomes.push(Outcome::Retry("the invocation is about to time out".into(), Some(Duration::ZERO)));
            continue;
        }
        if from_backup && !campaigns.contains_key(&item.message.campaign_id) {
            let at = rfc3339((deps.clock)());
            let _ = deps
                .store
                .record_notice(&item.message.campaign_id, ErrorCode::SessionRestoredFromBackup, &at)
                .await;
        }
        let (template, cancelled) = match campaigns.get(&item.message.campaign_id) {
            Some(t) => t.clone(),
            None => {
                let t = match deps.store.campaign(&item.message.campaign_id).await {
                    Ok(view) => view.map_or((None, false), |v| {
                        (Template::parse(&v.template).ok(), v.status == domain::CampaignStatus::Cancelled)
                    }),
                    Err(e) => {
                        outcomes.push(Outcome::Retry(e.to_string(), None));
                        stopped = Some("an earlier record could not be read".into());
                        continue;
                    }
                };
                campaigns.insert(item.message.campaign_id.clone(), t.clone());
                t
            }
        };
        let sending_started = Instant::now();
        let (b, outcome, stop) =
            send_one(deps, browser, &item.message, template.as_ref(), cancelled, &mut relaunch, tally).await;
        browser = b;
        if matches!(outcome, Outcome::Ack("sent")) {
            sent_any = true;
            tally.send_ms += sending_started.elapsed().as_millis();
            pace(deps).await;
        }
        // FIFO: once a record goes back, the later ones of the group must not overtake it.
        let given_back = matches!(outcome, Outcome::Retry(..));
        outcomes.push(outcome);
        if let Some(why) = stop {
            stopped = Some(why);
        } else if given_back {
            stopped = Some("an earlier record of its group was given back".into());
        }
    }
    // Close with a flush before anything reads the profile; back up only what just worked, and
    // only while the lease is still ours (asked with the same end, so nothing is extended): a
    // lost lease means another instance may have run a browser on the account meanwhile.
    let closed = tokio::task::spawn_blocking(move || browser.close()).await;
    match closed {
        Ok(Ok(())) if sent_any && !backed_up_recently(deps, &account).await => match deps
            .gate
            .renew_browser(&account, &lease.holder, lease.until)
            .await
        {
            Ok(true) => match deps.profiles.backup(&account, profile.path(), GenerationState::Ready).await {
                Ok(b) => {
                    tracing::info!(%account, generation = %b.generation.id.as_str(), current = b.current, "profile backed up")
                }
                Err(e) => {
                    tracing::warn!(%account, code = e.code(), error = %e, "profile backup failed; the previous generation stays current")
                }
            },
            Ok(false) => tracing::warn!(%account, "the account's browser lease was lost; no backup taken"),
            Err(e) => {
                tracing::warn!(%account, error = %e, "could not confirm the account's browser lease; no backup taken")
            }
        },
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(%account, error = %e, "browser did not close cleanly; no backup taken"),
        Err(e) => tracing::warn!(%account, error = %e, "browser close task failed; no backup taken"),
    }
    drop(profile);
    outcomes
}

async fn pace(deps: &Deps) {
    let (min, max) = deps.config.pace;
    if max.is_zero() {
        return;
    }
    let wait = if max > min {
        use rand::Rng;
        let span = u64::try_from((max - min).as_millis()).unwrap_or(u64::MAX);
        min + Duration::from_millis(rand::rng().random_range(0..=span))
    } else {
        min
    };
    tokio::time::sleep(wait).await;
}

fn retry_all(items: &[Item<'_>], why: &str) -> Vec<Outcome> {
    items.iter().map(|_| Outcome::Retry(why.to_owned(), None)).collect()
}

async fn pause_all(deps: &Deps, items: &[Item<'_>], code: ErrorCode, tally: &mut Tally) -> Vec<Outcome> {
    let mut outcomes = Vec::with_capacity(items.len());
    for item in items {
        let m = &item.message;
        if outcomes.iter().any(|o| matches!(o, Outcome::Retry(..))) {
            outcomes.push(Outcome::Retry("an earlier record of its group was given back".into(), None));
            continue;
        }
        let reason = PauseReason {
            code,
            hint: code.hint_for(m.account.as_str(), m.campaign_id.as_str()),
            at: rfc3339((deps.clock)()),
        };
        outcomes.push(match deps.store.pause_message(&m.campaign_id, m.seq, &reason).await {
            Ok(Transition::Applied) => {
                tracing::info!(campaign = %m.campaign_id, seq = %m.seq, account = %m.account, code = %code, "message paused");
                tally.paused += 1;
                Outcome::Ack("paused")
            }
            Ok(Transition::NotApplicable) => Outcome::Ack("already settled"),
            Ok(Transition::Missing) => Outcome::Retry(format!("row {}#{} not found", m.campaign_id, m.seq), None),
            Err(e) => Outcome::Retry(e.to_string(), None),
        });
    }
    outcomes
}

/// Claims, sends (or verifies) and settles one message. Returns the browser back, the record's
/// outcome, and a reason to stop the group when the session stopped being usable.
async fn send_one(
    deps: &Deps,
    browser: Box<dyn Browser>,
    m: &QueuedMessage,
    template: Option<&Template>,
    cancelled: bool,
    relaunch: &mut Relaunch<'_>,
    tally: &mut Tally,
) -> (Box<dyn Browser>, Outcome, Option<String>) {
    // The account's caps, before the claim: a full window touches nothing (the row stays QUEUED
    // with its attempts, so waiting for a window never brings it nearer to FAILED) and the record
    // (and the rest of its group) waits for the next window. One slot per handling, whatever
    // follows (a verification, a relaunch and a second try): a slot taken for a row that then
    // turns out settled, claimed elsewhere or already delivered is simply spent — conservative,
    // the cap is never passed. A cancelled campaign's rows are never sent, so they take none.
    if deps.config.caps.any() && !cancelled {
        let now = (deps.clock)().unix_timestamp();
        match deps.gate.take_send_slot(&m.account, now, deps.config.caps).await {
            Ok(SlotGrant::Granted) => {}
            Ok(SlotGrant::CapReached { opens_at }) => {
                let wait = wait_until(opens_at, now);
                tracing::info!(account = %m.account, campaign = %m.campaign_id, seq = %m.seq, wait_s = wait.as_secs(), code = %ErrorCode::RateLimited, "send cap reached; the rest waits for the next window");
                let why = format!("{}: send cap reached", ErrorCode::RateLimited);
                return (browser, Outcome::Retry(why.clone(), Some(wait)), Some(why));
            }
            Err(e) => return (browser, Outcome::Retry(e.to_string(), None), Some(e.to_string())),
        }
    }
    let now = (deps.clock)();
    let lease = Lease {
        now: now.unix_timestamp(),
        until: now.unix_timestamp() + i64::try_from(deps.config.lease.as_secs()).unwrap_or(i64::MAX / 2),
        at: rfc3339(now),
    };
    let (row, ambiguous, verify_only) = match deps.store.claim_message(&m.campaign_id, m.seq, &lease).await {
        Err(e) => return (browser, Outcome::Retry(e.to_string(), None), None),
        Ok(Claim::Settled) => return (browser, Outcome::Ack("already settled"), None),
        Ok(Claim::Missing) => {
            return (
                browser,
                Outcome::Retry(format!("row {}#{} not found", m.campaign_id, m.seq), None),
                None,
            );
        }
        Ok(Claim::Busy { lease_until }) => {
            let wait = u64::try_from(lease_until - lease.now + 1).unwrap_or(1);
            return (
                browser,
                Outcome::Retry("another sender holds the claim".into(), Some(Duration::from_secs(wait))),
                None,
            );
        }
        Ok(Claim::Fresh(row)) => (row, false, false),
        Ok(Claim::Ambiguous(row)) => (row, true, false),
        // Cancelled while an earlier attempt was out: look, record what happened, never send.
        Ok(Claim::VerifyOnly(row)) => (row, true, true),
    };
    crash::hit(crash::CLAIMED, m, row.attempts);
    let finish = |f: Finish| {
        let at = lease.at.clone();
        async move { deps.store.finish_message(&m.campaign_id, m.seq, row.attempts, &f, &at).await }
    };
    let text = match template.map(|t| t.render(&row.vars)) {
        Some(Ok(text)) => text,
        _ => {
            tally.failed += 1;
            return settle(
                finish(Finish::Failed(ErrorCode::TemplateVariableMissing)).await,
                browser,
                "failed",
            );
        }
    };
    let Ok(phone) = PhoneNumber::parse(&row.phone, None) else {
        tally.failed += 1;
        return settle(finish(Finish::Failed(ErrorCode::InvalidPhone)).await, browser, "failed");
    };
    let mut ambiguous = ambiguous;
    let mut browser = browser;
    loop {
        if ambiguous {
            // An earlier attempt may have gone out: look in the chat before sending again.
            let (phone2, text2) = (phone.clone(), text.clone());
            let checked = tokio::task::spawn_blocking(move || {
                let mut b = browser;
                let r = b.already_sent(&phone2, &text2);
                (b, r)
            })
            .await;
            match checked {
                Ok((b, Ok(true))) => {
                    tracing::info!(campaign = %m.campaign_id, seq = %m.seq, "earlier attempt was delivered; not sent again");
                    tally.sent += 1;
                    return settle(finish(Finish::Sent).await, b, "sent");
                }
                Ok((b, Ok(false))) if verify_only => {
                    tracing::info!(campaign = %m.campaign_id, seq = %m.seq, "campaign cancelled; the earlier attempt did not go out and none follows");
                    return settle(finish(Finish::Released).await, b, "cancelled");
                }
                Ok((b, Ok(false))) => browser = b,
                Ok((b, Err(e))) => match relaunch.again(deps, b, &e, tally).await {
                    Ok(fresh) => {
                        browser = fresh;
                        continue;
                    }
                    Err(b) => {
                        return (
                            b,
                            Outcome::Retry(format!("could not verify an earlier attempt: {e}"), None),
                            Some(e),
                        );
                    }
                },
                Err(e) => {
                    return (Box::new(Gone), Outcome::Retry(e.to_string(), None), Some(e.to_string()));
                }
            }
        }
        let (phone2, text2) = (phone.clone(), text.clone());
        let sent = tokio::task::spawn_blocking(move || {
            let outcome = browser.send(&phone2, &text2);
            (browser, outcome)
        })
        .await;
        let (b, outcome) = match sent {
            Ok(pair) => pair,
            Err(e) => return (Box::new(Gone), Outcome::Retry(e.to_string(), None), Some(e.to_string())),
        };
        browser = b;
        return match outcome {
            SendOutcome::Sent => {
                crash::hit(crash::CLICKED, m, row.attempts);
                tracing::info!(campaign = %m.campaign_id, seq = %m.seq, account = %m.account, "message sent");
                tally.sent += 1;
                let written = finish(Finish::Sent).await;
                crash::hit(crash::RECORDED, m, row.attempts);
                settle(written, browser, "sent")
            }
            SendOutcome::NotOnWhatsapp => {
                tally.failed += 1;
                settle(finish(Finish::Failed(ErrorCode::NotOnWhatsapp)).await, browser, "failed")
            }
            SendOutcome::Uncertain(code) if row.attempts >= deps.config.max_attempts => {
                tally.failed += 1;
                settle(finish(Finish::Failed(code)).await, browser, "failed")
            }
            SendOutcome::Uncertain(code) => {
                // Left SENDING under its lease: the next attempt verifies in the chat first.
                let stop = matches!(
                    code,
                    ErrorCode::SessionExpired | ErrorCode::SessionConflict | ErrorCode::AccountBanned
                )
                .then(|| format!("the session stopped being usable ({code})"));
                let wait = deps.config.lease + Duration::from_secs(1);
                (browser, Outcome::Retry(format!("{code}: delivery not confirmed"), Some(wait)), stop)
            }
            SendOutcome::Crashed(why) => match relaunch.again(deps, browser, &why, tally).await {
                // A fresh browser on the same profile: the click may have gone out, so verify first.
                Ok(fresh) => {
                    browser = fresh;
                    ambiguous = true;
                    continue;
                }
                Err(b) => {
                    let wait = deps.config.lease + Duration::from_secs(1);
                    (b, Outcome::Retry(format!("browser crashed: {why}"), Some(wait)), Some(why))
                }
            },
        };
    }
}

/// The one relaunch a batch may spend on a browser that failed (crashed, or stopped answering).
struct Relaunch<'a> {
    /// The restored profile the browsers run on.
    dir: &'a Path,
    /// Whether the relaunch is still unspent.
    left: bool,
}

impl Relaunch<'_> {
    /// Replaces `failed` by a new browser on the same profile, once per batch, if that one logs
    /// in; otherwise hands back a browser to close (the failed one when no relaunch is left).
    async fn again(
        &mut self,
        deps: &Deps,
        failed: Box<dyn Browser>,
        why: &str,
        tally: &mut Tally,
    ) -> Result<Box<dyn Browser>, Box<dyn Browser>> {
        if !self.left {
            return Err(failed);
        }
        self.left = false;
        tally.relaunched += 1;
        tracing::warn!(reason = %why, "browser failed; relaunching it once");
        let launcher = Arc::clone(&deps.launcher);
        let dir = self.dir.to_path_buf();
        let started = Instant::now();
        let relaunched = tokio::task::spawn_blocking(move || {
            // Dropping kills what is left of the failed browser and frees the profile.
            drop(failed);
            let mut browser = launcher.launch(&dir)?;
            match browser.check() {
                browser::Check::Ready => Ok(browser),
                other => {
                    let _ = browser.close();
                    Err(format!("relaunched browser is not ready: {other:?}"))
                }
            }
        })
        .await;
        tally.launch_ms += started.elapsed().as_millis();
        match relaunched {
            Ok(Ok(browser)) => Ok(browser),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "relaunch failed; the record goes back to the queue");
                Err(Box::new(Gone))
            }
            Err(e) => {
                tracing::warn!(error = %e, "relaunch task failed; the record goes back to the queue");
                Err(Box::new(Gone))
            }
        }
    }
}

fn settle(
    result: Result<Transition, campaign_store::StoreError>,
    browser: Box<dyn Browser>,
    what: &'static str,
) -> (Box<dyn Browser>, Outcome, Option<String>) {
    match result {
        Ok(Transition::Applied) => (browser, Outcome::Ack(what), None),
        Ok(Transition::NotApplicable | Transition::Missing) => {
            (browser, Outcome::Ack("claim lost to another sender"), None)
        }
        Err(e) => (browser, Outcome::Retry(e.to_string(), None), None),
    }
}

/// Whether the account's last backup is younger than `BACKUP_MIN_INTERVAL_SECONDS` (then this
/// batch takes none: the current generation is recent enough). Unknown counts as not recent.
async fn backed_up_recently(deps: &Deps, account: &domain::AccountId) -> bool {
    if deps.config.backup_every.is_zero() {
        return false;
    }
    match deps.profiles.pointer(account).await {
        Ok(Some(session_store::SessionPointer { last_backup: Some(last), .. })) => {
            let recent = (deps.clock)() - last < deps.config.backup_every;
            if recent {
                tracing::debug!(%account, "last backup is recent; none taken after this batch");
            }
            recent
        }
        _ => false,
    }
}

/// Stands in for a browser whose thread died: every call fails, closing does nothing.
struct Gone;

impl Browser for Gone {
    fn check(&mut self) -> browser::Check {
        browser::Check::Unknown("browser gone".into())
    }
    fn send(&mut self, _: &PhoneNumber, _: &str) -> SendOutcome {
        SendOutcome::Crashed("browser gone".into())
    }
    fn already_sent(&mut self, _: &PhoneNumber, _: &str) -> Result<bool, String> {
        Err("browser gone".into())
    }
    fn close(self: Box<Self>) -> Result<(), String> {
        Err("browser gone".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use browser::Check;
    use campaign_store::{
        InMemoryAccountGate, InMemoryCampaignStore, InMemoryMessageQueue, NewCampaign, NewMessage,
        SessionRecord,
    };
    use domain::{AccountId, MessageSeq, MessageStatus, SessionState};
    use session_store::{InMemoryProfileStore, StoreConfig};
    use std::collections::VecDeque;
    use std::path::Path;
    use std::sync::Mutex;

    /// What the fake WhatsApp Web does; shared by every browser the launcher starts.
    #[derive(Default)]
    struct Script {
        /// Messages that reached a recipient, as (phone, text).
        delivered: Vec<(String, String)>,
        /// Outcomes to play for the next sends (then `Sent`).
        next: VecDeque<SendOutcome>,
        launches: u32,
        /// The account gate, to look at (or take over) the browser lease while a batch runs.
        gate: Option<Arc<InMemoryAccountGate>>,
        /// The browser lease at each launch.
        leases_seen: Vec<Option<(String, i64)>>,
        /// Another instance takes the browser lease over at the next send.
        take_over_lease: bool,
    }

    /// Logs in when the profile's marker file says "good".
    struct FakeLauncher(Arc<Mutex<Script>>);

    struct FakeBrowser {
        ready: bool,
        script: Arc<Mutex<Script>>,
    }

    impl Launcher for FakeLauncher {
        fn launch(&self, profile_dir: &Path) -> Result<Box<dyn Browser>, String> {
            let marker =
                std::fs::read_to_string(profile_dir.join("Default/Local Storage/leveldb/marker.log"))
                    .map_err(|e| e.to_string())?;
            let mut s = self.0.lock().unwrap();
            s.launches += 1;
            let lease = s.gate.as_ref().and_then(|g| g.lease_of(&shop()));
            s.leases_seen.push(lease);
            drop(s);
            Ok(Box::new(FakeBrowser { ready: marker == "good", script: self.0.clone() }))
        }
    }

    impl Browser for FakeBrowser {
        fn check(&mut self) -> Check {
            if self.ready { Check::Ready } else { Check::NeedsQr }
        }
        fn send(&mut self, phone: &PhoneNumber, text: &str) -> SendOutcome {
            let mut s = self.script.lock().unwrap();
            if std::mem::take(&mut s.take_over_lease)
                && let Some(gate) = s.gate.clone()
            {
                // Far past the lease's end, as if this instance's clock were far behind.
                let later = i64::MAX / 4;
                let taken = tokio::runtime::Handle::current().block_on(gate.acquire_browser(
                    &shop(),
                    "elsewhere",
                    later,
                    later + 90,
                ));
                assert_eq!(taken.unwrap(), LeaseGrant::Acquired);
            }
            let outcome = s.next.pop_front().unwrap_or(SendOutcome::Sent);
            if matches!(outcome, SendOutcome::Sent | SendOutcome::Uncertain(ErrorCode::SendTimeout)) {
                s.delivered.push((phone.e164().to_owned(), text.to_owned()));
            }
            outcome
        }
        fn already_sent(&mut self, phone: &PhoneNumber, text: &str) -> Result<bool, String> {
            let s = self.script.lock().unwrap();
            Ok(s.delivered.iter().any(|(p, t)| p == phone.e164() && t == text))
        }
        fn close(self: Box<Self>) -> Result<(), String> {
            Ok(())
        }
    }

    struct World {
        deps: Deps,
        store: Arc<InMemoryCampaignStore>,
        gate: Arc<InMemoryAccountGate>,
        queue: Arc<InMemoryMessageQueue>,
        profiles: Arc<InMemoryProfileStore>,
        script: Arc<Mutex<Script>>,
        now: Arc<Mutex<i64>>,
    }

    fn world() -> World {
        let store = Arc::new(InMemoryCampaignStore::default());
        let gate = Arc::new(InMemoryAccountGate::default());
        let queue = Arc::new(InMemoryMessageQueue::default());
        let profiles = Arc::new(InMemoryProfileStore::new(StoreConfig::new("bucket", "table")));
        let script = Arc::new(Mutex::new(Script { gate: Some(gate.clone()), ..Script::default() }));
        let now = Arc::new(Mutex::new(1_800_000_000i64));
        let clock_now = now.clone();
        let deps = Deps {
            config: Config {
                table_name: "t".into(),
                queue_url: "q".into(),
                retry_delay: Duration::from_secs(7),
                lease: Duration::from_secs(60),
                max_attempts: 3,
                max_fallback: 3,
                pace: (Duration::ZERO, Duration::ZERO),
                deadline_reserve: Duration::ZERO,
                caps: SendCaps::default(),
                backup_every: Duration::ZERO,
            },
            store: store.clone(),
            gate: gate.clone(),
            queue: queue.clone(),
            profiles: profiles.clone(),
            launcher: Arc::new(FakeLauncher(script.clone())),
            clock: Arc::new(move || {
                OffsetDateTime::from_unix_timestamp(*clock_now.lock().unwrap())
                    .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            }),
        };
        World { deps, store, gate, queue, profiles, script, now }
    }

    fn shop() -> AccountId {
        AccountId::parse("shop").unwrap()
    }

    impl World {
        async fn campaign(&self, n: u32) -> CampaignId {
            let id = CampaignId::parse("c-1").unwrap();
            let messages = (0..n)
                .map(|i| NewMessage {
                    seq: MessageSeq(i),
                    phone: PhoneNumber::parse(&format!("+49151123456{i:02}"), None)
                        .map_err(|e| e.to_string()),
                    vars: [("name".to_string(), format!("R{i}"))].into(),
                })
                .collect();
            self.store
                .create_campaign(&NewCampaign {
                    id: id.clone(),
                    name: "n".into(),
                    account: shop(),
                    template: Template::parse("Hi {{name}}").unwrap(),
                    messages,
                    created_at: "2026-11-29T00:00:00Z".into(),
                    paused: None,
                })
                .await
                .unwrap();
            id
        }

        /// Stores a generation whose browser logs in ("good") or shows the QR ("bad").
        async fn generation(&self, marker: &str) {
            let dir = tempfile::tempdir().unwrap();
            let leveldb = dir.path().join("Default/Local Storage/leveldb");
            std::fs::create_dir_all(&leveldb).unwrap();
            std::fs::write(leveldb.join("marker.log"), marker).unwrap();
            self.profiles.backup(&shop(), dir.path(), GenerationState::Ready).await.unwrap();
            self.store.set_session(
                shop(),
                SessionRecord { state: SessionState::Ready, current_key: Some("k".into()), version: 1 },
            );
        }

        async fn run(&self, records: Vec<SqsMessage>) -> Vec<String> {
            self.run_with(records, 60_000).await
        }

        /// Runs a batch with `left_ms` milliseconds left before the invocation's deadline.
        async fn run_with(&self, records: Vec<SqsMessage>, left_ms: u64) -> Vec<String> {
            let mut ev = SqsEvent::default();
            ev.records = records;
            let mut ctx = lambda_runtime::Context::default();
            ctx.deadline = u64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis())
                .unwrap()
                + left_ms;
            let resp = handle(&self.deps, LambdaEvent::new(ev, ctx)).await.unwrap();
            resp.batch_item_failures.into_iter().map(|f| f.item_identifier).collect()
        }

        fn delivered(&self) -> Vec<(String, String)> {
            self.script.lock().unwrap().delivered.clone()
        }
    }

    fn record(id: &str, group: &str, body: &str) -> SqsMessage {
        let mut r = SqsMessage::default();
        r.message_id = Some(id.into());
        r.receipt_handle = Some(format!("rh-{id}"));
        r.body = Some(body.into());
        r.attributes = HashMap::from([("MessageGroupId".to_string(), group.to_string())]);
        r
    }

    fn body(campaign: &CampaignId, seq: u32) -> String {
        serde_json::to_string(&QueuedMessage {
            campaign_id: campaign.clone(),
            seq: MessageSeq(seq),
            account: shop(),
            round: 0,
        })
        .unwrap()
    }

    fn records(campaign: &CampaignId, n: u32) -> Vec<SqsMessage> {
        (0..n).map(|i| record(&format!("r{i}"), "shop", &body(campaign, i))).collect()
    }

    #[tokio::test]
    async fn without_a_session_every_message_is_paused_with_the_setup_hint() {
        let w = world();
        let id = w.campaign(2).await;
        assert!(w.run(records(&id, 2)).await.is_empty());
        let view = w.store.campaign(&id).await.unwrap().unwrap();
        assert_eq!((view.counts.paused, view.counts.queued), (2, 0));
        assert_eq!(view.reason, Some(ErrorCode::SessionExpired));
        assert_eq!(
            view.hint.as_deref(),
            Some("Run `wacamp setup --account shop --force`, then `wacamp resume c-1`.")
        );
        assert_eq!(w.script.lock().unwrap().launches, 0, "no browser without a session");
    }

    #[tokio::test]
    async fn every_message_is_sent_once_and_a_redelivered_batch_sends_nothing_again() {
        let w = world();
        w.generation("good").await;
        let id = w.campaign(3).await;
        assert!(w.run(records(&id, 3)).await.is_empty());
        assert!(w.run(records(&id, 3)).await.is_empty(), "the duplicate batch is acknowledged");
        let delivered = w.delivered();
        assert_eq!(delivered.len(), 3, "{delivered:?}");
        assert_eq!(delivered[1], ("+4915112345601".to_string(), "Hi R1".to_string()));
        let view = w.store.campaign(&id).await.unwrap().unwrap();
        assert_eq!((view.counts.sent, view.status), (3, domain::CampaignStatus::Completed));
        assert_eq!(
            w.profiles.list(&shop()).await.unwrap().len(),
            2,
            "a batch that sent backs the profile up"
        );
    }

    #[tokio::test]
    async fn a_current_generation_that_needs_the_qr_falls_back_to_an_older_one_and_promotes_it() {
        let w = world();
        w.generation("good").await;
        *w.now.lock().unwrap() += 10;
        w.generation("bad").await;
        let id = w.campaign(1).await;
        assert!(w.run(records(&id, 1)).await.is_empty());
        assert_eq!(w.delivered().len(), 1);
        let view = w.store.campaign(&id).await.unwrap().unwrap();
        assert_eq!(view.notice, Some(ErrorCode::SessionRestoredFromBackup));
        let gens = w.profiles.list(&shop()).await.unwrap();
        assert_eq!(gens.iter().filter(|g| g.state == GenerationState::NeedsQr).count(), 1, "{gens:?}");
    }

    #[tokio::test]
    async fn when_no_generation_logs_in_the_session_expires_and_messages_pause() {
        let w = world();
        w.generation("bad").await;
        let id = w.campaign(2).await;
        assert!(w.run(records(&id, 2)).await.is_empty(), "records are acknowledged; rows keep the work");
        assert!(w.delivered().is_empty());
        let view = w.store.campaign(&id).await.unwrap().unwrap();
        assert_eq!((view.status, view.counts.paused), (domain::CampaignStatus::Paused, 2));
        assert_eq!(w.profiles.pointer(&shop()).await.unwrap().unwrap().state, SessionState::Expired);
    }

    #[tokio::test]
    async fn an_unconfirmed_send_is_verified_in_the_chat_before_any_second_send() {
        let w = world();
        w.generation("good").await;
        let id = w.campaign(2).await;
        w.script.lock().unwrap().next.push_back(SendOutcome::Uncertain(ErrorCode::SendTimeout));
        // The first send goes out without an ack: its record and the rest of the group go back.
        assert_eq!(w.run(records(&id, 2)).await, vec!["r0".to_string(), "r1".to_string()]);
        assert_eq!(
            w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap().status,
            MessageStatus::Sending
        );
        // Before the lease ends the row is left alone; after it, the chat shows the message.
        assert_eq!(w.run(records(&id, 2)).await, vec!["r0".to_string(), "r1".to_string()]);
        *w.now.lock().unwrap() += 61;
        assert!(w.run(records(&id, 2)).await.is_empty());
        assert_eq!(w.delivered().len(), 2, "{:?}", w.delivered());
        assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.sent, 2);
    }

    #[tokio::test]
    async fn a_number_not_on_whatsapp_fails_with_its_code_and_the_rest_is_sent() {
        let w = world();
        w.generation("good").await;
        let id = w.campaign(2).await;
        w.script.lock().unwrap().next.push_back(SendOutcome::NotOnWhatsapp);
        assert!(w.run(records(&id, 2)).await.is_empty());
        let row = w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap();
        assert_eq!((row.status, row.error), (MessageStatus::Failed, Some(ErrorCode::NotOnWhatsapp)));
        assert_eq!(w.delivered().len(), 1);
    }

    #[tokio::test]
    async fn an_invocation_at_its_deadline_gives_every_unsent_record_back_untouched() {
        let w = world();
        w.generation("good").await;
        let id = w.campaign(2).await;
        assert_eq!(w.run_with(records(&id, 2), 0).await, vec!["r0".to_string(), "r1".to_string()]);
        assert!(w.delivered().is_empty());
        let view = w.store.campaign(&id).await.unwrap().unwrap();
        assert_eq!((view.counts.queued, view.counts.sending), (2, 0), "nothing was claimed");
        assert!(w.run(records(&id, 2)).await.is_empty(), "a later invocation sends them");
        assert_eq!(w.delivered().len(), 2);
    }

    #[tokio::test]
    async fn malformed_and_stray_records_never_stop_the_batch() {
        let w = world();
        let id = w.campaign(1).await;
        let stray = body(&CampaignId::parse("c-missing").unwrap(), 0);
        let failed = w
            .run(vec![
                record("x", "shop", "{not json"),
                record("m", "shop", &stray),
                record("a", "shop", &body(&id, 0)),
            ])
            .await;
        assert_eq!(failed, vec!["m".to_string(), "a".to_string()], "the stray is kept; FIFO order holds");
        assert_eq!(w.queue.retried.lock().unwrap()[0], ("rh-m".to_string(), Duration::from_secs(7)));
        assert_eq!(
            w.store.campaign(&id).await.unwrap().unwrap().counts.queued,
            1,
            "the later record was not touched"
        );
    }

    #[tokio::test]
    async fn a_batch_for_an_account_whose_browser_another_instance_holds_waits_for_the_lease_to_end() {
        let w = world();
        w.generation("good").await;
        let id = w.campaign(2).await;
        let now = *w.now.lock().unwrap();
        w.gate.acquire_browser(&shop(), "elsewhere", now, now + 40).await.unwrap();
        // While another instance holds the account's browser, nothing launches and nothing fails:
        // the records go back until its lease ends.
        assert_eq!(w.run(records(&id, 2)).await, vec!["r0".to_string(), "r1".to_string()]);
        assert_eq!(w.script.lock().unwrap().launches, 0, "no second browser on the account");
        assert_eq!(w.queue.retried.lock().unwrap()[0], ("rh-r0".to_string(), Duration::from_secs(41)));
        assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.queued, 2);
        // Once that lease expired (its holder died), it is taken over, and released at the end.
        *w.now.lock().unwrap() += 41;
        assert!(w.run(records(&id, 2)).await.is_empty());
        assert_eq!(w.delivered().len(), 2);
        assert_eq!(w.gate.lease_of(&shop()), None);
    }

    #[tokio::test]
    async fn a_reached_hourly_cap_gives_the_rest_back_until_the_next_hour_without_failing_it() {
        let mut w = world();
        w.deps.config.caps = SendCaps { per_hour: Some(2), per_day: Some(10) };
        w.generation("good").await;
        let id = w.campaign(3).await;
        assert_eq!(w.run(records(&id, 3)).await, vec!["r2".to_string()]);
        assert_eq!(w.delivered().len(), 2);
        let row = w.store.message(&id, MessageSeq(2)).await.unwrap().unwrap();
        assert_eq!(row.status, MessageStatus::Queued, "back in the queue, not FAILED");
        // The clock stands on a full hour: the record waits the whole next hour.
        assert_eq!(w.queue.retried.lock().unwrap()[0], ("rh-r2".to_string(), Duration::from_secs(3600)));
        // Waiting is not an attempt, however often the record comes back before the window opens.
        for _ in 0..4 {
            assert_eq!(w.run(vec![record("r2", "shop", &body(&id, 2))]).await, vec!["r2".to_string()]);
        }
        let row = w.store.message(&id, MessageSeq(2)).await.unwrap().unwrap();
        assert_eq!((row.status, row.attempts), (MessageStatus::Queued, 0), "the cap never claimed it");
        assert_eq!(w.gate.sends_this_hour(&shop(), *w.now.lock().unwrap()), 2);
        *w.now.lock().unwrap() += 3600;
        assert!(w.run(vec![record("r2", "shop", &body(&id, 2))]).await.is_empty());
        assert_eq!(w.delivered().len(), 3);
        assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.sent, 3);
    }

    #[tokio::test]
    async fn a_browser_that_crashes_mid_batch_is_relaunched_once_and_the_batch_goes_on() {
        let w = world();
        w.generation("good").await;
        let id = w.campaign(2).await;
        w.script.lock().unwrap().next.push_back(SendOutcome::Crashed("renderer gone".into()));
        assert!(w.run(records(&id, 2)).await.is_empty());
        assert_eq!(w.script.lock().unwrap().launches, 2, "one relaunch");
        let delivered = w.delivered();
        assert_eq!(delivered.len(), 2, "{delivered:?}");
        assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.sent, 2);
    }

    #[tokio::test]
    async fn a_browser_that_crashes_again_after_its_relaunch_gives_the_record_back_for_redelivery() {
        let w = world();
        w.generation("good").await;
        let id = w.campaign(2).await;
        for _ in 0..2 {
            w.script.lock().unwrap().next.push_back(SendOutcome::Crashed("renderer gone".into()));
        }
        assert_eq!(w.run(records(&id, 2)).await, vec!["r0".to_string(), "r1".to_string()]);
        assert_eq!(w.script.lock().unwrap().launches, 2, "only one relaunch per batch");
        assert!(w.delivered().is_empty());
        let row = w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap();
        assert_eq!(
            row.status,
            MessageStatus::Sending,
            "left under its claim: the next attempt verifies first"
        );
        // A later delivery (after the claim's lease) verifies, sends, and finishes the batch.
        *w.now.lock().unwrap() += 61;
        assert!(w.run(records(&id, 2)).await.is_empty());
        assert_eq!(w.delivered().len(), 2);
    }

    #[tokio::test]
    async fn the_browser_lease_lasts_until_the_invocation_deadline_plus_a_margin_and_is_released_after() {
        let w = world();
        w.generation("good").await;
        let id = w.campaign(1).await;
        let now = *w.now.lock().unwrap();
        // Given an invocation with 60 s left, when it runs,
        assert!(w.run_with(records(&id, 1), 60_000).await.is_empty());
        // then the browser started under a lease that ends 30 s after its deadline, never renewed,
        let seen = w.script.lock().unwrap().leases_seen.clone();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].as_ref().map(|(_, until)| *until), Some(now + 60 + 30), "{seen:?}");
        // and the lease is given up at the end.
        assert_eq!(w.gate.lease_of(&shop()), None);
    }

    #[test]
    fn the_browser_lease_ends_a_margin_after_the_deadline_rounded_up_to_a_second() {
        assert_eq!(browser_lease_until(1_000, Duration::from_millis(59_001)), 1_000 + 60 + 30);
        assert_eq!(browser_lease_until(1_000, Duration::ZERO), 1_000 + 30);
    }

    #[tokio::test]
    async fn a_batch_that_lost_its_browser_lease_takes_no_backup() {
        let w = world();
        w.generation("good").await;
        let id = w.campaign(1).await;
        // Given another instance that takes the account's lease over while the message is sent,
        w.script.lock().unwrap().take_over_lease = true;
        // when the batch ends, the sent message is recorded
        assert!(w.run(records(&id, 1)).await.is_empty());
        assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.sent, 1);
        // but no generation is backed up, and the other instance keeps its lease.
        assert_eq!(w.profiles.list(&shop()).await.unwrap().len(), 1, "no backup without the lease");
        assert_eq!(w.gate.lease_of(&shop()).map(|(h, _)| h), Some("elsewhere".to_string()));
    }

    #[tokio::test]
    async fn a_batch_soon_after_a_backup_takes_none_when_backups_are_spaced() {
        let mut w = world();
        w.deps.config.backup_every = Duration::from_secs(600);
        // Given a generation stored just now (the world's clock set to the wall clock),
        *w.now.lock().unwrap() = OffsetDateTime::now_utc().unix_timestamp();
        w.generation("good").await;
        let id = w.campaign(1).await;
        // when a batch sends within the interval, the message is recorded and no backup is taken.
        assert!(w.run(records(&id, 1)).await.is_empty());
        assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.sent, 1);
        assert_eq!(w.profiles.list(&shop()).await.unwrap().len(), 1, "backups are spaced");
    }

    #[tokio::test]
    async fn a_relaunch_after_a_crash_takes_no_second_send_slot() {
        let mut w = world();
        w.deps.config.caps = SendCaps { per_hour: Some(10), per_day: None };
        w.generation("good").await;
        let id = w.campaign(2).await;
        w.script.lock().unwrap().next.push_back(SendOutcome::Crashed("renderer gone".into()));
        assert!(w.run(records(&id, 2)).await.is_empty());
        assert_eq!(w.script.lock().unwrap().launches, 2, "one relaunch");
        assert_eq!(w.delivered().len(), 2);
        assert_eq!(w.gate.sends_this_hour(&shop(), *w.now.lock().unwrap()), 2, "one slot per message");
    }
}
