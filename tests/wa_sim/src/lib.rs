//! A WhatsApp Web simulator: stands in for web.whatsapp.com in wacamp's tests and demo.
//!
//! It serves, on one origin (`http://127.0.0.1:<port>`; browser storage is per origin *including the
//! port*, so the port is configurable and must stay the same across a profile save/restore), a single-page
//! app that behaves like WhatsApp Web where wacamp's driver can tell the difference:
//!
//! - **Login.** Without credentials the page shows a QR in `div[data-ref]` (payload in `data-ref`) with a
//!   `canvas`; the payload rotates every [`SimConfig::qr_rotation`]; after
//!   [`SimConfig::qr_codes_before_idle`] codes it goes idle behind a "Click to reload QR code" button
//!   (`div[data-ref] > span > button`). [`SimHandle::link_current_qr`] is the phone scanning it.
//! - **Session keys in the browser.** On link the server issues a device credential whose key is split in
//!   two: IndexedDB (`wawc` / `user`) keeps one half, localStorage (`WASecretBundle`) the other, so a profile
//!   archive missing either really fails to restore. Every load presents them; unknown, revoked, expired,
//!   refused or unreadable credentials clear both stores and show the QR (with `?post_logout=1` after a
//!   revoke). Each successful load issues the next credential *generation* and stores it.
//! - **Loading.** "Loading your chats [NN%]" for [`SimConfig::sync_duration`], then the app with the chat
//!   list `#pane-side`. Right after the first link the page reloads itself once, as WhatsApp does.
//! - **Ways a session dies:** revoke, idle expiry on the admin clock, damage after generation K (an older
//!   backup still works), unreadable keys, conflict ("WhatsApp is open in another window" + "Use here"),
//!   banned and outdated screens.
//! - **Sending.** `/send?phone=<digits>&text=<urlencoded>` opens the chat with the composer filled; inside
//!   the loaded app, clicks on `<a href="https://wa.me/<digits>?text=..">` or
//!   `https://api.whatsapp.com/send?phone=..&text=..` open the chat in place (no page load). The send
//!   button adds an outgoing bubble (`div.message-out`) with `msg-time`, then `msg-check` (server ack) and
//!   `msg-dblcheck` (delivered). A number not on WhatsApp shows "Phone number shared via url is invalid."
//!   with an OK button. A chat shows the account's earlier outgoing messages to that number, each
//!   stamped like WhatsApp Web's (`data-pre-plain-text="[10:42, 12/1/2026] You: "`).
//! - **Media.** The chat footer's attach button (`button[aria-label="Attach"]` with
//!   `span[data-icon="plus-rounded"]`) opens a `div[role="menu"]` with
//!   `button[role="menuitem"][aria-label="Photos & videos"]` and `[aria-label="Document"]` (the button
//!   again, Escape or a click elsewhere close it). An item does what WhatsApp Web does: it appends a new
//!   hidden `<input type="file">` to the body (`accept="image/*,video/mp4,video/3gpp,video/quicktime"`
//!   or `accept="*"`) and calls `input.click()`; a driver intercepts that click and sets the file with
//!   CDP `DOM.setFileInputFiles`, whose `change` opens the media editor over the chat (outside `#main`,
//!   which stays): a preview, an empty caption box
//!   `div[contenteditable="true"][role="textbox"][aria-label="Add a caption"]`, a send control
//!   `div[role="button"][aria-label="Send"]` with `span[data-icon="wds-ic-send-filled"]` and a close
//!   control `div[role="button"][aria-label="Close"]`. A non-image through "Photos & videos", an empty
//!   file, or one over [`MediaLimits`] shows a popup and sends nothing. Sent, the file is a bubble like a
//!   text's (same stamp, same acks) with an `<img src="blob:…">` or a document block
//!   (`span[data-icon="document-PDF-icon"]` or `"document-refreshed"`, the name in `span.document-name`),
//!   and the caption, if any, as its one `span.selectable-text`. It is recorded as a [`Delivery`] whose
//!   `text` is the caption and whose [`MediaDelivery`] holds kind, name, MIME type, size and SHA-256.
//! - **Record and faults.** Every delivered message is recorded ([`SimHandle::deliveries`],
//!   `GET /_admin/deliveries`); latency, hung loads, HTTP errors, dropped sends and missing acks are
//!   injected from the admin API.
//!
//! All ids and texts the pages use are in [`selectors`]; [`SimConfig::selectors`] overrides them.
//!
//! # Rust API
//!
//! ```no_run
//! use wa_sim::{SimConfig, Simulator};
//!
//! let sim = Simulator::start(SimConfig::for_tests()).expect("simulator starts");
//! println!("open {}", sim.base_url());
//! // ... a browser shows the QR ...
//! let device = sim.link_current_qr("15550000001");
//! sim.shutdown();
//! ```
//!
//! # Admin HTTP API
//!
//! JSON in, JSON out. Errors answer `{"error": code, "message": text}` with 400 (`bad_request`), 404
//! (`unknown_qr`, `unknown_account`) or 409 (`no_qr_shown`, `qr_idle`).
//!
//! | Method and path | Body / query | Effect and answer |
//! |---|---|---|
//! | `GET /_admin/qr` | | QR on screen now: `{"qr": {"attempt","qr","codes_shown"} \| null}` |
//! | `POST /_admin/link` | `{"account", "qr"?}` | phone scans the QR on screen (or that payload): `{"device","account","qr"}` |
//! | `POST /_admin/revoke` | `{"account"}` | phone logs out every device of the account: `{"devices": n}` |
//! | `GET /_admin/clock` | | admin clock: `{"now_ms"}` |
//! | `POST /_admin/clock/advance` | `{"ms"}` | moves the admin clock (idle and phone-offline expiry): `{"now_ms"}` |
//! | `POST /_admin/phone` | `{"account", "online"}` | the account's phone goes offline (from now, on the admin clock) or comes back: `{"account","online"}` |
//! | `POST /_admin/key-window` | `{"versions"}` | only each device's last N key versions log in (0 = all): `{"versions"}` |
//! | `POST /_admin/link-interception` | `{"after_ms"}` | pages loaded from now intercept chat links only that long after their chat list shows: `{"after_ms"}` |
//! | `POST /_admin/damage` | `{"account", "after_generation"}` | refuse generations > K: `{"refused_generations": n}` |
//! | `POST /_admin/corrupt` | `{"account"}` | newest stored keys become unreadable: `{"refused_generations": n}` |
//! | `POST /_admin/conflict` | `{"account"}` | another window takes the session: `{"devices": n}` |
//! | `POST /_admin/ban` / `POST /_admin/unban` | `{"account"}` | banned screen on / off: `{"banned"}` |
//! | `POST /_admin/outdated` | `{"enabled"}` | outdated screen on every page: `{"outdated"}` |
//! | `POST /_admin/unreachable` | `{"enabled"}` | every page load and API call answers 503: `{"unreachable"}` |
//! | `POST /_admin/not-on-whatsapp` | `{"phone"}` | that number shows the invalid popup: `{"phone": digits}` |
//! | `GET /_admin/latency` | | `{"page_load","api","server_ack","delivery"}` in ms |
//! | `POST /_admin/latency` | `{"page_load_ms"?, "api_ms"?, "server_ack_ms"?, "delivery_ms"?}` | changes the given delays; answers the new set |
//! | `GET /_admin/fixed-delays` | | `{"page_loads","api_calls","acks","syncs","total"}`: the fixed delays spent so far on the way to sent messages (total in ms); two readings bound a measurement's floor |
//! | `POST /_admin/fail-next` | a [`Fault`]: `{"fault": "page_error", "status": 503}`, `{"fault": "api_error", "status": 500}`, `{"fault": "hang_load"}`, `{"fault": "drop_before_delivery"}`, `{"fault": "drop_after_delivery"}`, `{"fault": "no_ack"}` | queues it for the next matching request: `{"queued": true}` |
//! | `GET /_admin/faults` | | faults still queued: `{"faults": [...]}` |
//! | `POST /_admin/hang-next-load` | | the next page load never answers: `{"queued": true}` |
//! | `POST /_admin/release-hangs` | | hung loads and unacknowledged sends finish: `{"released": true}` |
//! | `POST /_admin/never-ack` | `{"enabled"}` | no send is acknowledged (still delivered): `{"never_ack"}` |
//! | `GET /_admin/deliveries` | `?to=<digits>&account=<a>` (both optional) | `{"deliveries": [...]}`, each a [`Delivery`] |
//! | `POST /_admin/read-after` | `{"after_ms": n \| null}` | recipients read each message sent from now on that long after it reached them, or only when told (`null`, the default) |
//! | `POST /_admin/read` | `{"phone"}` | that recipient opens its chats now: what reached it shows read (blue checks): `{"read": n}` |
//! | `POST /_admin/read-receipts` | `{"phone", "enabled"}` | that recipient turns read receipts off (never read, whatever it opens) or on: `{"phone", "enabled"}` |
//! | `POST /_admin/show-ack` | `{"id", "ack": "sent" \| "delivered" \| "read"}` | the message shows that receipt from now on (one arriving out of order or twice): `{"id", "ack"}` |
//! | `POST /_admin/earlier-message` | `{"account": "...", "phone": "...", "text": "...", "unix_ms": n}` | `{"recorded": true}`: a message the account sent before (an earlier campaign's), shown in that chat |
//! | `GET /_admin/sessions` | | `{"sessions": [...]}`, each a [`SessionInfo`] |
//! | `GET /_admin/selectors` | | `{"selectors": ..., "css": ...}`: the [`Selectors`] in force and their [`Css`] |
//!
//! The page's own API (`/api/login/start`, `/api/login/poll`, `/api/auth`, `/api/status`,
//! `/api/takeover`, `/api/chats`, `/api/chat`, `/api/send`, `/api/send-media`, `/api/media`,
//! `/api/delivered`, `/api/receipt`) is internal to the page script and may change. For the record:
//! `POST /api/send-media` takes `{"page","to","caption","id","kind": "image"|"document","file_name",
//! "mime","data"}` (`data` the file in standard base64) and answers as `/api/send` does (200 `{"id"}`
//! after the ack delay, 404 not on WhatsApp, 409 conflict, 401 logged out, the same send faults),
//! plus 415 for an "image" that is not `image/*` or a file without a name, 413 over the limit, 400 for
//! an empty file or bad base64. `GET /api/media?page=&id=` answers an image message's bytes.

mod admin;
mod app;
pub mod config;
pub mod delays;
pub mod profile;
pub mod selectors;
mod server;
pub mod world;

pub use config::{Latency, MediaLimits, SimConfig};
pub use delays::FixedDelays;
pub use profile::copy_profile;
pub use selectors::{Css, Selectors};
pub use server::{SimHandle, Simulator, percent_encode};
pub use world::{
    Ack, Delivery, Fault, LinkedDevice, MediaDelivery, MediaKind, QrInfo, SessionInfo, SimError,
};
