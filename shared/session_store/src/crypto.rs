//! Checksums and optional AES-256-GCM sealing of stored archives. Pure: bytes in, bytes out.
//!
//! Sealed layout: `WCP1` magic, a random 96-bit nonce, then the ciphertext with its 16-byte tag.
//! The account and generation id are the associated data, so a sealed object copied to another
//! account's or generation's key fails its tag instead of restoring someone else's login.

use crate::SessionStoreError;
use aes_gcm::aead::{Aead, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, KeyInit};
use base64::Engine;
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 4] = b"WCP1";
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// The environment variable holding the base64 of the 32-byte key.
pub const KEY_ENV: &str = "PROFILE_ENCRYPTION_KEY";

/// The hex SHA-256 of `bytes`; what generation metadata records for the stored object.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A 32-byte AES-256-GCM key for profile archives. `Debug` never prints it.
#[derive(Clone)]
pub struct ProfileKey([u8; 32]);

impl std::fmt::Debug for ProfileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProfileKey(<redacted>)")
    }
}

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not valid base64.
    #[error("{KEY_ENV} is not valid base64")]
    NotBase64,
    /// Decoded to the wrong length.
    #[error("{KEY_ENV} must decode to 32 bytes, got {0}")]
    WrongLength(usize),
}

impl ProfileKey {
    /// Wraps raw key bytes (e.g. read from Secrets Manager as binary).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Parses the standard base64 form used in configuration.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let raw =
            base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|_| KeyError::NotBase64)?;
        let bytes: [u8; 32] = raw.as_slice().try_into().map_err(|_| KeyError::WrongLength(raw.len()))?;
        Ok(Self(bytes))
    }

    /// Reads [`KEY_ENV`]; `Ok(None)` when unset or empty (archives are then stored unencrypted).
    pub fn from_env() -> Result<Option<Self>, KeyError> {
        match std::env::var(KEY_ENV) {
            Ok(v) if !v.trim().is_empty() => Self::from_base64(&v).map(Some),
            _ => Ok(None),
        }
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&self.0.into())
    }

    /// Encrypts `plaintext` bound to `aad` under a fresh random nonce.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, SessionStoreError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ct = self
            .cipher()
            .encrypt(&nonce, Payload { msg: plaintext, aad })
            .map_err(|_| SessionStoreError::Corrupt("encryption failed".into()))?;
        let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + ct.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts what [`ProfileKey::seal`] produced; a wrong key, wrong `aad` or any flipped
    /// byte is `Corrupt`.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, SessionStoreError> {
        let body = sealed
            .strip_prefix(MAGIC.as_slice())
            .filter(|b| b.len() >= NONCE_LEN + TAG_LEN)
            .ok_or_else(|| SessionStoreError::Corrupt("not a sealed profile archive".into()))?;
        let (nonce, ct) = body.split_at(NONCE_LEN);
        self.cipher().decrypt(nonce.into(), Payload { msg: ct, aad }).map_err(|_| {
            SessionStoreError::Corrupt("GCM tag check failed (wrong key, or the object was altered)".into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bytes_open_with_the_same_key_and_aad_only() {
        let key = ProfileKey::from_bytes([7; 32]);
        let sealed = key.seal(b"secret login", b"acct/gen").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(key.open(&sealed, b"acct/gen").unwrap(), b"secret login");
        assert!(matches!(key.open(&sealed, b"other/gen"), Err(SessionStoreError::Corrupt(_))));
        assert!(matches!(
            ProfileKey::from_bytes([8; 32]).open(&sealed, b"acct/gen"),
            Err(SessionStoreError::Corrupt(_))
        ));
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(key.open(&flipped, b"acct/gen").is_err());
        assert!(key.open(b"WCP1", b"acct/gen").is_err());
    }

    #[test]
    fn keys_parse_from_base64_of_exactly_32_bytes() {
        let text = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        assert!(ProfileKey::from_base64(&text).is_ok());
        assert_eq!(ProfileKey::from_base64("!!").unwrap_err(), KeyError::NotBase64);
        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 16]);
        assert_eq!(ProfileKey::from_base64(&short).unwrap_err(), KeyError::WrongLength(16));
        assert_eq!(format!("{:?}", ProfileKey::from_bytes([1; 32])), "ProfileKey(<redacted>)");
    }

    #[test]
    fn sha256_is_lower_hex() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
