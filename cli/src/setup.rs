//! `wacamp setup`: link a WhatsApp account by scanning a QR code, store the logged-in profile as
//! the account's new current generation — what the sender restores for every batch — and resume
//! the account's campaigns that paused because its session stopped working (unless
//! `--no-resume`); campaigns paused or stopped for any other reason are left alone.
//!
//! Without `--force`, a session the store calls READY is first checked for real (restored and
//! opened, as the session keeper does): only one that still logs in makes setup refuse. The QR
//! code is drawn in the terminal and written as a PNG whose path is printed; the new profile is
//! stored only once WhatsApp Web shows the chat list, i.e. after the first sync.

use anyhow::{Context, Result, bail};
use domain::{AccountId, SessionHealth};
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;
use session_keeper::Kept;
use session_store::{GenerationState, ProfileStore, S3ProfileStore, SessionPointers, StoreConfig};
use std::path::PathBuf;
use std::time::Duration;

/// Where setup finds WhatsApp Web, Chromium and the profile store.
pub struct SetupArgs {
    /// The AWS configuration of the stack.
    pub aws: platform::SdkConfig,
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
    /// The sender's queue (for resuming, and for the check of a stored session).
    pub queue_url: String,
    /// Resume the campaigns paused for the session once linked.
    pub resume: bool,
    /// Where to write the QR code as a PNG.
    pub qr_png: PathBuf,
}

/// Runs setup; prints the QR code to the terminal as it rotates.
pub async fn run(args: SetupArgs) -> Result<()> {
    let account = AccountId::parse(&args.account).with_context(|| format!("--account '{}'", args.account))?;
    let aws = args.aws.clone();
    let s3 = platform::s3_client(&aws);
    let mut config = StoreConfig::new(&args.bucket, &args.table);
    config.key = session_store::key_source::load_key(&aws).await.context("the profile key")?;
    let store = S3ProfileStore::new(s3, aws_sdk_dynamodb::Client::new(&aws), config);

    if let Some(pointer) = store.pointer(&account).await.context("reading the session pointer")?
        && matches!(pointer.state, SessionHealth::Ready | SessionHealth::Unknown)
        && !args.force
    {
        println!("account {account}: the store says {}; checking the stored session...", pointer.state);
        let at = crate::session::StoreLocation {
            aws: aws.clone(),
            bucket: args.bucket.clone(),
            table: args.table.clone(),
        };
        let kept = crate::keep::check(&at, args.queue_url.clone(), &account, args.wa_url.clone()).await?;
        match kept {
            Kept::Refreshed { generation, .. } => {
                println!(
                    "account {account} already has a working session: it logged in just now (generation {generation} stored); pass --force to link a new device"
                );
                return Ok(());
            }
            Kept::Ready { .. } => {
                println!(
                    "account {account} already has a working session: it logged in just now; pass --force to link a new device"
                );
                return Ok(());
            }
            Kept::Busy => bail!(
                "account {account}: a sender is using the account's browser, so its session works; pass --force to link a new device anyway"
            ),
            Kept::Unknown { why } => bail!(
                "account {account}: could not check the stored session ({why}); try again, or pass --force"
            ),
            other => println!(
                "account {account}: the stored session does not log in ({}); linking a new device",
                other.state()
            ),
        }
    }

    let dir = tempfile::tempdir().context("temp dir for the new profile")?;
    let profile: PathBuf = dir.path().join("profile");
    let mut driver_config = wa_driver::DriverConfig::from_env(&profile)?;
    if let Some(url) = args.wa_url {
        driver_config.wa_url = if url.ends_with('/') { url } else { format!("{url}/") };
    }
    let timeout = args.timeout;
    let qr_png = args.qr_png.clone();
    let mut show_qr = move |payload: &str| print_qr(payload, &qr_png);
    let linked = tokio::task::spawn_blocking(move || -> Result<wa_driver::Screen> {
        let driver = wa_driver::WaDriver::launch(driver_config)?;
        let first = driver.open(false)?;
        if first != wa_driver::Screen::NeedsQr {
            let _ = driver.close();
            bail!("WhatsApp Web showed {first} instead of the QR code");
        }
        println!("Open WhatsApp on the phone > Linked devices > Link a device, and scan:");
        // Ready is the chat list: WhatsApp Web has finished its first sync.
        let state = driver.link_with_qr(&mut show_qr, timeout)?;
        driver.close()?;
        Ok(state)
    })
    .await
    .context("the browser task failed");
    // A code links nothing once its browser is closed: none is left behind, linked or not.
    remove_qr_png(&args.qr_png);
    let linked = linked??;
    if linked != wa_driver::Screen::Ready {
        bail!("not linked: WhatsApp Web shows {linked} after {} s", timeout.as_secs());
    }
    let stored =
        store.backup(&account, &profile, GenerationState::Ready).await.context("storing the new profile")?;
    if let Err(e) = store.record_linked(&account).await {
        eprintln!("warning: could not record when the device was linked ({e}); its age will show as unknown");
    }
    println!("linked: account {account}, generation {} is now current", stored.generation.id.as_str());
    if !args.resume {
        println!("campaigns paused for the session continue with `wacamp resume <campaign>`");
        return Ok(());
    }
    let queue_url = args.queue_url;
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

fn print_qr(payload: &str, png: &std::path::Path) {
    match QrCode::new(payload.as_bytes()) {
        Ok(code) => {
            let image = code.render::<Dense1x2>().quiet_zone(true).build();
            println!("\n{image}\n(the code changes every ~20 s; the newest one counts)");
        }
        Err(e) => eprintln!("cannot draw the QR code ({e})"),
    }
    match crate::qr_png::write(payload, png) {
        Ok(()) => println!("the same code as an image: {}", png.display()),
        Err(e) => eprintln!("cannot write the QR code image: {e:#}"),
    }
}

/// Removes the QR code image, if one was written.
fn remove_qr_png(png: &std::path::Path) {
    match std::fs::remove_file(png) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => eprintln!("cannot remove the QR code image {}: {e}", png.display()),
    }
}
