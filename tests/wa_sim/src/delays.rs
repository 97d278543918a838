//! The fixed delays the simulator adds on the page's way to a sent message, tallied as they are
//! spent: page loads, API calls on the critical path (not the background status, receipt and QR
//! polls), server acknowledgements, and the "Loading your chats" sync each login shows. What a
//! benchmark measures between two readings, minus their difference, is the driver's own overhead:
//! the difference is the floor no driver can go under on this simulator.

use std::time::Duration;

use serde::Serialize;

use crate::config::millis;

/// Fixed delays spent so far (or between two readings, by [`FixedDelays::since`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FixedDelays {
    /// App pages served (`/`, `/send`), each after `Latency::page_load`.
    pub page_loads: u32,
    /// Critical-path API calls answered, each after `Latency::api`.
    pub api_calls: u32,
    /// Sends acknowledged, each after `Latency::server_ack`.
    pub acks: u32,
    /// Logins that went on to sync, each showing "Loading your chats" for the sync duration.
    pub syncs: u32,
    /// All of the above, added up.
    #[serde(with = "millis")]
    pub total: Duration,
}

/// One kind of fixed delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    PageLoad,
    Api,
    Ack,
    Sync,
}

impl FixedDelays {
    /// Records one `step` that waited `delay`.
    pub(crate) fn add(&mut self, step: Step, delay: Duration) {
        let count = match step {
            Step::PageLoad => &mut self.page_loads,
            Step::Api => &mut self.api_calls,
            Step::Ack => &mut self.acks,
            Step::Sync => &mut self.syncs,
        };
        *count = count.saturating_add(1);
        self.total = self.total.saturating_add(delay);
    }

    /// What was spent after `earlier` (a reading taken before this one).
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            page_loads: self.page_loads.saturating_sub(earlier.page_loads),
            api_calls: self.api_calls.saturating_sub(earlier.api_calls),
            acks: self.acks.saturating_sub(earlier.acks),
            syncs: self.syncs.saturating_sub(earlier.syncs),
            total: self.total.saturating_sub(earlier.total),
        }
    }

    /// The total spread over `n` messages (the floor per message).
    pub fn per(&self, n: u32) -> Duration {
        self.total / n.max(1)
    }
}

/// Whether a page API path is on the way to a sent message (the status, receipt and QR polls, and
/// the pictures a reopened chat shows again, run beside it and are not).
pub(crate) fn on_critical_path(path: &str) -> bool {
    !matches!(path, "/api/status" | "/api/delivered" | "/api/receipt" | "/api/login/poll" | "/api/media")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_since_an_earlier_one_holds_only_what_was_spent_between_them() {
        let mut d = FixedDelays::default();
        d.add(Step::PageLoad, Duration::from_millis(100));
        let earlier = d;
        d.add(Step::Api, Duration::from_millis(20));
        d.add(Step::Ack, Duration::from_millis(100));
        let between = d.since(&earlier);
        assert_eq!((between.page_loads, between.api_calls, between.acks), (0, 1, 1));
        assert_eq!(between.total, Duration::from_millis(120));
        assert_eq!(between.per(2), Duration::from_millis(60));
    }

    #[test]
    fn background_polls_are_not_on_the_critical_path() {
        assert!(!on_critical_path("/api/status"));
        assert!(on_critical_path("/api/send"));
        assert!(on_critical_path("/api/chat"));
    }
}
