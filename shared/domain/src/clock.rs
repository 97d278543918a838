//! Time as a parameter: every decision that depends on "now" asks an injected [`Clock`], so tests
//! control time and nothing decides on the wall clock behind the caller's back.

use std::sync::{Arc, Mutex, PoisonError};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The source of "now" (UTC).
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> OffsetDateTime;

    /// The current time in whole Unix seconds.
    fn unix(&self) -> i64 {
        self.now().unix_timestamp()
    }

    /// The current time in Unix milliseconds.
    fn unix_millis(&self) -> i64 {
        i64::try_from(self.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    /// How far this clock runs ahead of the wall clock the Lambda runtime's deadlines are given
    /// on, in milliseconds: 0 but for a test stack's moved clock, whose functions read a
    /// deadline in their own time by adding it.
    fn ahead_of_runtime_ms(&self) -> i64 {
        0
    }
}

/// Any `Fn() -> OffsetDateTime` is a clock (a fixed or scripted time in tests).
impl<F: Fn() -> OffsetDateTime + Send + Sync> Clock for F {
    fn now(&self) -> OffsetDateTime {
        self()
    }
}

/// The shared form every component takes.
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock: the one place production code reads it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// The wall clock, shared.
pub fn system_clock() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock that stands still until told to move; for tests of time-dependent rules.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// A clock standing at Unix second `unix`.
    pub fn at(unix: i64) -> Self {
        Self(Mutex::new(OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)))
    }

    /// Moves the clock to Unix second `unix`.
    pub fn set(&self, unix: i64) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) =
            OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    }

    /// Moves the clock forward by `secs` seconds.
    pub fn advance(&self, secs: i64) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now += time::Duration::seconds(secs);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `t` in RFC 3339, the form every stored and answered timestamp takes.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(1_800_000_000);
        assert_eq!(clock.unix(), 1_800_000_000);
        clock.advance(61);
        assert_eq!(clock.unix(), 1_800_000_061);
        assert_eq!(rfc3339(clock.now()), "2027-01-15T08:01:01Z");
    }
}
