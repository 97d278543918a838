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

fn collect(root: &Path, rel: &Path, out: &mut Vec<(PathBuf, Kind)>) -> Result<(), SessionStoreError> {
    let abs = root.join(rel);
    let meta = match fs::symlink_metadata(&abs) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(SessionStoreError::local(format!("reading {}", abs.display()), e)),
    };
    let ft = meta.file_type();
    if ft.is_file() {
        out.push((rel.to_path_buf(), Kind::File(meta.len())));
    } else if ft.is_dir() {
        out.push((rel.to_path_buf(), Kind::Dir));
        let list = fs::read_dir(&abs)
            .map_err(|e| SessionStoreError::local(format!("listing {}", abs.display()), e))?;
        for item in list {
            let item = item.map_err(|e| SessionStoreError::local(format!("listing {}", abs.display()), e))?;
            collect(root, &rel.join(item.file_name()), out)?;
        }
    }
    // Symlinks, sockets, fifos and devices are never part of a login: skipped.
    Ok(())
}

fn too_large(what: String) -> SessionStoreError {
    SessionStoreError::Local { context: what, source: None }
}

/// Packs the kept parts of the profile at `profile_dir` (Chromium must have exited) into a
/// deterministic tar (sorted entries, fixed mtime, uid 0, modes 0600/0700) compressed with zstd.
pub fn snapshot(profile_dir: &Path, limits: &Limits) -> Result<Snapshot, SessionStoreError> {
    let meta = fs::symlink_metadata(profile_dir)
        .map_err(|e| SessionStoreError::local(format!("reading {}", profile_dir.display()), e))?;
    if !meta.is_dir() {
        return Err(too_large(format!("{} is not a directory", profile_dir.display())));
    }
    let mut items = Vec::new();
    for k in KEPT {
        collect(profile_dir, Path::new(k), &mut items)?;
    }
    // Parents first: the kept roots' own parent (`Default`) is implied by the paths.
    items.sort_by(|a, b| a.0.cmp(&b.0));
    if items.len() > limits.max_entries {
        return Err(too_large(format!("profile has {} entries, limit {}", items.len(), limits.max_entries)));
    }
    let encoder = zstd::stream::write::Encoder::new(Vec::new(), LEVEL)
        .map_err(|e| SessionStoreError::local("starting zstd", e))?;
    let mut builder = tar::Builder::new(encoder);
    let (mut files, mut total) = (0usize, 0u64);
    for (rel, kind) in &items {
        let mut header = tar::Header::new_ustar();
        header.set_mtime(FIXED_MTIME);
        header.set_uid(0);
        header.set_gid(0);
        let written = match kind {
            Kind::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o700);
                header.set_size(0);
                builder.append_data(&mut header, rel, io::empty())
            }
            Kind::File(len) => {
                if *len > limits.max_entry_bytes {
                    return Err(too_large(format!(
                        "{} is {len} bytes, limit {}",
                        rel.display(),
                        limits.max_entry_bytes
                    )));
                }
                total += len;
                if total > limits.max_total_bytes {
                    return Err(too_large(format!("profile exceeds {} bytes", limits.max_total_bytes)));
                }
                let abs = profile_dir.join(rel);
                let mut data = Vec::with_capacity(usize::try_from(*len).unwrap_or(0));
                fs::File::open(&abs)
                    .and_then(|f| f.take(len + 1).read_to_end(&mut data))
                    .map_err(|e| SessionStoreError::local(format!("reading {}", abs.display()), e))?;
                if data.len() as u64 != *len {
                    return Err(too_large(format!(
                        "{} changed while archiving (is Chromium still running?)",
                        abs.display()
                    )));
                }
                files += 1;
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o600);
                header.set_size(*len);
                builder.append_data(&mut header, rel, data.as_slice())
            }
        };
        written.map_err(|e| SessionStoreError::local(format!("archiving {}", rel.display()), e))?;
    }
    let archive = builder
        .into_inner()
        .and_then(|enc| enc.finish())
        .map_err(|e| SessionStoreError::local("finishing the archive", e))?;
    Ok(Snapshot { archive, files, bytes: total })
}

/// A reader that fails once more than `left` bytes have come out of it, recording that it did.
struct Bounded<R> {
    inner: R,
    left: u64,
    tripped: Rc<Cell<bool>>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // Probe one byte: at exactly the cap, an archive that has ended is fine.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.tripped.set(true);
                    Err(io::Error::other("decompressed stream exceeds the limit"))
                }
            };
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// Unpacks a zstd-compressed tar from storage into `dest` (an existing, empty, private
/// directory), refusing absolute paths, `..`, links, devices, fifos, oversize entries and
/// archives that expand past `limits`. Nothing is written unless the whole archive passes; stale
/// `Singleton*` locks at the top level are skipped.
pub fn unpack(archive: &[u8], dest: &Path, limits: &Limits) -> Result<UnpackStats, SessionStoreError> {
    let meta = fs::symlink_metadata(dest)
        .map_err(|e| SessionStoreError::local(format!("opening {}", dest.display()), e))?;
    if !meta.is_dir() {
        return Err(SessionStoreError::Local {
            context: format!("{} is not a directory", dest.display()),
            source: None,
        });
    }
    walk(archive, limits, None)?;
    walk(archive, limits, Some(dest))
}

/// Validates an archive exactly as [`unpack`] does, writing nothing.
pub fn check(archive: &[u8], limits: &Limits) -> Result<UnpackStats, SessionStoreError> {
    walk(archive, limits, None)
}

fn shown(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s.into_owned()
    }
}

/// A normal relative path, or why not.
fn safe_relative(raw: &[u8]) -> Result<PathBuf, &'static str> {
    let text = std::str::from_utf8(raw).map_err(|_| "path is not UTF-8")?;
    if text.starts_with('/') {
        return Err("absolute path");
    }
    if text.contains('\\') || text.contains('\0') {
        return Err("path contains a backslash or NUL");
    }
    let mut out = PathBuf::new();
    let mut depth = 0;
    for part in text.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err("path contains '..'"),
            p => {
                // Belt and braces: the component must be a plain name to std as well.
                if !matches!(Path::new(p).components().next(), Some(Component::Normal(_))) {
                    return Err("path component is not a plain name");
                }
                out.push(p);
                depth += 1;
            }
        }
    }
    if depth == 0 {
        return Err("empty path");
    }
    if depth > MAX_DEPTH {
        return Err("path too deep");
    }
    Ok(out)
}

fn kind_name(t: tar::EntryType) -> String {
    match t {
        tar::EntryType::Symlink => "symlink".into(),
        tar::EntryType::Link => "hard link".into(),
        tar::EntryType::Char => "character device".into(),
        tar::EntryType::Block => "block device".into(),
        tar::EntryType::Fifo => "fifo".into(),
        tar::EntryType::GNUSparse => "sparse file".into(),
        tar::EntryType::GNULongLink => "GNU long link".into(),
        tar::EntryType::XHeader | tar::EntryType::XGlobalHeader => "pax header".into(),
        other => format!("entry type {:?}", other.as_byte() as char),
    }
}

/// Makes `dest/rel` as directories, refusing to pass through anything that is not a directory
/// (a symlink or a file from an earlier entry).
fn make_dirs(dest: &Path, rel: &Path, shown: &str) -> Result<(), SessionStoreError> {
    let mut p = dest.to_path_buf();
    for c in rel.components() {
        p.push(c);
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let m = fs::symlink_metadata(&p)
                    .map_err(|e| SessionStoreError::local(format!("checking {}", p.display()), e))?;
                if !m.file_type().is_dir() {
                    return Err(SessionStoreError::hostile(shown, "a parent is not a directory"));
                }
            }
            Err(e) => return Err(SessionStoreError::local(format!("creating {}", p.display()), e)),
        }
    }
    Ok(())
}

fn walk(archive: &[u8], limits: &Limits, dest: Option<&Path>) -> Result<UnpackStats, SessionStoreError> {
    let tripped = Rc::new(Cell::new(false));
    let io_fail = |e: io::Error, at: &str| {
        if tripped.get() {
            SessionStoreError::hostile(at, "decompressed stream larger than the limits allow (zstd bomb?)")
        } else {
            SessionStoreError::Corrupt(format!("archive unreadable at '{at}': {e}"))
        }
    };
    let decoder = zstd::stream::read::Decoder::with_buffer(archive)
        .map_err(|e| SessionStoreError::Corrupt(format!("not a zstd stream: {e}")))?;
    let bounded = Bounded { inner: decoder, left: limits.stream_cap(), tripped: Rc::clone(&tripped) };
    let mut ar = tar::Archive::new(bounded);
    let mut stats = UnpackStats::default();
    let mut files: HashSet<PathBuf> = HashSet::new();
    let mut dirs: HashSet<PathBuf> = HashSet::new();
    let mut long_name: Option<Vec<u8>> = None;
    let mut records = 0usize;
    let entries = ar.entries().map_err(|e| io_fail(e, "<archive>"))?.raw(true);
    for entry in entries {
        let mut entry = entry.map_err(|e| io_fail(e, "<archive>"))?;
        records += 1;
        if records > limits.max_entries.saturating_mul(2).saturating_add(2) {
            return Err(SessionStoreError::hostile("<archive>", "too many records"));
        }
        let kind = entry.header().entry_type();
        let size = entry.size();
        if kind.is_gnu_longname() {
            if long_name.is_some() {
                return Err(SessionStoreError::hostile("<long name>", "two long-name records in a row"));
            }
            if size > MAX_PATH_BYTES {
                return Err(SessionStoreError::hostile("<long name>", format!("long name of {size} bytes")));
            }
            let mut buf = Vec::new();
            (&mut entry).take(MAX_PATH_BYTES).read_to_end(&mut buf).map_err(|e| io_fail(e, "<long name>"))?;
            while buf.last() == Some(&0) {
                buf.pop();
            }
            long_name = Some(buf);
            continue;
        }
        let raw_path = match long_name.take() {
            Some(p) => p,
            None => entry.path_bytes().into_owned(),
        };
        let at = shown(&raw_path);
        let rel = safe_relative(&raw_path).map_err(|r| SessionStoreError::hostile(&at, r))?;
        let is_dir = match kind {
            tar::EntryType::Regular | tar::EntryType::Continuous => false,
            tar::EntryType::Directory => true,
            other => {
                return Err(SessionStoreError::hostile(
                    &at,
                    format!("{} entries are not allowed", kind_name(other)),
                ));
            }
        };
        if stats.files + stats.dirs >= limits.max_entries {
            return Err(SessionStoreError::hostile(&at, format!("more than {} entries", limits.max_entries)));
        }
        for ancestor in rel.ancestors().skip(1) {
            if files.contains(ancestor) {
                return Err(SessionStoreError::hostile(&at, "a parent is a file of this archive"));
            }
        }
        if files.contains(&rel) || (!is_dir && dirs.contains(&rel)) {
            return Err(SessionStoreError::hostile(&at, "duplicate entry"));
        }
        let singleton = rel.components().count() == 1 && rel.to_string_lossy().starts_with("Singleton");
        if is_dir {
            if size != 0 {
                return Err(SessionStoreError::hostile(&at, "directory with data"));
            }
            if dirs.insert(rel.clone()) {
                stats.dirs += 1;
            }
            if let Some(dest) = dest {
                make_dirs(dest, &rel, &at)?;
            }
            continue;
        }
        if size > limits.max_entry_bytes {
            return Err(SessionStoreError::hostile(
                &at,
                format!("entry of {size} bytes exceeds the {}-byte limit", limits.max_entry_bytes),
            ));
        }
        stats.bytes = stats.bytes.saturating_add(size);
        if stats.bytes > limits.max_total_bytes {
            return Err(SessionStoreError::hostile(
                &at,
                format!("archive expands past the {}-byte limit", limits.max_total_bytes),
            ));
        }
        for ancestor in rel.ancestors().skip(1) {
            if ancestor.as_os_str().is_empty() {
                break;
            }
            dirs.insert(ancestor.to_path_buf());
        }
        files.insert(rel.clone());
        stats.files += 1;
        let copied = match dest {
            Some(dest) if !singleton => {
                if let Some(parent) = rel.parent() {
                    make_dirs(dest, parent, &at)?;
                }
                let path = dest.join(&rel);
                let mut options = fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(&path).map_err(|e| {
                    if e.kind() == io::ErrorKind::AlreadyExists {
                        SessionStoreError::hostile(&at, "collides with an existing path")
                    } else {
                        SessionStoreError::local(format!("creating {}", path.display()), e)
                    }
                })?;
                let n = io::copy(&mut (&mut entry).take(size), &mut file).map_err(|e| io_fail(e, &at))?;
                file.flush()
                    .map_err(|e| SessionStoreError::local(format!("writing {}", path.display()), e))?;
                n
            }
            _ => io::copy(&mut (&mut entry).take(size), &mut io::sink()).map_err(|e| io_fail(e, &at))?,
        };
        if copied != size {
            return Err(SessionStoreError::Corrupt(format!("archive truncated in '{at}'")));
        }
    }
    if long_name.is_some() {
        return Err(SessionStoreError::hostile("<long name>", "long-name record without an entry"));
    }
    // After the end marker only zero padding may follow, and not much of it: a stream of
    // zeros that decompresses to gigabytes stops here, after a few KiB.
    let mut rest = Vec::new();
    ar.into_inner()
        .take(MAX_TRAILER + 1)
        .read_to_end(&mut rest)
        .map_err(|e| io_fail(e, "<end of archive>"))?;
    if rest.len() as u64 > MAX_TRAILER || rest.iter().any(|b| *b != 0) {
        return Err(SessionStoreError::hostile("<end of archive>", "data after the end of the archive"));
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
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
