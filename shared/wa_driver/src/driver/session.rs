//! Reading the session screen: opening WhatsApp Web and waiting for a known screen (READY,
//! NEEDS_QR, CONFLICT...), and linking a device by QR code.

use super::*;

impl WaDriver {
    /// Opens WhatsApp Web and waits (bounded) until it shows a known session screen.
    ///
    /// LOADING is waited out up to `timeouts.loading`; a CONFLICT is taken over with "Use here" when
    /// `take_over` is set. UNKNOWN (no known screen in `timeouts.first_screen`, unreachable) never means
    /// expired. Only a dead browser is an error.
    pub fn open(&self, take_over: bool) -> Result<Screen, DriverError> {
        self.navigate(&self.config.wa_url)?;
        self.wait_for_session(take_over)
    }

    /// Like [`WaDriver::open`] without loading the page again: classifies what the tab shows now.
    pub fn wait_for_session(&self, take_over: bool) -> Result<Screen, DriverError> {
        let timeouts = self.config.timeouts;
        let started = Instant::now();
        let mut deadline = started + timeouts.first_screen;
        let mut loading_deadline: Option<Instant> = None;
        let mut last_take_over: Option<Instant> = None;
        let state = loop {
            let seen = self.observe()?;
            let now = Instant::now();
            match seen.s.as_str() {
                "READY" => break Screen::Ready,
                "NEEDS_QR" => {
                    tracing::info!(post_logout = seen.logout, "WhatsApp Web shows the QR code");
                    break Screen::NeedsQr;
                }
                "BANNED" => break Screen::Banned,
                "OUTDATED" => break Screen::Outdated,
                "UNREACHABLE" => {
                    tracing::warn!("WhatsApp Web is unreachable (browser error page)");
                    break Screen::Unknown;
                }
                "CONFLICT" if !take_over => break Screen::Conflict,
                "CONFLICT" => {
                    if last_take_over.is_none_or(|at| now.duration_since(at) >= TAKE_OVER_RETRY) {
                        let clicked = self.eval_bool(&script::click_popup_button(
                            &self.config.selectors,
                            &self.config.selectors.text.use_here,
                        ))?;
                        tracing::info!(clicked, "taking the session over with \"Use here\"");
                        last_take_over = Some(now);
                        deadline = now + timeouts.first_screen;
                    } else if now >= deadline {
                        break Screen::Conflict;
                    }
                }
                "LOADING" => {
                    let until = *loading_deadline.get_or_insert(now + timeouts.loading);
                    if now >= until {
                        break Screen::Loading;
                    }
                }
                _ if loading_deadline.is_some_and(|until| now < until) => {}
                _ if now >= deadline => break Screen::Unknown,
                _ => {}
            }
            std::thread::sleep(timeouts.poll);
        };
        tracing::debug!(%state, elapsed_ms = started.elapsed().as_millis(), "WhatsApp Web session state");
        if matches!(state, Screen::Unknown | Screen::Loading) {
            self.capture_diagnostics(&format!("session-{}", state.as_str().to_lowercase()));
        }
        Ok(state)
    }

    /// What the page shows right now, without waiting (NAVIGATING/blank pages are `Unknown`).
    pub fn current_state(&self) -> Result<Screen, DriverError> {
        Ok(Screen::from_script(&self.observe()?.s))
    }

    /// Setup: waits for the QR code to be scanned, handing each new QR payload to `on_qr` as it rotates
    /// and clicking "reload" when it goes idle, then waits for the link and sync to finish.
    ///
    /// Returns READY once linked and synced; otherwise the last state seen when `timeout` passed (the
    /// sync, once started, gets `timeouts.loading` more). Survives the page reloading itself after link.
    pub fn link_with_qr(
        &self,
        on_qr: &mut dyn FnMut(&str),
        timeout: Duration,
    ) -> Result<Screen, DriverError> {
        let timeouts = self.config.timeouts;
        let mut deadline = Instant::now() + timeout;
        let mut last_qr = String::new();
        let mut loading = false;
        let mut last = Screen::Unknown;
        loop {
            let seen = self.observe()?;
            let now = Instant::now();
            let state = Screen::from_script(&seen.s);
            match state {
                Screen::Ready => return Ok(state),
                Screen::Banned | Screen::Outdated | Screen::Conflict => return Ok(state),
                Screen::NeedsQr => {
                    if seen.idle {
                        tracing::info!("QR code went idle: clicking reload");
                        self.eval_bool(&script::click_qr_reload(&self.config.selectors))?;
                    } else if let Some(qr) = seen.qr.filter(|qr| !qr.is_empty() && *qr != last_qr) {
                        tracing::info!("new QR code on screen");
                        on_qr(&qr);
                        last_qr = qr;
                    }
                }
                Screen::Loading if !loading => {
                    loading = true;
                    deadline = deadline.max(now + timeouts.loading);
                }
                _ => {}
            }
            if state != Screen::Unknown {
                last = state;
            }
            if now >= deadline {
                return Ok(last);
            }
            std::thread::sleep(timeouts.poll);
        }
    }
}
