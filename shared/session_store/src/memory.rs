//! `InMemoryProfileStore`: the same engine over maps, for unit tests of code that uses the
//! `ProfileStore` port (and of the engine's own rules) without AWS.

use crate::backend::Backend;
use crate::engine::{Engine, delegate_profile_store};
use crate::model::{GenerationId, GenerationInfo, GenerationState, SessionPointer};
use crate::{SessionStoreError, StoreConfig};
use async_trait::async_trait;
use domain::{AccountId, SessionHealth};
use domain::{SharedClock, system_clock};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use time::OffsetDateTime;

#[derive(Default)]
struct Maps {
    objects: HashMap<String, Vec<u8>>,
    pointers: HashMap<AccountId, SessionPointer>,
    generations: HashMap<AccountId, BTreeMap<GenerationId, GenerationInfo>>,
    /// Accounts whose pointer moved (as the DynamoDB adapter lists them), by account id.
    linked: std::collections::BTreeSet<AccountId>,
}

/// The map-backed backend.
#[derive(Default)]
pub(crate) struct MemoryBackend(Mutex<Maps>);

impl MemoryBackend {
    fn with<T>(&self, f: impl FnOnce(&mut Maps) -> T) -> T {
        let mut guard = match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }
}

/// A `ProfileStore` in memory; objects can be read and altered to simulate corruption.
pub struct InMemoryProfileStore(Engine<MemoryBackend>);

impl InMemoryProfileStore {
    /// A store with `config` (bucket and table names are ignored) and the wall clock.
    pub fn new(config: StoreConfig) -> Self {
        Self(Engine::new(MemoryBackend::default(), config, system_clock()))
    }

    /// Replaces the clock (generation ids and timestamps come from it).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.0.set_clock(clock);
        self
    }

    /// Changes a stored object in place, as a faulty disk or a hostile writer would.
    pub fn tamper(&self, key: &str, f: impl FnOnce(&mut Vec<u8>)) -> bool {
        self.0.backend.with(|m| m.objects.get_mut(key).map(f).is_some())
    }

    /// Loses the stored object at `key` (as a bucket lifecycle rule or a stray delete would),
    /// leaving its generation item listed.
    pub fn lose(&self, key: &str) -> bool {
        self.0.backend.with(|m| m.objects.remove(key).is_some())
    }

    /// The stored object at `key`.
    pub fn object(&self, key: &str) -> Option<Vec<u8>> {
        self.0.backend.with(|m| m.objects.get(key).cloned())
    }
}

delegate_profile_store!(InMemoryProfileStore);

#[async_trait]
impl Backend for MemoryBackend {
    async fn put_new_object(&self, key: &str, bytes: Vec<u8>) -> Result<(), SessionStoreError> {
        self.with(|m| {
            if m.objects.contains_key(key) {
                return Err(SessionStoreError::Conflict(format!("object {key} already exists")));
            }
            m.objects.insert(key.to_owned(), bytes);
            Ok(())
        })
    }

    async fn get_object(&self, key: &str, max: u64) -> Result<Vec<u8>, SessionStoreError> {
        self.with(|m| match m.objects.get(key) {
            None => Err(SessionStoreError::NotFound(format!("object {key}"))),
            Some(b) if b.len() as u64 > max => Err(SessionStoreError::hostile(
                key,
                format!("stored object of {} bytes is too large", b.len()),
            )),
            Some(b) => Ok(b.clone()),
        })
    }

    async fn delete_object(&self, key: &str) -> Result<(), SessionStoreError> {
        self.with(|m| m.objects.remove(key));
        Ok(())
    }

    async fn get_pointer(&self, account: &AccountId) -> Result<Option<SessionPointer>, SessionStoreError> {
        Ok(self.with(|m| m.pointers.get(account).cloned()))
    }

    async fn move_pointer(
        &self,
        account: &AccountId,
        expected: u64,
        to: &GenerationInfo,
        backup_time: Option<OffsetDateTime>,
    ) -> Result<bool, SessionStoreError> {
        Ok(self.with(|m| {
            if m.generations.get(account).is_none_or(|g| !g.contains_key(&to.id)) {
                return false;
            }
            let p = m.pointers.entry(account.clone()).or_insert_with(|| SessionPointer {
                state: SessionHealth::Unknown,
                current: None,
                current_key: None,
                sha256: None,
                version: 0,
                last_check: None,
                last_backup: None,
                linked_at: None,
            });
            if p.version != expected {
                return false;
            }
            p.version += 1;
            m.linked.insert(account.clone());
            p.current = Some(to.id.clone());
            p.current_key = Some(to.key.clone());
            p.sha256 = Some(to.sha256.clone());
            if to.state == GenerationState::Ready {
                p.state = SessionHealth::Ready;
            }
            if backup_time.is_some() {
                p.last_backup = backup_time;
            }
            true
        }))
    }

    async fn set_state(
        &self,
        account: &AccountId,
        state: SessionHealth,
        now: OffsetDateTime,
        expected: Option<u64>,
    ) -> Result<bool, SessionStoreError> {
        Ok(self.with(|m| {
            let version = m.pointers.get(account).map_or(0, |p| p.version);
            if expected.is_some_and(|e| e != version) {
                return false;
            }
            let p = m.pointers.entry(account.clone()).or_insert_with(|| SessionPointer {
                state,
                current: None,
                current_key: None,
                sha256: None,
                version: 0,
                last_check: None,
                last_backup: None,
                linked_at: None,
            });
            p.state = state;
            p.last_check = Some(now);
            true
        }))
    }

    async fn set_linked(&self, account: &AccountId, at: OffsetDateTime) -> Result<bool, SessionStoreError> {
        Ok(self.with(|m| match m.pointers.get_mut(account) {
            None => false,
            Some(p) => {
                p.linked_at = Some(at);
                true
            }
        }))
    }

    async fn put_generation(
        &self,
        account: &AccountId,
        info: &GenerationInfo,
    ) -> Result<(), SessionStoreError> {
        self.with(|m| {
            let gens = m.generations.entry(account.clone()).or_default();
            if gens.contains_key(&info.id) {
                return Err(SessionStoreError::Conflict(format!("generation {} already exists", info.id)));
            }
            gens.insert(info.id.clone(), info.clone());
            Ok(())
        })
    }

    async fn get_generation(
        &self,
        account: &AccountId,
        id: &GenerationId,
    ) -> Result<Option<GenerationInfo>, SessionStoreError> {
        Ok(self.with(|m| m.generations.get(account).and_then(|g| g.get(id)).cloned()))
    }

    async fn list_generations(&self, account: &AccountId) -> Result<Vec<GenerationInfo>, SessionStoreError> {
        Ok(self.with(|m| {
            m.generations.get(account).map(|g| g.values().rev().cloned().collect()).unwrap_or_default()
        }))
    }

    async fn update_generation(
        &self,
        account: &AccountId,
        id: &GenerationId,
        state: Option<GenerationState>,
        bad: Option<bool>,
        ready_at: Option<OffsetDateTime>,
    ) -> Result<bool, SessionStoreError> {
        Ok(self.with(|m| match m.generations.get_mut(account).and_then(|g| g.get_mut(id)) {
            None => false,
            Some(g) => {
                if let Some(s) = state {
                    g.state = s;
                }
                if ready_at.is_some() {
                    g.last_ready = ready_at;
                }
                if let Some(b) = bad {
                    g.bad = b;
                }
                true
            }
        }))
    }

    async fn linked_accounts(
        &self,
        after: Option<&AccountId>,
        limit: u32,
    ) -> Result<Vec<AccountId>, SessionStoreError> {
        Ok(self.with(|m| {
            let listed = m.linked.iter().filter(|a| after.is_none_or(|after| a.as_str() > after.as_str()));
            listed.take(limit as usize).cloned().collect()
        }))
    }

    async fn delete_generation(
        &self,
        account: &AccountId,
        id: &GenerationId,
        pointer_version: u64,
    ) -> Result<bool, SessionStoreError> {
        Ok(self.with(|m| {
            if m.pointers.get(account).map_or(0, |p| p.version) != pointer_version {
                return false;
            }
            m.generations.get_mut(account).map(|g| g.remove(id));
            true
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ProfileStore, SessionPointers};
    use std::path::Path;

    fn profile(root: &Path, marker: &str) {
        let ldb = root.join("Default/Local Storage/leveldb");
        std::fs::create_dir_all(&ldb).unwrap();
        std::fs::write(ldb.join("000003.log"), marker).unwrap();
        std::fs::create_dir_all(root.join("Default/Cache")).unwrap();
        std::fs::write(root.join("Default/Cache/junk"), "junk").unwrap();
    }

    fn account() -> AccountId {
        AccountId::parse("shop").unwrap()
    }

    #[tokio::test]
    async fn a_backup_becomes_current_and_restores_what_was_kept() {
        let src = tempfile::tempdir().unwrap();
        profile(src.path(), "login-1");
        let store = InMemoryProfileStore::new(StoreConfig::new("b", "t"));
        let out = store.backup(&account(), src.path(), GenerationState::Ready).await.unwrap();
        assert!(out.current);
        assert_eq!(out.version, 1);
        let p = store.pointer(&account()).await.unwrap().unwrap();
        assert_eq!(p.state, SessionHealth::Ready);
        assert_eq!(p.current_key.as_deref(), Some(out.generation.key.as_str()));
        let restored = store.restore(&account(), None).await.unwrap();
        let log = restored.path().join("Default/Local Storage/leveldb/000003.log");
        assert_eq!(std::fs::read_to_string(log).unwrap(), "login-1");
        assert!(!restored.path().join("Default/Cache").exists());
    }

    #[tokio::test]
    async fn a_tampered_object_is_corrupt_and_a_missing_account_is_not_found() {
        let src = tempfile::tempdir().unwrap();
        profile(src.path(), "x");
        let store = InMemoryProfileStore::new(StoreConfig::new("b", "t"));
        assert_eq!(store.restore(&account(), None).await.unwrap_err().code(), "PROFILE_NOT_FOUND");
        let out = store.backup(&account(), src.path(), GenerationState::Unknown).await.unwrap();
        assert!(store.tamper(&out.generation.key, |b| b[10] ^= 0x01));
        assert_eq!(store.restore(&account(), None).await.unwrap_err().code(), "PROFILE_CORRUPT");
    }

    #[tokio::test]
    async fn an_empty_profile_is_not_stored() {
        let src = tempfile::tempdir().unwrap();
        let store = InMemoryProfileStore::new(StoreConfig::new("b", "t"));
        let err = store.backup(&account(), src.path(), GenerationState::Ready).await.unwrap_err();
        assert_eq!(err.code(), "PROFILE_NOT_FOUND");
        assert!(store.list(&account()).await.unwrap().is_empty());
    }
}
