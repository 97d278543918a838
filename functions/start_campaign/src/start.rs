//! `POST /campaigns`: validates, writes the rows and the campaign, queues the sendable rows (a
//! campaign with a start time ahead holds them: the reconciler starts it then);
//! with an `Idempotency-Key`, a retry answers with the first request's campaign and queues
//! nothing twice, and a first request that died half-way is completed by the retry.

use crate::budget::Budget;
use crate::rows::requeue_queued;
use crate::{ApiError, Deps, idempotency, validate};
use api_types::{Accepted, InvalidRow, Problem};
use campaign_store::{Idempotency, NewCampaign, PauseReason};
use domain::lifecycle::campaign::Start;
use domain::{CampaignId, ErrorCode, QueuedMessage, SessionHealth};
use http_api::json_response;
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};

pub(crate) async fn start(deps: &Deps, req: &Request) -> Result<Response<Body>, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > crate::MAX_BODY_BYTES {
        return Err(ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("body: {} bytes; the limit is {}", bytes.len(), crate::MAX_BODY_BYTES),
        ));
    }
    let budget = Budget::of(req);
    let key = idempotency::key_from(req.headers())?;
    let request = crate::request::parse(bytes)?;
    let clock_now = deps.clock.now();
    let now = domain::rfc3339(clock_now);
    let mut campaign = validate(&request, CampaignId::generate(uuid::Uuid::new_v4().as_u128()), clock_now)?;
    let session = deps
        .sessions
        .pointer(&campaign.account)
        .await
        .map_err(|e| ApiError::internal("session lookup", &e))?;
    let session_state = session.map(|s| s.state).unwrap_or(SessionHealth::Missing);
    crate::opt_outs::mark(deps, &mut campaign).await?;

    let Some(key) = key else {
        crate::media::attach(deps, &request, &mut campaign).await?;
        pause_if_expired(&mut campaign, session_state, &now);
        let queued = create_and_queue(deps, &campaign, budget).await?;
        return Ok(accepted(&campaign, session_state, queued, None));
    };
    let claim = idempotency::claim(&key, bytes, &campaign.id, &now)?;
    match deps.store.claim_idempotency(&claim).await.map_err(|e| ApiError::internal("idempotency", &e))? {
        Idempotency::Owned { campaign_id } => {
            campaign.id = campaign_id;
            match start_owned(deps, &request, &mut campaign, session_state, &now, budget).await {
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
                pause_if_expired(&mut campaign, SessionHealth::Expired, &now);
            }
            let held = campaign.opening().holds_rows();
            let queued =
                if held { 0 } else { campaign.messages.iter().filter(|m| m.refusal().is_none()).count() };
            let queued = Queued { now: queued, handed_over: 0 };
            let mut resp = accepted(&campaign, session_state, queued, Some(view.status));
            resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            Ok(resp)
        }
        Idempotency::InProgress { until } => {
            let wait = (until - claim.now).max(1);
            let mut resp = ApiError::new(
                ErrorCode::IdempotencyKeyInProgress,
                format!(
                    "Idempotency-Key: a request with this key is still being processed; retry in {wait} s"
                ),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
                resp.headers_mut().insert("retry-after", v);
            }
            Ok(resp)
        }
        Idempotency::Mismatch => Err(ApiError::new(
            ErrorCode::IdempotencyKeyReused,
            "Idempotency-Key: this key was already used with a different body",
        )),
    }
}

/// The work of a start that owns its `Idempotency-Key`: create and queue, or, when an earlier
/// attempt wrote the campaign and died while queueing, queue what is still QUEUED (the queue's
/// deduplication drops what did get through). Returns how many records were queued.
async fn start_owned(
    deps: &Deps,
    request: &api_types::CampaignRequest,
    campaign: &mut NewCampaign,
    session: SessionHealth,
    now: &str,
    budget: Budget,
) -> Result<Queued, ApiError> {
    let existing =
        deps.store.campaign(&campaign.id).await.map_err(|e| ApiError::internal("read campaign", &e))?;
    match existing {
        None => {
            // Its files are checked and copied once, before the campaign exists (a retry that
            // finds it written has them already, whatever became of the uploads since).
            crate::media::attach(deps, request, campaign).await?;
            pause_if_expired(campaign, session, now);
            create_and_queue(deps, campaign, budget).await
        }
        Some(view) => {
            // Answer with what the campaign is, not with what the session is now.
            let expired = view.status == domain::CampaignStatus::Paused
                && view.reason == Some(ErrorCode::SessionExpired);
            pause_if_expired(
                campaign,
                if expired { SessionHealth::Expired } else { SessionHealth::Ready },
                now,
            );
            let queued = requeue_queued(deps, &campaign.id).await?;
            mark_issued(deps, campaign).await?;
            Ok(Queued { now: queued, handed_over: 0 })
        }
    }
}

/// Clears the mark the campaign was created with (at its creation second) once its records are
/// queued; a newer mark (a resume's) stays.
async fn mark_issued(deps: &Deps, campaign: &NewCampaign) -> Result<(), ApiError> {
    deps.store
        .mark_issued(&campaign.id, created_second(campaign)?)
        .await
        .map_err(|e| ApiError::internal("mark issued", &e))
}

/// The Unix second of the campaign's creation: the mark its start queues under.
fn created_second(campaign: &NewCampaign) -> Result<i64, ApiError> {
    time::OffsetDateTime::parse(&campaign.created_at, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|e| ApiError::internal("created_at", &e))
}

/// A campaign for an account whose session is known expired starts PAUSED: nothing is queued
/// that would only pause in the sender, and the response says what to run.
fn pause_if_expired(campaign: &mut NewCampaign, session: SessionHealth, now: &str) {
    campaign.paused = (session == SessionHealth::Expired).then(|| PauseReason {
        code: ErrorCode::SessionExpired,
        hint: ErrorCode::SessionExpired.hint_for(campaign.account.as_str(), campaign.id.as_str()),
        at: now.to_owned(),
    });
}

/// Records queued per step; between steps the request's time is checked.
const QUEUE_STEP: usize = 200;

/// How the records of a start went out.
#[derive(Debug, Clone, Copy)]
struct Queued {
    /// Queued by this request.
    now: usize,
    /// Left to the reconciler's next run: the request's time ran short.
    handed_over: usize,
}

/// Writes the rows and the campaign, then queues the sendable rows (none when it starts paused)
/// in order, while `budget` allows; the rows it did not reach are handed to the reconciler.
async fn create_and_queue(deps: &Deps, campaign: &NewCampaign, budget: Budget) -> Result<Queued, ApiError> {
    deps.store.create_campaign(campaign).await.map_err(|e| ApiError::internal("create campaign", &e))?;
    match campaign.start() {
        Start::Now => {}
        Start::Paused => {
            tracing::info!(campaign = %campaign.id, account = %campaign.account, "campaign accepted paused: session expired");
            return Ok(Queued { now: 0, handed_over: 0 });
        }
        Start::Scheduled => {
            let send_at = campaign.send_at.map(domain::SendAt::rfc3339).unwrap_or_default();
            tracing::info!(campaign = %campaign.id, account = %campaign.account, %send_at, "campaign accepted scheduled");
            return Ok(Queued { now: 0, handed_over: 0 });
        }
    }
    let records: Vec<QueuedMessage> = campaign
        .messages
        .iter()
        .filter(|m| m.refusal().is_none())
        .map(|m| QueuedMessage::new(campaign.id.clone(), m.seq, campaign.account.clone(), 0))
        .collect();
    let mut queued = 0;
    for step in records.chunks(QUEUE_STEP) {
        if !budget.allows_more() {
            break;
        }
        deps.queue.enqueue(step).await.map_err(|e| ApiError::internal("enqueue", &e))?;
        queued += step.len();
    }
    match records.get(queued) {
        // Every sendable row has its record now; until this is written, the reconciler re-issues them.
        None => mark_issued(deps, campaign).await?,
        Some(first_left) => {
            deps.store
                .hand_off_issuing(&campaign.id, created_second(campaign)?, first_left.seq)
                .await
                .map_err(|e| ApiError::internal("hand off", &e))?;
            tracing::warn!(
                campaign = %campaign.id,
                queued,
                handed_over = records.len() - queued,
                "the request's time ran short: the reconciler queues the rest on its next run"
            );
        }
    }
    tracing::info!(campaign = %campaign.id, account = %campaign.account, queued, "campaign accepted");
    Ok(Queued { now: queued, handed_over: records.len() - queued })
}

/// The 202 body: what was accepted, what was refused, and a warning when the session is not ready.
/// `replayed_status` is the campaign's current status when the answer repeats an earlier request.
fn accepted(
    campaign: &NewCampaign,
    session: SessionHealth,
    queued: Queued,
    replayed_status: Option<domain::CampaignStatus>,
) -> Response<Body> {
    let invalid: Vec<InvalidRow> = campaign
        .messages
        .iter()
        .filter_map(|m| m.refusal().map(|code| (m, code)))
        .map(|(m, code)| InvalidRow {
            row: m.seq.0,
            phone: match &m.phone {
                Ok(p) => p.e164().to_owned(),
                Err(raw) => raw.clone(),
            },
            code,
        })
        .collect();
    let opening = campaign.opening();
    let scheduled = campaign.start() == Start::Scheduled;
    let (paused, held) = if scheduled { (0, opening.counts.paused) } else { (opening.counts.paused, 0) };
    let status = replayed_status.unwrap_or(opening.status);
    let mut body = Accepted {
        campaign_id: campaign.id.clone(),
        status,
        total: campaign.messages.len() as u64,
        queued: queued.now as u64,
        handed_over: queued.handed_over as u64,
        paused,
        scheduled: held,
        send_at: campaign.send_at.map(domain::SendAt::rfc3339),
        invalid,
        session,
        replayed: replayed_status.is_some(),
        warning: None,
        notices: crate::identical_text::check(campaign).into_iter().collect(),
    };
    if session != SessionHealth::Ready {
        let (message, hint) = match campaign.pause_reason() {
            Some(p) => (
                "The account's WhatsApp Web session has expired; the campaign is accepted and paused until it is set up again."
                    .to_owned(),
                p.hint.clone(),
            ),
            None if scheduled => (
                format!(
                    "The account's WhatsApp Web session is {session}; set it up before the campaign starts, or its messages will pause."
                ),
                ErrorCode::SessionExpired.hint_for(campaign.account.as_str(), campaign.id.as_str()),
            ),
            None => (
                format!("The account's WhatsApp Web session is {session}; messages will pause until it is set up."),
                ErrorCode::SessionExpired.hint_for(campaign.account.as_str(), campaign.id.as_str()),
            ),
        };
        body.warning = Some(Problem { code: ErrorCode::SessionExpired, message, hint });
    }
    json_response(StatusCode::ACCEPTED, &body)
}
