//! `start_campaign`: the write side of the HTTP API. `POST /campaigns` validates a campaign,
//! writes one row per recipient and queues the sendable ones into the FIFO queue (group =
//! account).

mod idempotency;
mod request;

pub use request::{CampaignRequest, RecipientRequest};

use campaign_store::{
    CampaignStore, Idempotency, MessageQueue, NewCampaign, NewMessage, PauseReason, QueuedMessage, Transition,
};
use domain::{AccountId, CampaignId, ErrorCode, MessageSeq, PhoneNumber, SessionState, Template};
use futures::{StreamExt, TryStreamExt};
pub use http_api::ApiError;
use http_api::{ApiKey, json_response};
use lambda_http::http::HeaderValue;
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
        (&Method::POST, ["campaigns"]) => start(deps, &req).await,
        (&Method::POST, ["campaigns", id, "resume"]) => resume(deps, id, &req).await,
        (&Method::POST, ["campaigns", id, "cancel"]) => cancel(deps, id).await,
        _ => Err(ApiError::not_found(format!("no route {} {}", req.method(), req.uri().path()))),
    };
    Ok(result.unwrap_or_else(ApiError::into_response))
}

async fn start(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: ErrorCode::PayloadTooLarge,
            message: format!("body: {} bytes; the limit is {MAX_BODY_BYTES}", bytes.len()),
        });
    }
    let key = idempotency::key_from(req.headers())?;
    let request = CampaignRequest::parse(bytes)?;
    let now = (deps.clock)();
    let mut campaign = validate(&request, CampaignId::generate(uuid::Uuid::new_v4().as_u128()), now.clone())?;
    let session =
        deps.store.session(&campaign.account).await.map_err(|e| ApiError::internal("session lookup", &e))?;
    let session_state = session.map(|s| s.state).unwrap_or(SessionState::Missing);

    let Some(key) = key else {
        pause_if_expired(&mut campaign, session_state, &now);
        let queued = create_and_queue(deps, &campaign).await?;
        return Ok(accepted(&campaign, session_state, queued, None));
    };
    let claim = idempotency::claim(&key, bytes, &campaign.id, &now)?;
    match deps.store.claim_idempotency(&claim).await.map_err(|e| ApiError::internal("idempotency", &e))? {
        Idempotency::Owned { campaign_id } => {
            campaign.id = campaign_id;
            match start_owned(deps, &mut campaign, session_state, &now).await {
                Ok(queued) => {
                    deps.store
                        .finish_idempotency(&claim.key_hash)
                        .await
                        .map_err(|e| ApiError::internal("idempotency", &e))?;
                    Ok(accepted(&campaign, session_state, queued, None))
                }
                Err(e) => {
                    // Let the client's retry take over now rather than after the claim lapses.
                    if let Err(release) = deps.store.release_idempotency(&claim.key_hash).await {
                        tracing::warn!(error = %release, "idempotency claim not released; it lapses on its own");
                    }
                    Err(e)
                }
            }
        }
        Idempotency::Done { campaign_id } => {
            campaign.id = campaign_id;
            let view = deps
                .store
                .campaign(&campaign.id)
                .await
                .map_err(|e| ApiError::internal("read campaign", &e))?
                .ok_or_else(|| ApiError::internal("replay", &idempotency::MissingCampaign))?;
            if view.status == domain::CampaignStatus::Paused && view.reason == Some(ErrorCode::SessionExpired)
            {
                pause_if_expired(&mut campaign, SessionState::Expired, &now);
            }
            let queued =
                campaign.messages.iter().filter(|m| m.phone.is_ok() && campaign.paused.is_none()).count();
            let mut resp = accepted(&campaign, session_state, queued, Some(view.status));
            resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            Ok(resp)
        }
        Idempotency::InProgress { until } => {
            let wait = (until - claim.now).max(1);
            let mut resp = ApiError {
                status: StatusCode::CONFLICT,
                code: ErrorCode::IdempotencyKeyInProgress,
                message: format!(
                    "Idempotency-Key: a request with this key is still being processed; retry in {wait} s"
                ),
            }
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                resp.headers_mut().insert("retry-after", v);
            }
            Ok(resp)
        }
        Idempotency::Mismatch => Err(ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: ErrorCode::IdempotencyKeyReused,
            message: "Idempotency-Key: this key was already used with a different body".into(),
        }),
    }
}

/// The work of a start that owns its `Idempotency-Key`: create and queue, or, when an earlier
/// attempt wrote the campaign and died while queueing, queue what is still QUEUED (the queue's
/// deduplication drops what did get through). Returns how many records were queued.
async fn start_owned(
    deps: &Deps,
    campaign: &mut NewCampaign,
    session: SessionState,
    now: &str,
) -> Result<usize, ApiError> {
    let existing =
        deps.store.campaign(&campaign.id).await.map_err(|e| ApiError::internal("read campaign", &e))?;
    match existing {
        None => {
            pause_if_expired(campaign, session, now);
            create_and_queue(deps, campaign).await
        }
        Some(view) => {
            // Answer with what the campaign is, not with what the session is now.
            let expired = view.status == domain::CampaignStatus::Paused
                && view.reason == Some(ErrorCode::SessionExpired);
            pause_if_expired(
                campaign,
                if expired { SessionState::Expired } else { SessionState::Ready },
                now,
            );
            requeue_queued(deps, &campaign.id).await
        }
    }
}

/// A campaign for an account whose session is known expired starts PAUSED: nothing is queued
/// that would only pause in the sender, and the response says what to run.
fn pause_if_expired(campaign: &mut NewCampaign, session: SessionState, now: &str) {
    campaign.paused = (session == SessionState::Expired).then(|| PauseReason {
        code: ErrorCode::SessionExpired,
        hint: ErrorCode::SessionExpired.hint_for(campaign.account.as_str(), campaign.id.as_str()),
        at: now.to_owned(),
    });
}

/// Writes the rows and the campaign, then queues the sendable rows (none when it starts paused).
async fn create_and_queue(deps: &Deps, campaign: &NewCampaign) -> Result<usize, ApiError> {
    deps.store.create_campaign(campaign).await.map_err(|e| ApiError::internal("create campaign", &e))?;
    if campaign.paused.is_some() {
        tracing::info!(campaign = %campaign.id, account = %campaign.account, "campaign accepted paused: session expired");
        return Ok(0);
    }
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
    Ok(queued.len())
}

/// Queues a record for every row still QUEUED, with the row's round, so the queue drops the
/// records that are still there (within its deduplication window). Returns how many were sent.
async fn requeue_queued(deps: &Deps, id: &CampaignId) -> Result<usize, ApiError> {
    let mut pages = Pages::new(deps, id, domain::MessageStatus::Queued);
    let mut queued = 0;
    while let Some(page) = pages.next().await? {
        let batch: Vec<QueuedMessage> = page
            .iter()
            .map(|r| QueuedMessage {
                campaign_id: id.clone(),
                seq: r.seq,
                account: r.account.clone(),
                round: r.round,
            })
            .collect();
        deps.queue.enqueue(&batch).await.map_err(|e| ApiError::internal("enqueue", &e))?;
        queued += batch.len();
    }
    tracing::debug!(campaign = %id, queued, "records queued again for QUEUED rows");
    Ok(queued)
}

/// The 202 body: what was accepted, what was refused, and a warning when the session is not ready.
/// `replayed_status` is the campaign's current status when the answer repeats an earlier request.
fn accepted(
    campaign: &NewCampaign,
    session: SessionState,
    queued: usize,
    replayed_status: Option<domain::CampaignStatus>,
) -> Response<Body> {
    let invalid: Vec<serde_json::Value> = campaign
        .messages
        .iter()
        .filter_map(|m| m.phone.as_ref().err().map(|raw| (m.seq, raw)))
        .map(|(seq, raw)| json!({ "row": seq.0, "phone": raw, "code": ErrorCode::InvalidPhone }))
        .collect();
    let sendable = campaign.messages.iter().filter(|m| m.phone.is_ok()).count();
    let paused = if campaign.paused.is_some() { sendable } else { 0 };
    let status = match replayed_status {
        Some(status) => status,
        // Nothing to send (every number invalid): finished from the start.
        None if sendable == 0 => domain::CampaignStatus::Completed,
        None if campaign.paused.is_some() => domain::CampaignStatus::Paused,
        None => domain::CampaignStatus::Running,
    };
    let mut body = json!({
        "campaign_id": campaign.id,
        "status": status,
        "total": campaign.messages.len(),
        "queued": queued,
        "paused": paused,
        "invalid": invalid,
        "session": session,
        "replayed": replayed_status.is_some(),
    });
    if session != SessionState::Ready {
        let (message, hint) = match &campaign.paused {
            Some(p) => (
                "The account's WhatsApp Web session has expired; the campaign is accepted and paused until it is set up again."
                    .to_owned(),
                p.hint.clone(),
            ),
            None => (
                format!("The account's WhatsApp Web session is {session}; messages will pause until it is set up."),
                ErrorCode::SessionExpired.hint_for(campaign.account.as_str(), campaign.id.as_str()),
            ),
        };
        body["warning"] = json!({ "code": ErrorCode::SessionExpired, "message": message, "hint": hint });
    }
    json_response(StatusCode::ACCEPTED, &body)
}

/// Rows handled per store page during a resume or a cancel.
const PAGE: u32 = 500;

/// Walks a campaign's rows in one status, a store page at a time, in row order. Rows may leave
/// the status while it walks (that is what a resume or a cancel does): paging goes by row number.
struct Pages<'a> {
    deps: &'a Deps,
    id: &'a CampaignId,
    status: domain::MessageStatus,
    after: Option<domain::MessageSeq>,
    done: bool,
}

impl<'a> Pages<'a> {
    fn new(deps: &'a Deps, id: &'a CampaignId, status: domain::MessageStatus) -> Self {
        Self { deps, id, status, after: None, done: false }
    }

    async fn next(&mut self) -> Result<Option<Vec<campaign_store::MessageRow>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let page = self
            .deps
            .store
            .messages_in_status(self.id, self.status, self.after, PAGE)
            .await
            .map_err(|e| ApiError::internal("list rows", &e))?;
        self.done = page.len() < PAGE as usize;
        self.after = page.last().map(|r| r.seq);
        Ok(if page.is_empty() { None } else { Some(page) })
    }
}
/// Row transactions in flight at once during a resume or a cancel.
const ROW_CONCURRENCY: usize = 16;

/// The row numbers of a page, owned (so the futures built from them borrow nothing).
fn seqs(page: &[campaign_store::MessageRow]) -> std::vec::IntoIter<domain::MessageSeq> {
    page.iter().map(|r| r.seq).collect::<Vec<_>>().into_iter()
}

/// `?retry_failed=true|false` of a resume.
fn retry_failed_param(req: &Request) -> Result<bool, ApiError> {
    use lambda_http::RequestExt;
    match req.query_string_parameters_ref().and_then(|q| q.first("retry_failed")) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(ApiError::bad_request(
            ErrorCode::BadRequest,
            format!("retry_failed: must be true or false, not '{other}'"),
        )),
    }
}

/// Re-queues the PAUSED rows (after `wacamp setup`) and, with `retry_failed`, the rows that FAILED
/// with a retryable code (each gets one more attempt); a COMPLETED campaign reopens for those.
async fn resume(deps: &Deps, id: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let id = http_api::campaign_id(id)?;
    let retry_failed = retry_failed_param(req)?;
    let campaign = deps
        .store
        .campaign(&id)
        .await
        .map_err(|e| ApiError::internal("read campaign", &e))?
        .ok_or_else(|| ApiError::unknown_campaign(&id))?;
    let finished = match campaign.status {
        domain::CampaignStatus::Cancelled => true,
        domain::CampaignStatus::Completed => !retry_failed,
        _ => false,
    };
    if finished {
        return Err(ApiError {
            status: StatusCode::CONFLICT,
            code: ErrorCode::Conflict,
            message: format!("campaign '{id}' is {} and cannot resume", campaign.status),
        });
    }
    let now = (deps.clock)();
    // RUNNING first: a sender that pauses a row again from here on marks the campaign PAUSED again.
    deps.store
        .resume_campaign(&id, &now, retry_failed)
        .await
        .map_err(|e| ApiError::internal("resume campaign", &e))?;
    // Rows already QUEUED get their record again first (same round): one left without a record
    // by an interrupted resume, or whose record ended in the dead-letter queue, is sent after
    // all; a record still in the queue is dropped as a duplicate or settled by the claim.
    let reissued = requeue_queued(deps, &id).await?;
    let mut requeued = 0usize;
    let mut statuses = vec![domain::MessageStatus::Paused];
    if retry_failed {
        statuses.push(domain::MessageStatus::Failed);
    }
    for status in statuses {
        let mut pages = Pages::new(deps, &id, status);
        while let Some(page) = pages.next().await? {
            let chosen: Vec<campaign_store::MessageRow> = page
                .iter()
                .filter(|r| {
                    status == domain::MessageStatus::Paused || r.error.is_some_and(ErrorCode::is_retryable)
                })
                .cloned()
                .collect();
            let moved: Vec<Result<Option<QueuedMessage>, campaign_store::StoreError>> =
                futures::stream::iter(seqs(&chosen).map(|seq| {
                    let (store, id, now) = (deps.store.clone(), id.clone(), now.clone());
                    async move { store.requeue_message(&id, seq, status, &now).await }
                }))
                .buffered(ROW_CONCURRENCY)
                .collect()
                .await;
            // Rows that did move get their records before any error is reported.
            let batch: Vec<QueuedMessage> =
                moved.iter().filter_map(|r| r.as_ref().ok().cloned().flatten()).collect();
            deps.queue.enqueue(&batch).await.map_err(|e| ApiError::internal("enqueue", &e))?;
            requeued += batch.len();
            if let Some(Err(e)) = moved.iter().find(|r| r.is_err()) {
                return Err(ApiError::internal("requeue", e));
            }
        }
    }
    // Nothing left to wait for (e.g. no failed row was retryable): completed again at once.
    deps.store.settle_campaign(&id, &now).await.map_err(|e| ApiError::internal("settle", &e))?;
    let status = deps
        .store
        .campaign(&id)
        .await
        .map_err(|e| ApiError::internal("read campaign", &e))?
        .map_or(domain::CampaignStatus::Running, |c| c.status);
    tracing::info!(campaign = %id, requeued, reissued, retry_failed, "campaign resumed");
    Ok(json_response(
        StatusCode::OK,
        &json!({ "campaign_id": id, "status": status, "requeued": requeued, "reissued": reissued }),
    ))
}

/// Stops what has not been sent: the campaign turns CANCELLED (no row is claimed from then on),
/// and every QUEUED or PAUSED row ends CANCELLED. Rows being sent right now finish as they end.
/// Repeatable: a cancel that timed out half-way is finished by calling it again.
async fn cancel(deps: &Deps, id: &str) -> Result<Response<Body>, ApiError> {
    let id = http_api::campaign_id(id)?;
    let now = (deps.clock)();
    match deps.store.cancel_campaign(&id, &now).await.map_err(|e| ApiError::internal("cancel", &e))? {
        Transition::Applied => {}
        Transition::Missing => return Err(ApiError::unknown_campaign(&id)),
        Transition::NotApplicable => {
            return Err(ApiError {
                status: StatusCode::CONFLICT,
                code: ErrorCode::Conflict,
                message: format!("campaign '{id}' is COMPLETED and cannot be cancelled"),
            });
        }
    }
    let mut cancelled = 0usize;
    for status in [domain::MessageStatus::Queued, domain::MessageStatus::Paused] {
        let mut pages = Pages::new(deps, &id, status);
        while let Some(page) = pages.next().await? {
            let moved: Vec<Transition> = futures::stream::iter(seqs(&page).map(|seq| {
                let (store, id, now) = (deps.store.clone(), id.clone(), now.clone());
                async move { store.cancel_message(&id, seq, status, &now).await }
            }))
            .buffer_unordered(ROW_CONCURRENCY)
            .try_collect()
            .await
            .map_err(|e| ApiError::internal("cancel rows", &e))?;
            cancelled += moved.iter().filter(|t| **t == Transition::Applied).count();
        }
    }
    let view = deps
        .store
        .campaign(&id)
        .await
        .map_err(|e| ApiError::internal("read campaign", &e))?
        .ok_or_else(|| ApiError::unknown_campaign(&id))?;
    tracing::info!(campaign = %id, cancelled, "campaign cancelled");
    Ok(json_response(
        StatusCode::OK,
        &json!({ "campaign_id": id, "status": view.status, "cancelled": cancelled, "counts": view.counts }),
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
    Ok(NewCampaign { id, name: name.to_owned(), account, template, messages, created_at: now, paused: None })
}
