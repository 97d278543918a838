//! Checksums and optional AES-256-GCM sealing of stored archives. Pure: bytes in, bytes out.
//!
//! Sealed layout (`WCP2`): the magic, the sealing key's 8-byte id, a random 96-bit nonce, then
//! the ciphertext with its 16-byte tag. The key id is a fingerprint of the key (the first 8
//! bytes of SHA-256 over a domain label and the key), so no id has to be configured and none
//! reveals the key. The account, the generation id and the key id are the associated data, so a
//! sealed object copied to another account's or generation's key fails its tag instead of
//! restoring someone else's login. Objects of the first layout (`WCP1`, no key id) still open
//! with whichever configured key sealed them.
//!
//! Rotation: configure the new key first and keep the older ones after it
//! (`PROFILE_ENCRYPTION_KEY=<new>,<old>`): new generations are sealed with the first, and every
//! generation sealed with any listed key still opens. A generation whose key is not listed is a
//! configuration error naming the key id, never damage.

use crate::SessionStoreError;
use aes_gcm::aead::{Aead, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, KeyInit};
use base64::Engine;
use sha2::{Digest, Sha256};

const MAGIC_V1: &[u8; 4] = b"WCP1";
const MAGIC: &[u8; 4] = b"WCP2";
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// The environment variable holding the base64 of the 32-byte key, or several separated by
/// commas (the first seals; all open).
pub const KEY_ENV: &str = "PROFILE_ENCRYPTION_KEY";

/// The hex SHA-256 of `bytes`; what generation metadata records for the stored object.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// AES-256-GCM keys for profile archives: the first seals, every one opens what it sealed.
/// `Debug` never prints key material, only key ids.
#[derive(Clone)]
pub struct ProfileKey {
    keys: Vec<([u8; KEY_ID_LEN], [u8; 32])>,
}

impl std::fmt::Debug for ProfileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self.keys.iter().map(|(id, _)| hex::encode(id)).collect();
        write!(f, "ProfileKey(<redacted>, ids {})", ids.join(","))
    }
}

/// Why a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No key at all: empty, or only commas and spaces.
    #[error("{KEY_ENV} holds no key: give one or more base64 keys of 32 bytes, separated by commas")]
    Empty,
    /// The key at this position (1-based) is not valid base64.
    #[error("{KEY_ENV}: key {0} is not valid base64")]
    NotBase64(usize),
    /// The key at this position (1-based) decoded to this many bytes, not 32.
    #[error("{KEY_ENV}: key {0} must decode to 32 bytes, got {1}")]
    WrongLength(usize, usize),
}

/// Why sealed bytes did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Not a sealed profile archive at all.
    #[error("not a sealed profile archive")]
    Format,
    /// Sealed with a key that is not configured (its id, hex).
    #[error("sealed with key {0}, which is not among the configured keys")]
    UnknownKey(String),
    /// The tag check failed: another key, or altered bytes.
    #[error("GCM tag check failed (wrong key, or the object was altered)")]
    Tag,
}

fn key_id(key: &[u8; 32]) -> [u8; KEY_ID_LEN] {
    let digest = Sha256::new().chain_update(b"wacamp-profile-key-id\0").chain_update(key).finalize();
    let mut id = [0; KEY_ID_LEN];
    id.copy_from_slice(&digest[..KEY_ID_LEN]);
    id
}

impl ProfileKey {
    /// Wraps raw key bytes (e.g. read from Secrets Manager as binary).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self { keys: vec![(key_id(&bytes), bytes)] }
    }

    /// This key seals from now on; the ones already here still open what they sealed.
    #[must_use]
    pub fn rotated_to(mut self, newer: [u8; 32]) -> Self {
        self.keys.retain(|(_, k)| *k != newer);
        self.keys.insert(0, (key_id(&newer), newer));
        self
    }

    /// Parses the standard base64 form used in configuration: one key, or several separated by
    /// commas, the sealing key first.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        let mut keys = Vec::new();
        for (i, part) in text.split(',').map(str::trim).filter(|p| !p.is_empty()).enumerate() {
            let position = i + 1;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(part)
                .map_err(|_| KeyError::NotBase64(position))?;
            let bytes: [u8; 32] =
                raw.as_slice().try_into().map_err(|_| KeyError::WrongLength(position, raw.len()))?;
            if !keys.iter().any(|(_, k)| *k == bytes) {
                keys.push((key_id(&bytes), bytes));
            }
        }
        if keys.is_empty() {
            return Err(KeyError::Empty);
        }
        Ok(Self { keys })
    }

    /// The id of the key that seals (hex), as recorded in every object it seals.
    pub fn sealing_key_id(&self) -> String {
        hex::encode(self.keys[0].0)
    }

    fn cipher(key: &[u8; 32]) -> Aes256Gcm {
        Aes256Gcm::new(key.into())
    }

    /// Encrypts `plaintext` bound to `aad` with the sealing key under a fresh random nonce.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, SessionStoreError> {
        let (id, key) = &self.keys[0];
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let bound = [aad, id.as_slice()].concat();
        let ct = Self::cipher(key)
            .encrypt(&nonce, Payload { msg: plaintext, aad: &bound })
            .map_err(|_| SessionStoreError::Corrupt("encryption failed".into()))?;
        let mut out = Vec::with_capacity(MAGIC.len() + KEY_ID_LEN + NONCE_LEN + ct.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts what [`ProfileKey::seal`] produced, with the key it names.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, OpenError> {
        if let Some(body) = sealed.strip_prefix(MAGIC.as_slice()) {
            if body.len() < KEY_ID_LEN + NONCE_LEN + TAG_LEN {
                return Err(OpenError::Format);
            }
            let (id, rest) = body.split_at(KEY_ID_LEN);
            let (nonce, ct) = rest.split_at(NONCE_LEN);
            let (_, key) = self
                .keys
                .iter()
                .find(|(k, _)| k == id)
                .ok_or_else(|| OpenError::UnknownKey(hex::encode(id)))?;
            let bound = [aad, id].concat();
            return Self::cipher(key)
                .decrypt(nonce.into(), Payload { msg: ct, aad: &bound })
                .map_err(|_| OpenError::Tag);
        }
        // The first layout names no key: any configured key may have sealed it.
        let body = sealed
            .strip_prefix(MAGIC_V1.as_slice())
            .filter(|b| b.len() >= NONCE_LEN + TAG_LEN)
            .ok_or(OpenError::Format)?;
        let (nonce, ct) = body.split_at(NONCE_LEN);
        self.keys
            .iter()
            .find_map(|(_, key)| Self::cipher(key).decrypt(nonce.into(), Payload { msg: ct, aad }).ok())
            .ok_or(OpenError::Tag)
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
        assert_eq!(key.open(&sealed, b"other/gen"), Err(OpenError::Tag));
        let other = ProfileKey::from_bytes([8; 32]);
        assert_eq!(other.open(&sealed, b"acct/gen"), Err(OpenError::UnknownKey(key.sealing_key_id())));
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert!(key.open(&flipped, b"acct/gen").is_err());
        assert_eq!(key.open(b"WCP1", b"acct/gen"), Err(OpenError::Format));
        assert_eq!(key.open(b"WCP2", b"acct/gen"), Err(OpenError::Format));
    }

    #[test]
    fn after_a_rotation_the_new_key_seals_and_the_old_one_still_opens() {
        let old = ProfileKey::from_bytes([1; 32]);
        let before = old.seal(b"login", b"a/g1").unwrap();
        let rotated = old.clone().rotated_to([2; 32]);
        assert_ne!(rotated.sealing_key_id(), old.sealing_key_id());
        let after = rotated.seal(b"login", b"a/g2").unwrap();
        assert_eq!(rotated.open(&before, b"a/g1").unwrap(), b"login");
        assert_eq!(rotated.open(&after, b"a/g2").unwrap(), b"login");
        // The old key alone names the new one as missing.
        assert_eq!(old.open(&after, b"a/g2"), Err(OpenError::UnknownKey(rotated.sealing_key_id())));
        // The same ring from configuration: new key first.
        let b64 = |k: [u8; 32]| base64::engine::general_purpose::STANDARD.encode(k);
        let configured = ProfileKey::from_base64(&format!("{}, {}", b64([2; 32]), b64([1; 32]))).unwrap();
        assert_eq!(configured.sealing_key_id(), rotated.sealing_key_id());
        assert_eq!(configured.open(&before, b"a/g1").unwrap(), b"login");
    }

    #[test]
    fn archives_of_the_first_layout_open_with_any_configured_key() {
        let (old, new) = ([3u8; 32], [4u8; 32]);
        let nonce = [9u8; NONCE_LEN];
        let ct = Aes256Gcm::new(&old.into())
            .encrypt(&nonce.into(), Payload { msg: b"v1 login".as_slice(), aad: b"a/g" })
            .unwrap();
        let v1 = [MAGIC_V1.as_slice(), &nonce, &ct].concat();
        let ring = ProfileKey::from_bytes(old).rotated_to(new);
        assert_eq!(ring.open(&v1, b"a/g").unwrap(), b"v1 login");
        assert_eq!(ProfileKey::from_bytes(new).open(&v1, b"a/g"), Err(OpenError::Tag));
    }

    #[test]
    fn keys_parse_from_base64_of_exactly_32_bytes() {
        let text = base64::engine::general_purpose::STANDARD.encode([1u8; 32]);
        assert!(ProfileKey::from_base64(&text).is_ok());
        assert_eq!(ProfileKey::from_base64("!!").unwrap_err(), KeyError::NotBase64(1));
        let short = base64::engine::general_purpose::STANDARD.encode([1u8; 16]);
        assert_eq!(
            ProfileKey::from_base64(&format!("{text},{short}")).unwrap_err(),
            KeyError::WrongLength(2, 16)
        );
        let debug = format!("{:?}", ProfileKey::from_bytes([1; 32]));
        assert!(debug.starts_with("ProfileKey(<redacted>, ids ") && !debug.contains("AQEB"), "{debug}");
        assert_eq!(ProfileKey::from_base64(" , ").unwrap_err(), KeyError::Empty);
        assert!(KeyError::Empty.to_string().contains("holds no key"));
    }

    #[test]
    fn sha256_is_lower_hex() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
