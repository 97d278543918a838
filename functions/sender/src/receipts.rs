//! Receipts after a send: while the chat of the message just sent is still open, the sender
//! watches it (within the pause it keeps between messages anyway), remembers WhatsApp's id of it
//! with its row, and records what the chat shows — of it, and of earlier messages of wacamp's in
//! that chat (a later visit: the next message to the same number).
//!
//! Receipts never change what becomes of a record: the message is SENT before any of this, and a
//! receipt that cannot be read or written now is seen again on a later visit.

use crate::Deps;
use crate::browser::{Browser, ChatReceipts, GoneBrowser, Seen};
use campaign_store::{CampaignStore, SentLink, Transition};
use domain::{QueuedMessage, Receipt, rfc3339};
use std::time::Duration;

/// How long a sent message's link to its row is kept: receipts seen later than this are not
/// recorded (the table expires the link).
pub const LINK_KEPT: Duration = Duration::from_secs(30 * 24 * 3600);

/// Watches the chat of `m`, just sent to `phone` (E.164), for up to `wait` and records its
/// receipts and those of the chat's earlier messages. Answers the browser and how many receipts
/// were recorded.
pub async fn look(
    deps: &Deps,
    browser: Box<dyn Browser>,
    m: &QueuedMessage,
    phone: &str,
    wait: Duration,
) -> (Box<dyn Browser>, u32) {
    let read = tokio::task::spawn_blocking(move || {
        let mut b = browser;
        let r = b.receipts(wait);
        (b, r)
    })
    .await;
    let (browser, shown) = match read {
        Ok((b, Ok(shown))) => (b, shown),
        Ok((b, Err(e))) => {
            tracing::debug!(campaign = %m.campaign_id, seq = %m.seq, error = %e, "could not read the chat's receipts");
            return (b, 0);
        }
        Err(e) => {
            tracing::warn!(error = %e, "the browser thread died while reading receipts");
            return (Box::new(GoneBrowser), 0);
        }
    };
    (browser, record(deps, m, phone, &shown).await)
}

/// Links the message just sent to its row and records every receipt `shown` says more of than
/// is recorded. Store failures are logged and left for a later visit.
async fn record(deps: &Deps, m: &QueuedMessage, phone: &str, shown: &ChatReceipts) -> u32 {
    let at = rfc3339(deps.clock.now());
    let mut recorded = 0;
    let mut just_sent = None;
    if let Some(seen) = &shown.just_sent {
        let link = SentLink {
            account: m.account.clone(),
            wa_id: seen.id.clone(),
            campaign: m.campaign_id.clone(),
            seq: m.seq,
            phone: phone.to_owned(),
            sent_at: deps.clock.unix(),
            receipt: None,
        };
        let expires = deps.clock.unix() + i64::try_from(LINK_KEPT.as_secs()).unwrap_or(i64::MAX);
        match deps.store.link_sent(&link, expires).await {
            Ok(()) => {
                if let Some(receipt) = seen.receipt {
                    recorded += write(deps.store.as_ref(), &link, receipt, &at).await;
                }
            }
            Err(e) => {
                tracing::warn!(campaign = %m.campaign_id, seq = %m.seq, error = %e, "could not link the sent message to its row")
            }
        }
        just_sent = Some(&seen.id);
    }
    let earlier: Vec<Seen> =
        shown.messages.iter().filter(|s| s.receipt.is_some() && Some(&s.id) != just_sent).cloned().collect();
    if earlier.is_empty() {
        return recorded;
    }
    let ids: Vec<_> = earlier.iter().map(|s| s.id.clone()).collect();
    match deps.store.sent_links(&m.account, &ids).await {
        Ok(links) => recorded += record_shown(deps.store.as_ref(), &links, &earlier, &at).await,
        Err(e) => {
            tracing::warn!(account = %m.account, error = %e, "could not look up earlier messages of the chat")
        }
    }
    recorded
}

/// Records, at `at`, every receipt a chat `shown` of a message linked in `links` that says more
/// than the link has recorded: how many moved a row. Messages that are not wacamp's (no link)
/// are left alone.
pub async fn record_shown(store: &dyn CampaignStore, links: &[SentLink], shown: &[Seen], at: &str) -> u32 {
    let mut recorded = 0;
    for link in links {
        let seen = shown.iter().find(|s| s.id == link.wa_id).and_then(|s| s.receipt);
        if let Some(receipt) = seen.filter(|r| r.advances(link.receipt)) {
            recorded += write(store, link, receipt, at).await;
        }
    }
    recorded
}

/// Records one receipt: 1 when it moved the row.
async fn write(store: &dyn CampaignStore, link: &SentLink, receipt: Receipt, at: &str) -> u32 {
    match store.record_receipt(link, receipt, at).await {
        Ok(Transition::Applied) => {
            tracing::debug!(campaign = %link.campaign, seq = %link.seq, %receipt, "receipt recorded");
            1
        }
        Ok(_) => 0,
        Err(e) => {
            tracing::warn!(campaign = %link.campaign, seq = %link.seq, %receipt, error = %e, "could not record a receipt");
            0
        }
    }
}
