//! The accounts listed as linked (the session keeper walks them) and when setup linked each
//! device: the two session facts kept beside the pointer.

use super::AwsBackend;
use super::items::{get_s, malformed, s, session_key, stamp};
use crate::SessionStoreError;
use domain::AccountId;
use platform::retry;
use table_layout::keys;
use time::OffsetDateTime;

impl AwsBackend {
    pub(super) async fn query_linked(
        &self,
        after: Option<&AccountId>,
        limit: u32,
    ) -> Result<Vec<AccountId>, SessionStoreError> {
        let mut query = self
            .dynamo
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(keys::LINKED_PARTITION))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .consistent_read(true);
        query = match after {
            Some(after) => query
                .key_condition_expression("PK = :pk AND SK > :after")
                .expression_attribute_values(":after", s(keys::linked_account(after).sk)),
            None => query.key_condition_expression("PK = :pk"),
        };
        let mut accounts = Vec::new();
        loop {
            let page = retry::call(|| query.clone().send())
                .await
                .map_err(|e| SessionStoreError::unavailable("DynamoDB Query LINKED", e))?;
            for item in page.items() {
                let sk = get_s(item, "linked account item", keys::SK)?;
                accounts.push(keys::parse_linked_account_sk(sk).ok_or_else(|| malformed(sk, keys::SK))?);
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() && accounts.len() < limit as usize => {
                    query = query.set_exclusive_start_key(Some(key));
                }
                _ => break,
            }
        }
        accounts.truncate(limit as usize);
        Ok(accounts)
    }

    pub(super) async fn write_linked_at(
        &self,
        account: &AccountId,
        at: OffsetDateTime,
    ) -> Result<bool, SessionStoreError> {
        let request = self
            .dynamo
            .update_item()
            .table_name(&self.table)
            .set_key(Some(session_key(account)))
            .update_expression("SET #la = :la")
            .condition_expression("attribute_exists(SK)")
            .expression_attribute_names("#la", "linked_at")
            .expression_attribute_values(":la", stamp(at));
        // Idempotent: a try after a lost reply sets the same time again.
        match retry::call(|| request.clone().send()).await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|se| se.is_conditional_check_failed_exception()) => {
                Ok(false)
            }
            Err(e) => Err(SessionStoreError::unavailable("DynamoDB UpdateItem SESSION linked_at", e)),
        }
    }
}
