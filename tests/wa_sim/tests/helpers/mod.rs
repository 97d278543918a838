//! Test world for the simulator's integration tests: a simulator per test, headless Chromium launched
//! the way wacamp's sender launches it, bounded waits that survive page reloads, profile copies, and a
//! tiny HTTP client for the admin API. Logs stay silent unless `TEST_LOG` is set.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use headless_chrome::{Browser, LaunchOptions, Tab};
use tempfile::TempDir;
use wa_sim::{SimConfig, SimHandle, Simulator};

/// The Debian Chromium binary (the `/usr/bin/chromium` wrapper is a shell script).
pub const CHROMIUM: &str = "/usr/lib/chromium/chromium";
/// Upper bound of every wait on the page.
pub const WAIT: Duration = Duration::from_secs(20);
/// How often a wait re-checks its condition.
const POLL: Duration = Duration::from_millis(25);

static SERIAL: Mutex<()> = Mutex::new(());

/// Chromium tests run one at a time: the machine has two cores and each browser takes most of one.
pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info"))
            .with_test_writer()
            .try_init();
    }
}

/// A simulator plus a temp directory for Chromium homes and profiles.
pub struct TestWorld {
    pub sim: SimHandle,
    pub dir: TempDir,
}

impl TestWorld {
    /// A simulator started from `config` (port 0 unless the config says otherwise).
    pub fn start(config: SimConfig) -> Self {
        init_logs();
        let sim = Simulator::start(config).expect("simulator starts");
        let dir = tempfile::Builder::new().prefix("wa_sim-test").tempdir().expect("temp dir");
        Self { sim, dir }
    }

    /// The default test configuration.
    pub fn new() -> Self {
        Self::start(SimConfig::for_tests())
    }

    /// A profile directory (user-data-dir) inside the test's temp dir.
    pub fn profile(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join("profiles").join(name);
        std::fs::create_dir_all(&path).expect("profile dir");
        path
    }

    /// Launches Chromium on the named profile.
    pub fn launch(&self, profile: &str) -> Chrome {
        Chrome::launch(&self.profile(profile), &self.dir.path().join("home"))
    }

    /// Opens the app in `tab`, scans its QR for `account` and waits for the synced chat list.
    pub fn open_and_link(&self, tab: &Tab, account: &str) {
        let css = self.sim.css();
        tab.navigate_to(&self.sim.base_url()).expect("navigate");
        wait_for(tab, &css.qr_canvas);
        self.sim.link_current_qr(account).expect("the QR on screen links");
        wait_for(tab, &css.chat_list);
    }
}

/// A headless Chromium with its own profile directory.
pub struct Chrome {
    browser: Option<Browser>,
    pub profile: PathBuf,
}

impl Chrome {
    /// Launches Chromium as the sender does: headless, no sandbox (root), quiet, HOME/TMPDIR in `home`.
    pub fn launch(profile: &Path, home: &Path) -> Self {
        assert!(
            Path::new(CHROMIUM).exists(),
            "Chromium not found at /usr/lib/chromium/chromium: run `apt-get install -y chromium`"
        );
        let tmp = home.join("tmp");
        std::fs::create_dir_all(&tmp).expect("chromium tmp dir");
        let envs = HashMap::from([
            ("HOME".to_owned(), home.display().to_string()),
            ("TMPDIR".to_owned(), tmp.display().to_string()),
        ]);
        let args: Vec<&OsStr> = [
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ]
        .iter()
        .map(OsStr::new)
        .collect();
        let options = LaunchOptions::default_builder()
            .path(Some(PathBuf::from(CHROMIUM)))
            .headless(true)
            .sandbox(false)
            .user_data_dir(Some(profile.to_path_buf()))
            .args(args)
            .process_envs(Some(envs))
            .window_size(Some((1280, 900)))
            .idle_browser_timeout(Duration::from_secs(60))
            .build()
            .expect("launch options");
        let browser = Browser::new(options).expect("Chromium starts");
        Self { browser: Some(browser), profile: profile.to_path_buf() }
    }

    fn browser(&self) -> &Browser {
        self.browser.as_ref().expect("browser still open")
    }

    /// A new tab.
    pub fn tab(&self) -> Arc<Tab> {
        self.browser().new_tab().expect("new tab")
    }

    /// Closes Chromium the way that keeps localStorage and cookies on disk: CDP `Browser.close`, then
    /// wait (bounded) until the browser process and every process using the profile have exited.
    pub fn close(mut self) {
        let Some(browser) = self.browser.take() else {
            return;
        };
        let pid = browser.get_process_id();
        let tab = browser.new_tab().expect("a tab to send Browser.close through");
        let _ = tab.call_method(headless_chrome::protocol::cdp::Browser::Close(None));
        let deadline = Instant::now() + Duration::from_secs(15);
        if let Some(pid) = pid {
            while process_alive(pid) {
                assert!(Instant::now() < deadline, "Chromium {pid} did not exit after Browser.close");
                std::thread::sleep(POLL);
            }
        }
        let marker = format!("--user-data-dir={}", self.profile.display());
        while processes_with_arg(&marker) > 0 {
            assert!(Instant::now() < deadline, "Chromium helpers still use {marker}");
            std::thread::sleep(POLL);
        }
        drop(browser);
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        // Dropping the Browser kills the process: fine for tests that do not need the profile afterwards.
        self.browser.take();
    }
}

fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // Field 3 is the state; a zombie has exited and only waits to be reaped.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

fn processes_with_arg(arg: &str) -> usize {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| process_alive(*pid))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|cmdline| cmdline.split(|b| *b == 0).any(|part| part == arg.as_bytes()))
                .unwrap_or(false)
        })
        .count()
}

/// Copies the named parts (files or directories, relative to the profile) into a fresh profile.
pub fn copy_profile(from: &Path, to: &Path, parts: &[&str]) {
    wa_sim::copy_profile(from, to, parts).expect("copy profile parts");
}

/// Evaluates `expression` in the page; `None` while the page is (re)loading or on a script error.
pub fn eval(tab: &Tab, expression: &str) -> Option<serde_json::Value> {
    tab.evaluate(expression, false).ok().and_then(|object| object.value)
}

/// Evaluates a promise-returning `expression` and returns its settled value.
pub fn eval_async(tab: &Tab, expression: &str) -> Option<serde_json::Value> {
    tab.evaluate(expression, true).ok().and_then(|object| object.value)
}

fn describe_page(tab: &Tab) -> String {
    let text = eval(tab, "document.body ? document.body.innerText.slice(0, 400) : '(no body)'")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "(page not readable)".to_owned());
    format!("url {} / page text: {text:?}", tab.get_url())
}

/// Waits (at most [`WAIT`]) until the JS boolean `condition` holds, across reloads and navigations.
pub fn wait_until(tab: &Tab, what: &str, condition: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        if eval(tab, condition) == Some(serde_json::Value::Bool(true)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for {what}; {}",
            describe_page(tab)
        );
        std::thread::sleep(POLL);
    }
}

/// A JS string literal for `value`.
pub fn js(value: &str) -> String {
    serde_json::Value::String(value.to_owned()).to_string()
}

/// Waits until an element matches `selector`.
pub fn wait_for(tab: &Tab, selector: &str) {
    wait_until(tab, selector, &format!("!!document.querySelector({})", js(selector)));
}

/// Waits until the page's visible text contains `text`.
pub fn wait_for_text(tab: &Tab, text: &str) {
    wait_until(
        tab,
        &format!("text {text:?}"),
        &format!("!!document.body && document.body.innerText.includes({})", js(text)),
    );
}

/// Whether an element matches `selector` right now.
pub fn exists(tab: &Tab, selector: &str) -> bool {
    eval(tab, &format!("!!document.querySelector({})", js(selector))) == Some(serde_json::Value::Bool(true))
}

/// Clicks the element matched by `selector` with a real mouse click.
pub fn click(tab: &Tab, selector: &str) {
    wait_for(tab, selector);
    tab.wait_for_element_with_custom_timeout(selector, WAIT)
        .expect("element to click")
        .click()
        .expect("click");
}

/// Clicks the element matched by `xpath` with a real mouse click.
pub fn click_xpath(tab: &Tab, xpath: &str) {
    tab.wait_for_xpath_with_custom_timeout(xpath, WAIT).expect("element to click").click().expect("click");
}

/// Records, in `window.__acks`, each ack icon the next outgoing bubble shows, in order.
pub fn record_acks_of_next_bubble(tab: &Tab, outgoing: &str) {
    let script = format!(
        r#"(() => {{
            const selector = {outgoing};
            const base = document.querySelectorAll(selector).length;
            window.__acks = [];
            const seen = () => {{
                const row = document.querySelectorAll(selector)[base];
                const icon = row && row.querySelector('.msg-meta span[data-icon]');
                const name = icon && icon.getAttribute('data-icon');
                if (name && window.__acks[window.__acks.length - 1] !== name) window.__acks.push(name);
            }};
            new MutationObserver(seen).observe(document.body,
                {{ subtree: true, childList: true, attributes: true, attributeFilter: ['data-icon'] }});
            return true;
        }})()"#,
        outgoing = js(outgoing)
    );
    assert_eq!(eval(tab, &script), Some(serde_json::Value::Bool(true)), "ack recorder installed");
}

/// The ack icons recorded by [`record_acks_of_next_bubble`].
pub fn recorded_acks(tab: &Tab) -> Vec<String> {
    let raw = eval(tab, "JSON.stringify(window.__acks || [])").expect("ack log");
    serde_json::from_str(raw.as_str().expect("a JSON string")).expect("ack log JSON")
}

/// One HTTP/1.1 request to the simulator; returns status and body. Bounded by a 10 s read timeout.
pub fn http(sim: &SimHandle, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    http_with_timeout(sim, method, path, body, Duration::from_secs(10)).expect("HTTP reply")
}

/// Like [`http`], but `None` when no full reply arrives within `timeout`.
pub fn http_with_timeout(
    sim: &SimHandle,
    method: &str,
    path: &str,
    body: Option<&str>,
    timeout: Duration,
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", sim.port())).expect("connect");
    stream.set_read_timeout(Some(timeout)).expect("read timeout");
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("write request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let raw = String::from_utf8(raw).expect("UTF-8 reply");
    let (head, body) = raw.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// Parses a JSON reply body.
pub fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}
