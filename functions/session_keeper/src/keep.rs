//! Keeping one account's session fresh: under the account's browser lease (the one the sender
//! takes, so the keeper never runs a browser beside a sender), restore the session as the sender
//! does (falling back to older generations), and when it logs in store a fresh generation — which
//! also counts as activity for WhatsApp — and, when it was not READY at the last check, resume the
//! campaigns that paused because the session had stopped working. When it no longer logs in the session is marked EXPIRED and an alert goes
//! out before any campaign meets it; a conflict, a ban or an outdated browser alert with their
//! codes.

use crate::Deps;
use crate::alert::Alert;
use campaign_store::LeaseGrant;
use domain::{AccountId, ErrorCode, SessionHealth};
use sender::session::{self, NotOpened};
use serde::Serialize;
use session_store::GenerationState;

/// What one account's keep found and did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Kept {
    /// It logged in and a fresh generation was stored.
    Refreshed {
        /// The new generation.
        generation: String,
        /// Whether it became current (not when a newer one already was, e.g. a setup meanwhile).
        current: bool,
        /// The current one had stopped working; an older one was restored.
        from_backup: bool,
        /// Campaigns that paused for the session and resumed.
        resumed: Vec<String>,
    },
    /// It logged in, but no fresh generation could be stored (the reason is logged); the one
    /// that logged in stays current.
    Ready {
        /// Why nothing was stored.
        why: String,
        /// Campaigns that paused for the session and resumed.
        resumed: Vec<String>,
    },
    /// No generation logs in: marked EXPIRED, alerted.
    Expired,
    /// It cannot send for a reason a login does not fix: alerted with this code.
    Blocked {
        /// The code.
        code: ErrorCode,
    },
    /// Could not tell (WhatsApp Web unreachable, the store failed): tried again next run.
    Unknown {
        /// Why.
        why: String,
    },
    /// A sender (or another keeper) holds the account's browser: left alone this run.
    Busy,
    /// Already known EXPIRED: nothing to check until `wacamp setup` links it again.
    AlreadyExpired,
    /// No session was ever stored.
    NotLinked,
}

impl Kept {
    /// The state name for the metric.
    pub fn state(&self) -> &'static str {
        match self {
            Self::Refreshed { .. } | Self::Ready { .. } => "READY",
            Self::Expired | Self::AlreadyExpired => "EXPIRED",
            Self::Blocked { code: ErrorCode::SessionConflict } => "CONFLICT",
            Self::Blocked { code: ErrorCode::AccountBanned } => "BANNED",
            Self::Blocked { code: ErrorCode::WaOutdated } => "OUTDATED",
            Self::Blocked { .. } => "BLOCKED",
            Self::Unknown { .. } => "UNKNOWN",
            Self::Busy => "BUSY",
            Self::NotLinked => "MISSING",
        }
    }
}

/// Keeps `account`'s session under the browser lease `holder`, held until `until` (epoch
/// seconds: the invocation's deadline plus a margin, so it cannot lapse while the keeper lives).
pub async fn keep(deps: &Deps, account: &AccountId, holder: &str, until: i64) -> Kept {
    let pointer = match deps.profiles.pointer(account).await {
        Err(e) => return Kept::Unknown { why: format!("{}: {e}", e.code()) },
        Ok(None) => return Kept::NotLinked,
        Ok(Some(p)) if p.current.is_none() => return Kept::NotLinked,
        Ok(Some(p)) if p.state == SessionHealth::Expired => return Kept::AlreadyExpired,
        Ok(Some(p)) => p,
    };
    match deps.gate.acquire_browser(account, holder, deps.clock.unix(), until).await {
        Err(e) => return Kept::Unknown { why: e.to_string() },
        Ok(LeaseGrant::Busy { .. }) => {
            tracing::info!(%account, "another instance holds the account's browser; not checked this run");
            return Kept::Busy;
        }
        Ok(LeaseGrant::Acquired) => {}
    }
    let kept = under_lease(deps, account, &pointer, holder, until).await;
    if let Err(e) = deps.gate.release_browser(account, holder).await {
        tracing::warn!(%account, error = %e, "could not release the account's browser lease; it expires on its own");
    }
    alert_for(deps, account, &kept).await;
    kept
}

async fn under_lease(
    deps: &Deps,
    account: &AccountId,
    pointer: &session_store::SessionPointer,
    holder: &str,
    until: i64,
) -> Kept {
    let opened =
        match session::open(&deps.profiles, &deps.launcher, account, pointer, deps.config.max_fallback).await
        {
            Ok(opened) => opened,
            Err(NotOpened::Unusable(ErrorCode::SessionExpired)) => return Kept::Expired,
            Err(NotOpened::Unusable(code)) => {
                let health = match code {
                    ErrorCode::SessionConflict => Some(SessionHealth::Conflict),
                    ErrorCode::AccountBanned => Some(SessionHealth::Banned),
                    _ => None,
                };
                if let Some(health) = health
                    && let Err(e) = deps.profiles.set_session_state(account, health).await
                {
                    tracing::warn!(%account, error = %e, "could not record the session state");
                }
                return Kept::Blocked { code };
            }
            Err(NotOpened::Transient(why)) => return Kept::Unknown { why },
        };
    let session::Opened { browser, profile, from_backup, .. } = opened;
    // Logged in anyway: the chats of recent messages show receipts the sender did not see.
    let (browser, receipts) = crate::sweep::sweep(deps, browser, account).await;
    if receipts > 0 {
        tracing::info!(%account, receipts, "receipts recorded from recent chats");
    }
    let closed = tokio::task::spawn_blocking(move || browser.close()).await;
    let stored = match closed {
        Ok(Ok(())) => match deps.gate.renew_browser(account, holder, until).await {
            Ok(true) => deps
                .profiles
                .backup(account, profile.path(), GenerationState::Ready)
                .await
                .map(|b| (b.generation.id.as_str().to_owned(), b.current))
                .map_err(|e| format!("{}: {e}", e.code())),
            Ok(false) => Err("the account's browser lease was lost".to_owned()),
            Err(e) => Err(format!("could not confirm the account's browser lease: {e}")),
        },
        Ok(Err(e)) => Err(format!("the browser did not close cleanly: {e}")),
        Err(e) => Err(format!("the browser close task failed: {e}")),
    };
    drop(profile);
    // READY again (it was not at the last check): what paused for the session continues. A
    // session that already was READY is left as the operator left it (`wacamp setup --no-resume`).
    let mut resume_failed = false;
    let resumed = if pointer.state == SessionHealth::Ready {
        Vec::new()
    } else {
        match campaign_control::resume_after_link(&deps.control, account).await {
            Ok(resumed) => resumed.into_iter().map(|r| r.campaign.to_string()).collect(),
            Err(e) => {
                tracing::warn!(%account, error = %e, "resuming the campaigns paused for the session stopped; the next run continues");
                resume_failed = true;
                Vec::new()
            }
        }
    };
    // Logged in: the pointer says READY (and when it was checked) — unless resuming stopped
    // part-way, then not yet, so the next run resumes the rest.
    let state = if resume_failed { SessionHealth::Unknown } else { SessionHealth::Ready };
    if let Err(e) = deps.profiles.set_session_state(account, state).await {
        tracing::warn!(%account, error = %e, "could not record the session state");
    }
    match stored {
        Ok((generation, current)) => {
            tracing::info!(%account, generation = %generation, current, from_backup, "session checked and a fresh generation stored");
            Kept::Refreshed { generation, current, from_backup, resumed }
        }
        Err(why) => {
            tracing::warn!(%account, reason = %why, "session logged in but no fresh generation was stored");
            Kept::Ready { why, resumed }
        }
    }
}

/// The alert a keep calls for, if any; a failure to alert is logged (the metric still counts it).
async fn alert_for(deps: &Deps, account: &AccountId, kept: &Kept) {
    let code = match kept {
        Kept::Expired => ErrorCode::SessionExpired,
        Kept::Blocked { code } => *code,
        Kept::Refreshed { from_backup: true, .. } => ErrorCode::SessionRestoredFromBackup,
        _ => return,
    };
    if let Err(e) = deps.alerts.send(&Alert::new(account, code)).await {
        tracing::error!(%account, %code, error = %e, "could not send the alert");
    }
}
