//! What both driver benches start from: the simulator with fixed latencies and one profile linked
//! to it, closed with a flush.

use std::path::Path;
use std::time::Duration;

use wa_driver::{DEFAULT_CHROMIUM, DriverConfig, Screen, WaDriver};
use wa_sim::{SimConfig, SimHandle, Simulator};

/// A simulator started from `sim_config` and a driver configuration whose profile (`profile`
/// under `dir`) is linked to it.
pub fn linked(sim_config: SimConfig, dir: &Path, profile: &str) -> (SimHandle, DriverConfig) {
    assert!(
        Path::new(DEFAULT_CHROMIUM).exists(),
        "Chromium not found at {DEFAULT_CHROMIUM}: run `apt-get install -y chromium`"
    );
    let sim = Simulator::start(sim_config).expect("simulator starts");
    let mut config = DriverConfig::new(dir.join(profile));
    config.wa_url = format!("{}/", sim.base_url());
    config.scratch_dir = Some(dir.join("home"));
    let driver = WaDriver::launch(config.clone()).expect("Chromium starts");
    assert_eq!(driver.open(false).unwrap(), Screen::NeedsQr);
    let linked =
        driver.link_with_qr(&mut |qr| drop(sim.link_qr(qr, "15550000001")), Duration::from_secs(30)).unwrap();
    assert_eq!(linked, Screen::Ready);
    driver.close().unwrap();
    (sim, config)
}
