//! Where WhatsApp Web logins live between browser runs: the Chromium profile, trimmed to what the
//! login needs, stored in S3 as a chain of verified, write-once generations, with the account's
//! current generation named by a versioned pointer in DynamoDB.
//!
//! - [`archive`]: which profile files are kept, deterministic tar + zstd, and the hostile-archive
//!   unpacker (pure; fuzzed by `fuzz/`).
//! - [`crypto`]: SHA-256 and optional AES-256-GCM sealing.
//! - [`key_source`]: the key inline or from a Secrets Manager secret, read once at start.
//! - [`ProfileStore`]: the port the sender, the keeper and the CLI use; [`S3ProfileStore`] is
//!   the adapter (S3 objects + DynamoDB items).
//!
//! # Layout
//! - S3: `profiles/<account>/<generation-id>.tar.zst[.enc]`, each written once with
//!   `If-None-Match: *`, so no writer ever replaces another's generation.
//! - DynamoDB, the session pointer (`table_layout::keys::session`): `state`, `current_key`,
//!   `current_generation`, `sha256`, `version`, `last_check`, `last_backup`; this crate is its one
//!   owner, and others read it through [`SessionPointers`]. It moves
//!   only by a conditional update on the version its writer read: a stale writer fails instead of
//!   moving it backwards, and a backup never replaces a newer current generation.
//! - DynamoDB, one item per generation (`table_layout::keys::generation`): `key`, `sha256`, `size`, `created`, `state`
//!   (READY | NEEDS_QR | UNKNOWN), `bad`, `encrypted`.
//!
//! # Encryption key
//! With a key configured (`PROFILE_ENCRYPTION_KEY`, base64 of 32 bytes, or on AWS the secret
//! `PROFILE_KEY_SECRET_ARN` names holding the same text; [`key_source`]) archives are sealed with
//! AES-256-GCM, bound to their account and generation, and each sealed object names its key by
//! id ([`crypto`]). Rotating is listing the new key first and the older ones after it: new
//! generations are sealed with the new key, older generations still open, and a generation whose
//! key is not listed is `PROFILE_KEY_MISSING` (configuration, never damage: nothing is marked
//! bad). A key per installation, not a KMS data key per object: a profile is small and read on
//! every sender cold start, and the key must also open generations locally (`wacamp session
//! restore`, the local emulator) where there is no KMS. S3 server-side encryption (SSE-S3, or
//! SSE-KMS with the stack's `ProfileKmsKeyArn`) still applies underneath.
//!
//! Profile contents are never logged; only keys, ids, sizes and checksums are.

pub mod archive;
mod backend;
pub mod crypto;
mod engine;
mod error;
#[cfg(test)]
mod hostile_tests;
#[cfg(feature = "aws")]
pub mod key_source;
mod memory;
mod model;
#[cfg(feature = "aws")]
mod s3;

pub use archive::{Limits, Snapshot, UnpackStats};
pub use crypto::{KeyError, OpenError, ProfileKey};
pub use error::SessionStoreError;
#[cfg(feature = "aws")]
pub use key_source::KeySource;
pub use memory::InMemoryProfileStore;
pub use model::{
    BackupOutcome, GenerationId, GenerationInfo, GenerationState, RestoredProfile, SessionPointer,
    fallback_candidates, object_key, open_from_storage, remove_singletons, restore_archive, seal_for_storage,
    select_for_deletion,
};
#[cfg(feature = "aws")]
pub use s3::{DynamoSessionPointers, S3ProfileStore};

use async_trait::async_trait;
use domain::{AccountId, SessionHealth};
use std::path::{Path, PathBuf};

/// How the store behaves; one per process.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The S3 bucket holding generations.
    pub bucket: String,
    /// The DynamoDB table (the campaign table; items in the account's partition).
    pub table: String,
    /// Key prefix in the bucket (`profiles`).
    pub prefix: String,
    /// Generations kept per account besides the protected ones (at least 1).
    pub keep: usize,
    /// Archive bounds for snapshots and restores.
    pub limits: Limits,
    /// Seal archives when set.
    pub key: Option<ProfileKey>,
    /// Where restore directories are created (the system temp dir when unset; `/tmp` on Lambda).
    pub temp_root: Option<PathBuf>,
}

impl StoreConfig {
    /// A configuration with the defaults: prefix `profiles`, keep 5, default limits, no key.
    pub fn new(bucket: impl Into<String>, table: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            table: table.into(),
            prefix: "profiles".into(),
            keep: 5,
            limits: Limits::default(),
            key: None,
            temp_root: None,
        }
    }

    /// Reads `PROFILE_BUCKET`, `TABLE_NAME` and `PROFILE_KEEP_GENERATIONS` (default 5); the error
    /// names the variable at fault. The key comes from [`StoreConfig::load`].
    #[cfg(feature = "aws")]
    pub(crate) fn from_env_without_key() -> Result<Self, SessionStoreError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let missing =
            |name: &str| SessionStoreError::Local { context: format!("{name} is not set"), source: None };
        let mut config = Self::new(
            var("PROFILE_BUCKET").ok_or_else(|| missing("PROFILE_BUCKET"))?,
            var("TABLE_NAME").ok_or_else(|| missing("TABLE_NAME"))?,
        );
        if let Some(keep) = var("PROFILE_KEEP_GENERATIONS") {
            config.keep = keep.trim().parse().map_err(|_| SessionStoreError::Local {
                context: format!("PROFILE_KEEP_GENERATIONS must be a whole number, got '{keep}'"),
                source: None,
            })?;
        }
        Ok(config)
    }
}

/// The one narrow view other components get of an account's session: its pointer (health at the
/// last check, the current generation), read from its one owner, this crate.
#[async_trait]
pub trait SessionPointers: Send + Sync {
    /// The account's session pointer, if it has one.
    async fn pointer(&self, account: &AccountId) -> Result<Option<SessionPointer>, SessionStoreError>;
}

/// Stores, lists and restores an account's profile generations and moves its session pointer.
#[async_trait]
pub trait ProfileStore: SessionPointers {
    /// Snapshots `profile_dir` (Chromium must have exited), stores it as a new generation with
    /// the given check result, and makes it current unless a newer generation already is.
    /// Retention runs afterwards (its failure is logged, not returned).
    async fn backup(
        &self,
        account: &AccountId,
        profile_dir: &Path,
        state: GenerationState,
    ) -> Result<BackupOutcome, SessionStoreError>;

    /// Verifies and unpacks a generation (default: the current one) into a fresh temp dir.
    async fn restore(
        &self,
        account: &AccountId,
        generation: Option<&GenerationId>,
    ) -> Result<RestoredProfile, SessionStoreError>;

    /// All generations, newest first.
    async fn list(&self, account: &AccountId) -> Result<Vec<GenerationInfo>, SessionStoreError>;

    /// One generation's metadata.
    async fn inspect(
        &self,
        account: &AccountId,
        id: &GenerationId,
    ) -> Result<GenerationInfo, SessionStoreError>;

    /// Records what a check of the generation showed.
    async fn record_state(
        &self,
        account: &AccountId,
        id: &GenerationId,
        state: GenerationState,
    ) -> Result<(), SessionStoreError>;

    /// Marks a generation unusable (it failed to verify or to log in).
    async fn mark_bad(&self, account: &AccountId, id: &GenerationId) -> Result<(), SessionStoreError>;

    /// Makes `id` (typically an older generation that still logs in) the current one; `Conflict`
    /// if the pointer moved while doing so. With `seen`, only while the pointer is still at that
    /// version (the one the caller read before trying generations): a setup that linked a new
    /// device meanwhile is never overwritten by an older one.
    async fn promote(
        &self,
        account: &AccountId,
        id: &GenerationId,
        seen: Option<u64>,
    ) -> Result<SessionPointer, SessionStoreError>;

    /// Records the session's health (and the check time) on the pointer without moving it.
    async fn set_session_state(
        &self,
        account: &AccountId,
        state: SessionHealth,
    ) -> Result<(), SessionStoreError>;

    /// Marks the session EXPIRED (no generation logs in) only while the pointer's version still is
    /// `tried`, the one the caller tried: a setup that linked a new generation meanwhile is never
    /// overwritten. `Ok(false)` when the pointer moved.
    async fn expire(&self, account: &AccountId, tried: u64) -> Result<bool, SessionStoreError>;

    /// Applies retention now; returns the generations deleted.
    async fn prune(&self, account: &AccountId) -> Result<Vec<GenerationId>, SessionStoreError>;

    /// Records that a new device was just linked for the account (`wacamp setup`): the link's
    /// age counts from now. `NotFound` when the account has no session pointer yet.
    async fn record_linked(&self, account: &AccountId) -> Result<(), SessionStoreError>;

    /// The accounts that have a session (their pointer moved at least once), in account order
    /// after `after`, at most `limit`: what the session keeper walks.
    async fn linked_accounts(
        &self,
        after: Option<&AccountId>,
        limit: u32,
    ) -> Result<Vec<AccountId>, SessionStoreError>;
}

/// Takes a snapshot off the async runtime (it reads files and compresses).
pub(crate) async fn snapshot_blocking(dir: &Path, limits: Limits) -> Result<Snapshot, SessionStoreError> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || archive::snapshot(&dir, &limits)).await.map_err(|e| {
        SessionStoreError::Local { context: format!("snapshot task failed: {e}"), source: None }
    })?
}

/// Unpacks off the async runtime.
pub(crate) async fn restore_blocking(
    archive: Vec<u8>,
    limits: Limits,
    temp_root: Option<PathBuf>,
    generation: GenerationInfo,
) -> Result<RestoredProfile, SessionStoreError> {
    tokio::task::spawn_blocking(move || {
        restore_archive(&archive, &limits, temp_root.as_deref(), Some(generation))
    })
    .await
    .map_err(|e| SessionStoreError::Local { context: format!("restore task failed: {e}"), source: None })?
}
