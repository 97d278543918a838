//! One row moving between statuses with its campaign counters, as one transaction: the row
//! changes only if it still is where the caller read it, the campaign row only if it allows the
//! move, and the two counters move with it.

use super::DynamoCampaignStore;
use crate::StoreError;
use crate::model::Counters;
use aws_sdk_dynamodb::operation::transact_write_items::{TransactWriteItemsError, TransactWriteItemsOutput};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use domain::{CampaignId, CampaignStatus, MessageSeq, MessageStatus};
use table_layout::codec::{Item, key_item, n, s};
use table_layout::keys;

/// How a two-item transaction (row + campaign) ended.
pub(super) enum TxOutcome {
    /// Both items moved.
    Done,
    /// The row was no longer as read.
    RowMoved,
    /// The campaign row refused the move (cancelled, or gone).
    CampaignRefused,
}

fn tx_outcome(
    result: Result<TransactWriteItemsOutput, aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError>>,
) -> Result<TxOutcome, StoreError> {
    let err = match result {
        Ok(_) => return Ok(TxOutcome::Done),
        Err(err) => err,
    };
    let reasons: Vec<bool> = match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(tce)) => {
            tce.cancellation_reasons().iter().map(|r| r.code() == Some("ConditionalCheckFailed")).collect()
        }
        _ => return Err(StoreError::unavailable(err)),
    };
    match (reasons.first().copied(), reasons.get(1).copied()) {
        (_, Some(true)) => Ok(TxOutcome::CampaignRefused),
        (Some(true), _) => Ok(TxOutcome::RowMoved),
        _ => Err(StoreError::unavailable(err)),
    }
}

/// What the campaign row must say for a row move to apply.
#[derive(Clone, Copy)]
pub(super) enum CampaignGuard {
    /// Not cancelled: claims, pauses, re-queues.
    NotCancelled,
    /// Anything: a row being sent finishes as it ends, even after a cancel.
    Any,
    /// Cancelled: the rows a cancel stops.
    Cancelled,
}

/// One row moving between statuses, with its campaign counters, as one transaction.
pub(super) struct RowMove {
    guard: CampaignGuard,
    from: MessageStatus,
    to: MessageStatus,
    at: String,
    row_set: Vec<(&'static str, AttributeValue)>,
    row_remove: Vec<&'static str>,
    row_expect: Vec<(&'static str, AttributeValue)>,
    meta_set: Vec<(&'static str, AttributeValue)>,
}

impl RowMove {
    pub(super) fn new(from: MessageStatus, to: MessageStatus, at: &str) -> Self {
        Self {
            guard: CampaignGuard::NotCancelled,
            from,
            to,
            at: at.to_owned(),
            row_set: Vec::new(),
            row_remove: Vec::new(),
            row_expect: Vec::new(),
            meta_set: Vec::new(),
        }
    }
    pub(super) fn row_set(mut self, field: &'static str, v: AttributeValue) -> Self {
        self.row_set.push((field, v));
        self
    }
    pub(super) fn row_remove(mut self, field: &'static str) -> Self {
        self.row_remove.push(field);
        self
    }
    /// The row must still hold this value (guards against a concurrent claim).
    pub(super) fn row_expect(mut self, field: &'static str, v: AttributeValue) -> Self {
        self.row_expect.push((field, v));
        self
    }
    pub(super) fn meta_set(mut self, field: &'static str, v: AttributeValue) -> Self {
        self.meta_set.push((field, v));
        self
    }
    pub(super) fn guard(mut self, guard: CampaignGuard) -> Self {
        self.guard = guard;
        self
    }
}

/// Builds `SET a = :a, ...` with names and values registered on the builder.
fn set_clause(
    fields: &[(&'static str, AttributeValue)],
    prefix: &str,
) -> (String, Vec<(String, String)>, Item) {
    let mut parts = Vec::new();
    let mut names = Vec::new();
    let mut values = Item::new();
    for (i, (field, v)) in fields.iter().enumerate() {
        parts.push(format!("#{prefix}{i} = :{prefix}{i}"));
        names.push((format!("#{prefix}{i}"), (*field).to_owned()));
        values.insert(format!(":{prefix}{i}"), v.clone());
    }
    (parts.join(", "), names, values)
}

impl DynamoCampaignStore {
    /// Applies `mv` to row `seq` of campaign `id` and its campaign row in one transaction.
    pub(super) async fn apply(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        mv: RowMove,
    ) -> Result<TxOutcome, StoreError> {
        let (extra_set, mut row_names, mut row_values) = set_clause(&mv.row_set, "r");
        let mut row_expr = format!("SET #st = :to, {} = :gsi, updated_at = :at", keys::STATUS_INDEX_PK);
        if !extra_set.is_empty() {
            row_expr.push_str(", ");
            row_expr.push_str(&extra_set);
        }
        if !mv.row_remove.is_empty() {
            row_expr.push_str(" REMOVE ");
            row_expr.push_str(&mv.row_remove.join(", "));
        }
        let mut condition = "#st = :from".to_owned();
        for (i, (field, v)) in mv.row_expect.iter().enumerate() {
            condition.push_str(&format!(" AND #e{i} = :e{i}"));
            row_names.push((format!("#e{i}"), (*field).to_owned()));
            row_values.insert(format!(":e{i}"), v.clone());
        }
        row_names.push(("#st".into(), "status".into()));
        row_values.insert(":to".into(), s(mv.to.as_str()));
        row_values.insert(":from".into(), s(mv.from.as_str()));
        row_values.insert(":gsi".into(), s(keys::status_index_pk(id, mv.to)));
        row_values.insert(":at".into(), s(mv.at.clone()));
        let row = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::message(id, seq))))
            .update_expression(row_expr)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(row_names.into_iter().collect()))
            .set_expression_attribute_values(Some(row_values))
            .build()
            .map_err(StoreError::unavailable)?;

        let (extra_set, mut meta_names, mut meta_values) = set_clause(&mv.meta_set, "m");
        let mut meta_expr = "SET #from = #from - :one, #to = #to + :one, updated_at = :at".to_owned();
        if !extra_set.is_empty() {
            meta_expr.push_str(", ");
            meta_expr.push_str(&extra_set);
        }
        meta_names.push(("#from".into(), Counters::field(mv.from).into()));
        meta_names.push(("#to".into(), Counters::field(mv.to).into()));
        if !matches!(mv.guard, CampaignGuard::Any) {
            meta_names.push(("#cst".into(), "status".into()));
            meta_values.insert(":cancelled".into(), s(CampaignStatus::Cancelled.as_str()));
        }
        meta_values.insert(":one".into(), n(1));
        meta_values.insert(":at".into(), s(mv.at.clone()));
        let meta_condition = match mv.guard {
            CampaignGuard::NotCancelled => "attribute_exists(PK) AND #cst <> :cancelled",
            CampaignGuard::Any => "attribute_exists(PK)",
            CampaignGuard::Cancelled => "attribute_exists(PK) AND #cst = :cancelled",
        };
        let meta = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::campaign(id))))
            .update_expression(meta_expr)
            .condition_expression(meta_condition)
            .set_expression_attribute_names(Some(meta_names.into_iter().collect()))
            .set_expression_attribute_values(Some(meta_values))
            .build()
            .map_err(StoreError::unavailable)?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(row).build())
            .transact_items(TransactWriteItem::builder().update(meta).build())
            .send()
            .await;
        tx_outcome(result)
    }
}
