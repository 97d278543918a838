//! Packing: the kept files of a profile into a deterministic tar + zstd archive.

use super::*;

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
