//! `wa_sim`: serves the WhatsApp Web simulator for manual use and the demo
//! (`cargo run -p wa_sim -- --port 8790`), until Ctrl-C or SIGTERM.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use wa_sim::{Selectors, SimConfig, Simulator};

/// Command line of the simulator binary.
#[derive(Debug, Parser)]
#[command(name = "wa_sim", about = "A WhatsApp Web simulator for wacamp's tests and demo")]
struct Args {
    /// Port on 127.0.0.1 (keep it stable: browser storage is per origin, port included).
    #[arg(long, env = "WA_SIM_PORT", default_value_t = 8790)]
    port: u16,
    /// Milliseconds one QR payload stays valid.
    #[arg(long, default_value_t = 20_000)]
    qr_rotation_ms: u64,
    /// QR payloads shown before the QR goes idle behind "click to reload".
    #[arg(long, default_value_t = 6)]
    qr_codes_before_idle: u32,
    /// Milliseconds of the loading/sync screen.
    #[arg(long, default_value_t = 1500)]
    sync_ms: u64,
    /// Seconds on the admin clock without use after which a device expires.
    #[arg(long, default_value_t = 30 * 24 * 3600)]
    idle_expiry_secs: u64,
    /// Only each device's last N key versions log in (0 = every one).
    #[arg(long, default_value_t = 0)]
    key_window: u64,
    /// Milliseconds after the chat list shows until the app intercepts in-app chat links.
    #[arg(long, default_value_t = 0)]
    links_ready_after_ms: u64,
    /// Render the chat list under another id (to rehearse a WhatsApp DOM change).
    #[arg(long)]
    chat_list_id: Option<String>,
    /// Do not issue a new credential generation on each load.
    #[arg(long)]
    no_rotate_credentials: bool,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let defaults = SimConfig::default();
    let selectors = Selectors {
        chat_list_id: args.chat_list_id.unwrap_or(defaults.selectors.chat_list_id.clone()),
        ..defaults.selectors.clone()
    };
    let config = SimConfig {
        port: args.port,
        qr_rotation: Duration::from_millis(args.qr_rotation_ms),
        qr_codes_before_idle: args.qr_codes_before_idle,
        sync_duration: Duration::from_millis(args.sync_ms),
        idle_expiry: Duration::from_secs(args.idle_expiry_secs),
        rotate_credentials: !args.no_rotate_credentials,
        key_window: args.key_window,
        links_ready_after: Duration::from_millis(args.links_ready_after_ms),
        selectors,
        ..defaults
    };
    let sim = match Simulator::start(config) {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("wa_sim: cannot listen on 127.0.0.1:{}: {error}", args.port);
            return ExitCode::FAILURE;
        }
    };
    println!("wa_sim serving {} (admin API under /_admin/; Ctrl-C stops)", sim.base_url());
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("wa_sim: cannot start a runtime to wait for Ctrl-C: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(error) = runtime.block_on(stop_signal()) {
        eprintln!("wa_sim: cannot wait for Ctrl-C or SIGTERM: {error}");
    }
    sim.shutdown();
    ExitCode::SUCCESS
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM, so both an operator and a test harness can stop the server.
async fn stop_signal() -> std::io::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result,
        _ = terminate.recv() => Ok(()),
    }
}
