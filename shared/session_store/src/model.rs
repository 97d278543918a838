//! What the store records about generations and the session pointer, and the pure rules over
//! them: sortable generation ids, object keys, sealing for storage, verification before
//! unpacking, and which generations retention may delete.

use crate::SessionStoreError;
use crate::archive::{self, Limits, UnpackStats};
use crate::crypto::{OpenError, ProfileKey, sha256_hex};
use domain::{AccountId, SessionHealth};
use std::path::Path;
use std::str::FromStr;
use time::OffsetDateTime;

/// Names one stored snapshot: zero-padded creation millis, `-`, 8 random hex digits. Sorting
/// the text sorts by creation time, so DynamoDB range keys and S3 listings come out in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GenerationId(String);

impl GenerationId {
    /// A new id for a snapshot created at `millis` since the epoch.
    pub fn new(millis: u64, random: u32) -> Self {
        Self(format!("{millis:015}-{random:08x}"))
    }

    /// Parses an id given by an operator or read from storage.
    pub fn parse(s: &str) -> Result<Self, SessionStoreError> {
        let ok = s.len() == 24
            && s.as_bytes()[15] == b'-'
            && s[..15].bytes().all(|b| b.is_ascii_digit())
            && s[16..].bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(SessionStoreError::NotFound(format!("'{s}' is not a generation id")))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Creation time in millis since the epoch, as encoded in the id.
    pub fn millis(&self) -> u64 {
        self.0[..15].parse().unwrap_or(0)
    }
}

impl std::fmt::Display for GenerationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the last check of a generation showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GenerationState {
    /// It logged in (chat list shown).
    Ready,
    /// It showed the QR code: logged out.
    NeedsQr,
    /// Never checked, or the check did not finish.
    Unknown,
}

impl GenerationState {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "READY",
            Self::NeedsQr => "NEEDS_QR",
            Self::Unknown => "UNKNOWN",
        }
    }
}

impl FromStr for GenerationState {
    type Err = SessionStoreError;
    fn from_str(s: &str) -> Result<Self, SessionStoreError> {
        match s {
            "READY" => Ok(Self::Ready),
            "NEEDS_QR" => Ok(Self::NeedsQr),
            "UNKNOWN" => Ok(Self::Unknown),
            other => Err(SessionStoreError::Corrupt(format!("unknown generation state '{other}'"))),
        }
    }
}

impl std::fmt::Display for GenerationState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stored generation, as listed for operators and chosen from by the fallback logic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationInfo {
    /// Its id.
    pub id: GenerationId,
    /// The S3 key of its object.
    pub key: String,
    /// Hex SHA-256 of the stored object (after encryption, when encrypted).
    pub sha256: String,
    /// Stored object size in bytes.
    pub size: u64,
    /// When the snapshot was taken.
    pub created: OffsetDateTime,
    /// What the last check showed.
    pub state: GenerationState,
    /// Marked unusable (failed to verify or to log in); never restored by default.
    pub bad: bool,
    /// When it last logged in (stored from a session showing its chat list, or a check that
    /// showed it): the fallback tries the generation that worked most recently first.
    pub last_ready: Option<OffsetDateTime>,
    /// Stored AES-256-GCM sealed.
    pub encrypted: bool,
}

/// The account's `SESSION` item: the current generation and what is known of the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPointer {
    /// Session health as the sender and keeper last saw it.
    pub state: SessionHealth,
    /// The current generation, when one was ever stored.
    pub current: Option<GenerationId>,
    /// Its S3 key.
    pub current_key: Option<String>,
    /// Its checksum.
    pub sha256: Option<String>,
    /// Bumped on every move; writers move the pointer only from the version they read.
    pub version: u64,
    /// When the session was last checked.
    pub last_check: Option<OffsetDateTime>,
    /// When a generation was last stored.
    pub last_backup: Option<OffsetDateTime>,
    /// When the device was linked (`wacamp setup` scanned a QR code): WhatsApp's limits for
    /// linked devices count from here and from the last activity.
    pub linked_at: Option<OffsetDateTime>,
}

/// What a backup did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupOutcome {
    /// The stored generation (always kept, even when it did not become current).
    pub generation: GenerationInfo,
    /// True when the pointer now names it; false when a newer generation got there first.
    pub current: bool,
    /// The pointer's version after the backup.
    pub version: u64,
}

/// A generation unpacked into a private temporary directory, deleted when this is dropped.
#[derive(Debug)]
pub struct RestoredProfile {
    dir: tempfile::TempDir,
    generation: Option<GenerationInfo>,
    stats: UnpackStats,
}

impl RestoredProfile {
    /// The user-data-dir to start Chromium with.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The generation it came from (none when restored from raw bytes).
    pub fn generation(&self) -> Option<&GenerationInfo> {
        self.generation.as_ref()
    }

    /// What was unpacked.
    pub fn stats(&self) -> UnpackStats {
        self.stats
    }
}

/// The S3 key of a generation: `<prefix>/<account>/<id>.tar.zst[.enc]`.
pub fn object_key(prefix: &str, account: &AccountId, id: &GenerationId, encrypted: bool) -> String {
    let prefix = prefix.trim_end_matches('/');
    let suffix = if encrypted { ".tar.zst.enc" } else { ".tar.zst" };
    if prefix.is_empty() {
        format!("{account}/{id}{suffix}")
    } else {
        format!("{prefix}/{account}/{id}{suffix}")
    }
}

/// The associated data binding a sealed object to its account and generation.
pub(crate) fn aad(account: &AccountId, id: &GenerationId) -> Vec<u8> {
    format!("wacamp-profile/{account}/{id}").into_bytes()
}

/// Seals (when a key is given) and checksums an archive for storage: `(stored bytes, sha256)`.
pub fn seal_for_storage(
    archive: Vec<u8>,
    key: Option<&ProfileKey>,
    account: &AccountId,
    id: &GenerationId,
) -> Result<(Vec<u8>, String), SessionStoreError> {
    let stored = match key {
        Some(k) => k.seal(&archive, &aad(account, id))?,
        None => archive,
    };
    let sha = sha256_hex(&stored);
    Ok((stored, sha))
}

/// Verifies a stored object against its recorded checksum, then (when sealed) its GCM tag, and
/// returns the archive. Runs before anything is unpacked.
pub fn open_from_storage(
    stored: &[u8],
    info: &GenerationInfo,
    key: Option<&ProfileKey>,
    account: &AccountId,
) -> Result<Vec<u8>, SessionStoreError> {
    let actual = sha256_hex(stored);
    if !actual.eq_ignore_ascii_case(&info.sha256) {
        return Err(SessionStoreError::Corrupt(format!(
            "generation {} checksum mismatch (stored object differs from the recorded sha256)",
            info.id
        )));
    }
    match (info.encrypted, key) {
        (false, _) => Ok(stored.to_vec()),
        // The checksum matched, so these are the bytes that were stored: a tag that fails now
        // means the key is not the one they were sealed with.
        // The checksum matched, so these are the bytes that were stored: a key that is not
        // configured or does not open them is configuration, not damage.
        (true, Some(k)) => k.open(stored, &aad(account, &info.id)).map_err(|e| match e {
            OpenError::UnknownKey(id) => SessionStoreError::KeyMissing(format!(
                "generation {} was sealed with key {id}, which {} does not hold (keep older keys after the new one when rotating)",
                info.id,
                crate::crypto::KEY_ENV
            )),
            OpenError::Tag => SessionStoreError::KeyWrong(format!(
                "generation {} was sealed with another key than {}",
                info.id,
                crate::crypto::KEY_ENV
            )),
            OpenError::Format => {
                SessionStoreError::Corrupt(format!("generation {} is not a sealed profile archive", info.id))
            }
        }),
        (true, None) => Err(SessionStoreError::KeyMissing(format!(
            "generation {} is encrypted and {} is not set",
            info.id,
            crate::crypto::KEY_ENV
        ))),
    }
}

/// Unpacks a verified archive into a fresh temporary directory under `temp_root` (or the system
/// temp dir), which is deleted again if unpacking fails.
pub fn restore_archive(
    archive: &[u8],
    limits: &Limits,
    temp_root: Option<&Path>,
    generation: Option<GenerationInfo>,
) -> Result<RestoredProfile, SessionStoreError> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("wacamp-profile-");
    let dir = match temp_root {
        Some(root) => builder.tempdir_in(root),
        None => builder.tempdir(),
    }
    .map_err(|e| SessionStoreError::local("creating the restore directory", e))?;
    let stats = archive::unpack(archive, dir.path(), limits)?;
    if stats.files == 0 {
        return Err(SessionStoreError::Corrupt("archive holds no files".into()));
    }
    remove_singletons(dir.path())?;
    Ok(RestoredProfile { dir, generation, stats })
}

/// Deletes `Singleton*` lock files at the top of a profile: left by a Chromium on another host,
/// they make the next Chromium exit with code 21.
pub fn remove_singletons(profile_dir: &Path) -> Result<(), SessionStoreError> {
    let list = std::fs::read_dir(profile_dir)
        .map_err(|e| SessionStoreError::local(format!("listing {}", profile_dir.display()), e))?;
    for item in list.flatten() {
        if item.file_name().to_string_lossy().starts_with("Singleton") {
            let path = item.path();
            let gone = match std::fs::symlink_metadata(&path) {
                Ok(m) if m.is_dir() => std::fs::remove_dir_all(&path),
                Ok(_) => std::fs::remove_file(&path),
                Err(e) => Err(e),
            };
            gone.map_err(|e| SessionStoreError::local(format!("removing {}", path.display()), e))?;
        }
    }
    Ok(())
}

/// Which generations retention deletes, given all of them newest first: everything beyond the
/// newest `keep`, except the one the pointer names and the newest known-good one (READY, not bad).
pub fn select_for_deletion(
    newest_first: &[GenerationInfo],
    current: Option<&GenerationId>,
    keep: usize,
) -> Vec<GenerationId> {
    let keep = keep.max(1);
    let good = newest_first.iter().find(|g| g.state == GenerationState::Ready && !g.bad).map(|g| &g.id);
    newest_first
        .iter()
        .skip(keep)
        .filter(|g| Some(&g.id) != current && Some(&g.id) != good)
        .map(|g| g.id.clone())
        .collect()
}

/// The generations a session falls back to when `current` no longer logs in, in the order to
/// try them: older than `current`, never marked bad, never one whose last check showed the QR;
/// the one that logged in most recently first (keys move on with every load, so the last that
/// worked is the likeliest to work again), then newest first; at most `max`.
pub fn fallback_candidates(
    generations: &[GenerationInfo],
    current: &GenerationId,
    max: usize,
) -> Vec<GenerationId> {
    let mut older: Vec<&GenerationInfo> = generations
        .iter()
        .filter(|g| !g.bad && g.id < *current && g.state != GenerationState::NeedsQr)
        .collect();
    older.sort_by(|a, b| b.last_ready.cmp(&a.last_ready).then_with(|| b.id.cmp(&a.id)));
    older.into_iter().take(max).map(|g| g.id.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(millis: u64, state: GenerationState, bad: bool) -> GenerationInfo {
        GenerationInfo {
            id: GenerationId::new(millis, 0),
            key: String::new(),
            sha256: String::new(),
            size: 0,
            created: OffsetDateTime::UNIX_EPOCH,
            state,
            bad,
            encrypted: false,
            last_ready: None,
        }
    }

    #[test]
    fn the_fallback_tries_the_generation_that_logged_in_last_first_and_never_one_that_showed_the_qr() {
        use GenerationState::*;
        let at = |s: i64| Some(OffsetDateTime::UNIX_EPOCH + time::Duration::seconds(s));
        // newest first: 6 current; 5 showed the QR; 4 never checked; 3 logged in after 2 was
        // restored and promoted once more (2 logged in later than 3); 1 is bad.
        let mut gens: Vec<_> = [(6, Ready), (5, NeedsQr), (4, Unknown), (3, Ready), (2, Ready), (1, Ready)]
            .into_iter()
            .map(|(m, s)| info(m, s, m == 1))
            .collect();
        gens[3].last_ready = at(30);
        gens[4].last_ready = at(50);
        let current = GenerationId::new(6, 0);
        let order = fallback_candidates(&gens, &current, 5);
        let ids: Vec<u64> = order.iter().map(GenerationId::millis).collect();
        assert_eq!(ids, [2, 3, 4]);
        assert_eq!(fallback_candidates(&gens, &current, 1).len(), 1, "bounded");
    }

    #[test]
    fn generation_ids_sort_by_time_and_parse_back() {
        let a = GenerationId::new(1_700_000_000_000, 0xffff_ffff);
        let b = GenerationId::new(1_700_000_000_001, 0);
        assert!(a < b);
        assert_eq!(GenerationId::parse(a.as_str()).unwrap(), a);
        assert_eq!(b.millis(), 1_700_000_000_001);
        for bad in ["", "../x", "001700000000000-ABCDEF01", "001700000000000_abcdef01", "1-2"] {
            assert!(GenerationId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn retention_keeps_the_newest_n_the_current_and_the_newest_good() {
        use GenerationState::*;
        // newest first: 6..1; only 2 is READY and good, the pointer names 1.
        let gens: Vec<_> = [(6, Unknown), (5, NeedsQr), (4, Unknown), (3, Ready), (2, Ready), (1, Unknown)]
            .into_iter()
            .map(|(m, s)| info(m, s, m == 3))
            .collect();
        let current = GenerationId::new(1, 0);
        let doomed = select_for_deletion(&gens, Some(&current), 2);
        assert_eq!(doomed, vec![GenerationId::new(4, 0), GenerationId::new(3, 0)]);
        assert!(select_for_deletion(&gens, None, 0).len() == 4, "keep is at least one");
    }

    #[test]
    fn object_keys_name_account_generation_and_encryption() {
        let a = AccountId::parse("shop.main").unwrap();
        let id = GenerationId::new(5, 1);
        assert_eq!(object_key("profiles/", &a, &id, false), format!("profiles/shop.main/{id}.tar.zst"));
        assert_eq!(object_key("", &a, &id, true), format!("shop.main/{id}.tar.zst.enc"));
    }
}
