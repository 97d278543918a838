//! `PATCH /campaigns/{id}`: before a scheduled campaign starts, its start time moved
//! (`{"send_at": "…"}`, in the future) or the campaign started at once (`{"send_at": null}`).
//! Cancelling it is `POST /campaigns/{id}/cancel`, as for any campaign.

use crate::rows::stopped;
use crate::{ApiError, Deps};
use api_types::{ScheduleRequest, ScheduleResult};
use campaign_control::{Released, ResumeError, When};
use campaign_store::Transition;
use domain::{CampaignId, CampaignStatus, ErrorCode, SendAt};
use http_api::json_response;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

/// Moves the start time of campaign `id`, or starts it now.
pub(crate) async fn patch(deps: &Deps, id: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let id = http_api::campaign_id(id)?;
    let body = parse(req.body().as_ref())?;
    let (status, send_at, requeued) = match body.send_at {
        Some(raw) => {
            let send_at = SendAt::parse(&raw, deps.clock.now())
                .map_err(|e| ApiError::bad_request(ErrorCode::BadRequest, format!("send_at: {e}")))?;
            match deps
                .store
                .reschedule_campaign(&id, send_at, &deps.now())
                .await
                .map_err(|e| ApiError::internal("reschedule", &e))?
            {
                Transition::Applied => {}
                Transition::Missing => return Err(ApiError::unknown_campaign(&id)),
                Transition::NotApplicable => return Err(not_scheduled(deps, &id).await?),
            }
            tracing::info!(campaign = %id, send_at = %send_at.rfc3339(), "campaign rescheduled");
            (CampaignStatus::Scheduled, Some(send_at.rfc3339()), 0)
        }
        None => {
            match campaign_control::release(&deps.control(), &id, When::Now).await.map_err(|e| match e {
                ResumeError::Unknown(id) => ApiError::unknown_campaign(&id),
                ResumeError::Stopped { progress, source } => stopped("requeue", &source, || progress),
                ResumeError::Store(e) => ApiError::internal("start", &e),
                ResumeError::Queue(e) => ApiError::internal("enqueue", &e),
                e @ ResumeError::Over { .. } => ApiError::new(ErrorCode::Conflict, e.to_string()),
            })? {
                Released::Started { requeued, status } => {
                    let view = deps
                        .store
                        .campaign(&id)
                        .await
                        .map_err(|e| ApiError::internal("read campaign", &e))?;
                    (status, view.and_then(|v| v.send_at), requeued as u64)
                }
                Released::NotYet | Released::NotScheduled(_) => return Err(not_scheduled(deps, &id).await?),
            }
        }
    };
    Ok(json_response(StatusCode::OK, &ScheduleResult { campaign_id: id, status, send_at, requeued }))
}

/// The body, which must name `send_at` (a missing one is not "start now").
fn parse(bytes: &[u8]) -> Result<ScheduleRequest, ApiError> {
    let value: serde_json::Value = crate::request::parse_json(bytes)?;
    if !value.as_object().is_some_and(|o| o.contains_key("send_at")) {
        return Err(ApiError::bad_request(
            ErrorCode::BadRequest,
            "send_at: required (a new start time, or null to start now)",
        ));
    }
    crate::request::parse_json(bytes)
}

/// The 409 for a campaign that is not (any more) waiting for its start, naming its status.
async fn not_scheduled(deps: &Deps, id: &CampaignId) -> Result<ApiError, ApiError> {
    let view = deps.store.campaign(id).await.map_err(|e| ApiError::internal("read campaign", &e))?;
    let Some(view) = view else { return Ok(ApiError::unknown_campaign(id)) };
    Ok(ApiError::new(
        ErrorCode::Conflict,
        format!(
            "campaign '{id}' is {} and no longer waits for its start; only a SCHEDULED campaign can be rescheduled",
            view.status
        ),
    ))
}
