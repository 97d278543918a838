//! The `Idempotency-Key` of a campaign start (`IDEMPOTENCY#<key hash>`): claimed with a
//! condition, marked done when the work is done, released when it failed.

use super::{DynamoCampaignStore, conditional, retry};
use crate::StoreError;
use crate::model::{Idempotency, IdempotencyClaim};
use aws_sdk_dynamodb::types::AttributeValue;
use domain::CampaignId;
use table_layout::codec::{Fields, Item, n, s};
use table_layout::keys;

impl DynamoCampaignStore {
    pub(super) async fn claim_key(&self, claim: &IdempotencyClaim) -> Result<Idempotency, StoreError> {
        let key = keys::idempotency(&claim.key_hash);
        let request = self
            .update(&key)
            .update_expression(
                "SET #fp = :fp, #cid = if_not_exists(#cid, :cid), #until = :until, #done = :no, #exp = :exp",
            )
            .condition_expression("attribute_not_exists(PK) OR (#fp = :fp AND #done = :no AND #until < :now)")
            .expression_attribute_names("#fp", "fingerprint")
            .expression_attribute_names("#cid", "campaign_id")
            .expression_attribute_names("#until", "locked_until")
            .expression_attribute_names("#done", "finished")
            .expression_attribute_names("#exp", "expires_at")
            .expression_attribute_values(":fp", s(claim.fingerprint.clone()))
            .expression_attribute_values(":cid", s(claim.campaign_id.as_str()))
            .expression_attribute_values(":until", n(claim.until))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .expression_attribute_values(":exp", n(claim.expires_at))
            .expression_attribute_values(":now", n(claim.now))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        let result = retry::call(|| request.clone().send()).await;
        let campaign_of = |item: &Item| -> Result<CampaignId, StoreError> {
            let f = Fields::new(item, key.to_string());
            CampaignId::parse(f.string("campaign_id")?).map_err(|e| f.malformed(e.to_string()).into())
        };
        match result {
            Ok(out) => {
                let item = out.attributes.unwrap_or_default();
                Ok(Idempotency::Owned { campaign_id: campaign_of(&item)? })
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conditional_check_failed_exception()) => {
                let Some(item) = self.get(&key).await? else {
                    // Gone between the two calls (expired): the caller may simply retry.
                    return Ok(Idempotency::InProgress { until: claim.now });
                };
                let f = Fields::new(&item, key.to_string());
                if f.string("fingerprint")? != claim.fingerprint {
                    return Ok(Idempotency::Mismatch);
                }
                if f.flag("finished") {
                    return Ok(Idempotency::Done { campaign_id: campaign_of(&item)? });
                }
                let until = i64::try_from(f.count("locked_until")?).unwrap_or(i64::MAX);
                // Our own claim, applied by a try whose reply was lost: ours to finish.
                if until == claim.until {
                    return Ok(Idempotency::Owned { campaign_id: campaign_of(&item)? });
                }
                Ok(Idempotency::InProgress { until })
            }
            Err(e) => Err(StoreError::unavailable(e)),
        }
    }

    pub(super) async fn release_key(&self, key_hash: &str) -> Result<(), StoreError> {
        let request = self
            .update(&keys::idempotency(key_hash))
            .update_expression("SET locked_until = :zero")
            .condition_expression("finished = :no")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":no", AttributeValue::Bool(false));
        let result = retry::call(|| request.clone().send()).await;
        conditional(result).map(|_| ())
    }

    pub(super) async fn finish_key(&self, key_hash: &str) -> Result<(), StoreError> {
        let request = self
            .update(&keys::idempotency(key_hash))
            .update_expression("SET finished = :yes")
            .condition_expression("attribute_exists(PK)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true));
        retry::call(|| request.clone().send()).await.map_err(StoreError::unavailable)?;
        Ok(())
    }
}
