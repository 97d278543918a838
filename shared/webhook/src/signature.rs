//! The signature an endpoint checks: `X-Wacamp-Signature: sha256=<hex>`, the HMAC-SHA256 of
//! `<timestamp>.<raw body>` under the deployment's webhook secret, with the Unix-seconds
//! timestamp in `X-Wacamp-Timestamp`; an endpoint refuses a timestamp too far from its clock
//! (a replayed request) and compares in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The signature header (`sha256=<hex>`).
pub const SIGNATURE_HEADER: &str = "x-wacamp-signature";
/// When the request was signed, Unix seconds.
pub const TIMESTAMP_HEADER: &str = "x-wacamp-timestamp";
/// The event's id (also in the body), for de-duplication without parsing.
pub const EVENT_ID_HEADER: &str = "x-wacamp-event-id";
/// The event's type (also in the body).
pub const EVENT_TYPE_HEADER: &str = "x-wacamp-event-type";

const ALGORITHM: &str = "sha256=";

/// Why a request's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header does not start with `sha256=` followed by hex.
    #[error("the signature header is not sha256=<hex>")]
    Malformed,
    /// The timestamp is not Unix seconds, or too far from now.
    #[error("the timestamp {0} is not within the tolerance of now")]
    Stale(String),
    /// The body, the timestamp or the secret differ from the signer's.
    #[error("the signature does not match the body")]
    Mismatch,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The signature header's value for `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!("{ALGORITHM}{}", hex::encode(mac(secret, timestamp, body).finalize().into_bytes()))
}

/// Checks a received request: `signature` and `timestamp` are its headers' values, `now` the
/// receiver's clock (Unix seconds) and `tolerance` how far apart the two may be, in seconds.
pub fn verify(
    secret: &[u8],
    signature: &str,
    timestamp: &str,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<(), SignatureError> {
    let sent: i64 = timestamp.trim().parse().map_err(|_| SignatureError::Stale(timestamp.to_owned()))?;
    if (now - sent).abs() > tolerance {
        return Err(SignatureError::Stale(timestamp.to_owned()));
    }
    let digest = signature
        .trim()
        .strip_prefix(ALGORITHM)
        .and_then(|h| hex::decode(h).ok())
        .ok_or(SignatureError::Malformed)?;
    mac(secret, sent, body).verify_slice(&digest).map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"deployment secret";

    #[test]
    fn a_signed_body_verifies_within_the_tolerance() {
        let header = sign(SECRET, 1_000, b"{\"id\":\"evt_1\"}");
        assert!(header.starts_with("sha256=") && header.len() == 7 + 64);
        assert_eq!(verify(SECRET, &header, "1000", b"{\"id\":\"evt_1\"}", 1_200, 300), Ok(()));
    }

    #[test]
    fn a_changed_body_timestamp_or_secret_is_refused() {
        let header = sign(SECRET, 1_000, b"body");
        assert_eq!(verify(SECRET, &header, "1000", b"bodY", 1_000, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify(SECRET, &header, "1001", b"body", 1_000, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify(b"other", &header, "1000", b"body", 1_000, 300), Err(SignatureError::Mismatch));
    }

    #[test]
    fn an_old_or_unreadable_timestamp_is_a_replay() {
        let header = sign(SECRET, 1_000, b"body");
        assert!(matches!(
            verify(SECRET, &header, "1000", b"body", 1_301, 300),
            Err(SignatureError::Stale(_))
        ));
        assert!(matches!(
            verify(SECRET, &header, "soon", b"body", 1_000, 300),
            Err(SignatureError::Stale(_))
        ));
    }

    #[test]
    fn a_header_without_the_algorithm_or_hex_is_malformed() {
        let header = sign(SECRET, 1_000, b"body");
        let bare = header.trim_start_matches("sha256=");
        assert_eq!(verify(SECRET, bare, "1000", b"body", 1_000, 300), Err(SignatureError::Malformed));
        assert_eq!(verify(SECRET, "sha256=zz", "1000", b"body", 1_000, 300), Err(SignatureError::Malformed));
    }
}
