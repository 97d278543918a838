//! The state machines: a message moves QUEUED → SENDING → SENT | FAILED, or to PAUSED when the
//! session is unusable and back to QUEUED on resume; a campaign is SCHEDULED, RUNNING, PAUSED,
//! COMPLETED or CANCELLED; an account's session is READY, EXPIRED and so on.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// A status string that is not one of the known values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status '{0}'")]
pub struct UnknownStatus(pub String);

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant),+
        }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The stored and wire form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl FromStr for $name {
            type Err = UnknownStatus;
            fn from_str(s: &str) -> Result<Self, UnknownStatus> {
                match s { $($text => Ok($name::$variant),)+ _ => Err(UnknownStatus(s.to_owned())) }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

wire_enum!(
    /// Where one recipient's message stands.
    MessageStatus {
        /// Waiting in the queue.
        Queued = "QUEUED",
        /// Claimed by a sender under a lease; maybe sent if the lease expired.
        Sending = "SENDING",
        /// Acknowledged by WhatsApp.
        Sent = "SENT",
        /// Will not be sent; the row carries the code.
        Failed = "FAILED",
        /// Waiting for the operator (session unusable), or for its SCHEDULED campaign's start
        /// time; resumable.
        Paused = "PAUSED",
        /// The campaign was cancelled before this was sent.
        Cancelled = "CANCELLED",
    }
);

impl MessageStatus {
    /// True when nothing more will happen to the message without an operator.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Sent | Self::Failed | Self::Cancelled)
    }
}

wire_enum!(
    /// Where a campaign stands.
    CampaignStatus {
        /// Accepted with a start time still ahead: its rows wait PAUSED, nothing is queued.
        Scheduled = "SCHEDULED",
        /// Messages are being sent.
        Running = "RUNNING",
        /// Waiting for the operator; the campaign row says why and what to run.
        Paused = "PAUSED",
        /// Every message is final.
        Completed = "COMPLETED",
        /// Stopped by the operator.
        Cancelled = "CANCELLED",
    }
);

wire_enum!(
    /// The stored health of an account's WhatsApp Web session (what the last check found), as
    /// opposed to what a browser shows right now (`wa_driver::Screen`).
    SessionHealth {
        /// Logged in (chat list shown) at the last check.
        Ready = "READY",
        /// No stored generation logs in; setup is needed.
        Expired = "EXPIRED",
        /// Never set up.
        Missing = "MISSING",
        /// Open in another window.
        Conflict = "CONFLICT",
        /// Banned by WhatsApp.
        Banned = "BANNED",
        /// The last check did not finish (unreachable or timeout); not the same as expired.
        Unknown = "UNKNOWN",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_stored_form() {
        for s in MessageStatus::ALL {
            assert_eq!(s.as_str().parse::<MessageStatus>().ok(), Some(*s));
        }
        for s in CampaignStatus::ALL {
            assert_eq!(s.as_str().parse::<CampaignStatus>().ok(), Some(*s));
        }
        assert!("sent".parse::<MessageStatus>().is_err());
    }
}
