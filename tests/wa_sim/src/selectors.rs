//! The one place that names every selector and text the simulated WhatsApp Web pages use.
//!
//! WhatsApp changes its DOM every few months, so wacamp keeps its selectors in a versioned config; this
//! module is the simulator's side of that contract. The defaults mirror what peers (whatsapp-web.js,
//! wppconnect, WAHA) know of the real web.whatsapp.com. The pages are built from [`Selectors`] (sent to the
//! page as JSON), and [`Selectors::css`] derives the CSS/XPath a driver uses, so a test can start the
//! simulator with one field changed (e.g. [`Selectors::chat_list_id`]) and prove that the driver follows a
//! runtime selector override instead of a compiled-in constant.

use serde::{Deserialize, Serialize};

/// The knobs the pages are built from: ids, attribute names, icon names and user-visible texts.
///
/// Every field has the real WhatsApp Web value by default; override one through
/// [`crate::SimConfig::selectors`] to simulate a DOM change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Selectors {
    /// Version tag of this set, so a driver's config can say which DOM it was written against.
    pub version: String,
    /// Attribute of the QR container that holds the QR payload (`div[data-ref]`).
    pub qr_ref_attribute: String,
    /// `aria-label` of the QR canvas, as the real page labels it.
    pub qr_canvas_label: String,
    /// Text of the button shown once the QR went idle (UNPAIRED_IDLE).
    pub qr_reload_text: String,
    /// Text of the loading/sync screen, followed by ` [NN%]`.
    pub loading_text: String,
    /// Id of the chat list; its presence means "logged in and synced" (`#pane-side`).
    pub chat_list_id: String,
    /// Id of the left column holding the chat list.
    pub side_id: String,
    /// Id of the open conversation panel.
    pub main_id: String,
    /// `aria-label` of the composer.
    pub composer_label: String,
    /// `aria-label` of the send button.
    pub send_label: String,
    /// `data-icon` inside the send button.
    pub send_icon: String,
    /// Class of an outgoing message bubble.
    pub outgoing_class: String,
    /// `data-icon` of a message that the server has not acknowledged yet.
    pub ack_pending_icon: String,
    /// `data-icon` of a message the server acknowledged (one check).
    pub ack_sent_icon: String,
    /// `data-icon` of a message delivered to the recipient's phone (two checks).
    pub ack_delivered_icon: String,
    /// `data-icon` of a message the recipient read (blue checks; never shown by the simulator).
    pub ack_read_icon: String,
    /// Attribute that marks a modal popup (`div[data-animate-modal-popup="true"]`).
    pub popup_attribute: String,
    /// Text of the button that closes an information popup.
    pub popup_ok_text: String,
    /// Popup text for a number that is malformed or not on WhatsApp.
    pub invalid_phone_text: String,
    /// Popup text when another window holds the session.
    pub conflict_text: String,
    /// Text of the button that takes the session over from the other window.
    pub use_here_text: String,
    /// Text of the screen shown to a banned account.
    pub banned_text: String,
    /// Text of the screen shown when this WhatsApp Web build is too old.
    pub outdated_text: String,
    /// Query parameter the page carries after the phone logged this device out.
    pub post_logout_param: String,
    /// `aria-label` of the attach button in the chat footer (left of the composer).
    pub attach_label: String,
    /// `data-icon` inside the attach button.
    pub attach_icon: String,
    /// `aria-label` of the attach menu item that picks an image (a new `input[type=file]` for images).
    pub attach_photos_label: String,
    /// `aria-label` of the attach menu item that picks any file as a document.
    pub attach_document_label: String,
    /// `aria-label` of the media editor's caption box.
    pub caption_label: String,
    /// `data-icon` inside the media editor's send control (a `div[role=button]` labelled
    /// [`Selectors::send_label`], never a `<button>`).
    pub media_send_icon: String,
    /// `aria-label` of the media editor's control that discards the file.
    pub media_close_label: String,
    /// `data-icon` of a PDF document in a bubble and in the editor.
    pub document_pdf_icon: String,
    /// `data-icon` of any other document.
    pub document_icon: String,
    /// Popup text when "Photos & videos" is given a file that is not an image.
    pub media_unsupported_text: String,
    /// Popup text when a file is over its limit; `{limit}` is replaced by the limit ("16 MB").
    pub media_too_large_text: String,
}

impl Default for Selectors {
    fn default() -> Self {
        Self {
            version: "wa-web-2026.12".to_owned(),
            qr_ref_attribute: "data-ref".to_owned(),
            qr_canvas_label: "Scan this QR code to link a device!".to_owned(),
            qr_reload_text: "Click to reload QR code".to_owned(),
            loading_text: "Loading your chats".to_owned(),
            chat_list_id: "pane-side".to_owned(),
            side_id: "side".to_owned(),
            main_id: "main".to_owned(),
            composer_label: "Type a message".to_owned(),
            send_label: "Send".to_owned(),
            send_icon: "send".to_owned(),
            outgoing_class: "message-out".to_owned(),
            ack_pending_icon: "msg-time".to_owned(),
            ack_sent_icon: "msg-check".to_owned(),
            ack_delivered_icon: "msg-dblcheck".to_owned(),
            ack_read_icon: "msg-dblcheck-ack".to_owned(),
            popup_attribute: "data-animate-modal-popup".to_owned(),
            popup_ok_text: "OK".to_owned(),
            invalid_phone_text: "Phone number shared via url is invalid.".to_owned(),
            conflict_text: "WhatsApp is open in another window. Click \u{201c}Use here\u{201d} to use \
                            WhatsApp in this window."
                .to_owned(),
            use_here_text: "Use here".to_owned(),
            banned_text: "This account is not allowed to use WhatsApp.".to_owned(),
            outdated_text: "WhatsApp Web is out of date. Update your browser or reload to get the \
                            latest version."
                .to_owned(),
            post_logout_param: "post_logout=1".to_owned(),
            attach_label: "Attach".to_owned(),
            attach_icon: "plus-rounded".to_owned(),
            attach_photos_label: "Photos & videos".to_owned(),
            attach_document_label: "Document".to_owned(),
            caption_label: "Add a caption".to_owned(),
            media_send_icon: "wds-ic-send-filled".to_owned(),
            media_close_label: "Close".to_owned(),
            document_pdf_icon: "document-PDF-icon".to_owned(),
            document_icon: "document-refreshed".to_owned(),
            media_unsupported_text: "The file you tried adding is not supported.".to_owned(),
            media_too_large_text: "The file you tried adding is larger than the {limit} limit.".to_owned(),
        }
    }
}

/// The CSS selectors (and the few XPaths for buttons found by text) a driver uses against these pages.
///
/// Derived from [`Selectors`] so that an override changes both the page and the expected selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Css {
    /// The QR container; its `data-ref` attribute holds the payload.
    pub qr_container: String,
    /// The QR canvas: present only while a fresh QR can be scanned.
    pub qr_canvas: String,
    /// The "click to reload" button of an idle QR.
    pub qr_reload_button: String,
    /// The progress bar of the loading/sync screen.
    pub loading_progress: String,
    /// The chat list: logged in and synced.
    pub chat_list: String,
    /// One row of the chat list.
    pub chat_list_row: String,
    /// The open conversation.
    pub main: String,
    /// The message composer of the open conversation.
    pub composer: String,
    /// The send button.
    pub send_button: String,
    /// The icon inside the send button.
    pub send_icon: String,
    /// An outgoing message bubble.
    pub outgoing_message: String,
    /// The text of an outgoing message bubble.
    pub outgoing_text: String,
    /// Pending (clock) icon of an outgoing message.
    pub ack_pending: String,
    /// Server-acknowledged (one check) icon.
    pub ack_sent: String,
    /// Delivered (two checks) icon.
    pub ack_delivered: String,
    /// Read (blue checks) icon.
    pub ack_read: String,
    /// Any modal popup (invalid number, conflict).
    pub popup: String,
    /// The buttons of a modal popup.
    pub popup_button: String,
    /// XPath of the popup's OK button.
    pub popup_ok_button_xpath: String,
    /// XPath of the conflict popup's "Use here" button.
    pub use_here_button_xpath: String,
    /// The attach button of the open chat's footer.
    pub attach_button: String,
    /// The attach menu, open after a click on the attach button.
    pub attach_menu: String,
    /// The attach menu item for images.
    pub attach_photos_item: String,
    /// The attach menu item for documents.
    pub attach_document_item: String,
    /// The media editor's caption box (outside `#main`).
    pub media_caption: String,
    /// The media editor's send control: a `div`, so [`Css::send_button`] never matches it.
    pub media_send_button: String,
    /// The icon inside the media editor's send control.
    pub media_send_icon: String,
    /// The media editor's control that discards the file.
    pub media_close_button: String,
    /// The image of an outgoing media bubble.
    pub outgoing_image: String,
    /// The icon of an outgoing PDF document.
    pub outgoing_pdf_icon: String,
    /// The icon of an outgoing document of any other type.
    pub outgoing_document_icon: String,
    /// The file name of an outgoing document (never a `span.selectable-text`: that is the caption).
    pub outgoing_document_name: String,
}

impl Selectors {
    /// Derives the driver-facing selectors from these knobs.
    pub fn css(&self) -> Css {
        let popup = format!("div[{}=\"true\"]", self.popup_attribute);
        let popup_xpath = format!("//div[@{}=\"true\"]", self.popup_attribute);
        let main = format!("#{}", self.main_id);
        let outgoing = format!("div.{}", self.outgoing_class);
        Css {
            qr_container: format!("div[{}]", self.qr_ref_attribute),
            qr_canvas: format!("div[{}] canvas", self.qr_ref_attribute),
            qr_reload_button: format!("div[{}] > span > button", self.qr_ref_attribute),
            loading_progress: "progress".to_owned(),
            chat_list: format!("#{}", self.chat_list_id),
            chat_list_row: format!("#{} div[role=\"listitem\"]", self.chat_list_id),
            composer: format!("{main} footer div[contenteditable=\"true\"][role=\"textbox\"]"),
            main,
            send_button: format!("button[aria-label=\"{}\"]", self.send_label),
            send_icon: format!("span[data-icon=\"{}\"]", self.send_icon),
            outgoing_text: format!("{outgoing} span.selectable-text"),
            outgoing_message: outgoing,
            ack_pending: format!("span[data-icon=\"{}\"]", self.ack_pending_icon),
            ack_sent: format!("span[data-icon=\"{}\"]", self.ack_sent_icon),
            ack_delivered: format!("span[data-icon=\"{}\"]", self.ack_delivered_icon),
            ack_read: format!("span[data-icon=\"{}\"]", self.ack_read_icon),
            popup_button: format!("{popup} button"),
            popup,
            popup_ok_button_xpath: format!(
                "{popup_xpath}//button[normalize-space(.)=\"{}\"]",
                self.popup_ok_text
            ),
            use_here_button_xpath: format!(
                "{popup_xpath}//button[normalize-space(.)=\"{}\"]",
                self.use_here_text
            ),
            attach_button: format!("#{} footer button[aria-label=\"{}\"]", self.main_id, self.attach_label),
            attach_menu: "div[role=\"menu\"]".to_owned(),
            attach_photos_item: format!(
                "button[role=\"menuitem\"][aria-label=\"{}\"]",
                self.attach_photos_label
            ),
            attach_document_item: format!(
                "button[role=\"menuitem\"][aria-label=\"{}\"]",
                self.attach_document_label
            ),
            media_caption: format!(
                "div[contenteditable=\"true\"][role=\"textbox\"][aria-label=\"{}\"]",
                self.caption_label
            ),
            media_send_button: format!("div[role=\"button\"][aria-label=\"{}\"]", self.send_label),
            media_send_icon: format!("span[data-icon=\"{}\"]", self.media_send_icon),
            media_close_button: format!("div[role=\"button\"][aria-label=\"{}\"]", self.media_close_label),
            outgoing_image: format!("div.{} img[src^=\"blob:\"]", self.outgoing_class),
            outgoing_pdf_icon: format!(
                "div.{} span[data-icon=\"{}\"]",
                self.outgoing_class, self.document_pdf_icon
            ),
            outgoing_document_icon: format!(
                "div.{} span[data-icon=\"{}\"]",
                self.outgoing_class, self.document_icon
            ),
            outgoing_document_name: format!("div.{} span.document-name", self.outgoing_class),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_css_matches_what_peers_know_of_whatsapp_web() {
        let css = Selectors::default().css();
        assert_eq!(css.qr_canvas, "div[data-ref] canvas");
        assert_eq!(css.chat_list, "#pane-side");
        assert_eq!(css.composer, "#main footer div[contenteditable=\"true\"][role=\"textbox\"]");
        assert_eq!(css.send_button, "button[aria-label=\"Send\"]");
        assert_eq!(css.send_icon, "span[data-icon=\"send\"]");
        assert_eq!(css.ack_delivered, "span[data-icon=\"msg-dblcheck\"]");
    }

    #[test]
    fn the_media_editor_send_control_is_not_matched_by_the_text_send_button_selector() {
        let css = Selectors::default().css();
        assert_eq!(css.attach_button, "#main footer button[aria-label=\"Attach\"]");
        assert_eq!(css.attach_photos_item, "button[role=\"menuitem\"][aria-label=\"Photos & videos\"]");
        assert_eq!(
            css.media_caption,
            "div[contenteditable=\"true\"][role=\"textbox\"][aria-label=\"Add a caption\"]"
        );
        assert_eq!(css.media_send_button, "div[role=\"button\"][aria-label=\"Send\"]");
        assert!(css.send_button.starts_with("button["));
        assert_eq!(css.outgoing_pdf_icon, "div.message-out span[data-icon=\"document-PDF-icon\"]");
    }

    #[test]
    fn an_overridden_chat_list_id_changes_the_expected_selector() {
        let selectors = Selectors { chat_list_id: "pane-side-v2".to_owned(), ..Selectors::default() };
        assert_eq!(selectors.css().chat_list, "#pane-side-v2");
    }
}
