//! The invocation's deadline, read on the injected clock: when to stop sending (a reserve is kept
//! free to close the browser and back up) and until when the account's browser lease must hold.

use std::time::Duration;
use time::OffsetDateTime;

/// How long the account's browser lease outlives the invocation's deadline. An invocation cannot
/// run past its deadline, so the lease never lapses while its holder lives; the margin covers
/// clock skew between instances. A holder that died blocks the account at most this long after
/// its deadline (the records go back with that delay, never FAILED).
pub const LEASE_MARGIN: Duration = Duration::from_secs(30);

/// The longest invocation Lambda runs (15 minutes): a deadline further away is not believed.
const MAX_INVOCATION: Duration = Duration::from_secs(15 * 60);

/// When one invocation must stop sending, and how long its browser lease lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// No message is started at or after this time.
    pub stop_sending_at: OffsetDateTime,
    /// Epoch seconds: the invocation's deadline (rounded up) plus [`LEASE_MARGIN`].
    pub lease_until: i64,
}

impl Deadline {
    /// The deadline of an invocation that must answer by `deadline_ms` (epoch millis, from the
    /// runtime), seen at `now`. With a short function timeout the reserve shrinks to a third of
    /// the invocation, so a small timeout still sends something.
    pub fn new(deadline_ms: u64, now: OffsetDateTime, reserve: Duration) -> Self {
        let now_ms = u64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
        let left = Duration::from_millis(deadline_ms.saturating_sub(now_ms)).min(MAX_INVOCATION);
        let reserve = reserve.min(left / 3);
        Self {
            stop_sending_at: now + (left - reserve),
            lease_until: browser_lease_until(now.unix_timestamp(), left),
        }
    }

    /// Whether no further message may be started at `now`.
    pub fn reached(&self, now: OffsetDateTime) -> bool {
        now >= self.stop_sending_at
    }
}

/// The end of the browser lease of an invocation at `now` (epoch seconds) with `left` before its
/// deadline: the deadline (rounded up to a second) plus [`LEASE_MARGIN`].
fn browser_lease_until(now: i64, left: Duration) -> i64 {
    let left = i64::try_from(left.as_millis().div_ceil(1000)).unwrap_or(i64::MAX / 4);
    now.saturating_add(left).saturating_add(secs(LEASE_MARGIN))
}

/// Whole seconds of `d`, as epoch arithmetic wants them.
pub fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browser_lease_ends_a_margin_after_the_deadline_rounded_up_to_a_second() {
        assert_eq!(browser_lease_until(1_000, Duration::from_millis(59_001)), 1_000 + 60 + 30);
        assert_eq!(browser_lease_until(1_000, Duration::ZERO), 1_000 + 30);
    }

    #[test]
    fn a_short_invocation_keeps_a_third_of_its_time_as_the_reserve() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let deadline = Deadline::new(1_800_000_030_000, now, Duration::from_secs(25));
        assert_eq!(deadline.stop_sending_at, now + Duration::from_secs(20));
        assert!(!deadline.reached(now) && deadline.reached(now + Duration::from_secs(20)));
        assert!(
            Deadline::new(0, now, Duration::from_secs(25)).reached(now),
            "a passed deadline stops at once"
        );
    }
}
