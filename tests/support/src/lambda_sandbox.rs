//! An OCI image run the way Lambda runs a container function, without a container engine: its
//! root filesystem unpacked by `umoci`, its entrypoint started under `bubblewrap` with a
//! read-only root, a writable `/tmp` only, an unwritable `/dev` (so no `/dev/shm`), Lambda's
//! non-root user, no user namespaces, and only the environment it is given. The memory of the
//! whole process tree is sampled (proportional set size) so a test can hold it to the function's
//! `MemorySize`; cgroup limits are not writable on the machines the tests run on.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

/// The user Lambda runs functions as (`sbx_user1051`).
pub const LAMBDA_UID: u32 = 993;
/// Its group.
pub const LAMBDA_GID: u32 = 990;

/// An unpacked image: its root filesystem and what its configuration says to run.
pub struct Image {
    /// The root filesystem.
    pub rootfs: PathBuf,
    /// `config.Env`, as `NAME` → value.
    pub env: BTreeMap<String, String>,
    /// `config.Entrypoint` followed by `config.Cmd`.
    pub command: Vec<String>,
    /// `config.WorkingDir` (`/` when unset).
    pub workdir: String,
}

/// Unpacks `tag` of the OCI layout at `layout` into `dir` (as root, so files keep their owners
/// and modes) and reads its configuration.
pub fn unpack(layout: &Path, tag: &str, dir: &Path) -> Image {
    assert!(
        layout.join("index.json").exists(),
        "{} is not an OCI layout: build the image first (`make image`, as root)",
        layout.display()
    );
    let rootfs = dir.join("rootfs");
    let out = Command::new("umoci")
        .args(["raw", "unpack", "--image"])
        .arg(format!("{}:{tag}", layout.display()))
        .arg(&rootfs)
        .output()
        .unwrap_or_else(|e| panic!("umoci could not run (apt-get install -y umoci): {e}"));
    assert!(out.status.success(), "umoci raw unpack failed: {}", String::from_utf8_lossy(&out.stderr));
    let config = image_config(layout, tag);
    let env = config["Env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let command = ["Entrypoint", "Cmd"]
        .iter()
        .flat_map(|key| config[*key].as_array().cloned().unwrap_or_default())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let workdir = config["WorkingDir"].as_str().filter(|w| !w.is_empty()).unwrap_or("/").to_owned();
    Image { rootfs, env, command, workdir }
}

/// The `config` object of the image `tag` names in the layout (index → manifest → config blob).
fn image_config(layout: &Path, tag: &str) -> Value {
    let read = |path: PathBuf| -> Value {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let blob = |digest: &str| {
        let hex = digest.strip_prefix("sha256:").unwrap_or_else(|| panic!("digest {digest} is not sha256"));
        layout.join("blobs/sha256").join(hex)
    };
    let index = read(layout.join("index.json"));
    let manifest = index["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("the layout has no image tagged {tag}: {index}"));
    let manifest = read(blob(manifest["digest"].as_str().unwrap_or_default()));
    let config = read(blob(manifest["config"]["digest"].as_str().unwrap_or_default()));
    config["config"].clone()
}

/// Every path of `root` with its type, size, mode and modification time: equal before and after
/// a run when the run wrote nothing there.
pub fn manifest(root: &Path) -> BTreeMap<PathBuf, (u64, u32, Option<SystemTime>)> {
    use std::os::unix::fs::MetadataExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = path.symlink_metadata() else { continue };
            if meta.is_dir() {
                stack.push(path.clone());
            }
            out.insert(path, (meta.len(), meta.mode(), meta.modified().ok()));
        }
    }
    out
}

/// The total size of the files under `dir`.
pub fn disk_usage(dir: &Path) -> u64 {
    manifest(dir).values().filter(|(_, mode, _)| mode & 0o170_000 == 0o100_000).map(|(len, _, _)| len).sum()
}

/// The image's entrypoint running in its sandbox.
pub struct Running {
    child: Child,
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    sampler: Option<std::thread::JoinHandle<()>>,
}

/// Starts `image`'s command with exactly `env`, the host directory `tmp` as its `/tmp` (Lambda's
/// ephemeral storage is a disk, not memory), its output appended to `log`.
pub fn start(image: &Image, env: &BTreeMap<String, String>, tmp: &Path, log: &Path) -> Running {
    let log_file = std::fs::File::create(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    let err_file = log_file.try_clone().expect("the log opens twice");
    let mut bwrap = Command::new("bwrap");
    bwrap
        .arg("--ro-bind")
        .arg(&image.rootfs)
        .arg("/")
        .args(["--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev"])
        .arg("--bind")
        .arg(tmp)
        .arg("/tmp")
        .args(["--unshare-user", "--uid", &LAMBDA_UID.to_string(), "--gid", &LAMBDA_GID.to_string()])
        .args(["--disable-userns", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent"])
        .args(["--new-session", "--clearenv", "--chdir", &image.workdir]);
    for (name, value) in env {
        bwrap.args(["--setenv", name, value]);
    }
    bwrap.args(&image.command).stdin(Stdio::null()).stdout(log_file).stderr(err_file);
    let child =
        bwrap.spawn().unwrap_or_else(|e| panic!("bwrap could not run (apt-get install -y bubblewrap): {e}"));
    sampled(child)
}

/// The same kind of process run straight on the host, not in an image (benchmarks that need no
/// image): `binary` with exactly `env`, its output to `log`, its memory sampled the same way.
pub fn start_on_host(binary: &Path, env: &BTreeMap<String, String>, log: &Path) -> Running {
    let log_file = std::fs::File::create(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    let err_file = log_file.try_clone().expect("the log opens twice");
    let child = Command::new(binary)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file)
        .spawn()
        .unwrap_or_else(|e| panic!("{} could not run (make build): {e}", binary.display()));
    sampled(child)
}

/// `child` with a sampler of its process tree's memory beside it.
fn sampled(child: Child) -> Running {
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let root = child.id();
    let sampler = {
        let (stop, peak) = (stop.clone(), peak.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(measure::tree_pss_bytes(root), Ordering::Relaxed);
                // A sampling period, not a synchronisation: the peak is the largest sample.
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    Running { child, stop, peak, sampler: Some(sampler) }
}

impl Running {
    /// Whether the process tree has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Stops the process tree (as Lambda freezes and ends an environment) and returns the peak
    /// memory of the tree over the whole run, in bytes.
    pub fn stop(mut self) -> u64 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stop.store(true, Ordering::Relaxed);
        if let Some(sampler) = self.sampler.take() {
            let _ = sampler.join();
        }
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        self.stop.store(true, Ordering::Relaxed);
    }
}
