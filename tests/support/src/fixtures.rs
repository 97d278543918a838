//! Campaigns for tests, built one way everywhere; a test changes the fields its case needs.

use campaign_store::{NewCampaign, NewMessage};
use domain::{AccountId, CampaignId, MessageSeq, PhoneNumber, Template};

/// A campaign of `n` recipients (`+4915112000000`, `+4915112000001`, …; no variables) of account
/// `shop`, template `hi`, with a fresh id, created 2026-12-01T00:00:00Z, not paused.
pub fn campaign(n: u32) -> NewCampaign {
    NewCampaign {
        id: CampaignId::generate(uuid::Uuid::new_v4().as_u128()),
        name: "test".into(),
        account: AccountId::parse("shop").unwrap_or_else(|e| panic!("{e}")),
        template: Template::parse("hi").unwrap_or_else(|e| panic!("{e}")),
        messages: (0..n)
            .map(|i| NewMessage {
                seq: MessageSeq(i),
                phone: PhoneNumber::parse(&format!("+4915112{i:06}"), None).map_err(|e| e.to_string()),
                vars: Default::default(),
                opted_out: false,
                media: None,
            })
            .collect(),
        created_at: "2026-12-01T00:00:00Z".into(),
        paused: None,
        webhook: None,
        send_at: None,
        attachments: Vec::new(),
    }
}
