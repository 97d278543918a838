//! `wacamp window set|show|clear`: an account's sending window through the API
//! (`/accounts/{account}/sending-window`). The window is read in each recipient's own time zone;
//! `--time-zone` is the account's, used for numbers whose country spans several zones.

use crate::api::{Api, call, print_json};
use anyhow::{Context, Result};
use api_types::{SendingWindowBody, SendingWindowRequest};
use clap::Subcommand;

/// `wacamp window …`.
#[derive(Subcommand)]
pub enum WindowCommand {
    /// Set (or replace) the hours messages may reach a recipient, e.g. `09:00-20:00`.
    Set {
        /// The account.
        #[arg(long)]
        account: String,
        /// `HH:MM-HH:MM` in the recipient's local time (the end may be 24:00).
        hours: String,
        /// The weekdays it opens on, e.g. `mon-fri` or `mon,wed,sat-sun` (default: every day).
        #[arg(long)]
        days: Option<String>,
        /// The account's IANA time zone (e.g. Europe/Berlin), for numbers whose country spans
        /// several zones.
        #[arg(long)]
        time_zone: String,
    },
    /// Show the account's window.
    Show {
        /// The account.
        #[arg(long)]
        account: String,
    },
    /// Remove the window: messages go at any hour (held ones go at the reconciler's next run).
    Clear {
        /// The account.
        #[arg(long)]
        account: String,
    },
}

fn path(account: &str) -> Result<String> {
    let account = domain::AccountId::parse(account).with_context(|| format!("--account '{account}'"))?;
    Ok(format!("/accounts/{account}/sending-window"))
}

/// The request of `wacamp window set`: `hours` split at its `-`, checked as the API checks it
/// (so a typo is named before anything is sent).
pub fn request(hours: &str, days: Option<&str>, time_zone: &str) -> Result<SendingWindowRequest> {
    let (from, to) = hours
        .split_once('-')
        .with_context(|| format!("hours '{hours}': write them as HH:MM-HH:MM, e.g. 09:00-20:00"))?;
    // `mon-fri`, `Mon,Wed,Sat`: the API takes one lower-case item per name or range.
    let days: Vec<String> = days
        .map(|d| d.split(',').map(|p| p.trim().to_ascii_lowercase()).filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    domain::SendingWindow::parse(from.trim(), to.trim(), &days, time_zone.trim())?;
    Ok(SendingWindowRequest {
        from: from.trim().to_owned(),
        to: to.trim().to_owned(),
        days,
        time_zone: time_zone.trim().to_owned(),
    })
}

/// The window as one line: `09:00–20:00 mon..fri (Europe/Berlin), set 2027-01-15T08:00:00Z`.
fn line(w: &SendingWindowBody) -> String {
    let days = if w.days.len() == 7 { "every day".to_owned() } else { w.days.join(",") };
    format!(
        "account {} sends {}–{} {days}, in each recipient's local time (account zone {}); set {}",
        w.account, w.from, w.to, w.time_zone, w.set_at
    )
}

/// Runs one `window` command.
pub async fn run(api: &Api, command: &WindowCommand, json: bool) -> Result<()> {
    match command {
        WindowCommand::Set { account, hours, days, time_zone } => {
            let body = request(hours, days.as_deref(), time_zone)?;
            let window: SendingWindowBody =
                call(api.http().put(api.url(&path(account)?)?).json(&body)).await?;
            if json { print_json(&window)? } else { println!("{}", line(&window)) }
        }
        WindowCommand::Show { account } => {
            let window: SendingWindowBody = api.get(&path(account)?).await?;
            if json { print_json(&window)? } else { println!("{}", line(&window)) }
        }
        WindowCommand::Clear { account } => {
            let resp = api
                .http()
                .delete(api.url(&path(account)?)?)
                .send()
                .await
                .context("the API did not answer")?;
            if !resp.status().is_success() {
                let status = resp.status();
                let bytes = resp.bytes().await.unwrap_or_default();
                return Err(crate::api::problem(status, &bytes));
            }
            println!("account {account} now sends at any hour");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_split_at_the_dash_and_a_bad_window_is_named_before_anything_is_sent() {
        let r =
            request("09:00-20:00", Some("Mon-Fri, sat"), "Europe/Berlin").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((r.from.as_str(), r.to.as_str()), ("09:00", "20:00"));
        assert_eq!(r.days, ["mon-fri", "sat"]);
        let err =
            |h: &str, tz: &str| request(h, None, tz).err().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(err("0900", "UTC").starts_with("hours '0900'"), "{}", err("0900", "UTC"));
        assert!(err("20:00-09:00", "UTC").starts_with("to: "));
        assert!(err("09:00-20:00", "Nowhere/Land").starts_with("time_zone: "));
    }
}
