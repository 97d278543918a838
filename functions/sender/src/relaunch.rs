//! The one relaunch a batch may spend on a browser that failed (crashed, or stopped answering):
//! a fresh browser on the same restored profile, if that one logs in.

use crate::Deps;
use crate::browser::{Browser, Check, GoneBrowser};
use crate::tally::Tally;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Whether the batch's relaunch is still unspent, and the profile it runs on.
pub struct Relaunch<'a> {
    /// The restored profile the browsers run on.
    dir: &'a Path,
    /// Whether the relaunch is still unspent.
    left: bool,
}

impl<'a> Relaunch<'a> {
    /// One relaunch on `dir`.
    pub fn new(dir: &'a Path) -> Self {
        Self { dir, left: true }
    }

    /// Replaces `failed` by a new browser on the same profile, once per batch, if that one logs
    /// in; otherwise hands back a browser to close (the failed one when no relaunch is left).
    pub async fn again(
        &mut self,
        deps: &Deps,
        failed: Box<dyn Browser>,
        why: &str,
        tally: &mut Tally,
    ) -> Result<Box<dyn Browser>, Box<dyn Browser>> {
        if !self.left {
            return Err(failed);
        }
        self.left = false;
        tally.relaunched += 1;
        tally.full_loads += failed.full_loads();
        tracing::warn!(reason = %why, "browser failed; relaunching it once");
        let launcher = Arc::clone(&deps.launcher);
        let dir = self.dir.to_path_buf();
        let started = Instant::now();
        let relaunched = tokio::task::spawn_blocking(move || {
            // Dropping kills what is left of the failed browser and frees the profile.
            drop(failed);
            let mut browser = launcher.launch(&dir)?;
            match browser.check() {
                Check::Ready => Ok(browser),
                other => {
                    let _ = browser.close();
                    Err(format!("relaunched browser is not ready: {other:?}"))
                }
            }
        })
        .await;
        tally.launch_ms += started.elapsed().as_millis();
        match relaunched {
            Ok(Ok(browser)) => Ok(browser),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "relaunch failed; the record goes back to the queue");
                Err(Box::new(GoneBrowser))
            }
            Err(e) => {
                tracing::warn!(error = %e, "relaunch task failed; the record goes back to the queue");
                Err(Box::new(GoneBrowser))
            }
        }
    }
}
