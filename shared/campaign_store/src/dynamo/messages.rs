//! Message rows: reading them (one, a page by status, a page for the listing API) and moving
//! them — claim, finish, pause, requeue, cancel — each through [`super::moves`].

use super::codec::{entry_from_item, row_from_item};
use super::moves::{CampaignGuard, RowMove, TxOutcome};
use super::{DynamoCampaignStore, MAX_ATTEMPTS};
use crate::model::{Claim, Finish, Lease, MessageEntry, MessageRow, PauseReason};
use crate::{StoreError, Transition};
use aws_sdk_dynamodb::types::AttributeValue;
use domain::QueuedMessage;
use domain::{CampaignId, CampaignStatus, ErrorCode, MessageSeq, MessageStatus};
use table_layout::codec::{Fields, n, s};
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
            let out = query.clone().send().await.map_err(StoreError::unavailable)?;
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
            let out = query.clone().send().await.map_err(StoreError::unavailable)?;
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

    pub(super) async fn pause(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        reason: &PauseReason,
    ) -> Result<Transition, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(row) = self.read_message(id, seq).await? else { return Ok(Transition::Missing) };
            if !matches!(row.status, MessageStatus::Queued | MessageStatus::Sending) {
                return Ok(Transition::NotApplicable);
            }
            let mv = RowMove::new(row.status, MessageStatus::Paused, &reason.at)
                .row_set("error_code", s(reason.code.as_str()))
                .meta_set("status", s(CampaignStatus::Paused.as_str()))
                .meta_set("reason", s(reason.code.as_str()))
                .meta_set("hint", s(reason.hint.clone()));
            match self.apply(id, seq, mv).await? {
                TxOutcome::Done => return Ok(Transition::Applied),
                // The campaign was cancelled (or deleted): a pause no longer applies.
                TxOutcome::CampaignRefused => return Ok(Transition::NotApplicable),
                // The row moved between our read and the write: read again.
                TxOutcome::RowMoved => {}
            }
        }
        Err(StoreError::Contended(keys::message(id, seq).to_string()))
    }

    pub(super) async fn requeue(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        from: MessageStatus,
        at: &str,
    ) -> Result<Option<QueuedMessage>, StoreError> {
        let Some(row) = self.read_message(id, seq).await? else { return Ok(None) };
        if row.status != from || !matches!(from, MessageStatus::Paused | MessageStatus::Failed) {
            return Ok(None);
        }
        let mut mv = RowMove::new(from, MessageStatus::Queued, at);
        if from == MessageStatus::Failed {
            // It failed on an uncertain outcome: the retry looks in the chat before sending.
            mv = mv.row_set("verify_first", AttributeValue::Bool(true));
        }
        let mv = mv
            .row_set("round", n(row.round + 1))
            .row_remove("error_code")
            .row_expect("attempts", n(row.attempts));
        Ok(match self.apply(id, seq, mv).await? {
            TxOutcome::Done => Some(QueuedMessage {
                campaign_id: id.clone(),
                seq,
                account: row.account,
                round: row.round + 1,
            }),
            // Someone else resumed it (or the campaign was cancelled): nothing to queue from here.
            TxOutcome::RowMoved | TxOutcome::CampaignRefused => None,
        })
    }

    /// Whether the campaign is cancelled (a missing campaign row counts as not cancelled).
    async fn is_cancelled(&self, id: &CampaignId) -> Result<bool, StoreError> {
        Ok(match self.get(&keys::campaign(id)).await? {
            Some(meta) => {
                Fields::new(&meta, keys::campaign(id).to_string()).string("status")?
                    == CampaignStatus::Cancelled.as_str()
            }
            None => false,
        })
    }

    pub(super) async fn claim(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        lease: &Lease,
    ) -> Result<Claim, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(row) = self.read_message(id, seq).await? else { return Ok(Claim::Missing) };
            match row.status {
                MessageStatus::Queued => {
                    let mv = RowMove::new(MessageStatus::Queued, MessageStatus::Sending, &lease.at)
                        .row_set("attempts", n(row.attempts + 1))
                        .row_set("lease_until", n(lease.until))
                        .row_expect("attempts", n(row.attempts));
                    match self.apply(id, seq, mv).await? {
                        TxOutcome::Done => {
                            let verify_first = row.verify_first;
                            let row = MessageRow { attempts: row.attempts + 1, ..row };
                            return Ok(if verify_first { Claim::Ambiguous(row) } else { Claim::Fresh(row) });
                        }
                        TxOutcome::CampaignRefused => {
                            // A cancelled campaign: the row ends CANCELLED here, whatever the
                            // cancel itself got to.
                            self.cancel_row(id, seq, MessageStatus::Queued, &lease.at).await?;
                            return Ok(Claim::Settled);
                        }
                        TxOutcome::RowMoved => continue,
                    }
                }
                MessageStatus::Sending if row.lease_until < lease.now => {
                    // An earlier attempt lost its lease: take it over, counters stay as they are.
                    // After a cancel the new attempt may only look, not send.
                    let cancelled = self.is_cancelled(id).await?;
                    let result = self
                        .update(&keys::message(id, seq))
                        .update_expression("SET attempts = :next, lease_until = :until, updated_at = :at")
                        .condition_expression("#st = :sending AND attempts = :attempts")
                        .expression_attribute_names("#st", "status")
                        .expression_attribute_values(":sending", s(MessageStatus::Sending.as_str()))
                        .expression_attribute_values(":attempts", n(row.attempts))
                        .expression_attribute_values(":next", n(row.attempts + 1))
                        .expression_attribute_values(":until", n(lease.until))
                        .expression_attribute_values(":at", s(lease.at.clone()))
                        .send()
                        .await;
                    match result {
                        Ok(_) => {
                            let row = MessageRow { attempts: row.attempts + 1, ..row };
                            return Ok(if cancelled {
                                Claim::VerifyOnly(row)
                            } else {
                                Claim::Ambiguous(row)
                            });
                        }
                        Err(e)
                            if e.as_service_error()
                                .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
                        {
                            continue;
                        }
                        Err(e) => return Err(StoreError::unavailable(e)),
                    }
                }
                MessageStatus::Sending => return Ok(Claim::Busy { lease_until: row.lease_until }),
                _ => return Ok(Claim::Settled),
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
        let mv = match finish {
            Finish::Sent => {
                RowMove::new(MessageStatus::Sending, MessageStatus::Sent, at).row_set("sent_at", s(at))
            }
            Finish::Failed(code) => RowMove::new(MessageStatus::Sending, MessageStatus::Failed, at)
                .row_set("error_code", s(code.as_str())),
            Finish::Released => RowMove::new(MessageStatus::Sending, MessageStatus::Queued, at),
        }
        .row_remove("lease_until")
        .row_expect("attempts", n(attempt));
        let mv = if matches!(finish, Finish::Released) { mv } else { mv.guard(CampaignGuard::Any) };
        let done = match self.apply(id, seq, mv).await? {
            TxOutcome::Done => Transition::Applied,
            TxOutcome::RowMoved => return Ok(Transition::NotApplicable),
            TxOutcome::CampaignRefused if matches!(finish, Finish::Released) => {
                // Given back after a cancel: the row ends CANCELLED instead of waiting in QUEUED.
                let mv = RowMove::new(MessageStatus::Sending, MessageStatus::Cancelled, at)
                    .guard(CampaignGuard::Cancelled)
                    .row_set("error_code", s(ErrorCode::Cancelled.as_str()))
                    .row_remove("lease_until")
                    .row_expect("attempts", n(attempt));
                return Ok(match self.apply(id, seq, mv).await? {
                    TxOutcome::Done => Transition::Applied,
                    _ => Transition::NotApplicable,
                });
            }
            TxOutcome::CampaignRefused => return Ok(Transition::NotApplicable),
        };
        if !matches!(finish, Finish::Released) {
            self.complete_if_done(id, at).await?;
        }
        Ok(done)
    }

    pub(super) async fn cancel_row(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        from: MessageStatus,
        at: &str,
    ) -> Result<Transition, StoreError> {
        if !matches!(from, MessageStatus::Queued | MessageStatus::Paused) {
            return Ok(Transition::NotApplicable);
        }
        let mv = RowMove::new(from, MessageStatus::Cancelled, at)
            .guard(CampaignGuard::Cancelled)
            .row_set("error_code", s(ErrorCode::Cancelled.as_str()));
        Ok(match self.apply(id, seq, mv).await? {
            TxOutcome::Done => Transition::Applied,
            TxOutcome::RowMoved | TxOutcome::CampaignRefused => Transition::NotApplicable,
        })
    }
}
