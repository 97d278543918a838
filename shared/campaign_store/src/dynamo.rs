//! `CampaignStore` on one DynamoDB table: batch writes for fan-out, conditional transactions for
//! every state change so counters never drift and retries stay safe.

use crate::model::{CampaignView, Counters, MessageRow, NewCampaign, PauseReason, SessionRecord};
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
const CONCURRENCY: usize = 4;
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

fn meta_item(c: &NewCampaign) -> Item {
    let queued = c.messages.iter().filter(|m| m.phone.is_ok()).count();
    let failed = c.messages.len() - queued;
    HashMap::from([
        ("PK".into(), s(campaign_pk(&c.id))),
        ("SK".into(), s("META")),
        ("name".into(), s(c.name.clone())),
        ("account".into(), s(c.account.as_str())),
        ("template".into(), s(c.template.as_str())),
        ("status".into(), s(CampaignStatus::Running.as_str())),
        ("total".into(), n(c.messages.len())),
        ("queued".into(), n(queued)),
        ("sending".into(), n(0)),
        ("sent".into(), n(0)),
        ("failed".into(), n(failed)),
        ("paused".into(), n(0)),
        ("cancelled".into(), n(0)),
        ("created_at".into(), s(c.created_at.clone())),
        ("updated_at".into(), s(c.created_at.clone())),
    ])
}

fn message_item(c: &NewCampaign, m: &crate::model::NewMessage) -> Item {
    let status = m.initial_status();
    let mut item = HashMap::from([
        ("PK".into(), s(campaign_pk(&c.id))),
        ("SK".into(), s(message_sk(m.seq))),
        ("GSI1PK".into(), s(status_pk(&c.id, status))),
        ("GSI1SK".into(), s(m.seq.sort_key())),
        ("account".into(), s(c.account.as_str())),
        ("status".into(), s(status.as_str())),
        ("attempts".into(), n(0)),
    ]);
    match &m.phone {
        Ok(p) => item.insert("phone".into(), s(p.e164())),
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
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(campaign_pk(id)))
            .key("SK", s("META"))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        let Some(item) = out.item else { return Ok(None) };
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
            created_at: get_s(&item, &key, "created_at")?.to_owned(),
            updated_at: get_s(&item, &key, "updated_at")?.to_owned(),
        }))
    }

    async fn message(&self, id: &CampaignId, seq: MessageSeq) -> Result<Option<MessageRow>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(campaign_pk(id)))
            .key("SK", s(message_sk(seq)))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        let Some(item) = out.item else { return Ok(None) };
        let key = format!("{}/{}", campaign_pk(id), message_sk(seq));
        Ok(Some(MessageRow {
            campaign: id.clone(),
            seq,
            account: AccountId::parse(get_s(&item, &key, "account")?)
                .map_err(|e| StoreError::Malformed { key: key.clone(), reason: e.to_string() })?,
            phone: get_s(&item, &key, "phone")?.to_owned(),
            status: parse_field(&item, &key, "status")?,
            attempts: u32::try_from(get_n(&item, &key, "attempts")?).unwrap_or(u32::MAX),
            error: parse_code(&item, "error_code"),
        }))
    }

    async fn pause_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        reason: &PauseReason,
    ) -> Result<Transition, StoreError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(row) = self.message(id, seq).await? else { return Ok(Transition::NotApplicable) };
            let from = row.status;
            if !matches!(from, MessageStatus::Queued | MessageStatus::Sending) {
                return Ok(Transition::NotApplicable);
            }
            let to = MessageStatus::Paused;
            let msg = Update::builder()
                .table_name(&self.table)
                .key("PK", s(campaign_pk(id)))
                .key("SK", s(message_sk(seq)))
                .update_expression("SET #st = :to, GSI1PK = :gsi, error_code = :code, updated_at = :at")
                .condition_expression("#st = :from")
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":to", s(to.as_str()))
                .expression_attribute_values(":from", s(from.as_str()))
                .expression_attribute_values(":gsi", s(status_pk(id, to)))
                .expression_attribute_values(":code", s(reason.code.as_str()))
                .expression_attribute_values(":at", s(reason.at.clone()))
                .build()
                .map_err(StoreError::unavailable)?;
            let meta = Update::builder()
                .table_name(&self.table)
                .key("PK", s(campaign_pk(id)))
                .key("SK", s("META"))
                .update_expression(
                    "SET #from = #from - :one, #to = #to + :one, #st = :paused, reason = :code, hint = :hint, updated_at = :at",
                )
                .condition_expression("attribute_exists(PK) AND #st <> :cancelled")
                .expression_attribute_names("#from", crate::model::Counters::field(from))
                .expression_attribute_names("#to", crate::model::Counters::field(to))
                .expression_attribute_names("#st", "status")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":paused", s(CampaignStatus::Paused.as_str()))
                .expression_attribute_values(":cancelled", s(CampaignStatus::Cancelled.as_str()))
                .expression_attribute_values(":code", s(reason.code.as_str()))
                .expression_attribute_values(":hint", s(reason.hint.clone()))
                .expression_attribute_values(":at", s(reason.at.clone()))
                .build()
                .map_err(StoreError::unavailable)?;
            let result = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().update(msg).build())
                .transact_items(TransactWriteItem::builder().update(meta).build())
                .send()
                .await;
            match result {
                Ok(_) => return Ok(Transition::Applied),
                Err(err) => {
                    let reasons: Vec<Option<String>> = err
                        .as_service_error()
                        .and_then(|e| match e {
                            TransactWriteItemsError::TransactionCanceledException(tce) => Some(tce),
                            _ => None,
                        })
                        .map(|tce| {
                            tce.cancellation_reasons().iter().map(|r| r.code().map(str::to_owned)).collect()
                        })
                        .unwrap_or_default();
                    if reasons.is_empty() {
                        return Err(StoreError::unavailable(err));
                    }
                    let failed = |i: usize| {
                        reasons.get(i).cloned().flatten().is_some_and(|c| c == "ConditionalCheckFailed")
                    };
                    if failed(1) {
                        // The campaign was cancelled (or deleted): a pause no longer applies.
                        return Ok(Transition::NotApplicable);
                    }
                    if !failed(0) {
                        return Err(StoreError::unavailable(err));
                    }
                    // The row moved between our read and the write: read again.
                }
            }
        }
        Err(StoreError::Contended(format!("{}/{}", campaign_pk(id), message_sk(seq))))
    }

    async fn session(&self, account: &AccountId) -> Result<Option<SessionRecord>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("PK", s(format!("ACCOUNT#{account}")))
            .key("SK", s("SESSION"))
            .consistent_read(true)
            .send()
            .await
            .map_err(StoreError::unavailable)?;
        let Some(item) = out.item else { return Ok(None) };
        let key = format!("ACCOUNT#{account}/SESSION");
        Ok(Some(SessionRecord {
            state: parse_field::<SessionState>(&item, &key, "state")?,
            current_key: item.get("current_key").and_then(|v| v.as_s().ok()).cloned(),
            version: get_n(&item, &key, "version")?,
        }))
    }
}
