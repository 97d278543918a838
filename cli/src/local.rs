//! `wacamp local`: a whole local setup from a source checkout, in one command:
//!
//! 1. the local AWS (MiniStack, with its venv; started unless one answers),
//! 2. the Lambda binaries (`make build` when they are missing),
//! 3. the WhatsApp Web simulator on `--sim-port`, unless a real WhatsApp URL is given,
//! 4. the stack deployed against it and recorded in the CLI's config file as the default,
//! 5. the URLs printed: the API, the status pages and the simulator.
//!
//! While it runs the simulator it stays in the foreground; Ctrl-C (or SIGTERM) stops the
//! simulator. The local AWS keeps running (`make local-down` stops it).

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// The functions the stack runs (their binaries must exist to deploy).
const FUNCTIONS: &[&str] = &["start_campaign", "sender", "campaign_status", "reconciler", "session_keeper"];

/// What `wacamp local` was given.
pub struct LocalArgs {
    /// The stack to deploy.
    pub stack: String,
    /// A WhatsApp Web to use instead of starting the simulator.
    pub wa_url: Option<String>,
    /// The simulator's port.
    pub sim_port: u16,
    /// The config file to record the stack in.
    pub config: PathBuf,
    /// The source checkout (default: the current directory or one above it).
    pub source: Option<PathBuf>,
    /// The API key the stack will accept.
    pub api_key: String,
}

/// The nearest directory at or above `from` holding wacamp's sources.
pub fn find_checkout(from: &Path) -> Result<PathBuf> {
    from.ancestors()
        .find(|d| d.join("infra/template.yaml").is_file() && d.join("localstack/ministack.sh").is_file())
        .map(Path::to_path_buf)
        .with_context(|| {
            format!(
                "`wacamp local` runs from a wacamp source checkout (with infra/ and localstack/); none at or above {} (pass --source)",
                from.display()
            )
        })
}

async fn step(what: &str, command: &mut Command) -> Result<()> {
    println!("wacamp local: {what}");
    let status = command.status().await.with_context(|| format!("{what}: could not run it"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Starts the simulator and waits until it answers.
async fn start_simulator(binary: &Path, port: u16) -> Result<(Child, String)> {
    let url = format!("http://127.0.0.1:{port}");
    let child = Command::new(binary)
        .args(["--port", &port.to_string()])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting the simulator {}", binary.display()))?;
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get(format!("{url}/_admin/clock")).send().await.is_err() {
        if Instant::now() >= deadline {
            bail!("the simulator did not answer on {url} within 30 s (is the port taken?)");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok((child, url))
}

/// Runs `wacamp local`.
pub async fn run(args: LocalArgs) -> Result<()> {
    let cwd = std::env::current_dir().context("the current directory")?;
    let root = find_checkout(args.source.as_deref().unwrap_or(&cwd))?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let binaries = target.join("debug");
    let chromium = std::env::var("WA_CHROMIUM_PATH").unwrap_or_else(|_| "/usr/lib/chromium/chromium".into());
    if !Path::new(&chromium).exists() {
        bail!(
            "Chromium is missing at {chromium} (the sender drives it): run `make setup` in {}",
            root.display()
        );
    }
    step("starting the local AWS", Command::new(root.join("localstack/ministack.sh")).arg("start")).await?;
    let sim_binary = binaries.join("wa_sim");
    let missing = FUNCTIONS.iter().any(|f| !binaries.join(f).is_file());
    if missing {
        step("building the Lambda binaries", Command::new("make").arg("-C").arg(&root).arg("build")).await?;
    }
    if args.wa_url.is_none() && !sim_binary.is_file() {
        step(
            "building the simulator",
            Command::new("cargo").current_dir(&root).args(["build", "-p", "wa_sim"]),
        )
        .await?;
    }
    let (simulator, wa_url) = match &args.wa_url {
        Some(url) => (None, url.clone()),
        None => {
            let (child, url) = start_simulator(&sim_binary, args.sim_port).await?;
            (Some(child), url)
        }
    };
    let wa_url = if wa_url.ends_with('/') { wa_url } else { format!("{wa_url}/") };
    let outputs = root.join(format!(".local/stacks/{}.json", args.stack));
    step(
        &format!("deploying stack {} against {wa_url}", args.stack),
        Command::new(root.join(".venv/bin/python"))
            .arg(root.join("infra/deploy.py"))
            .args(["--stack", &args.stack, "--binaries"])
            .arg(&binaries)
            .arg("--outputs")
            .arg(&outputs)
            .arg("--config-file")
            .arg(&args.config)
            .args(["--param", &format!("WhatsAppUrl={wa_url}")])
            .env("WACAMP_API_KEY", &args.api_key)
            .env("AWS_ENDPOINT_URL", local_endpoint())
            .env("AWS_ACCESS_KEY_ID", std::env::var("AWS_ACCESS_KEY_ID").unwrap_or_else(|_| "test".into()))
            .env(
                "AWS_SECRET_ACCESS_KEY",
                std::env::var("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|_| "test".into()),
            )
            .env("AWS_REGION", std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into()))
            .stdout(Stdio::null()),
    )
    .await?;
    let text = std::fs::read_to_string(&outputs).with_context(|| format!("reading {}", outputs.display()))?;
    let outputs: serde_json::Value = serde_json::from_str(&text).context("the stack outputs")?;
    let api = outputs["HttpBaseUrl"].as_str().context("the stack has no HttpBaseUrl")?.trim_end_matches('/');
    println!("API:          {api}");
    println!("status pages: {api}/view");
    println!("WhatsApp Web: {wa_url}");
    println!("config:       {} (stack {} is the CLI's default now)", args.config.display(), args.stack);
    let Some(mut simulator) = simulator else {
        println!("wacamp local: ready");
        return Ok(());
    };
    println!("wacamp local: ready; Ctrl-C stops the simulator (`make local-down` stops the local AWS)");
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("listening for SIGTERM")?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
        exit = simulator.wait() => bail!("the simulator stopped by itself ({})", exit.map(|s| s.to_string()).unwrap_or_default()),
    }
    simulator.kill().await.context("stopping the simulator")?;
    println!("wacamp local: simulator stopped");
    Ok(())
}

/// The local AWS endpoint (`AWS_ENDPOINT_URL`, else MiniStack's default).
fn local_endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "http://127.0.0.1:4566".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkout_is_found_from_a_directory_inside_it_and_its_absence_says_what_to_pass() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for f in ["infra/template.yaml", "localstack/ministack.sh"] {
            std::fs::create_dir_all(dir.path().join(f).parent().unwrap_or(dir.path()))
                .unwrap_or_else(|e| panic!("{e}"));
            std::fs::write(dir.path().join(f), "").unwrap_or_else(|e| panic!("{e}"));
        }
        let inside = dir.path().join("cli/src");
        std::fs::create_dir_all(&inside).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(find_checkout(&inside).unwrap_or_else(|e| panic!("{e}")), dir.path());
        let elsewhere = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let err = find_checkout(elsewhere.path()).unwrap_err().to_string();
        assert!(err.contains("pass --source"), "{err}");
    }
}
