//! Every key of the table.
//!
//! | item | `PK` | `SK` |
//! | --- | --- | --- |
//! | a campaign and its counters | `CAMPAIGN#<id>` | `META` |
//! | one recipient's message | `CAMPAIGN#<id>` | `MSG#<seq, 8 digits>` |
//! | an account's session pointer | `ACCOUNT#<account>` | `SESSION` |
//! | one stored profile generation | `ACCOUNT#<account>` | `GEN#<generation id>` |
//! | the account's browser lease | `ACCOUNT#<account>` | `LEASE` |
//! | sends counted in an hour / a day | `ACCOUNT#<account>` | `SENDS#H#<start>` / `SENDS#D#<start>` |
//! | a sent message's WhatsApp id, naming its row (for receipts; expires) | `ACCOUNT#<account>` | `WAMSG#<WhatsApp message id>` |
//! | a number on the account's opt-out list | `ACCOUNT#<account>` | `OPTOUT#<E.164>` |
//! | the account's sending window | `ACCOUNT#<account>` | `WINDOW` |
//! | an `Idempotency-Key` of a start | `IDEMPOTENCY#<key hash>` | `IDEMPOTENCY` |
//! | a campaign not yet over (for the reconciler) | `OPEN` | `CAMPAIGN#<id>` |
//!
//! Index `GSI1` lists a campaign's rows by status: `GSI1PK = CAMPAIGN#<id>#STATUS#<status>`,
//! `GSI1SK = <seq, 8 digits>`; and an account's campaigns by age, from their campaign rows:
//! `GSI1PK = ACCOUNT#<account>#CAMPAIGNS`, `GSI1SK = <creation, Unix nanoseconds, 20 digits>#<id>`.

use domain::{AccountId, CampaignId, MessageSeq, MessageStatus, WaMessageId};

/// The partition key attribute.
pub const PK: &str = "PK";
/// The sort key attribute.
pub const SK: &str = "SK";
/// The status index.
pub const STATUS_INDEX: &str = "GSI1";
/// The status index's partition key attribute.
pub const STATUS_INDEX_PK: &str = "GSI1PK";
/// The status index's sort key attribute.
pub const STATUS_INDEX_SK: &str = "GSI1SK";

const MESSAGE_PREFIX: &str = "MSG#";
const GENERATION_PREFIX: &str = "GEN#";
/// The sort-key prefix of a sent message's link to its row.
pub const SENT_MESSAGE_PREFIX: &str = "WAMSG#";

/// One item's primary key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// Partition key.
    pub pk: String,
    /// Sort key.
    pub sk: String,
}

impl Key {
    fn new(pk: String, sk: impl Into<String>) -> Self {
        Self { pk, sk: sk.into() }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.pk, self.sk)
    }
}

/// The partition of a campaign: its row and every message row.
pub fn campaign_partition(id: &CampaignId) -> String {
    format!("CAMPAIGN#{id}")
}

/// The campaign row.
pub fn campaign(id: &CampaignId) -> Key {
    Key::new(campaign_partition(id), "META")
}

/// A message row's sort key.
pub fn message_sk(seq: MessageSeq) -> String {
    format!("{MESSAGE_PREFIX}{}", seq.sort_key())
}

/// A message row.
pub fn message(id: &CampaignId, seq: MessageSeq) -> Key {
    Key::new(campaign_partition(id), message_sk(seq))
}

/// The item naming the row of the message WhatsApp knows as `wa_id`, sent from `account`.
pub fn sent_message(account: &AccountId, wa_id: &WaMessageId) -> Key {
    Key::new(account_partition(account), format!("{SENT_MESSAGE_PREFIX}{wa_id}"))
}

/// The row number of a message row's sort key, if it is one.
pub fn parse_message_sk(sk: &str) -> Option<MessageSeq> {
    sk.strip_prefix(MESSAGE_PREFIX).and_then(|n| n.parse().ok()).map(MessageSeq)
}

/// The sort-key range holding a campaign's message rows after `after` (all of them for `None`),
/// for a `BETWEEN` condition: `~` sorts after every digit.
pub fn message_range_after(after: Option<MessageSeq>) -> (String, String) {
    let low =
        after.map_or_else(|| MESSAGE_PREFIX.to_owned(), |a| message_sk(MessageSeq(a.0.saturating_add(1))));
    (low, format!("{MESSAGE_PREFIX}~"))
}

/// The status index partition of a campaign's rows in `status`.
pub fn status_index_pk(id: &CampaignId, status: MessageStatus) -> String {
    format!("CAMPAIGN#{id}#STATUS#{status}")
}

/// The status index sort key of a row.
pub fn status_index_sk(seq: MessageSeq) -> String {
    seq.sort_key()
}

/// The status index partition listing an account's campaigns (their campaign rows).
pub fn account_campaigns_pk(account: &AccountId) -> String {
    format!("ACCOUNT#{account}#CAMPAIGNS")
}

/// The status index sort key of a campaign row in its account's listing: creation time first, so
/// the index sorts by age; the id breaks ties within a nanosecond.
pub fn account_campaigns_sk(created_unix_nanos: i128, id: &CampaignId) -> String {
    format!("{:020}#{id}", created_unix_nanos.max(0))
}

/// The id of a campaign partition key (`CAMPAIGN#<id>`), if it is one.
pub fn parse_campaign_partition(pk: &str) -> Option<CampaignId> {
    pk.strip_prefix("CAMPAIGN#").and_then(|id| CampaignId::parse(id).ok())
}

/// The partition of an account: its session pointer, generations, lease and send counters.
pub fn account_partition(account: &AccountId) -> String {
    format!("ACCOUNT#{account}")
}

/// The account's session pointer.
pub fn session(account: &AccountId) -> Key {
    Key::new(account_partition(account), "SESSION")
}

/// The sort-key prefix of the account's generation items.
pub fn generation_prefix() -> &'static str {
    GENERATION_PREFIX
}

/// One stored profile generation of the account.
pub fn generation(account: &AccountId, generation_id: &str) -> Key {
    Key::new(account_partition(account), format!("{GENERATION_PREFIX}{generation_id}"))
}

/// The generation id of a generation item's sort key, if it is one.
pub fn parse_generation_sk(sk: &str) -> Option<&str> {
    sk.strip_prefix(GENERATION_PREFIX)
}

/// The account's sending window (quiet hours outside it).
pub fn sending_window(account: &AccountId) -> Key {
    Key::new(account_partition(account), "WINDOW")
}

/// A number on the account's opt-out list (asked not to be contacted by it), by its E.164 form.
pub fn opt_out(account: &AccountId, e164: &str) -> Key {
    Key::new(account_partition(account), format!("OPTOUT#{e164}"))
}

/// The account's browser lease.
pub fn lease(account: &AccountId) -> Key {
    Key::new(account_partition(account), "LEASE")
}

/// A send-cap window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// A clock hour (UTC).
    Hour,
    /// A UTC day.
    Day,
}

/// The sends counted for the account in the window starting at Unix second `start`.
pub fn sends(account: &AccountId, window: Window, start: i64) -> Key {
    let kind = match window {
        Window::Hour => 'H',
        Window::Day => 'D',
    };
    Key::new(account_partition(account), format!("SENDS#{kind}#{start}"))
}

/// The partition listing every account whose session pointer ever moved (one item per account,
/// written with each move); the session keeper walks it.
pub const LINKED_PARTITION: &str = "LINKED";

/// An account's entry in the linked listing.
pub fn linked_account(account: &AccountId) -> Key {
    Key::new(LINKED_PARTITION.to_owned(), account_partition(account))
}

/// The account a linked-listing sort key names.
pub fn parse_linked_account_sk(sk: &str) -> Option<AccountId> {
    sk.strip_prefix("ACCOUNT#").and_then(|a| AccountId::parse(a).ok())
}

/// The partition listing the campaigns that are not over (written when one opens or reopens,
/// removed when it completes or is cancelled); the reconciler walks it.
pub const OPEN_PARTITION: &str = "OPEN";

/// A campaign's entry in the open listing.
pub fn open_campaign(id: &CampaignId) -> Key {
    Key::new(OPEN_PARTITION.to_owned(), campaign_partition(id))
}

/// The campaign an open-listing sort key names.
pub fn parse_open_campaign_sk(sk: &str) -> Option<CampaignId> {
    sk.strip_prefix("CAMPAIGN#").and_then(|id| CampaignId::parse(id).ok())
}

/// An `Idempotency-Key` of a campaign start, by the key's hash.
pub fn idempotency(key_hash: &str) -> Key {
    Key::new(format!("IDEMPOTENCY#{key_hash}"), "IDEMPOTENCY")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_keys_sort_by_row_and_parse_back() {
        let id = CampaignId::parse("c-1").unwrap();
        assert_eq!(message(&id, MessageSeq(7)).to_string(), "CAMPAIGN#c-1/MSG#00000007");
        assert_eq!(parse_message_sk(&message_sk(MessageSeq(42))), Some(MessageSeq(42)));
        assert_eq!(parse_message_sk("META"), None);
        let (low, high) = message_range_after(Some(MessageSeq(9)));
        assert!(low.as_str() > message_sk(MessageSeq(9)).as_str() && high.as_str() > low.as_str());
    }
}
