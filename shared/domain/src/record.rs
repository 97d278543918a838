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
    /// How often this record was issued again in place of one that was about to reach the
    /// dead-letter queue while waiting out trouble that passes (0 for the first issue).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hop: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl QueuedMessage {
    /// A record for row `seq` of `campaign_id`, resume round `round`, first issue.
    pub fn new(campaign_id: CampaignId, seq: MessageSeq, account: AccountId, round: u32) -> Self {
        Self { campaign_id, seq, account, round, hop: 0 }
    }

    /// The same record issued again (a fresh receive count), see [`QueuedMessage::hop`].
    pub fn reissued(&self) -> Self {
        Self { hop: self.hop + 1, ..self.clone() }
    }

    /// FIFO deduplication id: the same row is never queued twice within the dedup window, while a
    /// resume (a new round) or a re-issue (a new hop) is never swallowed as a duplicate.
    pub fn dedup_id(&self) -> String {
        match self.hop {
            0 => format!("{}-{}-{}", self.campaign_id, self.seq.sort_key(), self.round),
            hop => format!("{}-{}-{}-h{hop}", self.campaign_id, self.seq.sort_key(), self.round),
        }
    }
}
