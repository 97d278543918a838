//! Page access: bounded evaluations of the page scripts, navigation that never blocks, and telling
//! a reloading page from a dead browser.

use super::*;

impl WaDriver {
    /// Starts loading `url` without waiting for the server (a hung load must not block a CDP call).
    pub(super) fn navigate(&self, url: &str) -> Result<(), DriverError> {
        self.full_loads.fetch_add(1, Ordering::Relaxed);
        match self.evaluate_bounded(&script::navigate(url)) {
            Evaluated::Value(_) | Evaluated::Pending => Ok(()),
            Evaluated::Failed(error) => {
                if self.is_dead() {
                    return Err(self.cdp_error(&error));
                }
                self.tab.navigate_to(url).map(|_| ()).map_err(|e| self.cdp_error(&e))
            }
        }
    }

    /// One classification of the page; transient failures (page reloading) read as NAVIGATING.
    pub(super) fn observe(&self) -> Result<Observation, DriverError> {
        let raw = self.eval_string(&script::classify(&self.config.selectors))?;
        Ok(raw
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_else(|| Observation { s: "NAVIGATING".to_owned(), ..Observation::default() }))
    }

    /// Evaluates a string-valued script; `None` while the page reloads (execution context destroyed).
    pub(super) fn eval_string(&self, expression: &str) -> Result<Option<String>, DriverError> {
        Ok(self.eval_with(expression, false)?.and_then(|v| v.as_str().map(str::to_owned)))
    }

    /// Runs the step script `step` and, when it answers `on`, waits in the same evaluation as
    /// [`WaDriver::await_status`] does for `check` to answer one of `done`.
    pub(super) fn step_then_await(
        &self,
        step: &str,
        on: &str,
        check: &str,
        done: &[&str],
        deadline: Instant,
    ) -> Result<Option<String>, DriverError> {
        self.eval_awaited(deadline, |within| script::then_awaiting(step, on, check, done, within))
    }

    /// Waits in the page, until `deadline` but at most [`AWAIT_SLICE`], for the status script
    /// `check` to answer one of `done`: one evaluation that answers as soon as the page shows it (on
    /// the DOM change that makes it so), with the latest status when the slice ends first; `None`
    /// while the page reloads.
    pub(super) fn await_status(
        &self,
        check: &str,
        done: &[&str],
        deadline: Instant,
    ) -> Result<Option<String>, DriverError> {
        self.eval_awaited(deadline, |within| script::awaiting(check, done, within))
    }

    /// Evaluates the string-valued promise `expression(within)` builds, `within` being what is left
    /// until `deadline` but at most [`AWAIT_SLICE`]; `None` while the page reloads.
    fn eval_awaited(
        &self,
        deadline: Instant,
        expression: impl FnOnce(Duration) -> String,
    ) -> Result<Option<String>, DriverError> {
        let within = deadline.saturating_duration_since(Instant::now()).min(AWAIT_SLICE);
        Ok(self.eval_with(&expression(within), true)?.and_then(|v| v.as_str().map(str::to_owned)))
    }

    /// Evaluates a boolean script; `false` while the page reloads.
    pub(super) fn eval_bool(&self, expression: &str) -> Result<bool, DriverError> {
        Ok(self.eval(expression)?.and_then(|v| v.as_bool()).unwrap_or(false))
    }

    pub(super) fn eval(&self, expression: &str) -> Result<Option<serde_json::Value>, DriverError> {
        self.eval_with(expression, false)
    }

    /// [`WaDriver::eval`], awaiting the promise the script returns when `await_promise`.
    fn eval_with(
        &self,
        expression: &str,
        await_promise: bool,
    ) -> Result<Option<serde_json::Value>, DriverError> {
        if self.is_dead() {
            return Err(DriverError::crashed("the browser or its page crashed"));
        }
        let r = self.evaluate_bounded_with(expression, await_promise);
        match r {
            Evaluated::Value(value) => Ok(value),
            Evaluated::Failed(error) if self.is_dead() || is_fatal(&error) => Err(self.cdp_error(&error)),
            Evaluated::Pending => {
                tracing::debug!("page evaluation still pending (navigation in flight?); retrying");
                Ok(None)
            }
            Evaluated::Failed(error) => {
                tracing::debug!(%error, "page evaluation failed (page reloading?); retrying");
                Ok(None)
            }
        }
    }

    /// Runs `Runtime.evaluate` on a helper thread and waits at most [`EVAL_TIMEOUT`]: while a navigation
    /// hangs, Chromium holds evaluations back until the DevTools idle timeout. At most one evaluation is in
    /// flight: a late one is awaited (and its stale answer dropped) before the next starts.
    pub(super) fn evaluate_bounded(&self, expression: &str) -> Evaluated {
        self.evaluate_bounded_with(expression, false)
    }

    /// [`WaDriver::evaluate_bounded`], awaiting the script's promise when `await_promise` (the
    /// script must settle well within [`EVAL_TIMEOUT`]).
    fn evaluate_bounded_with(&self, expression: &str, await_promise: bool) -> Evaluated {
        let mut pending = self.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(receiver) = pending.as_ref() {
            match receiver.recv_timeout(EVAL_TIMEOUT) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return Evaluated::Pending,
                Ok(_) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => *pending = None,
            }
        }
        let (sender, receiver) = std::sync::mpsc::channel();
        let tab = Arc::clone(&self.tab);
        let expression = expression.to_owned();
        let spawned = std::thread::Builder::new().name("wa-driver-eval".to_owned()).spawn(move || {
            let result = tab
                .evaluate(&expression, await_promise)
                .map(|object| object.value)
                .map_err(|e| e.to_string());
            let _ = sender.send(result);
        });
        if let Err(error) = spawned {
            return Evaluated::Failed(format!("cannot spawn an evaluation thread: {error}"));
        }
        match receiver.recv_timeout(EVAL_TIMEOUT) {
            Ok(Ok(value)) => Evaluated::Value(value),
            Ok(Err(error)) => Evaluated::Failed(error),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                *pending = Some(receiver);
                Evaluated::Pending
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                Evaluated::Failed("the evaluation thread stopped".to_owned())
            }
        }
    }

    pub(super) fn cdp_error(&self, error: &impl std::fmt::Display) -> DriverError {
        DriverError::crashed(format!("DevTools call failed: {error}"))
    }

    /// Whether the renderer crashed or the browser process is gone.
    pub(super) fn is_dead(&self) -> bool {
        self.crashed.load(Ordering::SeqCst) || self.pid.is_some_and(|pid| !process::process_alive(pid))
    }
}

/// Errors that no retry fixes: the DevTools connection is gone or the target crashed.
fn is_fatal(error: &impl std::fmt::Display) -> bool {
    let text = error.to_string();
    ["connection closed", "ConnectionClosed", "Target crashed", "target closed", "No target with given id"]
        .iter()
        .any(|needle| text.contains(needle))
}
