//! The files a batch sends, fetched once each from the campaign's own copy in the media bucket
//! into the invocation's temp dir (a directory per file, so a document keeps its name), and
//! removed with the batch.

use crate::browser::Attachment;
use domain::{CampaignId, Media, MediaType};
use media_store::MediaStore;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// What fetching a file found.
#[derive(Debug)]
pub enum Fetched {
    /// On disk.
    Ready(Attachment),
    /// The bucket no longer has it.
    Missing,
}

/// The batch's fetched files.
pub struct MediaFiles {
    store: Arc<dyn MediaStore>,
    dir: Option<tempfile::TempDir>,
    fetched: HashMap<(CampaignId, String), Attachment>,
}

impl MediaFiles {
    /// Files from `store`, none fetched yet.
    pub fn new(store: Arc<dyn MediaStore>) -> Self {
        Self { store, dir: None, fetched: HashMap::new() }
    }

    /// `campaign`'s file `media` on disk, fetched on first use; an error is one that passes (the
    /// record is tried again).
    pub async fn get(&mut self, campaign: &CampaignId, media: &Media) -> Result<Fetched, String> {
        let key = (campaign.clone(), media.id.as_str().to_owned());
        if let Some(ready) = self.fetched.get(&key) {
            return Ok(Fetched::Ready(ready.clone()));
        }
        if self.dir.is_none() {
            let dir = tempfile::Builder::new().prefix("wacamp-media").tempdir().map_err(|e| e.to_string())?;
            self.dir = Some(dir);
        }
        let Some(root) = self.dir.as_ref().map(|d| d.path().join(format!("{campaign}-{}", media.id))) else {
            return Err("no media directory".into());
        };
        std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
        // The name is the one checked at acceptance; never a path.
        let path: PathBuf = root.join(&media.file_name);
        let max = MediaType::of_mime(&media.mime).map_or(media.size, MediaType::max_bytes);
        match self.store.fetch(campaign, &media.id, &path, max).await {
            Ok(true) => {
                let ready = Attachment { path, kind: media.kind };
                self.fetched.insert(key, ready.clone());
                Ok(Fetched::Ready(ready))
            }
            Ok(false) => Ok(Fetched::Missing),
            Err(e) => Err(e.to_string()),
        }
    }
}
