//! The scripts of the attach flow: open the attach menu, choose its item for the file's kind and
//! catch the file input that item opens (WhatsApp Web creates one and clicks it, which in a
//! headless browser would open a file chooser: a click on a file input is caught and kept instead,
//! for DevTools to give it the file), wait for the media editor, fill its caption, send.

use super::prelude;
use crate::selectors::Selectors;
use domain::MediaKind;

/// The menu item and the older builds' input selectors for `kind`, as JS expressions.
fn item_and_input(kind: MediaKind) -> (&'static str, &'static str) {
    match kind {
        MediaKind::Image => ("C.attach_photos", "C.attach_photos_input"),
        MediaKind::Document => ("C.attach_document", "C.attach_document_input"),
    }
}

/// Arms the catch of file inputs and clicks the attach button: CLICKED, NO_BUTTON, or the screen.
pub(crate) fn open_attach_menu(selectors: &Selectors) -> String {
    format!(
        r#"(() => {{ {prelude}
            if (screen() !== 'READY') return screen();
            const main = q(C.main);
            if (!main) return 'NO_BUTTON';
            let button = q(C.attach_button);
            if (!button) {{
                const icon = q(C.attach_icon);
                button = icon && (icon.closest('button, [role="button"]') || icon);
            }}
            if (!button) return 'NO_BUTTON';
            if (!window.__wacampCatchInstalled) {{
                const original = HTMLInputElement.prototype.click;
                HTMLInputElement.prototype.click = function () {{
                    if (this.type === 'file' && window.__wacampCatching) {{ window.__wacampFileInput = this; return; }}
                    return original.apply(this, arguments);
                }};
                window.__wacampCatchInstalled = true;
            }}
            window.__wacampFileInput = null;
            window.__wacampCatching = true;
            button.click();
            return 'CLICKED';
        }})()"#,
        prelude = prelude(selectors)
    )
}

/// ITEM once the attach menu shows the item for `kind`.
pub(crate) fn attach_item(selectors: &Selectors, kind: MediaKind) -> String {
    let (item, _) = item_and_input(kind);
    format!(
        r#"(() => {{ {prelude}
            return q({item}) ? 'ITEM' : 'WAIT';
        }})()"#,
        prelude = prelude(selectors)
    )
}

/// Clicks the attach menu's item for `kind`: CLICKED or NO_ITEM.
pub(crate) fn choose_attach_item(selectors: &Selectors, kind: MediaKind) -> String {
    let (item, _) = item_and_input(kind);
    format!(
        r#"(() => {{ {prelude}
            const item = q({item});
            if (!item) return 'NO_ITEM';
            item.click();
            return 'CLICKED';
        }})()"#,
        prelude = prelude(selectors)
    )
}

/// CAUGHT once the file input for `kind` is kept in `window.__wacampFileInput`: the one the item's
/// click opened, or (older builds) the one the open menu holds.
pub(crate) fn file_input_caught(selectors: &Selectors, kind: MediaKind) -> String {
    let (_, input) = item_and_input(kind);
    format!(
        r#"(() => {{ {prelude}
            if (window.__wacampFileInput) return 'CAUGHT';
            const input = q({input});
            if (input) {{ window.__wacampFileInput = input; return 'CAUGHT'; }}
            return 'WAIT';
        }})()"#,
        prelude = prelude(selectors)
    )
}

/// The caught file input (for DevTools to give it the file), and the catch disarmed.
pub(crate) fn take_file_input() -> &'static str {
    "(() => { window.__wacampCatching = false; const i = window.__wacampFileInput; window.__wacampFileInput = null; return i; })()"
}

/// Once the file is given: EDITOR (the media editor with its caption box), REFUSED (a popup:
/// WhatsApp Web did not take the file), or the screen. A screen that ends the session's use
/// (another window took it, a ban, a QR code) is answered first: its popup is no refusal.
pub(crate) fn media_editor(selectors: &Selectors) -> String {
    format!(
        r#"(() => {{ {prelude}
            const s = screen();
            if (!['READY', 'LOADING', 'NONE'].includes(s)) return s;
            if (q(C.popup)) return 'REFUSED';
            if (q(C.media_caption)) return 'EDITOR';
            return s === 'READY' ? 'WAIT' : s;
        }})()"#,
        prelude = prelude(selectors)
    )
}

/// The text of the popup on screen (why WhatsApp Web refused a file).
pub(crate) fn popup_text(selectors: &Selectors) -> String {
    format!(
        r#"(() => {{ {prelude}
            const popup = q(C.popup);
            return popup ? norm(popup.innerText) : '';
        }})()"#,
        prelude = prelude(selectors)
    )
}

/// Focuses the caption box and empties it, leaving the caret inside for `Input.insertText`.
pub(crate) fn clear_caption(selectors: &Selectors) -> String {
    super::clear_editable(selectors, "C.media_caption")
}

/// If the caption box holds `caption` (whitespace-normalised): notes how many outgoing bubbles the
/// conversation has and clicks the editor's send (CLICKED, or NO_BUTTON); otherwise FILL.
pub(crate) fn click_media_send(selectors: &Selectors, caption: &str) -> String {
    super::click_to_send(selectors, caption, ["C.media_caption", "C.media_send_button", "C.media_send_icon"])
}
