//! Sending: opening a chat in place (or by a `/send` load), clicking send, waiting for the server
//! ack, and checking a chat for an earlier send.

use super::*;

impl WaDriver {
    /// Sends `text` to `phone`, opening the chat in place through an in-app `wa.me` link (falling back to
    /// a `/send` load), and waits for the server ack.
    ///
    /// Errors: NOT_ON_WHATSAPP (nothing sent), SEND_TIMEOUT (clicked, no ack in `timeouts.ack`: the
    /// message may still arrive — verify before resending), SESSION_LOST, BROWSER_CRASHED.
    pub fn send(&self, phone: &PhoneNumber, text: &str) -> Result<SentMessage, DriverError> {
        self.send_with(phone, text, ChatOpening::InAppLink)
    }

    /// [`WaDriver::send`] with an explicit way of opening the chat (the benchmark compares both).
    pub fn send_with(
        &self,
        phone: &PhoneNumber,
        text: &str,
        opening: ChatOpening,
    ) -> Result<SentMessage, DriverError> {
        let started = Instant::now();
        let result = self.send_inner(phone, text, opening, started);
        match &result {
            Ok(sent) => tracing::debug!(
                to = %phone,
                via = ?sent.opened_via,
                elapsed_ms = sent.elapsed.as_millis(),
                "message acknowledged by the server"
            ),
            Err(error) => {
                tracing::warn!(to = %phone, code = %error.code(), %error, "send failed");
                if !matches!(error, DriverError::BrowserCrashed { .. }) {
                    self.capture_diagnostics(&format!("send-{}", error.code().as_str().to_lowercase()));
                }
            }
        }
        result
    }

    pub(super) fn send_inner(
        &self,
        phone: &PhoneNumber,
        text: &str,
        opening: ChatOpening,
        started: Instant,
    ) -> Result<SentMessage, DriverError> {
        let opened_via = self.open_chat(phone, text, opening)?;
        // The click and the wait for its ack in one round trip when the link pre-filled the
        // composer (each DevTools call costs up to ~100 ms in the transport).
        let ack_deadline = Instant::now() + self.config.timeouts.ack;
        let ack_state = script::ack_state(&self.config.selectors);
        let click = script::click_send(&self.config.selectors, text);
        let acked = ["ACK", "INVALID"];
        let mut status = self.step_then_await(&click, "CLICKED", &ack_state, &acked, ack_deadline)?;
        if status.as_deref() == Some("FILL") {
            self.fill_composer(text)?;
            status = self.step_then_await(&click, "CLICKED", &ack_state, &acked, ack_deadline)?;
        }
        let allowed = self.config.timeouts.ack;
        self.until_acked(status, ack_deadline, allowed, "the composer did not take the message text")?;
        Ok(SentMessage { opened_via, elapsed: started.elapsed() })
    }

    /// After a send control was clicked (or not: `status` says what the click script answered),
    /// waits for the new bubble's server ack until `ack_deadline` (`allowed` after the click).
    /// `unfilled` names what a FILL answer means.
    pub(super) fn until_acked(
        &self,
        mut status: Option<String>,
        ack_deadline: Instant,
        allowed: Duration,
        unfilled: &str,
    ) -> Result<(), DriverError> {
        match status.as_deref() {
            // Clicked: what follows is the ack's state.
            Some(s) if s != "FILL" && s != "NO_BUTTON" => {}
            Some("FILL") => return Err(DriverError::WaUnreachable { message: unfilled.to_owned() }),
            _ => {
                return Err(DriverError::WaUnreachable {
                    message: "no send button in the open chat".to_owned(),
                });
            }
        }
        let ack_state = script::ack_state(&self.config.selectors);
        let acked = ["ACK", "INVALID"];
        loop {
            match status.as_deref() {
                Some("ACK") => return Ok(()),
                Some("INVALID") => {
                    self.dismiss_popup()?;
                    return Err(DriverError::NotOnWhatsapp);
                }
                Some(other) => {
                    if let Some(state) = lost_state(other) {
                        return Err(DriverError::SessionLost { state });
                    }
                }
                None => {}
            }
            if Instant::now() >= ack_deadline {
                return Err(DriverError::SendTimeout { waited_ms: allowed.as_millis() });
            }
            // Between documents the evaluation fails at once: do not spin on it.
            if status.is_none() {
                std::thread::sleep(self.send_poll());
            }
            status = self.await_status(&ack_state, &acked, ack_deadline)?;
        }
    }

    /// Verify-before-resend: opens the chat with `phone` and tells what it shows of an outgoing
    /// message with exactly `text` sent at or after `since` (to the minute; every one when `None`),
    /// so an identical earlier message (a recurring campaign) is no proof: `Delivered` when the
    /// server acknowledged one, `Pending` when one still shows the clock after waiting the ack
    /// timeout for it (WhatsApp Web may still send it: never a reason to send again), `Absent`
    /// otherwise. A number not on WhatsApp has nothing sent.
    pub fn already_sent(
        &self,
        phone: &PhoneNumber,
        text: &str,
        since: Option<time::OffsetDateTime>,
    ) -> Result<Earlier, DriverError> {
        self.already_sent_with(phone, text, false, since)
    }

    /// [`WaDriver::already_sent`] for a file sent with `caption`: only a bubble that carries a
    /// file (a picture, a document) and shows that caption counts.
    pub fn already_sent_media(
        &self,
        phone: &PhoneNumber,
        caption: &str,
        since: Option<time::OffsetDateTime>,
    ) -> Result<Earlier, DriverError> {
        self.already_sent_with(phone, caption, true, since)
    }

    fn already_sent_with(
        &self,
        phone: &PhoneNumber,
        text: &str,
        with_media: bool,
        since: Option<time::OffsetDateTime>,
    ) -> Result<Earlier, DriverError> {
        match self.open_chat(phone, "", ChatOpening::InAppLink) {
            Ok(_) => {}
            Err(DriverError::NotOnWhatsapp) => return Ok(Earlier::Absent),
            Err(error) => return Err(error),
        }
        let since_ms = since.map(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX));
        let check = script::has_outgoing(&self.config.selectors, text, with_media, since_ms);
        let deadline = Instant::now() + self.config.timeouts.ack;
        let earlier = loop {
            // A bubble still showing the clock is awaited in the page until it is acknowledged.
            let seen = match self.await_status(&check, &["SENT", "NONE"], deadline)?.as_deref() {
                Some("SENT") => Earlier::Delivered,
                Some("PENDING") => Earlier::Pending,
                _ => Earlier::Absent,
            };
            if seen != Earlier::Pending || Instant::now() >= deadline {
                break seen;
            }
        };
        tracing::debug!(to = %phone, ?earlier, "checked the chat for an earlier send");
        Ok(earlier)
    }

    /// Opens the chat, in place or by URL; returns how it was finally opened.
    pub(super) fn open_chat(
        &self,
        phone: &PhoneNumber,
        text: &str,
        opening: ChatOpening,
    ) -> Result<ChatOpening, DriverError> {
        // The in-place link checks the chat list itself (one round trip less per message).
        if opening == ChatOpening::InAppLink {
            if self.open_chat_in_place(phone, text)? {
                return Ok(ChatOpening::InAppLink);
            }
        } else {
            self.ensure_ready()?;
        }
        let mut url = format!("{}send?phone={}", base_url(&self.config.wa_url), phone.digits());
        if !text.is_empty() {
            url.push_str("&text=");
            url.push_str(&script::percent_encode(text));
        }
        self.navigate(&url)?;
        let timeouts = self.config.timeouts;
        if self.wait_chat_open(timeouts.first_screen + timeouts.loading)? {
            return Ok(ChatOpening::SendUrl);
        }
        Err(DriverError::WaUnreachable { message: "the chat did not open".to_owned() })
    }

    /// Opens the chat through an in-app link without a page load: a link the app does not
    /// intercept yet is cancelled and clicked again until `timeouts.intercept`, and one it took
    /// but that opened no chat is clicked once more. False when a full load is the way left.
    fn open_chat_in_place(&self, phone: &PhoneNumber, text: &str) -> Result<bool, DriverError> {
        let mut href = format!("https://wa.me/{}", phone.digits());
        if !text.is_empty() {
            href.push_str("?text=");
            href.push_str(&script::percent_encode(text));
        }
        let link = script::open_chat_link(&self.config.selectors, &href);
        let chat_opening = script::chat_opening(&self.config.selectors);
        let deadline = Instant::now() + self.config.timeouts.intercept;
        let mut taken = 0;
        let mut ignored = 0_u32;
        loop {
            // The click and the wait for the chat in one round trip; the rest of the wait, if
            // the chat is slow to open, below.
            let open_by = Instant::now() + self.config.timeouts.open_chat;
            let status =
                self.step_then_await(&link, "TAKEN", &chat_opening, &["OPEN", "INVALID"], open_by)?;
            match status.as_deref() {
                // Not on the chat list (loading, a popup left over, or a lost session): wait for
                // it, or learn why not, the long way.
                Some("UNREADY") => self.ensure_ready()?,
                // Not intercepted (yet), or the page is between documents.
                Some("IGNORED") | None => ignored += 1,
                Some(status) => {
                    taken += 1;
                    let open = match status {
                        "OPEN" => true,
                        "INVALID" => {
                            self.dismiss_popup()?;
                            return Err(DriverError::NotOnWhatsapp);
                        }
                        other => match lost_state(other) {
                            Some(state) => return Err(DriverError::SessionLost { state }),
                            None => self.wait_chat_open(open_by.saturating_duration_since(Instant::now()))?,
                        },
                    };
                    if open {
                        if ignored > 0 {
                            tracing::debug!(ignored, "the app intercepted chat links after a wait");
                        }
                        return Ok(true);
                    }
                    if taken >= IN_PLACE_TRIES {
                        tracing::warn!(to = %phone, "in-app chat link did not open the chat: loading /send instead");
                        return Ok(false);
                    }
                    self.ensure_ready()?;
                }
            }
            if Instant::now() >= deadline {
                tracing::warn!(to = %phone, ignored, "the app did not intercept chat links in time: loading /send instead");
                return Ok(false);
            }
            std::thread::sleep(self.send_poll());
        }
    }

    /// Waits for the chat to open: true when open, false on timeout; errors for invalid/lost.
    pub(super) fn wait_chat_open(&self, timeout: Duration) -> Result<bool, DriverError> {
        let deadline = Instant::now() + timeout;
        let chat_opening = script::chat_opening(&self.config.selectors);
        loop {
            let status = self.await_status(&chat_opening, &["OPEN", "INVALID"], deadline)?;
            match status.as_deref() {
                Some("OPEN") => return Ok(true),
                Some("INVALID") => {
                    self.dismiss_popup()?;
                    return Err(DriverError::NotOnWhatsapp);
                }
                Some(other) => {
                    if let Some(state) = lost_state(other) {
                        return Err(DriverError::SessionLost { state });
                    }
                }
                None => {}
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            // Between documents the evaluation fails at once: do not spin on it.
            if status.is_none() {
                std::thread::sleep(self.send_poll());
            }
        }
    }

    /// Types `text` into an emptied composer (when the link did not pre-fill it).
    pub(super) fn fill_composer(&self, text: &str) -> Result<(), DriverError> {
        if !self.eval_bool(&script::clear_composer(&self.config.selectors))? {
            return Err(DriverError::WaUnreachable { message: "no composer in the open chat".to_owned() });
        }
        self.tab.send_character(text).map_err(|e| self.cdp_error(&e))?;
        Ok(())
    }

    /// Poll interval of the send path: a chat opening and an ack are short waits on a live page, so they
    /// are polled faster than session screens (at most every 50 ms).
    pub(super) fn send_poll(&self) -> Duration {
        self.config.timeouts.poll.min(SEND_POLL)
    }

    /// Send needs the chat list: waits briefly (one `open_chat` bound) through a LOADING screen.
    pub(super) fn ensure_ready(&self) -> Result<(), DriverError> {
        let deadline = Instant::now() + self.config.timeouts.open_chat;
        loop {
            let seen = self.observe()?;
            if seen.s == "READY" {
                // A popup left over from an earlier recipient would swallow the next click.
                if seen.invalid {
                    self.dismiss_popup()?;
                }
                return Ok(());
            }
            if let Some(state) = lost_state(&seen.s) {
                return Err(DriverError::SessionLost { state });
            }
            if Instant::now() >= deadline {
                return Err(DriverError::SessionLost { state: Screen::from_script(&seen.s) });
            }
            std::thread::sleep(self.config.timeouts.poll);
        }
    }

    pub(super) fn dismiss_popup(&self) -> Result<(), DriverError> {
        let ok = &self.config.selectors.text.popup_ok;
        self.eval_bool(&script::click_popup_button(&self.config.selectors, ok))?;
        Ok(())
    }
}

/// The session state a page-script status means when it is not usable for sending.
pub(super) fn lost_state(status: &str) -> Option<Screen> {
    match status {
        "NEEDS_QR" => Some(Screen::NeedsQr),
        "CONFLICT" => Some(Screen::Conflict),
        "BANNED" => Some(Screen::Banned),
        "OUTDATED" => Some(Screen::Outdated),
        _ => None,
    }
}

/// The WhatsApp Web origin with a trailing slash, for `send?phone=`.
fn base_url(wa_url: &str) -> String {
    if wa_url.ends_with('/') { wa_url.to_owned() } else { format!("{wa_url}/") }
}
