//! `POST /campaigns/{id}/cancel`: what has not been sent never will be.

use crate::rows::stopped;
use crate::{ApiError, Deps};
use api_types::CancelResult;
use campaign_control::Pages;
use campaign_store::Transition;
use domain::ErrorCode;
use http_api::json_response;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};

/// Stops what has not been sent: the campaign turns CANCELLED (no row is claimed from then on),
/// and every QUEUED or PAUSED row ends CANCELLED. Rows being sent right now finish as they end.
/// Repeatable: a cancel that timed out half-way is finished by calling it again.
pub(crate) async fn cancel(deps: &Deps, id: &str) -> Result<Response<Body>, ApiError> {
    let id = http_api::campaign_id(id)?;
    let now = deps.now();
    match deps.store.cancel_campaign(&id, &now).await.map_err(|e| ApiError::internal("cancel", &e))? {
        Transition::Applied => {}
        Transition::Missing => return Err(ApiError::unknown_campaign(&id)),
        Transition::NotApplicable => {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                format!("campaign '{id}' is COMPLETED and cannot be cancelled"),
            ));
        }
    }
    let mut cancelled = 0usize;
    for status in [domain::MessageStatus::Queued, domain::MessageStatus::Paused] {
        let mut pages = Pages::new(deps.store.as_ref(), &id, status);
        while let Some(page) = pages.next().await.map_err(|e| ApiError::internal("list rows", &e))? {
            // Many rows per transaction, the counters moving once for all of them.
            cancelled += deps.store.cancel_messages(&id, &page, status, &now).await.map_err(|e| {
                stopped("cancel rows", &e, || {
                    format!("campaign '{id}' is CANCELLED and {cancelled} messages were cancelled")
                })
            })?;
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
        &CancelResult {
            campaign_id: id,
            status: view.status,
            cancelled: cancelled as u64,
            counts: view.counts,
        },
    ))
}
