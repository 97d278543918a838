//! The account's sending window: a record whose recipient is outside it is not sent now. Its
//! row stays QUEUED, held until the window opens in the recipient's zone
//! (`domain::lifecycle::hold`), and the record is acknowledged — it never waits in the queue,
//! so it neither blocks the account's other recipients (the FIFO group) nor comes near SQS's
//! visibility and receive limits; the reconciler issues its record again when the hold ends.
//!
//! Checked twice: for the whole batch before a browser is opened (a batch whose recipients all
//! wait opens none), and again right before each send, since a batch may run into the window's
//! end. A record whose row is not QUEUED (being sent, settled, or missing) goes on to the
//! delivery, which knows what to do with it.

use crate::Deps;
use crate::delivery::{Disposition, Done};
use crate::tally::Tally;
use campaign_store::{StoreError, Transition};
use domain::lifecycle::hold::{self, Hold};
use domain::{CampaignId, ErrorCode, MessageSeq, PhoneNumber, QueuedMessage, RecipientZones, SendingWindow};
use std::collections::HashMap;

/// The window of one account's batch and what was learnt of its recipients.
pub struct Quiet {
    window: SendingWindow,
    /// The Unix second before the window was read: a hold decided on it is taken as of then, so
    /// a change of the window while the batch runs ends the hold and the row is decided again.
    read_at: i64,
    /// Per record: its recipient's zones, when its row was QUEUED.
    zones: HashMap<(CampaignId, MessageSeq), RecipientZones>,
}

impl Quiet {
    /// Looks at every record of `messages` (one account's) against the account's window: holds
    /// those whose recipient is outside it. Returns a disposition for each record settled here
    /// (`None`: it goes on to be sent), or `None` overall when the account has no window. Once
    /// a record must go back to the queue, the later ones follow it (FIFO).
    pub async fn sort(
        deps: &Deps,
        messages: &[QueuedMessage],
        tally: &mut Tally,
    ) -> Result<Option<(Self, Vec<Option<Disposition>>)>, StoreError> {
        let Some(first) = messages.first() else { return Ok(None) };
        let read_at = deps.clock.unix();
        let Some(stored) = deps.windows.window(&first.account).await? else { return Ok(None) };
        let mut quiet = Self { window: stored.window, read_at, zones: HashMap::new() };
        let mut dispositions = Vec::with_capacity(messages.len());
        let mut stopped = false;
        for m in messages {
            if stopped {
                dispositions.push(Some(Disposition::retry(crate::account::BEHIND_ITS_GROUP)));
                continue;
            }
            let zones = match deps.store.message(&m.campaign_id, m.seq).await {
                Err(e) => {
                    stopped = true;
                    dispositions.push(Some(Disposition::retry(e.to_string())));
                    continue;
                }
                Ok(Some(row)) if hold::may_hold(&row.state()) => PhoneNumber::parse(&row.phone, None)
                    .ok()
                    .map(|p| RecipientZones::of(&p, quiet.window.zone())),
                Ok(_) => None,
            };
            let disposition = match &zones {
                Some(z) => quiet.hold_if_closed(deps, m, z, tally).await,
                None => None,
            };
            stopped = disposition.as_ref().is_some_and(Disposition::gives_back);
            if let Some(z) = zones {
                quiet.zones.insert((m.campaign_id.clone(), m.seq), z);
            }
            dispositions.push(disposition);
        }
        Ok(Some((quiet, dispositions)))
    }

    /// Right before sending `m`: holds it if its recipient's window closed meanwhile. `None`:
    /// send it.
    pub async fn recheck(&self, deps: &Deps, m: &QueuedMessage, tally: &mut Tally) -> Option<Disposition> {
        let zones = self.zones.get(&(m.campaign_id.clone(), m.seq))?;
        self.hold_if_closed(deps, m, zones, tally).await
    }

    /// Holds `m`'s row when its recipient (in `zones`) is outside the window now.
    async fn hold_if_closed(
        &self,
        deps: &Deps,
        m: &QueuedMessage,
        zones: &RecipientZones,
        tally: &mut Tally,
    ) -> Option<Disposition> {
        let now = deps.clock.unix();
        let until = self.window.opens_at(zones, now)?;
        let held = Hold { until, since: self.read_at };
        Some(match deps.store.hold_message(&m.campaign_id, m.seq, &held).await {
            Ok(Transition::Applied) => {
                tracing::info!(campaign = %m.campaign_id, seq = %m.seq, account = %m.account, wait_s = until - now, code = %ErrorCode::QuietHours, "recipient outside the sending window; the message waits for it");
                tally.held += 1;
                Disposition::Ack(Done::Held)
            }
            // The row moved meanwhile (claimed by another record of it, settled): the delivery
            // decides, as for any record.
            Ok(Transition::NotApplicable) => return None,
            Ok(Transition::Missing) => {
                Disposition::Stray { reason: format!("row {}#{} not found", m.campaign_id, m.seq) }
            }
            Err(e) => Disposition::retry(e.to_string()),
        })
    }
}
