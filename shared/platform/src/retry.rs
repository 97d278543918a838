//! Trying an AWS call again when AWS turned it away for a reason that passes — throttling, a
//! 5xx, a transaction conflict on a single-item write, a reply that never came — once the SDK's
//! own retries are spent: full-jitter exponential backoff, bounded. Every adapter uses this one
//! policy (DynamoDB, SQS and S3 errors share the SDK's error type).

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use rand::Rng;
use std::future::Future;
use std::time::Duration;

/// Tries of one call, the first included.
pub const TRIES: u32 = 16;
/// The first backoff's upper bound.
const BASE: Duration = Duration::from_millis(20);
/// The largest backoff's upper bound.
const CAP: Duration = Duration::from_secs(1);

/// Error codes that say "not now" rather than "no".
const PASSING: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "TransactionInProgressException",
    "InternalServerError",
    "InternalError",
    "RequestThrottled",
    "SlowDown",
    "ServiceUnavailable",
    // S3's 409 for a conditional write racing another write to the same key: tried again, it
    // gets the real answer (412 if the other one won).
    "ConditionalRequestConflict",
];

/// Whether `err` is worth trying again.
pub fn is_transient<E: ProvideErrorMetadata>(err: &SdkError<E>) -> bool {
    match err {
        SdkError::ServiceError(se) => {
            se.raw().status().as_u16() >= 500 || se.err().code().is_some_and(|c| PASSING.contains(&c))
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        _ => false,
    }
}

/// The backoff before try `n + 1` (`n` ≥ 1): a random wait up to `BASE × 2^n`, at most `CAP`.
pub fn backoff(n: u32) -> Duration {
    let ceiling = BASE.saturating_mul(1 << n.min(10)).min(CAP);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(1000);
    Duration::from_millis(rand::rng().random_range(0..=millis))
}

/// Sends one call, trying it again after a backoff while AWS turns it away for a reason that
/// passes; returns the SDK's own error otherwise (a failed condition stays visible to the
/// caller, which decides what it means).
pub async fn call<T, E, F, Fut>(mut send: F) -> Result<T, SdkError<E>>
where
    E: ProvideErrorMetadata,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E>>>,
{
    let mut n = 1;
    loop {
        match send().await {
            Err(e) if n < TRIES && is_transient(&e) => {
                tokio::time::sleep(backoff(n)).await;
                n += 1;
            }
            other => return other,
        }
    }
}

/// The SDK's own retry policy for every client: its standard mode, with a first backoff fit
/// for DynamoDB and SQS (tens of milliseconds, not the default second). What outlasts it is
/// tried again by [`call`].
pub fn sdk_policy() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(50))
        .with_max_backoff(Duration::from_secs(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoffs_grow_and_stay_under_the_cap() {
        for n in 1..40 {
            let ceiling = BASE.saturating_mul(1 << n.min(10)).min(CAP);
            assert!(backoff(n) <= ceiling, "backoff {n} within {ceiling:?}");
        }
        assert!(BASE.saturating_mul(1 << 10) >= CAP, "the cap is reached");
    }
}
