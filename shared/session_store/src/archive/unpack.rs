//! Unpacking without trusting the archive: a first pass validates every header, path, size and
//! the decompressed length while writing nothing; only then is it written, file by file.

use super::*;

/// A reader that fails once more than `left` bytes have come out of it, recording that it did.
pub(super) struct Bounded<R> {
    pub(super) inner: R,
    pub(super) left: u64,
    pub(super) tripped: Rc<Cell<bool>>,
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
pub(super) fn safe_relative(raw: &[u8]) -> Result<PathBuf, &'static str> {
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
