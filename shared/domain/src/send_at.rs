//! When a scheduled campaign starts: an RFC 3339 time with its offset (`2027-01-15T09:00:00+01:00`
//! or `…Z`), after now and at most [`MAX_AHEAD_DAYS`] ahead when it is given, kept to the second
//! and shown in UTC.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// How far ahead a campaign may be scheduled, in days.
pub const MAX_AHEAD_DAYS: i64 = 365;

/// Why a start time is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendAtError {
    /// Not an RFC 3339 time with an offset.
    #[error("must be an RFC 3339 time with an offset, such as 2027-01-15T09:00:00+01:00")]
    NotRfc3339,
    /// Not after now.
    #[error("{0} is not in the future")]
    Past(String),
    /// Too far ahead.
    #[error("{0} is more than {MAX_AHEAD_DAYS} days ahead")]
    TooFar(String),
}

/// A campaign's start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SendAt(OffsetDateTime);

impl SendAt {
    /// Parses a start time given at `now`: it must lie after `now` and within [`MAX_AHEAD_DAYS`].
    pub fn parse(raw: &str, now: OffsetDateTime) -> Result<Self, SendAtError> {
        let at = Self::read(raw).ok_or(SendAtError::NotRfc3339)?;
        if at.0 <= now {
            return Err(SendAtError::Past(at.rfc3339()));
        }
        if at.0 - now > Duration::days(MAX_AHEAD_DAYS) {
            return Err(SendAtError::TooFar(at.rfc3339()));
        }
        Ok(at)
    }

    /// The start time `t` (to the second), unchecked: "now" for a campaign started early.
    pub fn at(t: OffsetDateTime) -> Self {
        Self(t.replace_nanosecond(0).unwrap_or(t).to_offset(UtcOffset::UTC))
    }

    /// A start time as stored (no check against the clock: it may have passed).
    pub fn read(raw: &str) -> Option<Self> {
        let at = OffsetDateTime::parse(raw, &Rfc3339).ok()?;
        let second = at.replace_nanosecond(0).ok()?.to_offset(UtcOffset::UTC);
        Some(Self(second))
    }

    /// Its Unix second.
    pub fn unix(self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Its stored and shown form, UTC (`2027-01-15T08:00:00Z`).
    pub fn rfc3339(self) -> String {
        crate::rfc3339(self.0)
    }

    /// Whether the campaign may start at Unix second `now`.
    pub fn is_due(self, now: i64) -> bool {
        self.unix() <= now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap() // 2027-01-15T08:00:00Z
    }

    #[test]
    fn a_time_with_an_offset_is_kept_to_the_second_in_utc() {
        let at = SendAt::parse("2027-01-15T10:30:00.750+01:00", now()).unwrap();
        assert_eq!(at.rfc3339(), "2027-01-15T09:30:00Z");
        assert_eq!(at.unix(), 1_800_000_000 + 5400);
        assert!(!at.is_due(1_800_000_000));
        assert!(at.is_due(1_800_005_400));
    }

    #[test]
    fn a_time_without_an_offset_or_a_date_alone_is_refused() {
        for raw in ["2027-01-15T10:30:00", "2027-01-15", "tomorrow", ""] {
            assert_eq!(SendAt::parse(raw, now()), Err(SendAtError::NotRfc3339), "{raw}");
        }
    }

    #[test]
    fn now_and_the_past_are_refused_and_so_is_more_than_a_year_ahead() {
        assert!(matches!(SendAt::parse("2027-01-15T08:00:00Z", now()), Err(SendAtError::Past(_))));
        assert!(matches!(SendAt::parse("2026-12-31T23:00:00Z", now()), Err(SendAtError::Past(_))));
        assert!(matches!(SendAt::parse("2028-01-16T08:00:00Z", now()), Err(SendAtError::TooFar(_))));
        assert!(SendAt::parse("2028-01-14T08:00:00Z", now()).is_ok());
    }

    #[test]
    fn a_stored_time_is_read_even_once_it_has_passed() {
        let at = SendAt::read("2020-01-01T00:00:00Z").unwrap();
        assert!(at.is_due(1_800_000_000));
    }
}
