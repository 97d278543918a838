//! The accounts' opt-out lists: one item per number under the account's partition, read in
//! batches, and the consistent batch read the store's other lookups share.

use super::DynamoCampaignStore;
use crate::StoreError;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use domain::{AccountId, PhoneNumber};
use std::collections::BTreeSet;
use table_layout::codec::{Fields, Item, key_item, s};
use table_layout::keys;

/// DynamoDB's limit on the keys of one `BatchGetItem`.
const BATCH_GET: usize = 100;

impl DynamoCampaignStore {
    pub(super) async fn opt_out(
        &self,
        account: &AccountId,
        phone: &PhoneNumber,
        at: &str,
    ) -> Result<(), StoreError> {
        let mut item = key_item(&keys::opt_out(account, phone.e164()));
        item.insert("phone".into(), s(phone.e164()));
        item.insert("at".into(), s(at));
        let request = self.client.put_item().table_name(&self.table).set_item(Some(item));
        super::retry::call(|| request.clone().send()).await.map_err(StoreError::unavailable)?;
        Ok(())
    }

    pub(super) async fn opt_in(&self, account: &AccountId, phone: &PhoneNumber) -> Result<bool, StoreError> {
        let request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::opt_out(account, phone.e164()))))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld);
        let out = super::retry::call(|| request.clone().send()).await.map_err(StoreError::unavailable)?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }

    pub(super) async fn opted_out_among(
        &self,
        account: &AccountId,
        phones: &[String],
    ) -> Result<BTreeSet<String>, StoreError> {
        let unique: BTreeSet<&String> = phones.iter().collect();
        let keys = unique.into_iter().map(|p| key_item(&keys::opt_out(account, p))).collect();
        let items = self.batch_get(keys, "opt-out entries").await?;
        items.iter().map(|item| Ok(Fields::of(item).string("phone")?.to_owned())).collect()
    }

    /// The items of `keys` (no two alike: DynamoDB refuses a batch that repeats a key) that
    /// exist, read consistently, 100 keys a call; keys DynamoDB leaves unprocessed (throttling)
    /// are asked again with the backoff of any other passing refusal, and an error names `what`
    /// when some are still left.
    pub(super) async fn batch_get(&self, keys: Vec<Item>, what: &str) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(BATCH_GET) {
            let mut pending: Vec<Item> = chunk.to_vec();
            for attempt in 1..=platform::retry::TRIES {
                if pending.is_empty() {
                    break;
                }
                let asked = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .consistent_read(true)
                    .build()
                    .map_err(StoreError::unavailable)?;
                let request = self.client.batch_get_item().request_items(&self.table, asked);
                let out =
                    super::retry::call(|| request.clone().send()).await.map_err(StoreError::unavailable)?;
                found.extend(out.responses.and_then(|mut r| r.remove(&self.table)).unwrap_or_default());
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
                if !pending.is_empty() && attempt < platform::retry::TRIES {
                    tokio::time::sleep(platform::retry::backoff(attempt)).await;
                }
            }
            if !pending.is_empty() {
                return Err(StoreError::Contended(format!("{} {what} still unprocessed", pending.len())));
            }
        }
        Ok(found)
    }
}
