//! `wacamp campaigns --account A`: the account's campaigns, newest first, walking the pages.

use crate::api::{Api, print_json};
use anyhow::Result;
use api_types::CampaignsPage;

/// Prints up to `max` campaigns of `account` (every one with `None`).
pub async fn list(api: &Api, account: &str, max: Option<usize>, json: bool) -> Result<()> {
    let mut cursor: Option<String> = None;
    let mut shown = 0usize;
    loop {
        // The account is checked by the API; it is URL-safe when valid, and refused otherwise.
        let mut path = format!("/campaigns?account={account}&limit=100");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page: CampaignsPage = api.get(&path).await?;
        for c in &page.items {
            if max.is_some_and(|m| shown >= m) {
                return Ok(());
            }
            shown += 1;
            if json {
                print_json(c)?;
            } else {
                println!(
                    "{}  {:<9}  sent {:>5}  failed {:>4}  of {:>5}  {}  {}",
                    c.campaign_id,
                    c.status,
                    c.counts.sent,
                    c.counts.failed,
                    c.counts.total,
                    c.created_at,
                    c.name
                );
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    if !json {
        eprintln!("{shown} campaign(s)");
    }
    Ok(())
}
