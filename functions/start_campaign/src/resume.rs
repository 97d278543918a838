//! `POST /campaigns/{id}/resume`: the paused rows (and, with `retry_failed`, the retryable
//! failures) queued again; rows still QUEUED get their record again.

use crate::rows::{Pages, requeue_queued, stopped};
use crate::{ApiError, Deps};
use domain::{ErrorCode, QueuedMessage};
use http_api::json_response;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

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
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!("campaign '{id}' is {} and cannot resume", campaign.status),
        ));
    }
    let now = deps.now();
    // Until this resume has queued every record, the reconciler re-issues the rows it moved.
    let issuing = deps.clock.unix();
    deps.store.mark_issuing(&id, issuing).await.map_err(|e| ApiError::internal("mark issuing", &e))?;
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
            // Many rows per transaction, the counters moving once for all of them; a row that
            // moved meanwhile is left out. Rows that moved get their records before anything else.
            let batch: Vec<QueuedMessage> =
                deps.store.requeue_messages(&id, &chosen, status, &now).await.map_err(|e| {
                    stopped("requeue", &e, || format!("campaign '{id}' resumed {requeued} messages"))
                })?;
            deps.queue.enqueue(&batch).await.map_err(|e| ApiError::internal("enqueue", &e))?;
            requeued += batch.len();
        }
    }
    // Nothing left to wait for (e.g. no failed row was retryable): completed again at once.
    deps.store.settle_campaign(&id, &now).await.map_err(|e| ApiError::internal("settle", &e))?;
    deps.store.mark_issued(&id, issuing).await.map_err(|e| ApiError::internal("mark issued", &e))?;
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
