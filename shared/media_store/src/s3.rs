//! The S3 adapter: pre-signed uploads that fix their size and type, a look at an upload (its
//! size, entity tag and first bytes), a conditional copy into the campaign's own object, and a
//! streamed download with a size bound. Passing refusals and lost replies are tried again
//! (`platform::retry`); every call here is repeatable.

use crate::{MediaStore, MediaStoreError, Upload, UploadRequest, Uploaded, keys};
use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use base64::Engine;
use domain::media::SNIFF_BYTES;
use domain::{AccountId, CampaignId, MediaId};
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use platform::retry;
use std::path::Path;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// The media bucket through `client`.
#[derive(Clone)]
pub struct S3MediaStore {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3MediaStore {
    /// Uses `bucket` through `client` (built with `platform::s3_client`).
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }
}

/// The HTTP status of a failed call, if it got an answer.
fn status<E>(e: &aws_sdk_s3::error::SdkError<E>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

#[async_trait]
impl MediaStore for S3MediaStore {
    async fn presign_upload(
        &self,
        account: &AccountId,
        id: &MediaId,
        upload: &UploadRequest<'_>,
        expires_in: Duration,
    ) -> Result<Upload, MediaStoreError> {
        let config = PresigningConfig::expires_in(expires_in).map_err(MediaStoreError::unavailable)?;
        let mut put = self.client.put_object();
        if let Some(sha256) = upload.sha256 {
            put = put.checksum_sha256(base64::engine::general_purpose::STANDARD.encode(sha256));
        }
        let presigned = put
            .bucket(&self.bucket)
            .key(keys::upload(account, id))
            .content_type(upload.content_type)
            .content_length(i64::try_from(upload.size).unwrap_or(i64::MAX))
            // Object metadata is ASCII: the name travels percent-encoded.
            .metadata(FILE_NAME, utf8_percent_encode(upload.file_name, NON_ALPHANUMERIC).to_string())
            .presigned(config)
            .await
            .map_err(MediaStoreError::unavailable)?;
        Ok(Upload {
            url: presigned.uri().to_owned(),
            headers: presigned.headers().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
        })
    }

    async fn inspect(&self, account: &AccountId, id: &MediaId) -> Result<Option<Uploaded>, MediaStoreError> {
        let key = keys::upload(account, id);
        let head = self.client.head_object().bucket(&self.bucket).key(&key);
        let found = match retry::call(|| head.clone().send()).await {
            Ok(out) => out,
            Err(e) if status(&e) == Some(404) => return Ok(None),
            Err(e) => return Err(MediaStoreError::unavailable(e)),
        };
        let size = found.content_length().and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        let etag = found.e_tag().unwrap_or_default().to_owned();
        let file_name = found
            .metadata()
            .and_then(|m| m.get(FILE_NAME))
            .map(|n| percent_decode_str(n).decode_utf8_lossy().into_owned());
        if size == 0 {
            return Ok(Some(Uploaded { size, etag, head: Vec::new(), file_name }));
        }
        let range = format!("bytes=0-{}", SNIFF_BYTES.min(usize::try_from(size).unwrap_or(SNIFF_BYTES)) - 1);
        let get = self.client.get_object().bucket(&self.bucket).key(&key).range(range).if_match(&etag);
        let out = match retry::call(|| get.clone().send()).await {
            Ok(out) => out,
            Err(e) if status(&e) == Some(404) => return Ok(None),
            Err(e) if status(&e) == Some(412) => return Err(MediaStoreError::Changed(id.to_string())),
            Err(e) => return Err(MediaStoreError::unavailable(e)),
        };
        let bytes = out.body.collect().await.map_err(MediaStoreError::unavailable)?.into_bytes();
        let mut first = bytes.to_vec();
        first.truncate(SNIFF_BYTES);
        Ok(Some(Uploaded { size, etag, head: first, file_name }))
    }

    async fn adopt(
        &self,
        account: &AccountId,
        id: &MediaId,
        etag: &str,
        campaign: &CampaignId,
    ) -> Result<(), MediaStoreError> {
        // Keys are made of ids with no character to encode but `/`, kept as the separator.
        let source = format!("{}/{}", self.bucket, keys::upload(account, id));
        let copy = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(keys::campaign_copy(campaign, id))
            .copy_source(percent_encoding::utf8_percent_encode(&source, SOURCE).to_string())
            .copy_source_if_match(etag);
        match retry::call(|| copy.clone().send()).await {
            Ok(_) => Ok(()),
            Err(e) if status(&e) == Some(412) => Err(MediaStoreError::Changed(id.to_string())),
            Err(e) => Err(MediaStoreError::unavailable(e)),
        }
    }

    async fn fetch(
        &self,
        campaign: &CampaignId,
        id: &MediaId,
        dest: &Path,
        max: u64,
    ) -> Result<bool, MediaStoreError> {
        let key = keys::campaign_copy(campaign, id);
        let get = self.client.get_object().bucket(&self.bucket).key(&key);
        let out = match retry::call(|| get.clone().send()).await {
            Ok(out) => out,
            Err(e) if status(&e) == Some(404) => return Ok(false),
            Err(e) => return Err(MediaStoreError::unavailable(e)),
        };
        if out.content_length().is_some_and(|n| u64::try_from(n).unwrap_or(u64::MAX) > max) {
            return Err(MediaStoreError::TooLarge { key, max });
        }
        let io = |source| MediaStoreError::Io { path: dest.display().to_string(), source };
        let mut file = tokio::fs::File::create(dest).await.map_err(io)?;
        // Streamed, never held whole: a document may be 100 MB.
        let mut body = out.body.into_async_read().take(max.saturating_add(1));
        let written = tokio::io::copy(&mut body, &mut file).await.map_err(io)?;
        if written > max {
            drop(file);
            let _ = tokio::fs::remove_file(dest).await;
            return Err(MediaStoreError::TooLarge { key, max });
        }
        file.sync_all().await.map_err(io)?;
        Ok(true)
    }
}

/// The object metadata key of an upload's file name.
const FILE_NAME: &str = "file-name";

/// What a copy source's bucket and key keep unencoded: the characters ids are made of and `/`.
const SOURCE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.');
