//! The one error type of the session store; its codes and hints come from the catalogue in
//! `domain::ErrorCode`.

use domain::ErrorCode;

/// Why a profile could not be stored, found, verified or unpacked.
#[derive(Debug, thiserror::Error)]
pub enum SessionStoreError {
    /// The account has no stored session, or the named generation does not exist.
    #[error("profile not found: {0}")]
    NotFound(String),
    /// The stored bytes failed the checksum, the GCM tag or the archive format; nothing was unpacked.
    #[error("profile corrupt: {0}")]
    Corrupt(String),
    /// The generation is encrypted and no key is configured: a configuration error, not damage
    /// (nothing is marked bad).
    #[error("profile encrypted and no key configured: {0}")]
    KeyMissing(String),
    /// The configured key does not open the generation (its checksum matched, so the bytes are the
    /// ones stored): a configuration error, not damage.
    #[error("profile key does not open the generation: {0}")]
    KeyWrong(String),
    /// The session pointer moved under us (another writer); nothing was overwritten.
    #[error("session pointer conflict: {0}")]
    Conflict(String),
    /// S3 or DynamoDB could not be reached or refused the call.
    #[error("profile store unavailable: {context}")]
    Unavailable {
        /// The call that failed.
        context: String,
        /// The SDK error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The archive contains something a profile never contains (escape, link, device, bomb).
    #[error("profile archive rejected at '{entry}': {reason}")]
    Hostile {
        /// The offending entry's path as stored (lossy UTF-8), or `<archive>`.
        entry: String,
        /// What rule it broke.
        reason: String,
    },
    /// The local profile directory could not be read, or the restore directory written.
    #[error("local profile files: {context}")]
    Local {
        /// What was being done, naming the path.
        context: String,
        /// The I/O error, when there is one.
        #[source]
        source: Option<std::io::Error>,
    },
}

impl SessionStoreError {
    /// The stable code, identical in logs, CLI output and API bodies (see `domain::ErrorCode`).
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NotFound(_) => ErrorCode::ProfileNotFound,
            Self::Corrupt(_) => ErrorCode::ProfileCorrupt,
            Self::KeyMissing(_) => ErrorCode::ProfileKeyMissing,
            Self::KeyWrong(_) => ErrorCode::ProfileKeyWrong,
            Self::Conflict(_) => ErrorCode::ProfileConflict,
            Self::Unavailable { .. } => ErrorCode::ProfileStoreUnavailable,
            Self::Hostile { .. } => ErrorCode::ProfileHostile,
            Self::Local { .. } => ErrorCode::ProfileLocalIo,
        }
    }

    /// One line telling the operator what to do: the catalogue's hint for [`Self::code`].
    pub fn hint(&self) -> &'static str {
        self.code().hint()
    }

    /// Wraps a failure of the storage service (an SDK error), keeping it as the source; for
    /// adapters of the port outside this crate too.
    pub fn unavailable(
        context: impl Into<String>,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Unavailable { context: context.into(), source: Box::new(e) }
    }

    pub(crate) fn hostile(entry: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Hostile { entry: entry.into(), reason: reason.into() }
    }

    pub(crate) fn local(context: impl Into<String>, e: std::io::Error) -> Self {
        Self::Local { context: context.into(), source: Some(e) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_distinct_stable_code_and_a_hint() {
        let all = [
            SessionStoreError::NotFound("x".into()),
            SessionStoreError::Corrupt("x".into()),
            SessionStoreError::KeyMissing("x".into()),
            SessionStoreError::KeyWrong("x".into()),
            SessionStoreError::Conflict("x".into()),
            SessionStoreError::unavailable("x", std::io::Error::other("down")),
            SessionStoreError::hostile("a", "b"),
            SessionStoreError::local("x", std::io::Error::other("disk")),
        ];
        let mut codes: Vec<_> = all.iter().map(SessionStoreError::code).collect();
        assert!(all.iter().all(|e| !e.hint().is_empty() && e.code().as_str().starts_with("PROFILE_")));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
