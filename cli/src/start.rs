//! `wacamp start`: a campaign from a CSV, sent with an `Idempotency-Key` so that running the same
//! command again (after a 5xx, a timeout, a lost connection) answers with the campaign already
//! started instead of starting a second one. The key is derived from everything the command
//! sends (account, template, name, region, strictness, webhook, start time and the CSV's bytes)
//! unless one is given,
//! and printed; a different key starts the same list again as a new campaign.

use crate::api::{Api, call, print_json};
use crate::{media, recipients};
use anyhow::{Context, Result};
use api_types::{Accepted, CampaignRequest};
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
    /// Where the campaign's events are posted.
    pub webhook: Option<String>,
    /// When it starts (RFC 3339 with an offset); none starts at once.
    pub send_at: Option<String>,
    /// The key to send instead of the derived one.
    pub idempotency_key: Option<String>,
    /// A file every recipient gets, the message its caption.
    pub media: Option<PathBuf>,
}

/// The key the same command always derives: a hash of what it sends (the files it uploads by
/// their SHA-256, `media`), with each part's length first so no two different commands can run
/// together into the same bytes.
pub fn derived_key(args: &StartArgs, csv: &[u8], media: &[&str]) -> String {
    let mut hash = Sha256::new();
    let region = args.region.as_deref().unwrap_or("");
    let strict: &[u8] = if args.strict { b"strict" } else { b"" };
    let webhook = args.webhook.as_deref().unwrap_or("");
    let send_at = args.send_at.as_deref().unwrap_or("");
    for part in [
        args.account.as_bytes(),
        args.template.as_bytes(),
        args.name.as_bytes(),
        region.as_bytes(),
        strict,
        webhook.as_bytes(),
        send_at.as_bytes(),
        csv,
    ]
    .into_iter()
    .chain(media.iter().map(|m| m.as_bytes()))
    {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    format!("wacamp-start-{}", &hex::encode(hash.finalize())[..40])
}

/// Sends the start and prints the outcome (the 202 as JSON with `json`; the key goes to stderr
/// then).
pub async fn run(api: &Api, args: &StartArgs, json: bool) -> Result<()> {
    let bytes = std::fs::read(&args.csv).with_context(|| format!("cannot open {}", args.csv.display()))?;
    let mut recipients =
        recipients::parse(bytes.as_slice()).with_context(|| format!("in {}", args.csv.display()))?;
    // Files are read and checked before anything is sent; paths in the CSV are its own.
    let cells: Vec<Option<String>> = recipients.iter().map(|r| r.media.clone()).collect();
    let base = args.csv.parent().unwrap_or_else(|| std::path::Path::new("."));
    let (campaign_file, files) = media::read_all(args.media.as_deref(), &cells, base)
        .with_context(|| format!("in {}", args.csv.display()))?;
    let hashes: Vec<&str> = campaign_file.iter().chain(files.values()).map(|f| f.sha256.as_str()).collect();
    let key = args.idempotency_key.clone().unwrap_or_else(|| derived_key(args, &bytes, &hashes));
    if json {
        eprintln!("idempotency key: {key}");
    } else {
        println!("idempotency key: {key}");
    }
    let resolved = media::resolve(api, &args.account, campaign_file, files, &cells).await?;
    for (recipient, own) in recipients.iter_mut().zip(resolved.rows) {
        recipient.media = own;
    }
    let body = CampaignRequest {
        name: args.name.clone(),
        account: args.account.clone(),
        template: args.template.clone(),
        default_region: args.region.clone(),
        strict: args.strict,
        webhook_url: args.webhook.clone(),
        send_at: args.send_at.clone(),
        media: resolved.campaign,
        recipients,
    };
    let request = api.post_builder("/campaigns").header("idempotency-key", &key).json(&body);
    let accepted: Accepted = call(request).await.context(
        "the start may or may not have happened: run the same command again, the idempotency key makes that safe",
    )?;
    if json {
        print_json(&accepted)
    } else {
        print_accepted(&accepted);
        Ok(())
    }
}

fn print_accepted(accepted: &Accepted) {
    println!(
        "campaign {} accepted ({}): {} queued, {} invalid",
        accepted.campaign_id,
        accepted.status,
        accepted.queued,
        accepted.invalid.len()
    );
    if let Some(at) = &accepted.send_at {
        println!(
            "  {} messages wait for the start at {at} (`wacamp reschedule {} --at <time>` moves it, `--now` starts it now)",
            accepted.scheduled, accepted.campaign_id
        );
    }
    if accepted.handed_over > 0 {
        println!(
            "  {} more are queued by the reconciler within its schedule (the request ran short of time)",
            accepted.handed_over
        );
    }
    if accepted.replayed {
        println!(
            "  (started earlier with this idempotency key; nothing was queued again. To send the same list \
             again as a new campaign, pass --idempotency-key with a new value)"
        );
    }
    for bad in &accepted.invalid {
        println!("  row {}: {} ({})", bad.row, bad.phone, bad.code);
    }
    for w in accepted.warning.iter().chain(&accepted.notices) {
        println!("warning: {}\n  {}", w.message, w.hint);
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
            webhook: None,
            send_at: None,
            idempotency_key: None,
            media: None,
        }
    }

    #[test]
    fn the_same_command_derives_the_same_key_and_any_change_a_new_one() {
        let csv = b"phone,name\n+4915112345678,Ana\n";
        let key = derived_key(&args(), csv, &[]);
        assert_eq!(key, derived_key(&args(), csv, &[]), "repeatable");
        assert!(key.starts_with("wacamp-start-") && key.len() == 53, "{key}");
        assert_ne!(key, derived_key(&args(), b"phone,name\n+4915112345678,Bea\n", &[]), "another list");
        assert_ne!(key, derived_key(&StartArgs { template: "Hello {{name}}".into(), ..args() }, csv, &[]));
        assert_ne!(key, derived_key(&StartArgs { account: "shop2".into(), ..args() }, csv, &[]));
        assert_ne!(key, derived_key(&StartArgs { strict: true, ..args() }, csv, &[]));
        assert_ne!(
            key,
            derived_key(&StartArgs { webhook: Some("https://h.example/".into()), ..args() }, csv, &[])
        );
        assert_ne!(key, derived_key(&args(), csv, &["ab".repeat(32).as_str()]), "another file");
        // Parts cannot run together: "ab" + "c" is not "a" + "bc".
        assert_ne!(
            derived_key(&StartArgs { account: "ab".into(), template: "c".into(), ..args() }, csv, &[]),
            derived_key(&StartArgs { account: "a".into(), template: "bc".into(), ..args() }, csv, &[])
        );
    }
}
