//! The profile archive: which files of a Chromium profile keep the WhatsApp Web login, how they
//! are packed (deterministic tar + zstd) and how an archive from storage is unpacked without
//! trusting it. Pure functions over directories and bytes, so they can be unit tested and fuzzed.
//!
//! Unpacking runs twice over the bytes: a first pass validates every header, path, size and the
//! decompressed length while writing nothing; only an archive that passes is written, file by
//! file with `create_new` (O_EXCL), under `dest`, never through a symlink.

use crate::SessionStoreError;
use std::cell::Cell;
use std::collections::HashSet;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

/// What a login needs, relative to the user-data-dir (whatsapp-web.js RemoteAuth keeps the
/// first two; cookies and `Local State` are small and keep the device stable). Everything else
/// (`Cache`, `Code Cache`, `GPUCache`, `*ShaderCache`, `Service Worker`, `Crashpad`,
/// `Singleton*` locks, logs) is left out, which is why a 19 MB profile archives to tens of KB.
/// LevelDB files inside the kept trees (`LOG`, `MANIFEST-*`, `*.ldb`, `*.log`) are all kept.
pub const KEPT: &[&str] = &[
    "Default/IndexedDB",
    "Default/Local Storage",
    "Default/Cookies",
    "Default/Cookies-journal",
    "Local State",
];

/// zstd level: profiles are small, so a middling level costs little time for a smaller object.
const LEVEL: i32 = 9;
/// Every entry carries this mtime, so the same files give the same bytes (and checksum).
const FIXED_MTIME: u64 = 0;
/// The longest entry path accepted (GNU long-name records included).
const MAX_PATH_BYTES: u64 = 1024;
/// The deepest entry path accepted.
const MAX_DEPTH: usize = 48;
/// Zero padding tolerated after the end-of-archive marker (one tar record).
const MAX_TRAILER: u64 = 10 * 1024;

/// Bounds on what an archive may expand to; a restore refuses anything beyond them, and a
/// snapshot refuses to produce what a restore would refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single file.
    pub max_entry_bytes: u64,
    /// Sum of all file sizes.
    pub max_total_bytes: u64,
    /// Files plus directories.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_entry_bytes: 64 << 20, max_total_bytes: 256 << 20, max_entries: 20_000 }
    }
}

impl Limits {
    /// The most decompressed bytes an archive within these limits can need: the data plus, per
    /// entry, a header, a long-name record and padding, plus the end marker. A zstd stream that
    /// goes on longer is a bomb and is cut off here.
    pub fn stream_cap(&self) -> u64 {
        let per_entry = 512 + 512 + MAX_PATH_BYTES + 512;
        self.max_total_bytes
            .saturating_add((self.max_entries as u64).saturating_mul(per_entry))
            .saturating_add(MAX_TRAILER + 1024)
    }
}

/// A packed profile.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// tar + zstd bytes (not yet encrypted).
    pub archive: Vec<u8>,
    /// Regular files packed.
    pub files: usize,
    /// Their total size before compression.
    pub bytes: u64,
}

/// What an unpack wrote (or, in the checking pass, would write).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnpackStats {
    /// Regular files.
    pub files: usize,
    /// Directories.
    pub dirs: usize,
    /// Bytes of file data.
    pub bytes: u64,
}

/// True when `rel` (relative to the user-data-dir) is part of what a snapshot keeps.
pub fn is_kept(rel: &Path) -> bool {
    KEPT.iter().any(|k| rel.starts_with(k))
}

enum Kind {
    Dir,
    File(u64),
}

pub(crate) fn too_large(what: String) -> SessionStoreError {
    SessionStoreError::Local { context: what, source: None }
}

mod pack;
mod unpack;

pub use pack::snapshot;
pub use unpack::{check, unpack};

#[cfg(test)]
mod tests {
    use super::unpack::{Bounded, safe_relative};
    use super::*;

    #[test]
    fn kept_paths_are_the_login_trees_only() {
        assert!(is_kept(Path::new(
            "Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb/000003.log"
        )));
        assert!(is_kept(Path::new("Default/Local Storage/leveldb/LOG")));
        assert!(is_kept(Path::new("Local State")));
        assert!(!is_kept(Path::new("Default/Cache/Cache_Data/index")));
        assert!(!is_kept(Path::new("SingletonLock")));
        assert!(!is_kept(Path::new("Default/Cookies-old")));
    }

    #[test]
    fn relative_paths_must_be_plain() {
        assert!(safe_relative(b"a/b/c").is_ok());
        assert_eq!(safe_relative(b"./a//b").unwrap(), PathBuf::from("a/b"));
        assert!(safe_relative(b"/etc/passwd").is_err());
        assert!(safe_relative(b"a/../../b").is_err());
        assert!(safe_relative(b"").is_err());
        assert!(safe_relative(b"a\\..\\b").is_err());
        assert!(safe_relative(&[0xff, 0xfe]).is_err());
    }

    #[test]
    fn the_bounded_reader_stops_at_its_cap_and_says_so() {
        let data = vec![1u8; 100];
        let tripped = Rc::new(Cell::new(false));
        let mut r = Bounded { inner: data.as_slice(), left: 10, tripped: Rc::clone(&tripped) };
        let mut out = Vec::new();
        assert!(r.read_to_end(&mut out).is_err());
        assert!(tripped.get());
        assert_eq!(out.len(), 10);
        let tripped = Rc::new(Cell::new(false));
        let mut r = Bounded { inner: &data[..10], left: 10, tripped: Rc::clone(&tripped) };
        assert_eq!(r.read_to_end(&mut Vec::new()).unwrap(), 10);
        assert!(!tripped.get());
    }
}
