//! Campaign rows: creating a campaign with all its message rows, reading it in one call, and the
//! campaign-level moves (resume, cancel, completion, notices).

use super::codec::{message_item, meta_item, view_from_item};
use super::{DynamoCampaignStore, MAX_ATTEMPTS, conditional};
use crate::model::{CampaignView, NewCampaign};
use crate::{StoreError, Transition};
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use domain::{CampaignId, CampaignStatus, ErrorCode};
use futures::{StreamExt, TryStreamExt};
use std::time::Duration;
use table_layout::codec::{n, s};
use table_layout::keys;

/// Rows per `BatchWriteItem` (DynamoDB's limit).
const BATCH: usize = 25;
/// Batch writes in flight at once.
const CONCURRENCY: usize = 8;

impl DynamoCampaignStore {
    async fn write_batch(&self, mut requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        let mut attempt = 0;
        while !requests.is_empty() {
            let out = self
                .client
                .batch_write_item()
                .request_items(self.table.clone(), requests)
                .send()
                .await
                .map_err(StoreError::unavailable)?;
            requests = out.unprocessed_items.and_then(|mut m| m.remove(&self.table)).unwrap_or_default();
            if requests.is_empty() {
                break;
            }
            attempt += 1;
            if attempt >= MAX_ATTEMPTS {
                return Err(StoreError::Contended(format!("{} unprocessed rows", requests.len())));
            }
            tokio::time::sleep(Duration::from_millis(25 << attempt.min(6))).await;
        }
        Ok(())
    }

    pub(super) async fn create(&self, c: &NewCampaign) -> Result<(), StoreError> {
        let rows: Vec<WriteRequest> = c
            .messages
            .iter()
            .map(|m| {
                let put = PutRequest::builder().set_item(Some(message_item(c, m))).build();
                put.map(|p| WriteRequest::builder().put_request(p).build()).map_err(StoreError::unavailable)
            })
            .collect::<Result<_, _>>()?;
        let mut chunks = Vec::new();
        let mut rest = rows;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(BATCH));
            chunks.push(rest);
            rest = tail;
        }
        futures::stream::iter(chunks.into_iter().map(|chunk| self.write_batch(chunk)))
            .buffer_unordered(CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        // The campaign row goes last: a reader that sees the campaign sees all of its rows.
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(meta_item(c)))
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        Ok(())
    }

    pub(super) async fn read_campaign(&self, id: &CampaignId) -> Result<Option<CampaignView>, StoreError> {
        let Some(item) = self.get(&keys::campaign(id)).await? else { return Ok(None) };
        view_from_item(id, &item).map(Some)
    }

    pub(super) async fn resume(
        &self,
        id: &CampaignId,
        at: &str,
        reopen_completed: bool,
    ) -> Result<Transition, StoreError> {
        // With `reopen_completed` false, `:reopen` is PAUSED again, so only PAUSED matches.
        let reopen = if reopen_completed { CampaignStatus::Completed } else { CampaignStatus::Paused };
        let result = self
            .update(&keys::campaign(id))
            .update_expression("SET #st = :running, updated_at = :at REMOVE reason, hint")
            .condition_expression("#st IN (:paused, :reopen)")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":running", s(CampaignStatus::Running.as_str()))
            .expression_attribute_values(":paused", s(CampaignStatus::Paused.as_str()))
            .expression_attribute_values(":reopen", s(reopen.as_str()))
            .expression_attribute_values(":at", s(at))
            .send()
            .await;
        conditional(result)
    }

    /// Marks the campaign COMPLETED once nothing is queued, sending or paused.
    pub(super) async fn complete_if_done(&self, id: &CampaignId, at: &str) -> Result<(), StoreError> {
        let result = self
            .update(&keys::campaign(id))
            .update_expression("SET #st = :completed, updated_at = :at")
            .condition_expression("#st = :running AND queued = :zero AND sending = :zero AND paused = :zero")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":completed", s(CampaignStatus::Completed.as_str()))
            .expression_attribute_values(":running", s(CampaignStatus::Running.as_str()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":at", s(at))
            .send()
            .await;
        conditional(result).map(|_| ())
    }

    pub(super) async fn settle(&self, id: &CampaignId, at: &str) -> Result<(), StoreError> {
        self.complete_if_done(id, at).await?;
        // A retry that re-queued rows after the campaign had completed meanwhile: running again.
        let result = self
            .update(&keys::campaign(id))
            .update_expression("SET #st = :running, updated_at = :at")
            .condition_expression("#st = :completed AND (queued > :zero OR sending > :zero)")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":running", s(CampaignStatus::Running.as_str()))
            .expression_attribute_values(":completed", s(CampaignStatus::Completed.as_str()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":at", s(at))
            .send()
            .await;
        conditional(result).map(|_| ())
    }

    pub(super) async fn notice(
        &self,
        id: &CampaignId,
        notice: ErrorCode,
        at: &str,
    ) -> Result<(), StoreError> {
        self.update(&keys::campaign(id))
            .update_expression("SET notice = :notice, notice_at = :at, updated_at = :at")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":notice", s(notice.as_str()))
            .expression_attribute_values(":at", s(at))
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        Ok(())
    }

    pub(super) async fn cancel(&self, id: &CampaignId, at: &str) -> Result<Transition, StoreError> {
        let result = self
            .update(&keys::campaign(id))
            .update_expression(
                "SET #st = :cancelled, cancelled_at = if_not_exists(cancelled_at, :at), updated_at = :at \
                 REMOVE reason, hint",
            )
            .condition_expression("attribute_exists(PK) AND #st IN (:running, :paused, :cancelled)")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":cancelled", s(CampaignStatus::Cancelled.as_str()))
            .expression_attribute_values(":running", s(CampaignStatus::Running.as_str()))
            .expression_attribute_values(":paused", s(CampaignStatus::Paused.as_str()))
            .expression_attribute_values(":at", s(at))
            .send()
            .await;
        match conditional(result)? {
            Transition::NotApplicable if self.get(&keys::campaign(id)).await?.is_none() => {
                Ok(Transition::Missing)
            }
            t => Ok(t),
        }
    }
}
