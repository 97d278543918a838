//! `start_campaign`: the write side of the HTTP API. `POST /campaigns` validates a campaign,
//! writes one row per recipient and queues the sendable ones into the FIFO queue (group =
//! account).

mod request;

pub use request::{CampaignRequest, RecipientRequest};

use campaign_store::{CampaignStore, MessageQueue, NewCampaign, NewMessage, QueuedMessage};
use domain::{AccountId, CampaignId, ErrorCode, MessageSeq, PhoneNumber, SessionState, Template};
pub use http_api::ApiError;
use http_api::{ApiKey, json_response};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use std::sync::Arc;

/// The most recipients one request may carry (fits the 6 MB Lambda payload with room to spare).
pub const MAX_RECIPIENTS: usize = 10_000;
/// The largest body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

/// Settings read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table.
    pub table_name: String,
    /// SQS FIFO queue URL.
    pub queue_url: String,
    /// SHA-256 of the API key.
    pub api_key: ApiKey,
}

impl Config {
    /// Reads `TABLE_NAME`, `QUEUE_URL` and `API_KEY_SHA256`.
    pub fn from_env() -> Result<Self, platform::ConfigError> {
        Ok(Self {
            table_name: platform::required("TABLE_NAME")?,
            queue_url: platform::required("QUEUE_URL")?,
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
    /// The current time, RFC 3339 (a parameter so tests control it).
    pub clock: Arc<dyn Fn() -> String + Send + Sync>,
    /// Who may call.
    pub api_key: ApiKey,
}

/// The current UTC time in RFC 3339.
pub fn utc_now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
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
        (&Method::POST, ["campaigns"]) => start(deps, req.body()).await,
        (&Method::POST, ["campaigns", id, "resume"]) => resume(deps, id).await,
        _ => Err(ApiError::not_found(format!("no route {} {}", req.method(), req.uri().path()))),
    };
    Ok(result.unwrap_or_else(ApiError::into_response))
}

async fn start(deps: &Deps, body: &Body) -> Result<Response<Body>, ApiError> {
    let bytes: &[u8] = body.as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: ErrorCode::PayloadTooLarge,
            message: format!("body is {} bytes; the limit is {MAX_BODY_BYTES}", bytes.len()),
        });
    }
    let request = CampaignRequest::parse(bytes)?;
    let campaign = validate(&request, CampaignId::generate(uuid::Uuid::new_v4().as_u128()), (deps.clock)())?;

    let session =
        deps.store.session(&campaign.account).await.map_err(|e| ApiError::internal("session lookup", &e))?;
    deps.store.create_campaign(&campaign).await.map_err(|e| ApiError::internal("create campaign", &e))?;
    let queued: Vec<QueuedMessage> = campaign
        .messages
        .iter()
        .filter(|m| m.phone.is_ok())
        .map(|m| QueuedMessage {
            campaign_id: campaign.id.clone(),
            seq: m.seq,
            account: campaign.account.clone(),
            round: 0,
        })
        .collect();
    deps.queue.enqueue(&queued).await.map_err(|e| ApiError::internal("enqueue", &e))?;
    tracing::info!(campaign = %campaign.id, account = %campaign.account, queued = queued.len(), "campaign accepted");

    let invalid: Vec<serde_json::Value> = campaign
        .messages
        .iter()
        .filter_map(|m| m.phone.as_ref().err().map(|raw| (m.seq, raw)))
        .map(|(seq, raw)| json!({ "row": seq.0, "phone": raw, "code": ErrorCode::InvalidPhone }))
        .collect();
    let session_state = session.map(|s| s.state).unwrap_or(SessionState::Missing);
    let mut body = json!({
        "campaign_id": campaign.id,
        "status": "RUNNING",
        "total": campaign.messages.len(),
        "queued": queued.len(),
        "invalid": invalid,
        "session": session_state,
    });
    if session_state != SessionState::Ready {
        body["warning"] = json!({
            "code": ErrorCode::SessionExpired,
            "message": format!("The account's WhatsApp Web session is {session_state}; messages will pause until it is set up."),
            "hint": ErrorCode::SessionExpired.hint_for(campaign.account.as_str(), campaign.id.as_str()),
        });
    }
    Ok(json_response(StatusCode::ACCEPTED, &body))
}

/// Rows re-queued per store page during a resume.
const RESUME_PAGE: u32 = 500;

async fn resume(deps: &Deps, id: &str) -> Result<Response<Body>, ApiError> {
    let id = CampaignId::parse(id)
        .map_err(|e| ApiError::bad_request(ErrorCode::BadRequest, format!("id: {e}")))?;
    let campaign =
        deps.store.campaign(&id).await.map_err(|e| ApiError::internal("read campaign", &e))?.ok_or_else(
            || ApiError {
                status: StatusCode::NOT_FOUND,
                code: ErrorCode::NotFound,
                message: format!("campaign '{id}' does not exist"),
            },
        )?;
    if matches!(campaign.status, domain::CampaignStatus::Completed | domain::CampaignStatus::Cancelled) {
        return Err(ApiError {
            status: StatusCode::CONFLICT,
            code: ErrorCode::Conflict,
            message: format!("campaign '{id}' is {} and cannot resume", campaign.status),
        });
    }
    let now = (deps.clock)();
    // RUNNING first: a sender that pauses a row again from here on marks the campaign PAUSED again.
    deps.store.resume_campaign(&id, &now).await.map_err(|e| ApiError::internal("resume campaign", &e))?;
    let mut requeued = 0usize;
    let mut after = None;
    loop {
        let page = deps
            .store
            .messages_in_status(&id, domain::MessageStatus::Paused, after, RESUME_PAGE)
            .await
            .map_err(|e| ApiError::internal("list paused rows", &e))?;
        let Some(last) = page.last() else { break };
        after = Some(last.seq);
        let mut batch = Vec::with_capacity(page.len());
        for row in &page {
            if let Some(q) = deps
                .store
                .requeue_message(&id, row.seq, &now)
                .await
                .map_err(|e| ApiError::internal("requeue", &e))?
            {
                batch.push(q);
            }
        }
        deps.queue.enqueue(&batch).await.map_err(|e| ApiError::internal("enqueue", &e))?;
        requeued += batch.len();
        if page.len() < RESUME_PAGE as usize {
            break;
        }
    }
    tracing::info!(campaign = %id, requeued, "campaign resumed");
    Ok(json_response(
        StatusCode::OK,
        &json!({ "campaign_id": id, "status": "RUNNING", "requeued": requeued }),
    ))
}

/// Turns a parsed request into a campaign, naming the first field or row at fault.
pub fn validate(req: &CampaignRequest, id: CampaignId, now: String) -> Result<NewCampaign, ApiError> {
    use ErrorCode::BadRequest;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::bad_request(BadRequest, "name: must be 1 to 200 characters"));
    }
    let account = AccountId::parse(&req.account)
        .map_err(|e| ApiError::bad_request(BadRequest, format!("account: {e}")))?;
    let template = Template::parse(&req.template)
        .map_err(|e| ApiError::bad_request(BadRequest, format!("template: {e}")))?;
    if let Some(region) = &req.default_region {
        PhoneNumber::parse("+4915112345678", Some(region))
            .map_err(|e| ApiError::bad_request(BadRequest, format!("default_region: {e}")))?;
    }
    if req.recipients.is_empty() {
        return Err(ApiError::bad_request(BadRequest, "recipients: at least one recipient is required"));
    }
    if req.recipients.len() > MAX_RECIPIENTS {
        return Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: ErrorCode::PayloadTooLarge,
            message: format!(
                "recipients: {} given; the limit is {MAX_RECIPIENTS} per request",
                req.recipients.len()
            ),
        });
    }
    let mut seen = std::collections::HashSet::new();
    let mut messages = Vec::with_capacity(req.recipients.len());
    let mut invalid = Vec::new();
    for (row, r) in req.recipients.iter().enumerate() {
        if let Some(var) = template.missing_variable(&r.vars) {
            return Err(ApiError::bad_request(
                ErrorCode::TemplateVariableMissing,
                format!("recipients[{row}]: variable '{var}' is missing"),
            ));
        }
        let phone = PhoneNumber::parse(&r.phone, req.default_region.as_deref());
        if let Ok(p) = &phone {
            if !seen.insert(p.e164().to_owned()) {
                continue; // the same recipient twice gets one message
            }
        } else {
            invalid.push(row);
        }
        let seq = MessageSeq(u32::try_from(messages.len()).unwrap_or(u32::MAX));
        messages.push(NewMessage { seq, phone: phone.map_err(|_| r.phone.clone()), vars: r.vars.clone() });
    }
    if req.strict && !invalid.is_empty() {
        let rows: Vec<String> = invalid.iter().map(|r| format!("recipients[{r}]")).collect();
        return Err(ApiError::bad_request(
            ErrorCode::InvalidPhone,
            format!("invalid phone numbers (strict mode): {}", rows.join(", ")),
        ));
    }
    Ok(NewCampaign { id, name: name.to_owned(), account, template, messages, created_at: now })
}
