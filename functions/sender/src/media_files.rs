//! The files the sender attaches, fetched from each campaign's own copy in the media bucket into
//! the instance's temp dir (a directory per file, so a document keeps its name) and kept there
//! for the batches that follow on a warm instance — a campaign's copy never changes, so what is
//! kept is what would be fetched — within a byte budget, the least recently used going first.

use crate::browser::Attachment;
use domain::{CampaignId, Media, MediaType};
use media_store::MediaStore;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Mutex;

/// Bytes of files kept between batches by default (the sender has 2 GB of `/tmp`; Chromium's
/// profile and its restores need the rest).
pub const DEFAULT_BUDGET: u64 = 512 * 1024 * 1024;

/// What fetching a file found.
#[derive(Debug)]
pub enum Fetched {
    /// On disk.
    Ready(Attachment),
    /// The bucket no longer has it.
    Missing,
}

/// The name `media` is written under (a document is shown with it): the name checked when the
/// campaign was accepted, checked again because it comes back from the table; one that would
/// not pass (a path, too long for the disk) is replaced by the id, so nothing is ever written
/// outside the file's own directory.
pub fn disk_name(media: &Media) -> String {
    let kind = MediaType::of_mime(&media.mime);
    match kind.map(|k| domain::media::file_name(&media.file_name, k)) {
        Some(Ok(name)) if name == media.file_name => name,
        _ => format!("{}.{}", media.id, kind.map_or("bin", MediaType::extension)),
    }
}

/// One kept file.
struct Kept {
    attachment: Attachment,
    size: u64,
    used: u64,
}

/// The kept files and their bookkeeping.
#[derive(Default)]
struct Cache {
    kept: HashMap<(CampaignId, String), Kept>,
    bytes: u64,
    tick: u64,
}

/// The instance's files, shared by its batches.
pub struct MediaFiles {
    store: Arc<dyn MediaStore>,
    root: PathBuf,
    budget: u64,
    cache: Mutex<Cache>,
}

impl MediaFiles {
    /// Files from `store`, kept under `root` (created when first needed) up to `budget` bytes.
    pub fn new(store: Arc<dyn MediaStore>, root: PathBuf, budget: u64) -> Self {
        Self { store, root, budget, cache: Mutex::new(Cache::default()) }
    }

    /// `campaign`'s file `media` on disk, fetched unless kept; an error is one that passes (the
    /// record is tried again).
    pub async fn get(&self, campaign: &CampaignId, media: &Media) -> Result<Fetched, String> {
        let key = (campaign.clone(), media.id.as_str().to_owned());
        let mut cache = self.cache.lock().await;
        cache.tick += 1;
        let tick = cache.tick;
        if let Some(kept) = cache.kept.get_mut(&key)
            && kept.attachment.path.is_file()
        {
            kept.used = tick;
            return Ok(Fetched::Ready(kept.attachment.clone()));
        }
        let dir = self.root.join(format!("{campaign}-{}", media.id));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let path = dir.join(disk_name(media));
        let max = MediaType::of_mime(&media.mime).map_or(media.size, MediaType::max_bytes);
        match self.store.fetch(campaign, &media.id, &path, max).await {
            Ok(true) => {}
            Ok(false) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Ok(Fetched::Missing);
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e.to_string());
            }
        }
        let size = std::fs::metadata(&path).map_or(media.size, |m| m.len());
        let attachment = Attachment { path, kind: media.kind };
        if let Some(old) =
            cache.kept.insert(key.clone(), Kept { attachment: attachment.clone(), size, used: tick })
        {
            cache.bytes = cache.bytes.saturating_sub(old.size);
        }
        cache.bytes += size;
        self.evict(&mut cache, &key);
        Ok(Fetched::Ready(attachment))
    }

    /// Removes the least recently used files until the kept ones fit the budget (never `keep`,
    /// the one about to be sent).
    fn evict(&self, cache: &mut Cache, keep: &(CampaignId, String)) {
        while cache.bytes > self.budget {
            let oldest = cache
                .kept
                .iter()
                .filter(|(k, _)| *k != keep)
                .min_by_key(|(_, v)| v.used)
                .map(|(k, _)| k.clone());
            let Some(key) = oldest else { break };
            if let Some(gone) = cache.kept.remove(&key) {
                cache.bytes = cache.bytes.saturating_sub(gone.size);
                if let Some(dir) = gone.attachment.path.parent() {
                    let _ = std::fs::remove_dir_all(dir);
                }
            }
        }
    }

    /// Bytes of files kept now.
    pub async fn kept_bytes(&self) -> u64 {
        self.cache.lock().await.bytes
    }
}
