//! Message rows: reading them (one, a page by status, a page for the listing API) and moving
//! them — claim, finish, pause, requeue, cancel — as the lifecycle decides, through
//! [`super::moves`] (whose retries keep one request token, so a write applied with its reply
//! lost is not applied twice). A claim also writes a token on the row, so a claim whose tries
//! all went unanswered recognises itself.

use super::codec::{entry_from_item, row_from_item};
use super::moves::{CampaignPause, ROWS_PER_TRANSACTION, TxOutcome};
use super::{DynamoCampaignStore, MAX_ATTEMPTS, retry};
use crate::model::{Claim, Lease, MessageEntry, MessageRow, PauseReason};
use crate::{Finish, StoreError, Transition};
use domain::lifecycle::Move;
use domain::lifecycle::message::{self, ClaimDecision, ClaimKind, ClaimWindow};
use domain::{CampaignId, CampaignStatus, MessageSeq, MessageStatus, QueuedMessage};
use table_layout::codec::{Fields, s};
use table_layout::keys;

impl DynamoCampaignStore {
    pub(super) async fn read_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
    ) -> Result<Option<MessageRow>, StoreError> {
        self.get(&keys::message(id, seq)).await?.map(|item| row_from_item(id, &item)).transpose()
    }

    pub(super) async fn rows_in_status(
        &self,
        id: &CampaignId,
        status: MessageStatus,
        after: Option<MessageSeq>,
        limit: u32,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::STATUS_INDEX)
            .expression_attribute_values(":pk", s(keys::status_index_pk(id, status)))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX));
        // Key values may not be empty strings, so the first page has no lower bound at all.
        query = match after {
            Some(after) => query
                .key_condition_expression("GSI1PK = :pk AND GSI1SK > :after")
                .expression_attribute_values(":after", s(keys::status_index_sk(after))),
            None => query.key_condition_expression("GSI1PK = :pk"),
        };
        let mut rows = Vec::new();
        loop {
            let out = retry::call(|| query.clone().send()).await.map_err(StoreError::unavailable)?;
            for item in out.items() {
                rows.push(row_from_item(id, item)?);
            }
            match out.last_evaluated_key {
                Some(key) if rows.len() < limit as usize => query = query.set_exclusive_start_key(Some(key)),
                _ => break,
            }
        }
        rows.truncate(limit as usize);
        Ok(rows)
    }

    pub(super) async fn entries(
        &self,
        id: &CampaignId,
        status: Option<MessageStatus>,
        after: Option<MessageSeq>,
        limit: u32,
    ) -> Result<Vec<MessageEntry>, StoreError> {
        let query =
            self.client.query().table_name(&self.table).limit(i32::try_from(limit).unwrap_or(i32::MAX));
        let query = match (status, after) {
            (Some(status), None) => query
                .index_name(keys::STATUS_INDEX)
                .key_condition_expression("GSI1PK = :pk")
                .expression_attribute_values(":pk", s(keys::status_index_pk(id, status))),
            (Some(status), Some(after)) => query
                .index_name(keys::STATUS_INDEX)
                .key_condition_expression("GSI1PK = :pk AND GSI1SK > :after")
                .expression_attribute_values(":pk", s(keys::status_index_pk(id, status)))
                .expression_attribute_values(":after", s(keys::status_index_sk(after))),
            // The campaign's partition holds the campaign row and the message rows; the range
            // keeps to the message rows after `after`.
            (None, after) => {
                let (low, high) = keys::message_range_after(after);
                query
                    .key_condition_expression("PK = :pk AND SK BETWEEN :lo AND :hi")
                    .expression_attribute_values(":pk", s(keys::campaign_partition(id)))
                    .expression_attribute_values(":lo", s(low))
                    .expression_attribute_values(":hi", s(high))
            }
        };
        let mut entries = Vec::new();
        let mut query = query;
        loop {
            let out = retry::call(|| query.clone().send()).await.map_err(StoreError::unavailable)?;
            for item in out.items() {
                entries.push(entry_from_item(id, item)?);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() && entries.len() < limit as usize => {
                    query = query.set_exclusive_start_key(Some(key));
                }
                _ => break,
            }
        }
        entries.truncate(limit as usize);
        Ok(entries)
    }

    /// Whether the campaign is cancelled; `None` when it does not exist.
    async fn campaign_cancelled(&self, id: &CampaignId) -> Result<Option<bool>, StoreError> {
        let key = keys::campaign(id);
        Ok(match self.get(&key).await? {
            Some(meta) => Some(
                Fields::new(&meta, key.to_string()).string("status")? == CampaignStatus::Cancelled.as_str(),
            ),
            None => None,
        })
    }

    /// The claim token written on the row, if any.
    async fn claim_token(&self, id: &CampaignId, seq: MessageSeq) -> Result<Option<String>, StoreError> {
        let key = keys::message(id, seq);
        Ok(self.get(&key).await?.and_then(|item| {
            Fields::new(&item, key.to_string()).opt_string("claim_token").map(str::to_owned)
        }))
    }

    pub(super) async fn claim(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        lease: &Lease,
    ) -> Result<Claim, StoreError> {
        let token = format!("{:016x}", rand::random::<u64>());
        let window = ClaimWindow { now: lease.now, until: lease.until };
        let mut cancelled = false;
        for _ in 0..MAX_ATTEMPTS {
            let Some(row) = self.read_message(id, seq).await? else { return Ok(Claim::Missing) };
            match message::claim(&row.state(), cancelled, window) {
                ClaimDecision::Busy { lease_until } => return Ok(Claim::Busy { lease_until }),
                ClaimDecision::Settled => {
                    // A redelivered record of a settled row: the campaign may be complete now
                    // (its finish's completion may never have been written).
                    self.complete_if_done(id, &lease.at).await?;
                    return Ok(Claim::Settled);
                }
                ClaimDecision::Cancel(mv) => match self.apply_one(id, seq, &mv, None, &lease.at, None).await?
                {
                    TxOutcome::Done => return Ok(Claim::Settled),
                    TxOutcome::RowsMoved(_) => continue,
                    TxOutcome::CampaignRefused => {
                        cancelled = self.campaign_cancelled(id).await?.unwrap_or(false)
                    }
                },
                ClaimDecision::Take(mv, kind) => {
                    let claimed = |row: &MessageRow| {
                        let row = row.moved(&mv);
                        match kind {
                            ClaimKind::Fresh => Claim::Fresh(row),
                            ClaimKind::Ambiguous => Claim::Ambiguous(row),
                            ClaimKind::VerifyOnly => Claim::VerifyOnly(row),
                        }
                    };
                    match self.apply_one(id, seq, &mv, None, &lease.at, Some(&token)).await {
                        Ok(TxOutcome::Done) => return Ok(claimed(&row)),
                        Ok(TxOutcome::RowsMoved(_)) => {
                            // Ours after all when an earlier try was applied and its reply lost.
                            if self.claim_token(id, seq).await?.as_deref() == Some(token.as_str()) {
                                return Ok(claimed(&row));
                            }
                        }
                        Ok(TxOutcome::CampaignRefused) => match self.campaign_cancelled(id).await? {
                            Some(now_cancelled) => cancelled = now_cancelled,
                            None => return Ok(Claim::Settled),
                        },
                        Err(e) => {
                            if self.claim_token(id, seq).await?.as_deref() == Some(token.as_str()) {
                                return Ok(claimed(&row));
                            }
                            return Err(e);
                        }
                    }
                }
            }
        }
        Err(StoreError::Contended(keys::message(id, seq).to_string()))
    }

    pub(super) async fn finish(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        attempt: u32,
        finish: &Finish,
        at: &str,
    ) -> Result<Transition, StoreError> {
        let mut cancelled = false;
        for _ in 0..MAX_ATTEMPTS {
            let Some(row) = self.read_message(id, seq).await? else { return Ok(Transition::NotApplicable) };
            let Some(mv) = message::finish(&row.state(), attempt, *finish, cancelled) else {
                return Ok(Transition::NotApplicable);
            };
            let hint = mv.pause.map(|code| code.hint_for(row.account.as_str(), id.as_str()));
            let pause = mv.pause.zip(hint.as_deref()).map(|(code, hint)| CampaignPause { code, hint });
            match self.apply_one(id, seq, &mv, pause.as_ref(), at, None).await? {
                TxOutcome::Done => {
                    if mv.settles {
                        self.complete_if_done(id, at).await?;
                    }
                    return Ok(Transition::Applied);
                }
                TxOutcome::RowsMoved(_) => {}
                TxOutcome::CampaignRefused => match self.campaign_cancelled(id).await? {
                    Some(now_cancelled) if now_cancelled != cancelled => cancelled = now_cancelled,
                    _ => return Ok(Transition::NotApplicable),
                },
            }
        }
        Err(StoreError::Contended(keys::message(id, seq).to_string()))
    }

    pub(super) async fn pause(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        reason: &PauseReason,
    ) -> Result<Transition, StoreError> {
        let mut cancelled = false;
        for _ in 0..MAX_ATTEMPTS {
            let Some(row) = self.read_message(id, seq).await? else { return Ok(Transition::Missing) };
            let Some(mv) = message::pause(&row.state(), reason.code, cancelled) else {
                return Ok(Transition::NotApplicable);
            };
            let pause = mv.pause.map(|code| CampaignPause { code, hint: &reason.hint });
            match self.apply_one(id, seq, &mv, pause.as_ref(), &reason.at, None).await? {
                TxOutcome::Done => {
                    if mv.settles {
                        self.complete_if_done(id, &reason.at).await?;
                    }
                    return Ok(Transition::Applied);
                }
                // The row moved between our read and the write: read again.
                TxOutcome::RowsMoved(_) => {}
                // Cancelled meanwhile: decided again, the row ends instead of pausing.
                TxOutcome::CampaignRefused => match self.campaign_cancelled(id).await? {
                    Some(now_cancelled) if now_cancelled != cancelled => cancelled = now_cancelled,
                    _ => return Ok(Transition::NotApplicable),
                },
            }
        }
        Err(StoreError::Contended(keys::message(id, seq).to_string()))
    }

    /// Applies `decide`'s move to every row it gives one, many rows per transaction; a row that
    /// moved meanwhile is left out. Returns the rows that moved, as they are now; stops early when
    /// the campaign refuses.
    async fn move_rows(
        &self,
        id: &CampaignId,
        rows: &[MessageRow],
        at: &str,
        decide: impl Fn(&MessageRow) -> Option<Move>,
    ) -> Result<Vec<MessageRow>, StoreError> {
        let decided: Vec<(MessageRow, Move)> =
            rows.iter().filter_map(|r| decide(r).map(|mv| (r.clone(), mv))).collect();
        let mut moved = Vec::with_capacity(decided.len());
        for chunk in decided.chunks(ROWS_PER_TRANSACTION) {
            let mut pending: Vec<&(MessageRow, Move)> = chunk.iter().collect();
            while !pending.is_empty() {
                let moves: Vec<(MessageSeq, Move)> =
                    pending.iter().map(|(r, mv)| (r.seq, mv.clone())).collect();
                match self.apply(id, &moves, None, at, None).await? {
                    TxOutcome::Done => {
                        moved.extend(pending.iter().map(|(r, mv)| r.moved(mv)));
                        break;
                    }
                    TxOutcome::RowsMoved(gone) => {
                        pending = pending
                            .into_iter()
                            .enumerate()
                            .filter(|(i, _)| !gone.contains(i))
                            .map(|(_, p)| p)
                            .collect();
                    }
                    TxOutcome::CampaignRefused => return Ok(moved),
                }
            }
        }
        Ok(moved)
    }

    pub(super) async fn requeue_many(
        &self,
        id: &CampaignId,
        rows: &[MessageRow],
        from: MessageStatus,
        at: &str,
    ) -> Result<Vec<QueuedMessage>, StoreError> {
        let moved = self.move_rows(id, rows, at, |r| message::requeue(&r.state(), from)).await?;
        Ok(moved.into_iter().map(|r| QueuedMessage::new(id.clone(), r.seq, r.account, r.round)).collect())
    }

    pub(super) async fn cancel_many(
        &self,
        id: &CampaignId,
        rows: &[MessageRow],
        from: MessageStatus,
        at: &str,
    ) -> Result<usize, StoreError> {
        Ok(self.move_rows(id, rows, at, |r| message::cancel(&r.state(), from)).await?.len())
    }
}
