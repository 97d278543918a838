//! Benchmark: how chats open on a freshly restored session whose app shows its chat list before it
//! intercepts chat links (as WhatsApp Web can), with today's driver (waits for interception and
//! retries in place) against a driver that clicks once and falls back to a full `/send` load (the
//! behaviour before). Reports the share of chats opened in place and the full loads per 100
//! messages of each, in one run against the same simulator.
//!
//! Run with `cargo bench -p wa_driver --bench opening` (needs Debian's Chromium).
//! `WA_BENCH_SESSIONS` sets how many restored sessions each way (default 4), `WA_BENCH_MESSAGES`
//! the messages per session (default 5).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::Duration;

use domain::PhoneNumber;
use measure::{Ratio, record};
use wa_driver::{ChatOpening, DriverConfig, Screen, WaDriver};
use wa_sim::SimConfig;

/// The login parts of a profile, as a backup keeps them.
const KEPT: &[&str] = &["Default/IndexedDB", "Default/Local Storage", "Default/Cookies"];

fn main() {
    let sessions: u32 = env_number("WA_BENCH_SESSIONS", 4);
    let messages: u32 = env_number("WA_BENCH_MESSAGES", 5);
    let dir = tempfile::tempdir().expect("temp dir");
    let (sim, config) = common::linked(SimConfig::for_benches(), dir.path(), "linked");
    // The app intercepts chat links 1.5 s after its chat list shows.
    let delay = Duration::from_millis(1500);
    sim.set_links_ready_after(delay);

    let mut waiting = config.clone();
    waiting.timeouts.intercept = wa_driver::Timeouts::default().intercept;
    let mut clicking_once = config;
    clicking_once.timeouts.intercept = Duration::ZERO;
    let mut next_phone = 0;
    let now = run(&waiting, dir.path(), "now", sessions, messages, &mut next_phone);
    let before = run(&clicking_once, dir.path(), "before", sessions, messages, &mut next_phone);
    assert_eq!(sim.deliveries().len(), usize::try_from(2 * sessions * messages).unwrap_or(usize::MAX));

    println!("chats opened on {sessions} freshly restored sessions x {messages} messages each way;");
    println!("the app intercepts chat links {} ms after its chat list shows", delay.as_millis());
    println!("{:<34} {:>9} {:>22}", "", "in place", "full loads / 100 msgs");
    for (name, r) in [("waits for interception (now)", &now), ("clicks once (before)", &before)] {
        println!("{name:<34} {:>8.1}% {:>22.1}", r.in_place_share() * 100.0, r.loads_per_100());
    }
    println!(
        "in place, now - before: {:+.1} points (goal: now at least 99%); full loads, now / before: {:.2}x",
        (now.in_place_share() - before.in_place_share()) * 100.0,
        now.loads_per_100() / before.loads_per_100().max(f64::EPSILON)
    );
    record(&Ratio::new(
        "opening",
        "full loads per 100 messages, now / before",
        now.loads_per_100(),
        before.loads_per_100(),
        "loads",
    ));
}

/// What one way of opening chats did.
struct Opened {
    in_place: u32,
    messages: u32,
    full_loads: u32,
}

impl Opened {
    fn in_place_share(&self) -> f64 {
        f64::from(self.in_place) / f64::from(self.messages.max(1))
    }
    fn loads_per_100(&self) -> f64 {
        f64::from(self.full_loads) * 100.0 / f64::from(self.messages.max(1))
    }
}

/// Restores the linked profile `sessions` times with `config`, sends `messages` at once after
/// each chat list shows, and counts how the chats opened and the full loads (the first included).
fn run(
    config: &DriverConfig,
    root: &Path,
    name: &str,
    sessions: u32,
    messages: u32,
    next: &mut u32,
) -> Opened {
    let mut opened = Opened { in_place: 0, messages: 0, full_loads: 0 };
    for s in 0..sessions {
        let profile = root.join(format!("{name}-{s}"));
        // Each session starts from the newest state WhatsApp Web saved, as a restore does.
        wa_sim::copy_profile(&config.profile_dir, &profile, KEPT).expect("copy the profile");
        let mut restored = config.clone();
        restored.profile_dir = profile.clone();
        let driver = WaDriver::launch(restored).expect("Chromium starts");
        assert_eq!(driver.open(false).unwrap(), Screen::Ready);
        for _ in 0..messages {
            *next += 1;
            let phone = PhoneNumber::parse(&format!("+4915112345{:03}", *next), None).unwrap();
            let sent = driver.send(&phone, "Hello, your order is ready").unwrap();
            opened.messages += 1;
            if sent.opened_via == ChatOpening::InAppLink {
                opened.in_place += 1;
            }
        }
        opened.full_loads += driver.full_loads();
        driver.close().unwrap();
        // The next session restores what this one saved (keys rotate on each load).
        std::fs::remove_dir_all(&config.profile_dir).ok();
        wa_sim::copy_profile(&profile, &config.profile_dir, KEPT).expect("keep the newest profile");
    }
    opened
}

fn env_number(name: &str, default: u32) -> u32 {
    std::env::var(name).ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}
