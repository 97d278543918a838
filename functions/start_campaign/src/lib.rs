//! `start_campaign`: the write side of the HTTP API. `POST /campaigns` validates a campaign,
//! writes one row per recipient and queues the sendable ones into the FIFO queue (group =
//! account); `POST /campaigns/{id}/resume` and `/cancel` move an existing campaign, and
//! `PATCH /campaigns/{id}` moves a scheduled one's start time (or starts it now).
//!
//! - [`validate`]: a parsed request to a campaign, naming the first field or row at fault.
//! - `start`: accepting a campaign, with its `Idempotency-Key` (`idempotency`), queueing within
//!   the request's time (`budget`).
//! - `resume`, `cancel`: moving a campaign's rows a store page at a time (`rows`).
//! - `schedule`: rescheduling, or starting at once, before a scheduled campaign starts.
//! - `opt_outs`, `window`: an account's opt-out list and its sending window.
//! - `media`: arranging a file's upload (`POST /accounts/{account}/media`), and checking and
//!   copying the files a campaign names.

mod budget;
mod cancel;
mod idempotency;
mod identical_text;
mod media;
mod opt_outs;
mod request;
mod resume;
mod rows;
mod schedule;
mod start;
mod validate;
mod window;

pub use api_types::{CampaignRequest, RecipientRequest};
pub use budget::RESERVE;
pub use http_api::ApiError;
pub use validate::{MAX_BODY_BYTES, MAX_RECIPIENTS, validate};

use campaign_store::{CampaignStore, SendingWindows};
use domain::SharedClock;
use http_api::ApiKey;
use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use media_store::MediaStore;
use message_queue::MessageQueue;
use session_store::SessionPointers;
use std::sync::Arc;

/// Settings read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table.
    pub table_name: String,
    /// SQS FIFO queue URL.
    pub queue_url: String,
    /// SHA-256 of the API key.
    pub api_key: ApiKey,
    /// The bucket of the campaigns' files.
    pub media_bucket: String,
}

impl Config {
    /// Reads `TABLE_NAME`, `QUEUE_URL`, `API_KEY_SHA256` and `MEDIA_BUCKET`.
    pub fn from_env() -> Result<Self, platform::ConfigError> {
        Ok(Self {
            table_name: platform::required("TABLE_NAME")?,
            queue_url: platform::required("QUEUE_URL")?,
            media_bucket: platform::required("MEDIA_BUCKET")?,
            api_key: platform::parsed("API_KEY_SHA256")?,
        })
    }
}

/// What the handler needs; built once per cold start, shared by every invocation.
pub struct Deps {
    /// Campaign rows.
    pub store: Arc<dyn CampaignStore>,
    /// The sender's queue.
    pub queue: Arc<dyn MessageQueue>,
    /// The accounts' session health (a campaign for an expired session is accepted paused).
    pub sessions: Arc<dyn SessionPointers>,
    /// The accounts' sending windows.
    pub windows: Arc<dyn SendingWindows>,
    /// The campaigns' files.
    pub media: Arc<dyn MediaStore>,
    /// The current time (a parameter so tests control it).
    pub clock: SharedClock,
    /// Who may call.
    pub api_key: ApiKey,
}

impl Deps {
    /// The store, queue and clock, for moving whole campaigns.
    pub(crate) fn control(&self) -> campaign_control::Control {
        campaign_control::Control {
            store: self.store.clone(),
            queue: self.queue.clone(),
            clock: self.clock.clone(),
        }
    }

    /// Now, RFC 3339.
    pub(crate) fn now(&self) -> String {
        domain::rfc3339(self.clock.now())
    }
}

/// Handles one HTTP request. Never fails: every error becomes a JSON response, 5xx ones are
/// logged once and opaque to the caller.
pub async fn handle(deps: &Deps, req: Request) -> Result<Response<Body>, std::convert::Infallible> {
    if let Err(e) = deps.api_key.check(&req) {
        return Ok(e.into_response());
    }
    let segments = http_api::segments(&req);
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let result = match (req.method(), segments.as_slice()) {
        (&Method::POST, ["campaigns"]) => start::start(deps, &req).await,
        (&Method::POST, ["campaigns", id, "resume"]) => resume::resume(deps, id, &req).await,
        (&Method::POST, ["campaigns", id, "cancel"]) => cancel::cancel(deps, id).await,
        (&Method::PATCH, ["campaigns", id]) => schedule::patch(deps, id, &req).await,
        (&Method::PUT, ["accounts", account, "opt-outs", phone]) => opt_outs::put(deps, account, phone).await,
        (&Method::DELETE, ["accounts", account, "opt-outs", phone]) => {
            opt_outs::delete(deps, account, phone).await
        }
        (&Method::PUT, ["accounts", account, "sending-window"]) => window::put(deps, account, &req).await,
        (&Method::POST, ["accounts", account, "media"]) => media::upload(deps, account, &req).await,
        (&Method::DELETE, ["accounts", account, "sending-window"]) => window::delete(deps, account).await,
        _ => return Ok(http_api::routes::unrouted(req.method().as_str(), req.uri().path(), &segments)),
    };
    Ok(result.unwrap_or_else(ApiError::into_response))
}
