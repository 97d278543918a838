//! The driver: one headless Chromium on one profile, showing WhatsApp Web in one tab.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use domain::PhoneNumber;
use headless_chrome::protocol::cdp::{Inspector, Page};
use headless_chrome::{Browser, Tab};
use tempfile::TempDir;

use crate::config::DriverConfig;
use crate::error::DriverError;
use crate::process;
use crate::script;
use crate::state::SessionState;

/// How often "Use here" is clicked again while a take-over has not taken.
const TAKE_OVER_RETRY: Duration = Duration::from_secs(2);
/// Fastest poll of the send path (chat opening, ack).
const SEND_POLL: Duration = Duration::from_millis(50);
/// Upper bound of one page evaluation (it normally takes milliseconds).
const EVAL_TIMEOUT: Duration = Duration::from_secs(1);
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
        tracing::info!(
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
            config,
            _scratch: scratch,
        })
    }

    /// The browser process id (for supervision and tests).
    pub fn browser_pid(&self) -> Option<u32> {
        self.pid
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

    /// Opens WhatsApp Web and waits (bounded) until it shows a known session screen.
    ///
    /// LOADING is waited out up to `timeouts.loading`; a CONFLICT is taken over with "Use here" when
    /// `take_over` is set. UNKNOWN (no known screen in `timeouts.first_screen`, unreachable) never means
    /// expired. Only a dead browser is an error.
    pub fn open(&self, take_over: bool) -> Result<SessionState, DriverError> {
        self.navigate(&self.config.wa_url)?;
        self.wait_for_session(take_over)
    }

    /// Like [`WaDriver::open`] without loading the page again: classifies what the tab shows now.
    pub fn wait_for_session(&self, take_over: bool) -> Result<SessionState, DriverError> {
        let timeouts = self.config.timeouts;
        let started = Instant::now();
        let mut deadline = started + timeouts.first_screen;
        let mut loading_deadline: Option<Instant> = None;
        let mut last_take_over: Option<Instant> = None;
        let state = loop {
            let seen = self.observe()?;
            let now = Instant::now();
            match seen.s.as_str() {
                "READY" => break SessionState::Ready,
                "NEEDS_QR" => {
                    tracing::info!(post_logout = seen.logout, "WhatsApp Web shows the QR code");
                    break SessionState::NeedsQr;
                }
                "BANNED" => break SessionState::Banned,
                "OUTDATED" => break SessionState::Outdated,
                "UNREACHABLE" => {
                    tracing::warn!("WhatsApp Web is unreachable (browser error page)");
                    break SessionState::Unknown;
                }
                "CONFLICT" if !take_over => break SessionState::Conflict,
                "CONFLICT" => {
                    if last_take_over.is_none_or(|at| now.duration_since(at) >= TAKE_OVER_RETRY) {
                        let clicked = self.eval_bool(&script::click_popup_button(
                            &self.config.selectors,
                            &self.config.selectors.text.use_here,
                        ))?;
                        tracing::info!(clicked, "taking the session over with \"Use here\"");
                        last_take_over = Some(now);
                        deadline = now + timeouts.first_screen;
                    } else if now >= deadline {
                        break SessionState::Conflict;
                    }
                }
                "LOADING" => {
                    let until = *loading_deadline.get_or_insert(now + timeouts.loading);
                    if now >= until {
                        break SessionState::Loading;
                    }
                }
                _ if loading_deadline.is_some_and(|until| now < until) => {}
                _ if now >= deadline => break SessionState::Unknown,
                _ => {}
            }
            std::thread::sleep(timeouts.poll);
        };
        tracing::info!(%state, elapsed_ms = started.elapsed().as_millis(), "WhatsApp Web session state");
        if matches!(state, SessionState::Unknown | SessionState::Loading) {
            self.capture_diagnostics(&format!("session-{}", state.as_str().to_lowercase()));
        }
        Ok(state)
    }

    /// What the page shows right now, without waiting (NAVIGATING/blank pages are `Unknown`).
    pub fn current_state(&self) -> Result<SessionState, DriverError> {
        Ok(SessionState::from_script(&self.observe()?.s))
    }

    /// Setup: waits for the QR code to be scanned, handing each new QR payload to `on_qr` as it rotates
    /// and clicking "reload" when it goes idle, then waits for the link and sync to finish.
    ///
    /// Returns READY once linked and synced; otherwise the last state seen when `timeout` passed (the
    /// sync, once started, gets `timeouts.loading` more). Survives the page reloading itself after link.
    pub fn link_with_qr(
        &self,
        on_qr: &mut dyn FnMut(&str),
        timeout: Duration,
    ) -> Result<SessionState, DriverError> {
        let timeouts = self.config.timeouts;
        let mut deadline = Instant::now() + timeout;
        let mut last_qr = String::new();
        let mut loading = false;
        let mut last = SessionState::Unknown;
        loop {
            let seen = self.observe()?;
            let now = Instant::now();
            let state = SessionState::from_script(&seen.s);
            match state {
                SessionState::Ready => return Ok(state),
                SessionState::Banned | SessionState::Outdated | SessionState::Conflict => return Ok(state),
                SessionState::NeedsQr => {
                    if seen.idle {
                        tracing::info!("QR code went idle: clicking reload");
                        self.eval_bool(&script::click_qr_reload(&self.config.selectors))?;
                    } else if let Some(qr) = seen.qr.filter(|qr| !qr.is_empty() && *qr != last_qr) {
                        tracing::info!("new QR code on screen");
                        on_qr(&qr);
                        last_qr = qr;
                    }
                }
                SessionState::Loading if !loading => {
                    loading = true;
                    deadline = deadline.max(now + timeouts.loading);
                }
                _ => {}
            }
            if state != SessionState::Unknown {
                last = state;
            }
            if now >= deadline {
                return Ok(last);
            }
            std::thread::sleep(timeouts.poll);
        }
    }

    /// Sends `text` to `phone`, opening the chat in place through an in-app `wa.me` link (falling back to
    /// a `/send` load), and waits for the server ack.
    ///
    /// Errors: NOT_ON_WHATSAPP (nothing sent), SEND_TIMEOUT (clicked, no ack in `timeouts.ack`: the
    /// message may still arrive — verify before resending), SESSION_LOST, BROWSER_CRASHED.
    pub fn send(&self, phone: &PhoneNumber, text: &str) -> Result<SentMessage, DriverError> {
        self.send_with(phone, text, ChatOpening::InAppLink)
    }

    /// [`WaDriver::send`] with an explicit way of opening the chat (the benchmark compares both).
    pub fn send_with(
        &self,
        phone: &PhoneNumber,
        text: &str,
        opening: ChatOpening,
    ) -> Result<SentMessage, DriverError> {
        let started = Instant::now();
        let result = self.send_inner(phone, text, opening, started);
        match &result {
            Ok(sent) => tracing::info!(
                to = %phone,
                via = ?sent.opened_via,
                elapsed_ms = sent.elapsed.as_millis(),
                "message acknowledged by the server"
            ),
            Err(error) => {
                tracing::warn!(to = %phone, code = error.code(), %error, "send failed");
                if !matches!(error, DriverError::BrowserCrashed { .. }) {
                    self.capture_diagnostics(&format!("send-{}", error.code().to_lowercase()));
                }
            }
        }
        result
    }

    fn send_inner(
        &self,
        phone: &PhoneNumber,
        text: &str,
        opening: ChatOpening,
        started: Instant,
    ) -> Result<SentMessage, DriverError> {
        let opened_via = self.open_chat(phone, text, opening)?;
        // One round trip when the link pre-filled the composer (each DevTools call costs up to ~100 ms).
        let mut clicked = self.eval_string(&script::click_send(&self.config.selectors, text))?;
        if clicked.as_deref() == Some("FILL") {
            self.fill_composer(text)?;
            clicked = self.eval_string(&script::click_send(&self.config.selectors, text))?;
        }
        match clicked.as_deref() {
            Some("CLICKED") => {}
            Some("FILL") => {
                return Err(DriverError::WaUnreachable {
                    message: "the composer did not take the message text".to_owned(),
                });
            }
            _ => {
                return Err(DriverError::WaUnreachable {
                    message: "no send button in the open chat".to_owned(),
                });
            }
        }
        let ack_deadline = Instant::now() + self.config.timeouts.ack;
        loop {
            let status = self.eval_string(&script::ack_state(&self.config.selectors))?;
            match status.as_deref() {
                Some("ACK") => return Ok(SentMessage { opened_via, elapsed: started.elapsed() }),
                Some("INVALID") => {
                    self.dismiss_popup()?;
                    return Err(DriverError::NotOnWhatsapp);
                }
                Some(other) => {
                    if let Some(state) = lost_state(other) {
                        return Err(DriverError::SessionLost { state });
                    }
                }
                None => {}
            }
            if Instant::now() >= ack_deadline {
                return Err(DriverError::SendTimeout { waited_ms: self.config.timeouts.ack.as_millis() });
            }
            std::thread::sleep(self.send_poll());
        }
    }

    /// Verify-before-resend: opens the chat with `phone` and tells whether an outgoing message with
    /// exactly `text` is already there. A number not on WhatsApp has nothing sent: `false`.
    pub fn already_sent(&self, phone: &PhoneNumber, text: &str) -> Result<bool, DriverError> {
        match self.open_chat(phone, "", ChatOpening::InAppLink) {
            Ok(_) => {}
            Err(DriverError::NotOnWhatsapp) => return Ok(false),
            Err(error) => return Err(error),
        }
        let found = self.eval_bool(&script::has_outgoing(&self.config.selectors, text))?;
        tracing::info!(to = %phone, found, "checked the chat for an earlier send");
        Ok(found)
    }

    /// Opens the chat, in place or by URL; returns how it was finally opened.
    fn open_chat(
        &self,
        phone: &PhoneNumber,
        text: &str,
        opening: ChatOpening,
    ) -> Result<ChatOpening, DriverError> {
        self.ensure_ready()?;
        if opening == ChatOpening::InAppLink {
            let mut href = format!("https://wa.me/{}", phone.digits());
            if !text.is_empty() {
                href.push_str("?text=");
                href.push_str(&script::percent_encode(text));
            }
            self.eval_bool(&script::open_chat_link(&self.config.selectors, &href))?;
            if self.wait_chat_open(self.config.timeouts.open_chat)? {
                return Ok(ChatOpening::InAppLink);
            }
            tracing::warn!(to = %phone, "in-app chat link did not open the chat: loading /send instead");
        }
        let mut url = format!("{}send?phone={}", base_url(&self.config.wa_url), phone.digits());
        if !text.is_empty() {
            url.push_str("&text=");
            url.push_str(&script::percent_encode(text));
        }
        self.navigate(&url)?;
        let timeouts = self.config.timeouts;
        if self.wait_chat_open(timeouts.first_screen + timeouts.loading)? {
            return Ok(ChatOpening::SendUrl);
        }
        Err(DriverError::WaUnreachable { message: "the chat did not open".to_owned() })
    }

    /// Waits for the chat to open: true when open, false on timeout; errors for invalid/lost.
    fn wait_chat_open(&self, timeout: Duration) -> Result<bool, DriverError> {
        let deadline = Instant::now() + timeout;
        loop {
            let status = self.eval_string(&script::chat_opening(&self.config.selectors))?;
            match status.as_deref() {
                Some("OPEN") => return Ok(true),
                Some("INVALID") => {
                    self.dismiss_popup()?;
                    return Err(DriverError::NotOnWhatsapp);
                }
                Some(other) => {
                    if let Some(state) = lost_state(other) {
                        return Err(DriverError::SessionLost { state });
                    }
                }
                None => {}
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            std::thread::sleep(self.send_poll());
        }
    }

    /// Types `text` into an emptied composer (when the link did not pre-fill it).
    fn fill_composer(&self, text: &str) -> Result<(), DriverError> {
        if !self.eval_bool(&script::clear_composer(&self.config.selectors))? {
            return Err(DriverError::WaUnreachable { message: "no composer in the open chat".to_owned() });
        }
        self.tab.send_character(text).map_err(|e| self.cdp_error(&e))?;
        Ok(())
    }

    /// Poll interval of the send path: a chat opening and an ack are short waits on a live page, so they
    /// are polled faster than session screens (at most every 50 ms).
    fn send_poll(&self) -> Duration {
        self.config.timeouts.poll.min(SEND_POLL)
    }

    /// Send needs the chat list: waits briefly (one `open_chat` bound) through a LOADING screen.
    fn ensure_ready(&self) -> Result<(), DriverError> {
        let deadline = Instant::now() + self.config.timeouts.open_chat;
        loop {
            let seen = self.observe()?;
            if seen.s == "READY" {
                // A popup left over from an earlier recipient would swallow the next click.
                if seen.invalid {
                    self.dismiss_popup()?;
                }
                return Ok(());
            }
            if let Some(state) = lost_state(&seen.s) {
                return Err(DriverError::SessionLost { state });
            }
            if Instant::now() >= deadline {
                return Err(DriverError::SessionLost { state: SessionState::from_script(&seen.s) });
            }
            std::thread::sleep(self.config.timeouts.poll);
        }
    }

    fn dismiss_popup(&self) -> Result<(), DriverError> {
        let ok = &self.config.selectors.text.popup_ok;
        self.eval_bool(&script::click_popup_button(&self.config.selectors, ok))?;
        Ok(())
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
            tracing::info!(elapsed_ms = started.elapsed().as_millis(), "Chromium closed with flush");
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

    // ------------------------------------------------------------------ page access

    /// Starts loading `url` without waiting for the server (a hung load must not block a CDP call).
    fn navigate(&self, url: &str) -> Result<(), DriverError> {
        match self.evaluate_bounded(&script::navigate(url)) {
            Evaluated::Value(_) | Evaluated::Pending => Ok(()),
            Evaluated::Failed(error) => {
                if self.is_dead() {
                    return Err(self.cdp_error(&error));
                }
                self.tab.navigate_to(url).map(|_| ()).map_err(|e| self.cdp_error(&e))
            }
        }
    }

    /// One classification of the page; transient failures (page reloading) read as NAVIGATING.
    fn observe(&self) -> Result<Observation, DriverError> {
        let raw = self.eval_string(&script::classify(&self.config.selectors))?;
        Ok(raw
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_else(|| Observation { s: "NAVIGATING".to_owned(), ..Observation::default() }))
    }

    /// Evaluates a string-valued script; `None` while the page reloads (execution context destroyed).
    fn eval_string(&self, expression: &str) -> Result<Option<String>, DriverError> {
        Ok(self.eval(expression)?.and_then(|v| v.as_str().map(str::to_owned)))
    }

    /// Evaluates a boolean script; `false` while the page reloads.
    fn eval_bool(&self, expression: &str) -> Result<bool, DriverError> {
        Ok(self.eval(expression)?.and_then(|v| v.as_bool()).unwrap_or(false))
    }

    fn eval(&self, expression: &str) -> Result<Option<serde_json::Value>, DriverError> {
        if self.is_dead() {
            return Err(DriverError::crashed("the browser or its page crashed"));
        }
        let r = self.evaluate_bounded(expression);
        match r {
            Evaluated::Value(value) => Ok(value),
            Evaluated::Failed(error) if self.is_dead() || is_fatal(&error) => Err(self.cdp_error(&error)),
            Evaluated::Pending => {
                tracing::debug!("page evaluation still pending (navigation in flight?); retrying");
                Ok(None)
            }
            Evaluated::Failed(error) => {
                tracing::debug!(%error, "page evaluation failed (page reloading?); retrying");
                Ok(None)
            }
        }
    }

    /// Runs `Runtime.evaluate` on a helper thread and waits at most [`EVAL_TIMEOUT`]: while a navigation
    /// hangs, Chromium holds evaluations back until the DevTools idle timeout. At most one evaluation is in
    /// flight: a late one is awaited (and its stale answer dropped) before the next starts.
    fn evaluate_bounded(&self, expression: &str) -> Evaluated {
        let mut pending = self.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(receiver) = pending.as_ref() {
            match receiver.recv_timeout(EVAL_TIMEOUT) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return Evaluated::Pending,
                Ok(_) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => *pending = None,
            }
        }
        let (sender, receiver) = std::sync::mpsc::channel();
        let tab = Arc::clone(&self.tab);
        let expression = expression.to_owned();
        let spawned = std::thread::Builder::new().name("wa-driver-eval".to_owned()).spawn(move || {
            let result =
                tab.evaluate(&expression, false).map(|object| object.value).map_err(|e| e.to_string());
            let _ = sender.send(result);
        });
        if let Err(error) = spawned {
            return Evaluated::Failed(format!("cannot spawn an evaluation thread: {error}"));
        }
        match receiver.recv_timeout(EVAL_TIMEOUT) {
            Ok(Ok(value)) => Evaluated::Value(value),
            Ok(Err(error)) => Evaluated::Failed(error),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                *pending = Some(receiver);
                Evaluated::Pending
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                Evaluated::Failed("the evaluation thread stopped".to_owned())
            }
        }
    }

    fn cdp_error(&self, error: &impl std::fmt::Display) -> DriverError {
        DriverError::crashed(format!("DevTools call failed: {error}"))
    }

    /// Whether the renderer crashed or the browser process is gone.
    fn is_dead(&self) -> bool {
        self.crashed.load(Ordering::SeqCst) || self.pid.is_some_and(|pid| !process::process_alive(pid))
    }
}

/// Errors that no retry fixes: the DevTools connection is gone or the target crashed.
fn is_fatal(error: &impl std::fmt::Display) -> bool {
    let text = error.to_string();
    ["connection closed", "ConnectionClosed", "Target crashed", "target closed", "No target with given id"]
        .iter()
        .any(|needle| text.contains(needle))
}

/// The session state a page-script status means when it is not usable for sending.
fn lost_state(status: &str) -> Option<SessionState> {
    match status {
        "NEEDS_QR" => Some(SessionState::NeedsQr),
        "CONFLICT" => Some(SessionState::Conflict),
        "BANNED" => Some(SessionState::Banned),
        "OUTDATED" => Some(SessionState::Outdated),
        _ => None,
    }
}

/// The WhatsApp Web origin with a trailing slash, for `send?phone=`.
fn base_url(wa_url: &str) -> String {
    if wa_url.ends_with('/') { wa_url.to_owned() } else { format!("{wa_url}/") }
}
