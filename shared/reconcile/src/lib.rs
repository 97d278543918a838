//! The reconciler: the sweep that catches what falls through. For every campaign not over yet it
//! counts the rows and compares them with the counters (repairing the counters from the rows,
//! never the other way), re-issues records for rows stranded QUEUED or SENDING (a start or resume
//! that died before queueing them, a claim that lapsed long ago with no record left), moves
//! dead-lettered records back into the queue, issues records for rows held for their
//! recipient's sending window once it opens (or changes), starts scheduled campaigns whose time has come
//! (`campaign_control::release`; a run of [`Scope::Due`] does only that, cheaply enough for a
//! schedule of a minute), completes campaigns with nothing open, and takes
//! finished campaigns off the open listing. Idempotent and safe while senders run: a record
//! issued twice is harmless (claims are exactly-once), a repair applies only if no row moved
//! since the count.
//!
//! - [`plan`]: the pure decisions for one campaign, from its census and the clock.
//! - [`dead_letters`]: draining the dead-letter queue back.
//! - [`report`]: what a run did, as one log line and one metric.
//!
//! Run on a schedule by `functions/reconciler` and on demand by `wacamp reconcile [<campaign>]`.

pub mod dead_letters;
pub mod plan;
pub mod report;

pub use report::Report;

use campaign_control::{Released, ResumeError, When};
use campaign_store::{CampaignStore, SendingWindows, StoreError, StoredWindow, Transition};
use domain::lifecycle::campaign;
use domain::lifecycle::hold::WindowSetting;
use domain::{CampaignId, MessageStatus, QueuedMessage, SharedClock, rfc3339};
use message_queue::{DeadLetters, MessageQueue, QueueError};
use std::sync::Arc;
use std::time::Duration;

/// How patient the reconciler is.
#[derive(Debug, Clone)]
pub struct Config {
    /// A start or resume still queueing, or a QUEUED row not moved, for less than this is left
    /// alone (it is being handled); older, its rows get their records again.
    pub grace: Duration,
    /// A SENDING row whose claim lapsed longer ago than this has no record left to come back.
    pub stale_claim: Duration,
    /// Dead-lettered records moved back per run, at most.
    pub max_dead_letters: u32,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(600),
            stale_claim: Duration::from_secs(3600),
            max_dead_letters: 1000,
        }
    }
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The campaign store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The queue failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// What a run needs.
pub struct Deps {
    /// Campaign rows.
    pub store: Arc<dyn CampaignStore>,
    /// The sender's queue (records are issued again into it).
    pub queue: Arc<dyn MessageQueue>,
    /// Its dead-letter queue.
    pub dead_letters: Arc<dyn DeadLetters>,
    /// The accounts' sending windows (a held row's hold ends when its window changes).
    pub windows: Arc<dyn SendingWindows>,
    /// The current time.
    pub clock: SharedClock,
    /// Settings.
    pub config: Config,
}

/// Which campaigns a run looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every campaign not over yet, and the dead-letter queue.
    All,
    /// Only the scheduled campaigns whose start time has come: each is started (one read per
    /// open campaign, no census).
    Due,
    /// One campaign (over or not).
    Campaign(CampaignId),
}

/// Campaigns read from the open listing per page.
const PAGE: u32 = 100;

/// Runs the reconciler once over `scope`.
pub async fn run(deps: &Deps, scope: &Scope) -> Result<Report, ReconcileError> {
    let mut report = Report::default();
    if *scope == Scope::All {
        dead_letters::drain(deps, &mut report).await?;
    }
    // An empty queue means no QUEUED row can have a record waiting: an old one is stranded.
    // SQS's figure is approximate, so it only ever makes the reconciler do more (a record issued
    // twice is harmless), never less. (A run of due campaigns only releases: it needs none.)
    let queue_idle = *scope != Scope::Due && deps.queue.depth().await? == 0;
    match scope {
        Scope::Campaign(id) => {
            release_if_due(deps, id, &mut report).await?;
            campaign(deps, id, queue_idle, &mut report).await?;
        }
        Scope::All | Scope::Due => {
            let mut after: Option<CampaignId> = None;
            loop {
                let page = deps.store.open_campaigns(after.as_ref(), PAGE).await?;
                for id in &page {
                    release_if_due(deps, id, &mut report).await?;
                    if *scope == Scope::All {
                        campaign(deps, id, queue_idle, &mut report).await?;
                    } else if waits_no_longer(deps, id).await? {
                        // A held row's window opened: its record now, not at the next full run.
                        campaign(deps, id, false, &mut report).await?;
                    }
                }
                if page.len() < PAGE as usize {
                    break;
                }
                after = page.last().cloned();
            }
        }
    }
    Ok(report)
}

/// Whether campaign `id` notes held rows whose window has opened (one read of its row).
async fn waits_no_longer(deps: &Deps, id: &CampaignId) -> Result<bool, ReconcileError> {
    let now = deps.clock.unix();
    Ok(deps.store.campaign(id).await?.and_then(|v| v.waiting_until).is_some_and(|w| w <= now))
}

/// Starts campaign `id` if it is scheduled and its time has come.
async fn release_if_due(deps: &Deps, id: &CampaignId, report: &mut Report) -> Result<(), ReconcileError> {
    let control = campaign_control::Control {
        store: deps.store.clone(),
        queue: deps.queue.clone(),
        clock: deps.clock.clone(),
    };
    match campaign_control::release(&control, id, When::Due).await {
        Ok(Released::Started { .. }) => report.released += 1,
        Ok(Released::NotYet | Released::NotScheduled(_)) => {}
        // Listed without a campaign row: the census below deals with the listing.
        Err(ResumeError::Unknown(_) | ResumeError::Over { .. }) => {}
        Err(ResumeError::Stopped { source, .. } | ResumeError::Store(source)) => return Err(source.into()),
        Err(ResumeError::Queue(e)) => return Err(e.into()),
    }
    Ok(())
}

/// Reconciles one campaign.
async fn campaign(
    deps: &Deps,
    id: &CampaignId,
    queue_idle: bool,
    report: &mut Report,
) -> Result<(), ReconcileError> {
    let now = deps.clock.now();
    let at = rfc3339(now);
    report.campaigns += 1;
    let Some(census) = deps.store.census(id).await? else {
        // Listed, but its campaign row never came (a start that died before writing it), once
        // the listing is older than the grace (a start writes the listing first).
        let cutoff = rfc3339(now - deps.config.grace);
        if deps.store.drop_orphan_listing(id, &cutoff).await? == Transition::Applied {
            report.unlisted += 1;
        }
        return Ok(());
    };
    let decided = plan::decide(&census, now.unix_timestamp(), queue_idle, &deps.config);
    if decided.drifted {
        report.drifted += 1;
        tracing::warn!(campaign = %id, stored = ?census.view.counts, counted = ?census.counted, "counters drifted from the rows");
        if deps.store.repair_counters(&census.view, &census.counted, &at).await? == Transition::Applied {
            report.repaired += 1;
        }
    }
    let mut records: Vec<QueuedMessage> = Vec::new();
    if !decided.reissue.is_empty() {
        let hop = plan::reissue_hop(now.unix_timestamp());
        records.extend(decided.reissue.iter().map(|r| QueuedMessage {
            hop,
            ..QueuedMessage::new(id.clone(), r.seq, r.account.clone(), r.round)
        }));
        report.reissued += u64::try_from(decided.reissue.len()).unwrap_or(u64::MAX);
    }
    if !decided.issue.is_empty() {
        records.extend(
            decided.issue.iter().map(|r| QueuedMessage::new(id.clone(), r.seq, r.account.clone(), r.round)),
        );
        report.handed_over += u64::try_from(decided.issue.len()).unwrap_or(u64::MAX);
    }
    // Held rows whose window opened (or changed) get their record, like a stranded row's.
    let window = if census.open_rows.iter().any(|e| e.row.hold.is_some()) {
        StoredWindow::setting(deps.windows.window(&census.view.account).await?.as_ref())
    } else {
        WindowSetting::Absent
    };
    let held = plan::holds(&census, now.unix_timestamp(), window);
    if !held.release.is_empty() {
        let hop = plan::reissue_hop(now.unix_timestamp());
        records.extend(held.release.iter().map(|r| QueuedMessage {
            hop,
            ..QueuedMessage::new(id.clone(), r.seq, r.account.clone(), r.round)
        }));
        report.unheld += u64::try_from(held.release.len()).unwrap_or(u64::MAX);
    }
    if !decided.requeue.is_empty() {
        let requeued = deps.store.requeue_messages(id, &decided.requeue, MessageStatus::Paused, &at).await?;
        report.requeued += u64::try_from(requeued.len()).unwrap_or(u64::MAX);
        records.extend(requeued);
    }
    if !records.is_empty() {
        deps.queue.enqueue(&records).await?;
        tracing::info!(campaign = %id, rows = records.len(), "records issued again for stranded rows");
    }
    // Only once their records are queued: a hold ended first and a run that died here would
    // leave a QUEUED row with no record and no hold.
    for r in &held.release {
        if let Some(h) = &r.hold {
            deps.store.end_hold(id, r.seq, h).await?;
        }
    }
    if census.view.waiting_until != held.next {
        deps.store.note_waiting(id, census.view.waiting_until, held.next).await?;
    }
    for from in [MessageStatus::Queued, MessageStatus::Paused] {
        let rows: Vec<_> = decided.cancel.iter().filter(|r| r.status == from).cloned().collect();
        if !rows.is_empty() {
            let moved = deps.store.cancel_messages(id, &rows, from, &at).await?;
            report.cancelled += u64::try_from(moved).unwrap_or(u64::MAX);
        }
    }
    if let Some(since) = decided.mark_issued {
        deps.store.mark_issued(id, since).await?;
    }
    let before = census.view.status;
    deps.store.settle_campaign(id, &at).await?;
    if let Some(after) = deps.store.campaign(id).await? {
        if before != after.status && after.status == domain::CampaignStatus::Completed {
            report.completed += 1;
        }
        // Taken off only if still over with nothing open, checked in the same write.
        if (decided.close_listing || campaign::is_terminal(after.status))
            && deps.store.close_listing(id).await? == Transition::Applied
        {
            report.unlisted += 1;
        }
    }
    Ok(())
}
