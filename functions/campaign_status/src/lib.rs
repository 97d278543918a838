//! `campaign_status`: the read side of the HTTP API.
//!
//! - `GET /campaigns/{id}`: progress for polling from the campaign row alone (one read whatever
//!   the campaign's size).
//! - `GET /campaigns?account=&limit=&cursor=`: an account's campaigns, newest first
//!   ([`campaigns`]).
//! - `GET /campaigns/{id}/messages?status=&limit=&cursor=`: the campaign's rows, a page at a time
//!   ([`messages`]).
//! - `GET /campaigns/{id}/messages.csv?status=&limit=&cursor=`: the campaign's report as CSV, a
//!   page at a time ([`report`]).
//! - `GET /accounts/{account}/session`: the health of the account's WhatsApp Web session
//!   ([`session`]).
//! - `GET /accounts/{account}/sending-window`: the account's sending window.
//!
//! - `GET /view`, `GET /campaigns/{id}/view`: the status pages ([`page`]).
//!
//! Phone numbers are returned to the caller (the operator who owns them) but never logged.

pub mod campaigns;
pub mod messages;
pub mod page;
pub mod report;
pub mod session;

use api_types::{CampaignStatusBody, SendingWindowBody};
use campaign_store::{CampaignStore, CampaignView, SendingWindows};
use http_api::{ApiError, ApiKey, json_response};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use session_store::ProfileStore;
use std::sync::Arc;

/// Settings read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table.
    pub table_name: String,
    /// The profile bucket (the session store is built with it; the read routes only read the
    /// generation items in the table, never the objects).
    pub profile_bucket: String,
    /// SHA-256 of the API key.
    pub api_key: ApiKey,
    /// A session that has not logged in for this long is reported with a warning.
    pub session_warn_after: std::time::Duration,
    /// The senders' warm-up ramp, shown in the session health.
    pub warm_up: domain::WarmUp,
}

impl Config {
    /// Reads `TABLE_NAME`, `PROFILE_BUCKET`, `API_KEY_SHA256`, `SESSION_WARN_AFTER_DAYS`
    /// (10: before WhatsApp's 14 days without the phone) and `WARM_UP_RAMP` (the sender's; unset:
    /// none).
    pub fn from_env() -> Result<Self, platform::ConfigError> {
        let warn_days: u64 = platform::optional("SESSION_WARN_AFTER_DAYS", 10)?;
        Ok(Self {
            table_name: platform::required("TABLE_NAME")?,
            profile_bucket: platform::required("PROFILE_BUCKET")?,
            api_key: platform::parsed("API_KEY_SHA256")?,
            session_warn_after: std::time::Duration::from_secs(warn_days.saturating_mul(86_400)),
            warm_up: platform::optional("WARM_UP_RAMP", domain::WarmUp::default())?,
        })
    }
}

/// What the handler needs; built once per cold start, shared by every invocation.
pub struct Deps {
    /// Campaign rows.
    pub store: Arc<dyn CampaignStore>,
    /// Session pointers and profile generations.
    pub profiles: Arc<dyn ProfileStore>,
    /// The accounts' sending windows.
    pub windows: Arc<dyn SendingWindows>,
    /// Who may call.
    pub api_key: ApiKey,
    /// The time, for the session's age.
    pub clock: domain::SharedClock,
    /// A session that has not logged in for this long is reported with a warning.
    pub session_warn_after: std::time::Duration,
    /// The senders' warm-up ramp (where the account stands on it is part of its health).
    pub warm_up: domain::WarmUp,
}

/// Handles one HTTP request. Never fails: every outcome is a JSON response, 5xx ones are logged
/// once and opaque to the caller.
pub async fn handle(deps: &Deps, req: Request) -> Result<Response<Body>, std::convert::Infallible> {
    let segments = http_api::segments(&req);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    // The pages hold no data: they are served without a key and ask for it themselves.
    if req.method() == Method::GET
        && let Some(asset) = page::Asset::of(&segments)
    {
        return Ok(asset.response());
    }
    if let Err(e) = deps.api_key.check(&req) {
        return Ok(e.into_response());
    }
    let result = match (req.method(), segments.as_slice()) {
        (&Method::GET, ["campaigns"]) => campaigns::list(deps, req.uri().query()).await,
        (&Method::GET, ["campaigns", id]) => status(deps, id).await,
        (&Method::GET, ["campaigns", id, "messages"]) => messages::list(deps, id, req.uri().query()).await,
        (&Method::GET, ["campaigns", id, "messages.csv"]) => {
            report::export(deps, id, req.uri().query()).await
        }
        (&Method::GET, ["accounts", account, "session"]) => session::health(deps, account).await,
        (&Method::GET, ["accounts", account, "sending-window"]) => window(deps, account).await,
        _ => return Ok(http_api::routes::unrouted(req.method().as_str(), req.uri().path(), &segments)),
    };
    Ok(result.unwrap_or_else(ApiError::into_response))
}

/// The campaign named by a path segment, or the 400 / 404 / 500 that says why not.
pub(crate) async fn existing_campaign(deps: &Deps, id: &str) -> Result<CampaignView, ApiError> {
    let id = http_api::campaign_id(id)?;
    deps.store
        .campaign(&id)
        .await
        .map_err(|e| ApiError::internal("read campaign", &e))?
        .ok_or_else(|| ApiError::unknown_campaign(&id))
}

/// `GET /accounts/{account}/sending-window`: the account's window; 404 when it sends at any hour.
async fn window(deps: &Deps, account: &str) -> Result<Response<Body>, ApiError> {
    let account = http_api::account_id(account)?;
    let stored = deps.windows.window(&account).await.map_err(|e| ApiError::internal("read window", &e))?;
    let Some(stored) = stored else {
        return Err(ApiError::not_found(format!("account '{account}' has no sending window")));
    };
    Ok(json_response(StatusCode::OK, &SendingWindowBody::of(account.as_str(), &stored.window, stored.set_at)))
}

async fn status(deps: &Deps, id: &str) -> Result<Response<Body>, ApiError> {
    let view = existing_campaign(deps, id).await?;
    Ok(json_response(StatusCode::OK, &status_body(&view, deps.clock.unix())))
}

/// The status body at Unix second `now`: the campaign, its counts and the share of final
/// messages, and when queued messages wait for their recipients' sending window, until when.
pub fn status_body(v: &CampaignView, now: i64) -> CampaignStatusBody {
    let waiting = v.waiting_until.filter(|until| *until > now && v.counts.queued > 0);
    CampaignStatusBody {
        campaign_id: v.id.clone(),
        name: v.name.clone(),
        account: v.account.clone(),
        status: v.status,
        counts: v.counts,
        percent: CampaignStatusBody::percent_of(&v.counts),
        reason: v.reason,
        hint: v.hint.clone(),
        notice: v.notice,
        send_at: v.send_at.clone(),
        waiting_until: waiting
            .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
            .map(domain::rfc3339),
        media: v.attachments.clone(),
        created_at: v.created_at.clone(),
        updated_at: v.updated_at.clone(),
    }
}
