//! Snapshot + restore of a profile against the whole-profile baseline (tar + zstd of the entire
//! user-data-dir), reported as ratios in one run.
//!
//! `cargo bench -p session_store --bench profile --profile dev` (the dev profile already
//! optimises zstd and sha2; a release build of the AWS SDK takes ~18 min here). Set
//! `WACAMP_BENCH_PROFILE=/path/to/user-data-dir` to measure a real profile (Chromium closed);
//! otherwise a synthetic one is built: login trees of ~0.4 MB and ~19 MB of caches, like the
//! profile measured in FACTS.md.

use measure::{Ratio, record};
use session_store::archive::{self, Limits};
use std::path::Path;
use std::time::{Duration, Instant};

const ROUNDS: u32 = 5;

fn write(root: &Path, rel: &str, data: &[u8]) -> std::io::Result<()> {
    let p = root.join(rel);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(p, data)
}

/// Deterministic bytes that compress like real data: `entropy` of 0 is all zeros, 8 is noise.
fn bytes(len: usize, seed: u32, entropy: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x as u8) >> (8 - entropy.min(8))
        })
        .collect()
}

fn synthetic(root: &Path) -> std::io::Result<()> {
    let idb = "Default/IndexedDB/https_web.whatsapp.com_0.indexeddb.leveldb";
    write(root, &format!("{idb}/000003.log"), &bytes(120_000, 1, 5))?;
    write(root, &format!("{idb}/000005.ldb"), &bytes(200_000, 2, 6))?;
    for (name, data) in
        [("CURRENT", b"MANIFEST-000001\n".to_vec()), ("LOG", bytes(2_000, 3, 4)), ("LOCK", vec![])]
    {
        write(root, &format!("{idb}/{name}"), &data)?;
    }
    write(root, "Default/Local Storage/leveldb/000003.log", &bytes(30_000, 4, 5))?;
    write(root, "Default/Local Storage/leveldb/CURRENT", b"MANIFEST-000001\n")?;
    write(root, "Default/Cookies", &bytes(20_480, 5, 3))?;
    write(root, "Local State", &bytes(4_000, 6, 4))?;
    for i in 0..40 {
        write(root, &format!("Default/Cache/Cache_Data/f_{i:06x}"), &bytes(300_000, 100 + i, 7))?;
    }
    for i in 0..20 {
        write(root, &format!("Default/Code Cache/js/{i:016x}_0"), &bytes(150_000, 200 + i, 6))?;
    }
    write(root, "Default/GPUCache/data_1", &bytes(1_000_000, 7, 2))?;
    write(root, "GrShaderCache/data_1", &bytes(500_000, 8, 3))?;
    write(root, "Default/Service Worker/ScriptCache/abc_0", &bytes(1_500_000, 9, 6))?;
    write(root, "Default/History", &bytes(160_000, 10, 2))?;
    Ok(())
}

fn whole_profile_archive(root: &Path) -> std::io::Result<Vec<u8>> {
    let enc = zstd::stream::write::Encoder::new(Vec::new(), 9)?;
    let mut b = tar::Builder::new(enc);
    b.follow_symlinks(false);
    b.append_dir_all(".", root)?;
    b.into_inner()?.finish()
}

fn timed<T>(mut f: impl FnMut() -> T) -> (T, Duration) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        last = Some(f());
        best = best.min(t.elapsed());
    }
    (last.expect("ROUNDS > 0"), best)
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|d| {
            d.flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => dir_size(&e.path()),
                    Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
                    _ => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scratch = tempfile::tempdir()?;
    let profile = match std::env::var_os("WACAMP_BENCH_PROFILE") {
        Some(p) => p.into(),
        None => {
            let p = scratch.path().join("profile");
            synthetic(&p)?;
            p
        }
    };
    let limits = Limits::default();
    println!("profile: {} ({} bytes on disk)", profile.display(), dir_size(&profile));

    let (snap, t_snap) = timed(|| archive::snapshot(&profile, &limits));
    let snap = snap?;
    let (restored, t_restore) = timed(|| -> Result<u64, Box<dyn std::error::Error>> {
        let dest = tempfile::tempdir_in(scratch.path())?;
        Ok(archive::unpack(&snap.archive, dest.path(), &limits)?.bytes)
    });
    restored?;

    let (whole, t_whole) = timed(|| whole_profile_archive(&profile));
    let whole = whole?;
    let (_, t_whole_restore) = timed(|| -> std::io::Result<()> {
        let dest = tempfile::tempdir_in(scratch.path())?;
        tar::Archive::new(zstd::stream::read::Decoder::new(whole.as_slice())?).unpack(dest.path())
    });

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!("kept files: {} ({} bytes)", snap.files, snap.bytes);
    println!(
        "selective : archive {:>10} B  snapshot {:>8.2} ms  restore {:>8.2} ms",
        snap.archive.len(),
        ms(t_snap),
        ms(t_restore)
    );
    println!(
        "whole dir : archive {:>10} B  snapshot {:>8.2} ms  restore {:>8.2} ms",
        whole.len(),
        ms(t_whole),
        ms(t_whole_restore)
    );
    println!(
        "ratio selective/whole: size {:.4}  snapshot time {:.3}  restore time {:.3}",
        snap.archive.len() as f64 / whole.len() as f64,
        t_snap.as_secs_f64() / t_whole.as_secs_f64(),
        t_restore.as_secs_f64() / t_whole_restore.as_secs_f64()
    );
    // Which profile: the real one `make bench` makes, or the synthetic fixture.
    let bench = if std::env::var_os("WACAMP_BENCH_PROFILE").is_some() { "profile (real)" } else { "profile" };
    let kib = |b: usize| b as f64 / 1024.0;
    record(&Ratio::new(
        bench,
        "selective / whole dir: archive size",
        kib(snap.archive.len()),
        kib(whole.len()),
        "KiB",
    ));
    record(&Ratio::new(bench, "selective / whole dir: snapshot", ms(t_snap), ms(t_whole), "ms"));
    record(&Ratio::new(bench, "selective / whole dir: restore", ms(t_restore), ms(t_whole_restore), "ms"));
    Ok(())
}
