//! Receipts: the link from a sent message's WhatsApp id to its row, and the delivered and read
//! times of the row with the campaign's counters, written forward only.

use super::DynamoCampaignStore;
use super::codec::link_from_item;
use crate::model::SentLink;
use crate::{StoreError, Transition};
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use domain::{AccountId, MessageStatus, Receipt, WaMessageId};
use table_layout::codec::{key_item, n, s};
use table_layout::keys;

/// The most pages (1 MB each) a listing of unread links reads.
const MAX_PAGES: usize = 8;

impl DynamoCampaignStore {
    pub(super) async fn link(&self, link: &SentLink, expires_at: i64) -> Result<(), StoreError> {
        let mut item = key_item(&keys::sent_message(&link.account, &link.wa_id));
        item.insert("campaign".into(), s(link.campaign.as_str()));
        item.insert("seq".into(), n(link.seq.0));
        item.insert("phone".into(), s(link.phone.as_str()));
        item.insert("sent_at".into(), n(link.sent_at));
        item.insert("expires_at".into(), n(expires_at));
        let request = self.client.put_item().table_name(&self.table).set_item(Some(item));
        super::retry::call(|| request.clone().send()).await.map_err(StoreError::unavailable)?;
        Ok(())
    }

    pub(super) async fn links(
        &self,
        account: &AccountId,
        wa_ids: &[WaMessageId],
    ) -> Result<Vec<SentLink>, StoreError> {
        let unique: std::collections::BTreeSet<&WaMessageId> = wa_ids.iter().collect();
        let keys = unique.into_iter().map(|id| key_item(&keys::sent_message(account, id))).collect();
        let items = self.batch_get(keys, "sent-message links").await?;
        items.iter().map(|item| link_from_item(account, item)).collect()
    }

    pub(super) async fn unread(
        &self,
        account: &AccountId,
        since: i64,
        max: usize,
    ) -> Result<Vec<SentLink>, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :links)")
            .filter_expression("sent_at >= :since AND (attribute_not_exists(receipt) OR receipt <> :read)")
            .expression_attribute_values(":pk", s(keys::account_partition(account)))
            .expression_attribute_values(":links", s(keys::SENT_MESSAGE_PREFIX))
            .expression_attribute_values(":since", n(since))
            .expression_attribute_values(":read", s(Receipt::Read.as_str()));
        let mut found = Vec::new();
        // Bounded: the filter reads every link of the account, so at most this many pages.
        for _ in 0..MAX_PAGES {
            let out = super::retry::call(|| query.clone().send()).await.map_err(StoreError::unavailable)?;
            for item in out.items() {
                if found.len() < max {
                    found.push(link_from_item(account, item)?);
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() && found.len() < max => {
                    query = query.set_exclusive_start_key(Some(k))
                }
                _ => break,
            }
        }
        Ok(found)
    }

    pub(super) async fn receipt(
        &self,
        link: &SentLink,
        receipt: Receipt,
        at: &str,
    ) -> Result<Transition, StoreError> {
        let mut moved = false;
        // A read is a delivery too: that step first when it is not recorded (its condition
        // makes it a no-op when it was, whatever the link said).
        if link.receipt.is_none() {
            moved |= self.receipt_step(link, Receipt::Delivered, at).await? == Transition::Applied;
        }
        if receipt == Receipt::Read && link.receipt != Some(Receipt::Read) {
            moved |= self.receipt_step(link, Receipt::Read, at).await? == Transition::Applied;
        }
        Ok(if moved { Transition::Applied } else { Transition::NotApplicable })
    }

    /// One receipt in one transaction: the row's time (only on a SENT row that lacks it), the
    /// campaign's counter and the link's furthest receipt.
    async fn receipt_step(
        &self,
        link: &SentLink,
        receipt: Receipt,
        at: &str,
    ) -> Result<Transition, StoreError> {
        let (field, counter, before) = match receipt {
            Receipt::Delivered => ("delivered_at", "delivered", "attribute_not_exists(delivered_at)"),
            Receipt::Read => {
                ("read_at", "read", "attribute_exists(delivered_at) AND attribute_not_exists(read_at)")
            }
        };
        let row = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::message(&link.campaign, link.seq))))
            .update_expression(format!("SET {field} = :at"))
            .condition_expression(format!("#status = :sent AND {before}"))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":sent", s(MessageStatus::Sent.as_str()))
            .expression_attribute_values(":at", s(at))
            .build()
            .map_err(StoreError::unavailable)?;
        let campaign = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::campaign(&link.campaign))))
            .update_expression("ADD #counter :one SET updated_at = :at")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_names("#counter", counter)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":at", s(at))
            .build()
            .map_err(StoreError::unavailable)?;
        let linked = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::sent_message(&link.account, &link.wa_id))))
            .update_expression("SET receipt = :receipt")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":receipt", s(receipt.as_str()))
            .build()
            .map_err(StoreError::unavailable)?;
        let items = [row, campaign, linked].map(|u| TransactWriteItem::builder().update(u).build()).to_vec();
        self.conditional_transaction(&format!("{receipt} receipt"), items).await
    }
}
