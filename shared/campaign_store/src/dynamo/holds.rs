//! Holding a QUEUED row while its recipient is outside the account's sending window
//! (`domain::lifecycle::hold`), and ending the hold once the reconciler issued its record again.
//! Neither changes a status or a counter, so each is one conditional update of the row: holding
//! it again after a lost reply writes the same hold, ending it twice finds it ended. The campaign
//! row keeps, for the status API, the earliest opening its waiting rows wait for.

use super::{DynamoCampaignStore, conditional, retry};
use crate::{StoreError, Transition};
use domain::lifecycle::hold::Hold;
use domain::{CampaignId, MessageSeq, MessageStatus};
use table_layout::codec::{n, s};
use table_layout::keys;

impl DynamoCampaignStore {
    pub(super) async fn hold(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        hold: &Hold,
    ) -> Result<Transition, StoreError> {
        let row = self
            .update(&keys::message(id, seq))
            .update_expression("SET held_until = :until, held_since = :since")
            .condition_expression("#st = :queued")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":queued", s(MessageStatus::Queued.as_str()))
            .expression_attribute_values(":until", n(hold.until))
            .expression_attribute_values(":since", n(hold.since));
        let held = conditional(retry::call(|| row.clone().send()).await)?;
        if held == Transition::Applied {
            // The earliest opening: replaced only by an earlier one. A note whose opening passed
            // stays, since rows due at it may not be issued yet and the reconciler finds them by
            // it; the reconciler writes the next opening once it issued them.
            let meta = self
                .update(&keys::campaign(id))
                .update_expression("SET waiting_until = :until")
                .condition_expression(
                    "attribute_exists(PK) AND (attribute_not_exists(waiting_until) OR waiting_until > :until)",
                )
                .expression_attribute_values(":until", n(hold.until));
            conditional(retry::call(|| meta.clone().send()).await)?;
        }
        Ok(held)
    }

    pub(super) async fn end_hold(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        hold: &Hold,
    ) -> Result<Transition, StoreError> {
        let row = self
            .update(&keys::message(id, seq))
            .update_expression("REMOVE held_until, held_since")
            .condition_expression("held_until = :until AND held_since = :since")
            .expression_attribute_values(":until", n(hold.until))
            .expression_attribute_values(":since", n(hold.since));
        conditional(retry::call(|| row.clone().send()).await)
    }

    pub(super) async fn note_waiting(
        &self,
        id: &CampaignId,
        seen: Option<i64>,
        next: Option<i64>,
    ) -> Result<Transition, StoreError> {
        let mut update = self.update(&keys::campaign(id));
        update = match next {
            Some(next) => update
                .update_expression("SET waiting_until = :next")
                .expression_attribute_values(":next", n(next)),
            None => update.update_expression("REMOVE waiting_until"),
        };
        update = match seen {
            Some(seen) => update
                .condition_expression("waiting_until = :seen")
                .expression_attribute_values(":seen", n(seen)),
            None => {
                update.condition_expression("attribute_exists(PK) AND attribute_not_exists(waiting_until)")
            }
        };
        conditional(retry::call(|| update.clone().send()).await)
    }
}
