//! Media in a map, for unit tests of pure logic: uploads are put by the test
//! ([`InMemoryMediaStore::upload`]), the rest behaves as the S3 adapter does.

use crate::{MediaStore, MediaStoreError, Upload, UploadRequest, Uploaded, keys};
use async_trait::async_trait;
use domain::media::SNIFF_BYTES;
use domain::{AccountId, CampaignId, MediaId};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// Objects by key; an object's entity tag is its version.
#[derive(Default)]
pub struct InMemoryMediaStore {
    objects: Mutex<HashMap<String, (Vec<u8>, u64)>>,
    names: Mutex<HashMap<String, String>>,
    fetches: std::sync::atomic::AtomicU32,
    unavailable: std::sync::atomic::AtomicBool,
}

impl InMemoryMediaStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Vec<u8>, u64)>> {
        self.objects.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What a client's upload of `bytes` as `account`'s media `id` leaves.
    pub fn upload(&self, account: &AccountId, id: &MediaId, bytes: &[u8]) {
        let mut objects = self.lock();
        let version = objects.get(&keys::upload(account, id)).map_or(1, |(_, v)| v + 1);
        objects.insert(keys::upload(account, id), (bytes.to_vec(), version));
    }

    /// The bytes of an object, if there is one (for assertions).
    pub fn object(&self, key: &str) -> Option<Vec<u8>> {
        self.lock().get(key).map(|(b, _)| b.clone())
    }

    /// How many fetches were asked for so far.
    pub fn fetches(&self) -> u32 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// While `on`, every fetch fails as when S3 cannot be reached or refuses the call.
    pub fn set_unavailable(&self, on: bool) {
        self.unavailable.store(on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Removes an object (as the bucket's lifecycle would).
    pub fn remove(&self, key: &str) {
        self.lock().remove(key);
    }
}

#[async_trait]
impl MediaStore for InMemoryMediaStore {
    async fn presign_upload(
        &self,
        account: &AccountId,
        id: &MediaId,
        upload: &UploadRequest<'_>,
        expires_in: Duration,
    ) -> Result<Upload, MediaStoreError> {
        self.names
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(keys::upload(account, id), upload.file_name.to_owned());
        Ok(Upload {
            url: format!("memory://{}?expires={}", keys::upload(account, id), expires_in.as_secs()),
            headers: vec![
                ("content-type".to_owned(), upload.content_type.to_owned()),
                ("content-length".to_owned(), upload.size.to_string()),
            ],
        })
    }

    async fn inspect(&self, account: &AccountId, id: &MediaId) -> Result<Option<Uploaded>, MediaStoreError> {
        let key = keys::upload(account, id);
        let file_name = self.names.lock().unwrap_or_else(|p| p.into_inner()).get(&key).cloned();
        Ok(self.lock().get(&key).map(|(bytes, version)| Uploaded {
            size: bytes.len() as u64,
            etag: version.to_string(),
            head: bytes[..bytes.len().min(SNIFF_BYTES)].to_vec(),
            file_name,
        }))
    }

    async fn adopt(
        &self,
        account: &AccountId,
        id: &MediaId,
        etag: &str,
        campaign: &CampaignId,
    ) -> Result<(), MediaStoreError> {
        let mut objects = self.lock();
        match objects.get(&keys::upload(account, id)).cloned() {
            Some((bytes, version)) if version.to_string() == etag => {
                objects.insert(keys::campaign_copy(campaign, id), (bytes, 1));
                Ok(())
            }
            _ => Err(MediaStoreError::Changed(id.to_string())),
        }
    }

    async fn fetch(
        &self,
        campaign: &CampaignId,
        id: &MediaId,
        dest: &Path,
        max: u64,
    ) -> Result<bool, MediaStoreError> {
        self.fetches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if self.unavailable.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(MediaStoreError::unavailable(std::io::Error::other("media bucket unavailable")));
        }
        let key = keys::campaign_copy(campaign, id);
        let Some((bytes, _)) = self.lock().get(&key).cloned() else { return Ok(false) };
        if bytes.len() as u64 > max {
            return Err(MediaStoreError::TooLarge { key, max });
        }
        std::fs::write(dest, bytes)
            .map_err(|source| MediaStoreError::Io { path: dest.display().to_string(), source })?;
        Ok(true)
    }
}
