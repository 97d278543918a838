//! Trying a write again when DynamoDB turned it away for a reason that passes: a transaction
//! cancelled by a conflict with a concurrent write (`TransactionConflict`), throttling, a 5xx, or a
//! reply that never came. Single calls use `platform::retry::call`; a transaction, whose
//! cancellation reasons only the caller can read, runs through `with_backoff`. After the last try
//! the caller gets `StoreError::Contended` and can try again later.

use crate::StoreError;
use platform::retry::{TRIES, backoff};
pub(crate) use platform::retry::{call, is_transient};
use std::future::Future;

/// One try's verdict.
pub(crate) enum Attempt<T> {
    /// Finished with this result.
    Done(T),
    /// Turned away for a passing reason: try again after a backoff.
    Again,
}

/// Runs `write` until it is done, trying again after a backoff while it says so.
pub(crate) async fn with_backoff<T, F, Fut>(what: &str, mut write: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Attempt<T>, StoreError>>,
{
    for n in 1..=TRIES {
        match write().await? {
            Attempt::Done(value) => return Ok(value),
            Attempt::Again if n < TRIES => tokio::time::sleep(backoff(n)).await,
            Attempt::Again => {}
        }
    }
    Err(StoreError::Contended(format!("{what}: still turned away after {TRIES} tries")))
}
