//! A new campaign in the in-memory store: its rows as they start (refused ones FAILED with their
//! code, the rest QUEUED, or PAUSED when the campaign starts paused), its opening counters, and
//! its place in the open listing, as the DynamoDB adapter writes them.

use super::state::Memory;
use crate::model::{CampaignView, MessageRow, NewCampaign};
use domain::lifecycle::campaign;

impl Memory {
    pub(super) fn create(&mut self, c: &NewCampaign) {
        let opening = c.opening();
        for msg in &c.messages {
            let row = MessageRow {
                campaign: c.id.clone(),
                seq: msg.seq,
                account: c.account.clone(),
                phone: match &msg.phone {
                    Ok(p) => p.e164().to_owned(),
                    Err(raw) => raw.clone(),
                },
                status: msg.initial_status(c.paused.is_some()),
                attempts: 0,
                tries: 0,
                claimed_at: None,
                error: msg.refusal().or(c.paused.as_ref().map(|p| p.code)),
                round: 0,
                lease_until: 0,
                vars: msg.vars.clone(),
                verify_first: false,
            };
            self.messages.insert((c.id.clone(), msg.seq), row);
        }
        let reason = c.paused.as_ref().filter(|_| opening.paused_reason);
        if !campaign::is_terminal(opening.status) {
            self.open.insert(c.id.clone(), c.created_at.clone());
        }
        if opening.counts.queued > 0
            && let Ok(created) =
                time::OffsetDateTime::parse(&c.created_at, &time::format_description::well_known::Rfc3339)
        {
            self.issuing.insert(c.id.clone(), created.unix_timestamp());
        }
        self.campaigns.insert(
            c.id.clone(),
            CampaignView {
                id: c.id.clone(),
                name: c.name.clone(),
                account: c.account.clone(),
                status: opening.status,
                counts: opening.counts,
                reason: reason.map(|p| p.code),
                hint: reason.map(|p| p.hint.clone()),
                notice: None,
                template: c.template.as_str().to_owned(),
                webhook_url: c.webhook.as_ref().map(|u| u.as_str().to_owned()),
                created_at: c.created_at.clone(),
                updated_at: c.created_at.clone(),
            },
        );
    }
}
