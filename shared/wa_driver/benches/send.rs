//! Benchmark: per-message time on one loaded page (in-app `wa.me` link) against its floor — the
//! fixed delays the simulator itself spent on those messages (API calls, acknowledgements; no
//! pacing here: the sender's pacing comes on top and is not overhead) — and against a full
//! `/send?phone=` load per message, in one run; plus launch → READY of a linked profile.
//!
//! Run with `cargo bench -p wa_driver --bench send` (needs Debian's Chromium). `WA_BENCH_MESSAGES` sets
//! how many messages each way (default 10).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use domain::PhoneNumber;
use measure::{Ratio, record};
use wa_driver::{ChatOpening, Screen, WaDriver};
use wa_sim::SimConfig;

fn main() {
    let messages: u32 = std::env::var("WA_BENCH_MESSAGES").ok().and_then(|n| n.parse().ok()).unwrap_or(10);
    // Fixed latencies, so both ways pay the same network and WhatsApp costs.
    let sim_config = SimConfig::for_benches();
    let (latency, sim_config_sync) = (sim_config.latency, sim_config.sync_duration);
    let dir = tempfile::tempdir().expect("temp dir");
    let (sim, config) = common::linked(sim_config, dir.path(), "profile");

    // Launch -> READY on the linked profile.
    let started = Instant::now();
    let driver = WaDriver::launch(config).expect("Chromium starts");
    let launched = started.elapsed();
    assert_eq!(driver.open(false).unwrap(), Screen::Ready);
    let ready = started.elapsed();

    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(driver.current_state().unwrap(), Screen::Ready);
    }
    let round_trip = started.elapsed() / 20;
    let before = sim.fixed_delays();
    let in_app = run(&driver, ChatOpening::InAppLink, messages, 0);
    let between = sim.fixed_delays();
    let by_url = run(&driver, ChatOpening::SendUrl, messages, 50);
    let after = sim.fixed_delays();
    driver.close().unwrap();
    assert_eq!(sim.deliveries().len(), usize::try_from(2 * messages).unwrap_or(usize::MAX));
    let (in_app_floor, by_url_floor) = (between.since(&before), after.since(&between));

    println!("latencies: {latency:?}, sync {} ms, {messages} messages each way", sim_config_sync.as_millis());
    println!("launch -> browser up: {:>7.0} ms", launched.as_secs_f64() * 1e3);
    println!("launch -> READY:      {:>7.0} ms", ready.as_secs_f64() * 1e3);
    println!("page state poll:      {:>7.1} ms/evaluation", round_trip.as_secs_f64() * 1e3);
    println!("in-app link:          {:>7.0} ms/message", in_app.as_secs_f64() * 1e3);
    println!("/send full load:      {:>7.0} ms/message", by_url.as_secs_f64() * 1e3);
    println!("in-app floor:         {:>7.0} ms/message  ({in_app_floor:?})", ms(in_app_floor.per(messages)));
    println!("/send floor:          {:>7.0} ms/message  ({by_url_floor:?})", ms(by_url_floor.per(messages)));
    let per_message = "ms/message";
    record(
        &Ratio::new("send", "in place / its floor", ms(in_app), ms(in_app_floor.per(messages)), per_message)
            .with_goal(1.2),
    );
    record(&Ratio::new("send", "in place / full load per message", ms(in_app), ms(by_url), per_message));
    record(&Ratio::new(
        "send",
        "full load / its floor",
        ms(by_url),
        ms(by_url_floor.per(messages)),
        per_message,
    ));
    record(&Ratio::new(
        "send",
        "page state evaluation / in-place floor",
        round_trip.as_secs_f64() * 1e3,
        ms(in_app_floor.per(messages)),
        "ms",
    ));
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Sends `count` messages one way; returns the mean time per message.
fn run(driver: &WaDriver, opening: ChatOpening, count: u32, offset: u32) -> Duration {
    let started = Instant::now();
    for n in 0..count {
        let phone = PhoneNumber::parse(&format!("+49151123456{:02}", n + offset), None).unwrap();
        let sent = driver.send_with(&phone, &format!("Hello #{n}, your order is ready"), opening).unwrap();
        assert_eq!(sent.opened_via, opening);
    }
    started.elapsed() / count.max(1)
}
