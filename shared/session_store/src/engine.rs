//! The store's logic, written once over a small storage [`Backend`] (write-once objects,
//! a compare-and-set pointer, generation items), so the S3/DynamoDB adapter and the in-memory
//! fake behave the same and the rules are tested without AWS.

use crate::backend::Backend;
use crate::model::{
    BackupOutcome, GenerationId, GenerationInfo, GenerationState, RestoredProfile, SessionPointer,
    object_key, open_from_storage, seal_for_storage, select_for_deletion,
};
use crate::{SessionStoreError, StoreConfig, restore_blocking, snapshot_blocking};
use domain::SharedClock;
use domain::{AccountId, SessionHealth};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use time::OffsetDateTime;

/// How often a backup re-reads a pointer that moved before giving up with `Conflict`.
const MAX_POINTER_ATTEMPTS: usize = 8;

/// The store over some backend.
pub(crate) struct Engine<B> {
    pub(crate) backend: B,
    pub(crate) config: StoreConfig,
    clock: SharedClock,
    last_millis: AtomicU64,
}

fn millis(t: OffsetDateTime) -> u64 {
    u64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

impl<B: Backend> Engine<B> {
    pub(crate) fn new(backend: B, config: StoreConfig, clock: SharedClock) -> Self {
        Self { backend, config, clock, last_millis: AtomicU64::new(0) }
    }

    pub(crate) fn set_clock(&mut self, clock: SharedClock) {
        self.clock = clock;
    }

    /// A fresh id, strictly increasing within this process even inside one millisecond.
    fn mint(&self, now: OffsetDateTime) -> GenerationId {
        let wanted = millis(now);
        let mut last = self.last_millis.load(Ordering::SeqCst);
        loop {
            let next = wanted.max(last + 1);
            match self.last_millis.compare_exchange(last, next, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => return GenerationId::new(next, rand::random()),
                Err(seen) => last = seen,
            }
        }
    }

    async fn generation(
        &self,
        account: &AccountId,
        id: &GenerationId,
    ) -> Result<GenerationInfo, SessionStoreError> {
        self.backend
            .get_generation(account, id)
            .await?
            .ok_or_else(|| SessionStoreError::NotFound(format!("account {account} has no generation {id}")))
    }

    pub(crate) async fn backup(
        &self,
        account: &AccountId,
        profile_dir: &Path,
        state: GenerationState,
    ) -> Result<BackupOutcome, SessionStoreError> {
        // Read before the (slow) snapshot; the compare-and-set below catches any move since.
        let mut seen = self.backend.get_pointer(account).await?;
        let snap = snapshot_blocking(profile_dir, self.config.limits).await?;
        if snap.files == 0 {
            return Err(SessionStoreError::NotFound(format!(
                "{} holds none of the login files ({})",
                profile_dir.display(),
                crate::archive::KEPT.join(", ")
            )));
        }
        let now = self.clock.now();
        let id = self.mint(now);
        let key = self.config.key.as_ref();
        let (stored, sha256) = seal_for_storage(snap.archive, key, account, &id)?;
        let info = GenerationInfo {
            key: object_key(&self.config.prefix, account, &id, key.is_some()),
            id,
            sha256,
            size: stored.len() as u64,
            created: now,
            state,
            bad: false,
            encrypted: key.is_some(),
            last_ready: (state == GenerationState::Ready).then_some(now),
        };
        self.backend.put_new_object(&info.key, stored).await?;
        self.backend.put_generation(account, &info).await?;

        let mut outcome = None;
        for _ in 0..MAX_POINTER_ATTEMPTS {
            let expected = seen.as_ref().map(|p| p.version).unwrap_or(0);
            if let Some(p) = seen.as_ref().filter(|p| p.current.as_ref().is_some_and(|c| *c > info.id)) {
                // A newer generation is current: ours stays stored, the pointer stays put.
                outcome = Some((false, p.version));
                break;
            }
            if self.backend.move_pointer(account, expected, &info, Some(now)).await? {
                outcome = Some((true, expected + 1));
                break;
            }
            seen = self.backend.get_pointer(account).await?;
        }
        let Some((current, version)) = outcome else {
            return Err(SessionStoreError::Conflict(format!(
                "account {account}: the session pointer kept moving; generation {} is stored but not current",
                info.id
            )));
        };
        tracing::debug!(
            account = %account, generation = %info.id, size = info.size, sha256 = %info.sha256,
            files = snap.files, current, version, "profile generation stored"
        );
        if let Err(e) = self.prune(account).await {
            tracing::warn!(account = %account, code = %e.code(), error = %e, "profile retention failed");
        }
        Ok(BackupOutcome { generation: info, current, version })
    }

    pub(crate) async fn restore(
        &self,
        account: &AccountId,
        generation: Option<&GenerationId>,
    ) -> Result<RestoredProfile, SessionStoreError> {
        let info = match generation {
            Some(id) => self.generation(account, id).await?,
            None => {
                let current =
                    self.backend.get_pointer(account).await?.and_then(|p| p.current).ok_or_else(|| {
                        SessionStoreError::NotFound(format!("account {account} has no stored session"))
                    })?;
                self.generation(account, &current).await?
            }
        };
        let limits = self.config.limits;
        let stored = self.backend.get_object(&info.key, limits.stream_cap()).await?;
        // Checksum and tag first: nothing is unpacked from bytes that are not the ones we stored.
        let archive = open_from_storage(&stored, &info, self.config.key.as_ref(), account)?;
        drop(stored);
        let restored = restore_blocking(archive, limits, self.config.temp_root.clone(), info.clone()).await?;
        tracing::debug!(
            account = %account, generation = %info.id, files = restored.stats().files,
            bytes = restored.stats().bytes, "profile generation restored"
        );
        Ok(restored)
    }

    pub(crate) async fn pointer(
        &self,
        account: &AccountId,
    ) -> Result<Option<SessionPointer>, SessionStoreError> {
        self.backend.get_pointer(account).await
    }

    pub(crate) async fn linked_accounts(
        &self,
        after: Option<&AccountId>,
        limit: u32,
    ) -> Result<Vec<AccountId>, SessionStoreError> {
        self.backend.linked_accounts(after, limit).await
    }

    pub(crate) async fn list(&self, account: &AccountId) -> Result<Vec<GenerationInfo>, SessionStoreError> {
        self.backend.list_generations(account).await
    }

    pub(crate) async fn inspect(
        &self,
        account: &AccountId,
        id: &GenerationId,
    ) -> Result<GenerationInfo, SessionStoreError> {
        self.generation(account, id).await
    }

    pub(crate) async fn record_state(
        &self,
        account: &AccountId,
        id: &GenerationId,
        state: GenerationState,
    ) -> Result<(), SessionStoreError> {
        let ready_at = (state == GenerationState::Ready).then(|| self.clock.now());
        if self.backend.update_generation(account, id, Some(state), None, ready_at).await? {
            Ok(())
        } else {
            Err(SessionStoreError::NotFound(format!("account {account} has no generation {id}")))
        }
    }

    pub(crate) async fn mark_bad(
        &self,
        account: &AccountId,
        id: &GenerationId,
    ) -> Result<(), SessionStoreError> {
        if self.backend.update_generation(account, id, None, Some(true), None).await? {
            tracing::warn!(account = %account, generation = %id, "profile generation marked bad");
            Ok(())
        } else {
            Err(SessionStoreError::NotFound(format!("account {account} has no generation {id}")))
        }
    }

    pub(crate) async fn promote(
        &self,
        account: &AccountId,
        id: &GenerationId,
        seen: Option<u64>,
    ) -> Result<SessionPointer, SessionStoreError> {
        let info = self.generation(account, id).await?;
        let expected = match seen {
            Some(version) => version,
            None => self.backend.get_pointer(account).await?.map(|p| p.version).unwrap_or(0),
        };
        if !self.backend.move_pointer(account, expected, &info, None).await? {
            // Deleted by a retention that won the race: the pointer never names a deleted one.
            self.generation(account, id).await?;
            return Err(SessionStoreError::Conflict(format!(
                "account {account}: the session pointer moved while promoting {id}"
            )));
        }
        tracing::info!(account = %account, generation = %id, "profile generation promoted");
        self.backend.get_pointer(account).await?.ok_or_else(|| {
            SessionStoreError::Conflict(format!("account {account}: the session pointer vanished"))
        })
    }

    pub(crate) async fn set_session_state(
        &self,
        account: &AccountId,
        state: SessionHealth,
    ) -> Result<(), SessionStoreError> {
        self.backend.set_state(account, state, self.clock.now(), None).await.map(|_| ())
    }

    pub(crate) async fn record_linked(&self, account: &AccountId) -> Result<(), SessionStoreError> {
        if self.backend.set_linked(account, self.clock.now()).await? {
            Ok(())
        } else {
            Err(SessionStoreError::NotFound(format!("account {account} has no session pointer")))
        }
    }

    pub(crate) async fn expire(&self, account: &AccountId, tried: u64) -> Result<bool, SessionStoreError> {
        let expired =
            self.backend.set_state(account, SessionHealth::Expired, self.clock.now(), Some(tried)).await?;
        if !expired {
            tracing::info!(account = %account, version = tried, "session pointer moved since it was read; not marked expired");
        }
        Ok(expired)
    }

    pub(crate) async fn prune(&self, account: &AccountId) -> Result<Vec<GenerationId>, SessionStoreError> {
        let gens = self.backend.list_generations(account).await?;
        let pointer = self.backend.get_pointer(account).await?;
        let version = pointer.as_ref().map_or(0, |p| p.version);
        let current = pointer.and_then(|p| p.current);
        let doomed = select_for_deletion(&gens, current.as_ref(), self.config.keep);
        let mut deleted = Vec::new();
        for id in doomed {
            let Some(g) = gens.iter().find(|g| g.id == id) else { continue };
            // The item first, and only while the pointer is as read: a promote racing this prune
            // either lands first (nothing is deleted) or finds the item gone (and is refused), so
            // the pointer never names a deleted generation. An object left behind by a crash
            // between the two deletes is an orphan no restore ever reads.
            if !self.backend.delete_generation(account, &id, version).await? {
                tracing::info!(account = %account, "the session pointer moved during retention; the rest waits for the next one");
                break;
            }
            self.backend.delete_object(&g.key).await?;
            tracing::info!(account = %account, generation = %id, "profile generation deleted by retention");
            deleted.push(id);
        }
        Ok(deleted)
    }
}

/// Implements [`crate::ProfileStore`] for a newtype over `Engine<_>` by delegation.
macro_rules! delegate_profile_store {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::SessionPointers for $t {
            async fn pointer(
                &self,
                account: &domain::AccountId,
            ) -> Result<Option<$crate::SessionPointer>, $crate::SessionStoreError> {
                self.0.pointer(account).await
            }
        }

        #[async_trait::async_trait]
        impl $crate::ProfileStore for $t {
            async fn backup(
                &self,
                account: &domain::AccountId,
                profile_dir: &std::path::Path,
                state: $crate::GenerationState,
            ) -> Result<$crate::BackupOutcome, $crate::SessionStoreError> {
                self.0.backup(account, profile_dir, state).await
            }
            async fn restore(
                &self,
                account: &domain::AccountId,
                generation: Option<&$crate::GenerationId>,
            ) -> Result<$crate::RestoredProfile, $crate::SessionStoreError> {
                self.0.restore(account, generation).await
            }
            async fn list(
                &self,
                account: &domain::AccountId,
            ) -> Result<Vec<$crate::GenerationInfo>, $crate::SessionStoreError> {
                self.0.list(account).await
            }
            async fn inspect(
                &self,
                account: &domain::AccountId,
                id: &$crate::GenerationId,
            ) -> Result<$crate::GenerationInfo, $crate::SessionStoreError> {
                self.0.inspect(account, id).await
            }
            async fn record_state(
                &self,
                account: &domain::AccountId,
                id: &$crate::GenerationId,
                state: $crate::GenerationState,
            ) -> Result<(), $crate::SessionStoreError> {
                self.0.record_state(account, id, state).await
            }
            async fn mark_bad(
                &self,
                account: &domain::AccountId,
                id: &$crate::GenerationId,
            ) -> Result<(), $crate::SessionStoreError> {
                self.0.mark_bad(account, id).await
            }
            async fn promote(
                &self,
                account: &domain::AccountId,
                id: &$crate::GenerationId,
                seen: Option<u64>,
            ) -> Result<$crate::SessionPointer, $crate::SessionStoreError> {
                self.0.promote(account, id, seen).await
            }
            async fn set_session_state(
                &self,
                account: &domain::AccountId,
                state: domain::SessionHealth,
            ) -> Result<(), $crate::SessionStoreError> {
                self.0.set_session_state(account, state).await
            }
            async fn expire(
                &self,
                account: &domain::AccountId,
                tried: u64,
            ) -> Result<bool, $crate::SessionStoreError> {
                self.0.expire(account, tried).await
            }
            async fn prune(
                &self,
                account: &domain::AccountId,
            ) -> Result<Vec<$crate::GenerationId>, $crate::SessionStoreError> {
                self.0.prune(account).await
            }
            async fn record_linked(
                &self,
                account: &domain::AccountId,
            ) -> Result<(), $crate::SessionStoreError> {
                self.0.record_linked(account).await
            }
            async fn linked_accounts(
                &self,
                after: Option<&domain::AccountId>,
                limit: u32,
            ) -> Result<Vec<domain::AccountId>, $crate::SessionStoreError> {
                self.0.linked_accounts(after, limit).await
            }
        }
    };
}
pub(crate) use delegate_profile_store;
