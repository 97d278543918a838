//! One event as its endpoint receives it: `{id, type, created_at, campaign_id, account, data}`.
//! Message statuses are named as the WhatsApp Cloud API names them (`sent`, `delivered`, `read`,
//! `failed`); a status only moves forward, and events may arrive out of order or more than once
//! (an endpoint de-duplicates by `id`).

use domain::Counters;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventKind {
    /// The campaign was accepted and its rows written.
    #[serde(rename = "campaign.accepted")]
    CampaignAccepted,
    /// WhatsApp acknowledged a message.
    #[serde(rename = "message.sent")]
    MessageSent,
    /// A message will not be sent; the event names the code.
    #[serde(rename = "message.failed")]
    MessageFailed,
    /// A message reached the recipient's phone.
    #[serde(rename = "message.delivered")]
    MessageDelivered,
    /// The recipient read a message.
    #[serde(rename = "message.read")]
    MessageRead,
    /// The campaign waits for the operator; the event names the code and what to run.
    #[serde(rename = "campaign.paused")]
    CampaignPaused,
    /// A paused campaign runs again.
    #[serde(rename = "campaign.resumed")]
    CampaignResumed,
    /// A scheduled campaign started (its time came, or the operator started it early).
    #[serde(rename = "campaign.started")]
    CampaignStarted,
    /// Every message of the campaign is final.
    #[serde(rename = "campaign.completed")]
    CampaignCompleted,
    /// No stored generation of the account's session logs in: a campaign paused on it.
    #[serde(rename = "session.expired")]
    SessionExpired,
    /// The newest generation did not log in and an older one did; sending went on.
    #[serde(rename = "session.restored_from_backup")]
    SessionRestoredFromBackup,
}

impl EventKind {
    /// Every kind, in declaration order.
    pub const ALL: &'static [EventKind] = &[
        Self::CampaignAccepted,
        Self::MessageSent,
        Self::MessageFailed,
        Self::MessageDelivered,
        Self::MessageRead,
        Self::CampaignPaused,
        Self::CampaignResumed,
        Self::CampaignStarted,
        Self::CampaignCompleted,
        Self::SessionExpired,
        Self::SessionRestoredFromBackup,
    ];

    /// The wire name (`message.sent`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CampaignAccepted => "campaign.accepted",
            Self::MessageSent => "message.sent",
            Self::MessageFailed => "message.failed",
            Self::MessageDelivered => "message.delivered",
            Self::MessageRead => "message.read",
            Self::CampaignPaused => "campaign.paused",
            Self::CampaignResumed => "campaign.resumed",
            Self::CampaignStarted => "campaign.started",
            Self::CampaignCompleted => "campaign.completed",
            Self::SessionExpired => "session.expired",
            Self::SessionRestoredFromBackup => "session.restored_from_backup",
        }
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Unique per event and stable across redeliveries (`evt_` and 32 hex digits).
    pub id: String,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// When it happened, RFC 3339 (as the ledger recorded it).
    pub created_at: String,
    /// The campaign it belongs to.
    pub campaign_id: String,
    /// The sending account.
    pub account: String,
    /// The kind's details.
    pub data: EventData,
}

/// The details of an event, by kind: a message's for `message.*`, the campaign's for
/// `campaign.*`, the session's for `session.*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EventData {
    /// `message.*`.
    Message {
        /// The row's number within the campaign.
        seq: u32,
        /// The recipient (E.164).
        recipient_id: String,
        /// `sent`, `delivered`, `read` or `failed`.
        status: String,
        /// When the status was reached, RFC 3339.
        timestamp: String,
        /// Send attempts so far.
        attempts: u32,
        /// Why it failed (`message.failed` only).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        errors: Vec<MessageError>,
    },
    /// `campaign.*`.
    Campaign {
        /// The campaign's status after the change.
        status: String,
        /// Its per-status counts after the change.
        counts: Counters,
        /// Why it paused (`campaign.paused`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        /// What to run to continue (`campaign.paused`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hint: Option<String>,
    },
    /// `session.*`.
    Session {
        /// The stable code (`SESSION_EXPIRED`, `SESSION_RESTORED_FROM_BACKUP`).
        code: String,
        /// What to run, when something must be run.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hint: Option<String>,
    },
}

/// Why a message failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageError {
    /// The stable code (`INVALID_PHONE`, `NOT_ON_WHATSAPP`, …).
    pub code: String,
    /// One sentence for a person.
    pub title: String,
}

/// The id of the event made of `parts` (the campaign, the row, the kind and the change's time):
/// the same parts give the same id, so a change seen twice is one event to a de-duplicating
/// endpoint.
pub fn event_id(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0x1f]);
    }
    let digest = hash.finalize();
    format!("evt_{}", hex::encode(&digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_id_depends_on_every_part_and_only_on_them() {
        let a = event_id(&["c1", "3", "message.sent", "2026-01-01T00:00:00Z"]);
        assert_eq!(a, event_id(&["c1", "3", "message.sent", "2026-01-01T00:00:00Z"]));
        assert_ne!(a, event_id(&["c1", "4", "message.sent", "2026-01-01T00:00:00Z"]));
        assert_ne!(event_id(&["ab", "c"]), event_id(&["a", "bc"]), "parts are separated");
        assert!(a.starts_with("evt_") && a.len() == 36);
    }

    #[test]
    fn every_kind_reads_back_from_its_wire_name() {
        for kind in EventKind::ALL {
            let wire = serde_json::to_string(kind).unwrap_or_default();
            assert_eq!(wire, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<EventKind>(&wire).ok(), Some(*kind));
        }
    }

    #[test]
    fn each_kind_of_details_reads_back_as_itself() {
        let message = EventData::Message {
            seq: 2,
            recipient_id: "+4915112345678".into(),
            status: "failed".into(),
            timestamp: "2026-01-01T00:00:00Z".into(),
            attempts: 1,
            errors: vec![MessageError { code: "NOT_ON_WHATSAPP".into(), title: "not on WhatsApp".into() }],
        };
        let campaign = EventData::Campaign {
            status: "PAUSED".into(),
            counts: Counters { total: 3, paused: 3, ..Counters::default() },
            code: Some("SESSION_EXPIRED".into()),
            hint: Some("run setup".into()),
        };
        let session = EventData::Session { code: "SESSION_RESTORED_FROM_BACKUP".into(), hint: None };
        for data in [message, campaign, session] {
            let wire = serde_json::to_string(&data).unwrap_or_default();
            assert_eq!(serde_json::from_str::<EventData>(&wire).ok(), Some(data), "{wire}");
        }
    }
}
