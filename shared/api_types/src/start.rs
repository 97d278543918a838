//! `POST /campaigns`: the request and its 202.

use crate::Problem;
use domain::{CampaignId, CampaignStatus, ErrorCode, SessionHealth, Vars};
use serde::{Deserialize, Serialize};

/// The request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignRequest {
    /// Operator's name for the campaign.
    pub name: String,
    /// Sending account.
    pub account: String,
    /// Message with `{{variable}}` placeholders.
    pub template: String,
    /// ISO region for national numbers (e.g. "DE").
    #[serde(default)]
    pub default_region: Option<String>,
    /// Refuse the whole request when any phone is invalid.
    #[serde(default)]
    pub strict: bool,
    /// Where the campaign's events are posted (absolute https:// or http:// URL); none uses
    /// the deployment's default, if it has one.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// When to start (RFC 3339 with an offset, in the future, at most a year ahead): until then
    /// the campaign is SCHEDULED and nothing is queued or sent. None starts at once.
    #[serde(default)]
    pub send_at: Option<String>,
    /// A file every recipient gets with the message as its caption (a media id from
    /// `POST /accounts/{account}/media`); a recipient's own `media` wins.
    #[serde(default)]
    pub media: Option<String>,
    /// Who gets the message.
    pub recipients: Vec<RecipientRequest>,
}

/// One recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientRequest {
    /// Phone number, international or national with `default_region`.
    pub phone: String,
    /// Template variables.
    #[serde(default)]
    pub vars: Vars,
    /// This recipient's own file (a media id), instead of the campaign's.
    #[serde(default)]
    pub media: Option<String>,
}

/// The 202: what was accepted, what was refused, and a warning when the session is not ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accepted {
    /// The new (or, for a replayed request, the earlier) campaign.
    pub campaign_id: CampaignId,
    /// Where it stands.
    pub status: CampaignStatus,
    /// Every recipient accepted, invalid ones included.
    pub total: u64,
    /// Queued for sending.
    pub queued: u64,
    /// Sendable rows the request had no time left to queue: the reconciler queues them on its
    /// next run (the sender is busy with the queued ones meanwhile).
    #[serde(default)]
    pub handed_over: u64,
    /// Accepted paused (the session is known expired).
    pub paused: u64,
    /// Held until the start time (a scheduled campaign).
    #[serde(default)]
    pub scheduled: u64,
    /// When a scheduled campaign starts, RFC 3339 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_at: Option<String>,
    /// Rows refused for their number (INVALID_PHONE) or because it is on the account's opt-out
    /// list (OPTED_OUT), recorded FAILED.
    pub invalid: Vec<InvalidRow>,
    /// The account's session as known at the start.
    pub session: SessionHealth,
    /// The answer repeats an earlier request with the same idempotency key; nothing was queued.
    pub replayed: bool,
    /// Present when the session is not ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<Problem>,
    /// What the operator should know about the campaign itself (IDENTICAL_TEXT).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Problem>,
}

/// A row refused for its number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidRow {
    /// Row number.
    pub row: u32,
    /// The number as given.
    pub phone: String,
    /// Why (INVALID_PHONE or OPTED_OUT).
    pub code: ErrorCode,
}

/// The body of `POST /accounts/{account}/media`: the file about to be uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaUploadRequest {
    /// Its name (a document is shown with it).
    pub file_name: String,
    /// `image/jpeg`, `image/png` or `application/pdf`.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// The SHA-256 of its bytes (64 hex digits), optional: given, the upload must carry exactly
    /// those bytes, and the same file gets the same media id each time (a retried start that
    /// uploads it again names the same file).
    #[serde(default)]
    pub sha256: Option<String>,
}

/// The 201 of `POST /accounts/{account}/media`: the media id and where to upload the bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaUpload {
    /// Name it in `media` (or a recipient's `media`) of `POST /campaigns`.
    pub media_id: String,
    /// `PUT` the file's bytes here.
    pub upload_url: String,
    /// The headers that `PUT` must carry, exactly.
    pub upload_headers: std::collections::BTreeMap<String, String>,
    /// The URL works until then, RFC 3339; the upload is kept a day.
    pub expires_at: String,
}
