//! The in-memory store's state and its one way of carrying out a decided move: atomically, the
//! row and the campaign's counters together, refused when the row or the campaign moved.

use crate::Transition;
use crate::model::{CampaignView, Idempotency, IdempotencyClaim, MessageRow, SentLink};
use domain::lifecycle::{Move, campaign};
use domain::{AccountId, CampaignId, CampaignStatus, ErrorCode, MessageSeq, WaMessageId};
use std::collections::{BTreeMap, HashMap};

#[derive(Default)]
pub(super) struct Memory {
    pub(super) campaigns: HashMap<CampaignId, CampaignView>,
    pub(super) messages: HashMap<(CampaignId, MessageSeq), MessageRow>,
    /// key hash → (claim, done)
    pub(super) idempotency: HashMap<String, (IdempotencyClaim, bool)>,
    /// When each row last moved.
    pub(super) moved_at: HashMap<(CampaignId, MessageSeq), String>,
    /// The open listing.
    pub(super) open: BTreeMap<CampaignId, String>,
    /// Campaigns whose records a start or resume has not finished queueing, since when.
    pub(super) issuing: HashMap<CampaignId, i64>,
    /// Each row's receipt times: delivered, read.
    pub(super) receipts: HashMap<(CampaignId, MessageSeq), (Option<String>, Option<String>)>,
    /// Sent messages' links to their rows, by account and WhatsApp id.
    pub(super) links: HashMap<(AccountId, WaMessageId), SentLink>,
    /// Campaigns whose start handed the queueing of its rows from this one on to the reconciler.
    pub(super) handed_off: HashMap<CampaignId, MessageSeq>,
    /// Every account's opt-out list: (account, E.164).
    pub(super) opt_outs: std::collections::BTreeSet<(AccountId, String)>,
}

/// How carrying out a move ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Applied {
    Done,
    RowMoved,
    CampaignRefused,
}

impl Memory {
    /// Carries out `mv` on row `seq` of campaign `id` as one atomic step: the row must still be
    /// where the move expects it, the campaign must allow it; the counters move with the row.
    pub(super) fn apply(
        &mut self,
        id: &CampaignId,
        seq: MessageSeq,
        mv: &Move,
        pause: Option<(ErrorCode, String)>,
        at: &str,
    ) -> Applied {
        let Some(row) = self.messages.get(&(id.clone(), seq)) else { return Applied::RowMoved };
        if !mv.expects(&row.state()) {
            return Applied::RowMoved;
        }
        let Some(c) = self.campaigns.get_mut(id) else { return Applied::CampaignRefused };
        if !mv.guard.allows(c.status == CampaignStatus::Cancelled) {
            return Applied::CampaignRefused;
        }
        if mv.counts() {
            c.counts.add(mv.from, -1);
            c.counts.add(mv.to, 1);
        }
        if let Some((code, hint)) = pause {
            c.status = CampaignStatus::Paused;
            c.reason = Some(code);
            c.hint = Some(hint);
        }
        c.updated_at = at.to_owned();
        let moved = row.moved(mv);
        self.messages.insert((id.clone(), seq), moved);
        self.moved_at.insert((id.clone(), seq), at.to_owned());
        Applied::Done
    }

    pub(super) fn cancelled(&self, id: &CampaignId) -> Option<bool> {
        self.campaigns.get(id).map(|c| c.status == CampaignStatus::Cancelled)
    }

    pub(super) fn complete_if_done(&mut self, id: &CampaignId, at: &str) {
        if let Some(c) = self.campaigns.get_mut(id)
            && campaign::completes(c.status, &c.counts)
        {
            c.status = CampaignStatus::Completed;
            c.updated_at = at.to_owned();
            c.reason = None;
            c.hint = None;
            self.open.remove(id);
        }
    }

    /// Carries out `decide`'s move on each row it gives one; returns the rows that moved.
    pub(super) fn move_rows(
        &mut self,
        id: &CampaignId,
        rows: &[MessageRow],
        at: &str,
        decide: impl Fn(&MessageRow) -> Option<Move>,
    ) -> Vec<MessageRow> {
        let mut moved = Vec::new();
        for r in rows {
            let Some(mv) = decide(r) else { continue };
            match self.apply(id, r.seq, &mv, None, at) {
                Applied::Done => moved.extend(self.messages.get(&(id.clone(), r.seq)).cloned()),
                Applied::RowMoved => {}
                Applied::CampaignRefused => break,
            }
        }
        moved
    }

    /// Claims an `Idempotency-Key` as the DynamoDB adapter does (see `Idempotency`).
    pub(super) fn claim_idempotency(&mut self, claim: &IdempotencyClaim) -> Idempotency {
        match self.idempotency.get(&claim.key_hash) {
            Some((old, _)) if old.fingerprint != claim.fingerprint => Idempotency::Mismatch,
            Some((old, true)) => Idempotency::Done { campaign_id: old.campaign_id.clone() },
            Some((old, false)) if old.until >= claim.now => Idempotency::InProgress { until: old.until },
            Some((old, false)) => {
                let campaign_id = old.campaign_id.clone();
                let taken = IdempotencyClaim { campaign_id: campaign_id.clone(), ..claim.clone() };
                self.idempotency.insert(claim.key_hash.clone(), (taken, false));
                Idempotency::Owned { campaign_id }
            }
            None => {
                self.idempotency.insert(claim.key_hash.clone(), (claim.clone(), false));
                Idempotency::Owned { campaign_id: claim.campaign_id.clone() }
            }
        }
    }

    /// Takes the listing of a campaign that is over with nothing open off.
    pub(super) fn close_listing(&mut self, id: &CampaignId) -> Transition {
        let over =
            self.campaigns.get(id).is_some_and(|c| campaign::is_terminal(c.status) && c.counts.open() == 0);
        if over && self.open.remove(id).is_some() { Transition::Applied } else { Transition::NotApplicable }
    }

    /// Takes the listing of a campaign without a campaign row, listed before `before`, off.
    pub(super) fn drop_orphan_listing(&mut self, id: &CampaignId, before: &str) -> Transition {
        let orphan = !self.campaigns.contains_key(id)
            && self.open.get(id).is_some_and(|since| since.as_str() < before);
        if orphan && self.open.remove(id).is_some() { Transition::Applied } else { Transition::NotApplicable }
    }
}
