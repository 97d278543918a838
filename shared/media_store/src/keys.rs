//! The media bucket's object keys: uploads by account (expired by the bucket's lifecycle after a
//! day), campaigns' own copies by campaign.

use domain::{AccountId, CampaignId, MediaId};

/// The prefix of uploads, which the bucket's lifecycle removes after a day.
pub const UPLOADS: &str = "uploads/";
/// The prefix of the campaigns' own copies.
pub const CAMPAIGNS: &str = "campaigns/";

/// Where `account` uploads media `id`.
pub fn upload(account: &AccountId, id: &MediaId) -> String {
    format!("{UPLOADS}{account}/{id}")
}

/// `campaign`'s own copy of media `id`.
pub fn campaign_copy(campaign: &CampaignId, id: &MediaId) -> String {
    format!("{CAMPAIGNS}{campaign}/{id}")
}
