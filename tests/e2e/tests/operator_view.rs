//! The operator's view, against a deployed stack whose real sender delivers to the simulator:
//! - the status page in headless Chromium: the key typed into its form, what the page shows read
//!   back from the DOM, each state saved as a screenshot under `.local/screenshots/`;
//! - the real `wacamp` binary: `status --watch` in a pseudo-terminal (the bar, the summary, the
//!   PAUSED exit code and hint), `--json` read into the shared API types, the stack found from the
//!   config file in any directory, and `wacamp local` bringing a stack up against a simulator.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use test_support::{World, delivered, link_account, numbered};
use wa_sim::SimConfig;

const STACK: &str = "wacamp-view";
const CHROMIUM: &str = "/usr/lib/chromium/chromium";
const WAIT: Duration = Duration::from_secs(120);

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    let params = ["SenderTimeoutSeconds=120", "MaxReceiveCount=20", "PaceMinMs=400", "PaceMaxMs=600"];
    WORLD.get_or_init(|| World::start(STACK, SimConfig::for_tests(), &params))
}

/// One browser at a time on this machine.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

fn browser(home: &std::path::Path) -> Browser {
    assert!(std::path::Path::new(CHROMIUM).exists(), "Chromium not found at {CHROMIUM}: run `make setup`");
    let options = LaunchOptions::default_builder()
        .path(Some(PathBuf::from(CHROMIUM)))
        .headless(true)
        .sandbox(false)
        .user_data_dir(Some(home.join("profile")))
        .args(
            ["--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"]
                .iter()
                .map(std::ffi::OsStr::new)
                .collect(),
        )
        .window_size(Some((1100, 900)))
        .idle_browser_timeout(Duration::from_secs(180))
        .build()
        .unwrap();
    Browser::new(options).expect("Chromium starts")
}

/// A page element's text (empty while it is missing).
fn text(tab: &Tab, id: &str) -> String {
    let js = format!("(document.getElementById('{id}') || {{}}).textContent || ''");
    tab.evaluate(&js, false)
        .ok()
        .and_then(|r| r.value)
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn visible(tab: &Tab, id: &str) -> bool {
    let js = format!("(() => {{ const e = document.getElementById('{id}'); return !!e && !e.hidden; }})()");
    tab.evaluate(&js, false).ok().and_then(|r| r.value).and_then(|v| v.as_bool()).unwrap_or(false)
}

/// Waits until `probe` gives a value, polling the page.
fn until<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn screenshot(tab: &Tab, name: &str) {
    let png = tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true).unwrap();
    let dir = test_support::root().join(".local/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("status-page-{name}.png")), png).unwrap();
}

/// Opens the campaign's page and types `key` into its form.
fn open_with_key(browser: &Browser, url: &str, key: &str) -> Arc<Tab> {
    let tab = browser.new_tab().unwrap();
    tab.navigate_to(url).unwrap();
    tab.wait_until_navigated().unwrap();
    until("the key form", || visible(&tab, "key-form").then_some(()));
    tab.wait_for_element("#key").unwrap().click().unwrap();
    tab.type_str(key).unwrap();
    tab.press_key("Enter").unwrap();
    tab
}

fn account() -> String {
    format!("page-{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_of_a_running_campaign_moves_with_the_deliveries_until_it_completes() {
    let _serial = serial().await;
    let w = world();
    let account = account();
    link_account(&w.sim, &w.stack, &account).await;
    let accepted = test_support::start_campaign(&w.stack, &account, numbered(610_000, 12)).await;
    let id = accepted["campaign_id"].as_str().unwrap().to_owned();
    let url = format!("{}/campaigns/{id}/view", w.stack.http_base_url);

    let home = tempfile::tempdir().unwrap();
    let (seen, final_sent) = tokio::task::spawn_blocking(move || {
        let browser = browser(home.path());
        let tab = open_with_key(&browser, &url, test_support::API_KEY);
        // Every distinct "N of 12 done" the page showed, until it shows COMPLETED.
        let mut seen = BTreeSet::new();
        let mut shot = false;
        until("the page to show the campaign completed", || {
            let progress = text(&tab, "progress");
            if !progress.is_empty() {
                seen.insert(progress.clone());
            }
            if !shot
                && progress.starts_with(|c: char| c.is_ascii_digit())
                && !progress.starts_with("0 ")
                && !progress.starts_with("12 ")
            {
                screenshot(&tab, "running");
                shot = true;
            }
            (text(&tab, "status") == "COMPLETED").then_some(())
        });
        // The last render, read after the status said COMPLETED.
        seen.insert(text(&tab, "progress"));
        screenshot(&tab, "completed");
        let sent: u64 = until("the sent count", || {
            let counts = text(&tab, "counts");
            counts.split("sent").nth(1).and_then(|rest| {
                rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
            })
        });
        let bar: f64 = tab
            .evaluate("document.getElementById('bar').value", false)
            .unwrap()
            .value
            .unwrap()
            .as_f64()
            .unwrap();
        assert_eq!(bar, 100.0, "the bar is full");
        (seen, sent)
    })
    .await
    .unwrap();

    // The page moved through more than one state, and ends with what the recipients got.
    assert!(seen.len() >= 2, "the page showed only {seen:?}");
    assert!(seen.contains("12 of 12 done (100%)"), "{seen:?}");
    let counts = delivered(&w.sim, &account);
    assert_eq!((counts.len() as u64, final_sent), (12, 12), "{counts:?}");
    assert!(counts.values().all(|&c| c == 1), "nobody got a message twice: {counts:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_campaign_shows_its_reason_and_the_commands_and_a_wrong_key_shows_the_401() {
    let _serial = serial().await;
    let w = world();
    // An account never set up: the sender finds no session and pauses the campaign, with its hint.
    let account = account();
    let accepted = test_support::start_campaign(&w.stack, &account, numbered(620_000, 2)).await;
    let id = accepted["campaign_id"].as_str().unwrap().to_owned();
    test_support::wait_status(&w.stack, &id, "the campaign to pause", |s| s["status"] == "PAUSED").await;
    let url = format!("{}/campaigns/{id}/view", w.stack.http_base_url);
    let home = tempfile::tempdir().unwrap();
    tokio::task::spawn_blocking(move || {
        let browser = browser(home.path());
        let tab = open_with_key(&browser, &url, test_support::API_KEY);
        until("the pause box", || visible(&tab, "paused").then_some(()));
        assert_eq!(text(&tab, "reason"), "Paused: SESSION_EXPIRED");
        let hint = text(&tab, "hint");
        assert!(hint.contains(&format!("wacamp setup --account {account}")), "{hint}");
        screenshot(&tab, "paused");

        // A wrong key: the API's 401 message, and the form asks again.
        let tab = open_with_key(&browser, &url, "not-the-key");
        let error = until("the 401 message", || {
            let e = text(&tab, "error");
            (visible(&tab, "error") && !e.is_empty()).then_some(e)
        });
        assert_eq!(error, "header x-api-key is not a valid key");
        assert!(visible(&tab, "key-form"), "the form asks for the key again");
        assert!(!visible(&tab, "campaign"), "nothing of the campaign is shown");
        screenshot(&tab, "unauthorised");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn the_pages_are_served_with_headers_that_forbid_inline_script_framing_and_caching() {
    let w = world();
    let http = reqwest::Client::new();
    for path in ["/view", "/campaigns/c-1/view", "/assets/app.js", "/assets/app.css"] {
        let resp = http.get(format!("{}{path}", w.stack.http_base_url)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path} without a key");
        let h = resp.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
    }
    // The data behind them still needs the key.
    let resp = http.get(format!("{}/campaigns/c-1", w.stack.http_base_url)).send().await.unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_watch_draws_a_bar_in_a_terminal_and_ends_with_the_summary() {
    let _serial = serial().await;
    let w = world();
    let account = account();
    link_account(&w.sim, &w.stack, &account).await;
    let accepted = test_support::start_campaign(&w.stack, &account, numbered(630_000, 8)).await;
    let id = accepted["campaign_id"].as_str().unwrap().to_owned();
    let stack = w.stack.clone();
    let (code, screen) = tokio::task::spawn_blocking(move || {
        test_support::wacamp_in_terminal(&stack, &["status", &id, "--watch", "--timeout", "300"])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("/8 "), "the bar counts the messages: {screen}");
    assert!(screen.contains("eta"), "the bar shows the time left: {screen}");
    assert!(screen.contains("COMPLETED: 8 sent, 0 failed"), "the summary line: {screen}");
    assert_eq!(delivered(&w.sim, &account).len(), 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watch_that_ends_paused_prints_the_commands_and_exits_with_the_paused_code() {
    let w = world();
    let account = account();
    let accepted = test_support::start_campaign(&w.stack, &account, numbered(640_000, 2)).await;
    let id = accepted["campaign_id"].as_str().unwrap().to_owned();
    let stack = w.stack.clone();
    let (code, screen) = tokio::task::spawn_blocking(move || {
        test_support::wacamp_in_terminal(&stack, &["status", &id, "--watch"])
    })
    .await
    .unwrap();
    assert_eq!(code, Some(api_types::EXIT_PAUSED), "{screen}");
    assert!(screen.contains("paused: SESSION_EXPIRED"), "{screen}");
    assert!(screen.contains(&format!("wacamp setup --account {account}")), "{screen}");
}

#[tokio::test]
async fn json_output_reads_into_the_shared_api_types() {
    let w = world();
    let account = account();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("list.csv");
    std::fs::write(&csv, "phone,n\n+4915112650000,1\n+4915112650001,2\n12,3\n").unwrap();
    let csv = csv.to_string_lossy().into_owned();
    let args = ["start", "--csv", &csv, "--account", &account, "--template", "Hi {{n}}", "--json"];
    let (ok, out, err) = test_support::wacamp(&w.stack, &args);
    assert!(ok, "{err}");
    let accepted: api_types::Accepted = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((accepted.total, accepted.invalid.len()), (3, 1));
    let id = accepted.campaign_id.to_string();

    let (ok, out, err) = test_support::wacamp(&w.stack, &["status", &id, "--json"]);
    assert!(ok, "{err}");
    let status: api_types::CampaignStatusBody = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(status.counts.total, 3);

    let (ok, out, err) = test_support::wacamp(&w.stack, &["messages", &id, "--json", "--page-size", "2"]);
    assert!(ok, "{err}");
    let rows: Vec<api_types::MessageItem> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.iter().map(|r| r.row).collect::<Vec<_>>(), vec![0, 1, 2]);

    let listed = test_support::eventually("the campaign to be listed", Duration::from_secs(30), || async {
        let (ok, out, _) = test_support::wacamp(&w.stack, &["campaigns", "--account", &account, "--json"]);
        let items: Vec<api_types::CampaignStatusBody> =
            out.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
        (ok && !items.is_empty()).then_some(items)
    })
    .await;
    assert_eq!(listed[0].campaign_id, accepted.campaign_id);
}

#[tokio::test]
async fn from_any_directory_the_cli_finds_the_stack_in_the_config_file_the_deploy_script_writes() {
    let w = world();
    let root = test_support::root();
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("wacamp/config.toml");
    // Given the deploy script recorded the stack (its outputs, the emulator's endpoint),
    let outputs = std::fs::read_to_string(root.join(format!(".local/stacks/{STACK}.json"))).unwrap();
    let record = std::process::Command::new(root.join(".venv/bin/python"))
        .arg("-c")
        .arg(
            "import json, sys; sys.path.insert(0, sys.argv[1]); import deploy; \
             deploy.record_in_config(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), sys.argv[5], 'us-east-1')",
        )
        .arg(root.join("infra"))
        .arg(&config)
        .args([STACK, &outputs, &test_support::aws::endpoint()])
        .output()
        .unwrap();
    assert!(record.status.success(), "{}", String::from_utf8_lossy(&record.stderr));
    // when the CLI runs elsewhere with nothing but the key and that file,
    let account = account();
    let accepted = test_support::start_campaign(&w.stack, &account, numbered(660_000, 1)).await;
    let id = accepted["campaign_id"].as_str().unwrap().to_owned();
    let elsewhere = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(root.join("target/debug/wacamp"))
            .args(args)
            .current_dir(elsewhere.path())
            .env_clear()
            .env("XDG_CONFIG_HOME", home.path())
            .env("WACAMP_API_KEY", test_support::API_KEY)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // then the API commands and the ones that talk to AWS directly both reach the stack.
    let (ok, out, err) = run(&["status", &id, "--json"]);
    assert!(ok, "{err}");
    let status: api_types::CampaignStatusBody = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(status.campaign_id.as_str(), id);
    let (ok, out, err) = run(&["reconcile", &id]);
    assert!(ok, "reconcile through the recorded endpoint: {out}{err}");
    let (ok, _, err) = run(&["--stack", "no-such-stack", "status", &id]);
    assert!(!ok && err.contains("no-such-stack"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wacamp_local_deploys_a_stack_against_a_simulator_it_starts_and_stops_it_on_ctrl_c() {
    let root = test_support::root();
    let home = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = test_support::wacamp_command(&world().stack, &["local", "--sim-port", &port.to_string()])
        .current_dir(root.join("cli"))
        .env_remove("WACAMP_API_URL")
        .env("WACAMP_STACK", "wacamp-local-cmd")
        .env("XDG_CONFIG_HOME", home.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Its output, line by line (read to the end, so it can always print), until it says it is ready.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (lines, ready) = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(600);
        while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            let ready = line.starts_with("wacamp local: ready");
            seen.push(line);
            if ready {
                return (seen, true);
            }
        }
        (seen, false)
    })
    .await
    .unwrap();
    assert!(ready, "wacamp local ended before it was ready:\n{}", lines.join("\n"));
    let url = |label: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(label))
            .map(|u| u.trim().to_owned())
            .unwrap_or_else(|| panic!("no {label} line in:\n{}", lines.join("\n")))
    };
    let (api, wa) = (url("API:"), url("WhatsApp Web:"));
    assert_eq!(wa, format!("http://127.0.0.1:{port}/"));
    // The stack answers with the key, its status page is served, the simulator is up, and the
    // config file names the stack as the default.
    let listed = test_support::http().get(format!("{api}/campaigns?account=nobody")).send().await.unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(reqwest::get(format!("{api}/view")).await.unwrap().status(), 200);
    assert_eq!(reqwest::get(format!("{wa}_admin/clock")).await.unwrap().status(), 200);
    let config = std::fs::read_to_string(home.path().join("wacamp/config.toml")).unwrap();
    assert!(config.contains("stack = \"wacamp-local-cmd\""), "{config}");
    // Ctrl-C stops the simulator and ends the command cleanly.
    let interrupted =
        std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(interrupted.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    assert!(exit.success(), "{exit}");
    test_support::eventually("the simulator to stop", Duration::from_secs(10), || async {
        reqwest::get(format!("{wa}_admin/clock")).await.is_err().then_some(())
    })
    .await;
}
