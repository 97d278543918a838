//! `wacamp session keep --account A`: the session keeper's check of one account, run here
//! instead of on its schedule (the `session_keeper` crate): under the account's browser lease,
//! restore and check the session, store a fresh generation when it logs in, mark it EXPIRED
//! when it does not, and print what it found. Alerts are printed, not published.

use crate::session::StoreLocation;
use anyhow::{Context, Result, bail};
use async_trait::async_trait;
use domain::AccountId;
use session_keeper::alert::{Alert, Alerts};
use session_keeper::{Deps, Kept, Scope};
use session_store::StoreConfig;
use std::sync::Arc;

/// How long this run may take (the lease is held that long plus a margin).
const BUDGET_SECONDS: u64 = 300;

/// Alerts printed on the terminal.
struct PrintedAlerts;

#[async_trait]
impl Alerts for PrintedAlerts {
    async fn send(&self, alert: &Alert) -> Result<(), String> {
        println!("alert {}: {}\n  hint: {}", alert.code, alert.message, alert.hint);
        Ok(())
    }
}

/// Keeps one account's session and prints the outcome; fails when it could not tell.
pub async fn run(
    at: &StoreLocation,
    queue_url: String,
    raw_account: &str,
    wa_url: Option<String>,
) -> Result<()> {
    let account = AccountId::parse(raw_account).with_context(|| format!("--account '{raw_account}'"))?;
    let kept = check(at, queue_url, &account, wa_url).await?;
    print(&account, &kept)
}

/// The keeper's check of `account`, run here: what it found.
pub async fn check(
    at: &StoreLocation,
    queue_url: String,
    account: &AccountId,
    wa_url: Option<String>,
) -> Result<Kept> {
    let aws = &at.aws;
    let mut store = StoreConfig::new(&at.bucket, &at.table);
    store.key = session_store::key_source::load_key(aws).await.context("the profile key")?;
    let mut driver = wa_driver::DriverConfig::from_env(std::env::temp_dir())?;
    if let Some(url) = wa_url {
        driver.wa_url = if url.ends_with('/') { url } else { format!("{url}/") };
    }
    let config = session_keeper::Config {
        table_name: at.table.clone(),
        queue_url,
        max_fallback: 3,
        reserve: std::time::Duration::ZERO,
        alert_topic_arn: None,
    };
    let deps = Deps::on_aws(aws, config, store, driver, Arc::new(PrintedAlerts));
    let clock = deps.clock.clone();
    let deadline_ms = u64::try_from(clock.unix_millis()).unwrap_or(0) + BUDGET_SECONDS * 1000;
    let holder = format!("wacamp-cli-{}", std::process::id());
    let report = session_keeper::run(&deps, &Scope::Account(account.clone()), deadline_ms, &holder)
        .await
        .map_err(anyhow::Error::msg)?;
    match report.accounts.into_iter().next() {
        Some(r) => Ok(r.kept),
        None => bail!("account {account} was not checked"),
    }
}

/// Prints what the check found; fails when it could not tell.
fn print(account: &AccountId, kept: &Kept) -> Result<()> {
    match kept {
        Kept::Refreshed { generation, current, from_backup, resumed } => {
            let restored = if *from_backup { " (restored from an older backup)" } else { "" };
            let current = if *current { "stored and current" } else { "stored (a newer one is current)" };
            println!("account {account}: READY{restored}; generation {generation} {current}");
            for campaign in resumed {
                println!("resumed campaign {campaign}");
            }
        }
        Kept::Ready { why, resumed } => {
            println!("account {account}: READY; no fresh generation stored ({why})");
            for campaign in resumed {
                println!("resumed campaign {campaign}");
            }
        }
        Kept::Expired => println!("account {account}: EXPIRED; no stored generation logs in"),
        Kept::AlreadyExpired => println!(
            "account {account}: EXPIRED already\nhint: {}",
            domain::ErrorCode::SessionExpired.hint_for(account.as_str(), "<campaign>")
        ),
        Kept::Blocked { code } => println!("account {account}: {} ({code})", kept.state()),
        Kept::Busy => {
            bail!("account {account}: a sender is using the account's browser; try again when it is done")
        }
        Kept::NotLinked => bail!(
            "account {account} has no stored session\nhint: {}",
            domain::ErrorCode::ProfileNotFound.hint_for(account.as_str(), "<campaign>")
        ),
        Kept::Unknown { why } => bail!("account {account}: could not tell ({why}); try again"),
    }
    Ok(())
}
