//! Leaves a real Chromium profile in the given directory: a fresh Chromium links an account on
//! the WhatsApp Web simulator, sends a few messages, and is closed with a flush. `make bench`
//! measures the session store's snapshot and restore on it against the whole profile.
//!
//! `cargo run -p wa_driver --example real_profile -- <dir>` (the directory must not exist).

use std::time::Duration;
use wa_driver::{DriverConfig, Screen, WaDriver};
use wa_sim::{SimConfig, Simulator};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("usage: real_profile <dir>")?;
    if std::path::Path::new(&dir).exists() {
        return Err(format!("{dir} exists; give a new directory").into());
    }
    let sim = Simulator::start(SimConfig::for_tests())?;
    let mut config = DriverConfig::new(&dir);
    config.wa_url = format!("{}/", sim.base_url());
    let driver = WaDriver::launch(config)?;
    if driver.open(false)? != Screen::NeedsQr {
        return Err("a fresh profile should show the QR code".into());
    }
    let state = driver.link_with_qr(&mut |qr| drop(sim.link_qr(qr, "bench")), Duration::from_secs(60))?;
    if state != Screen::Ready {
        return Err(format!("not linked: {state}").into());
    }
    for i in 0..5 {
        let phone = domain::PhoneNumber::parse(&format!("+4915112345{i:03}"), None)?;
        driver.send(&phone, &format!("profile bench message {i}"))?;
    }
    driver.close()?;
    println!("{dir}");
    Ok(())
}
