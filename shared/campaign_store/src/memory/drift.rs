//! What a lost write or a crash between two writes leaves behind, made on purpose: for tests of
//! the reconciler's repairs.

use super::InMemoryCampaignStore;
use domain::{CampaignId, Counters, MessageSeq, MessageStatus};

impl InMemoryCampaignStore {
    /// Overwrites a campaign's counters, as a lost write would leave them (for tests of the
    /// reconciler's drift repair).
    pub fn set_counters(&self, id: &CampaignId, counts: Counters) {
        if let Some(c) = self.lock().campaigns.get_mut(id) {
            c.counts = counts;
        }
    }

    /// Overwrites a row's status without its counters, as a crash between two writes would.
    pub fn set_status(&self, id: &CampaignId, seq: MessageSeq, status: MessageStatus) {
        if let Some(r) = self.lock().messages.get_mut(&(id.clone(), seq)) {
            r.status = status;
        }
    }
}
