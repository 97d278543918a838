//! The random pause between two messages of one account (so a number is not flagged for sending
//! at machine speed).

use std::time::Duration;

/// Waits a random time between `min` and `max` (nothing when `max` is zero).
pub async fn pace((min, max): (Duration, Duration)) {
    if max.is_zero() {
        return;
    }
    let wait = if max > min {
        use rand::Rng;
        let span = u64::try_from((max - min).as_millis()).unwrap_or(u64::MAX);
        min + Duration::from_millis(rand::rng().random_range(0..=span))
    } else {
        min
    };
    tokio::time::sleep(wait).await;
}
