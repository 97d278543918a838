//! The JavaScript the driver evaluates in the page, built from [`Selectors`] so an override reaches it.
//!
//! Every script is one expression returning a primitive (a string or a boolean), so a poll is one CDP
//! round trip and never holds a reference into a page that may reload under it.

use crate::selectors::Selectors;

mod media;

pub(crate) use media::{
    attach_item, choose_attach_item, clear_caption, click_media_send, file_input_caught, media_editor,
    open_attach_menu, popup_text, take_file_input,
};

/// A JS string literal (JSON is a subset of JS for strings).
pub(crate) fn js(value: &str) -> String {
    serde_json::Value::String(value.to_owned()).to_string()
}

/// Shared prelude: `C` (css), `T` (texts), `q` (querySelector that tolerates a bad selector) and
/// `screen()` (the session screen name, as `Screen` names it, or NAVIGATING / UNREACHABLE / NONE).
fn prelude(selectors: &Selectors) -> String {
    let css = serde_json::to_string(&selectors.css).unwrap_or_else(|_| "{}".to_owned());
    let text = serde_json::to_string(&selectors.text).unwrap_or_else(|_| "{}".to_owned());
    format!(
        r#"const C = {css}; const T = {text};
        const q = (s, root) => {{ try {{ return (root || document).querySelector(s); }} catch (e) {{ return null; }} }};
        const qa = (s, root) => {{ try {{ return Array.from((root || document).querySelectorAll(s)); }} catch (e) {{ return []; }} }};
        const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
        const screen = () => {{
            if (window.__wacampLeaving) return 'NAVIGATING';
            if (location.protocol === 'chrome-error:') return 'UNREACHABLE';
            if (location.href === 'about:blank' || !document.body) return 'NAVIGATING';
            const body = document.body.innerText || '';
            const popup = q(C.popup);
            const popupText = popup ? (popup.innerText || '') : '';
            if (popupText.includes(T.conflict)) return 'CONFLICT';
            if (body.includes(T.banned)) return 'BANNED';
            if (body.includes(T.outdated)) return 'OUTDATED';
            if (body.includes(T.conflict)) return 'CONFLICT';
            if (q(C.qr_canvas) || q(C.qr_reload_button)) return 'NEEDS_QR';
            if (q(C.chat_list)) return 'READY';
            if (q(C.loading_progress) || body.includes(T.loading)) return 'LOADING';
            return 'NONE';
        }};
        const invalidPopup = () => {{
            const popup = q(C.popup);
            return !!popup && (popup.innerText || '').includes(T.invalid_phone);
        }};"#
    )
}

/// Returns JSON `{"s": screen, "qr": payload|null, "idle": bool, "logout": bool, "invalid": bool}`.
pub(crate) fn classify(selectors: &Selectors) -> String {
    format!(
        r#"(() => {{ {prelude}
            const s = screen();
            const box = q(C.qr_container);
            const qr = box ? box.getAttribute(C.qr_ref_attribute) : null;
            const idle = !!q(C.qr_reload_button) && !q(C.qr_canvas);
            const logout = location.search.includes(T.post_logout_param);
            const invalid = invalidPopup();
            return JSON.stringify({{ s, qr: qr || null, idle, logout, invalid }});
        }})()"#,
        prelude = prelude(selectors)
    )
}

/// Marks the current document as left behind and starts loading `url` (returns at once, even when the
/// server never answers; the marker tells a stale document from the new one).
pub(crate) fn navigate(url: &str) -> String {
    format!("(() => {{ window.__wacampLeaving = true; location.assign({}); return true; }})()", js(url))
}

/// Clicks the first popup button labelled `label` (exactly, whitespace-normalised); true if clicked.
pub(crate) fn click_popup_button(selectors: &Selectors, label: &str) -> String {
    format!(
        r#"(() => {{ {prelude}
            const button = qa(C.popup_button).find((b) => norm(b.innerText) === norm({label}));
            if (!button) return false;
            button.click();
            return true;
        }})()"#,
        prelude = prelude(selectors),
        label = js(label)
    )
}

/// Clicks the idle QR's reload button; true if clicked.
pub(crate) fn click_qr_reload(selectors: &Selectors) -> String {
    format!(
        r#"(() => {{ {prelude}
            const button = q(C.qr_reload_button);
            if (!button) return false;
            button.click();
            return true;
        }})()"#,
        prelude = prelude(selectors)
    )
}

/// Remembers the open conversation, then injects a document-attached chat link and clicks it, as a
/// browser extension does: an app that intercepts links opens the chat in place, without a page
/// load. A listener added last (window, bubbling) cancels the click when the app did not, so an
/// app not yet intercepting is never navigated away from. Returns TAKEN or IGNORED.
pub(crate) fn open_chat_link(selectors: &Selectors, href: &str) -> String {
    format!(
        r#"(() => {{ {prelude}
            // Only a ready chat list with no popup left over takes the click.
            if (screen() !== 'READY' || invalidPopup()) return 'UNREADY';
            window.__wacampPrevMain = q(C.main) || null;
            // Another chat: the bubble of the last send is no longer the open chat's.
            window.__wacampMain = null;
            const a = document.createElement('a');
            a.href = {href};
            a.style.display = 'none';
            let ignored = false;
            const guard = (event) => {{
                if (!event.defaultPrevented) {{ event.preventDefault(); ignored = true; }}
            }};
            document.body.appendChild(a);
            window.addEventListener('click', guard);
            try {{ a.click(); }} finally {{ window.removeEventListener('click', guard); a.remove(); }}
            return ignored ? 'IGNORED' : 'TAKEN';
        }})()"#,
        prelude = prelude(selectors),
        href = js(href)
    )
}

/// While a chat opens: OPEN (a new conversation with a composer), INVALID (not on WhatsApp), or the screen.
pub(crate) fn chat_opening(selectors: &Selectors) -> String {
    format!(
        r#"(() => {{ {prelude}
            if (window.__wacampLeaving) return 'NAVIGATING';
            if (invalidPopup()) return 'INVALID';
            const main = q(C.main);
            if (main && main !== window.__wacampPrevMain && q(C.composer)) return 'OPEN';
            return screen();
        }})()"#,
        prelude = prelude(selectors)
    )
}

/// The status script `check` awaited in the page: a promise that settles with the first status
/// in `done` — looked at now, on every DOM change, and every 50 ms for what no mutation shows —
/// or with the latest status after `within`. One evaluation answers as soon as the page shows
/// the status, instead of a poll per round trip.
pub(crate) fn awaiting(check: &str, done: &[&str], within: std::time::Duration) -> String {
    let done = serde_json::to_string(done).unwrap_or_else(|_| "[]".to_owned());
    format!(
        r#"new Promise((resolve) => {{
            const done = {done};
            const check = () => {{ try {{ return {check}; }} catch (e) {{ return null; }} }};
            let last = check();
            if (done.includes(last)) {{ resolve(last); return; }}
            let observer = null, tick = null, limit = null;
            const finish = () => {{
                if (observer) observer.disconnect();
                clearInterval(tick);
                clearTimeout(limit);
                resolve(last);
            }};
            const look = () => {{ last = check(); if (done.includes(last)) finish(); }};
            observer = new MutationObserver(look);
            observer.observe(document, {{ subtree: true, childList: true, attributes: true, characterData: true }});
            tick = setInterval(look, 50);
            limit = setTimeout(finish, {within});
        }})"#,
        within = within.as_millis()
    )
}

/// The step script `first`, and when it answers `on`, the status script `check` awaited in the
/// same evaluation as [`awaiting`] does: a step and the wait for its effect in one round trip.
/// Any other answer of `first` is the result.
pub(crate) fn then_awaiting(
    first: &str,
    on: &str,
    check: &str,
    done: &[&str],
    within: std::time::Duration,
) -> String {
    format!(
        r#"(() => {{
            const first = {first};
            if (first !== {on}) return first;
            return {wait};
        }})()"#,
        on = js(on),
        wait = awaiting(check, done, within)
    )
}

/// Focuses the composer and empties it, leaving the caret inside for `Input.insertText`.
pub(crate) fn clear_composer(selectors: &Selectors) -> String {
    clear_editable(selectors, "C.composer")
}

/// Focuses the editable element `field` (a `C.…` selector) and empties it, leaving the caret
/// inside for `Input.insertText`; false when there is none.
fn clear_editable(selectors: &Selectors, field: &str) -> String {
    format!(
        r#"(() => {{ {prelude}
            const box = q({field});
            if (!box) return false;
            box.focus();
            const range = document.createRange();
            range.selectNodeContents(box);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            document.execCommand('delete');
            return true;
        }})()"#,
        prelude = prelude(selectors)
    )
}

/// If the composer holds `text` (whitespace-normalised): notes how many outgoing bubbles the conversation
/// has and clicks send (CLICKED, or NO_BUTTON); otherwise FILL (the composer needs typing first).
pub(crate) fn click_send(selectors: &Selectors, text: &str) -> String {
    click_to_send(selectors, text, ["C.composer", "C.send_button", "C.send_icon"])
}

/// If the editable element holds `text` (whitespace-normalised): notes how many outgoing bubbles
/// the open conversation has and clicks the send control (CLICKED, or NO_BUTTON); otherwise FILL.
/// `[field, button, icon]` are `C.…` selectors: the element, its send control, and that
/// control's icon (a fallback).
fn click_to_send(selectors: &Selectors, text: &str, [field, button, icon]: [&str; 3]) -> String {
    format!(
        r#"(() => {{ {prelude}
            const main = q(C.main);
            const box = q({field});
            if (!main || !box) return 'NO_BUTTON';
            if (norm(box.innerText) !== norm({text})) return 'FILL';
            window.__wacampMain = main;
            window.__wacampBase = qa(C.outgoing_message, main).length;
            let button = q({button});
            if (!button) {{
                const icon = q({icon});
                button = icon && (icon.closest('button, [role="button"]') || icon);
            }}
            if (!button) return 'NO_BUTTON';
            button.click();
            return 'CLICKED';
        }})()"#,
        prelude = prelude(selectors),
        text = js(text)
    )
}

/// After send: ACK (one check or more on the new bubble), PENDING, NO_BUBBLE, INVALID, or the screen.
pub(crate) fn ack_state(selectors: &Selectors) -> String {
    format!(
        r#"(() => {{ {prelude}
            if (invalidPopup()) return 'INVALID';
            const s = screen();
            if (s !== 'READY') return s;
            const main = window.__wacampMain;
            if (!main || !main.isConnected) return 'NO_BUBBLE';
            const row = qa(C.outgoing_message, main)[window.__wacampBase];
            if (!row) return 'NO_BUBBLE';
            const acked = [C.ack_sent, C.ack_delivered, C.ack_read].some((sel) => !!q(sel, row));
            return acked ? 'ACK' : 'PENDING';
        }})()"#,
        prelude = prelude(selectors)
    )
}

/// The receipt the bubble of the last send shows: READ, DELIVERED, SENT, PENDING, or NO_BUBBLE
/// when its chat is no longer open.
pub(crate) fn sent_receipt(selectors: &Selectors) -> String {
    format!(
        r#"(() => {{ {prelude}
            const main = window.__wacampMain;
            if (!main || !main.isConnected) return 'NO_BUBBLE';
            const row = qa(C.outgoing_message, main)[window.__wacampBase];
            if (!row) return 'NO_BUBBLE';
            if (q(C.ack_read, row)) return 'READ';
            if (q(C.ack_delivered, row)) return 'DELIVERED';
            if (q(C.ack_sent, row)) return 'SENT';
            return 'PENDING';
        }})()"#,
        prelude = prelude(selectors)
    )
}

/// JSON `{"just_sent": {"id", "ack"} | null, "messages": [{"id", "ack"}, …]}`: the receipts of
/// the open chat's last `max` outgoing bubbles that carry an id, oldest first (`ack` one of
/// `pending`, `sent`, `delivered`, `read`), and the bubble of the last send when its chat is the
/// open one.
pub(crate) fn chat_receipts(selectors: &Selectors, max: usize) -> String {
    format!(
        r#"(() => {{ {prelude}
            const main = q(C.main);
            if (!main) return JSON.stringify({{ just_sent: null, messages: [] }});
            const holder = '[' + C.message_id_attribute + ']';
            const idOf = (row) => {{
                const el = row.closest(holder) || q(holder, row);
                return el ? el.getAttribute(C.message_id_attribute) : null;
            }};
            const ackOf = (row) => q(C.ack_read, row) ? 'read' : q(C.ack_delivered, row) ? 'delivered'
                : q(C.ack_sent, row) ? 'sent' : 'pending';
            const seen = (row) => ({{ id: idOf(row), ack: ackOf(row) }});
            const rows = qa(C.outgoing_message, main);
            const messages = rows.slice(-{max}).map(seen).filter((m) => !!m.id);
            const mine = window.__wacampMain === main ? rows[window.__wacampBase] : null;
            const just = mine ? seen(mine) : null;
            return JSON.stringify({{ just_sent: just && just.id ? just : null, messages }});
        }})()"#,
        prelude = prelude(selectors)
    )
}

/// What the open conversation shows of an outgoing bubble with exactly `text`
/// (whitespace-normalised) — carrying a file, when `with_media` — sent at or after `since_ms`:
/// `'SENT'` (acknowledged by the server), `'PENDING'` (still the clock: it may yet go out) or
/// `'NONE'`.
pub(crate) fn has_outgoing(
    selectors: &Selectors,
    text: &str,
    with_media: bool,
    since_ms: Option<i64>,
) -> String {
    format!(
        r#"(() => {{ {prelude}
            const main = q(C.main);
            if (!main) return 'NONE';
            const wanted = norm({text});
            // Minute precision: the stamp shows minutes, so "since" starts at its minute.
            const since = {since} === null ? null : Math.floor({since} / 60000) * 60000;
            const order = {order};
            const stamp = (raw) => {{
                const m = /\[\s*(\d{{1,2}}):(\d{{2}})(?:\s*([AaPp])\.?\s*[Mm]\.?)?\s*,\s*(\d{{1,4}})[\/.\-](\d{{1,2}})[\/.\-](\d{{1,4}})\s*\]/.exec(raw || '');
                if (!m) return null;
                let hour = Number(m[1]);
                if (m[3]) hour = (hour % 12) + (/[Pp]/.test(m[3]) ? 12 : 0);
                const [a, b, c] = [Number(m[4]), Number(m[5]), Number(m[6])];
                const [year, month, day] = order === 'year-first' ? [a, b, c] : order === 'day-first' ? [c, b, a] : [c, a, b];
                return new Date(year < 100 ? 2000 + year : year, month - 1, day, hour, Number(m[2])).getTime();
            }};
            const mine = qa(C.outgoing_message, main).filter((row) => {{
                // A file's bubble shows its caption in the text element, or none when it has no
                // caption (its own text is then the file's name and size, never the caption).
                const node = q(C.outgoing_text, row);
                const shown = node ? norm(node.innerText) : ({with_media} ? '' : norm(row.innerText));
                if (shown !== wanted) return false;
                if ({with_media} && !q(C.outgoing_media, row)) return false;
                if (since === null) return true;
                const meta = q(C.outgoing_meta, row);
                const at = stamp(meta && meta.getAttribute(C.outgoing_meta_attribute));
                // Only an earlier message of the same text is excluded; one whose time cannot be
                // read counts, so a changed DOM never turns into a second send.
                return at === null || at >= since;
            }});
            // One that reached the server proves the send; one still showing the clock proves
            // nothing yet, but WhatsApp Web sends it on its own once it can, so it is no reason
            // to send again either.
            if (mine.some((row) => !q(C.ack_pending, row))) return 'SENT';
            return mine.length > 0 ? 'PENDING' : 'NONE';
        }})()"#,
        prelude = prelude(selectors),
        text = js(text),
        since = since_ms.map_or_else(|| "null".to_owned(), |s| s.to_string()),
        with_media = with_media,
        order = js(&selectors.text.message_date_order)
    )
}

/// Percent-encodes a query value (RFC 3986 unreserved characters are kept).
pub(crate) fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(percent_encode("Hi Ana & co/ü"), "Hi%20Ana%20%26%20co%2F%C3%BC");
    }

    #[test]
    fn an_awaited_status_settles_on_the_statuses_named_or_after_its_bound() {
        let script =
            awaiting("(() => 'PENDING')()", &["ACK", "INVALID"], std::time::Duration::from_millis(600));
        assert!(script.starts_with("new Promise("), "{script}");
        assert!(script.contains(r#"const done = ["ACK","INVALID"];"#), "{script}");
        assert!(script.contains("return (() => 'PENDING')();"), "{script}");
        assert!(script.contains("setTimeout(finish, 600)"), "{script}");
    }

    #[test]
    fn a_step_then_its_wait_answers_the_step_unless_it_did_what_the_wait_follows() {
        let within = std::time::Duration::from_millis(600);
        let script = then_awaiting("(() => 'CLICKED')()", "CLICKED", "(() => 'ACK')()", &["ACK"], within);
        assert!(script.contains(r#"if (first !== "CLICKED") return first;"#), "{script}");
        assert!(script.contains("return new Promise("), "{script}");
    }

    #[test]
    fn scripts_carry_the_selectors_in_force() {
        let selectors = Selectors::with_override("[css]\nchat_list = \"#pane-side-v2\"\n");
        let script = classify(&selectors.unwrap_or_default());
        assert!(script.contains("#pane-side-v2"));
    }
}
