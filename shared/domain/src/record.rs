//! The queue record: what start_campaign, resume and the sender agree a queued message names —
//! one row of one campaign, and how often it was queued again.

use crate::{AccountId, CampaignId, MessageSeq};
use serde::{Deserialize, Serialize};

/// The queue record that points a sender at one message row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedMessage {
    /// Campaign.
    pub campaign_id: CampaignId,
    /// Row number.
    pub seq: MessageSeq,
    /// Sending account (the FIFO group).
    pub account: AccountId,
    /// How often the row was queued again by a resume (0 for the first time).
    #[serde(default)]
    pub round: u32,
}

impl QueuedMessage {
    /// FIFO deduplication id: the same row is never queued twice within the dedup window, while a
    /// resume (a new round) is never swallowed as a duplicate of the first queueing.
    pub fn dedup_id(&self) -> String {
        format!("{}-{}-{}", self.campaign_id, self.seq.sort_key(), self.round)
    }
}
