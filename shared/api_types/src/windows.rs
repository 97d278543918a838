//! `GET`, `PUT` and `DELETE /accounts/{account}/sending-window`: the hours at which an account's
//! messages may reach a recipient, read in the recipient's time zone.

use domain::SendingWindow;
use serde::{Deserialize, Serialize};

/// The body of `PUT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendingWindowRequest {
    /// Local time it opens, `HH:MM`.
    pub from: String,
    /// Local time it closes, `HH:MM` after `from` (`24:00`: the end of the day).
    pub to: String,
    /// Weekdays it opens on (`mon`…`sun`, or ranges such as `mon-fri`); empty or absent: every day.
    #[serde(default)]
    pub days: Vec<String>,
    /// The account's IANA time zone, for numbers whose country spans several zones.
    pub time_zone: String,
}

/// The account's window, as `GET` and `PUT` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendingWindowBody {
    /// The account.
    pub account: String,
    /// Local time it opens, `HH:MM`.
    pub from: String,
    /// Local time it closes, `HH:MM`.
    pub to: String,
    /// Weekdays it opens on, Monday first.
    pub days: Vec<String>,
    /// The account's time zone.
    pub time_zone: String,
    /// When it was set, RFC 3339.
    pub set_at: String,
}

impl SendingWindowBody {
    /// The body of `account`'s `window`, set at Unix second `set_at`.
    pub fn of(account: &str, window: &SendingWindow, set_at: i64) -> Self {
        Self {
            account: account.to_owned(),
            from: window.from().to_string(),
            to: window.to().to_string(),
            days: window.days().names().into_iter().map(str::to_owned).collect(),
            time_zone: window.zone().as_str().to_owned(),
            set_at: time::OffsetDateTime::from_unix_timestamp(set_at)
                .map(domain::rfc3339)
                .unwrap_or_default(),
        }
    }
}
