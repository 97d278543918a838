//! `wacamp setup`: link a WhatsApp account by scanning a QR code, store the logged-in profile as
//! the account's new current generation — what the sender restores for every batch — and resume
//! the account's campaigns that paused because its session stopped working (unless
//! `--no-resume`); campaigns paused or stopped for any other reason are left alone.

use anyhow::{Context, Result, bail};
use domain::{AccountId, SessionHealth};
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;
use session_store::{GenerationState, ProfileStore, S3ProfileStore, SessionPointers, StoreConfig};
use std::path::PathBuf;
use std::time::Duration;

/// Where setup finds WhatsApp Web, Chromium and the profile store.
pub struct SetupArgs {
    /// The account to link.
    pub account: String,
    /// Link a new device even when the current generation is known to work.
    pub force: bool,
    /// WhatsApp Web's origin (the simulator's in the demo).
    pub wa_url: Option<String>,
    /// How long to wait for the scan.
    pub timeout: Duration,
    /// Profile bucket and table; from the local stack outputs when not given.
    pub bucket: String,
    /// The campaign table (it also holds the session pointer).
    pub table: String,
    /// The sender's queue, for resuming; `None` with `--no-resume`.
    pub resume_into: Option<String>,
}

/// Runs setup; prints the QR code to the terminal as it rotates.
pub async fn run(args: SetupArgs) -> Result<()> {
    let account = AccountId::parse(&args.account).with_context(|| format!("--account '{}'", args.account))?;
    let aws = platform::aws_config().await;
    let s3 = platform::s3_client(&aws);
    let mut config = StoreConfig::new(&args.bucket, &args.table);
    config.key = session_store::ProfileKey::from_env().context("PROFILE_ENCRYPTION_KEY")?;
    let store = S3ProfileStore::new(s3, aws_sdk_dynamodb::Client::new(&aws), config);

    if let Some(pointer) = store.pointer(&account).await.context("reading the session pointer")?
        && pointer.state == SessionHealth::Ready
        && !args.force
    {
        println!(
            "account {account} already has a working session (generation {}); pass --force to link a new device",
            pointer.current.as_ref().map_or("?", |g| g.as_str())
        );
        return Ok(());
    }

    let dir = tempfile::tempdir().context("temp dir for the new profile")?;
    let profile: PathBuf = dir.path().join("profile");
    let mut driver_config = wa_driver::DriverConfig::from_env(&profile)?;
    if let Some(url) = args.wa_url {
        driver_config.wa_url = if url.ends_with('/') { url } else { format!("{url}/") };
    }
    let timeout = args.timeout;
    let linked = tokio::task::spawn_blocking(move || -> Result<wa_driver::Screen> {
        let driver = wa_driver::WaDriver::launch(driver_config)?;
        let first = driver.open(false)?;
        if first != wa_driver::Screen::NeedsQr {
            let _ = driver.close();
            bail!("WhatsApp Web showed {first} instead of the QR code");
        }
        println!("Open WhatsApp on the phone > Linked devices > Link a device, and scan:");
        let state = driver.link_with_qr(&mut print_qr, timeout)?;
        driver.close()?;
        Ok(state)
    })
    .await
    .context("the browser task failed")??;
    if linked != wa_driver::Screen::Ready {
        bail!("not linked: WhatsApp Web shows {linked} after {} s", timeout.as_secs());
    }
    let stored =
        store.backup(&account, &profile, GenerationState::Ready).await.context("storing the new profile")?;
    if let Err(e) = store.record_linked(&account).await {
        eprintln!("warning: could not record when the device was linked ({e}); its age will show as unknown");
    }
    println!("linked: account {account}, generation {} is now current", stored.generation.id.as_str());
    let Some(queue_url) = args.resume_into else {
        println!("campaigns paused for the session continue with `wacamp resume <campaign>`");
        return Ok(());
    };
    let control = campaign_control::Control::on_aws(
        aws_sdk_dynamodb::Client::new(&aws),
        aws_sdk_sqs::Client::new(&aws),
        args.table.clone(),
        queue_url,
        domain::system_clock(),
    );
    let resumed = campaign_control::resume_after_link(&control, &account).await.context(
        "resuming the campaigns paused for the session stopped; run `wacamp resume <campaign>` for the rest",
    )?;
    if resumed.is_empty() {
        println!("no campaign of account {account} was paused for its session");
    }
    for r in &resumed {
        println!(
            "resumed campaign {} (paused for {}): {} messages queued again",
            r.campaign, r.reason, r.requeued
        );
    }
    Ok(())
}

fn print_qr(payload: &str) {
    match QrCode::new(payload.as_bytes()) {
        Ok(code) => {
            let image = code.render::<Dense1x2>().quiet_zone(true).build();
            println!("\n{image}\n(the code changes every ~20 s; the newest one counts)");
        }
        Err(e) => eprintln!("cannot draw the QR code ({e}); payload: {payload}"),
    }
}
