//! How long since an account's WhatsApp Web session last logged in, judged against WhatsApp's
//! limits for linked devices: about 14 days without the phone logs them out, 30 days without
//! activity disconnects them. A session that has not logged in for `warn_after` is stale: the
//! operator is told before a campaign finds it logged out.

use std::time::Duration;
use time::OffsetDateTime;

/// WhatsApp logs linked devices out after about this long without the phone.
pub const PHONE_OFFLINE_LIMIT: Duration = Duration::from_secs(14 * 24 * 3600);
/// WhatsApp disconnects linked devices after about this long without activity.
pub const INACTIVITY_LIMIT: Duration = Duration::from_secs(30 * 24 * 3600);
/// The default warning threshold: four days before the phone-offline limit.
pub const DEFAULT_WARN_AFTER: Duration = Duration::from_secs(10 * 24 * 3600);

/// What the time since the last login says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// No login was ever recorded.
    Never,
    /// Logged in `since` ago, under the threshold.
    Fresh {
        /// Time since the last login.
        since: Duration,
    },
    /// Logged in `since` ago, at or over the threshold: warn.
    Stale {
        /// Time since the last login.
        since: Duration,
    },
}

impl Freshness {
    /// Judges a last login at `last_ready` at `now` against `warn_after`. A login stamped in the
    /// future (clock skew) counts as just now.
    pub fn of(last_ready: Option<OffsetDateTime>, now: OffsetDateTime, warn_after: Duration) -> Self {
        let Some(at) = last_ready else { return Self::Never };
        let since = Duration::try_from(now - at).unwrap_or(Duration::ZERO);
        if since >= warn_after { Self::Stale { since } } else { Self::Fresh { since } }
    }

    /// Time since the last login, if any.
    pub fn since(self) -> Option<Duration> {
        match self {
            Self::Never => None,
            Self::Fresh { since } | Self::Stale { since } => Some(since),
        }
    }

    /// The warning's message when stale: how long, and what WhatsApp does next.
    pub fn warning(self) -> Option<String> {
        let Self::Stale { since } = self else { return None };
        let days = since.as_secs() / 86_400;
        let hours = since.as_secs() / 3600 % 24;
        Some(format!(
            "the session last logged in {days} d {hours} h ago; WhatsApp logs linked devices out after about {} days without the phone and {} days without activity",
            PHONE_OFFLINE_LIMIT.as_secs() / 86_400,
            INACTIVITY_LIMIT.as_secs() / 86_400,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(seconds)
    }

    #[test]
    fn a_session_is_stale_from_the_threshold_on_and_fresh_before_it() {
        let now = at(100 * DAY);
        let warn = DEFAULT_WARN_AFTER;
        assert_eq!(Freshness::of(None, now, warn), Freshness::Never);
        let fresh = Freshness::of(Some(at(91 * DAY)), now, warn);
        assert_eq!(fresh, Freshness::Fresh { since: Duration::from_secs(9 * 86_400) });
        assert_eq!(fresh.warning(), None);
        let stale = Freshness::of(Some(at(90 * DAY)), now, warn);
        assert!(matches!(stale, Freshness::Stale { .. }));
        let message = stale.warning().unwrap_or_default();
        assert!(message.starts_with("the session last logged in 10 d 0 h ago"), "{message}");
        assert!(message.contains("14 days without the phone") && message.contains("30 days"), "{message}");
    }

    #[test]
    fn a_login_stamped_in_the_future_counts_as_just_now() {
        let now = at(10 * DAY);
        assert_eq!(Freshness::of(Some(at(11 * DAY)), now, DEFAULT_WARN_AFTER).since(), Some(Duration::ZERO));
    }
}
