//! The HTTP side of moving a campaign's rows (the walking itself is `campaign_control`'s): the
//! answer for a resume or cancel the store stopped part-way, and re-issuing QUEUED rows for the
//! completion of a half-finished start.

use crate::{ApiError, Deps};
use campaign_store::StoreError;
use domain::{CampaignId, ErrorCode};

/// The answer for a resume or cancel the store stopped part-way: for AWS turning it away past
/// every try, a 503 that says how far it got (everything before stays done, and the same call
/// again continues from there); anything else is internal.
pub(crate) fn stopped(context: &str, err: &StoreError, progress: impl FnOnce() -> String) -> ApiError {
    match err {
        StoreError::Contended(_) | StoreError::Unavailable(_) => {
            tracing::warn!(error = %err, context, "stopped part-way; the same call continues");
            ApiError::new(
                ErrorCode::StoreBusy,
                format!("{}; the table turned the rest away for now: call it again to continue", progress()),
            )
        }
        _ => ApiError::internal(context, err),
    }
}

/// Queues a record for every row still QUEUED (see [`campaign_control::requeue_queued`]).
pub(crate) async fn requeue_queued(deps: &Deps, id: &CampaignId) -> Result<usize, ApiError> {
    campaign_control::requeue_queued(&deps.control(), id).await.map_err(|e| ApiError::internal("requeue", &e))
}
