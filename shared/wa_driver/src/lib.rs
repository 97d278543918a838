//! The only code in wacamp that knows WhatsApp Web's DOM: drives web.whatsapp.com in headless Chromium.
//!
//! - **Launch** ([`WaDriver::launch`]): Debian Chromium on a profile directory, headless, `--no-sandbox`
//!   as root, Lambda-friendly flags, HOME/TMPDIR in a scratch dir; bounded in time, so a profile lock or
//!   a crash reports PROFILE_LOCKED / BROWSER_CRASHED instead of hanging for minutes.
//! - **Session state** ([`WaDriver::open`]): READY, NEEDS_QR, LOADING, CONFLICT (optionally taken over
//!   with "Use here"), BANNED, OUTDATED or UNKNOWN, from one page script polled every ~150 ms; survives
//!   the page reloading itself after login. UNKNOWN is never "expired".
//! - **Setup** ([`WaDriver::link_with_qr`]): hands each rotating QR payload to a callback, reloads an idle
//!   QR, waits for link and sync.
//! - **Send** ([`WaDriver::send`]): opens the chat in place through a document-attached `wa.me` link (as
//!   browser extensions do), falls back to a `/send?phone=` load, clicks send and waits for the server
//!   ack; [`WaDriver::already_sent`] checks a chat before a resend.
//! - **Receipts** ([`WaDriver::receipts`], [`WaDriver::chat_receipts`]): what the open chat's outgoing
//!   messages show (one check, two, blue), by WhatsApp's message id, after a bounded wait for the
//!   message just sent to be read.
//! - **Close with flush** ([`WaDriver::close`]): CDP `Browser.close` and a bounded wait for every
//!   Chromium process to exit. Dropping the driver kills Chromium and loses localStorage: archive a
//!   profile only after `close` returned `Ok`.
//!
//! Selectors and texts live in `selectors.toml` (versioned, compiled in, overridable at run time through
//! `WA_SELECTORS_FILE`, see [`Selectors`]). The API is synchronous (headless_chrome is): async callers use
//! `spawn_blocking`. Message text is never logged and phone numbers only redacted.

mod config;
mod driver;
mod error;
mod process;
mod screen;
mod script;
mod selectors;

pub use config::{DEFAULT_CHROMIUM, DEFAULT_WA_URL, DriverConfig, Timeouts};
pub use driver::{
    Ack, Attachment, ChatOpening, ChatReceipts, Earlier, MEDIA_ACK_FACTOR, SeenMessage, SentMessage, WaDriver,
};
pub use error::DriverError;
pub use screen::Screen;
pub use selectors::{Css, DEFAULT_SELECTORS_TOML, SELECTORS_FILE_ENV, Selectors, Texts};
