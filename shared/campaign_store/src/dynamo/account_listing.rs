//! An account's campaigns, newest first: their campaign rows carry the account's key in the
//! table's index (`table_layout::keys::account_campaigns_pk`), so a page is one query.

use super::codec::view_from_item;
use super::{DynamoCampaignStore, retry};
use crate::StoreError;
use crate::model::{CampaignPosition, CampaignView};
use domain::AccountId;
use table_layout::codec::{Fields, s};
use table_layout::keys;

impl DynamoCampaignStore {
    pub(super) async fn list_of_account(
        &self,
        account: &AccountId,
        after: Option<&CampaignPosition>,
        limit: u32,
    ) -> Result<Vec<CampaignView>, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::STATUS_INDEX)
            .expression_attribute_values(":pk", s(keys::account_campaigns_pk(account)))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX));
        query = match after {
            Some(p) => query
                .key_condition_expression("GSI1PK = :pk AND GSI1SK < :before")
                .expression_attribute_values(
                    ":before",
                    s(keys::account_campaigns_sk(p.created_unix_nanos, &p.id)),
                ),
            None => query.key_condition_expression("GSI1PK = :pk"),
        };
        let mut views = Vec::new();
        loop {
            let out = retry::call(|| query.clone().send()).await.map_err(StoreError::unavailable)?;
            for item in out.items() {
                let f = Fields::of(item);
                let pk = f.string(keys::PK)?;
                let id = keys::parse_campaign_partition(pk)
                    .ok_or_else(|| f.malformed(format!("{pk} is not a campaign partition")))?;
                views.push(view_from_item(&id, item)?);
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() && views.len() < limit as usize => {
                    query = query.set_exclusive_start_key(Some(key))
                }
                _ => break,
            }
        }
        views.truncate(limit as usize);
        Ok(views)
    }
}
