//! The storage port the engine is written over: write-once objects, a compare-and-set pointer
//! and generation items. The S3 + DynamoDB adapter and the in-memory fake implement it.

use crate::SessionStoreError;
use crate::model::{GenerationId, GenerationInfo, GenerationState, SessionPointer};
use async_trait::async_trait;
use domain::{AccountId, SessionHealth};
use time::OffsetDateTime;

/// What the engine needs from storage. Every method maps its failures to `SessionStoreError`.
#[async_trait]
pub(crate) trait Backend: Send + Sync {
    /// Writes `bytes` at `key` unless something is already there (`Conflict` then).
    async fn put_new_object(&self, key: &str, bytes: Vec<u8>) -> Result<(), SessionStoreError>;
    /// Reads the object; `NotFound` when absent, `Hostile` when larger than `max`.
    async fn get_object(&self, key: &str, max: u64) -> Result<Vec<u8>, SessionStoreError>;
    /// Deletes the object (absent is fine).
    async fn delete_object(&self, key: &str) -> Result<(), SessionStoreError>;
    /// The `SESSION` item.
    async fn get_pointer(&self, account: &AccountId) -> Result<Option<SessionPointer>, SessionStoreError>;
    /// Points at `to` if the version is still `expected` (0: no pointer yet) and `to`'s
    /// generation item still exists, bumping the version and listing the account as linked;
    /// `Ok(false)` when either is no longer so.
    async fn move_pointer(
        &self,
        account: &AccountId,
        expected: u64,
        to: &GenerationInfo,
        backup_time: Option<OffsetDateTime>,
    ) -> Result<bool, SessionStoreError>;
    /// Sets `state` and `last_check` on the session pointer, creating it if needed; with
    /// `expected`, only while its version still is that one (`Ok(false)` otherwise).
    async fn set_state(
        &self,
        account: &AccountId,
        state: SessionHealth,
        now: OffsetDateTime,
        expected: Option<u64>,
    ) -> Result<bool, SessionStoreError>;
    /// Sets `linked_at` on an existing session pointer; `Ok(false)` when there is none.
    async fn set_linked(&self, account: &AccountId, at: OffsetDateTime) -> Result<bool, SessionStoreError>;
    /// Creates a generation item.
    async fn put_generation(
        &self,
        account: &AccountId,
        info: &GenerationInfo,
    ) -> Result<(), SessionStoreError>;
    /// One generation item.
    async fn get_generation(
        &self,
        account: &AccountId,
        id: &GenerationId,
    ) -> Result<Option<GenerationInfo>, SessionStoreError>;
    /// All generation items, newest first.
    async fn list_generations(&self, account: &AccountId) -> Result<Vec<GenerationInfo>, SessionStoreError>;
    /// Changes state, the bad flag and/or the last login of an existing item; `Ok(false)` when
    /// absent.
    async fn update_generation(
        &self,
        account: &AccountId,
        id: &GenerationId,
        state: Option<GenerationState>,
        bad: Option<bool>,
        ready_at: Option<OffsetDateTime>,
    ) -> Result<bool, SessionStoreError>;
    /// The accounts whose pointer ever moved, in account order after `after`, at most `limit`.
    async fn linked_accounts(
        &self,
        after: Option<&AccountId>,
        limit: u32,
    ) -> Result<Vec<AccountId>, SessionStoreError>;
    /// Deletes a generation item while the pointer's version still is `pointer_version` (so a
    /// promote that raced the deletion wins: `Ok(false)`, nothing deleted).
    async fn delete_generation(
        &self,
        account: &AccountId,
        id: &GenerationId,
        pointer_version: u64,
    ) -> Result<bool, SessionStoreError>;
}
