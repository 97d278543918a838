//! Request bodies (`api_types::CampaignRequest` and the others), decoded with the path of the
//! offending field in every error.

use crate::ApiError;
use api_types::CampaignRequest;
use domain::ErrorCode;

/// Decodes a `POST /campaigns` body, naming the field at fault (`recipients[3].phone: invalid
/// type ...`).
pub fn parse(bytes: &[u8]) -> Result<CampaignRequest, ApiError> {
    parse_json(bytes)
}

/// Decodes a JSON body into `T`, naming the field at fault.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
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
