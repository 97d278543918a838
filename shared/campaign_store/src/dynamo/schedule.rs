//! Scheduled campaigns: releasing one once its start time has come (SCHEDULED → RUNNING, in one
//! conditional write that checks the time stored with it) and moving its start time while it
//! waits.

use super::{DynamoCampaignStore, conditional, retry};
use crate::{StoreError, Transition};
use domain::lifecycle::campaign;
use domain::{CampaignId, CampaignStatus, SendAt};
use table_layout::codec::{n, s};
use table_layout::keys;

impl DynamoCampaignStore {
    pub(super) async fn release(
        &self,
        id: &CampaignId,
        at: &str,
        due_by: i64,
    ) -> Result<Transition, StoreError> {
        let request = self
            .update(&keys::campaign(id))
            .update_expression("SET #st = :running, updated_at = :at")
            .condition_expression("#st = :scheduled AND send_at_unix <= :due_by")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":running", s(CampaignStatus::Running.as_str()))
            .expression_attribute_values(":scheduled", s(campaign::RELEASES_FROM.as_str()))
            .expression_attribute_values(":due_by", n(due_by))
            .expression_attribute_values(":at", s(at));
        self.missing_if_absent(id, conditional(retry::call(|| request.clone().send()).await)?).await
    }

    pub(super) async fn reschedule(
        &self,
        id: &CampaignId,
        send_at: SendAt,
        at: &str,
    ) -> Result<Transition, StoreError> {
        let request = self
            .update(&keys::campaign(id))
            .update_expression("SET send_at = :send_at, send_at_unix = :unix, updated_at = :at")
            .condition_expression("#st = :scheduled")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":scheduled", s(campaign::RELEASES_FROM.as_str()))
            .expression_attribute_values(":send_at", s(send_at.rfc3339()))
            .expression_attribute_values(":unix", n(send_at.unix()))
            .expression_attribute_values(":at", s(at));
        self.missing_if_absent(id, conditional(retry::call(|| request.clone().send()).await)?).await
    }
}
