//! A campaign's status, the list of an account's campaigns, and the answers of resume, cancel
//! and rescheduling.

use domain::{AccountId, CampaignId, CampaignStatus, Counters, ErrorCode};
use serde::{Deserialize, Serialize};

/// `GET /campaigns/{id}`: the campaign, its counts and the share of final messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignStatusBody {
    /// Its id.
    pub campaign_id: CampaignId,
    /// Operator's name for it.
    pub name: String,
    /// Sending account.
    pub account: AccountId,
    /// Where it stands.
    pub status: CampaignStatus,
    /// Per-status counts.
    pub counts: Counters,
    /// Share of messages in a final state (sent, failed, cancelled), in percent, one decimal.
    pub percent: f64,
    /// Why it is paused.
    pub reason: Option<ErrorCode>,
    /// What to run to continue.
    pub hint: Option<String>,
    /// Something that needed no action (e.g. SESSION_RESTORED_FROM_BACKUP).
    pub notice: Option<ErrorCode>,
    /// When it starts (SCHEDULED) or was scheduled to start, RFC 3339 UTC; null when it started
    /// at once.
    #[serde(default)]
    pub send_at: Option<String>,
    /// While queued messages wait for their recipients' sending window (QUIET_HOURS): when the
    /// earliest of those windows opens, RFC 3339 UTC; null when none waits.
    #[serde(default)]
    pub waiting_until: Option<String>,
    /// The files its messages carry (checked and copied when it was accepted).
    #[serde(default)]
    pub media: Vec<domain::Media>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

impl CampaignStatusBody {
    /// Messages in a final state.
    pub fn done(&self) -> u64 {
        Self::done_of(&self.counts)
    }

    fn done_of(counts: &Counters) -> u64 {
        counts.sent + counts.failed + counts.cancelled
    }

    /// Nothing more happens without the operator: nothing is queued or being sent, and it is
    /// not waiting for its start time.
    pub fn settled(&self) -> bool {
        self.status != CampaignStatus::Scheduled && self.counts.queued == 0 && self.counts.sending == 0
    }

    /// The share of final messages, in percent floored to one decimal (100 for an empty campaign).
    pub fn percent_of(counts: &Counters) -> f64 {
        let done = Self::done_of(counts);
        if counts.total == 0 { 100.0 } else { (done as f64 * 1000.0 / counts.total as f64).floor() / 10.0 }
    }
}

/// `GET /campaigns?account=`: an account's campaigns, newest first, a page at a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignsPage {
    /// The account.
    pub account: AccountId,
    /// Campaigns on this page, newest first.
    pub items: Vec<CampaignStatusBody>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// `POST /campaigns/{id}/resume`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeResult {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// Where it stands now.
    pub status: CampaignStatus,
    /// Messages queued again.
    pub requeued: u64,
    /// Of those, records sent again for rows whose earlier record may be lost.
    pub reissued: u64,
}

/// `PATCH /campaigns/{id}`: a scheduled campaign's start time moved, or (`null`) the campaign
/// started at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    /// The new start time (RFC 3339 with an offset, in the future), or null to start now.
    pub send_at: Option<String>,
}

/// The answer to `PATCH /campaigns/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleResult {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// Where it stands now (SCHEDULED, or RUNNING once started).
    pub status: CampaignStatus,
    /// Its start time, RFC 3339 UTC.
    pub send_at: Option<String>,
    /// Messages queued (when it started now).
    pub requeued: u64,
}

/// `POST /campaigns/{id}/cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelResult {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// Where it stands now.
    pub status: CampaignStatus,
    /// Messages that will not be sent.
    pub cancelled: u64,
    /// Per-status counts after the cancel.
    pub counts: Counters,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_percentage_is_floored_to_one_decimal_and_an_empty_campaign_is_complete() {
        let c = |total, sent, failed| Counters { total, sent, failed, ..Counters::default() };
        assert_eq!(CampaignStatusBody::percent_of(&c(3, 1, 0)), 33.3);
        assert_eq!(CampaignStatusBody::percent_of(&c(3, 2, 0)), 66.6);
        assert_eq!(CampaignStatusBody::percent_of(&c(3, 2, 1)), 100.0);
        assert_eq!(CampaignStatusBody::percent_of(&c(0, 0, 0)), 100.0);
    }
}
