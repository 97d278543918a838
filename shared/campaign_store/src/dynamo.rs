//! `CampaignStore` on one DynamoDB table: batch writes for fan-out, conditional transactions for
//! every state change so counters never drift and retries stay safe.

use crate::model::{
    CampaignView, Claim, Counters, Finish, Idempotency, IdempotencyClaim, Lease, MessageEntry, MessageRow,
    NewCampaign, PauseReason, QueuedMessage, SessionRecord,
};
use crate::{CampaignStore, StoreError, Transition};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, TransactWriteItem, Update, WriteRequest};
use domain::{AccountId, CampaignId, CampaignStatus, ErrorCode, MessageSeq, MessageStatus, SessionState};
use futures::{StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::time::Duration;

type Item = HashMap<String, AttributeValue>;

const BATCH: usize = 25;
const CONCURRENCY: usize = 8;
const MAX_ATTEMPTS: u32 = 8;

/// The DynamoDB adapter.
#[derive(Clone)]
pub struct DynamoCampaignStore {
    client: Client,
    table: String,
}

impl DynamoCampaignStore {
    /// Uses `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

pub(crate) fn campaign_pk(id: &CampaignId) -> String {
    format!("CAMPAIGN#{id}")
}
pub(crate) fn message_sk(seq: MessageSeq) -> String {
    format!("MSG#{}", seq.sort_key())
}
pub(crate) fn status_pk(id: &CampaignId, status: MessageStatus) -> String {
    format!("CAMPAIGN#{id}#STATUS#{status}")
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn get_s<'a>(item: &'a Item, key: &str, field: &str) -> Result<&'a str, StoreError> {
    item.get(field).and_then(|v| v.as_s().ok()).map(String::as_str).ok_or_else(|| StoreError::Malformed {
        key: key.to_owned(),
        reason: format!("missing string field '{field}'"),
    })
}
fn get_n(item: &Item, key: &str, field: &str) -> Result<u64, StoreError> {
    match item.get(field).and_then(|v| v.as_n().ok()) {
        None => Ok(0),
        Some(raw) => raw.parse().map_err(|_| StoreError::Malformed {
            key: key.to_owned(),
            reason: format!("field '{field}' is not a count"),
        }),
    }
}
fn parse_field<T: std::str::FromStr>(item: &Item, key: &str, field: &str) -> Result<T, StoreError> {
    get_s(item, key, field)?.parse().map_err(|_| StoreError::Malformed {
        key: key.to_owned(),
        reason: format!("field '{field}' has an unknown value"),
    })
}
fn parse_code(item: &Item, field: &str) -> Option<ErrorCode> {
    let raw = item.get(field)?.as_s().ok()?;
    serde_json::from_value(serde_json::Value::String(raw.clone())).ok()
}

fn row_from_item(id: &CampaignId, item: &Item) -> Result<MessageRow, StoreError> {
    let key = format!("{}/{}", campaign_pk(id), get_s(item, "?", "SK")?);
    let seq = get_s(item, &key, "SK")?
        .strip_prefix("MSG#")
        .and_then(|n| n.parse().ok())
        .map(MessageSeq)
        .ok_or_else(|| StoreError::Malformed {
            key: key.clone(),
            reason: "sort key is not MSG#<n>".into(),
        })?;
    let count = |field| get_n(item, &key, field).map(|v| u32::try_from(v).unwrap_or(u32::MAX));
    Ok(MessageRow {
        campaign: id.clone(),
        seq,
        account: AccountId::parse(get_s(item, &key, "account")?)
            .map_err(|e| StoreError::Malformed { key: key.clone(), reason: e.to_string() })?,
        phone: get_s(item, &key, "phone")?.to_owned(),
        status: parse_field(item, &key, "status")?,
        attempts: count("attempts")?,
        error: parse_code(item, "error_code"),
        verify_first: item.get("verify_first").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false),
        round: count("round")?,
        lease_until: i64::try_from(get_n(item, &key, "lease_until")?).unwrap_or(i64::MAX),
        vars: match item.get("vars") {
            Some(AttributeValue::M(m)) => {
                m.iter().filter_map(|(k, v)| v.as_s().ok().map(|v| (k.clone(), v.clone()))).collect()
            }
            _ => domain::Vars::new(),
        },
    })
}

fn entry_from_item(id: &CampaignId, item: &Item) -> Result<MessageEntry, StoreError> {
    let text = |field: &str| item.get(field).and_then(|v| v.as_s().ok()).cloned();
    Ok(MessageEntry {
        row: row_from_item(id, item)?,
        updated_at: text("updated_at"),
        sent_at: text("sent_at"),
    })
}

/// How a two-item transaction (row + campaign) ended.
enum TxOutcome {
    Done,
    RowMoved,
    CampaignRefused,
}

fn tx_outcome(
    result: Result<
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput,
        aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError>,
    >,
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
enum CampaignGuard {
    /// Not cancelled: claims, pauses, re-queues.
    NotCancelled,
    /// Anything: a row being sent finishes as it ends, even after a cancel.
    Any,
    /// Cancelled: the rows a cancel stops.
    Cancelled,
}

/// One row moving between statuses, with its campaign counters, as one transaction.
struct RowMove {
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
    fn new(from: MessageStatus, to: MessageStatus, at: &str) -> Self {
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
    fn row_set(mut self, field: &'static str, v: AttributeValue) -> Self {
        self.row_set.push((field, v));
        self
    }
    fn row_remove(mut self, field: &'static str) -> Self {
        self.row_remove.push(field);
        self
    }
    /// The row must still hold this value (guards against a concurrent claim).
    fn row_expect(mut self, field: &'static str, v: AttributeValue) -> Self {
        self.row_expect.push((field, v));
        self
    }
    fn meta_set(mut self, field: &'static str, v: AttributeValue) -> Self {
        self.meta_set.push((field, v));
        self
    }
    fn guard(mut self, guard: CampaignGuard) -> Self {
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
    /// An update of the campaign row (`CAMPAIGN#<id>/META`).
    fn update_meta(
        &self,
        id: &CampaignId,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client.update_item().table_name(&self.table).key("PK", s(campaign_pk(id))).key("SK", s("META"))
    }

    /// One item by key, read consistently.
    async fn get(&self, pk: String, sk: String) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(pk))
            .key("SK", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        Ok(out.item)
    }

    async fn apply(&self, id: &CampaignId, seq: MessageSeq, mv: RowMove) -> Result<TxOutcome, StoreError> {
        let (extra_set, mut row_names, mut row_values) = set_clause(&mv.row_set, "r");
        let mut row_expr = "SET #st = :to, GSI1PK = :gsi, updated_at = :at".to_owned();
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
        row_values.insert(":gsi".into(), s(status_pk(id, mv.to)));
        row_values.insert(":at".into(), s(mv.at.clone()));
        let row = Update::builder()
            .table_name(&self.table)
            .key("PK", s(campaign_pk(id)))
            .key("SK", s(message_sk(seq)))
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
            .key("PK", s(campaign_pk(id)))
            .key("SK", s("META"))
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

    /// Marks the campaign COMPLETED once nothing is queued, sending or paused.
    async fn complete_if_done(&self, id: &CampaignId, at: &str) -> Result<(), StoreError> {
        let result = self
            .update_meta(id)
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
}

/// A conditional update's result: a failed condition means "does not apply", not an error.
fn conditional<T, E>(
    result: Result<T, aws_sdk_dynamodb::error::SdkError<E>>,
) -> Result<Transition, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    aws_sdk_dynamodb::error::SdkError<E>: std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(Transition::Applied),
        Err(e) if e.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException") => {
            Ok(Transition::NotApplicable)
        }
        Err(e) => Err(StoreError::unavailable(e)),
    }
}

fn meta_item(c: &NewCampaign) -> Item {
    let sendable = c.messages.iter().filter(|m| m.phone.is_ok()).count();
    let failed = c.messages.len() - sendable;
    let (status, queued, paused) = match c.paused {
        // Nothing to send (every number invalid): finished from the start.
        _ if sendable == 0 => (CampaignStatus::Completed, 0, 0),
        Some(_) => (CampaignStatus::Paused, 0, sendable),
        None => (CampaignStatus::Running, sendable, 0),
    };
    let mut item = HashMap::from([
        ("PK".into(), s(campaign_pk(&c.id))),
        ("SK".into(), s("META")),
        ("name".into(), s(c.name.clone())),
        ("account".into(), s(c.account.as_str())),
        ("template".into(), s(c.template.as_str())),
        ("status".into(), s(status.as_str())),
        ("total".into(), n(c.messages.len())),
        ("queued".into(), n(queued)),
        ("sending".into(), n(0)),
        ("sent".into(), n(0)),
        ("failed".into(), n(failed)),
        ("paused".into(), n(paused)),
        ("cancelled".into(), n(0)),
        ("created_at".into(), s(c.created_at.clone())),
        ("updated_at".into(), s(c.created_at.clone())),
    ]);
    if let (Some(p), true) = (&c.paused, sendable > 0) {
        item.insert("reason".into(), s(p.code.as_str()));
        item.insert("hint".into(), s(p.hint.clone()));
    }
    item
}

fn message_item(c: &NewCampaign, m: &crate::model::NewMessage) -> Item {
    let status = m.initial_status(c.paused.is_some());
    let mut item = HashMap::from([
        ("PK".into(), s(campaign_pk(&c.id))),
        ("SK".into(), s(message_sk(m.seq))),
        ("GSI1PK".into(), s(status_pk(&c.id, status))),
        ("GSI1SK".into(), s(m.seq.sort_key())),
        ("account".into(), s(c.account.as_str())),
        ("status".into(), s(status.as_str())),
        ("attempts".into(), n(0)),
        ("round".into(), n(0)),
    ]);
    match &m.phone {
        Ok(p) => {
            if let Some(reason) = &c.paused {
                item.insert("error_code".into(), s(reason.code.as_str()));
            }
            item.insert("phone".into(), s(p.e164()))
        }
        Err(raw) => {
            item.insert("error_code".into(), s(ErrorCode::InvalidPhone.as_str()));
            item.insert("phone".into(), s(raw.clone()))
        }
    };
    if !m.vars.is_empty() {
        let vars = m.vars.iter().map(|(k, v)| (k.clone(), s(v.clone()))).collect();
        item.insert("vars".into(), AttributeValue::M(vars));
    }
    item
}

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
}

#[async_trait]
impl CampaignStore for DynamoCampaignStore {
    async fn create_campaign(&self, c: &NewCampaign) -> Result<(), StoreError> {
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

    async fn campaign(&self, id: &CampaignId) -> Result<Option<CampaignView>, StoreError> {
        let Some(item) = self.get(campaign_pk(id), "META".into()).await? else { return Ok(None) };
        let key = campaign_pk(id);
        Ok(Some(CampaignView {
            id: id.clone(),
            name: get_s(&item, &key, "name")?.to_owned(),
            account: AccountId::parse(get_s(&item, &key, "account")?)
                .map_err(|e| StoreError::Malformed { key: key.clone(), reason: e.to_string() })?,
            status: parse_field(&item, &key, "status")?,
            counts: Counters {
                total: get_n(&item, &key, "total")?,
                queued: get_n(&item, &key, "queued")?,
                sending: get_n(&item, &key, "sending")?,
                sent: get_n(&item, &key, "sent")?,
                failed: get_n(&item, &key, "failed")?,
                paused: get_n(&item, &key, "paused")?,
                cancelled: get_n(&item, &key, "cancelled")?,
            },
            reason: parse_code(&item, "reason"),
            hint: item.get("hint").and_then(|v| v.as_s().ok()).cloned(),
            notice: parse_code(&item, "notice"),
            template: get_s(&item, &key, "template")?.to_owned(),
            created_at: get_s(&item, &key, "created_at")?.to_owned(),
            updated_at: get_s(&item, &key, "updated_at")?.to_owned(),
        }))
    }

    async fn message(&self, id: &CampaignId, seq: MessageSeq) -> Result<Option<MessageRow>, StoreError> {
        self.get(campaign_pk(id), message_sk(seq)).await?.map(|item| row_from_item(id, &item)).transpose()
    }

    async fn resume_campaign(
        &self,
        id: &CampaignId,
        at: &str,
        reopen_completed: bool,
    ) -> Result<Transition, StoreError> {
        // With `reopen_completed` false, `:reopen` is PAUSED again, so only PAUSED matches.
        let reopen = if reopen_completed { CampaignStatus::Completed } else { CampaignStatus::Paused };
        let result = self
            .update_meta(id)
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

    async fn settle_campaign(&self, id: &CampaignId, at: &str) -> Result<(), StoreError> {
        self.complete_if_done(id, at).await?;
        // A retry that re-queued rows after the campaign had completed meanwhile: running again.
        let result = self
            .update_meta(id)
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

    async fn messages_in_status(
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
            .index_name("GSI1")
            .expression_attribute_values(":pk", s(status_pk(id, status)))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX));
        // Key values may not be empty strings, so the first page has no lower bound at all.
        query = match after {
            Some(after) => query
                .key_condition_expression("GSI1PK = :pk AND GSI1SK > :after")
                .expression_attribute_values(":after", s(after.sort_key())),
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

    async fn list_messages(
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
                .index_name("GSI1")
                .key_condition_expression("GSI1PK = :pk")
                .expression_attribute_values(":pk", s(status_pk(id, status))),
            (Some(status), Some(after)) => query
                .index_name("GSI1")
                .key_condition_expression("GSI1PK = :pk AND GSI1SK > :after")
                .expression_attribute_values(":pk", s(status_pk(id, status)))
                .expression_attribute_values(":after", s(after.sort_key())),
            // The campaign's partition holds META and MSG#<seq> rows; the range keeps to the rows
            // after `after` (`~` sorts after every digit).
            (None, after) => query
                .key_condition_expression("PK = :pk AND SK BETWEEN :lo AND :hi")
                .expression_attribute_values(":pk", s(campaign_pk(id)))
                .expression_attribute_values(
                    ":lo",
                    s(after.map_or_else(
                        || "MSG#".to_owned(),
                        |a| message_sk(MessageSeq(a.0.saturating_add(1))),
                    )),
                )
                .expression_attribute_values(":hi", s("MSG#~")),
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

    async fn pause_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        reason: &PauseReason,
    ) -> Result<Transition, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(row) = self.message(id, seq).await? else { return Ok(Transition::Missing) };
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
        Err(StoreError::Contended(format!("{}/{}", campaign_pk(id), message_sk(seq))))
    }

    async fn requeue_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        from: MessageStatus,
        at: &str,
    ) -> Result<Option<QueuedMessage>, StoreError> {
        let Some(row) = self.message(id, seq).await? else { return Ok(None) };
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

    async fn claim_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        lease: &Lease,
    ) -> Result<Claim, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(row) = self.message(id, seq).await? else { return Ok(Claim::Missing) };
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
                            self.cancel_message(id, seq, MessageStatus::Queued, &lease.at).await?;
                            return Ok(Claim::Settled);
                        }
                        TxOutcome::RowMoved => continue,
                    }
                }
                MessageStatus::Sending if row.lease_until < lease.now => {
                    // An earlier attempt lost its lease: take it over, counters stay as they are.
                    // After a cancel the new attempt may only look, not send.
                    let cancelled = match self.get(campaign_pk(id), "META".into()).await? {
                        Some(meta) => {
                            get_s(&meta, &campaign_pk(id), "status")? == CampaignStatus::Cancelled.as_str()
                        }
                        None => false,
                    };
                    let result = self
                        .client
                        .update_item()
                        .table_name(&self.table)
                        .key("PK", s(campaign_pk(id)))
                        .key("SK", s(message_sk(seq)))
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
        Err(StoreError::Contended(format!("{}/{}", campaign_pk(id), message_sk(seq))))
    }

    async fn finish_message(
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

    async fn record_notice(&self, id: &CampaignId, notice: ErrorCode, at: &str) -> Result<(), StoreError> {
        self.update_meta(id)
            .update_expression("SET notice = :notice, notice_at = :at, updated_at = :at")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":notice", s(notice.as_str()))
            .expression_attribute_values(":at", s(at))
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        Ok(())
    }

    async fn session(&self, account: &AccountId) -> Result<Option<SessionRecord>, StoreError> {
        let Some(item) = self.get(format!("ACCOUNT#{account}"), "SESSION".into()).await? else {
            return Ok(None);
        };
        let key = format!("ACCOUNT#{account}/SESSION");
        Ok(Some(SessionRecord {
            state: parse_field::<SessionState>(&item, &key, "state")?,
            current_key: item.get("current_key").and_then(|v| v.as_s().ok()).cloned(),
            version: get_n(&item, &key, "version")?,
        }))
    }

    async fn cancel_campaign(&self, id: &CampaignId, at: &str) -> Result<Transition, StoreError> {
        let result = self
            .update_meta(id)
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
            Transition::NotApplicable if self.get(campaign_pk(id), "META".into()).await?.is_none() => {
                Ok(Transition::Missing)
            }
            t => Ok(t),
        }
    }

    async fn cancel_message(
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

    async fn claim_idempotency(&self, claim: &IdempotencyClaim) -> Result<Idempotency, StoreError> {
        let pk = format!("IDEMPOTENCY#{}", claim.key_hash);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(pk.clone()))
            .key("SK", s("IDEMPOTENCY"))
            .update_expression(
                "SET #fp = :fp, #cid = if_not_exists(#cid, :cid), #until = :until, #done = :no, #exp = :exp",
            )
            .condition_expression("attribute_not_exists(PK) OR (#fp = :fp AND #done = :no AND #until < :now)")
            .expression_attribute_names("#fp", "fingerprint")
            .expression_attribute_names("#cid", "campaign_id")
            .expression_attribute_names("#until", "locked_until")
            .expression_attribute_names("#done", "finished")
            .expression_attribute_names("#exp", "expires_at")
            .expression_attribute_values(":fp", s(claim.fingerprint.clone()))
            .expression_attribute_values(":cid", s(claim.campaign_id.as_str()))
            .expression_attribute_values(":until", n(claim.until))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .expression_attribute_values(":exp", n(claim.expires_at))
            .expression_attribute_values(":now", n(claim.now))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        let campaign_of = |item: &Item| -> Result<CampaignId, StoreError> {
            CampaignId::parse(get_s(item, &pk, "campaign_id")?)
                .map_err(|e| StoreError::Malformed { key: pk.clone(), reason: e.to_string() })
        };
        match result {
            Ok(out) => {
                let item = out.attributes.unwrap_or_default();
                Ok(Idempotency::Owned { campaign_id: campaign_of(&item)? })
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                let Some(item) = self.get(pk.clone(), "IDEMPOTENCY".into()).await? else {
                    // Gone between the two calls (expired): the caller may simply retry.
                    return Ok(Idempotency::InProgress { until: claim.now });
                };
                if get_s(&item, &pk, "fingerprint")? != claim.fingerprint {
                    return Ok(Idempotency::Mismatch);
                }
                if item.get("finished").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false) {
                    return Ok(Idempotency::Done { campaign_id: campaign_of(&item)? });
                }
                let until = i64::try_from(get_n(&item, &pk, "locked_until")?).unwrap_or(i64::MAX);
                Ok(Idempotency::InProgress { until })
            }
            Err(e) => Err(StoreError::unavailable(e)),
        }
    }

    async fn release_idempotency(&self, key_hash: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(format!("IDEMPOTENCY#{key_hash}")))
            .key("SK", s("IDEMPOTENCY"))
            .update_expression("SET locked_until = :zero")
            .condition_expression("finished = :no")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .send()
            .await;
        conditional(result).map(|_| ())
    }

    async fn finish_idempotency(&self, key_hash: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("PK", s(format!("IDEMPOTENCY#{key_hash}")))
            .key("SK", s("IDEMPOTENCY"))
            .update_expression("SET finished = :yes")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        Ok(())
    }
}
