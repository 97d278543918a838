//! Uploading a campaign's files: `wacamp start --media FILE` and a CSV's `media` column (a file
//! path, relative to the CSV, or a media id already uploaded). Each file is checked here as the
//! API checks it (what its bytes are, its size), then `POST /accounts/{account}/media` arranges
//! the upload, named by the file's SHA-256 (the same file always gets the same media id, so
//! running the same start again names the same files), and the bytes go straight to the bucket
//! with the headers the API gave. The API key never goes with them.

use crate::api::{Api, call};
use anyhow::{Context, Result, bail};
use api_types::{MediaUpload, MediaUploadRequest};
use domain::media::SNIFF_BYTES;
use domain::{MediaId, MediaType};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A local file to upload, read and checked.
pub struct LocalFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// What its bytes are.
    pub kind: MediaType,
    /// The SHA-256 of its bytes, hex.
    pub sha256: String,
}

impl LocalFile {
    /// Reads and checks `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let kind = MediaType::sniff(&bytes[..bytes.len().min(SNIFF_BYTES)])
            .with_context(|| format!("{}", path.display()))?;
        kind.check_size(bytes.len() as u64).with_context(|| format!("{}", path.display()))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        Ok(Self { path: path.to_path_buf(), bytes, kind, sha256 })
    }
}

/// Uploads `file` for `account`; answers its media id.
pub async fn upload(api: &Api, account: &str, file: &LocalFile) -> Result<String> {
    let name = file.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let asked = MediaUploadRequest {
        file_name: name,
        content_type: file.kind.mime().to_owned(),
        size: file.bytes.len() as u64,
        sha256: Some(file.sha256.clone()),
    };
    let arranged: MediaUpload = call(api.post_builder(&format!("/accounts/{account}/media")).json(&asked))
        .await
        .with_context(|| format!("arranging the upload of {}", file.path.display()))?;
    // A client of its own: the API key stays with the API.
    let mut put = reqwest::Client::new().put(&arranged.upload_url).body(file.bytes.clone());
    for (name, value) in &arranged.upload_headers {
        put = put.header(name, value);
    }
    let resp = put.send().await.with_context(|| format!("uploading {}", file.path.display()))?;
    if !resp.status().is_success() {
        bail!("uploading {}: the bucket answered {}", file.path.display(), resp.status());
    }
    Ok(arranged.media_id)
}

/// The media of a start resolved to media ids.
pub struct Resolved {
    /// The campaign's file, if `--media` named one.
    pub campaign: Option<String>,
    /// Per recipient, its own file (in CSV order).
    pub rows: Vec<Option<String>>,
}

/// The local files named by `--media` and the CSV's `media` cells, read and checked before
/// anything is sent (a bad one is named with its line).
pub fn read_all(
    campaign: Option<&Path>,
    cells: &[Option<String>],
    base: &Path,
) -> Result<(Option<LocalFile>, BTreeMap<String, LocalFile>)> {
    let campaign = campaign.map(LocalFile::read).transpose().context("--media")?;
    let mut files = BTreeMap::new();
    for (i, cell) in cells.iter().enumerate() {
        let Some(cell) = cell.as_deref() else { continue };
        if MediaId::parse(cell).is_ok() || files.contains_key(cell) {
            continue;
        }
        let file =
            LocalFile::read(&base.join(cell)).with_context(|| format!("line {}: column `media`", i + 2))?;
        files.insert(cell.to_owned(), file);
    }
    Ok((campaign, files))
}

/// Uploads what [`read_all`] read (each local file once) and resolves every cell to a media id;
/// cells that already are media ids are kept.
pub async fn resolve(
    api: &Api,
    account: &str,
    campaign: Option<LocalFile>,
    files: BTreeMap<String, LocalFile>,
    cells: &[Option<String>],
) -> Result<Resolved> {
    let campaign = match campaign {
        Some(file) => Some(upload(api, account, &file).await?),
        None => None,
    };
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    for (cell, file) in &files {
        ids.insert(cell.clone(), upload(api, account, file).await?);
    }
    let rows = cells
        .iter()
        .map(|cell| cell.as_ref().map(|c| ids.get(c).cloned().unwrap_or_else(|| c.clone())))
        .collect();
    Ok(Resolved { campaign, rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_checked_before_anything_is_sent_and_a_bad_one_is_named_with_its_line() {
        let dir = std::env::temp_dir().join(format!("wacamp-cli-media-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("offer.pdf"), b"%PDF-1.7\n%%EOF\n").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("notes.png"), b"plain text").unwrap_or_else(|e| panic!("{e}"));
        let id = MediaId::generate(1).to_string();
        let cells = vec![Some("offer.pdf".to_owned()), None, Some(id), Some("offer.pdf".to_owned())];
        let (campaign, files) = read_all(None, &cells, &dir).unwrap_or_else(|e| panic!("{e:#}"));
        assert!(campaign.is_none());
        assert_eq!(files.keys().collect::<Vec<_>>(), ["offer.pdf"], "read once; a media id is no file");
        assert_eq!(files["offer.pdf"].kind, MediaType::Pdf);
        let bad = vec![None, Some("notes.png".to_owned())];
        let err = read_all(None, &bad, &dir).err().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(err.starts_with("line 3: column `media`: "), "{err}");
        assert!(err.contains("not a JPEG or PNG image or a PDF"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
