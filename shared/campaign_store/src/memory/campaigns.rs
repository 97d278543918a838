//! Campaigns in the in-memory store: a new one's rows as they start (refused ones FAILED with
//! their code, the rest QUEUED, or PAUSED when the campaign starts paused or scheduled), its
//! opening counters and its place in the open listing, as the DynamoDB adapter writes them; and
//! the campaign-level moves (resume, release, reschedule, settle, cancel).

use super::state::Memory;
use crate::Transition;
use crate::model::{CampaignView, MessageRow, NewCampaign};
use domain::lifecycle::campaign;
use domain::{CampaignId, CampaignStatus, SendAt};

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
                status: msg.initial_status(opening.holds_rows()),
                attempts: 0,
                tries: 0,
                claimed_at: None,
                error: msg.refusal().or(c.pause_reason().map(|p| p.code)),
                round: 0,
                lease_until: 0,
                vars: msg.vars.clone(),
                verify_first: false,
                hold: None,
                media: msg.media.clone(),
            };
            self.messages.insert((c.id.clone(), msg.seq), row);
        }
        let reason = c.pause_reason().filter(|_| opening.paused_reason);
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
                send_at: c.send_at.map(domain::SendAt::rfc3339),
                waiting_until: None,
                attachments: c.attachments.clone(),
                created_at: c.created_at.clone(),
                updated_at: c.created_at.clone(),
            },
        );
    }

    pub(super) fn resume(&mut self, id: &CampaignId, at: &str, reopen_completed: bool) -> Transition {
        match self.campaigns.get_mut(id) {
            Some(c) if campaign::resumable(reopen_completed).contains(&c.status) => {
                c.status = CampaignStatus::Running;
                c.reason = None;
                c.hint = None;
                c.updated_at = at.to_owned();
                self.open.insert(id.clone(), at.to_owned());
                Transition::Applied
            }
            _ => Transition::NotApplicable,
        }
    }

    pub(super) fn release(&mut self, id: &CampaignId, at: &str, due_by: i64) -> Transition {
        let Some(c) = self.campaigns.get_mut(id) else { return Transition::Missing };
        let due = c.send_at.as_deref().and_then(SendAt::read).is_some_and(|s| s.is_due(due_by));
        if c.status != campaign::RELEASES_FROM || !due {
            return Transition::NotApplicable;
        }
        c.status = CampaignStatus::Running;
        c.updated_at = at.to_owned();
        Transition::Applied
    }

    pub(super) fn reschedule(&mut self, id: &CampaignId, send_at: SendAt, at: &str) -> Transition {
        match self.campaigns.get_mut(id) {
            None => Transition::Missing,
            Some(c) if c.status != campaign::RELEASES_FROM => Transition::NotApplicable,
            Some(c) => {
                c.send_at = Some(send_at.rfc3339());
                c.updated_at = at.to_owned();
                Transition::Applied
            }
        }
    }

    pub(super) fn settle(&mut self, id: &CampaignId, at: &str) {
        self.complete_if_done(id, at);
        if let Some(c) = self.campaigns.get_mut(id)
            && campaign::reopens(c.status, &c.counts)
        {
            c.status = CampaignStatus::Running;
            c.updated_at = at.to_owned();
            self.open.insert(id.clone(), at.to_owned());
        }
    }

    pub(super) fn cancel(&mut self, id: &CampaignId, at: &str) -> Transition {
        match self.campaigns.get_mut(id) {
            None => Transition::Missing,
            Some(c) if !campaign::CANCELLABLE.contains(&c.status) => Transition::NotApplicable,
            Some(c) => {
                c.status = CampaignStatus::Cancelled;
                c.reason = None;
                c.hint = None;
                c.updated_at = at.to_owned();
                Transition::Applied
            }
        }
    }
}
