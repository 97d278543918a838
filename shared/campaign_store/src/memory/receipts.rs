//! The in-memory store's receipts: links from WhatsApp's message ids to rows, and the rows'
//! delivered and read times with the campaign's counters, forward only as the DynamoDB adapter.

use super::state::Memory;
use crate::Transition;
use crate::model::SentLink;
use domain::{AccountId, MessageStatus, Receipt, WaMessageId};

impl Memory {
    pub(super) fn link(&mut self, link: &SentLink) {
        self.links.insert((link.account.clone(), link.wa_id.clone()), link.clone());
    }

    pub(super) fn links_of(&self, account: &AccountId, wa_ids: &[WaMessageId]) -> Vec<SentLink> {
        wa_ids.iter().filter_map(|wa_id| self.links.get(&(account.clone(), wa_id.clone())).cloned()).collect()
    }

    pub(super) fn unread(&self, account: &AccountId, since: i64, max: usize) -> Vec<SentLink> {
        self.links
            .values()
            .filter(|l| &l.account == account && l.sent_at >= since && l.receipt != Some(Receipt::Read))
            .take(max)
            .cloned()
            .collect()
    }

    pub(super) fn receipt(&mut self, link: &SentLink, receipt: Receipt, at: &str) -> Transition {
        let row = (link.campaign.clone(), link.seq);
        if self.messages.get(&row).is_none_or(|r| r.status != MessageStatus::Sent) {
            return Transition::NotApplicable;
        }
        let times = self.receipts.entry(row).or_default();
        let mut added = (false, false);
        if times.0.is_none() {
            times.0 = Some(at.to_owned());
            added.0 = true;
        }
        if receipt == Receipt::Read && times.1.is_none() {
            times.1 = Some(at.to_owned());
            added.1 = true;
        }
        let furthest = if times.1.is_some() { Receipt::Read } else { Receipt::Delivered };
        if let Some(l) = self.links.get_mut(&(link.account.clone(), link.wa_id.clone())) {
            l.receipt = Some(furthest);
        }
        if let Some(c) = self.campaigns.get_mut(&link.campaign) {
            c.counts.delivered += u64::from(added.0);
            c.counts.read += u64::from(added.1);
            c.updated_at = at.to_owned();
        }
        if added.0 || added.1 { Transition::Applied } else { Transition::NotApplicable }
    }
}
