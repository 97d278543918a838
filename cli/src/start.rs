//! `wacamp start`: a campaign from a CSV, sent with an `Idempotency-Key` so that running the same
//! command again (after a 5xx, a timeout, a lost connection) answers with the campaign already
//! started instead of starting a second one. The key is derived from everything the command
//! sends (account, template, name, region, strictness and the CSV's bytes) unless one is given,
//! and printed; a different key starts the same list again as a new campaign.

use crate::recipients;
use anyhow::{Context, Result};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// What `wacamp start` was given.
pub struct StartArgs {
    /// The recipients CSV.
    pub csv: PathBuf,
    /// The sending account.
    pub account: String,
    /// The message template.
    pub template: String,
    /// The campaign's name.
    pub name: String,
    /// The region for national numbers.
    pub region: Option<String>,
    /// Refuse the whole list when any number is invalid.
    pub strict: bool,
    /// The key to send instead of the derived one.
    pub idempotency_key: Option<String>,
}

/// The key the same command always derives: a hash of what it sends, with each part's length
/// first so no two different commands can run together into the same bytes.
pub fn derived_key(args: &StartArgs, csv: &[u8]) -> String {
    let mut hash = Sha256::new();
    let region = args.region.as_deref().unwrap_or("");
    let strict: &[u8] = if args.strict { b"strict" } else { b"" };
    for part in [
        args.account.as_bytes(),
        args.template.as_bytes(),
        args.name.as_bytes(),
        region.as_bytes(),
        strict,
        csv,
    ] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    format!("wacamp-start-{}", &hex::encode(hash.finalize())[..40])
}

/// Sends the start and prints the outcome.
pub async fn run(http: &reqwest::Client, base: &str, args: &StartArgs) -> Result<()> {
    let bytes = std::fs::read(&args.csv).with_context(|| format!("cannot open {}", args.csv.display()))?;
    let recipients =
        recipients::parse(bytes.as_slice()).with_context(|| format!("in {}", args.csv.display()))?;
    let key = args.idempotency_key.clone().unwrap_or_else(|| derived_key(args, &bytes));
    println!("idempotency key: {key}");
    let body = json!({
        "name": args.name, "account": args.account, "template": args.template,
        "default_region": args.region, "strict": args.strict, "recipients": recipients,
    });
    let request = http.post(format!("{base}/campaigns")).header("idempotency-key", &key).json(&body);
    let accepted = crate::call(request).await.context(
        "the start may or may not have happened: run the same command again, the idempotency key makes that safe",
    )?;
    print_accepted(&accepted);
    Ok(())
}

fn print_accepted(accepted: &Value) {
    println!(
        "campaign {} accepted ({}): {} queued, {} invalid",
        accepted["campaign_id"].as_str().unwrap_or("?"),
        accepted["status"].as_str().unwrap_or("?"),
        accepted["queued"],
        accepted["invalid"].as_array().map_or(0, Vec::len)
    );
    if accepted["replayed"] == true {
        println!(
            "  (started earlier with this idempotency key; nothing was queued again. To send the same list \
             again as a new campaign, pass --idempotency-key with a new value)"
        );
    }
    for bad in accepted["invalid"].as_array().into_iter().flatten() {
        println!(
            "  row {}: {} ({})",
            bad["row"],
            bad["phone"].as_str().unwrap_or(""),
            bad["code"].as_str().unwrap_or("")
        );
    }
    if let Some(w) = accepted.get("warning") {
        println!("warning: {}\n  {}", w["message"].as_str().unwrap_or(""), w["hint"].as_str().unwrap_or(""));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> StartArgs {
        StartArgs {
            csv: "list.csv".into(),
            account: "shop".into(),
            template: "Hi {{name}}".into(),
            name: "spring".into(),
            region: Some("DE".into()),
            strict: false,
            idempotency_key: None,
        }
    }

    #[test]
    fn the_same_command_derives_the_same_key_and_any_change_a_new_one() {
        let csv = b"phone,name\n+4915112345678,Ana\n";
        let key = derived_key(&args(), csv);
        assert_eq!(key, derived_key(&args(), csv), "repeatable");
        assert!(key.starts_with("wacamp-start-") && key.len() == 53, "{key}");
        assert_ne!(key, derived_key(&args(), b"phone,name\n+4915112345678,Bea\n"), "another list");
        assert_ne!(key, derived_key(&StartArgs { template: "Hello {{name}}".into(), ..args() }, csv));
        assert_ne!(key, derived_key(&StartArgs { account: "shop2".into(), ..args() }, csv));
        assert_ne!(key, derived_key(&StartArgs { strict: true, ..args() }, csv));
        // Parts cannot run together: "ab" + "c" is not "a" + "bc".
        assert_ne!(
            derived_key(&StartArgs { account: "ab".into(), template: "c".into(), ..args() }, csv),
            derived_key(&StartArgs { account: "a".into(), template: "bc".into(), ..args() }, csv)
        );
    }
}
