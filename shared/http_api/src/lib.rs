//! What both HTTP functions share: JSON responses, the `{code, message, hint}` error body with
//! the stable codes, path routing, and API-key authentication.
//!
//! The key itself is never configured: only its SHA-256 (hex) is, in `API_KEY_SHA256` (in AWS,
//! from the template's `ApiKeySha256` parameter, which a deployment fills from Secrets Manager).
//! A request's `x-api-key` is hashed and compared in constant time.

pub mod routes;

use api_types::Problem;
use domain::ErrorCode;
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// An API failure: a status, a stable code, and a message naming the field or row at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: ErrorCode,
    /// What is wrong (for 5xx: the generic sentence, never internals).
    pub message: String,
}

impl ApiError {
    /// An error with `code`, answered with the code's HTTP status from the catalogue.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self { status, code, message: message.into() }
    }

    /// An input problem (a 4xx from the catalogue, 400 for the input codes) naming the problem.
    pub fn bad_request(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::new(code, message)
    }

    /// The 404 for a campaign id that names no campaign.
    pub fn unknown_campaign(id: &domain::CampaignId) -> Self {
        Self::not_found(format!("campaign '{id}' does not exist"))
    }

    /// A 404 for a missing resource.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    /// A 500 that logs `err` once and tells the caller nothing about it.
    pub fn internal(context: &str, err: &dyn std::error::Error) -> Self {
        tracing::error!(error = %err, context, "request failed");
        Self::new(ErrorCode::Internal, ErrorCode::Internal.sentence())
    }

    /// The JSON error response.
    pub fn into_response(self) -> Response<Body> {
        json_response(self.status, &Problem::new(self.code, self.message, "<account>", "<campaign>"))
    }
}

/// An error response whose hint names the exact command for this case (e.g. the account to set
/// up), where the code's generic hint would be too vague.
pub fn error_with_hint(status: StatusCode, code: ErrorCode, message: &str, hint: &str) -> Response<Body> {
    json_response(status, &Problem { code, message: message.to_owned(), hint: hint.to_owned() })
}

/// A JSON response with `status` (one of the `api_types` bodies).
pub fn json_response(status: StatusCode, body: &impl serde::Serialize) -> Response<Body> {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned());
    let mut resp = Response::new(Body::Text(text));
    *resp.status_mut() = status;
    resp.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    resp
}

/// The account id of a path segment, or the 400 that names it.
pub fn account_id(segment: &str) -> Result<domain::AccountId, ApiError> {
    domain::AccountId::parse(segment)
        .map_err(|e| ApiError::bad_request(ErrorCode::BadRequest, format!("account: {e}")))
}

/// The campaign id of a path segment, or the 400 that names it.
pub fn campaign_id(segment: &str) -> Result<domain::CampaignId, ApiError> {
    domain::CampaignId::parse(segment)
        .map_err(|e| ApiError::bad_request(ErrorCode::BadRequest, format!("id: {e}")))
}

/// A page size from the query (`limit`), `default` when absent, or the 400 that names it.
pub fn page_limit(raw: Option<&str>, default: u32, max: u32) -> Result<u32, ApiError> {
    let Some(raw) = raw else { return Ok(default) };
    raw.parse::<u32>().ok().filter(|l| (1..=max).contains(l)).ok_or_else(|| {
        ApiError::bad_request(
            ErrorCode::BadRequest,
            format!("limit: '{raw}' is not a whole number from 1 to {max}"),
        )
    })
}

/// An optional query parameter `name` read by `parse`, or the 400 naming it with `parse`'s reason.
pub fn parsed_param<T>(
    name: &str,
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, ApiError> {
    raw.map(|raw| {
        parse(raw).map_err(|why| ApiError::bad_request(ErrorCode::BadRequest, format!("{name}: {why}")))
    })
    .transpose()
}

/// The request path split into its non-empty segments (`/campaigns/c-1` → `["campaigns", "c-1"]`).
pub fn segments(req: &Request) -> Vec<String> {
    req.uri().path().split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// The configured API key, as its SHA-256.
#[derive(Clone)]
pub struct ApiKey {
    sha256: [u8; 32],
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<sha256>)")
    }
}

/// The configured hash is not 64 hex characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadKeyHash;

impl std::fmt::Display for BadKeyHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("expected the SHA-256 of the API key as 64 hex characters")
    }
}

impl std::str::FromStr for ApiKey {
    type Err = BadKeyHash;
    fn from_str(hex_sha256: &str) -> Result<Self, BadKeyHash> {
        let bytes = hex::decode(hex_sha256.trim()).map_err(|_| BadKeyHash)?;
        let sha256: [u8; 32] = bytes.try_into().map_err(|_| BadKeyHash)?;
        Ok(Self { sha256 })
    }
}

impl ApiKey {
    /// The key whose hash is configured, for tests and the CLI's `hash-key` helper.
    pub fn for_secret(secret: &str) -> Self {
        Self { sha256: Sha256::digest(secret.as_bytes()).into() }
    }

    /// The hex SHA-256 to put in configuration.
    pub fn hex(&self) -> String {
        hex::encode(self.sha256)
    }

    /// Refuses a request without the right `x-api-key` (401, JSON body).
    pub fn check(&self, req: &Request) -> Result<(), ApiError> {
        let presented = req.headers().get("x-api-key").map(HeaderValue::as_bytes).unwrap_or_default();
        let digest: [u8; 32] = Sha256::digest(presented).into();
        if presented.is_empty() || !bool::from(digest.ct_eq(&self.sha256)) {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                if presented.is_empty() {
                    "header x-api-key is missing"
                } else {
                    "header x-api-key is not a valid key"
                },
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(key: Option<&str>) -> Request {
        let mut b = lambda_http::http::Request::builder().uri("/campaigns");
        if let Some(k) = key {
            b = b.header("x-api-key", k);
        }
        b.body(Body::Empty).unwrap()
    }

    #[test]
    fn only_the_configured_key_passes() {
        let key: ApiKey = ApiKey::for_secret("s3cret").hex().parse().unwrap();
        assert!(key.check(&request(Some("s3cret"))).is_ok());
        let wrong = key.check(&request(Some("guess"))).unwrap_err();
        assert_eq!((wrong.status, wrong.code), (StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized));
        assert_eq!(key.check(&request(None)).unwrap_err().message, "header x-api-key is missing");
    }

    #[test]
    fn a_malformed_hash_is_refused_at_configuration_time() {
        assert_eq!("abc".parse::<ApiKey>().unwrap_err(), BadKeyHash);
        assert!(format!("{:?}", ApiKey::for_secret("x")).contains("<sha256>"));
    }
}
