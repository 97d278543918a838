//! The driver: one headless Chromium on one profile, showing WhatsApp Web in one tab.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use domain::PhoneNumber;
use headless_chrome::protocol::cdp::{Inspector, Page};
use headless_chrome::{Browser, Tab};
use tempfile::TempDir;

use crate::config::DriverConfig;
use crate::error::DriverError;
use crate::process;
use crate::screen::Screen;
use crate::script;

mod media;
mod page;
mod receipts;
mod send;
mod session;

pub use media::{Attachment, MEDIA_ACK_FACTOR};
pub use receipts::{Ack, ChatReceipts, SeenMessage};

/// How often "Use here" is clicked again while a take-over has not taken.
const TAKE_OVER_RETRY: Duration = Duration::from_secs(2);
/// How many times an in-app link the app took is clicked before a full load.
const IN_PLACE_TRIES: u32 = 2;
/// Fastest poll of the send path (chat opening, ack).
const SEND_POLL: Duration = Duration::from_millis(50);
/// Upper bound of one page evaluation (it normally takes milliseconds).
const EVAL_TIMEOUT: Duration = Duration::from_secs(1);
/// What an awaited evaluation leaves of [`EVAL_TIMEOUT`] for the DevTools round trip (about 100 ms
/// per call with `headless_chrome`'s transport, measured by `make bench`).
const TRANSPORT_ROOM: Duration = Duration::from_millis(400);
/// Longest one in-page wait runs before it answers with what it sees: [`EVAL_TIMEOUT`] less
/// [`TRANSPORT_ROOM`], so the answer arrives before the evaluation is given up as pending; a longer
/// wait is several of them.
const AWAIT_SLICE: Duration = EVAL_TIMEOUT.saturating_sub(TRANSPORT_ROOM);
/// Upper bound of a diagnostics screenshot.
const SCREENSHOT_TIMEOUT: Duration = Duration::from_secs(3);

/// How a chat is opened for a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatOpening {
    /// A `wa.me` link clicked inside the loaded app (no page load), falling back to [`ChatOpening::SendUrl`].
    InAppLink,
    /// A full load of `/send?phone=..&text=..` (slow: the whole app loads and syncs again).
    SendUrl,
}

/// What a chat shows of an earlier attempt of a message (see [`WaDriver::already_sent`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Earlier {
    /// The server acknowledged it: it went out.
    Delivered,
    /// It still shows the clock: it has not reached the server, and may yet.
    Pending,
    /// There is none.
    Absent,
}

/// A message the server acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentMessage {
    /// How the chat was finally opened (an in-app link may have fallen back to the URL).
    pub opened_via: ChatOpening,
    /// From the start of the send to the server ack.
    pub elapsed: Duration,
}

/// Where a helper thread delivers the answer of one `Runtime.evaluate`.
type EvalReceiver = std::sync::mpsc::Receiver<Result<Option<serde_json::Value>, String>>;

/// What became of one bounded page evaluation.
enum Evaluated {
    /// The script's value (`None` for non-primitive results).
    Value(Option<serde_json::Value>),
    /// DevTools answered with an error.
    Failed(String),
    /// No answer within [`EVAL_TIMEOUT`]; still in flight.
    Pending,
}

/// One page evaluation's view of the session screen.
#[derive(Debug, Clone, Default, serde::Deserialize)]
struct Observation {
    /// The screen name from the page script.
    s: String,
    /// The QR payload on screen.
    qr: Option<String>,
    /// Whether the QR went idle behind its reload button.
    idle: bool,
    /// Whether the URL carries the post-logout marker.
    logout: bool,
    /// Whether the invalid-number popup is open.
    invalid: bool,
}

/// WhatsApp Web in headless Chromium: launch, session state, QR setup, send, verify, close with flush.
///
/// Every method is synchronous and bounded by [`crate::Timeouts`]; call them from a blocking thread
/// (`tokio::task::spawn_blocking`), never on an async executor.
pub struct WaDriver {
    // Field order matters: the browser is dropped (killed) before the scratch dir is removed.
    browser: Option<Browser>,
    tab: Arc<Tab>,
    pid: Option<u32>,
    crashed: Arc<AtomicBool>,
    in_flight: std::sync::Mutex<Option<EvalReceiver>>,
    full_loads: AtomicU32,
    config: DriverConfig,
    _scratch: Option<TempDir>,
}

impl std::fmt::Debug for WaDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaDriver")
            .field("pid", &self.pid)
            .field("profile", &self.config.profile_dir)
            .field("selectors", &self.config.selectors.version)
            .finish_non_exhaustive()
    }
}

impl WaDriver {
    /// Starts Chromium on `config.profile_dir` (headless, `--no-sandbox` as root, HOME/TMPDIR in a scratch
    /// dir), bounded by `timeouts.launch`. Fails with PROFILE_LOCKED or BROWSER_CRASHED, never hangs.
    pub fn launch(config: DriverConfig) -> Result<Self, DriverError> {
        let started = Instant::now();
        let (scratch_dir, scratch) = match &config.scratch_dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("wa-driver-home")
                    .tempdir()
                    .map_err(|e| DriverError::Config { message: format!("scratch temp dir: {e}") })?;
                (dir.path().to_path_buf(), Some(dir))
            }
        };
        let browser = process::launch(&config, &scratch_dir)?;
        let pid = browser.get_process_id();
        let tab = browser.new_tab().map_err(|e| DriverError::crashed(format!("no tab: {e}")))?;
        tab.set_default_timeout(config.timeouts.first_screen);
        let crashed = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&crashed);
        // A renderer crash is reported as an event; without it a crashed tab looks like a slow page.
        tab.call_method(Inspector::Enable(None))
            .map_err(|e| DriverError::crashed(format!("inspector: {e}")))?;
        tab.add_event_listener(Arc::new(move |event: &headless_chrome::protocol::cdp::types::Event| {
            if matches!(event, headless_chrome::protocol::cdp::types::Event::InspectorTargetCrashed(_)) {
                flag.store(true, Ordering::SeqCst);
            }
        }))
        .map_err(|e| DriverError::crashed(format!("event listener: {e}")))?;
        tracing::debug!(
            pid = ?pid,
            selectors = %config.selectors.version,
            elapsed_ms = started.elapsed().as_millis(),
            "Chromium started"
        );
        Ok(Self {
            browser: Some(browser),
            tab,
            pid,
            crashed,
            in_flight: std::sync::Mutex::new(None),
            full_loads: AtomicU32::new(0),
            config,
            _scratch: scratch,
        })
    }

    /// The browser process id (for supervision and tests).
    pub fn browser_pid(&self) -> Option<u32> {
        self.pid
    }

    /// How many times this browser loaded the whole app: the first load, a reload, and each chat
    /// that could not be opened in place. Every load also rewrites WhatsApp Web's keys, so fewer
    /// is both faster and kinder to the older backups.
    pub fn full_loads(&self) -> u32 {
        self.full_loads.load(Ordering::Relaxed)
    }

    /// The tab WhatsApp Web runs in: an escape hatch for diagnostics and tests, not for DOM work (that
    /// belongs in this crate, next to the selectors).
    pub fn tab(&self) -> &Arc<Tab> {
        &self.tab
    }

    /// The configuration in force.
    pub fn config(&self) -> &DriverConfig {
        &self.config
    }

    /// Changes the bounds of the following steps (e.g. a longer sync limit for a first setup).
    pub fn set_timeouts(&mut self, timeouts: crate::Timeouts) {
        self.tab.set_default_timeout(timeouts.first_screen);
        self.config.timeouts = timeouts;
    }

    /// The page's URL now.
    pub fn current_url(&self) -> String {
        self.tab.get_url()
    }

    /// Closes Chromium so the profile is complete on disk: CDP `Browser.close`, then wait (bounded by
    /// `timeouts.close`) until the browser and every process using the profile exited. Only after `Ok`
    /// may the profile be archived; dropping the driver instead kills Chromium and loses localStorage.
    pub fn close(mut self) -> Result<(), DriverError> {
        let Some(browser) = self.browser.take() else {
            return Ok(());
        };
        let started = Instant::now();
        let close = headless_chrome::protocol::cdp::Browser::Close(None);
        if self.tab.call_method(close).is_err() {
            // A crashed tab cannot carry it; a fresh one can while the browser lives.
            if let Ok(tab) = browser.new_tab() {
                let _ = tab.call_method(headless_chrome::protocol::cdp::Browser::Close(None));
            }
        }
        let exited = process::wait_for_exit(self.pid, &self.config.profile_dir, self.config.timeouts.close);
        drop(browser);
        if exited {
            tracing::debug!(elapsed_ms = started.elapsed().as_millis(), "Chromium closed with flush");
            Ok(())
        } else {
            Err(DriverError::crashed(format!(
                "Chromium did not exit within {:?} of Browser.close: the profile may be incomplete",
                self.config.timeouts.close
            )))
        }
    }

    /// Saves a PNG screenshot and the page URL to the diagnostics dir (if configured); returns the PNG
    /// path. Best effort: a failure to capture is logged, never raised.
    pub fn capture_diagnostics(&self, label: &str) -> Option<PathBuf> {
        let dir = self.config.diagnostics_dir.as_ref()?;
        if self.is_dead() {
            return None;
        }
        let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let label: String =
            label.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        let png = dir.join(format!("{millis}-{label}.png"));
        let url = dir.join(format!("{millis}-{label}.url.txt"));
        let result = std::fs::create_dir_all(dir)
            .map_err(|e| e.to_string())
            .and_then(|()| std::fs::write(&url, self.tab.get_url()).map_err(|e| e.to_string()))
            .and_then(|()| self.screenshot())
            .and_then(|bytes| std::fs::write(&png, bytes).map_err(|e| e.to_string()));
        match result {
            Ok(()) => {
                tracing::warn!(screenshot = %png.display(), "diagnostics captured");
                Some(png)
            }
            Err(error) => {
                tracing::warn!(%error, "could not capture diagnostics");
                None
            }
        }
    }

    /// A PNG of the page, bounded: a page stuck in a navigation may never produce a frame.
    fn screenshot(&self) -> Result<Vec<u8>, String> {
        let tab = Arc::clone(&self.tab);
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("wa-driver-screenshot".to_owned())
            .spawn(move || {
                let png = tab
                    .capture_screenshot(Page::CaptureScreenshotFormatOption::Png, None, None, true)
                    .map_err(|e| e.to_string());
                let _ = sender.send(png);
            })
            .map_err(|e| e.to_string())?;
        receiver
            .recv_timeout(SCREENSHOT_TIMEOUT)
            .unwrap_or_else(|_| Err(format!("no screenshot within {SCREENSHOT_TIMEOUT:?}")))
    }
}
