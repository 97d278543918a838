//! The keeper's sweep for receipts: with the session open anyway, it looks at the chats of
//! recent messages not yet seen read (at most [`MAX_CHATS`], sent in the last
//! [`SWEEP_WINDOW`]) and records what they show, so receipts that came after the sender moved
//! on are not left to the next message to the same number.

use crate::Deps;
use domain::{AccountId, PhoneNumber, rfc3339};
use sender::browser::{Browser, GoneBrowser};
use std::time::Duration;

/// How far back the sweep looks.
pub const SWEEP_WINDOW: Duration = Duration::from_secs(3 * 24 * 3600);
/// The most chats one sweep opens.
pub const MAX_CHATS: usize = 20;
/// The most links one sweep reads (several messages may share a chat).
const MAX_LINKS: usize = 200;

/// Opens the chats of `account`'s recent messages without a read receipt and records what they
/// show. Answers the browser and how many receipts were recorded.
pub async fn sweep(deps: &Deps, browser: Box<dyn Browser>, account: &AccountId) -> (Box<dyn Browser>, u32) {
    let since = deps.clock.unix() - i64::try_from(SWEEP_WINDOW.as_secs()).unwrap_or(i64::MAX);
    let links = match deps.control.store.unread_links(account, since, MAX_LINKS).await {
        Ok(links) => links,
        Err(e) => {
            tracing::warn!(%account, error = %e, "could not list the messages to sweep for receipts");
            return (browser, 0);
        }
    };
    let mut phones: Vec<&str> = Vec::new();
    for link in &links {
        if !phones.contains(&link.phone.as_str()) && phones.len() < MAX_CHATS {
            phones.push(&link.phone);
        }
    }
    let mut browser = browser;
    let mut recorded = 0;
    for phone in phones {
        let Ok(to) = PhoneNumber::parse(phone, None) else { continue };
        let looked = tokio::task::spawn_blocking(move || {
            let mut b = browser;
            let r = b.chat_receipts(&to);
            (b, r)
        })
        .await;
        let shown = match looked {
            Ok((b, Ok(shown))) => {
                browser = b;
                shown
            }
            Ok((b, Err(e))) => {
                tracing::warn!(%account, error = %e, "the receipt sweep stopped: a chat could not be read");
                return (b, recorded);
            }
            Err(e) => {
                tracing::warn!(%account, error = %e, "the browser thread died during the receipt sweep");
                return (Box::new(GoneBrowser), recorded);
            }
        };
        let at = rfc3339(deps.clock.now());
        recorded +=
            sender::receipts::record_shown(deps.control.store.as_ref(), &links, &shown.messages, &at).await;
    }
    (browser, recorded)
}
