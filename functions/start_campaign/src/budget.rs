//! The request's time. API Gateway gives up on a request after 29 s and Lambda stops the function
//! at its deadline, so the queueing of a large campaign stops while there is still time to
//! answer, and hands its remaining rows to the reconciler (see
//! `CampaignStore::hand_off_issuing`). The sender, paced at seconds per message, is busy for
//! hours with what was queued; the reconciler's next run queues the rest.

use lambda_http::{Request, RequestExt};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time kept back for what follows the queueing: noting the hand-over, finishing the
/// `Idempotency-Key` and answering, on a table and a queue that may be slow to answer.
pub const RESERVE: Duration = Duration::from_secs(8);

/// How long the request may keep queueing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    /// The invocation's deadline; none outside Lambda (a test calling the handler).
    deadline: Option<SystemTime>,
}

impl Budget {
    /// The budget of the invocation that carries `req`.
    pub(crate) fn of(req: &Request) -> Self {
        let deadline = req
            .lambda_context_ref()
            .filter(|ctx| ctx.deadline > 0)
            .map(|ctx| UNIX_EPOCH + Duration::from_millis(ctx.deadline));
        Self { deadline }
    }

    /// More may be queued: the deadline is further away than [`RESERVE`].
    pub(crate) fn allows_more(&self) -> bool {
        self.deadline.is_none_or(|deadline| {
            deadline.duration_since(SystemTime::now()).is_ok_and(|left| left > RESERVE)
        })
    }
}
