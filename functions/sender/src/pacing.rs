//! The random pause between two messages of one account (so a number is not flagged for sending
//! at machine speed). The sender spends the start of it watching the receipts of the message
//! just sent, so the pause costs nothing extra.

use std::time::Duration;

/// A random pause between `min` and `max` (none when `max` is zero).
pub fn gap((min, max): (Duration, Duration)) -> Duration {
    if max.is_zero() {
        return Duration::ZERO;
    }
    if max > min {
        use rand::Rng;
        let span = u64::try_from((max - min).as_millis()).unwrap_or(u64::MAX);
        min + Duration::from_millis(rand::rng().random_range(0..=span))
    } else {
        min
    }
}

/// Waits what is left of a pause of `gap` after `spent` of it went to something else.
pub async fn rest_of(gap: Duration, spent: Duration) {
    let left = gap.saturating_sub(spent);
    if !left.is_zero() {
        tokio::time::sleep(left).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pause_falls_between_its_bounds_and_is_none_without_pacing() {
        let bounds = (Duration::from_millis(200), Duration::from_millis(300));
        for _ in 0..100 {
            let g = gap(bounds);
            assert!(g >= bounds.0 && g <= bounds.1, "{g:?}");
        }
        assert_eq!(gap((Duration::ZERO, Duration::ZERO)), Duration::ZERO);
        assert_eq!(gap((Duration::from_secs(2), Duration::from_secs(2))), Duration::from_secs(2));
    }
}
