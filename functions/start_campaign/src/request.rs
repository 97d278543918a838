//! The `POST /campaigns` body, decoded with the path of the offending field in every error.

use crate::ApiError;
use domain::{ErrorCode, Vars};
use serde::Deserialize;

/// The request body as sent.
#[derive(Debug, Clone, Deserialize)]
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
    /// Who gets the message.
    pub recipients: Vec<RecipientRequest>,
}

/// One recipient as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientRequest {
    /// Phone number, international or national with `default_region`.
    pub phone: String,
    /// Template variables.
    #[serde(default)]
    pub vars: Vars,
}

impl CampaignRequest {
    /// Decodes JSON, naming the field at fault (`recipients[3].phone: invalid type ...`).
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_request(ErrorCode::BadRequest, "body: a JSON object is required"));
        }
        let de = &mut serde_json::Deserializer::from_slice(bytes);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let message = if path == "." || path.is_empty() {
                format!("body: {inner}")
            } else {
                format!("{path}: {inner}")
            };
            ApiError::bad_request(ErrorCode::BadRequest, message)
        })
    }
}
