//! One account's run over its records of the batch: the preflight (an account known to have no
//! usable session pauses without a browser), the account's browser lease (one browser per
//! account across instances), the session (restore, check, fall back), the messages in order,
//! then closing the browser with a flush and backing the profile up.

use crate::Deps;
use crate::browser::Browser;
use crate::deadline::Deadline;
use crate::delivery::{self, AccountRun, CampaignInfo, Disposition, Done, wait_until};
use crate::quiet_hours::Quiet;
use crate::relaunch::Relaunch;
use crate::tally::Tally;
use crate::{pacing, receipts, session};
use campaign_store::{LeaseGrant, PauseReason, SendCaps, Transition};
use domain::{
    AccountId, CampaignId, CampaignStatus, ErrorCode, QueuedMessage, SessionHealth, Template, rfc3339,
};
use session_store::{GenerationState, RestoredProfile};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The account's browser lease this invocation takes.
#[derive(Debug, Clone)]
pub struct BrowserLease {
    /// Names this invocation.
    pub holder: String,
    /// Epoch seconds: the invocation's deadline plus the margin (see [`Deadline`]).
    pub until: i64,
}

/// The longest a record waits for another instance's browser lease before looking again: a
/// lease is held until its holder's invocation deadline (so it cannot lapse while the holder
/// lives), but a holder normally gives it back much sooner (the session keeper's check of a
/// working session takes seconds, though a slow one may take minutes), so records look again at
/// least this often.
pub const BUSY_RECHECK: Duration = Duration::from_secs(60);

/// Why a later record of the group goes back after an earlier one did (FIFO order holds).
pub const BEHIND_ITS_GROUP: &str = "an earlier record of its group was given back";

/// Handles the records of one account, in order, starting none after the deadline; returns one
/// disposition per message.
pub async fn run(
    deps: &Deps,
    messages: &[QueuedMessage],
    deadline: &Deadline,
    lease: &BrowserLease,
    tally: &mut Tally,
) -> Vec<Disposition> {
    // The sending window first: records whose recipient must wait need no browser.
    let (quiet, settled) = match Quiet::sort(deps, messages, tally).await {
        Err(e) => return retry_all(messages, &e.to_string()),
        Ok(None) => (None, vec![None; messages.len()]),
        Ok(Some((quiet, settled))) => (Some(quiet), settled),
    };
    let due: Vec<QueuedMessage> =
        messages.iter().zip(&settled).filter(|(_, d)| d.is_none()).map(|(m, _)| m.clone()).collect();
    let mut sent = if due.is_empty() {
        Vec::new()
    } else {
        run_due(deps, &due, quiet.as_ref(), deadline, lease, tally).await
    }
    .into_iter();
    settled
        .into_iter()
        .map(|d| d.or_else(|| sent.next()).unwrap_or_else(|| Disposition::retry("no disposition")))
        .collect()
}

/// Handles the records of one account that may be sent now.
async fn run_due(
    deps: &Deps,
    messages: &[QueuedMessage],
    quiet: Option<&Quiet>,
    deadline: &Deadline,
    lease: &BrowserLease,
    tally: &mut Tally,
) -> Vec<Disposition> {
    let Some(first) = messages.first() else { return Vec::new() };
    let account = first.account.clone();
    // Preflight: an account known to have no usable session pauses without a browser.
    let pointer = match deps.profiles.pointer(&account).await {
        Err(e) => return retry_all(messages, &e.to_string()),
        Ok(Some(p)) if p.current.is_some() && p.state != SessionHealth::Expired => p,
        Ok(_) => {
            tally.session_expired += 1;
            return pause_all(deps, messages, ErrorCode::SessionExpired, tally).await;
        }
    };
    // One browser per account across instances: without the lease, the records wait for it.
    let now = deps.clock.unix();
    match deps.gate.acquire_browser(&account, &lease.holder, now, lease.until).await {
        Err(e) => return retry_all(messages, &e.to_string()),
        Ok(LeaseGrant::Busy { until, .. }) => {
            let wait = wait_until(until + 1, now).min(BUSY_RECHECK);
            tracing::info!(%account, wait_s = wait.as_secs(), "another instance holds the account's browser; records given back");
            return messages
                .iter()
                .map(|_| Disposition::retry_after("another instance holds the account's browser", wait))
                .collect();
        }
        Ok(LeaseGrant::Acquired) => {}
    }
    let dispositions = with_browser(deps, messages, quiet, &pointer, deadline, lease, tally).await;
    if let Err(e) = deps.gate.release_browser(&account, &lease.holder).await {
        tracing::warn!(%account, error = %e, "could not release the account's browser lease; it expires on its own");
    }
    dispositions
}

/// Opens the account's session and sends the group's messages under the browser lease.
async fn with_browser(
    deps: &Deps,
    messages: &[QueuedMessage],
    quiet: Option<&Quiet>,
    pointer: &session_store::SessionPointer,
    deadline: &Deadline,
    lease: &BrowserLease,
    tally: &mut Tally,
) -> Vec<Disposition> {
    let Some(first) = messages.first() else { return Vec::new() };
    let account = first.account.clone();
    let opened = match session::open(
        &deps.profiles,
        &deps.launcher,
        &account,
        pointer,
        deps.config.max_fallback,
    )
    .await
    {
        Ok(o) => o,
        Err(session::NotOpened::Transient(why)) => return retry_all(messages, &why),
        Err(session::NotOpened::Unusable(code)) => {
            if code == ErrorCode::SessionExpired {
                tally.session_expired += 1;
            }
            record_unusable(deps, &account, code, false).await;
            return pause_all(deps, messages, code, tally).await;
        }
    };
    tally.open_ms += opened.took.as_millis();
    tally.restore_ms += opened.restore.as_millis();
    tally.launch_ms += opened.launch.as_millis();
    let session::Opened { mut browser, profile, from_backup, .. } = opened;
    tally.restored_from_backup += u32::from(from_backup);
    let mut relaunch = Relaunch::new(profile.path());
    let caps = account_caps(deps, pointer);
    // Per campaign: its template, and whether it is cancelled (its rows are never sent).
    let mut campaigns: HashMap<CampaignId, CampaignInfo> = HashMap::new();
    let mut dispositions = Vec::with_capacity(messages.len());
    let mut stopped: Option<String> = None;
    let mut session_stopped: Option<ErrorCode> = None;
    for m in messages {
        if let Some(why) = &stopped {
            dispositions.push(Disposition::retry(why.clone()));
            continue;
        }
        if deadline.reached(deps.clock.now()) {
            let why = "the invocation is about to time out";
            stopped = Some(why.into());
            dispositions.push(Disposition::retry_after(why, Duration::ZERO));
            continue;
        }
        if from_backup && !campaigns.contains_key(&m.campaign_id) {
            let at = rfc3339(deps.clock.now());
            let _ = deps.store.record_notice(&m.campaign_id, ErrorCode::SessionRestoredFromBackup, &at).await;
        }
        let campaign = match campaigns.get(&m.campaign_id) {
            Some(c) => c.clone(),
            None => {
                let info = match deps.store.campaign(&m.campaign_id).await {
                    Ok(view) => view.map_or(
                        CampaignInfo { template: None, cancelled: false, attachments: Vec::new() },
                        |v| CampaignInfo {
                            template: Template::parse(&v.template).ok(),
                            cancelled: v.status == CampaignStatus::Cancelled,
                            attachments: v.attachments,
                        },
                    ),
                    Err(e) => {
                        dispositions.push(Disposition::retry(e.to_string()));
                        stopped = Some("an earlier record could not be read".into());
                        continue;
                    }
                };
                campaigns.insert(m.campaign_id.clone(), info.clone());
                info
            }
        };
        if let Some(quiet) = quiet
            && let Some(held) = quiet.recheck(deps, m, tally).await
        {
            stopped = held.gives_back().then(|| BEHIND_ITS_GROUP.to_owned());
            dispositions.push(held);
            continue;
        }
        let sending_started = Instant::now();
        let mut run = AccountRun { caps, relaunch: &mut relaunch };
        let delivered = delivery::deliver(deps, browser, m, &campaign, &mut run, tally).await;
        browser = delivered.browser;
        if delivered.disposition == Disposition::Ack(Done::Sent) {
            tally.send_ms += sending_started.elapsed().as_millis();
            // The pause between messages begins by watching the receipts of this one.
            let gap = pacing::gap(deps.config.pace);
            let looking = Instant::now();
            if let Some(phone) = &delivered.sent_to {
                let (b, recorded) =
                    receipts::look(deps, browser, m, phone, gap.min(deps.config.receipt_wait)).await;
                browser = b;
                tally.receipts += recorded;
            }
            pacing::rest_of(gap, looking.elapsed()).await;
        }
        // FIFO: once a record goes back, the later ones of the group must not overtake it.
        let given_back = delivered.disposition.gives_back();
        session_stopped = session_stopped.or(delivered.session_stopped);
        dispositions.push(delivered.disposition);
        if let Some(why) = delivered.stop {
            stopped = Some(why);
        } else if given_back {
            stopped = Some(BEHIND_ITS_GROUP.into());
        }
    }
    tally.full_loads += browser.full_loads();
    match session_stopped {
        // What the profile holds now is a session that stopped working: never a backup.
        Some(code) => {
            tracing::warn!(%account, %code, "the session stopped being usable; the profile is not backed up");
            record_unusable(deps, &account, code, true).await;
            session::close_quietly(browser).await;
        }
        None => close_and_back_up(deps, &account, browser, profile, lease).await,
    }
    dispositions
}

/// The account's caps for this batch: the deployment's, with the daily one lowered to the
/// account's warm-up step while its link is younger than the ramp.
fn account_caps(deps: &Deps, pointer: &session_store::SessionPointer) -> SendCaps {
    let linked_at = pointer.linked_at.map(time::OffsetDateTime::unix_timestamp);
    let step = deps.config.warm_up.on(linked_at, deps.clock.unix());
    deps.config.caps.with_day_cap(step.map(|s| s.cap))
}

/// Records on the session pointer that the session is not READY (so the session keeper resumes
/// what paused once it finds it READY again): CONFLICT or BANNED when that is what was seen,
/// UNKNOWN otherwise — a session lost mid-send may come back from an older generation; only
/// trying every generation makes it EXPIRED, which opening the session already recorded.
async fn record_unusable(deps: &Deps, account: &AccountId, code: ErrorCode, mid_send: bool) {
    let state = match code {
        ErrorCode::SessionConflict => SessionHealth::Conflict,
        ErrorCode::AccountBanned => SessionHealth::Banned,
        ErrorCode::SessionExpired if !mid_send => return,
        _ => SessionHealth::Unknown,
    };
    if let Err(e) = deps.profiles.set_session_state(account, state).await {
        tracing::warn!(%account, error = %e, "could not record the session state");
    }
}

/// Closes the browser with a flush before anything reads the profile, then backs it up: the
/// session loaded the app (it logged in, and kept working to the end), and each load rewrites
/// WhatsApp Web's keys, so the newest generation must hold what it saved — whether or not anything
/// was sent — at most every
/// `BACKUP_MIN_INTERVAL_SECONDS`. Only a browser that closed cleanly is backed up (a failed one
/// may have left the profile half-written), and only while the lease is still ours (asked with
/// the same end, so nothing is extended): a lost lease means another instance may have run a
/// browser on the account meanwhile.
async fn close_and_back_up(
    deps: &Deps,
    account: &AccountId,
    browser: Box<dyn Browser>,
    profile: RestoredProfile,
    lease: &BrowserLease,
) {
    let closed = tokio::task::spawn_blocking(move || browser.close()).await;
    match closed {
        Ok(Ok(())) if !backed_up_recently(deps, account).await => {
            match deps.gate.renew_browser(account, &lease.holder, lease.until).await {
                Ok(true) => match deps.profiles.backup(account, profile.path(), GenerationState::Ready).await
                {
                    Ok(b) => {
                        tracing::info!(%account, generation = %b.generation.id.as_str(), current = b.current, "profile backed up")
                    }
                    Err(e) => {
                        tracing::warn!(%account, code = %e.code(), error = %e, "profile backup failed; the previous generation stays current")
                    }
                },
                Ok(false) => {
                    tracing::warn!(%account, "the account's browser lease was lost; no backup taken")
                }
                Err(e) => {
                    tracing::warn!(%account, error = %e, "could not confirm the account's browser lease; no backup taken")
                }
            }
        }
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(%account, error = %e, "browser did not close cleanly; no backup taken"),
        Err(e) => tracing::warn!(%account, error = %e, "browser close task failed; no backup taken"),
    }
    drop(profile);
}

/// Whether the account's last backup is younger than `BACKUP_MIN_INTERVAL_SECONDS` (then this
/// batch takes none: the current generation is recent enough). Unknown counts as not recent.
async fn backed_up_recently(deps: &Deps, account: &AccountId) -> bool {
    if deps.config.backup_every.is_zero() {
        return false;
    }
    match deps.profiles.pointer(account).await {
        Ok(Some(session_store::SessionPointer { last_backup: Some(last), .. })) => {
            let recent = deps.clock.now() - last < deps.config.backup_every;
            if recent {
                tracing::debug!(%account, "last backup is recent; none taken after this batch");
            }
            recent
        }
        _ => false,
    }
}

fn retry_all(messages: &[QueuedMessage], why: &str) -> Vec<Disposition> {
    messages.iter().map(|_| Disposition::retry(why)).collect()
}

/// Pauses every message with `code` and the command that continues it; the rows keep the work
/// and the records are acknowledged.
async fn pause_all(
    deps: &Deps,
    messages: &[QueuedMessage],
    code: ErrorCode,
    tally: &mut Tally,
) -> Vec<Disposition> {
    let mut dispositions: Vec<Disposition> = Vec::with_capacity(messages.len());
    for m in messages {
        if dispositions.iter().any(Disposition::gives_back) {
            dispositions.push(Disposition::retry(BEHIND_ITS_GROUP));
            continue;
        }
        let reason = PauseReason {
            code,
            hint: code.hint_for(m.account.as_str(), m.campaign_id.as_str()),
            at: rfc3339(deps.clock.now()),
        };
        dispositions.push(match deps.store.pause_message(&m.campaign_id, m.seq, &reason).await {
            Ok(Transition::Applied) => {
                tracing::info!(campaign = %m.campaign_id, seq = %m.seq, account = %m.account, code = %code, "message paused");
                tally.paused += 1;
                Disposition::Ack(Done::Paused)
            }
            Ok(Transition::NotApplicable) => Disposition::Ack(Done::AlreadySettled),
            Ok(Transition::Missing) => Disposition::Stray { reason: format!("row {}#{} not found", m.campaign_id, m.seq) },
            Err(e) => Disposition::retry(e.to_string()),
        });
    }
    dispositions
}
