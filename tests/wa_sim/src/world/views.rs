//! What the simulated server tells its callers: errors, faults, deliveries and the views of
//! devices, QR codes, credentials, logins, pages, sends and chats.

use serde::{Deserialize, Serialize};

use super::MediaDelivery;

/// Why an admin call could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    /// No page shows a scannable QR code right now.
    NoQrShown,
    /// The QR payload given is not one the server issued, or it has rotated away.
    UnknownQr,
    /// The QR code went idle ("click to reload") before it was scanned.
    QrIdle,
    /// The account has no linked device.
    UnknownAccount(String),
    /// The request itself is malformed (empty account, bad status code, ...).
    BadRequest(String),
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoQrShown => write!(f, "no page shows a scannable QR code"),
            Self::UnknownQr => write!(f, "that QR code is unknown or has rotated away"),
            Self::QrIdle => write!(f, "that QR code went idle; click \"reload\" on the page first"),
            Self::UnknownAccount(account) => write!(f, "account {account:?} has no linked device"),
            Self::BadRequest(reason) => write!(f, "bad request: {reason}"),
        }
    }
}

impl std::error::Error for SimError {}

/// A fault the next matching request suffers, queued by the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    /// The next app page load (`/`, `/send`) answers with this HTTP status.
    PageError {
        /// HTTP status, 400..=599.
        status: u16,
    },
    /// The next page API call (`/api/...`) answers with this HTTP status.
    ApiError {
        /// HTTP status, 400..=599.
        status: u16,
    },
    /// The next app page load never answers (until `release_hangs` or shutdown).
    HangLoad,
    /// The next send loses its connection before the message reaches the server: nothing is delivered.
    DropBeforeDelivery,
    /// The next send is delivered, then its connection drops before the page hears the acknowledgement.
    DropAfterDelivery,
    /// The next send is delivered but never acknowledged: the bubble keeps its clock icon.
    NoAck,
}

impl Fault {
    pub(super) fn is_send_fault(&self) -> bool {
        matches!(self, Self::DropBeforeDelivery | Self::DropAfterDelivery | Self::NoAck)
    }

    pub(super) fn check(&self) -> Result<(), SimError> {
        match self {
            Self::PageError { status } | Self::ApiError { status } if !(400..=599).contains(status) => {
                Err(SimError::BadRequest(format!("status {status} is not an HTTP error")))
            }
            _ => Ok(()),
        }
    }
}

/// One message as the recipient received it: the record tests count duplicates and losses from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Message id (the page's id for it; a resend of the same id is not a second delivery).
    pub id: String,
    /// The sending account.
    pub account: String,
    /// The linked device that sent it.
    pub device: String,
    /// Credential generation the sending page authenticated with.
    pub generation: u64,
    /// Recipient phone, digits only.
    pub to: String,
    /// Message text exactly as sent; for a media message its caption (empty without one).
    pub text: String,
    /// Admin-clock time of delivery, in milliseconds.
    pub clock_ms: u64,
    /// Wall-clock time of delivery, Unix milliseconds.
    pub unix_ms: u64,
    /// The file sent through the attach menu; `None` for a text message (and in records written
    /// before media existed).
    #[serde(default)]
    pub media: Option<MediaDelivery>,
}

/// What the admin API reports about one linked device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Device id, issued when the QR was scanned.
    pub device: String,
    /// The account the device belongs to.
    pub account: String,
    /// Newest credential generation issued to it.
    pub latest_generation: u64,
    /// Generations the server no longer accepts (damaged or unreadable).
    pub refused_generations: Vec<u64>,
    /// The phone logged this device out.
    pub revoked: bool,
    /// The device expired after too long without use.
    pub expired: bool,
    /// The account is banned.
    pub banned: bool,
    /// Another window (outside the simulator's pages) holds the session.
    pub held_elsewhere: bool,
    /// Admin-clock time of the last use, in milliseconds.
    pub last_used_ms: u64,
}

/// A linked device as returned to whoever scanned the QR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedDevice {
    /// Device id.
    pub device: String,
    /// Account it was linked to.
    pub account: String,
    /// The QR payload that was scanned.
    pub qr: String,
}

/// The QR code a page shows now, as a phone would see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrInfo {
    /// Login attempt id (one per page showing a QR).
    pub attempt: String,
    /// The payload in `data-ref`.
    pub qr: String,
    /// How many payloads this attempt has shown so far.
    pub codes_shown: u32,
}

/// Credentials handed to a page: the key is split so that IndexedDB holds `key_a` and localStorage `key_b`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Device id.
    pub device: String,
    /// Account (phone) the device belongs to.
    pub account: String,
    /// Generation of this credential.
    pub generation: u64,
    /// First half of the key, kept in IndexedDB.
    pub key_a: String,
    /// Second half of the key, kept in localStorage.
    pub key_b: String,
}

/// The page's view of a login attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AttemptView {
    /// Show this QR payload.
    Waiting {
        /// Current payload.
        qr: String,
    },
    /// Stop showing QR codes; offer "click to reload".
    Idle,
    /// A phone scanned it: store these credentials and reload.
    Linked {
        /// The new device's first credential.
        credential: Credential,
    },
    /// The attempt is unknown (server restarted or forgot it): start a new one.
    Unknown,
}

/// The server's answer to a page presenting its stored credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AuthOutcome {
    /// Authenticated: sync, then show the app.
    Ok {
        /// Id of this page session, used by every later call.
        page: String,
        /// Account of the device.
        account: String,
        /// The rotated credential to store (when rotation is on).
        next: Option<Credential>,
        /// Another window holds the session: show "Use here" before syncing.
        conflict: bool,
    },
    /// The server never issued this device or generation.
    Unknown,
    /// The phone logged this device out.
    Revoked,
    /// The device expired after too long without use.
    Expired,
    /// This generation was refused after damage (an older backup may still work).
    Rejected,
    /// The stored key does not decrypt.
    Unreadable,
    /// The account is banned.
    Banned,
    /// This build of WhatsApp Web is too old.
    Outdated,
}

/// What an open page should show, answered to its status poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PageStatus {
    /// Keep going.
    Active,
    /// Another window holds the session: show "Use here".
    Conflict,
    /// Logged out from the phone: clear storage, QR with `post_logout=1`.
    Revoked,
    /// Expired: clear storage, QR.
    Expired,
    /// Banned screen.
    Banned,
    /// Outdated screen.
    Outdated,
    /// The server does not know this page (e.g. restarted): clear storage, QR.
    Unknown,
}

/// Why a send was refused before anything was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRefusal {
    /// The page is not logged in (any more).
    LoggedOut(PageStatus),
    /// Another window holds the session.
    Conflict,
    /// The number is malformed or not on WhatsApp.
    NotOnWhatsApp,
    /// Empty text, or an empty file.
    Empty,
    /// The file does not fit the attach menu item it came through (an image that is not
    /// `image/*`) or has no name.
    Unsupported,
    /// The file is over the limit of its menu item ([`crate::config::MediaLimits`]).
    TooLarge,
}

/// A send the server accepted, and what the HTTP layer must do about acknowledging it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendAccepted {
    /// Message id.
    pub id: String,
    /// The fault to play, if one was queued for this send.
    pub fault: Option<Fault>,
    /// False when the message never reached the recipient (dropped before delivery).
    pub delivered: bool,
}

/// An earlier outgoing message shown when a chat opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryMessage {
    /// Message id.
    pub id: String,
    /// Text.
    pub text: String,
    /// `sent`, `delivered` or `read`.
    pub status: &'static str,
    /// Wall-clock Unix milliseconds.
    pub unix_ms: u64,
    /// The attached file of a media message (`text` is then its caption).
    pub media: Option<MediaDelivery>,
}

/// One row of the chat list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatSummary {
    /// Recipient phone, digits.
    pub phone: String,
    /// Text of the newest outgoing message (for a media message without caption, "Photo" or the
    /// file name).
    pub last_text: String,
}
