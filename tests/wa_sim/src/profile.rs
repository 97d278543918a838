//! Copying parts of a Chromium profile, as a backup that keeps only some folders would: the
//! simulator's tests and the driver's tests use it to show which folders a login needs.

use std::path::Path;

/// Copies the named parts (files or directories, relative to the profile) of `from` into `to`;
/// parts the profile does not have are skipped.
pub fn copy_profile(from: &Path, to: &Path, parts: &[&str]) -> std::io::Result<()> {
    for part in parts {
        let source = from.join(part);
        if source.exists() {
            copy_recursive(&source, &to.join(part))?;
        }
    }
    Ok(())
}

fn copy_recursive(from: &Path, to: &Path) -> std::io::Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_recursive(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from, to)?;
    }
    Ok(())
}
