//! WhatsApp Web's DOM as data: the versioned selectors and texts, compiled in and overridable at run time.
//!
//! WhatsApp changes its DOM every few months. The defaults live in `selectors.toml` (compiled in with
//! `include_str!`); an operator follows a DOM change by writing only the changed keys into a TOML file and
//! pointing [`SELECTORS_FILE_ENV`] at it. The override is merged key by key over the defaults, and unknown
//! keys are refused so a typo does not silently keep the old value.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::DriverError;

/// Environment variable naming a TOML file merged over the compiled-in selectors.
pub const SELECTORS_FILE_ENV: &str = "WA_SELECTORS_FILE";

/// The compiled-in selectors file, as shipped.
pub const DEFAULT_SELECTORS_TOML: &str = include_str!("../selectors.toml");

/// Every selector and text the driver uses; one value per DOM fact so an override can change exactly one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Selectors {
    /// Which WhatsApp Web DOM these values were written against (logged at launch).
    pub version: String,
    /// CSS selectors.
    pub css: Css,
    /// User-visible texts the driver recognises screens and buttons by.
    pub text: Texts,
}

/// CSS selectors (and one attribute name) of the elements the driver reads or clicks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Css {
    /// The QR container; carries the payload in [`Css::qr_ref_attribute`].
    pub qr_container: String,
    /// Attribute of the QR container holding the payload a phone scans.
    pub qr_ref_attribute: String,
    /// The QR canvas: only present while a fresh QR can be scanned.
    pub qr_canvas: String,
    /// The "click to reload" button of a QR that went idle.
    pub qr_reload_button: String,
    /// The progress bar of the loading/sync screen.
    pub loading_progress: String,
    /// The chat list: its presence means logged in and synced.
    pub chat_list: String,
    /// The open conversation panel.
    pub main: String,
    /// The message composer of the open conversation.
    pub composer: String,
    /// The send button.
    pub send_button: String,
    /// The icon inside the send button (fallback when the button has no label).
    pub send_icon: String,
    /// An outgoing message bubble.
    pub outgoing_message: String,
    /// The text element inside an outgoing bubble.
    pub outgoing_text: String,
    /// The element inside an outgoing bubble that carries when it was sent.
    pub outgoing_meta: String,
    /// The attribute of [`Css::outgoing_meta`] holding `[time, date] sender: `.
    pub outgoing_meta_attribute: String,
    /// The attribute, on an outgoing bubble or the nearest element around it, holding WhatsApp's
    /// id of the message.
    pub message_id_attribute: String,
    /// Clock icon: not yet acknowledged by the server.
    pub ack_pending: String,
    /// One check: the server acknowledged the message.
    pub ack_sent: String,
    /// Two checks: delivered to the recipient's phone.
    pub ack_delivered: String,
    /// Blue checks: read.
    pub ack_read: String,
    /// The attach button of the open chat.
    pub attach_button: String,
    /// The attach button's icon (fallback when the button has no label).
    pub attach_icon: String,
    /// The attach menu's item for pictures.
    pub attach_photos: String,
    /// The attach menu's item for documents.
    pub attach_document: String,
    /// The file input for pictures an open attach menu holds (older builds).
    pub attach_photos_input: String,
    /// The file input for documents an open attach menu holds (older builds).
    pub attach_document_input: String,
    /// The caption box of the media editor.
    pub media_caption: String,
    /// The media editor's send control.
    pub media_send_button: String,
    /// The icon inside the media editor's send control (fallback).
    pub media_send_icon: String,
    /// Inside an outgoing bubble: what shows it carries a file (a picture, a document's icon).
    pub outgoing_media: String,
    /// Any modal popup.
    pub popup: String,
    /// The buttons of a modal popup.
    pub popup_button: String,
}

/// Texts the driver matches (as substrings of visible text, or exact button labels).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    /// The loading/sync screen.
    pub loading: String,
    /// The popup for a number that is not on WhatsApp.
    pub invalid_phone: String,
    /// The button closing an information popup.
    pub popup_ok: String,
    /// The popup saying another window holds the session.
    pub conflict: String,
    /// The button taking the session over.
    pub use_here: String,
    /// The banned screen.
    pub banned: String,
    /// The outdated screen.
    pub outdated: String,
    /// Query parameter present after the phone logged the device out.
    pub post_logout_param: String,
    /// The order of a message time stamp's date: `month-first`, `day-first` or `year-first`.
    pub message_date_order: String,
}

impl Default for Selectors {
    fn default() -> Self {
        // The compiled-in file is checked by a unit test; falling back keeps this infallible anyway.
        Self::from_toml_layers(&[]).unwrap_or_else(|_| Self::empty())
    }
}

impl Selectors {
    /// The compiled-in defaults, with the file named by [`SELECTORS_FILE_ENV`] merged over them when set.
    pub fn from_env() -> Result<Self, DriverError> {
        match std::env::var_os(SELECTORS_FILE_ENV) {
            Some(path) if !path.is_empty() => Self::load(Some(Path::new(&path))),
            _ => Self::load(None),
        }
    }

    /// The compiled-in defaults, with `override_file` (only the keys that changed) merged over them.
    pub fn load(override_file: Option<&Path>) -> Result<Self, DriverError> {
        match override_file {
            None => Self::from_toml_layers(&[]),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| DriverError::Selectors {
                    message: format!("cannot read {}: {e}", path.display()),
                })?;
                Self::with_override(&text)
            }
        }
    }

    /// The compiled-in defaults with an override given as a TOML string.
    pub fn with_override(toml_text: &str) -> Result<Self, DriverError> {
        Self::from_toml_layers(&[toml_text])
    }

    fn from_toml_layers(layers: &[&str]) -> Result<Self, DriverError> {
        let mut merged: toml::Table = DEFAULT_SELECTORS_TOML
            .parse()
            .map_err(|e| DriverError::Selectors { message: format!("compiled-in selectors.toml: {e}") })?;
        for layer in layers {
            let table: toml::Table = layer
                .parse()
                .map_err(|e| DriverError::Selectors { message: format!("selectors override: {e}") })?;
            merge(&mut merged, table);
        }
        toml::Value::Table(merged)
            .try_into()
            .map_err(|e| DriverError::Selectors { message: format!("selectors: {e}") })
    }

    fn empty() -> Self {
        Self {
            version: String::new(),
            css: Css {
                qr_container: String::new(),
                qr_ref_attribute: String::new(),
                qr_canvas: String::new(),
                qr_reload_button: String::new(),
                loading_progress: String::new(),
                chat_list: String::new(),
                main: String::new(),
                composer: String::new(),
                send_button: String::new(),
                send_icon: String::new(),
                outgoing_message: String::new(),
                outgoing_text: String::new(),
                outgoing_meta: String::new(),
                outgoing_meta_attribute: String::new(),
                message_id_attribute: String::new(),
                ack_pending: String::new(),
                ack_sent: String::new(),
                ack_delivered: String::new(),
                ack_read: String::new(),
                attach_button: String::new(),
                attach_icon: String::new(),
                attach_photos: String::new(),
                attach_document: String::new(),
                attach_photos_input: String::new(),
                attach_document_input: String::new(),
                media_caption: String::new(),
                media_send_button: String::new(),
                media_send_icon: String::new(),
                outgoing_media: String::new(),
                popup: String::new(),
                popup_button: String::new(),
            },
            text: Texts {
                loading: String::new(),
                invalid_phone: String::new(),
                popup_ok: String::new(),
                conflict: String::new(),
                use_here: String::new(),
                banned: String::new(),
                outdated: String::new(),
                post_logout_param: String::new(),
                message_date_order: String::new(),
            },
        }
    }
}

/// Merges `layer` into `base`: tables recursively, any other value replaces.
fn merge(base: &mut toml::Table, layer: toml::Table) {
    for (key, value) in layer {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(incoming)) => merge(existing, incoming),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_compiled_in_file_parses_and_names_the_known_whatsapp_selectors() {
        let selectors = Selectors::load(None).unwrap();
        assert_eq!(selectors.version, "wa-web-2026.12b");
        assert_eq!(selectors.css.chat_list, "#pane-side");
        assert_eq!(selectors.css.qr_canvas, "div[data-ref] canvas");
        assert_eq!(selectors.css.send_button, "button[aria-label=\"Send\"]");
        assert_eq!(selectors.text.invalid_phone, "Phone number shared via url is invalid.");
        assert_eq!(selectors.css.attach_button, "#main footer button[aria-label=\"Attach\"]");
        assert_eq!(selectors.css.media_send_button, "div[role=\"button\"][aria-label^=\"Send\"]");
        assert_eq!(Selectors::default(), selectors);
    }

    #[test]
    fn an_override_changes_only_the_keys_it_names() {
        let selectors =
            Selectors::with_override("version = \"x\"\n[css]\nchat_list = \"#pane-side-v2\"\n").unwrap();
        assert_eq!(selectors.version, "x");
        assert_eq!(selectors.css.chat_list, "#pane-side-v2");
        assert_eq!(selectors.css.main, "#main");
        assert_eq!(selectors.text.use_here, "Use here");
    }

    #[test]
    fn a_misspelt_override_key_is_refused() {
        let error = Selectors::with_override("[css]\nchat_lst = \"#x\"\n").unwrap_err();
        assert_eq!(error.code(), "SELECTORS_INVALID");
    }
}
