//! The open listing (`table_layout::keys::open_campaign`): the campaigns not over yet, which the
//! reconciler walks; and the census of one campaign's rows it reconciles against.
//!
//! A campaign is listed before its campaign row is written and taken off when it is over, so no
//! campaign that could strand a row is ever unlisted; an entry without a campaign row (a start
//! that died before writing it) is taken off by the reconciler after a grace time.

use super::campaigns::status_in;
use super::codec::{entry_from_item, view_from_item};
use super::retry::Attempt;
use super::{DynamoCampaignStore, conditional, retry};
use crate::model::{CampaignView, Census};
use crate::{StoreError, Transition};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, TransactWriteItem};
use domain::{CampaignId, CampaignStatus, Counters, MessageSeq, MessageStatus};
use table_layout::codec::{Fields, Item, key_item, n, s};
use table_layout::keys;

impl DynamoCampaignStore {
    pub(super) async fn list_open(
        &self,
        after: Option<&CampaignId>,
        limit: u32,
    ) -> Result<Vec<CampaignId>, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(keys::OPEN_PARTITION))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .consistent_read(true);
        query = match after {
            Some(after) => query
                .key_condition_expression("PK = :pk AND SK > :after")
                .expression_attribute_values(":after", s(keys::open_campaign(after).sk)),
            None => query.key_condition_expression("PK = :pk"),
        };
        let mut ids = Vec::new();
        loop {
            let out = retry::call(|| query.clone().send()).await.map_err(StoreError::unavailable)?;
            for item in out.items() {
                let f = Fields::of(item);
                if let Some(id) = keys::parse_open_campaign_sk(f.string(keys::SK)?) {
                    ids.push(id);
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() && ids.len() < limit as usize => {
                    query = query.set_exclusive_start_key(Some(key))
                }
                _ => break,
            }
        }
        ids.truncate(limit as usize);
        Ok(ids)
    }

    pub(super) async fn put_listing(&self, id: &CampaignId, at: &str) -> Result<(), StoreError> {
        let mut item = key_item(&keys::open_campaign(id));
        item.insert("since".into(), s(at));
        let request = self.client.put_item().table_name(&self.table).set_item(Some(item));
        retry::call(|| request.clone().send()).await.map_err(StoreError::unavailable)?;
        Ok(())
    }

    /// Deletes the listing of a campaign that is over, checked in the same transaction.
    pub(super) async fn close(&self, id: &CampaignId) -> Result<Transition, StoreError> {
        let (over, mut values) = status_in(&[CampaignStatus::Completed, CampaignStatus::Cancelled]);
        values.insert(":zero".into(), n(0));
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::campaign(id))))
            .condition_expression(format!("{over} AND queued = :zero AND sending = :zero AND paused = :zero"))
            .expression_attribute_names("#st", "status")
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(StoreError::unavailable)?;
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::open_campaign(id))))
            .build()
            .map_err(StoreError::unavailable)?;
        self.conditional_transaction(
            "close listing",
            vec![
                TransactWriteItem::builder().condition_check(check).build(),
                TransactWriteItem::builder().delete(delete).build(),
            ],
        )
        .await
    }

    /// Deletes the listing of a campaign whose row does not exist, listed before `before`.
    pub(super) async fn drop_orphan(&self, id: &CampaignId, before: &str) -> Result<Transition, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::campaign(id))))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(StoreError::unavailable)?;
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::open_campaign(id))))
            .condition_expression("since < :before")
            .expression_attribute_values(":before", s(before))
            .build()
            .map_err(StoreError::unavailable)?;
        self.conditional_transaction(
            "drop orphan listing",
            vec![
                TransactWriteItem::builder().condition_check(check).build(),
                TransactWriteItem::builder().delete(delete).build(),
            ],
        )
        .await
    }

    /// A transaction whose failed condition is `NotApplicable`, tried again on conflicts,
    /// throttling and lost replies.
    pub(super) async fn conditional_transaction(
        &self,
        what: &str,
        items: Vec<TransactWriteItem>,
    ) -> Result<Transition, StoreError> {
        retry::with_backoff(what, || {
            let request = self.client.transact_write_items().set_transact_items(Some(items.clone()));
            async move {
                let err = match request.send().await {
                    Ok(_) => return Ok(Attempt::Done(Transition::Applied)),
                    Err(err) => err,
                };
                if let Some(TransactWriteItemsError::TransactionCanceledException(tce)) =
                    err.as_service_error()
                {
                    let codes: Vec<&str> =
                        tce.cancellation_reasons().iter().filter_map(|r| r.code()).collect();
                    if codes.iter().any(|c| {
                        matches!(
                            *c,
                            "TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded"
                        )
                    }) {
                        return Ok(Attempt::Again);
                    }
                    if codes.contains(&"ConditionalCheckFailed") {
                        return Ok(Attempt::Done(Transition::NotApplicable));
                    }
                }
                if retry::is_transient(&err) { Ok(Attempt::Again) } else { Err(StoreError::unavailable(err)) }
            }
        })
        .await
    }

    pub(super) async fn count(&self, id: &CampaignId) -> Result<Option<Census>, StoreError> {
        let key = keys::campaign(id);
        let Some(meta) = self.get(&key).await? else { return Ok(None) };
        let view = view_from_item(id, &meta)?;
        let issuing_since = meta
            .contains_key("issuing_since")
            .then(|| Fields::new(&meta, key.to_string()).number("issuing_since"))
            .transpose()?;
        let fields = Fields::new(&meta, key.to_string());
        let handed_off_from = match meta.contains_key("issue_from").then(|| fields.count("issue_from")) {
            None => None,
            Some(from) => Some(MessageSeq(
                u32::try_from(from?).map_err(|_| fields.malformed("field 'issue_from' is not a row"))?,
            )),
        };
        let (low, high) = keys::message_range_after(None);
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND SK BETWEEN :lo AND :hi")
            .expression_attribute_values(":pk", s(keys::campaign_partition(id)))
            .expression_attribute_values(":lo", s(low))
            .expression_attribute_values(":hi", s(high))
            .consistent_read(true);
        let mut statuses = Vec::new();
        let mut receipts = Vec::new();
        let mut open_rows = Vec::new();
        loop {
            let out = retry::call(|| query.clone().send()).await.map_err(StoreError::unavailable)?;
            for item in out.items() {
                let entry = entry_from_item(id, item)?;
                statuses.push(entry.row.status);
                receipts.push(entry.receipt());
                if !entry.row.status.is_final() {
                    open_rows.push(entry);
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => query = query.set_exclusive_start_key(Some(k)),
                _ => break,
            }
        }
        // Every move writes the campaign row: unchanged across the count, nothing moved during it.
        let moving = self.read_campaign(id).await?.is_none_or(|after| after.updated_at != view.updated_at);
        let mut counted = Counters::of_rows(statuses);
        receipts.into_iter().for_each(|r| counted.add_receipt(r));
        Ok(Some(Census { counted, view, open_rows, issuing_since, handed_off_from, moving }))
    }

    pub(super) async fn repair(
        &self,
        seen: &CampaignView,
        counted: &Counters,
        at: &str,
    ) -> Result<Transition, StoreError> {
        let mut values = Item::new();
        let mut set = Vec::new();
        for status in MessageStatus::ALL {
            let field = Counters::field(*status);
            set.push(format!("{field} = :{field}"));
            values.insert(format!(":{field}"), n(counted.of(*status)));
        }
        set.push("delivered = :delivered".into());
        values.insert(":delivered".into(), n(counted.delivered));
        set.push("#read = :read".into());
        values.insert(":read".into(), n(counted.read));
        values.insert(":seen".into(), s(seen.updated_at.clone()));
        values.insert(":at".into(), s(at));
        let request = self
            .update(&keys::campaign(&seen.id))
            .update_expression(format!("SET {}, updated_at = :at", set.join(", ")))
            .condition_expression("updated_at = :seen")
            .expression_attribute_names("#read", "read")
            .set_expression_attribute_values(Some(values));
        conditional(retry::call(|| request.clone().send()).await)
    }

    pub(super) async fn issuing(&self, id: &CampaignId, since: i64) -> Result<(), StoreError> {
        let request = self
            .update(&keys::campaign(id))
            .update_expression("SET issuing_since = :since")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":since", n(since));
        conditional(retry::call(|| request.clone().send()).await).map(|_| ())
    }

    pub(super) async fn issued(&self, id: &CampaignId, since: i64) -> Result<(), StoreError> {
        let request = self
            .update(&keys::campaign(id))
            .update_expression("REMOVE issuing_since, issue_from")
            .condition_expression("issuing_since = :since")
            .expression_attribute_values(":since", n(since));
        conditional(retry::call(|| request.clone().send()).await).map(|_| ())
    }

    pub(super) async fn handed_off(
        &self,
        id: &CampaignId,
        since: i64,
        from: MessageSeq,
    ) -> Result<(), StoreError> {
        let request = self
            .update(&keys::campaign(id))
            .update_expression("SET issue_from = :from")
            .condition_expression("issuing_since = :since")
            .expression_attribute_values(":since", n(since))
            .expression_attribute_values(":from", n(from.0));
        conditional(retry::call(|| request.clone().send()).await).map(|_| ())
    }
}
