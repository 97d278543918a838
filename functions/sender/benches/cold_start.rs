//! Benchmark: the sender's cold start — restore the profile, launch Chromium, WhatsApp Web READY —
//! against a bare Chromium launch to `about:blank` on the same machine (raw, and net of the fixed
//! delays the simulator itself spent on the way to READY: page load, API calls, the sync), with
//! the browser's memory (PSS of its process tree) at READY against the bare browser's, Chromium in
//! one process (as on Lambda) and in many; and the selective archive the session store keeps
//! against the whole-profile baseline (tar + zstd of the entire user-data-dir) and a reload of
//! WhatsApp Web in a running browser. All measured in one run, reported as ratios.
//!
//! `cargo bench -p sender --bench cold_start --profile dev` (needs Debian's Chromium). The profile is
//! linked against the simulator with fixed latencies first; restore here is the local unpack (the
//! S3 download and the SHA-256 check come on top, the same for both archives). `WA_BENCH_ROUNDS`
//! sets the rounds per way (default 3; the best round counts).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use measure::{Ratio, record};
use session_store::archive::{self, Limits};
use std::path::Path;
use std::time::{Duration, Instant};
use wa_driver::{DEFAULT_CHROMIUM, DriverConfig, Screen, WaDriver};
use wa_sim::{SimConfig, SimHandle, Simulator};

/// One cold start, split in its parts.
#[derive(Debug, Clone, Copy)]
struct ColdStart {
    restore: Duration,
    launch: Duration,
    ready: Duration,
    /// The simulator's own fixed delays on the way to READY.
    floor: Duration,
    /// PSS of the browser's process tree at READY.
    pss: u64,
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
fn cold_start(
    sim: &SimHandle,
    template: &DriverConfig,
    scratch: &Path,
    restore: &dyn Fn(&Path),
) -> ColdStart {
    let dest = tempfile::tempdir_in(scratch).unwrap();
    let delays = sim.fixed_delays();
    let started = Instant::now();
    restore(dest.path());
    let restored = started.elapsed();
    let mut config = template.clone();
    config.profile_dir = dest.path().to_path_buf();
    let driver = WaDriver::launch(config).expect("Chromium starts");
    let launched = started.elapsed();
    assert_eq!(driver.open(false).unwrap(), Screen::Ready, "the restored profile logs in");
    let ready = started.elapsed();
    let floor = sim.fixed_delays().since(&delays).total;
    let pss = driver.browser_pid().map_or(0, measure::tree_pss_bytes);
    driver.close().unwrap();
    ColdStart { restore: restored, launch: launched - restored, ready: ready - launched, floor, pss }
}

/// A bare launch: Chromium started on an empty profile with its tab on `about:blank`, answering;
/// the time and the PSS of its process tree then.
fn bare_launch(template: &DriverConfig, scratch: &Path) -> (Duration, u64) {
    let dest = tempfile::tempdir_in(scratch).unwrap();
    let mut config = template.clone();
    config.profile_dir = dest.path().to_path_buf();
    let started = Instant::now();
    let driver = WaDriver::launch(config).expect("Chromium starts");
    // The new tab shows `about:blank`; one evaluation proves the page answers (waiting for a
    // navigation event instead would time headless_chrome's polling, not Chromium).
    let href = driver.tab().evaluate("location.href", false).unwrap().value;
    assert_eq!(href.as_ref().and_then(|v| v.as_str()), Some("about:blank"));
    let took = started.elapsed();
    let pss = driver.browser_pid().map_or(0, measure::tree_pss_bytes);
    driver.close().unwrap();
    (took, pss)
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
    let (latency, sync) = (sim_config.latency, sim_config.sync_duration);
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

    // Alternate the ways so all see the same machine load. The selective archive in many processes
    // and in one (Lambda's setting), the whole directory in many, and the bare launch in both.
    let single = DriverConfig { single_process: true, ..template.clone() };
    let multi = DriverConfig { single_process: false, ..template.clone() };
    let (mut sel, mut sel_single, mut all) = (Vec::new(), Vec::new(), Vec::new());
    let (mut bare, mut bare_single) = (Vec::new(), Vec::new());
    let unpack_selective =
        |dest: &Path| archive::unpack(&selective.archive, dest, &limits).map(drop).unwrap();
    for _ in 0..rounds {
        bare.push(bare_launch(&multi, &scratch));
        sel.push(cold_start(&sim, &multi, &scratch, &unpack_selective));
        bare_single.push(bare_launch(&single, &scratch));
        sel_single.push(cold_start(&sim, &single, &scratch, &unpack_selective));
        all.push(cold_start(&sim, &multi, &scratch, &|dest| {
            tar::Archive::new(zstd::stream::read::Decoder::new(whole.as_slice()).unwrap())
                .unpack(dest)
                .unwrap();
        }));
    }
    let (sel, sel_single, all) = (best(&sel), best(&sel_single), best(&all));
    let fastest = |runs: &[(Duration, u64)]| *runs.iter().min_by_key(|r| r.0).expect("at least one round");
    let (bare, bare_single) = (fastest(&bare), fastest(&bare_single));

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
    println!("latencies: {latency:?}, sync {} ms, best of {rounds} rounds", sync.as_millis());
    line("selective", selective.archive.len(), sel);
    line("sel. 1-proc", selective.archive.len(), sel_single);
    line("whole dir", whole.len(), all);
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "bare launch -> about:blank: {:>7.0} ms, PSS {:.0} MiB (one process: {:>7.0} ms, PSS {:.0} MiB)",
        ms(bare.0),
        mib(bare.1),
        ms(bare_single.0),
        mib(bare_single.1)
    );
    println!(
        "at READY: PSS {:.0} MiB (one process: {:.0} MiB); the simulator's fixed delays to READY {:.0} ms",
        mib(sel.pss),
        mib(sel_single.pss),
        ms(sel.floor)
    );
    println!("reload in a running browser -> READY: {:>7.0} ms", ms(reload));
    println!(
        "ratio selective/whole: cold start {:.3}  restore {:.3}  archive size {:.4}",
        sel.total().as_secs_f64() / all.total().as_secs_f64(),
        sel.restore.as_secs_f64() / all.restore.as_secs_f64(),
        selective.archive.len() as f64 / whole.len() as f64
    );
    println!("ratio cold start/reload: {:.1}x", sel.total().as_secs_f64() / reload.as_secs_f64());

    let b = "cold_start";
    for (mode, cold, bare) in [("", sel, bare), (" (one process)", sel_single, bare_single)] {
        record(&Ratio::new(
            b,
            &format!("cold start / bare launch{mode}"),
            ms(cold.total()),
            ms(bare.0),
            "ms",
        ));
        record(
            &Ratio::new(
                b,
                &format!("cold start less the simulator's delays / bare launch{mode}"),
                ms(cold.total().saturating_sub(cold.floor)),
                ms(bare.0),
                "ms",
            )
            .with_goal(2.0),
        );
        record(&Ratio::new(
            b,
            &format!("PSS at READY / bare browser{mode}"),
            mib(cold.pss),
            mib(bare.1),
            "MiB",
        ));
    }
    record(&Ratio::new(b, "PSS at READY: one process / many", mib(sel_single.pss), mib(sel.pss), "MiB"));
    record(&Ratio::new(
        b,
        "selective archive / whole dir (cold start)",
        ms(sel.total()),
        ms(all.total()),
        "ms",
    ));
}
