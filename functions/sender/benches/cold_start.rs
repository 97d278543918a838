//! Benchmark: the sender's cold start — restore the profile, launch Chromium, WhatsApp Web READY —
//! with the selective archive the session store keeps, against the whole-profile baseline (tar +
//! zstd of the entire user-data-dir) and against a reload of WhatsApp Web in a running browser,
//! reported as ratios measured in one run.
//!
//! `cargo bench -p sender --bench cold_start --profile dev` (needs Debian's Chromium). The profile is
//! linked against the simulator with fixed latencies first; restore here is the local unpack (the
//! S3 download and the SHA-256 check come on top, the same for both archives). `WA_BENCH_ROUNDS`
//! sets the rounds per way (default 3; the best round counts).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use session_store::archive::{self, Limits};
use std::path::Path;
use std::time::{Duration, Instant};
use wa_driver::{DEFAULT_CHROMIUM, DriverConfig, Screen, WaDriver};
use wa_sim::{SimConfig, Simulator};

/// One cold start, split in its parts.
#[derive(Debug, Clone, Copy)]
struct ColdStart {
    restore: Duration,
    launch: Duration,
    ready: Duration,
}

impl ColdStart {
    fn total(&self) -> Duration {
        self.restore + self.launch + self.ready
    }
}

fn whole_profile_archive(root: &Path) -> Vec<u8> {
    let enc = zstd::stream::write::Encoder::new(Vec::new(), 9).unwrap();
    let mut b = tar::Builder::new(enc);
    b.follow_symlinks(false);
    b.append_dir_all(".", root).unwrap();
    b.into_inner().unwrap().finish().unwrap()
}

/// Restores with `restore` into a fresh directory, launches Chromium on it and waits for READY.
fn cold_start(template: &DriverConfig, scratch: &Path, restore: &dyn Fn(&Path)) -> ColdStart {
    let dest = tempfile::tempdir_in(scratch).unwrap();
    let started = Instant::now();
    restore(dest.path());
    let restored = started.elapsed();
    let mut config = template.clone();
    config.profile_dir = dest.path().to_path_buf();
    let driver = WaDriver::launch(config).expect("Chromium starts");
    let launched = started.elapsed();
    assert_eq!(driver.open(false).unwrap(), Screen::Ready, "the restored profile logs in");
    let ready = started.elapsed();
    driver.close().unwrap();
    ColdStart { restore: restored, launch: launched - restored, ready: ready - launched }
}

fn best(runs: &[ColdStart]) -> ColdStart {
    *runs.iter().min_by_key(|r| r.total()).expect("at least one round")
}

fn main() {
    assert!(
        Path::new(DEFAULT_CHROMIUM).exists(),
        "Chromium not found at {DEFAULT_CHROMIUM}: run `apt-get install -y chromium`"
    );
    let rounds: usize =
        std::env::var("WA_BENCH_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(3).max(1);
    let sim_config = SimConfig::for_benches();
    let latency = sim_config.latency;
    let sim = Simulator::start(sim_config).expect("simulator starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let profile = dir.path().join("profile");
    let mut template = DriverConfig::new(&profile);
    template.wa_url = format!("{}/", sim.base_url());
    template.scratch_dir = Some(dir.path().join("home"));

    // Link once and close with a flush: the profile a backup would take.
    let driver = WaDriver::launch(template.clone()).expect("Chromium starts");
    assert_eq!(driver.open(false).unwrap(), Screen::NeedsQr);
    let linked =
        driver.link_with_qr(&mut |qr| drop(sim.link_qr(qr, "15550000001")), Duration::from_secs(30)).unwrap();
    assert_eq!(linked, Screen::Ready);
    driver.close().unwrap();

    let limits = Limits::default();
    let selective = archive::snapshot(&profile, &limits).unwrap();
    let whole = whole_profile_archive(&profile);
    let scratch = dir.path().join("restores");
    std::fs::create_dir_all(&scratch).unwrap();

    // Alternate the two ways so both see the same machine load.
    let (mut sel, mut all) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        sel.push(cold_start(&template, &scratch, &|dest| {
            archive::unpack(&selective.archive, dest, &limits).unwrap();
        }));
        all.push(cold_start(&template, &scratch, &|dest| {
            tar::Archive::new(zstd::stream::read::Decoder::new(whole.as_slice()).unwrap())
                .unpack(dest)
                .unwrap();
        }));
    }
    let (sel, all) = (best(&sel), best(&all));

    // A reload of WhatsApp Web in a browser that is already up (what a warm sender skips, too).
    let mut config = template.clone();
    config.profile_dir = scratch.join("warm");
    std::fs::create_dir_all(&config.profile_dir).unwrap();
    archive::unpack(&selective.archive, &config.profile_dir, &limits).unwrap();
    let driver = WaDriver::launch(config).expect("Chromium starts");
    assert_eq!(driver.open(false).unwrap(), Screen::Ready);
    let mut reload = Duration::MAX;
    for _ in 0..rounds {
        let started = Instant::now();
        assert_eq!(driver.open(false).unwrap(), Screen::Ready);
        reload = reload.min(started.elapsed());
    }
    driver.close().unwrap();

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let line = |name: &str, size: usize, c: ColdStart| {
        println!(
            "{name:<10} archive {size:>10} B  restore {:>7.1} ms  launch {:>7.0} ms  READY {:>7.0} ms  total {:>7.0} ms",
            ms(c.restore),
            ms(c.launch),
            ms(c.ready),
            ms(c.total())
        );
    };
    println!("latencies: {latency:?}, sync 1000 ms, best of {rounds} rounds");
    line("selective", selective.archive.len(), sel);
    line("whole dir", whole.len(), all);
    println!("reload in a running browser -> READY: {:>7.0} ms", ms(reload));
    println!(
        "ratio selective/whole: cold start {:.3}  restore {:.3}  archive size {:.4}",
        sel.total().as_secs_f64() / all.total().as_secs_f64(),
        sel.restore.as_secs_f64() / all.restore.as_secs_f64(),
        selective.archive.len() as f64 / whole.len() as f64
    );
    println!("ratio cold start/reload: {:.1}x", sel.total().as_secs_f64() / reload.as_secs_f64());
}
