//! Fuzzes `archive::unpack`: whatever the bytes, it must not panic, must not write outside its
//! destination, must never create a symlink or special file, and must stay within its limits.
//! The first byte picks the input form: odd = the bytes are the stored zstd stream as is;
//! even = the bytes are a tar, compressed here, so the fuzzer explores tar headers directly.

#![no_main]

use libfuzzer_sys::fuzz_target;
use session_store::archive::{self, Limits};
use std::path::Path;

const LIMITS: Limits = Limits { max_entry_bytes: 1 << 20, max_total_bytes: 4 << 20, max_entries: 512 };

fn check_tree(dir: &Path, files: &mut usize, bytes: &mut u64) {
    for entry in std::fs::read_dir(dir).expect("listing dest") {
        let entry = entry.expect("dir entry");
        let meta = std::fs::symlink_metadata(entry.path()).expect("metadata");
        let ft = meta.file_type();
        if ft.is_dir() {
            check_tree(&entry.path(), files, bytes);
        } else {
            assert!(ft.is_file(), "unpack created a non-regular file: {}", entry.path().display());
            *files += 1;
            *bytes += meta.len();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let compressed;
    let input = if mode & 1 == 1 {
        rest
    } else {
        compressed = zstd::encode_all(rest, 1).expect("compressing in memory");
        &compressed
    };
    let base = tempfile::tempdir().expect("tempdir");
    let dest = base.path().join("dest");
    let sentinel = base.path().join("sentinel");
    std::fs::create_dir(&dest).expect("dest");
    std::fs::create_dir(&sentinel).expect("sentinel");

    let result = archive::unpack(input, &dest, &LIMITS);

    let (mut files, mut bytes) = (0, 0);
    check_tree(&dest, &mut files, &mut bytes);
    assert_eq!(std::fs::read_dir(base.path()).expect("base").count(), 2, "something escaped dest");
    assert_eq!(std::fs::read_dir(&sentinel).expect("sentinel").count(), 0, "sentinel written");
    match result {
        Ok(stats) => {
            assert!(bytes <= LIMITS.max_total_bytes && files <= LIMITS.max_entries);
            assert!(files <= stats.files, "more files on disk than reported");
        }
        Err(_) => assert_eq!(files, 0, "a refused archive left files behind"),
    }
});
