//! Chromium as a process: launching it bounded in time, profile locks, and waiting for a clean exit.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use headless_chrome::{Browser, LaunchOptions};

use crate::config::DriverConfig;
use crate::error::DriverError;

/// How often process exit is re-checked.
const EXIT_POLL: Duration = Duration::from_millis(25);

/// Flags for a small, quiet, headless Chromium that fits Lambda.
const BASE_FLAGS: [&str; 9] = [
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disk-cache-size=1",
    "--no-default-browser-check",
    // Message time stamps follow the browser's locale; the selectors say how to read en-US ones.
    "--lang=en-US",
];

/// Whether this process runs as root (Chromium's sandbox refuses root).
pub(crate) fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().next().map(|uid| uid == "0"))
        })
        .unwrap_or(false)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_default()
}

/// Refuses (or, when allowed, clears) a `SingletonLock` left in the profile.
///
/// Chromium exits with code 21 on a lock it does not own, and headless_chrome then retries for minutes; so
/// the lock is checked before launch. A lock naming this host and a live pid is another browser: always
/// PROFILE_LOCKED. A lock naming another host or a dead pid is stale: removed when `remove_stale` is set.
pub(crate) fn check_profile_lock(profile: &Path, remove_stale: bool) -> Result<(), DriverError> {
    let lock = profile.join("SingletonLock");
    let Ok(target) = std::fs::read_link(&lock) else {
        return Ok(());
    };
    let holder = target.to_string_lossy().into_owned();
    let (host, pid) =
        holder.rsplit_once('-').map_or((holder.as_str(), None), |(h, p)| (h, p.parse::<u32>().ok()));
    let live_here = host == hostname() && pid.is_some_and(process_alive);
    let locked =
        || DriverError::ProfileLocked { profile: profile.display().to_string(), holder: holder.clone() };
    if live_here || !remove_stale {
        return Err(locked());
    }
    tracing::warn!(profile = %profile.display(), %holder, "removing a stale Chromium profile lock");
    for name in ["SingletonLock", "SingletonCookie", "SingletonSocket"] {
        let path = profile.join(name);
        if std::fs::symlink_metadata(&path).is_ok() {
            std::fs::remove_file(&path).map_err(|_| locked())?;
        }
    }
    Ok(())
}

/// Starts Chromium on the profile, giving up after `config.timeouts.launch` instead of headless_chrome's
/// minutes of retries. The launch runs on its own thread; if it finishes late, its browser is dropped.
pub(crate) fn launch(config: &DriverConfig, scratch: &Path) -> Result<Browser, DriverError> {
    if !config.chromium_path.exists() {
        return Err(DriverError::crashed(format!(
            "no Chromium at {} (install it: `apt-get install -y chromium`, or set WA_CHROMIUM_PATH)",
            config.chromium_path.display()
        )));
    }
    check_profile_lock(&config.profile_dir, config.remove_stale_lock)?;
    std::fs::create_dir_all(&config.profile_dir).map_err(|e| DriverError::Config {
        message: format!("profile dir {}: {e}", config.profile_dir.display()),
    })?;
    let tmp = scratch.join("tmp");
    std::fs::create_dir_all(&tmp)
        .map_err(|e| DriverError::Config { message: format!("scratch dir {}: {e}", tmp.display()) })?;

    let mut flags: Vec<String> = BASE_FLAGS.iter().map(|f| (*f).to_owned()).collect();
    if config.single_process {
        flags.push("--single-process".to_owned());
        flags.push("--no-zygote".to_owned());
    }
    let envs = HashMap::from([
        ("HOME".to_owned(), scratch.display().to_string()),
        ("TMPDIR".to_owned(), tmp.display().to_string()),
    ]);
    let job = LaunchJob {
        path: config.chromium_path.clone(),
        profile: config.profile_dir.clone(),
        flags,
        envs,
        window: config.window_size,
        sandbox: config.sandbox.unwrap_or_else(|| !running_as_root()),
        idle: config.timeouts.idle_browser(),
    };
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("wa-driver-launch".to_owned())
        .spawn(move || {
            let result = job.run();
            // When nobody listens any more the browser (if any) is dropped here, which kills it.
            let _ = sender.send(result);
        })
        .map_err(|e| DriverError::crashed(format!("cannot spawn the launch thread: {e}")))?;
    match receiver.recv_timeout(config.timeouts.launch) {
        Ok(Ok(browser)) => Ok(browser),
        Ok(Err(message)) => Err(launch_failure(config, message)),
        Err(_) => Err(launch_failure(
            config,
            format!("Chromium did not answer within {:?}", config.timeouts.launch),
        )),
    }
}

/// A failed launch is PROFILE_LOCKED when a lock appeared meanwhile, else BROWSER_CRASHED.
fn launch_failure(config: &DriverConfig, message: String) -> DriverError {
    match check_profile_lock(&config.profile_dir, false) {
        Err(locked @ DriverError::ProfileLocked { .. }) => locked,
        _ => DriverError::crashed(message),
    }
}

/// Owned launch parameters, moved to the launch thread.
struct LaunchJob {
    path: PathBuf,
    profile: PathBuf,
    flags: Vec<String>,
    envs: HashMap<String, String>,
    window: (u32, u32),
    sandbox: bool,
    idle: Duration,
}

impl LaunchJob {
    fn run(self) -> Result<Browser, String> {
        let args: Vec<&OsStr> = self.flags.iter().map(OsStr::new).collect();
        let options = LaunchOptions::default_builder()
            .path(Some(self.path))
            .headless(true)
            .sandbox(self.sandbox)
            .user_data_dir(Some(self.profile))
            .args(args)
            .process_envs(Some(self.envs))
            .window_size(Some(self.window))
            .idle_browser_timeout(self.idle)
            .build()
            .map_err(|e| format!("launch options: {e}"))?;
        Browser::new(options).map_err(|e| format!("Chromium did not start: {e}"))
    }
}

/// Whether `pid` is a live (not zombie) process.
pub(crate) fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // Field 3 is the state; a zombie has exited and only waits to be reaped.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// How many live processes carry `arg` on their command line (Chromium's helpers carry the
/// `--user-data-dir`).
pub(crate) fn processes_with_arg(arg: &str) -> usize {
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

/// Waits until the browser process and every process using the profile exited; false on timeout.
pub(crate) fn wait_for_exit(pid: Option<u32>, profile: &Path, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let marker = format!("--user-data-dir={}", profile.display());
    loop {
        let browser_alive = pid.is_some_and(process_alive);
        if !browser_alive && processes_with_arg(&marker) == 0 {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(EXIT_POLL);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_lock_from_another_host_is_refused_unless_removal_is_allowed() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("otherhost-12345", dir.path().join("SingletonLock")).unwrap();
        let error = check_profile_lock(dir.path(), false).unwrap_err();
        assert_eq!(error.code(), "PROFILE_LOCKED");
        check_profile_lock(dir.path(), true).unwrap();
        assert!(std::fs::symlink_metadata(dir.path().join("SingletonLock")).is_err());
    }

    #[test]
    fn a_lock_held_by_a_live_process_here_is_never_removed() {
        let dir = tempfile::tempdir().unwrap();
        let holder = format!("{}-{}", hostname(), std::process::id());
        std::os::unix::fs::symlink(&holder, dir.path().join("SingletonLock")).unwrap();
        assert_eq!(check_profile_lock(dir.path(), true).unwrap_err().code(), "PROFILE_LOCKED");
    }
}
