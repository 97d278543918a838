//! The one error type of the session store, with stable codes and one-line hints shared by the
//! CLI, the functions' logs and the API.

/// Why a profile could not be stored, found, verified or unpacked.
#[derive(Debug, thiserror::Error)]
pub enum SessionStoreError {
    /// The account has no stored session, or the named generation does not exist.
    #[error("profile not found: {0}")]
    NotFound(String),
    /// The stored bytes failed the checksum, the GCM tag or the archive format; nothing was unpacked.
    #[error("profile corrupt: {0}")]
    Corrupt(String),
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
    /// The stable code, identical in logs, CLI output and API bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "PROFILE_NOT_FOUND",
            Self::Corrupt(_) => "PROFILE_CORRUPT",
            Self::Conflict(_) => "PROFILE_CONFLICT",
            Self::Unavailable { .. } => "PROFILE_STORE_UNAVAILABLE",
            Self::Hostile { .. } => "PROFILE_HOSTILE",
            Self::Local { .. } => "PROFILE_LOCAL_IO",
        }
    }

    /// One line telling the operator what to do.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "link the account first: wacamp setup --account <a>",
            Self::Corrupt(_) => {
                "mark this generation bad and restore an older one: wacamp session list / wacamp session restore"
            }
            Self::Conflict(_) => "another writer moved the session pointer; read it again and retry",
            Self::Unavailable { .. } => {
                "check AWS access (S3 bucket, DynamoDB table, AWS_ENDPOINT_URL) and retry"
            }
            Self::Hostile { .. } => {
                "this generation was not written by wacamp; mark it bad and restore another one"
            }
            Self::Local { .. } => "check free space and permissions of the profile and temp directories",
        }
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
            SessionStoreError::Conflict("x".into()),
            SessionStoreError::unavailable("x", std::io::Error::other("down")),
            SessionStoreError::hostile("a", "b"),
            SessionStoreError::local("x", std::io::Error::other("disk")),
        ];
        let mut codes: Vec<_> = all.iter().map(SessionStoreError::code).collect();
        assert!(all.iter().all(|e| !e.hint().is_empty() && e.code().starts_with("PROFILE_")));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
