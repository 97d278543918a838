//! `wacamp messages`: a campaign's rows, walked page by page through the HTTP API.

use crate::api::{Api, print_json};
use anyhow::Result;
use api_types::{MessageItem, MessagesPage};

/// Prints every row of `campaign` (in `status` only, when given), one line each (one JSON
/// object per line with `json`).
pub async fn walk(api: &Api, campaign: &str, status: Option<&str>, page_size: u32, json: bool) -> Result<()> {
    let mut cursor: Option<String> = None;
    let mut rows = 0usize;
    loop {
        // Every value is URL-safe as it is: a status word, digits, and a base64url cursor.
        let mut path = format!("/campaigns/{campaign}/messages?limit={page_size}");
        if let Some(s) = status {
            path.push_str(&format!("&status={s}"));
        }
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page: MessagesPage = api.get(&path).await?;
        for item in &page.items {
            if json {
                print_json(item)?;
            } else {
                println!("{}", line(item));
            }
            rows += 1;
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    if !json {
        eprintln!("{rows} message(s)");
    }
    Ok(())
}

fn line(item: &MessageItem) -> String {
    format!(
        "{:>6}  {:<9}  {:<16}  {:<26}  attempts {}  {:<9}  {}",
        item.row,
        item.status.as_str(),
        item.phone,
        item.code.map_or("-", |c| c.as_str()),
        item.attempts,
        match (&item.read_at, &item.delivered_at) {
            (Some(_), _) => "read",
            (None, Some(_)) => "delivered",
            (None, None) => "-",
        },
        item.sent_at.as_deref().or(item.updated_at.as_deref()).unwrap_or("")
    )
}
