//! Conditional DynamoDB transactions on the session items, tried again while AWS turns them
//! away for a reason that passes.

use crate::SessionStoreError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use platform::retry;

/// Sends a conditional transaction, trying it again after a backoff while AWS turns it away for
/// a reason that passes (throttling, a 5xx, no reply, or a cancellation for a conflict with
/// another transaction or for throttling). Cancelled by a failed condition is `false`, not an
/// error: the caller reads back whether that was the echo of an earlier try of its own whose
/// reply was lost (the SDK's or ours).
pub(super) async fn transact(
    request: aws_sdk_dynamodb::operation::transact_write_items::builders::TransactWriteItemsFluentBuilder,
    context: &str,
) -> Result<bool, SessionStoreError> {
    let mut n = 1;
    loop {
        let err = match retry::call(|| request.clone().send()).await {
            Ok(_) => return Ok(true),
            Err(e) => e,
        };
        let reasons = match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(tce)) => tce.cancellation_reasons(),
            _ => return Err(SessionStoreError::unavailable(context.to_owned(), err)),
        };
        let code = |c: &str| reasons.iter().any(|r| r.code() == Some(c));
        if n < retry::TRIES
            && (code("TransactionConflict")
                || code("ThrottlingError")
                || code("ProvisionedThroughputExceeded"))
        {
            tokio::time::sleep(retry::backoff(n)).await;
            n += 1;
            continue;
        }
        if code("ConditionalCheckFailed") {
            return Ok(false);
        }
        return Err(SessionStoreError::unavailable(context.to_owned(), err));
    }
}
