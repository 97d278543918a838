//! `S3ProfileStore`: generations as write-once S3 objects (`If-None-Match: *`), their metadata
//! and the session pointer as DynamoDB items moved by conditional updates.

use crate::backend::Backend;
use crate::engine::{Engine, delegate_profile_store};
use crate::model::{GenerationId, GenerationInfo, GenerationState, SessionPointer};
use crate::{SessionStoreError, StoreConfig};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};
use aws_sdk_s3::primitives::ByteStream;
use domain::{AccountId, SessionHealth};
use domain::{SharedClock, system_clock};
use platform::retry;
use table_layout::keys;
use time::OffsetDateTime;

mod items;
mod linked;
mod pointers;
mod transact;

use items::{Item, generation_key, n, parse_generation, s, session_key, stamp};
pub use pointers::DynamoSessionPointers;
use pointers::read_pointer;
use table_layout::codec::key_item;
use transact::transact;

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

impl AwsBackend {
    /// The size of the object at `key`, `None` when there is none.
    async fn object_len(&self, key: &str) -> Result<Option<usize>, SessionStoreError> {
        let request = self.s3.head_object().bucket(&self.bucket).key(key);
        match retry::call(|| request.clone().send()).await {
            Ok(out) => Ok(out.content_length().and_then(|n| usize::try_from(n).ok())),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_not_found()) => Ok(None),
            Err(e) => Err(SessionStoreError::unavailable(format!("S3 HeadObject {key}"), e)),
        }
    }
}

#[async_trait]
impl Backend for AwsBackend {
    async fn put_new_object(&self, key: &str, bytes: Vec<u8>) -> Result<(), SessionStoreError> {
        let len = bytes.len();
        let body = aws_sdk_s3::primitives::SdkBody::from(bytes);
        let result = retry::call(|| {
            self.s3
                .put_object()
                .bucket(&self.bucket)
                .key(key)
                .if_none_match("*")
                .content_type("application/octet-stream")
                .body(ByteStream::new(
                    body.try_clone().unwrap_or_else(aws_sdk_s3::primitives::SdkBody::empty),
                ))
                .send()
        })
        .await;
        let refused =
            |e: &aws_sdk_s3::error::SdkError<_>| e.raw_response().map(|r| r.status().as_u16()) == Some(412);
        match result {
            Ok(_) => Ok(()),
            // Keys are fresh generation ids, written by this call only: refused, the object there
            // is from a try of this call whose reply was lost (the SDK's or ours) if it has this
            // size.
            Err(e) if refused(&e) && self.object_len(key).await? == Some(len) => Ok(()),
            Err(e) if refused(&e) => Err(SessionStoreError::Conflict(format!("object {key} already exists"))),
            Err(e) => Err(SessionStoreError::unavailable(format!("S3 PutObject {key}"), e)),
        }
    }

    async fn get_object(&self, key: &str, max: u64) -> Result<Vec<u8>, SessionStoreError> {
        let request = self.s3.get_object().bucket(&self.bucket).key(key);
        let out = match retry::call(|| request.clone().send()).await {
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
        let request = self.s3.delete_object().bucket(&self.bucket).key(key);
        retry::call(|| request.clone().send())
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
        let mut update = Update::builder()
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
            update = update.expression_attribute_values(":st", s(SessionHealth::Ready.as_str()));
        } else {
            set.push("#st = if_not_exists(#st, :st)");
            update = update.expression_attribute_values(":st", s(SessionHealth::Unknown.as_str()));
        }
        if let Some(t) = backup_time {
            set.push("#lb = :lb");
            update = update
                .expression_attribute_names("#lb", "last_backup")
                .expression_attribute_values(":lb", stamp(t));
        }
        let condition =
            if expected == 0 { "attribute_not_exists(#v) OR #v = :expected" } else { "#v = :expected" };
        let update = update
            .update_expression(format!("SET {}", set.join(", ")))
            .condition_expression(condition)
            .build()
            .map_err(|e| SessionStoreError::unavailable("DynamoDB Update SESSION", e))?;
        // The generation must still exist: a retention that deleted it first wins the race.
        let exists = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(generation_key(account, &to.id)))
            .condition_expression("attribute_exists(SK)")
            .build()
            .map_err(|e| SessionStoreError::unavailable("DynamoDB ConditionCheck GEN", e))?;
        // Listed as linked with every move (a put of the same item: idempotent), so the keeper
        // finds every account that has a session.
        let listed = Put::builder()
            .table_name(&self.table)
            .set_item(Some(key_item(&keys::linked_account(account))))
            .build()
            .map_err(|e| SessionStoreError::unavailable("DynamoDB Put LINKED", e))?;
        let request = self
            .dynamo
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(TransactWriteItem::builder().condition_check(exists).build())
            .transact_items(TransactWriteItem::builder().put(listed).build());
        if transact(request, "DynamoDB TransactWriteItems SESSION").await? {
            return Ok(true);
        }
        // Refused: a try of this call whose reply was lost (the SDK's or ours) may be what moved
        // it, which the pointer shows (one version on, at this generation).
        Ok(self
            .get_pointer(account)
            .await?
            .is_some_and(|p| p.version == expected + 1 && p.current.as_ref() == Some(&to.id)))
    }

    async fn set_state(
        &self,
        account: &AccountId,
        state: SessionHealth,
        now: OffsetDateTime,
        expected: Option<u64>,
    ) -> Result<bool, SessionStoreError> {
        let mut req = self
            .dynamo
            .update_item()
            .table_name(&self.table)
            .set_key(Some(session_key(account)))
            .update_expression("SET #st = :st, #lc = :lc")
            .expression_attribute_names("#st", "state")
            .expression_attribute_names("#lc", "last_check")
            .expression_attribute_values(":st", s(state.as_str()))
            .expression_attribute_values(":lc", stamp(now));
        if let Some(version) = expected {
            req = req
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", "version")
                .expression_attribute_values(":v", n(version));
        }
        // Setting a state is idempotent, and its condition (the version) is not changed by it:
        // a try after a lost reply is refused only if the pointer really moved.
        match retry::call(|| req.clone().send()).await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Ok(false)
            }
            Err(e) => Err(SessionStoreError::unavailable("DynamoDB UpdateItem SESSION state", e)),
        }
    }

    async fn set_linked(&self, account: &AccountId, at: OffsetDateTime) -> Result<bool, SessionStoreError> {
        self.write_linked_at(account, at).await
    }

    async fn put_generation(
        &self,
        account: &AccountId,
        info: &GenerationInfo,
    ) -> Result<(), SessionStoreError> {
        let request = self
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
            .condition_expression("attribute_not_exists(SK)");
        let request = match info.last_ready {
            Some(at) => request.item("last_ready", stamp(at)),
            None => request,
        };
        match retry::call(|| request.clone().send()).await {
            Ok(_) => Ok(()),
            // Refused: the item there is from a try of this call whose reply was lost if it names
            // the same archive.
            Err(e)
                if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception())
                    && self
                        .get_generation(account, &info.id)
                        .await?
                        .is_some_and(|g| g.sha256 == info.sha256) =>
            {
                Ok(())
            }
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
        let request = self
            .dynamo
            .get_item()
            .table_name(&self.table)
            .set_key(Some(generation_key(account, id)))
            .consistent_read(true);
        let out = retry::call(|| request.clone().send())
            .await
            .map_err(|e| SessionStoreError::unavailable("DynamoDB GetItem GEN", e))?;
        out.item.as_ref().map(parse_generation).transpose()
    }

    async fn list_generations(&self, account: &AccountId) -> Result<Vec<GenerationInfo>, SessionStoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let request = self
                .dynamo
                .query()
                .table_name(&self.table)
                .key_condition_expression("PK = :pk AND begins_with(SK, :gen)")
                .expression_attribute_values(":pk", s(keys::account_partition(account)))
                .expression_attribute_values(":gen", s(keys::generation_prefix()))
                .scan_index_forward(false)
                .consistent_read(true)
                .set_exclusive_start_key(start.take());
            let page = retry::call(|| request.clone().send())
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

    async fn linked_accounts(
        &self,
        after: Option<&AccountId>,
        limit: u32,
    ) -> Result<Vec<AccountId>, SessionStoreError> {
        self.query_linked(after, limit).await
    }

    async fn update_generation(
        &self,
        account: &AccountId,
        id: &GenerationId,
        state: Option<GenerationState>,
        bad: Option<bool>,
        ready_at: Option<OffsetDateTime>,
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
        if let Some(at) = ready_at {
            set.push("#lr = :lr");
            req = req
                .expression_attribute_names("#lr", "last_ready")
                .expression_attribute_values(":lr", stamp(at));
        }
        if set.is_empty() {
            return Ok(self.get_generation(account, id).await?.is_some());
        }
        // Idempotent: a try after a lost reply sets the same values again.
        let req = req.update_expression(format!("SET {}", set.join(", ")));
        match retry::call(|| req.clone().send()).await {
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
        pointer_version: u64,
    ) -> Result<bool, SessionStoreError> {
        let unmoved = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(session_key(account)))
            .condition_expression(if pointer_version == 0 {
                "attribute_not_exists(#v) OR #v = :v"
            } else {
                "#v = :v"
            })
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":v", n(pointer_version))
            .build()
            .map_err(|e| SessionStoreError::unavailable("DynamoDB ConditionCheck SESSION", e))?;
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(generation_key(account, id)))
            .build()
            .map_err(|e| SessionStoreError::unavailable("DynamoDB Delete GEN", e))?;
        // Idempotent: deleting what is gone succeeds, and the delete does not move the pointer.
        let request = self
            .dynamo
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().condition_check(unmoved).build())
            .transact_items(TransactWriteItem::builder().delete(delete).build());
        transact(request, "DynamoDB TransactWriteItems GEN delete").await
    }
}
