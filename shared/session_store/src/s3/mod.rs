//! `S3ProfileStore`: generations as write-once S3 objects (`If-None-Match: *`), their metadata
//! and the session pointer as DynamoDB items moved by conditional updates.

use crate::engine::{Backend, Engine, delegate_profile_store};
use crate::model::{GenerationId, GenerationInfo, GenerationState, SessionPointer};
use crate::{SessionStoreError, StoreConfig};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::primitives::ByteStream;
use domain::{AccountId, SessionHealth};
use domain::{SharedClock, system_clock};
use table_layout::keys;
use time::OffsetDateTime;

mod items;

use items::{Item, generation_key, n, parse_generation, parse_pointer, s, session_key, stamp};

/// The AWS backend.
pub(crate) struct AwsBackend {
    s3: aws_sdk_s3::Client,
    dynamo: aws_sdk_dynamodb::Client,
    bucket: String,
    table: String,
}

/// The `ProfileStore` on S3 (objects) and DynamoDB (pointer and generation items).
pub struct S3ProfileStore(Engine<AwsBackend>);

impl S3ProfileStore {
    /// Uses `config.bucket` through `s3` and `config.table` through `dynamo`, with the wall clock.
    pub fn new(s3: aws_sdk_s3::Client, dynamo: aws_sdk_dynamodb::Client, config: StoreConfig) -> Self {
        let backend = AwsBackend { s3, dynamo, bucket: config.bucket.clone(), table: config.table.clone() };
        Self(Engine::new(backend, config, system_clock()))
    }

    /// Replaces the clock (generation ids and timestamps come from it).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.0.set_clock(clock);
        self
    }

    /// The configuration in use.
    pub fn config(&self) -> &StoreConfig {
        &self.0.config
    }
}

delegate_profile_store!(S3ProfileStore);

/// The session pointers alone, read from the table: for the components that need an account's
/// session health and nothing else of its profile (no S3 access at all).
pub struct DynamoSessionPointers {
    dynamo: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoSessionPointers {
    /// Reads the pointers of `table` through `dynamo`.
    pub fn new(dynamo: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { dynamo, table: table.into() }
    }
}

#[async_trait]
impl crate::SessionPointers for DynamoSessionPointers {
    async fn pointer(&self, account: &AccountId) -> Result<Option<SessionPointer>, SessionStoreError> {
        read_pointer(&self.dynamo, &self.table, account).await
    }
}

/// The account's `SESSION` item, read consistently.
async fn read_pointer(
    dynamo: &aws_sdk_dynamodb::Client,
    table: &str,
    account: &AccountId,
) -> Result<Option<SessionPointer>, SessionStoreError> {
    let out = dynamo
        .get_item()
        .table_name(table)
        .set_key(Some(session_key(account)))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| SessionStoreError::unavailable("DynamoDB GetItem SESSION", e))?;
    match out.item {
        None => Ok(None),
        Some(item) => parse_pointer(&item, &keys::session(account).to_string()).map(Some),
    }
}

#[async_trait]
impl Backend for AwsBackend {
    async fn put_new_object(&self, key: &str, bytes: Vec<u8>) -> Result<(), SessionStoreError> {
        let result = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match("*")
            .content_type("application/octet-stream")
            .body(ByteStream::from(bytes))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.raw_response().map(|r| r.status().as_u16()) == Some(412) => {
                Err(SessionStoreError::Conflict(format!("object {key} already exists")))
            }
            Err(e) => Err(SessionStoreError::unavailable(format!("S3 PutObject {key}"), e)),
        }
    }

    async fn get_object(&self, key: &str, max: u64) -> Result<Vec<u8>, SessionStoreError> {
        let out = match self.s3.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|se| se.is_no_such_key()) => {
                return Err(SessionStoreError::NotFound(format!("object {key}")));
            }
            Err(e) => return Err(SessionStoreError::unavailable(format!("S3 GetObject {key}"), e)),
        };
        if out.content_length().is_some_and(|len| u64::try_from(len).unwrap_or(u64::MAX) > max) {
            return Err(SessionStoreError::hostile(key, format!("stored object larger than {max} bytes")));
        }
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| SessionStoreError::unavailable(format!("S3 GetObject {key} body"), e))?;
        let bytes = body.into_bytes();
        if bytes.len() as u64 > max {
            return Err(SessionStoreError::hostile(key, format!("stored object larger than {max} bytes")));
        }
        Ok(bytes.to_vec())
    }

    async fn delete_object(&self, key: &str) -> Result<(), SessionStoreError> {
        self.s3
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| SessionStoreError::unavailable(format!("S3 DeleteObject {key}"), e))?;
        Ok(())
    }

    async fn get_pointer(&self, account: &AccountId) -> Result<Option<SessionPointer>, SessionStoreError> {
        read_pointer(&self.dynamo, &self.table, account).await
    }

    async fn move_pointer(
        &self,
        account: &AccountId,
        expected: u64,
        to: &GenerationInfo,
        backup_time: Option<OffsetDateTime>,
    ) -> Result<bool, SessionStoreError> {
        let mut set = vec!["#cur = :cur", "#key = :key", "#sha = :sha", "#v = :next"];
        let mut req = self
            .dynamo
            .update_item()
            .table_name(&self.table)
            .set_key(Some(session_key(account)))
            .expression_attribute_names("#cur", "current_generation")
            .expression_attribute_names("#key", "current_key")
            .expression_attribute_names("#sha", "sha256")
            .expression_attribute_names("#v", "version")
            .expression_attribute_names("#st", "state")
            .expression_attribute_values(":cur", s(to.id.as_str()))
            .expression_attribute_values(":key", s(&to.key))
            .expression_attribute_values(":sha", s(&to.sha256))
            .expression_attribute_values(":next", n(expected + 1))
            .expression_attribute_values(":expected", n(expected));
        if to.state == GenerationState::Ready {
            set.push("#st = :st");
            req = req.expression_attribute_values(":st", s(SessionHealth::Ready.as_str()));
        } else {
            set.push("#st = if_not_exists(#st, :st)");
            req = req.expression_attribute_values(":st", s(SessionHealth::Unknown.as_str()));
        }
        if let Some(t) = backup_time {
            set.push("#lb = :lb");
            req = req
                .expression_attribute_names("#lb", "last_backup")
                .expression_attribute_values(":lb", stamp(t));
        }
        let condition =
            if expected == 0 { "attribute_not_exists(#v) OR #v = :expected" } else { "#v = :expected" };
        let result = req
            .update_expression(format!("SET {}", set.join(", ")))
            .condition_expression(condition)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Ok(false)
            }
            Err(e) => Err(SessionStoreError::unavailable("DynamoDB UpdateItem SESSION", e)),
        }
    }

    async fn set_state(
        &self,
        account: &AccountId,
        state: SessionHealth,
        now: OffsetDateTime,
    ) -> Result<(), SessionStoreError> {
        self.dynamo
            .update_item()
            .table_name(&self.table)
            .set_key(Some(session_key(account)))
            .update_expression("SET #st = :st, #lc = :lc")
            .expression_attribute_names("#st", "state")
            .expression_attribute_names("#lc", "last_check")
            .expression_attribute_values(":st", s(state.as_str()))
            .expression_attribute_values(":lc", stamp(now))
            .send()
            .await
            .map_err(|e| SessionStoreError::unavailable("DynamoDB UpdateItem SESSION state", e))?;
        Ok(())
    }

    async fn put_generation(
        &self,
        account: &AccountId,
        info: &GenerationInfo,
    ) -> Result<(), SessionStoreError> {
        let result = self
            .dynamo
            .put_item()
            .table_name(&self.table)
            .set_item(Some(generation_key(account, &info.id)))
            .item("key", s(&info.key))
            .item("sha256", s(&info.sha256))
            .item("size", n(info.size))
            .item("created", stamp(info.created))
            .item("state", s(info.state.as_str()))
            .item("bad", AttributeValue::Bool(info.bad))
            .item("encrypted", AttributeValue::Bool(info.encrypted))
            .condition_expression("attribute_not_exists(SK)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Err(SessionStoreError::Conflict(format!("generation {} already exists", info.id)))
            }
            Err(e) => Err(SessionStoreError::unavailable("DynamoDB PutItem GEN", e)),
        }
    }

    async fn get_generation(
        &self,
        account: &AccountId,
        id: &GenerationId,
    ) -> Result<Option<GenerationInfo>, SessionStoreError> {
        let out = self
            .dynamo
            .get_item()
            .table_name(&self.table)
            .set_key(Some(generation_key(account, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| SessionStoreError::unavailable("DynamoDB GetItem GEN", e))?;
        out.item.as_ref().map(parse_generation).transpose()
    }

    async fn list_generations(&self, account: &AccountId) -> Result<Vec<GenerationInfo>, SessionStoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .dynamo
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :gen)")
                .expression_attribute_values(":pk", s(keys::account_partition(account)))
                .expression_attribute_values(":gen", s(keys::generation_prefix()))
                .scan_index_forward(false)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| SessionStoreError::unavailable("DynamoDB Query GEN", e))?;
            for item in page.items() {
                out.push(parse_generation(item)?);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        // The sort key orders them already; sorting again costs nothing and guards emulators.
        out.sort_by(|a, b| b.id.cmp(&a.id));
        Ok(out)
    }

    async fn update_generation(
        &self,
        account: &AccountId,
        id: &GenerationId,
        state: Option<GenerationState>,
        bad: Option<bool>,
    ) -> Result<bool, SessionStoreError> {
        let mut set = Vec::new();
        let mut req = self
            .dynamo
            .update_item()
            .table_name(&self.table)
            .set_key(Some(generation_key(account, id)))
            .condition_expression("attribute_exists(SK)");
        if let Some(st) = state {
            set.push("#st = :st");
            req = req
                .expression_attribute_names("#st", "state")
                .expression_attribute_values(":st", s(st.as_str()));
        }
        if let Some(b) = bad {
            set.push("#bad = :bad");
            req = req
                .expression_attribute_names("#bad", "bad")
                .expression_attribute_values(":bad", AttributeValue::Bool(b));
        }
        if set.is_empty() {
            return Ok(self.get_generation(account, id).await?.is_some());
        }
        match req.update_expression(format!("SET {}", set.join(", "))).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Ok(false)
            }
            Err(e) => Err(SessionStoreError::unavailable("DynamoDB UpdateItem GEN", e)),
        }
    }

    async fn delete_generation(
        &self,
        account: &AccountId,
        id: &GenerationId,
    ) -> Result<(), SessionStoreError> {
        self.dynamo
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(generation_key(account, id)))
            .send()
            .await
            .map_err(|e| SessionStoreError::unavailable("DynamoDB DeleteItem GEN", e))?;
        Ok(())
    }
}
