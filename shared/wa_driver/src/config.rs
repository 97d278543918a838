//! How the driver launches Chromium and how long it waits for each step.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::DriverError;
use crate::selectors::Selectors;

/// The Debian Chromium binary (`/usr/bin/chromium` is a shell wrapper that fails when exec'd directly).
pub const DEFAULT_CHROMIUM: &str = "/usr/lib/chromium/chromium";
/// The real WhatsApp Web.
pub const DEFAULT_WA_URL: &str = "https://web.whatsapp.com/";

/// Everything the driver needs to run one browser on one profile.
#[derive(Debug, Clone)]
pub struct DriverConfig {
    /// Chromium executable.
    pub chromium_path: PathBuf,
    /// The user-data-dir holding the WhatsApp session (restored from a profile generation).
    pub profile_dir: PathBuf,
    /// Where HOME and TMPDIR point for Chromium (it writes there even with a user-data-dir);
    /// `None` = a temp dir owned and removed by the driver.
    pub scratch_dir: Option<PathBuf>,
    /// The WhatsApp Web origin to open (the simulator's in tests), with a trailing `/`.
    pub wa_url: String,
    /// `--single-process --no-zygote`: less memory, fits Lambda; one crash takes the whole browser.
    pub single_process: bool,
    /// Remove a `SingletonLock` naming another host (a profile restored from elsewhere) instead of failing
    /// with PROFILE_LOCKED. A lock held by a live process on this host is never removed.
    pub remove_stale_lock: bool,
    /// Chromium's own sandbox: `None` = on unless running as root (which it refuses). Lambda
    /// runs as a non-root user without the user namespaces the sandbox needs, so the image turns
    /// it off (`WA_CHROMIUM_SANDBOX=0`); the function's isolation is Lambda's own.
    pub sandbox: Option<bool>,
    /// Window size: WhatsApp Web needs a desktop-sized window to show the two-pane layout.
    pub window_size: (u32, u32),
    /// Where screenshots and URLs of failures go; `None` = no capture.
    pub diagnostics_dir: Option<PathBuf>,
    /// The selectors and texts (defaults + override).
    pub selectors: Selectors,
    /// Bounds of every wait.
    pub timeouts: Timeouts,
}

/// Upper bounds of the driver's waits. Every step is bounded; none waits longer than its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Chromium start until DevTools answers.
    pub launch: Duration,
    /// Page load until a known screen (QR, chat list, loading, conflict...) appears.
    pub first_screen: Duration,
    /// How long a loading/sync screen may last before the state is reported as it is.
    pub loading: Duration,
    /// In-app chat opening once the app took the link, before trying in place again (then a
    /// full `/send` load).
    pub open_chat: Duration,
    /// How long a loaded app may take to start intercepting in-app chat links (WhatsApp Web can
    /// show its chat list before it does); a link it ignores is cancelled and clicked again
    /// until then. Zero: one click, then a full `/send` load.
    pub intercept: Duration,
    /// Send button click until the server ack (one check).
    pub ack: Duration,
    /// `Browser.close` until the browser and its children exited.
    pub close: Duration,
    /// How often page state is polled.
    pub poll: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            launch: Duration::from_secs(20),
            first_screen: Duration::from_secs(30),
            loading: Duration::from_secs(180),
            open_chat: Duration::from_secs(10),
            intercept: Duration::from_secs(15),
            ack: Duration::from_secs(30),
            close: Duration::from_secs(10),
            poll: Duration::from_millis(150),
        }
    }
}

impl Timeouts {
    /// The DevTools idle timeout: longer than the slowest step, so headless_chrome never drops a
    /// connection the driver is still legitimately waiting on.
    pub fn idle_browser(&self) -> Duration {
        let slowest = [
            self.launch,
            self.first_screen + self.loading,
            self.open_chat,
            self.intercept,
            self.ack,
            self.close,
        ]
        .into_iter()
        .max()
        .unwrap_or(self.loading);
        slowest + Duration::from_secs(30)
    }
}

impl DriverConfig {
    /// Defaults for a profile: Debian Chromium, real WhatsApp Web, compiled-in selectors.
    pub fn new(profile_dir: impl Into<PathBuf>) -> Self {
        Self {
            chromium_path: PathBuf::from(DEFAULT_CHROMIUM),
            profile_dir: profile_dir.into(),
            scratch_dir: None,
            wa_url: DEFAULT_WA_URL.to_owned(),
            single_process: false,
            remove_stale_lock: false,
            sandbox: None,
            window_size: (1280, 900),
            diagnostics_dir: None,
            selectors: Selectors::default(),
            timeouts: Timeouts::default(),
        }
    }

    /// Defaults overridden by the environment: `WA_CHROMIUM_PATH`, `WA_URL`, `WA_SINGLE_PROCESS`
    /// (`1`/`true`), `WA_REMOVE_STALE_LOCK` (`1`/`true`), `WA_CHROMIUM_SANDBOX` (`1`/`0`, unset =
    /// on unless root), `WA_DIAGNOSTICS_DIR` and `WA_SELECTORS_FILE`.
    pub fn from_env(profile_dir: impl Into<PathBuf>) -> Result<Self, DriverError> {
        let mut config = Self::new(profile_dir);
        if let Some(path) = var("WA_CHROMIUM_PATH") {
            config.chromium_path = PathBuf::from(path);
        }
        if let Some(url) = var("WA_URL") {
            config.wa_url = url;
        }
        config.single_process = flag("WA_SINGLE_PROCESS")?.unwrap_or(false);
        config.remove_stale_lock = flag("WA_REMOVE_STALE_LOCK")?.unwrap_or(false);
        config.sandbox = flag("WA_CHROMIUM_SANDBOX")?;
        config.diagnostics_dir = var("WA_DIAGNOSTICS_DIR").map(PathBuf::from);
        config.selectors = Selectors::from_env()?;
        Ok(config)
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn flag(name: &str) -> Result<Option<bool>, DriverError> {
    match var(name).as_deref() {
        None => Ok(None),
        Some("1" | "true" | "TRUE" | "yes") => Ok(Some(true)),
        Some("0" | "false" | "FALSE" | "no") => Ok(Some(false)),
        Some(other) => {
            Err(DriverError::Config { message: format!("{name}={other:?} is not a boolean (use 1 or 0)") })
        }
    }
}
