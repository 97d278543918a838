//! Receipts: what WhatsApp tells of a sent message afterwards (it reached the phone, it was
//! read), and the id WhatsApp gives the message, by which a later look at the chat finds its row.

use crate::IdError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How far a sent message got, past the server's acknowledgement. Only ever moves forward:
/// a receipt seen late or twice never takes a message back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Receipt {
    /// It reached the recipient's phone (two checks).
    Delivered,
    /// The recipient opened it (blue checks). A read message was delivered, whether or not that
    /// receipt was seen first.
    Read,
}

impl Receipt {
    /// As stored and shown, the way the WhatsApp Cloud API names message statuses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Read => "read",
        }
    }

    /// Parses the stored name.
    pub fn from_wire(s: &str) -> Option<Self> {
        match s {
            "delivered" => Some(Self::Delivered),
            "read" => Some(Self::Read),
            _ => None,
        }
    }

    /// Whether `self` says more than what is already `recorded`.
    pub fn advances(self, recorded: Option<Self>) -> bool {
        recorded.is_none_or(|r| self > r)
    }
}

impl fmt::Display for Receipt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The id WhatsApp Web gives one message (as its chat shows it, e.g.
/// `true_15551234567@c.us_3EB0C7…`): printable ASCII without spaces or `#`, at most 128
/// characters, so it is safe in a table key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WaMessageId(String);

impl WaMessageId {
    /// The longest id taken.
    pub const MAX_LEN: usize = 128;

    /// Parses an id read from a chat.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        const KIND: &str = "WhatsApp message id";
        if s.is_empty() {
            return Err(IdError::Empty(KIND));
        }
        if s.len() > Self::MAX_LEN {
            return Err(IdError::TooLong(KIND, Self::MAX_LEN));
        }
        if !s.bytes().all(|b| b.is_ascii_graphic() && b != b'#') {
            return Err(IdError::BadCharacter(KIND));
        }
        Ok(Self(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for WaMessageId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}

impl From<WaMessageId> for String {
    fn from(id: WaMessageId) -> Self {
        id.0
    }
}

impl fmt::Display for WaMessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_advances_only_past_what_is_recorded() {
        assert!(Receipt::Delivered.advances(None));
        assert!(Receipt::Read.advances(Some(Receipt::Delivered)));
        assert!(!Receipt::Delivered.advances(Some(Receipt::Read)));
        assert!(!Receipt::Read.advances(Some(Receipt::Read)));
    }

    #[test]
    fn a_receipt_reads_back_what_it_writes_and_nothing_else() {
        for r in [Receipt::Delivered, Receipt::Read] {
            assert_eq!(Receipt::from_wire(r.as_str()), Some(r));
        }
        assert_eq!(Receipt::from_wire("sent"), None);
    }

    #[test]
    fn a_message_id_from_a_chat_is_taken_and_one_unsafe_in_a_key_is_refused() {
        let id = WaMessageId::parse("true_15551234567@c.us_3EB0C767D26A1D8B5E8F").unwrap();
        assert_eq!(id.as_str(), "true_15551234567@c.us_3EB0C767D26A1D8B5E8F");
        assert_eq!(WaMessageId::parse(""), Err(IdError::Empty("WhatsApp message id")));
        assert!(matches!(WaMessageId::parse("a#b"), Err(IdError::BadCharacter(_))));
        assert!(matches!(WaMessageId::parse("a b"), Err(IdError::BadCharacter(_))));
        assert!(matches!(WaMessageId::parse(&"x".repeat(129)), Err(IdError::TooLong(_, 128))));
    }
}
