//! Carrying out the lifecycle's moves as conditional DynamoDB writes: one row (or many rows in one
//! status) and its campaign row in one transaction — the row changes only if it still is where
//! the move expects it, the campaign row only if it allows the move, and the counters move with
//! it. Transactions cancelled by a conflict with a concurrent write, and throttling, 5xx or lost
//! replies that outlived the SDK's own retries, are tried again with jittered backoff (see
//! [`super::retry`]) under one request token, so a write is never applied twice.

use super::DynamoCampaignStore;
use super::retry::{self, Attempt};
use crate::StoreError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, TransactWriteItem, Update};
use domain::lifecycle::{CampaignGuard, Counters, Move};
use domain::{CampaignId, CampaignStatus, ErrorCode, MessageSeq, MessageStatus};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use table_layout::codec::{Item, key_item, n, s};
use table_layout::keys;

/// Rows moved in one transaction (DynamoDB takes 100 items; one is the campaign row).
pub(super) const ROWS_PER_TRANSACTION: usize = 99;

/// How a transaction of rows and their campaign row ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TxOutcome {
    /// Everything moved.
    Done,
    /// These rows (indices into the moves) were no longer where the moves expected them.
    RowsMoved(Vec<usize>),
    /// The campaign row refused the move (cancelled, not cancelled, or gone).
    CampaignRefused,
}

/// The pause a move writes to the campaign row: the code and the hint that continues it.
pub(super) struct CampaignPause<'a> {
    pub(super) code: ErrorCode,
    pub(super) hint: &'a str,
}

/// Names and values of one update expression, registered as they are used.
#[derive(Default)]
struct Expr {
    set: Vec<String>,
    remove: Vec<String>,
    names: HashMap<String, String>,
    values: Item,
}

impl Expr {
    fn name(&mut self, field: &str) -> String {
        let alias = format!("#{}", field.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
        self.names.insert(alias.clone(), field.to_owned());
        alias
    }
    fn value(&mut self, v: AttributeValue) -> String {
        let alias = format!(":v{}", self.values.len());
        self.values.insert(alias.clone(), v);
        alias
    }
    fn set(&mut self, field: &str, v: AttributeValue) {
        let (f, v) = (self.name(field), self.value(v));
        self.set.push(format!("{f} = {v}"));
    }
    fn add(&mut self, field: &str, delta: i64) {
        let (f, v) = (self.name(field), self.value(n(delta.abs())));
        let op = if delta < 0 { '-' } else { '+' };
        self.set.push(format!("{f} = {f} {op} {v}"));
    }
    fn remove(&mut self, field: &str) {
        let f = self.name(field);
        self.remove.push(f);
    }
    fn update(&self) -> String {
        let mut out = String::new();
        if !self.set.is_empty() {
            out.push_str("SET ");
            out.push_str(&self.set.join(", "));
        }
        if !self.remove.is_empty() {
            out.push_str(" REMOVE ");
            out.push_str(&self.remove.join(", "));
        }
        out
    }
}

/// The campaign row's condition for `guard`.
fn guard_condition(e: &mut Expr, guard: CampaignGuard) -> String {
    let pk = e.name("PK");
    match guard {
        CampaignGuard::Any => format!("attribute_exists({pk})"),
        CampaignGuard::NotCancelled | CampaignGuard::Cancelled => {
            let (st, cancelled) = (e.name("status"), e.value(s(CampaignStatus::Cancelled.as_str())));
            let op = if guard == CampaignGuard::Cancelled { "=" } else { "<>" };
            format!("attribute_exists({pk}) AND {st} {op} {cancelled}")
        }
    }
}

/// The update of one row for `mv`, `at` being the move's time (RFC 3339).
fn row_update(
    table: &str,
    id: &CampaignId,
    seq: MessageSeq,
    mv: &Move,
    at: &str,
    claim_token: Option<&str>,
) -> Result<Update, StoreError> {
    let mut e = Expr::default();
    e.set("status", s(mv.to.as_str()));
    e.set(keys::STATUS_INDEX_PK, s(keys::status_index_pk(id, mv.to)));
    e.set("updated_at", s(at));
    // Any move ends a hold (`domain::lifecycle::hold`).
    e.remove("held_until");
    e.remove("held_since");
    let w = &mv.write;
    if let Some(a) = w.attempts {
        e.set("attempts", n(a));
    }
    if let Some(t) = w.tries {
        e.set("tries", n(t));
    }
    match w.lease_until {
        Some(Some(until)) => e.set("lease_until", n(until)),
        Some(None) => e.remove("lease_until"),
        None => {}
    }
    if let Some(v) = w.verify_first {
        e.set("verify_first", AttributeValue::Bool(v));
    }
    match w.error {
        Some(Some(code)) => e.set("error_code", s(code.as_str())),
        Some(None) => e.remove("error_code"),
        None => {}
    }
    if let Some(r) = w.round {
        e.set("round", n(r));
    }
    if let Some(t) = w.claimed_at {
        e.set("claimed_at", n(t));
    }
    if w.sent {
        e.set("sent_at", s(at));
    }
    if let Some(token) = claim_token {
        e.set("claim_token", s(token));
    }
    let (st, from) = (e.name("status"), e.value(s(mv.from.as_str())));
    let mut condition = format!("{st} = {from}");
    if let Some(a) = mv.expect_attempts {
        let (f, v) = (e.name("attempts"), e.value(n(a)));
        // Rows written before attempts were counted have none: 0 then.
        if a == 0 {
            condition.push_str(&format!(" AND (attribute_not_exists({f}) OR {f} = {v})"));
        } else {
            condition.push_str(&format!(" AND {f} = {v}"));
        }
    }
    Update::builder()
        .table_name(table)
        .set_key(Some(key_item(&keys::message(id, seq))))
        .update_expression(e.update())
        .condition_expression(condition)
        .set_expression_attribute_names(Some(e.names))
        .set_expression_attribute_values(Some(e.values))
        .build()
        .map_err(StoreError::unavailable)
}

/// The campaign row's part of a transaction moving `count` rows from `from` to `to` with
/// `guard`, and pausing the campaign when `pause` is given: an update when anything changes, a
/// condition check otherwise.
fn campaign_item(
    table: &str,
    id: &CampaignId,
    (from, to, count): (MessageStatus, MessageStatus, i64),
    guard: CampaignGuard,
    pause: Option<&CampaignPause<'_>>,
    at: &str,
) -> Result<TransactWriteItem, StoreError> {
    let mut e = Expr::default();
    let condition = guard_condition(&mut e, guard);
    let key = key_item(&keys::campaign(id));
    if from == to && pause.is_none() {
        let check = ConditionCheck::builder()
            .table_name(table)
            .set_key(Some(key))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values((!e.values.is_empty()).then_some(e.values))
            .build()
            .map_err(StoreError::unavailable)?;
        return Ok(TransactWriteItem::builder().condition_check(check).build());
    }
    if from != to {
        e.add(Counters::field(from), -count);
        e.add(Counters::field(to), count);
    }
    e.set("updated_at", s(at));
    if let Some(p) = pause {
        e.set("status", s(CampaignStatus::Paused.as_str()));
        e.set("reason", s(p.code.as_str()));
        e.set("hint", s(p.hint));
    }
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key))
        .update_expression(e.update())
        .condition_expression(condition)
        .set_expression_attribute_names(Some(e.names))
        .set_expression_attribute_values(Some(e.values))
        .build()
        .map_err(StoreError::unavailable)?;
    Ok(TransactWriteItem::builder().update(update).build())
}

/// What a cancelled transaction's reasons say: which rows failed their condition, whether the
/// campaign row did, and whether it was a conflict with a concurrent write (worth trying again).
fn cancellation(
    err: &aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError>,
    rows: usize,
) -> Option<Attempt<TxOutcome>> {
    let Some(TransactWriteItemsError::TransactionCanceledException(tce)) = err.as_service_error() else {
        return None;
    };
    let reasons = tce.cancellation_reasons();
    let code = |i: usize| reasons.get(i).and_then(|r| r.code());
    if (0..=rows).any(|i| {
        matches!(code(i), Some("TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded"))
    }) {
        return Some(Attempt::Again);
    }
    if code(rows) == Some("ConditionalCheckFailed") {
        return Some(Attempt::Done(TxOutcome::CampaignRefused));
    }
    let moved: Vec<usize> = (0..rows).filter(|i| code(*i) == Some("ConditionalCheckFailed")).collect();
    if moved.is_empty() { None } else { Some(Attempt::Done(TxOutcome::RowsMoved(moved))) }
}

impl DynamoCampaignStore {
    /// Applies `moves` (rows of campaign `id`, all from one status to one status under one guard)
    /// and their campaign row in one transaction, trying again on conflicts and throttling.
    /// `claim_token`, when given, is written on the rows (a claim recognises itself by it).
    pub(super) async fn apply(
        &self,
        id: &CampaignId,
        moves: &[(MessageSeq, Move)],
        pause: Option<&CampaignPause<'_>>,
        at: &str,
        claim_token: Option<&str>,
    ) -> Result<TxOutcome, StoreError> {
        let Some((_, first)) = moves.first() else { return Ok(TxOutcome::Done) };
        let count = i64::try_from(moves.len()).unwrap_or(i64::MAX);
        let mut items = Vec::with_capacity(moves.len() + 1);
        for (seq, mv) in moves {
            items.push(
                TransactWriteItem::builder()
                    .update(row_update(&self.table, id, *seq, mv, at, claim_token)?)
                    .build(),
            );
        }
        items.push(campaign_item(&self.table, id, (first.from, first.to, count), first.guard, pause, at)?);
        let what = keys::message(id, moves[0].0).to_string();
        // A try whose reply was lost is sent again under the same token, so DynamoDB (which keeps
        // tokens for 10 minutes) answers it without writing twice; a try that was answered with a
        // cancellation was not applied, and the next one gets a fresh token.
        let base = format!("{:016x}", rand::random::<u64>());
        let answered = AtomicU32::new(0);
        retry::with_backoff(&what, || {
            let token = format!("{base}-{}", answered.load(Ordering::Relaxed));
            let request = self
                .client
                .transact_write_items()
                .client_request_token(token)
                .set_transact_items(Some(items.clone()));
            let answered = &answered;
            async move {
                match request.send().await {
                    Ok(_) => Ok(Attempt::Done(TxOutcome::Done)),
                    Err(err) => match cancellation(&err, moves.len()) {
                        Some(attempt) => {
                            answered.fetch_add(1, Ordering::Relaxed);
                            Ok(attempt)
                        }
                        None if retry::is_transient(&err) => Ok(Attempt::Again),
                        None => Err(StoreError::unavailable(err)),
                    },
                }
            }
        })
        .await
    }

    /// Applies one row's move.
    pub(super) async fn apply_one(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        mv: &Move,
        pause: Option<&CampaignPause<'_>>,
        at: &str,
        claim_token: Option<&str>,
    ) -> Result<TxOutcome, StoreError> {
        self.apply(id, &[(seq, mv.clone())], pause, at, claim_token).await
    }
}
