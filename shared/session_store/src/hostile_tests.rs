//! Hostile archives, crafted header by header, against the unpacker: every one is refused with
//! `Hostile` (or `Corrupt` for garbage) and nothing lands anywhere, inside or outside `dest`.

use crate::SessionStoreError;
use crate::archive::{self, Limits};
use std::io::Write;
use std::path::{Path, PathBuf};
use tar::{EntryType, Header};

/// A header with raw name bytes (the tar crate's `set_path` refuses `..` and absolute paths,
/// which is exactly what these tests need to write).
fn header(name: &[u8], kind: EntryType, size: u64) -> Header {
    let mut h = Header::new_ustar();
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    h
}

fn link(name: &[u8], kind: EntryType, target: &[u8]) -> Header {
    let mut h = header(name, kind, 0);
    h.as_old_mut().linkname[..target.len()].copy_from_slice(target);
    h.set_cksum();
    h
}

/// Records as (header, data); data shorter than the declared size is allowed (lying headers).
fn tar_bytes(records: &[(Header, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (h, data) in records {
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

fn zst(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 1).unwrap()
}

/// `base/dest` (where unpacking goes) and `base/sentinel` (must stay empty), and nothing else.
struct Arena {
    base: tempfile::TempDir,
}

impl Arena {
    fn new() -> Self {
        let base = tempfile::tempdir().unwrap();
        std::fs::create_dir(base.path().join("dest")).unwrap();
        std::fs::create_dir(base.path().join("sentinel")).unwrap();
        Self { base }
    }
    fn dest(&self) -> PathBuf {
        self.base.path().join("dest")
    }
    fn sentinel(&self) -> PathBuf {
        self.base.path().join("sentinel")
    }
    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
    /// Unpacks and asserts the archive was refused with `code`, leaving everything empty.
    fn refuses(&self, archive: &[u8], limits: &Limits, code: &str) -> SessionStoreError {
        let err = archive::unpack(archive, &self.dest(), limits).expect_err("hostile archive was accepted");
        assert_eq!(err.code(), code, "{err}");
        assert_eq!(Self::listing(self.base.path()), ["dest", "sentinel"], "something escaped dest");
        assert!(Self::listing(&self.sentinel()).is_empty(), "sentinel dir was written");
        assert!(Self::listing(&self.dest()).is_empty(), "dest was written before the archive passed");
        err
    }
}

fn hostile_reason(err: &SessionStoreError) -> String {
    match err {
        SessionStoreError::Hostile { entry, reason } => format!("{entry}: {reason}"),
        other => panic!("expected Hostile, got {other}"),
    }
}

#[test]
fn a_well_formed_archive_unpacks_and_skips_singleton_locks() {
    let arena = Arena::new();
    let raw = tar_bytes(&[
        (header(b"Default/Local Storage/leveldb/", EntryType::Directory, 0), b""),
        (header(b"Default/Local Storage/leveldb/000003.log", EntryType::Regular, 5), b"hello"),
        (header(b"SingletonCookie", EntryType::Regular, 1), b"1"),
    ]);
    let stats = archive::unpack(&zst(&raw), &arena.dest(), &Limits::default()).unwrap();
    assert_eq!((stats.files, stats.bytes), (2, 6));
    let log = arena.dest().join("Default/Local Storage/leveldb/000003.log");
    assert_eq!(std::fs::read(log).unwrap(), b"hello");
    assert!(!arena.dest().join("SingletonCookie").exists());
}

#[test]
fn a_parent_dir_escape_is_refused() {
    let arena = Arena::new();
    let raw = tar_bytes(&[(header(b"../escape", EntryType::Regular, 4), b"evil")]);
    let err = arena.refuses(&zst(&raw), &Limits::default(), "PROFILE_HOSTILE");
    assert!(hostile_reason(&err).contains("../escape"));
    let raw = tar_bytes(&[(header(b"Default/../../sentinel/x", EntryType::Regular, 4), b"evil")]);
    arena.refuses(&zst(&raw), &Limits::default(), "PROFILE_HOSTILE");
}

#[test]
fn an_absolute_path_is_refused() {
    let arena = Arena::new();
    let raw = tar_bytes(&[(header(b"/tmp/x", EntryType::Regular, 4), b"evil")]);
    arena.refuses(&zst(&raw), &Limits::default(), "PROFILE_HOSTILE");
    let target = format!("{}/x", arena.sentinel().display());
    let raw = tar_bytes(&[(header(target.as_bytes(), EntryType::Regular, 4), b"evil")]);
    let err = arena.refuses(&zst(&raw), &Limits::default(), "PROFILE_HOSTILE");
    assert!(hostile_reason(&err).contains("absolute"));
}

#[test]
fn a_hostile_entry_after_good_ones_leaves_nothing_behind() {
    let arena = Arena::new();
    let raw = tar_bytes(&[
        (header(b"Default/Cookies", EntryType::Regular, 2), b"ok"),
        (header(b"../escape", EntryType::Regular, 4), b"evil"),
    ]);
    arena.refuses(&zst(&raw), &Limits::default(), "PROFILE_HOSTILE");
}

#[test]
fn a_symlink_to_etc_is_refused_and_never_followed() {
    let arena = Arena::new();
    let raw = tar_bytes(&[
        (link(b"Default/IndexedDB", EntryType::Symlink, b"/etc"), b""),
        (header(b"Default/IndexedDB/passwd", EntryType::Regular, 4), b"evil"),
    ]);
    let err = arena.refuses(&zst(&raw), &Limits::default(), "PROFILE_HOSTILE");
    assert!(hostile_reason(&err).contains("symlink"), "{err}");
    let target = arena.sentinel();
    let raw = tar_bytes(&[
        (link(b"out", EntryType::Symlink, target.as_os_str().as_encoded_bytes()), b""),
        (header(b"out/x", EntryType::Regular, 4), b"evil"),
    ]);
    arena.refuses(&zst(&raw), &Limits::default(), "PROFILE_HOSTILE");
}

#[test]
fn a_hard_link_is_refused() {
    let arena = Arena::new();
    let raw = tar_bytes(&[(link(b"Default/Cookies", EntryType::Link, b"/etc/passwd"), b"")]);
    let err = arena.refuses(&zst(&raw), &Limits::default(), "PROFILE_HOSTILE");
    assert!(hostile_reason(&err).contains("hard link"), "{err}");
}

#[test]
fn devices_fifos_sparse_and_pax_entries_are_refused() {
    let arena = Arena::new();
    for kind in [EntryType::Char, EntryType::Block, EntryType::Fifo, EntryType::GNUSparse, EntryType::XHeader]
    {
        let raw = tar_bytes(&[(header(b"Default/dev", kind, 0), b"")]);
        arena.refuses(&zst(&raw), &Limits::default(), "PROFILE_HOSTILE");
    }
}

#[test]
fn an_entry_declaring_a_gigabyte_is_refused_without_reading_it() {
    let arena = Arena::new();
    // The header claims 1 GiB; only a few bytes follow. Nothing is allocated for the claim.
    let raw = tar_bytes(&[(header(b"Default/IndexedDB/huge.ldb", EntryType::Regular, 1 << 30), b"tiny")]);
    let err = arena.refuses(&zst(&raw), &Limits::default(), "PROFILE_HOSTILE");
    assert!(hostile_reason(&err).contains("huge.ldb"), "{err}");
}

#[test]
fn a_huge_long_name_record_is_refused() {
    let arena = Arena::new();
    let raw = tar_bytes(&[(header(b"././@LongLink", EntryType::GNULongName, 1 << 30), b"aaaa")]);
    arena.refuses(&zst(&raw), &Limits::default(), "PROFILE_HOSTILE");
}

/// Compresses `header` followed by `zeros` zero bytes, streaming, so the test never holds the
/// expanded form: gigabytes of zeros become a few hundred KiB.
fn zero_bomb(header: Option<Header>, zeros: u64) -> Vec<u8> {
    let mut enc = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
    if let Some(h) = header {
        enc.write_all(h.as_bytes()).unwrap();
    }
    let chunk = vec![0u8; 1 << 20];
    let mut left = zeros;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        enc.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    enc.finish().unwrap()
}

#[test]
fn a_zstd_bomb_of_zeros_stops_early() {
    let arena = Arena::new();
    let started = std::time::Instant::now();
    let bomb = zero_bomb(None, 2 << 30);
    assert!(bomb.len() < 1 << 20, "bomb should be small compressed: {}", bomb.len());
    let err = arena.refuses(&bomb, &Limits::default(), "PROFILE_HOSTILE");
    assert!(hostile_reason(&err).contains("end of the archive"), "{err}");
    let bomb = zero_bomb(Some(header(b"Default/IndexedDB/bomb", EntryType::Regular, 2 << 30)), 2 << 30);
    arena.refuses(&bomb, &Limits::default(), "PROFILE_HOSTILE");
    assert!(started.elapsed().as_secs() < 30, "bomb handling took {:?}", started.elapsed());
}

#[test]
fn many_small_entries_past_the_total_are_refused() {
    let arena = Arena::new();
    let limits = Limits { max_entry_bytes: 64 << 10, max_total_bytes: 256 << 10, max_entries: 100 };
    let data = vec![0u8; 60 << 10];
    let names: Vec<String> = (0..10).map(|i| format!("Default/IndexedDB/{i:03}.ldb")).collect();
    let records: Vec<_> = names
        .iter()
        .map(|n| (header(n.as_bytes(), EntryType::Regular, data.len() as u64), data.as_slice()))
        .collect();
    let err = arena.refuses(&zst(&tar_bytes(&records)), &limits, "PROFILE_HOSTILE");
    assert!(hostile_reason(&err).contains("expands past"), "{err}");
    let few = Limits { max_entries: 3, ..Limits::default() };
    let err = arena.refuses(&zst(&tar_bytes(&records)), &few, "PROFILE_HOSTILE");
    assert!(hostile_reason(&err).contains("entries"), "{err}");
}

#[test]
fn duplicate_and_colliding_entries_are_refused() {
    let arena = Arena::new();
    let raw = tar_bytes(&[
        (header(b"Default/Cookies", EntryType::Regular, 1), b"a"),
        (header(b"Default/Cookies", EntryType::Regular, 1), b"b"),
    ]);
    arena.refuses(&zst(&raw), &Limits::default(), "PROFILE_HOSTILE");
    let raw = tar_bytes(&[
        (header(b"Default", EntryType::Regular, 1), b"a"),
        (header(b"Default/Cookies", EntryType::Regular, 1), b"b"),
    ]);
    arena.refuses(&zst(&raw), &Limits::default(), "PROFILE_HOSTILE");
}

#[test]
fn garbage_and_truncated_archives_are_corrupt() {
    let arena = Arena::new();
    arena.refuses(b"definitely not zstd", &Limits::default(), "PROFILE_CORRUPT");
    let raw = tar_bytes(&[(header(b"Default/Cookies", EntryType::Regular, 4096), b"short")]);
    let full = zst(&raw[..raw.len() - 1024]);
    arena.refuses(&full, &Limits::default(), "PROFILE_CORRUPT");
    let good = zst(&tar_bytes(&[(header(b"Default/Cookies", EntryType::Regular, 2), b"ok")]));
    arena.refuses(&good[..good.len() / 2], &Limits::default(), "PROFILE_CORRUPT");
}

#[test]
fn snapshots_are_deterministic_and_drop_junk() {
    let src = tempfile::tempdir().unwrap();
    let root = src.path();
    std::fs::create_dir_all(root.join("Default/IndexedDB/x.leveldb")).unwrap();
    std::fs::write(root.join("Default/IndexedDB/x.leveldb/LOG"), "log").unwrap();
    std::fs::create_dir_all(root.join("Default/GPUCache")).unwrap();
    std::fs::write(root.join("Default/GPUCache/data_0"), "junk").unwrap();
    std::fs::write(root.join("Local State"), "{}").unwrap();
    // A path past ustar's 255 bytes travels as a GNU long-name record.
    let long = format!("Default/IndexedDB/{}/{}", "d".repeat(120), "f".repeat(200));
    std::fs::create_dir_all(root.join(&long).parent().unwrap()).unwrap();
    std::fs::write(root.join(&long), "deep").unwrap();
    let a = archive::snapshot(root, &Limits::default()).unwrap();
    let b = archive::snapshot(root, &Limits::default()).unwrap();
    assert_eq!(a.archive, b.archive);
    assert_eq!(a.files, 3);
    let stats = archive::check(&a.archive, &Limits::default()).unwrap();
    assert_eq!(stats.files, 3);
    let dest = tempfile::tempdir().unwrap();
    archive::unpack(&a.archive, dest.path(), &Limits::default()).unwrap();
    assert_eq!(std::fs::read_to_string(dest.path().join(&long)).unwrap(), "deep");
    assert!(!dest.path().join("Default/GPUCache").exists());
}
