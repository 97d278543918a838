//! Test world for the driver: a simulator per test, a temp dir for profiles, homes and diagnostics, and
//! driver configurations with short bounds. Chromium tests run one at a time (see [`serial`]).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use domain::PhoneNumber;
use tempfile::TempDir;
use wa_driver::{DEFAULT_CHROMIUM, DriverConfig, Screen, Timeouts, WaDriver};
use wa_sim::{SimConfig, SimHandle, Simulator};

/// The account the simulated phone links.
pub const ACCOUNT: &str = "15550000001";
/// The profile folders an archive keeps (whatsapp-web.js RemoteAuth + cookies).
pub const KEPT_PARTS: [&str; 3] = ["Default/IndexedDB", "Default/Local Storage", "Default/Cookies"];

static SERIAL: Mutex<()> = Mutex::new(());

/// Chromium tests run one at a time: two cores, and each browser takes most of one.
pub fn serial() -> MutexGuard<'static, ()> {
    assert!(
        Path::new(DEFAULT_CHROMIUM).exists(),
        "Chromium not found at {DEFAULT_CHROMIUM}: run `apt-get install -y chromium`"
    );
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Short bounds, so a failing wait fails fast.
pub fn test_timeouts() -> Timeouts {
    Timeouts {
        launch: Duration::from_secs(20),
        first_screen: Duration::from_secs(8),
        loading: Duration::from_secs(15),
        open_chat: Duration::from_secs(5),
        intercept: Duration::from_secs(5),
        ack: Duration::from_secs(5),
        close: Duration::from_secs(10),
        poll: Duration::from_millis(100),
    }
}

/// A simulator and a temp dir.
pub struct TestWorld {
    pub sim: SimHandle,
    pub dir: TempDir,
}

impl TestWorld {
    /// The default test simulator.
    pub fn new() -> Self {
        Self::start(SimConfig::for_tests())
    }

    /// A simulator from `config`.
    pub fn start(config: SimConfig) -> Self {
        let sim = Simulator::start(config).expect("simulator starts");
        let dir = tempfile::Builder::new().prefix("wa_driver-test").tempdir().expect("temp dir");
        Self { sim, dir }
    }

    /// A profile directory (not created: the driver creates it).
    pub fn profile(&self, name: &str) -> PathBuf {
        self.dir.path().join("profiles").join(name)
    }

    /// The diagnostics dir of this test.
    pub fn diagnostics(&self) -> PathBuf {
        self.dir.path().join("diagnostics")
    }

    /// A driver configuration for a profile, pointing at the simulator.
    pub fn config(&self, profile: &str) -> DriverConfig {
        let mut config = DriverConfig::new(self.profile(profile));
        config.wa_url = format!("{}/", self.sim.base_url());
        config.scratch_dir = Some(self.dir.path().join("home"));
        config.diagnostics_dir = Some(self.diagnostics());
        config.timeouts = test_timeouts();
        config
    }

    /// Launches a driver on a profile.
    pub fn launch(&self, profile: &str) -> WaDriver {
        WaDriver::launch(self.config(profile)).expect("Chromium starts")
    }

    /// Opens WhatsApp Web, lets the phone scan the QR and waits for the chat list.
    pub fn link(&self, driver: &WaDriver) {
        assert_eq!(driver.open(false).unwrap(), Screen::NeedsQr);
        let state = driver.link_with_qr(&mut |qr| self.scan(qr), Duration::from_secs(15)).unwrap();
        assert_eq!(state, Screen::Ready);
    }

    /// The phone scans `qr` (a rotated-away payload is simply refused; the next one is scanned).
    pub fn scan(&self, qr: &str) {
        let _ = self.sim.link_qr(qr, ACCOUNT);
    }
}

/// A valid number (German mobile range) for recipient `n`.
pub fn phone(n: u32) -> PhoneNumber {
    PhoneNumber::parse(&format!("+49151123456{n:02}"), None).expect("valid test number")
}

/// Copies the named parts (files or directories, relative to the profile) into a fresh profile.
pub fn copy_profile(from: &Path, to: &Path, parts: &[&str]) {
    wa_sim::copy_profile(from, to, parts).expect("copy profile parts");
}

/// Evaluates a boolean expression in the driver's tab.
pub fn page_bool(driver: &WaDriver, expression: &str) -> Option<bool> {
    driver.tab().evaluate(expression, false).ok().and_then(|o| o.value).and_then(|v| v.as_bool())
}
