//! The in-memory campaign store, for unit tests of pure logic only (integration tests use the
//! DynamoDB adapter against the local emulator); like that adapter it asks `domain::lifecycle` for
//! every transition. Here the thin `CampaignStore` impl; in `state` the state and its one way of
//! moving a row, in `campaigns` new campaigns, in `receipts` links and receipts, in `opt_outs` lists.
//!
//! The impl stays in one file because it is one concept: the `CampaignStore` trait, method by
//! method, each a few lines that lock the state and call into the modules above (a trait impl
//! cannot be split across files without wrappers that would only repeat its signatures).

use crate::model::{
    CampaignPosition, CampaignView, Census, Idempotency, IdempotencyClaim, MessageEntry, MessageRow,
    NewCampaign, PauseReason, SentLink,
};
use crate::{CampaignStore, Claim, Finish, Lease, StoreError, Transition};
use async_trait::async_trait;
use domain::lifecycle::hold::Hold;
use domain::lifecycle::message::{self, ClaimDecision, ClaimKind, ClaimWindow};
use domain::{
    AccountId, CampaignId, Counters, ErrorCode, MessageSeq, MessageStatus, PhoneNumber, QueuedMessage,
    Receipt, SendAt, WaMessageId,
};
use std::collections::BTreeSet;
use std::sync::Mutex;

mod campaigns;
mod drift;
mod opt_outs;
mod receipts;
mod state;

use state::{Applied, Memory};

/// A campaign store in a map.
#[derive(Default)]
pub struct InMemoryCampaignStore {
    inner: Mutex<Memory>,
}

impl InMemoryCampaignStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl CampaignStore for InMemoryCampaignStore {
    async fn create_campaign(&self, c: &NewCampaign) -> Result<(), StoreError> {
        self.lock().create(c);
        Ok(())
    }

    async fn campaign(&self, id: &CampaignId) -> Result<Option<CampaignView>, StoreError> {
        Ok(self.lock().campaigns.get(id).cloned())
    }

    async fn message(&self, id: &CampaignId, seq: MessageSeq) -> Result<Option<MessageRow>, StoreError> {
        Ok(self.lock().messages.get(&(id.clone(), seq)).cloned())
    }

    async fn pause_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        reason: &PauseReason,
    ) -> Result<Transition, StoreError> {
        let mut m = self.lock();
        let Some(row) = m.messages.get(&(id.clone(), seq)).cloned() else { return Ok(Transition::Missing) };
        let cancelled = m.cancelled(id).unwrap_or(false);
        let Some(mv) = message::pause(&row.state(), reason.code, cancelled) else {
            return Ok(Transition::NotApplicable);
        };
        let pause = mv.pause.map(|code| (code, reason.hint.clone()));
        if m.apply(id, seq, &mv, pause, &reason.at) != Applied::Done {
            return Ok(Transition::NotApplicable);
        }
        if mv.settles {
            m.complete_if_done(id, &reason.at);
        }
        Ok(Transition::Applied)
    }

    async fn resume_campaign(
        &self,
        id: &CampaignId,
        at: &str,
        reopen_completed: bool,
    ) -> Result<Transition, StoreError> {
        Ok(self.lock().resume(id, at, reopen_completed))
    }

    async fn release_campaign(
        &self,
        id: &CampaignId,
        at: &str,
        due_by: i64,
    ) -> Result<Transition, StoreError> {
        Ok(self.lock().release(id, at, due_by))
    }

    async fn reschedule_campaign(
        &self,
        id: &CampaignId,
        send_at: SendAt,
        at: &str,
    ) -> Result<Transition, StoreError> {
        Ok(self.lock().reschedule(id, send_at, at))
    }

    async fn messages_in_status(
        &self,
        id: &CampaignId,
        status: MessageStatus,
        after: Option<MessageSeq>,
        limit: u32,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let m = self.lock();
        let mut rows: Vec<MessageRow> = m
            .messages
            .values()
            .filter(|r| &r.campaign == id && r.status == status && after.is_none_or(|a| r.seq > a))
            .cloned()
            .collect();
        rows.sort_by_key(|r| r.seq);
        rows.truncate(limit as usize);
        Ok(rows)
    }

    async fn list_messages(
        &self,
        id: &CampaignId,
        status: Option<MessageStatus>,
        after: Option<MessageSeq>,
        limit: u32,
    ) -> Result<Vec<MessageEntry>, StoreError> {
        let m = self.lock();
        let mut rows: Vec<MessageEntry> = m
            .messages
            .values()
            .filter(|r| {
                &r.campaign == id && status.is_none_or(|s| r.status == s) && after.is_none_or(|a| r.seq > a)
            })
            .map(|r| {
                let (delivered_at, read_at) =
                    m.receipts.get(&(id.clone(), r.seq)).cloned().unwrap_or_default();
                MessageEntry {
                    row: r.clone(),
                    updated_at: m.moved_at.get(&(id.clone(), r.seq)).cloned(),
                    sent_at: None,
                    delivered_at,
                    read_at,
                }
            })
            .collect();
        rows.sort_by_key(|e| e.row.seq);
        rows.truncate(limit as usize);
        Ok(rows)
    }

    async fn requeue_messages(
        &self,
        id: &CampaignId,
        rows: &[MessageRow],
        from: MessageStatus,
        at: &str,
    ) -> Result<Vec<QueuedMessage>, StoreError> {
        let mut m = self.lock();
        // Decided on the rows as they are now (the caller's copies may be stale; so may a page
        // read from the status index, which the moves' conditions guard against).
        let current: Vec<MessageRow> =
            rows.iter().filter_map(|r| m.messages.get(&(id.clone(), r.seq)).cloned()).collect();
        let moved = m.move_rows(id, &current, at, |r| message::requeue(&r.state(), from));
        Ok(moved.into_iter().map(|r| QueuedMessage::new(id.clone(), r.seq, r.account, r.round)).collect())
    }

    async fn claim_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        lease: &Lease,
    ) -> Result<Claim, StoreError> {
        let mut m = self.lock();
        let Some(row) = m.messages.get(&(id.clone(), seq)).cloned() else { return Ok(Claim::Missing) };
        let Some(cancelled) = m.cancelled(id) else { return Ok(Claim::Settled) };
        let window = ClaimWindow { now: lease.now, until: lease.until };
        match message::claim(&row.state(), cancelled, window) {
            ClaimDecision::Busy { lease_until } => Ok(Claim::Busy { lease_until }),
            ClaimDecision::Settled => {
                m.complete_if_done(id, &lease.at);
                Ok(Claim::Settled)
            }
            ClaimDecision::Cancel(mv) => {
                m.apply(id, seq, &mv, None, &lease.at);
                Ok(Claim::Settled)
            }
            ClaimDecision::Take(mv, kind) => {
                if m.apply(id, seq, &mv, None, &lease.at) != Applied::Done {
                    return Err(StoreError::Contended(format!("{id}#{seq}")));
                }
                let row = row.moved(&mv);
                Ok(match kind {
                    ClaimKind::Fresh => Claim::Fresh(row),
                    ClaimKind::Ambiguous => Claim::Ambiguous(row),
                    ClaimKind::VerifyOnly => Claim::VerifyOnly(row),
                })
            }
        }
    }

    async fn finish_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        attempt: u32,
        finish: &Finish,
        at: &str,
    ) -> Result<Transition, StoreError> {
        let mut m = self.lock();
        let Some(row) = m.messages.get(&(id.clone(), seq)).cloned() else {
            return Ok(Transition::NotApplicable);
        };
        let cancelled = m.cancelled(id).unwrap_or(false);
        let Some(mv) = message::finish(&row.state(), attempt, *finish, cancelled) else {
            return Ok(Transition::NotApplicable);
        };
        let pause = mv.pause.map(|code| (code, code.hint_for(row.account.as_str(), id.as_str())));
        if m.apply(id, seq, &mv, pause, at) != Applied::Done {
            return Ok(Transition::NotApplicable);
        }
        if mv.settles {
            m.complete_if_done(id, at);
        }
        Ok(Transition::Applied)
    }

    async fn hold_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        hold: &Hold,
    ) -> Result<Transition, StoreError> {
        let mut m = self.lock();
        let Some(row) = m.messages.get_mut(&(id.clone(), seq)) else { return Ok(Transition::Missing) };
        if !domain::lifecycle::hold::may_hold(&row.state()) {
            return Ok(Transition::NotApplicable);
        }
        row.hold = Some(*hold);
        if let Some(c) = m.campaigns.get_mut(id)
            && c.waiting_until.is_none_or(|w| w > hold.until)
        {
            c.waiting_until = Some(hold.until);
        }
        Ok(Transition::Applied)
    }

    async fn end_hold(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        hold: &Hold,
    ) -> Result<Transition, StoreError> {
        let mut m = self.lock();
        match m.messages.get_mut(&(id.clone(), seq)) {
            Some(row) if row.hold.as_ref() == Some(hold) => {
                row.hold = None;
                Ok(Transition::Applied)
            }
            Some(_) => Ok(Transition::NotApplicable),
            None => Ok(Transition::Missing),
        }
    }

    async fn note_waiting(
        &self,
        id: &CampaignId,
        seen: Option<i64>,
        next: Option<i64>,
    ) -> Result<Transition, StoreError> {
        let mut m = self.lock();
        Ok(match m.campaigns.get_mut(id) {
            Some(c) if c.waiting_until == seen => {
                c.waiting_until = next;
                Transition::Applied
            }
            Some(_) => Transition::NotApplicable,
            None => Transition::Missing,
        })
    }

    async fn link_sent(&self, link: &SentLink, _expires_at: i64) -> Result<(), StoreError> {
        self.lock().link(link);
        Ok(())
    }

    async fn sent_links(
        &self,
        account: &AccountId,
        wa_ids: &[WaMessageId],
    ) -> Result<Vec<SentLink>, StoreError> {
        Ok(self.lock().links_of(account, wa_ids))
    }

    async fn unread_links(
        &self,
        account: &AccountId,
        since: i64,
        max: usize,
    ) -> Result<Vec<SentLink>, StoreError> {
        Ok(self.lock().unread(account, since, max))
    }

    async fn record_receipt(
        &self,
        link: &SentLink,
        receipt: Receipt,
        at: &str,
    ) -> Result<Transition, StoreError> {
        Ok(self.lock().receipt(link, receipt, at))
    }

    async fn add_opt_out(
        &self,
        account: &AccountId,
        phone: &PhoneNumber,
        _at: &str,
    ) -> Result<(), StoreError> {
        self.lock().opt_out(account, phone);
        Ok(())
    }

    async fn remove_opt_out(&self, account: &AccountId, phone: &PhoneNumber) -> Result<bool, StoreError> {
        Ok(self.lock().opt_in(account, phone))
    }

    async fn opted_out(
        &self,
        account: &AccountId,
        phones: &[String],
    ) -> Result<BTreeSet<String>, StoreError> {
        Ok(self.lock().opted_out_among(account, phones))
    }

    async fn record_notice(&self, id: &CampaignId, notice: ErrorCode, at: &str) -> Result<(), StoreError> {
        if let Some(c) = self.lock().campaigns.get_mut(id) {
            c.notice = Some(notice);
            c.updated_at = at.to_owned();
        }
        Ok(())
    }

    async fn settle_campaign(&self, id: &CampaignId, at: &str) -> Result<(), StoreError> {
        self.lock().settle(id, at);
        Ok(())
    }

    async fn cancel_campaign(&self, id: &CampaignId, at: &str) -> Result<Transition, StoreError> {
        Ok(self.lock().cancel(id, at))
    }

    async fn cancel_messages(
        &self,
        id: &CampaignId,
        rows: &[MessageRow],
        from: MessageStatus,
        at: &str,
    ) -> Result<usize, StoreError> {
        let mut m = self.lock();
        let current: Vec<MessageRow> =
            rows.iter().filter_map(|r| m.messages.get(&(id.clone(), r.seq)).cloned()).collect();
        Ok(m.move_rows(id, &current, at, |r| message::cancel(&r.state(), from)).len())
    }

    async fn account_campaigns(
        &self,
        account: &AccountId,
        after: Option<&CampaignPosition>,
        limit: u32,
    ) -> Result<Vec<CampaignView>, StoreError> {
        let order = |c: &CampaignView| (crate::model::created_unix_nanos(&c.created_at), c.id.clone());
        let after = after.map(|p| (p.created_unix_nanos, p.id.clone()));
        let m = self.lock();
        let mut mine: Vec<&CampaignView> = m
            .campaigns
            .values()
            .filter(|c| &c.account == account && after.as_ref().is_none_or(|a| &order(c) < a))
            .collect();
        mine.sort_by_key(|c| std::cmp::Reverse(order(c)));
        Ok(mine.into_iter().take(limit as usize).cloned().collect())
    }

    async fn open_campaigns(
        &self,
        after: Option<&CampaignId>,
        limit: u32,
    ) -> Result<Vec<CampaignId>, StoreError> {
        let m = self.lock();
        let ids = m.open.keys().filter(|id| after.is_none_or(|a| id.as_str() > a.as_str()));
        Ok(ids.take(limit as usize).cloned().collect())
    }

    async fn close_listing(&self, id: &CampaignId) -> Result<Transition, StoreError> {
        Ok(self.lock().close_listing(id))
    }

    async fn drop_orphan_listing(
        &self,
        id: &CampaignId,
        listed_before: &str,
    ) -> Result<Transition, StoreError> {
        Ok(self.lock().drop_orphan_listing(id, listed_before))
    }

    async fn census(&self, id: &CampaignId) -> Result<Option<Census>, StoreError> {
        let rows = self.list_messages(id, None, None, u32::MAX).await?;
        let m = self.lock();
        let Some(view) = m.campaigns.get(id).cloned() else { return Ok(None) };
        let mut counted = Counters::of_rows(rows.iter().map(|e| e.row.status));
        rows.iter().for_each(|e| counted.add_receipt(e.receipt()));
        Ok(Some(Census {
            counted,
            open_rows: rows.into_iter().filter(|e| !e.row.status.is_final()).collect(),
            issuing_since: m.issuing.get(id).copied(),
            handed_off_from: m.handed_off.get(id).copied(),
            moving: false,
            view,
        }))
    }

    async fn repair_counters(
        &self,
        seen: &CampaignView,
        counted: &Counters,
        at: &str,
    ) -> Result<Transition, StoreError> {
        let mut m = self.lock();
        match m.campaigns.get_mut(&seen.id) {
            Some(c) if c.updated_at == seen.updated_at => {
                c.counts = *counted;
                c.updated_at = at.to_owned();
                Ok(Transition::Applied)
            }
            _ => Ok(Transition::NotApplicable),
        }
    }

    async fn mark_issuing(&self, id: &CampaignId, since: i64) -> Result<(), StoreError> {
        self.lock().issuing.insert(id.clone(), since);
        Ok(())
    }

    async fn mark_issued(&self, id: &CampaignId, since: i64) -> Result<(), StoreError> {
        let mut m = self.lock();
        if m.issuing.get(id) == Some(&since) {
            m.issuing.remove(id);
            m.handed_off.remove(id);
        }
        Ok(())
    }

    async fn hand_off_issuing(
        &self,
        id: &CampaignId,
        since: i64,
        from: MessageSeq,
    ) -> Result<(), StoreError> {
        let mut m = self.lock();
        if m.issuing.get(id) == Some(&since) {
            m.handed_off.insert(id.clone(), from);
        }
        Ok(())
    }

    async fn claim_idempotency(&self, claim: &IdempotencyClaim) -> Result<Idempotency, StoreError> {
        Ok(self.lock().claim_idempotency(claim))
    }

    async fn release_idempotency(&self, key_hash: &str) -> Result<(), StoreError> {
        if let Some((claim, false)) = self.lock().idempotency.get_mut(key_hash) {
            claim.until = 0;
        }
        Ok(())
    }

    async fn finish_idempotency(&self, key_hash: &str) -> Result<(), StoreError> {
        if let Some(entry) = self.lock().idempotency.get_mut(key_hash) {
            entry.1 = true;
        }
        Ok(())
    }
}
