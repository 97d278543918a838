//! What one run did: counts, written as one log line and one CloudWatch metric (embedded metric
//! format), so drift and stranded rows show without anyone reading the rows.

use serde::Serialize;

/// Counts of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Campaigns looked at.
    pub campaigns: u64,
    /// Campaigns whose counters differed from their rows.
    pub drifted: u64,
    /// Of those, campaigns whose counters were repaired from the rows (the rest moved meanwhile
    /// and are looked at again next run).
    pub repaired: u64,
    /// Records issued again for stranded rows.
    pub reissued: u64,
    /// Records queued for rows a start handed over (its request's time ran short).
    pub handed_over: u64,
    /// Paused rows of running campaigns (missed by a resume) queued again.
    pub requeued: u64,
    /// Queued or paused rows of cancelled campaigns (missed by a cancel) ended CANCELLED.
    pub cancelled: u64,
    /// Dead-lettered records issued again.
    pub dead_letters_back: u64,
    /// Dead-lettered records dropped (their rows needed none).
    pub dead_letters_dropped: u64,
    /// Scheduled campaigns started because their time had come.
    pub released: u64,
    /// Rows held for their recipient's sending window that got their record again.
    pub unheld: u64,
    /// Campaigns completed by this run.
    pub completed: u64,
    /// Campaigns taken off the open listing.
    pub unlisted: u64,
}

impl Report {
    /// Writes the run's log line.
    pub fn log(&self) {
        tracing::info!(
            campaigns = self.campaigns,
            drifted = self.drifted,
            repaired = self.repaired,
            reissued = self.reissued,
            handed_over = self.handed_over,
            requeued = self.requeued,
            cancelled = self.cancelled,
            dead_letters_back = self.dead_letters_back,
            dead_letters_dropped = self.dead_letters_dropped,
            released = self.released,
            unheld = self.unheld,
            completed = self.completed,
            unlisted = self.unlisted,
            "reconciled"
        );
    }

    /// The run as a CloudWatch embedded-metric-format document (namespace `wacamp`), for one line
    /// on stdout: `Drift` (campaigns whose counters differed), `Reissued`, `DeadLettersBack`.
    pub fn metric(&self, timestamp_ms: i64) -> serde_json::Value {
        serde_json::json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": "wacamp",
                    "Dimensions": [[]],
                    "Metrics": [
                        {"Name": "Drift", "Unit": "Count"},
                        {"Name": "Reissued", "Unit": "Count"},
                        {"Name": "DeadLettersBack", "Unit": "Count"},
                    ],
                }],
            },
            "Drift": self.drifted,
            "Reissued": self.reissued,
            "DeadLettersBack": self.dead_letters_back,
        })
    }
}
