//! `wacamp messages`: a campaign's rows, walked page by page through the HTTP API.

use anyhow::Result;
use serde_json::Value;

/// Prints every row of `campaign` (in `status` only, when given), one line each.
pub async fn walk(
    http: &reqwest::Client,
    base: &str,
    campaign: &str,
    status: Option<&str>,
    page_size: u32,
) -> Result<()> {
    let mut cursor: Option<String> = None;
    let mut rows = 0usize;
    loop {
        // Every value is URL-safe as it is: a status word, digits, and a base64url cursor.
        let mut url = format!("{base}/campaigns/{campaign}/messages?limit={page_size}");
        if let Some(s) = status {
            url.push_str(&format!("&status={s}"));
        }
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page = crate::call(http.get(url)).await?;
        for item in page["items"].as_array().into_iter().flatten() {
            println!("{}", line(item));
            rows += 1;
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    eprintln!("{rows} message(s)");
    Ok(())
}

fn line(item: &Value) -> String {
    let text = |k: &str| item[k].as_str().unwrap_or("-").to_owned();
    format!(
        "{:>6}  {:<9}  {:<16}  {:<26}  attempts {}  {}",
        item["row"].as_u64().map_or_else(|| "?".to_owned(), |r| r.to_string()),
        text("status"),
        text("phone"),
        text("code"),
        item["attempts"].as_u64().unwrap_or(0),
        item["sent_at"].as_str().or(item["updated_at"].as_str()).unwrap_or("")
    )
}
