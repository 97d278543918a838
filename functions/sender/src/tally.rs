//! The batch's counts and timings, written when the batch is done as one log line and as one
//! CloudWatch embedded-metric line (namespace `wacamp`, dimension `FunctionName`).

use platform::metrics::{Metric, Unit, emit};
use std::time::Duration;

/// Counts for the batch's metric line.
#[derive(Debug, Default)]
pub struct Tally {
    /// Messages sent (or found sent in the chat).
    pub sent: u32,
    /// Messages that ended FAILED.
    pub failed: u32,
    /// Messages paused.
    pub paused: u32,
    /// Messages held for their recipient's sending window.
    pub held: u32,
    /// Records given back.
    pub retried: u32,
    /// Records issued again instead of reaching the dead-letter queue.
    pub reissued: u32,
    /// Records acknowledged.
    pub acked: u32,
    /// Sessions opened from an older generation (the newest did not log in).
    pub restored_from_backup: u32,
    /// Accounts found with no generation that logs in (their records paused).
    pub session_expired: u32,
    /// Browsers relaunched after a crash.
    pub relaunched: u32,
    /// Loads of the whole app by the browsers that sent (the first load of each, and each chat
    /// that could not be opened in place).
    pub full_loads: u32,
    /// Opening the session (restore + launch + check).
    pub open_ms: u128,
    /// Fetching and unpacking generations.
    pub restore_ms: u128,
    /// Launching browsers and checking their session.
    pub launch_ms: u128,
    /// Sending, from the claim to the recorded SENT.
    pub send_ms: u128,
    /// Receipts recorded (delivered or read), of messages just sent and earlier ones.
    pub receipts: u32,
}

fn ms(v: u128) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

impl Tally {
    /// Writes the metric line of a batch of `records` records that took `took`.
    pub fn log(&self, records: usize, took: Duration) {
        let per_message = if self.sent > 0 { self.send_ms / u128::from(self.sent) } else { 0 };
        tracing::info!(
            records,
            sent = self.sent,
            failed = self.failed,
            paused = self.paused,
            held = self.held,
            acked = self.acked,
            retried = self.retried,
            reissued = self.reissued,
            relaunched = self.relaunched,
            restored_from_backup = self.restored_from_backup,
            session_expired = self.session_expired,
            full_loads = self.full_loads,
            receipts = self.receipts,
            open_ms = ms(self.open_ms),
            restore_ms = ms(self.restore_ms),
            launch_ms = ms(self.launch_ms),
            ms_per_message = ms(per_message),
            ms = ms(took.as_millis()),
            "batch done"
        );
        emit(&self.metrics(per_message));
    }

    /// The batch's metrics; `ms_per_message` only when something was sent.
    fn metrics(&self, per_message: u128) -> Vec<Metric<'static>> {
        let count = |name, value: u32| Metric { name, value: f64::from(value), unit: Unit::Count };
        let mut metrics = vec![
            count("sent", self.sent),
            count("failed", self.failed),
            count("paused", self.paused),
            count("held", self.held),
            count("retried", self.retried),
            count("relaunched", self.relaunched),
            count("restored_from_backup", self.restored_from_backup),
            count("session_expired", self.session_expired),
            count("receipts", self.receipts),
            Metric { name: "open_ms", value: ms(self.open_ms) as f64, unit: Unit::Milliseconds },
        ];
        if self.sent > 0 {
            metrics.push(Metric {
                name: "ms_per_message",
                value: ms(per_message) as f64,
                unit: Unit::Milliseconds,
            });
        }
        metrics
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_from_backup_and_an_expired_session_are_counted_in_the_metric_line() {
        let tally = Tally { restored_from_backup: 1, session_expired: 1, ..Tally::default() };
        let metrics = tally.metrics(0);
        let value = |name: &str| metrics.iter().find(|m| m.name == name).map(|m| m.value);
        assert_eq!((value("restored_from_backup"), value("session_expired")), (Some(1.0), Some(1.0)));
        assert_eq!(value("ms_per_message"), None, "nothing sent, no time per message");
    }
}
