//! The driver's one error type, with stable codes shared with the rest of wacamp.

use domain::ErrorCode;

use crate::screen::Screen;

/// Everything that can go wrong while driving WhatsApp Web; [`DriverError::code`] is the stable code.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// Chromium did not start in time, crashed, or the DevTools connection is gone.
    #[error("Chromium crashed or could not start: {message}")]
    BrowserCrashed {
        /// What failed (no message text or phone numbers).
        message: String,
    },
    /// The profile directory is locked by another Chromium (possibly on another host).
    #[error("the browser profile {profile} is locked by {holder}")]
    ProfileLocked {
        /// The profile directory.
        profile: String,
        /// The `SingletonLock` target (`host-pid`).
        holder: String,
    },
    /// WhatsApp Web did not answer or the page never showed a known screen within the bound.
    #[error("WhatsApp Web did not answer in time: {message}")]
    WaUnreachable {
        /// What was being waited for.
        message: String,
    },
    /// The recipient has no WhatsApp account (WhatsApp showed the invalid-number popup).
    #[error("the number is not on WhatsApp")]
    NotOnWhatsapp,
    /// The message left the composer but the server acknowledgement did not arrive within the bound.
    #[error("the server did not acknowledge the message within {waited_ms} ms")]
    SendTimeout {
        /// How long the driver waited for the ack.
        waited_ms: u128,
    },
    /// WhatsApp Web did not take the file to send (it said why in a popup); nothing was sent.
    #[error("WhatsApp Web refused the file: {message}")]
    MediaRefused {
        /// What WhatsApp Web said.
        message: String,
    },
    /// The session stopped being usable during the operation (QR, conflict, ban...).
    #[error("the WhatsApp session was lost mid-operation: the page now shows {state}")]
    SessionLost {
        /// What the page shows now.
        state: Screen,
    },
    /// The selectors file or override is unreadable or malformed.
    #[error("invalid selectors configuration: {message}")]
    Selectors {
        /// The parse or read error.
        message: String,
    },
    /// The driver configuration is unusable (e.g. a directory cannot be created).
    #[error("invalid driver configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
}

impl DriverError {
    /// The stable code for logs, rows and API answers (from the catalogue in `domain::ErrorCode`).
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::BrowserCrashed { .. } => ErrorCode::BrowserCrashed,
            Self::ProfileLocked { .. } => ErrorCode::ProfileLocked,
            Self::WaUnreachable { .. } => ErrorCode::WaUnreachable,
            Self::NotOnWhatsapp => ErrorCode::NotOnWhatsapp,
            Self::SendTimeout { .. } => ErrorCode::SendTimeout,
            Self::MediaRefused { .. } => ErrorCode::MediaRefused,
            Self::SessionLost { .. } => ErrorCode::SessionLost,
            Self::Selectors { .. } => ErrorCode::SelectorsInvalid,
            Self::Config { .. } => ErrorCode::DriverConfigInvalid,
        }
    }

    /// The `domain::ErrorCode` this maps to, when there is one.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            Self::BrowserCrashed { .. } => Some(ErrorCode::BrowserCrashed),
            Self::WaUnreachable { .. } => Some(ErrorCode::WaUnreachable),
            Self::NotOnWhatsapp => Some(ErrorCode::NotOnWhatsapp),
            Self::SendTimeout { .. } => Some(ErrorCode::SendTimeout),
            Self::MediaRefused { .. } => Some(ErrorCode::MediaRefused),
            Self::SessionLost { state } => state.error_code(),
            Self::ProfileLocked { .. } | Self::Selectors { .. } | Self::Config { .. } => None,
        }
    }

    pub(crate) fn crashed(message: impl Into<String>) -> Self {
        Self::BrowserCrashed { message: message.into() }
    }
}
