//! Where a campaign's media files live: the `MediaStore` port, its S3 adapter and an in-memory
//! fake for unit tests of pure logic.
//!
//! A file is uploaded by the operator's client straight to the bucket, through a pre-signed
//! `PUT` that fixes its size and declared type (`uploads/<account>/<media id>`, removed by the
//! bucket's lifecycle after a day); a campaign that names it checks what it really is and takes
//! its own copy (`campaigns/<campaign>/<media id>`), which nobody else writes, so what a sender
//! sends is what was checked; the sender fetches that copy.
//!
//! - [`keys`]: the object keys.
//! - [`s3`]: the S3 adapter; [`memory`]: the fake.

pub mod keys;
mod memory;
mod s3;

pub use memory::InMemoryMediaStore;
pub use s3::S3MediaStore;

use async_trait::async_trait;
use domain::{AccountId, CampaignId, MediaId};
use std::path::Path;
use std::time::Duration;

/// A failure of the media store, with the SDK error kept as the source.
#[derive(Debug, thiserror::Error)]
pub enum MediaStoreError {
    /// S3 could not be reached or refused the call.
    #[error("media store unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The object changed between its check and its copy (uploaded again meanwhile).
    #[error("media {0} changed while it was being accepted; upload it once and start again")]
    Changed(String),
    /// The stored object is larger than it may be.
    #[error("stored media {key} is larger than {max} bytes")]
    TooLarge {
        /// The object.
        key: String,
        /// The bound.
        max: u64,
    },
    /// A local file could not be written. The message leaves the path out: a document's name
    /// is the operator's own words, which logs do not carry.
    #[error("the fetched media file could not be written: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl MediaStoreError {
    pub(crate) fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable(Box::new(e))
    }
}

/// What an upload is to carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadRequest<'a> {
    /// Its declared MIME type (the signature fixes it; what the file is is checked later).
    pub content_type: &'a str,
    /// Its size in bytes (the signature fixes it).
    pub size: u64,
    /// The name a document is shown with.
    pub file_name: &'a str,
    /// The SHA-256 its bytes must have (S3 refuses an upload of other bytes), when known.
    pub sha256: Option<&'a [u8; 32]>,
}

/// An upload arranged for the client: where to `PUT` the bytes and with which headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The pre-signed URL.
    pub url: String,
    /// Headers the request must carry exactly (the signature covers them).
    pub headers: Vec<(String, String)>,
}

/// What was uploaded under a media id, as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// Its size in bytes.
    pub size: u64,
    /// Its entity tag (guards the copy).
    pub etag: String,
    /// Its first bytes (at most `domain::media::SNIFF_BYTES`), to tell what it is.
    pub head: Vec<u8>,
    /// The file name the upload was arranged with.
    pub file_name: Option<String>,
}

/// The campaigns' media files.
#[async_trait]
pub trait MediaStore: Send + Sync {
    /// Arranges an upload of `size` bytes of `content_type` named `file_name` for `account`'s
    /// media `id`, valid for `expires_in`.
    async fn presign_upload(
        &self,
        account: &AccountId,
        id: &MediaId,
        upload: &UploadRequest<'_>,
        expires_in: Duration,
    ) -> Result<Upload, MediaStoreError>;
    /// What `account` uploaded as `id`, `None` when nothing was (or the upload expired).
    async fn inspect(&self, account: &AccountId, id: &MediaId) -> Result<Option<Uploaded>, MediaStoreError>;
    /// Copies the upload `id` of `account`, only while it is still `etag`, to `campaign`'s own
    /// object; repeatable.
    async fn adopt(
        &self,
        account: &AccountId,
        id: &MediaId,
        etag: &str,
        campaign: &CampaignId,
    ) -> Result<(), MediaStoreError>;
    /// Writes `campaign`'s copy of `id` to the file `dest` (at most `max` bytes); `false` when
    /// there is no such copy.
    async fn fetch(
        &self,
        campaign: &CampaignId,
        id: &MediaId,
        dest: &Path,
        max: u64,
    ) -> Result<bool, MediaStoreError>;
}
