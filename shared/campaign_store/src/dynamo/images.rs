//! The table's items as a change stream shows them (the old and new image of one write): a
//! campaign row or a message row read with the same codec the store reads them with; any other
//! item (links, leases, counters of sends) is none of these.

use super::codec::{entry_from_item, view_from_item};
use crate::StoreError;
use crate::model::{CampaignView, MessageEntry};
use table_layout::codec::{Fields, Item};
use table_layout::keys;

/// What one stream image is.
#[derive(Debug, Clone, PartialEq)]
pub enum Image {
    /// A campaign's row.
    Campaign(CampaignView),
    /// One recipient's row.
    Message(MessageEntry),
    /// An item that is neither.
    Other,
}

/// Reads one image; a campaign or message row that does not parse is an error naming its key.
pub fn read(item: &Item) -> Result<Image, StoreError> {
    let f = Fields::of(item);
    let (Ok(pk), Ok(sk)) = (f.string(keys::PK), f.string(keys::SK)) else {
        return Ok(Image::Other);
    };
    let Some(id) = keys::parse_campaign_partition(pk) else {
        return Ok(Image::Other);
    };
    if sk == keys::campaign(&id).sk {
        return view_from_item(&id, item).map(Image::Campaign);
    }
    if keys::parse_message_sk(sk).is_some() {
        return entry_from_item(&id, item).map(Image::Message);
    }
    Ok(Image::Other)
}
