//! `GET /accounts/{account}/session`: what is known of an account's WhatsApp Web session — its
//! state at the last check, the current generation, how many generations are stored and how
//! many are marked bad, when it was last checked, backed up and last logged in, and a
//! SESSION_STALE warning when that login is older than the threshold, and, while a newly linked
//! account is on the warm-up ramp, its day and today's cap.
//!
//! Everything comes from the table (the session pointer and the generation items); the profile
//! objects themselves are never read here.

use crate::Deps;
use api_types::{GenerationSummary, GenerationsSummary, Problem, SessionHealthBody, WarmUpDay};
use domain::{AccountId, ErrorCode, Freshness, SessionHealth, WarmUp};
use http_api::{ApiError, error_with_hint, json_response};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use session_store::{GenerationInfo, SessionPointer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// Serves the session health of `account`.
pub(crate) async fn health(deps: &Deps, account: &str) -> Result<Response<Body>, ApiError> {
    let account = http_api::account_id(account)?;
    let pointer =
        deps.profiles.pointer(&account).await.map_err(|e| ApiError::internal("read session pointer", &e))?;
    let generations =
        deps.profiles.list(&account).await.map_err(|e| ApiError::internal("list generations", &e))?;
    if pointer.is_none() && generations.is_empty() {
        return Ok(error_with_hint(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            &format!("account '{account}' has no WhatsApp Web session"),
            &ErrorCode::ProfileNotFound.hint_for(account.as_str(), "<campaign>"),
        ));
    }
    let age = Age { now: deps.clock.now(), warn_after: deps.session_warn_after, warm_up: &deps.warm_up };
    Ok(json_response(StatusCode::OK, &health_body(&account, pointer.as_ref(), &generations, age)))
}

/// When the health is read, after how long without a login it warns, and the senders' warm-up
/// ramp.
#[derive(Debug, Clone, Copy)]
pub struct Age<'a> {
    /// Now.
    pub now: OffsetDateTime,
    /// The warning threshold.
    pub warn_after: std::time::Duration,
    /// The ramp a newly linked account's daily sends follow.
    pub warm_up: &'a WarmUp,
}

/// The health body. `generations` come newest first, as the store lists them; the last login is
/// the latest of theirs.
pub fn health_body(
    account: &AccountId,
    pointer: Option<&SessionPointer>,
    generations: &[GenerationInfo],
    age: Age<'_>,
) -> SessionHealthBody {
    let last_ready = generations.iter().filter_map(|g| g.last_ready).max();
    let freshness = Freshness::of(last_ready, age.now, age.warn_after);
    let warning = freshness
        .warning()
        .map(|message| Problem::new(ErrorCode::SessionStale, message, account.as_str(), "<campaign>"));
    let state = pointer.map_or(SessionHealth::Missing, |p| p.state);
    let current = pointer.and_then(|p| p.current.as_ref());
    let summary = |g: &GenerationInfo| GenerationSummary {
        id: g.id.as_str().to_owned(),
        created: rfc3339(g.created),
        state: g.state.as_str().to_owned(),
        bad: g.bad,
        size: g.size,
        encrypted: g.encrypted,
        current: Some(&g.id) == current,
    };
    let hint = match state {
        SessionHealth::Ready | SessionHealth::Unknown => None,
        SessionHealth::Expired | SessionHealth::Missing => {
            Some(ErrorCode::SessionExpired.hint_for(account.as_str(), "<campaign>"))
        }
        SessionHealth::Conflict => Some(ErrorCode::SessionConflict.hint_for(account.as_str(), "<campaign>")),
        SessionHealth::Banned => Some(ErrorCode::AccountBanned.hint_for(account.as_str(), "<campaign>")),
    };
    SessionHealthBody {
        account: account.clone(),
        state,
        current_generation: current.map(|g| g.as_str().to_owned()),
        pointer_version: pointer.map_or(0, |p| p.version),
        last_check: pointer.and_then(|p| p.last_check).map(rfc3339),
        last_backup: pointer.and_then(|p| p.last_backup).map(rfc3339),
        last_ready: last_ready.map(rfc3339),
        linked_at: pointer.and_then(|p| p.linked_at).map(rfc3339),
        link_age_seconds: pointer
            .and_then(|p| p.linked_at)
            .map(|at| u64::try_from((age.now - at).whole_seconds()).unwrap_or(0)),
        since_last_ready_seconds: freshness.since().map(|d| d.as_secs()),
        warm_up: age
            .warm_up
            .on(
                pointer.and_then(|p| p.linked_at).map(OffsetDateTime::unix_timestamp),
                age.now.unix_timestamp(),
            )
            .map(|d| WarmUpDay {
                day: d.day,
                daily_cap: d.cap,
                ends_at: OffsetDateTime::from_unix_timestamp(d.ends_at).map(rfc3339).unwrap_or_default(),
            }),
        warning,
        generations: GenerationsSummary {
            count: generations.len() as u64,
            bad: generations.iter().filter(|g| g.bad).count() as u64,
            newest: generations.first().map(summary),
            oldest: generations.last().map(summary),
        },
        hint,
    }
}
