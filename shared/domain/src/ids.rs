//! Identifiers: campaign ids, account ids and message sequence numbers, each refusing input
//! that could not be a key in the table or a path segment.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Empty input.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// Longer than the limit.
    #[error("{0} must be at most {1} characters")]
    TooLong(&'static str, usize),
    /// A character outside `[A-Za-z0-9_-]` (and `.` for accounts).
    #[error("{0} may contain only letters, digits, '-' and '_'")]
    BadCharacter(&'static str),
}

fn check(kind: &'static str, s: &str, max: usize, extra: &[char]) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty(kind));
    }
    if s.chars().count() > max {
        return Err(IdError::TooLong(kind, max));
    }
    if !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || extra.contains(&c)) {
        return Err(IdError::BadCharacter(kind));
    }
    Ok(())
}

/// Identifies one campaign; safe in table keys and URLs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CampaignId(String);

impl CampaignId {
    /// Parses an id given by a caller.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        check("campaign id", s, 64, &[])?;
        Ok(Self(s.to_owned()))
    }

    /// A fresh random id for a new campaign.
    pub fn generate(random: u128) -> Self {
        Self(format!("c-{random:032x}"))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Identifies the sending WhatsApp account (one phone, one browser session).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AccountId(String);

impl AccountId {
    /// Parses an account name given by an operator.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        check("account", s, 64, &['.'])?;
        Ok(Self(s.to_owned()))
    }

    /// The account as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype_impls {
    ($t:ty) => {
        impl TryFrom<String> for $t {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
string_newtype_impls!(CampaignId);
string_newtype_impls!(AccountId);

/// Position of a recipient in its campaign (0-based, in the order the request listed them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MessageSeq(pub u32);

impl MessageSeq {
    /// Zero-padded so that sort keys order numerically.
    pub fn sort_key(self) -> String {
        format!("{:08}", self.0)
    }
}

impl fmt::Display for MessageSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_refuse_key_separators_and_spaces() {
        assert_eq!(AccountId::parse("shop#1"), Err(IdError::BadCharacter("account")));
        assert_eq!(AccountId::parse("my shop"), Err(IdError::BadCharacter("account")));
        assert_eq!(AccountId::parse(""), Err(IdError::Empty("account")));
        assert!(AccountId::parse("shop.main-1").is_ok());
    }

    #[test]
    fn campaign_ids_survive_a_serde_round_trip_and_refuse_bad_json() {
        let id = CampaignId::generate(42);
        let json = serde_json::to_string(&id).unwrap_or_default();
        assert_eq!(serde_json::from_str::<CampaignId>(&json).ok(), Some(id));
        assert!(serde_json::from_str::<CampaignId>("\"../x\"").is_err());
    }

    #[test]
    fn sequence_sort_keys_order_numerically() {
        assert!(MessageSeq(9).sort_key() < MessageSeq(10).sort_key());
    }
}
