//! Campaign rows: creating a campaign with all its message rows, reading it in one call, and the
//! campaign-level moves (resume, cancel, completion, notices).

use super::codec::{message_item, meta_item, view_from_item};
use super::{DynamoCampaignStore, MAX_ATTEMPTS, conditional, retry};
use crate::model::{CampaignView, NewCampaign};
use crate::{StoreError, Transition};
use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use domain::lifecycle::campaign;
use domain::{CampaignId, CampaignStatus, ErrorCode};
use futures::{StreamExt, TryStreamExt};
use std::time::Duration;
use table_layout::codec::{Item, n, s};
use table_layout::keys;

/// Rows per `BatchWriteItem` (DynamoDB's limit).
const BATCH: usize = 25;
/// Batch writes in flight at once.
const CONCURRENCY: usize = 8;

/// `#st IN (…)` for `statuses`, with its values.
pub(super) fn status_in(statuses: &[CampaignStatus]) -> (String, Item) {
    let values: Item =
        statuses.iter().map(|st| (format!(":in_{}", st.as_str().to_lowercase()), s(st.as_str()))).collect();
    let names: Vec<String> =
        statuses.iter().map(|st| format!(":in_{}", st.as_str().to_lowercase())).collect();
    (format!("#st IN ({})", names.join(", ")), values)
}

impl DynamoCampaignStore {
    async fn write_batch(&self, mut requests: Vec<WriteRequest>) -> Result<(), StoreError> {
        let mut attempt = 0;
        while !requests.is_empty() {
            let request = self.client.batch_write_item().request_items(self.table.clone(), requests);
            let out = retry::call(|| request.clone().send()).await.map_err(StoreError::unavailable)?;
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
        let held = c.opening().holds_rows();
        let rows: Vec<WriteRequest> = c
            .messages
            .iter()
            .map(|m| {
                let put = PutRequest::builder().set_item(Some(message_item(c, m, held))).build();
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
        // Listed before its campaign row exists, so no campaign that could strand a row is ever
        // unlisted (an entry whose campaign row never came is taken off by the reconciler).
        if !campaign::is_terminal(c.opening().status) {
            self.put_listing(&c.id, &c.created_at).await?;
        }
        // The campaign row goes last: a reader that sees the campaign sees all of its rows.
        let request = self.client.put_item().table_name(&self.table).set_item(Some(meta_item(c)));
        retry::call(|| request.clone().send()).await.map_err(StoreError::unavailable)?;
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
        let (condition, values) = status_in(campaign::resumable(reopen_completed));
        let request = self
            .update(&keys::campaign(id))
            .update_expression("SET #st = :running, updated_at = :at REMOVE reason, hint")
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":running", s(CampaignStatus::Running.as_str()))
            .expression_attribute_values(":at", s(at));
        // On the open listing before it can run again (a completed campaign reopened for retried
        // rows), and again after, in case the reconciler took the listing of the completed
        // campaign off in between. The write may be applied with its reply lost (the retry is
        // then refused), so the listing does not depend on what this call was told.
        self.put_listing(id, at).await?;
        let moved = conditional(retry::call(|| request.clone().send()).await)?;
        self.put_listing(id, at).await?;
        Ok(moved)
    }

    /// Marks the campaign COMPLETED once nothing is queued, sending or paused (see
    /// `campaign::completes`).
    pub(super) async fn complete_if_done(&self, id: &CampaignId, at: &str) -> Result<(), StoreError> {
        let (from, values) = status_in(campaign::COMPLETES_FROM);
        let request = self
            .update(&keys::campaign(id))
            .update_expression("SET #st = :completed, updated_at = :at REMOVE reason, hint")
            .condition_expression(format!("{from} AND queued = :zero AND sending = :zero AND paused = :zero"))
            .set_expression_attribute_values(Some(values))
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":completed", s(CampaignStatus::Completed.as_str()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":at", s(at));
        let result = retry::call(|| request.clone().send()).await;
        if conditional(result)? == Transition::Applied {
            // Over: off the open listing (the reconciler takes off one left by a crash here).
            self.close(id).await?;
        }
        Ok(())
    }

    pub(super) async fn settle(&self, id: &CampaignId, at: &str) -> Result<(), StoreError> {
        self.complete_if_done(id, at).await?;
        // A retry that re-queued rows after the campaign had completed meanwhile: running again.
        let request = self
            .update(&keys::campaign(id))
            .update_expression("SET #st = :running, updated_at = :at")
            .condition_expression("#st = :completed AND (queued > :zero OR sending > :zero)")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":running", s(CampaignStatus::Running.as_str()))
            .expression_attribute_values(":completed", s(CampaignStatus::Completed.as_str()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":at", s(at));
        conditional(retry::call(|| request.clone().send()).await)?;
        // Running again (also when this write was applied and its reply lost): listed.
        if self.read_campaign(id).await?.is_some_and(|v| !campaign::is_terminal(v.status)) {
            self.put_listing(id, at).await?;
        }
        Ok(())
    }

    pub(super) async fn notice(
        &self,
        id: &CampaignId,
        notice: ErrorCode,
        at: &str,
    ) -> Result<(), StoreError> {
        let request = self
            .update(&keys::campaign(id))
            .update_expression("SET notice = :notice, notice_at = :at, updated_at = :at")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":notice", s(notice.as_str()))
            .expression_attribute_values(":at", s(at));
        retry::call(|| request.clone().send()).await.map_err(StoreError::unavailable)?;
        Ok(())
    }

    pub(super) async fn cancel(&self, id: &CampaignId, at: &str) -> Result<Transition, StoreError> {
        let request = self
            .update(&keys::campaign(id))
            .update_expression(
                "SET #st = :cancelled, cancelled_at = if_not_exists(cancelled_at, :at), updated_at = :at \
                 REMOVE reason, hint",
            )
            .condition_expression(format!("attribute_exists(PK) AND {}", status_in(campaign::CANCELLABLE).0))
            .set_expression_attribute_values(Some(status_in(campaign::CANCELLABLE).1))
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":cancelled", s(CampaignStatus::Cancelled.as_str()))
            .expression_attribute_values(":at", s(at));
        self.missing_if_absent(id, conditional(retry::call(|| request.clone().send()).await)?).await
    }

    /// `Missing` instead of `NotApplicable` when the campaign does not exist.
    pub(super) async fn missing_if_absent(
        &self,
        id: &CampaignId,
        t: Transition,
    ) -> Result<Transition, StoreError> {
        match t {
            Transition::NotApplicable if self.get(&keys::campaign(id)).await?.is_none() => {
                Ok(Transition::Missing)
            }
            t => Ok(t),
        }
    }
}
