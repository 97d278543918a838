//! The in-memory campaign store, for unit tests of pure logic only; integration tests use the
//! DynamoDB adapter against the local emulator.

use crate::model::{
    CampaignView, Counters, Idempotency, IdempotencyClaim, MessageEntry, MessageRow, NewCampaign, PauseReason,
};
use crate::{CampaignStore, Claim, Finish, Lease, StoreError, Transition};
use async_trait::async_trait;
use domain::{CampaignId, CampaignStatus, MessageSeq, MessageStatus, QueuedMessage};
use std::collections::HashMap;
use std::sync::Mutex;

/// A campaign store in a map.
#[derive(Default)]
pub struct InMemoryCampaignStore {
    inner: Mutex<Memory>,
}

#[derive(Default)]
struct Memory {
    campaigns: HashMap<CampaignId, CampaignView>,
    messages: HashMap<(CampaignId, MessageSeq), MessageRow>,
    /// key hash → (claim, done)
    idempotency: HashMap<String, (IdempotencyClaim, bool)>,
}

impl InMemoryCampaignStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn bump(c: &mut Counters, status: MessageStatus, delta: i64) {
    let f = match status {
        MessageStatus::Queued => &mut c.queued,
        MessageStatus::Sending => &mut c.sending,
        MessageStatus::Sent => &mut c.sent,
        MessageStatus::Failed => &mut c.failed,
        MessageStatus::Paused => &mut c.paused,
        MessageStatus::Cancelled => &mut c.cancelled,
    };
    *f = f.saturating_add_signed(delta);
}

#[async_trait]
impl CampaignStore for InMemoryCampaignStore {
    async fn create_campaign(&self, c: &NewCampaign) -> Result<(), StoreError> {
        let mut m = self.lock();
        let mut counts = Counters { total: c.messages.len() as u64, ..Counters::default() };
        for msg in &c.messages {
            let status = msg.initial_status(c.paused.is_some());
            bump(&mut counts, status, 1);
            let row = MessageRow {
                campaign: c.id.clone(),
                seq: msg.seq,
                account: c.account.clone(),
                phone: match &msg.phone {
                    Ok(p) => p.e164().to_owned(),
                    Err(raw) => raw.clone(),
                },
                status,
                attempts: 0,
                error: match (&msg.phone, &c.paused) {
                    (Err(_), _) => Some(domain::ErrorCode::InvalidPhone),
                    (Ok(_), Some(p)) => Some(p.code),
                    (Ok(_), None) => None,
                },
                round: 0,
                lease_until: 0,
                vars: msg.vars.clone(),
                verify_first: false,
            };
            m.messages.insert((c.id.clone(), msg.seq), row);
        }
        m.campaigns.insert(
            c.id.clone(),
            CampaignView {
                id: c.id.clone(),
                name: c.name.clone(),
                account: c.account.clone(),
                status: match &c.paused {
                    // Nothing to send (every number invalid): finished from the start.
                    _ if counts.queued == 0 && counts.paused == 0 => CampaignStatus::Completed,
                    Some(_) => CampaignStatus::Paused,
                    None => CampaignStatus::Running,
                },
                counts,
                reason: c.paused.as_ref().filter(|_| counts.paused > 0).map(|p| p.code),
                hint: c.paused.as_ref().filter(|_| counts.paused > 0).map(|p| p.hint.clone()),
                notice: None,
                template: c.template.as_str().to_owned(),
                created_at: c.created_at.clone(),
                updated_at: c.created_at.clone(),
            },
        );
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
        let Some(row) = m.messages.get(&(id.clone(), seq)).cloned() else {
            return Ok(Transition::Missing);
        };
        if !matches!(row.status, MessageStatus::Queued | MessageStatus::Sending) {
            return Ok(Transition::NotApplicable);
        }
        let Some(campaign) = m.campaigns.get_mut(id) else { return Ok(Transition::NotApplicable) };
        if campaign.status == CampaignStatus::Cancelled {
            return Ok(Transition::NotApplicable);
        }
        bump(&mut campaign.counts, row.status, -1);
        bump(&mut campaign.counts, MessageStatus::Paused, 1);
        campaign.status = CampaignStatus::Paused;
        campaign.reason = Some(reason.code);
        campaign.hint = Some(reason.hint.clone());
        campaign.updated_at = reason.at.clone();
        if let Some(r) = m.messages.get_mut(&(id.clone(), seq)) {
            r.status = MessageStatus::Paused;
            r.error = Some(reason.code);
        }
        Ok(Transition::Applied)
    }

    async fn resume_campaign(
        &self,
        id: &CampaignId,
        at: &str,
        reopen_completed: bool,
    ) -> Result<Transition, StoreError> {
        let mut m = self.lock();
        match m.campaigns.get_mut(id) {
            Some(c)
                if c.status == CampaignStatus::Paused
                    || (reopen_completed && c.status == CampaignStatus::Completed) =>
            {
                c.status = CampaignStatus::Running;
                c.reason = None;
                c.hint = None;
                c.updated_at = at.to_owned();
                Ok(Transition::Applied)
            }
            _ => Ok(Transition::NotApplicable),
        }
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
            .map(|r| MessageEntry { row: r.clone(), updated_at: None, sent_at: None })
            .collect();
        rows.sort_by_key(|e| e.row.seq);
        rows.truncate(limit as usize);
        Ok(rows)
    }

    async fn requeue_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        from: MessageStatus,
        at: &str,
    ) -> Result<Option<QueuedMessage>, StoreError> {
        let mut m = self.lock();
        let cancelled = m.campaigns.get(id).is_none_or(|c| c.status == CampaignStatus::Cancelled);
        let Some(row) = m.messages.get_mut(&(id.clone(), seq)) else { return Ok(None) };
        if cancelled || row.status != from || !matches!(from, MessageStatus::Paused | MessageStatus::Failed) {
            return Ok(None);
        }
        row.status = MessageStatus::Queued;
        row.error = None;
        row.round += 1;
        // A failure queued again may have gone out: the retry looks in the chat first.
        row.verify_first |= from == MessageStatus::Failed;
        let queued =
            QueuedMessage { campaign_id: id.clone(), seq, account: row.account.clone(), round: row.round };
        if let Some(c) = m.campaigns.get_mut(id) {
            bump(&mut c.counts, from, -1);
            bump(&mut c.counts, MessageStatus::Queued, 1);
            c.updated_at = at.to_owned();
        }
        Ok(Some(queued))
    }

    async fn claim_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        lease: &Lease,
    ) -> Result<Claim, StoreError> {
        let mut m = self.lock();
        let cancelled = m.campaigns.get(id).is_none_or(|c| c.status == CampaignStatus::Cancelled);
        let Some(row) = m.messages.get_mut(&(id.clone(), seq)) else { return Ok(Claim::Missing) };
        let claim = match row.status {
            MessageStatus::Queued if cancelled => {
                row.status = MessageStatus::Cancelled;
                row.error = Some(domain::ErrorCode::Cancelled);
                if let Some(c) = m.campaigns.get_mut(id) {
                    bump(&mut c.counts, MessageStatus::Queued, -1);
                    bump(&mut c.counts, MessageStatus::Cancelled, 1);
                }
                return Ok(Claim::Settled);
            }
            MessageStatus::Queued => {
                row.status = MessageStatus::Sending;
                row.attempts += 1;
                row.lease_until = lease.until;
                if row.verify_first { Claim::Ambiguous(row.clone()) } else { Claim::Fresh(row.clone()) }
            }
            MessageStatus::Sending if row.lease_until < lease.now => {
                row.attempts += 1;
                row.lease_until = lease.until;
                return Ok(if cancelled {
                    Claim::VerifyOnly(row.clone())
                } else {
                    Claim::Ambiguous(row.clone())
                });
            }
            MessageStatus::Sending => return Ok(Claim::Busy { lease_until: row.lease_until }),
            _ => return Ok(Claim::Settled),
        };
        if let Some(c) = m.campaigns.get_mut(id) {
            bump(&mut c.counts, MessageStatus::Queued, -1);
            bump(&mut c.counts, MessageStatus::Sending, 1);
        }
        Ok(claim)
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
        let cancelled = m.campaigns.get(id).is_some_and(|c| c.status == CampaignStatus::Cancelled);
        let Some(row) = m.messages.get_mut(&(id.clone(), seq)) else { return Ok(Transition::NotApplicable) };
        if row.status != MessageStatus::Sending || row.attempts != attempt {
            return Ok(Transition::NotApplicable);
        }
        let to = match finish {
            Finish::Sent => MessageStatus::Sent,
            Finish::Failed(code) => {
                row.error = Some(*code);
                MessageStatus::Failed
            }
            Finish::Released if cancelled => {
                row.error = Some(domain::ErrorCode::Cancelled);
                MessageStatus::Cancelled
            }
            Finish::Released => MessageStatus::Queued,
        };
        row.status = to;
        row.lease_until = 0;
        if let Some(c) = m.campaigns.get_mut(id) {
            bump(&mut c.counts, MessageStatus::Sending, -1);
            bump(&mut c.counts, to, 1);
            c.updated_at = at.to_owned();
            let done = c.counts.queued == 0 && c.counts.sending == 0 && c.counts.paused == 0;
            if done && c.status == CampaignStatus::Running {
                c.status = CampaignStatus::Completed;
            }
        }
        Ok(Transition::Applied)
    }

    async fn record_notice(
        &self,
        id: &CampaignId,
        notice: domain::ErrorCode,
        at: &str,
    ) -> Result<(), StoreError> {
        if let Some(c) = self.lock().campaigns.get_mut(id) {
            c.notice = Some(notice);
            c.updated_at = at.to_owned();
        }
        Ok(())
    }

    async fn settle_campaign(&self, id: &CampaignId, at: &str) -> Result<(), StoreError> {
        if let Some(c) = self.lock().campaigns.get_mut(id) {
            let done = c.counts.queued == 0 && c.counts.sending == 0 && c.counts.paused == 0;
            let pending = c.counts.queued > 0 || c.counts.sending > 0;
            if done && c.status == CampaignStatus::Running {
                c.status = CampaignStatus::Completed;
                c.updated_at = at.to_owned();
            } else if pending && c.status == CampaignStatus::Completed {
                c.status = CampaignStatus::Running;
                c.updated_at = at.to_owned();
            }
        }
        Ok(())
    }

    async fn cancel_campaign(&self, id: &CampaignId, at: &str) -> Result<Transition, StoreError> {
        let mut m = self.lock();
        match m.campaigns.get_mut(id) {
            None => Ok(Transition::Missing),
            Some(c) if c.status == CampaignStatus::Completed => Ok(Transition::NotApplicable),
            Some(c) => {
                c.status = CampaignStatus::Cancelled;
                c.reason = None;
                c.hint = None;
                c.updated_at = at.to_owned();
                Ok(Transition::Applied)
            }
        }
    }

    async fn cancel_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        from: MessageStatus,
        at: &str,
    ) -> Result<Transition, StoreError> {
        let mut m = self.lock();
        let cancelled = m.campaigns.get(id).is_some_and(|c| c.status == CampaignStatus::Cancelled);
        let Some(row) = m.messages.get_mut(&(id.clone(), seq)) else { return Ok(Transition::Missing) };
        if !cancelled || row.status != from || !matches!(from, MessageStatus::Queued | MessageStatus::Paused)
        {
            return Ok(Transition::NotApplicable);
        }
        row.status = MessageStatus::Cancelled;
        row.error = Some(domain::ErrorCode::Cancelled);
        if let Some(c) = m.campaigns.get_mut(id) {
            bump(&mut c.counts, from, -1);
            bump(&mut c.counts, MessageStatus::Cancelled, 1);
            c.updated_at = at.to_owned();
        }
        Ok(Transition::Applied)
    }

    async fn claim_idempotency(&self, claim: &IdempotencyClaim) -> Result<Idempotency, StoreError> {
        let mut m = self.lock();
        match m.idempotency.get(&claim.key_hash) {
            Some((old, _)) if old.fingerprint != claim.fingerprint => Ok(Idempotency::Mismatch),
            Some((old, true)) => Ok(Idempotency::Done { campaign_id: old.campaign_id.clone() }),
            Some((old, false)) if old.until >= claim.now => Ok(Idempotency::InProgress { until: old.until }),
            Some((old, false)) => {
                let campaign_id = old.campaign_id.clone();
                let taken = IdempotencyClaim { campaign_id: campaign_id.clone(), ..claim.clone() };
                m.idempotency.insert(claim.key_hash.clone(), (taken, false));
                Ok(Idempotency::Owned { campaign_id })
            }
            None => {
                m.idempotency.insert(claim.key_hash.clone(), (claim.clone(), false));
                Ok(Idempotency::Owned { campaign_id: claim.campaign_id.clone() })
            }
        }
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
