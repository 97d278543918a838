//! Sending a file with a caption through WhatsApp Web's attach flow, as a person does: open the
//! chat, the attach menu, its item for the file's kind (pictures through "Photos & videos", other
//! files through "Document"), give the file input it opens the file (DevTools
//! `DOM.setFileInputFiles`, no file chooser), write the caption in the media editor, send, and
//! wait for the server ack of the new bubble. The upload makes the ack slower than a text's: it
//! is awaited [`MEDIA_ACK_FACTOR`] times as long.

use super::send::lost_state;
use super::*;
use domain::MediaKind;
use headless_chrome::protocol::cdp::DOM;
use std::path::Path;

/// How many times the text ack bound a file's ack may take (the upload comes first).
pub const MEDIA_ACK_FACTOR: u32 = 4;

/// A file to send: where it is on disk (its name is the name a document shows) and how.
#[derive(Debug, Clone, Copy)]
pub struct Attachment<'a> {
    /// The file.
    pub path: &'a Path,
    /// A picture or a document.
    pub kind: MediaKind,
}

impl WaDriver {
    /// Sends the file `attachment` to `phone` with `caption` (may be empty) and waits for the
    /// server ack.
    ///
    /// Errors: NOT_ON_WHATSAPP and MEDIA_REFUSED (nothing sent), SEND_TIMEOUT (sent, no ack in
    /// time: verify before resending), SESSION_LOST, WA_UNREACHABLE, BROWSER_CRASHED.
    pub fn send_media(
        &self,
        phone: &PhoneNumber,
        caption: &str,
        attachment: Attachment<'_>,
    ) -> Result<SentMessage, DriverError> {
        let started = Instant::now();
        let result = self.send_media_inner(phone, caption, attachment, started);
        match &result {
            Ok(sent) => tracing::debug!(
                to = %phone,
                kind = attachment.kind.as_str(),
                elapsed_ms = sent.elapsed.as_millis(),
                "file acknowledged by the server"
            ),
            Err(error) => {
                tracing::warn!(to = %phone, code = %error.code(), %error, "sending a file failed");
                if !matches!(error, DriverError::BrowserCrashed { .. }) {
                    self.capture_diagnostics(&format!("media-{}", error.code().as_str().to_lowercase()));
                }
            }
        }
        result
    }

    fn send_media_inner(
        &self,
        phone: &PhoneNumber,
        caption: &str,
        attachment: Attachment<'_>,
        started: Instant,
    ) -> Result<SentMessage, DriverError> {
        let path = attachment
            .path
            .canonicalize()
            .map_err(|e| DriverError::Config { message: format!("the file to send cannot be read: {e}") })?;
        let opened_via = self.open_chat(phone, "", ChatOpening::InAppLink)?;
        let selectors = &self.config.selectors;
        let kind = attachment.kind;
        let steps_by = Instant::now() + self.config.timeouts.open_chat;
        // The attach menu, then its item, which opens a file input (caught, not a chooser).
        let menu = script::open_attach_menu(selectors);
        let item = script::attach_item(selectors, kind);
        match self.step_then_await(&menu, "CLICKED", &item, &["ITEM"], steps_by)?.as_deref() {
            Some("ITEM") => {}
            Some("NO_BUTTON") => {
                return Err(DriverError::WaUnreachable {
                    message: "no attach button in the open chat".into(),
                });
            }
            Some(other) if let Some(state) = lost_state(other) => {
                return Err(DriverError::SessionLost { state });
            }
            _ => return Err(DriverError::WaUnreachable { message: "the attach menu did not open".into() }),
        }
        let choose = script::choose_attach_item(selectors, kind);
        let caught = script::file_input_caught(selectors, kind);
        if self.step_then_await(&choose, "CLICKED", &caught, &["CAUGHT"], steps_by)?.as_deref()
            != Some("CAUGHT")
        {
            return Err(DriverError::WaUnreachable {
                message: format!("the attach menu's {} item opened no file input", kind.as_str()),
            });
        }
        self.give_file(&path)?;
        // The media editor, or WhatsApp Web's refusal of the file.
        let editor_by = Instant::now() + self.config.timeouts.open_chat;
        match self
            .await_status(
                &script::media_editor(selectors),
                &["EDITOR", "REFUSED", "NEEDS_QR", "CONFLICT", "BANNED", "OUTDATED"],
                editor_by,
            )?
            .as_deref()
        {
            Some("EDITOR") => {}
            Some("REFUSED") => {
                let why = self.eval_string(&script::popup_text(selectors))?.unwrap_or_default();
                self.dismiss_popup()?;
                return Err(DriverError::MediaRefused { message: why });
            }
            Some(other) if let Some(state) = lost_state(other) => {
                return Err(DriverError::SessionLost { state });
            }
            _ => return Err(DriverError::WaUnreachable { message: "the media editor did not open".into() }),
        }
        if !caption.is_empty() {
            if !self.eval_bool(&script::clear_caption(selectors))? {
                return Err(DriverError::WaUnreachable {
                    message: "no caption box in the media editor".into(),
                });
            }
            self.tab.send_character(caption).map_err(|e| self.cdp_error(&e))?;
        }
        let allowed = self.config.timeouts.ack * MEDIA_ACK_FACTOR;
        let ack_deadline = Instant::now() + allowed;
        let click = script::click_media_send(selectors, caption);
        let ack_state = script::ack_state(selectors);
        let status =
            self.step_then_await(&click, "CLICKED", &ack_state, &["ACK", "INVALID"], ack_deadline)?;
        self.until_acked(status, ack_deadline, allowed, "the caption box did not take the caption")?;
        Ok(SentMessage { opened_via, elapsed: started.elapsed() })
    }

    /// Gives the caught file input the file at `path` (absolute), as choosing it would.
    fn give_file(&self, path: &Path) -> Result<(), DriverError> {
        let input = self.tab.evaluate(script::take_file_input(), false).map_err(|e| self.cdp_error(&e))?;
        let Some(object_id) = input.object_id else {
            return Err(DriverError::WaUnreachable { message: "the file input went away".into() });
        };
        self.tab
            .call_method(DOM::SetFileInputFiles {
                files: vec![path.display().to_string()],
                node_id: None,
                backend_node_id: None,
                object_id: Some(object_id),
            })
            .map_err(|e| self.cdp_error(&e))?;
        Ok(())
    }
}
