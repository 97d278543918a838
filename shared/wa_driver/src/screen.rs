//! What WhatsApp Web shows right now (the driver's reading of the page), as opposed to the stored
//! health of an account's session (`domain::SessionHealth`).

use std::fmt;

use domain::ErrorCode;

/// The screen WhatsApp Web shows for this profile, as far as the session is concerned.
///
/// `Unknown` means the driver could not tell (timeout, unreachable, unknown screen) and is never the same
/// as an expired session: only `NeedsQr` says the profile no longer logs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Screen {
    /// Logged in and synced: the chat list is shown.
    Ready,
    /// Not logged in: the QR code (possibly after the phone logged this device out).
    NeedsQr,
    /// Logged in, chats still syncing.
    Loading,
    /// Another window holds the session ("Use here").
    Conflict,
    /// The account is banned.
    Banned,
    /// This WhatsApp Web build is refused as outdated.
    Outdated,
    /// No known screen within the bound: unreachable, hung, or a DOM the selectors do not know.
    Unknown,
}

impl Screen {
    /// The stable name used in logs and session rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "READY",
            Self::NeedsQr => "NEEDS_QR",
            Self::Loading => "LOADING",
            Self::Conflict => "CONFLICT",
            Self::Banned => "BANNED",
            Self::Outdated => "OUTDATED",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// Parses the name the page script returns; anything else is `Unknown`.
    pub(crate) fn from_script(name: &str) -> Self {
        match name {
            "READY" => Self::Ready,
            "NEEDS_QR" => Self::NeedsQr,
            "LOADING" => Self::Loading,
            "CONFLICT" => Self::Conflict,
            "BANNED" => Self::Banned,
            "OUTDATED" => Self::Outdated,
            _ => Self::Unknown,
        }
    }

    /// The wacamp error code a campaign gets when the session is in this state, if it has its own.
    ///
    /// `NeedsQr` has none on purpose: whether it means SESSION_EXPIRED is decided after older profile
    /// generations were tried.
    pub fn error_code(self) -> Option<ErrorCode> {
        match self {
            Self::Conflict => Some(ErrorCode::SessionConflict),
            Self::Banned => Some(ErrorCode::AccountBanned),
            Self::Outdated => Some(ErrorCode::WaOutdated),
            Self::Unknown => Some(ErrorCode::WaUnreachable),
            Self::Ready | Self::NeedsQr | Self::Loading => None,
        }
    }
}

impl fmt::Display for Screen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
