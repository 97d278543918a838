//! The `Idempotency-Key` header: a retried `POST /campaigns` with the same key (and body) answers
//! with the campaign the first request created and queues nothing twice; a first request that
//! died half-way is completed by the retry once its claim has lapsed.

use crate::ApiError;
use campaign_store::IdempotencyClaim;
use domain::{CampaignId, ErrorCode};
use lambda_http::http::HeaderMap;
use sha2::{Digest, Sha256};

/// The header's name.
pub const HEADER: &str = "idempotency-key";
/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 255;
/// How long a request owns its key before a retry may take over (longer than the function's
/// timeout, so a live request is never overtaken).
pub const CLAIM_SECONDS: i64 = 60;
/// How long a key is remembered.
pub const REMEMBER_SECONDS: i64 = 24 * 3600;

/// The key, if the request carries one; refuses an empty, over-long or non-printable key.
pub fn key_from(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(HEADER) else { return Ok(None) };
    let bad = |why: &str| ApiError::bad_request(ErrorCode::BadRequest, format!("Idempotency-Key: {why}"));
    let key = value.to_str().map_err(|_| bad("must be printable ASCII"))?;
    if key.is_empty() || key.len() > MAX_KEY_LEN {
        return Err(bad(&format!("must be 1 to {MAX_KEY_LEN} characters")));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad("must be printable ASCII without spaces"));
    }
    Ok(Some(key.to_owned()))
}

/// The claim for `key` with this body: the key and the body are stored as hashes only.
pub fn claim(key: &str, body: &[u8], proposed: &CampaignId, now: &str) -> Result<IdempotencyClaim, ApiError> {
    let now = time::OffsetDateTime::parse(now, &time::format_description::well_known::Rfc3339)
        .map_err(|e| ApiError::internal("clock", &e))?
        .unix_timestamp();
    Ok(IdempotencyClaim {
        key_hash: hex::encode(Sha256::digest(key.as_bytes())),
        fingerprint: fingerprint(body),
        campaign_id: proposed.clone(),
        now,
        until: now + CLAIM_SECONDS,
        expires_at: now + REMEMBER_SECONDS,
    })
}

/// SHA-256 of the body as canonical JSON (object keys sorted, no insignificant whitespace), so
/// the same campaign re-serialised by a client's retry still matches.
pub fn fingerprint(body: &[u8]) -> String {
    let canonical = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => canonical(&v),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

fn canonical(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(&String, &serde_json::Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", serde_json::Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        serde_json::Value::Array(items) => {
            format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(","))
        }
        other => other.to_string(),
    }
}

/// A key marked done whose campaign row is gone: an inconsistency worth a 500 and a log line.
#[derive(Debug, thiserror::Error)]
#[error("the idempotency record names a campaign that does not exist")]
pub struct MissingCampaign;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_same_body_with_keys_in_another_order_has_the_same_fingerprint() {
        let a = fingerprint(br#"{"name":"x","recipients":[{"phone":"1","vars":{"a":"1","b":"2"}}]}"#);
        let b =
            fingerprint(br#"{ "recipients": [ {"vars": {"b":"2","a":"1"}, "phone":"1"} ], "name": "x" }"#);
        assert_eq!(a, b);
        assert_ne!(a, fingerprint(br#"{"name":"y","recipients":[{"phone":"1","vars":{"a":"1","b":"2"}}]}"#));
    }

    #[test]
    fn a_key_with_spaces_or_too_long_is_refused_naming_the_header() {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, "has space".parse().unwrap());
        assert!(key_from(&headers).unwrap_err().message.starts_with("Idempotency-Key:"));
        headers.insert(HEADER, "k".repeat(MAX_KEY_LEN + 1).parse().unwrap());
        assert!(key_from(&headers).is_err());
        headers.insert(HEADER, "order-2026-11-29-0001".parse().unwrap());
        assert_eq!(key_from(&headers).unwrap().as_deref(), Some("order-2026-11-29-0001"));
    }
}
