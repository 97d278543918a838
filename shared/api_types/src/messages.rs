//! `GET /campaigns/{id}/messages`: a page of a campaign's rows.

use domain::{CampaignId, ErrorCode, MessageStatus};
use serde::{Deserialize, Serialize};

/// One page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagesPage {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// The status asked for, if any.
    pub status_filter: Option<MessageStatus>,
    /// Rows per page.
    pub limit: u32,
    /// The rows, in row order.
    pub items: Vec<MessageItem>,
    /// Pass as `cursor` (with the same `status`) for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// One row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageItem {
    /// Row number (1-based, request order).
    pub row: u32,
    /// The number in E.164, or as given when it was refused.
    pub phone: String,
    /// Where it stands.
    pub status: MessageStatus,
    /// Why it failed or paused.
    pub code: Option<ErrorCode>,
    /// The code's sentence.
    pub reason: Option<String>,
    /// Claims so far.
    pub attempts: u32,
    /// RFC 3339.
    pub updated_at: Option<String>,
    /// When WhatsApp took it, RFC 3339.
    pub sent_at: Option<String>,
    /// When it was seen delivered to the recipient's phone, RFC 3339.
    #[serde(default)]
    pub delivered_at: Option<String>,
    /// When it was seen read, RFC 3339.
    #[serde(default)]
    pub read_at: Option<String>,
    /// While QUEUED outside its recipient's sending window: when the window opens, RFC 3339.
    #[serde(default)]
    pub waiting_until: Option<String>,
    /// The file the message carries (one of the campaign's `media`), by its id.
    #[serde(default)]
    pub media_id: Option<String>,
}
