//! `wacamp opt-out add|remove|import`: an account's opt-out list through the API, one number
//! per call (`PUT`/`DELETE /accounts/{account}/opt-outs/{phone}`); `import` reads the `phone`
//! column of a CSV and goes on past a refused row, naming each one, so a long list is never
//! half-imported silently.

use crate::api::{Api, call};
use anyhow::{Context, Result, bail};
use api_types::OptOutState;
use clap::Subcommand;
use std::path::{Path, PathBuf};

/// `wacamp opt-out …`.
#[derive(Subcommand)]
pub enum OptOutCommand {
    /// Put numbers on the list (international form, e.g. +4915112345678).
    Add {
        /// The account.
        #[arg(long)]
        account: String,
        /// The numbers.
        #[arg(required = true)]
        phones: Vec<String>,
    },
    /// Take numbers off the list.
    Remove {
        /// The account.
        #[arg(long)]
        account: String,
        /// The numbers.
        #[arg(required = true)]
        phones: Vec<String>,
    },
    /// Put every number of a CSV's `phone` column on the list.
    Import {
        /// The account.
        #[arg(long)]
        account: String,
        /// The CSV.
        #[arg(long)]
        csv: PathBuf,
    },
}

/// Runs one `opt-out` command and prints what it did.
pub async fn run(api: &Api, command: &OptOutCommand) -> Result<()> {
    match command {
        OptOutCommand::Add { account, phones } | OptOutCommand::Remove { account, phones } => {
            let on = matches!(command, OptOutCommand::Add { .. });
            let account =
                domain::AccountId::parse(account).with_context(|| format!("--account '{account}'"))?;
            for phone in phones {
                let state = set(api, account.as_str(), phone, on).await?;
                let now = if state.opted_out { "on" } else { "off" };
                println!("{} is {now} account {}'s opt-out list", state.phone, state.account);
            }
        }
        OptOutCommand::Import { account, csv } => {
            let account =
                domain::AccountId::parse(account).with_context(|| format!("--account '{account}'"))?;
            let added = import(api, account.as_str(), csv).await?;
            println!("{added} numbers are on account {account}'s opt-out list");
        }
    }
    Ok(())
}

/// The path of one number on `account`'s list (`+` percent-encoded).
fn path(account: &str, phone: &str) -> String {
    format!("/accounts/{account}/opt-outs/{}", phone.trim().replace('+', "%2B"))
}

/// Puts one number on the list (`add`) or takes it off.
pub async fn set(api: &Api, account: &str, phone: &str, on: bool) -> Result<OptOutState> {
    let url = api.url(&path(account, phone))?;
    let request = if on { api.http().put(url) } else { api.http().delete(url) };
    call(request).await.with_context(|| format!("number {}", phone.trim()))
}

/// Puts every number of the CSV's `phone` column on the list; answers how many.
pub async fn import(api: &Api, account: &str, csv: &Path) -> Result<usize> {
    let bytes = std::fs::read(csv).with_context(|| format!("cannot open {}", csv.display()))?;
    let rows = crate::recipients::parse(bytes.as_slice()).with_context(|| format!("in {}", csv.display()))?;
    let mut added = 0;
    let mut refused = 0;
    for (i, row) in rows.iter().enumerate() {
        match set(api, account, &row.phone, true).await {
            Ok(_) => added += 1,
            Err(e) => {
                refused += 1;
                // Line 1 is the header.
                eprintln!("line {}: {e:#}", i + 2);
            }
        }
    }
    if refused > 0 {
        bail!("{added} numbers are on the list; {refused} rows were refused (above)");
    }
    Ok(added)
}
