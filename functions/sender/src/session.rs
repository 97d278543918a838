//! Opening a working WhatsApp Web session for an account: restore the current profile
//! generation, check it, and when it no longer logs in, fall back to older verified generations
//! (the one that logged in last first, bounded) and promote the first that works. Only when none works is the session
//! EXPIRED — and only a check that saw the QR code counts; "could not tell" never does.

use crate::browser::{Browser, Check, Launcher};
use domain::{AccountId, ErrorCode};
use session_store::{
    GenerationId, GenerationState, ProfileStore, RestoredProfile, SessionPointer, SessionStoreError,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A logged-in browser on a restored profile.
pub struct Opened {
    /// The browser, showing WhatsApp Web's chat list.
    pub browser: Box<dyn Browser>,
    /// The profile directory it runs on (deleted when dropped: close the browser first).
    pub profile: RestoredProfile,
    /// The generation that worked.
    pub generation: GenerationId,
    /// True when the current generation failed and an older one took over.
    pub from_backup: bool,
    /// Restore + launch + check time.
    pub took: Duration,
    /// Time spent fetching and unpacking generations.
    pub restore: Duration,
    /// Time spent launching browsers and checking their session.
    pub launch: Duration,
}

/// Why no session could be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotOpened {
    /// Nothing an automatic retry can fix: pause with this code.
    Unusable(ErrorCode),
    /// Could not tell or could not reach something: retry later.
    Transient(String),
}

/// Opens a session for `account` whose pointer the caller just read, trying at most
/// `max_fallback` generations older than the current.
pub async fn open(
    profiles: &Arc<dyn ProfileStore>,
    launcher: &Arc<dyn Launcher>,
    account: &AccountId,
    pointer: &SessionPointer,
    max_fallback: usize,
) -> Result<Opened, NotOpened> {
    let started = Instant::now();
    let transient = |e: SessionStoreError| NotOpened::Transient(format!("{}: {e}", e.code()));
    let Some(current) = pointer.current.clone() else {
        return Err(NotOpened::Unusable(ErrorCode::SessionExpired));
    };
    let listed = profiles.list(account).await.map_err(transient)?;
    let older = session_store::fallback_candidates(&listed, &current, max_fallback);
    let candidates = std::iter::once(current.clone()).chain(older);
    let (mut restore, mut launch) = (Duration::ZERO, Duration::ZERO);
    for (i, generation) in candidates.enumerate() {
        let restoring = Instant::now();
        let restored = profiles.restore(account, Some(&generation)).await;
        restore += restoring.elapsed();
        let profile = match restored {
            Ok(p) => p,
            // Damaged, hostile, or its object gone (deleted behind the store's back): never
            // tried again, and the next one is.
            Err(
                e @ (SessionStoreError::Corrupt(_)
                | SessionStoreError::Hostile { .. }
                | SessionStoreError::NotFound(_)),
            ) => {
                tracing::warn!(%account, generation = %generation.as_str(), code = %e.code(), "generation unusable; marked bad");
                let _ = profiles.mark_bad(account, &generation).await;
                continue;
            }
            // The key is missing or wrong: a configuration error no older generation fixes (they
            // are sealed with the same key) and nothing is marked bad.
            Err(e @ (SessionStoreError::KeyMissing(_) | SessionStoreError::KeyWrong(_))) => {
                tracing::error!(%account, generation = %generation.as_str(), code = %e.code(), error = %e, "profile encryption key; messages pause until it is set");
                return Err(NotOpened::Unusable(e.code()));
            }
            Err(e) => return Err(transient(e)),
        };
        let launcher = Arc::clone(launcher);
        let dir = profile.path().to_path_buf();
        let launching = Instant::now();
        let checked = tokio::task::spawn_blocking(move || {
            let mut browser = launcher.launch(&dir)?;
            let check = browser.check();
            Ok::<_, String>((browser, check))
        })
        .await
        .map_err(|e| NotOpened::Transient(format!("browser task failed: {e}")))?;
        launch += launching.elapsed();
        let (browser, check) = checked.map_err(NotOpened::Transient)?;
        match check {
            Check::Ready => {
                let _ = profiles.record_state(account, &generation, GenerationState::Ready).await;
                if i > 0 {
                    profiles.promote(account, &generation, Some(pointer.version)).await.map_err(transient)?;
                    tracing::info!(%account, generation = %generation.as_str(), code = %ErrorCode::SessionRestoredFromBackup, "older generation promoted");
                }
                return Ok(Opened {
                    browser,
                    profile,
                    generation,
                    from_backup: i > 0,
                    took: started.elapsed(),
                    restore,
                    launch,
                });
            }
            Check::NeedsQr => {
                tracing::info!(%account, generation = %generation.as_str(), "generation does not log in");
                let _ = profiles.record_state(account, &generation, GenerationState::NeedsQr).await;
                close_quietly(browser).await;
            }
            Check::Blocked(code) => {
                close_quietly(browser).await;
                return Err(NotOpened::Unusable(code));
            }
            Check::Unknown(why) => {
                close_quietly(browser).await;
                return Err(NotOpened::Transient(why));
            }
        }
    }
    // Expired only if the pointer still names what was tried: a setup that linked a new
    // generation meanwhile is never overwritten, and its generation is tried next time.
    if !profiles.expire(account, pointer.version).await.map_err(transient)? {
        return Err(NotOpened::Transient(
            "the session pointer moved while its generations were tried".into(),
        ));
    }
    Err(NotOpened::Unusable(ErrorCode::SessionExpired))
}

/// Closes a browser whose profile will not be kept.
pub async fn close_quietly(browser: Box<dyn Browser>) {
    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || browser.close()).await {
        tracing::debug!(error = %e, "browser close failed");
    }
}
