//! `POST /campaigns/{id}/resume`: the paused rows (and, with `retry_failed`, the retryable
//! failures) queued again; rows still QUEUED get their record again (`campaign_control::resume`).

use crate::rows::stopped;
use crate::{ApiError, Deps};
use api_types::ResumeResult;
use campaign_control::ResumeError;
use domain::ErrorCode;
use http_api::json_response;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

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
pub(crate) async fn resume(deps: &Deps, id: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let id = http_api::campaign_id(id)?;
    let retry_failed = retry_failed_param(req)?;
    let done = campaign_control::resume(&deps.control(), &id, retry_failed).await.map_err(|e| match e {
        ResumeError::Unknown(id) => ApiError::unknown_campaign(&id),
        e @ ResumeError::Over { .. } => ApiError::new(ErrorCode::Conflict, e.to_string()),
        ResumeError::Stopped { progress, source } => stopped("requeue", &source, || progress),
        ResumeError::Store(e) => ApiError::internal("resume", &e),
        ResumeError::Queue(e) => ApiError::internal("enqueue", &e),
    })?;
    Ok(json_response(
        StatusCode::OK,
        &ResumeResult {
            campaign_id: id,
            status: done.status,
            requeued: done.requeued as u64,
            reissued: done.reissued as u64,
        },
    ))
}
