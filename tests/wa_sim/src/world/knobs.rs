//! Admin: the clock, numbers not on WhatsApp, injected faults and latency.

use super::*;

impl World {
    /// Move the admin clock forward; returns the new time.
    pub fn advance_clock(&mut self, by: Duration) -> Duration {
        self.clock = self.clock.saturating_add(by);
        self.clock
    }

    /// The admin clock.
    pub fn clock(&self) -> Duration {
        self.clock
    }

    /// A number that is not on WhatsApp: opening its chat shows the invalid-number popup.
    pub fn mark_not_on_whatsapp(&mut self, phone: &str) -> Result<String, SimError> {
        let digits = normalise_phone(phone)
            .ok_or_else(|| SimError::BadRequest(format!("{phone:?} is not a phone number")))?;
        self.not_on_whatsapp.insert(digits.clone());
        Ok(digits)
    }

    /// Queue a fault for the next matching request.
    pub fn fail_next(&mut self, fault: Fault) -> Result<(), SimError> {
        fault.check()?;
        self.faults.push(fault);
        Ok(())
    }

    /// Take the oldest queued fault that `matches`.
    pub fn take_fault(&mut self, matches: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let index = self.faults.iter().position(matches)?;
        Some(self.faults.remove(index))
    }

    /// Faults still queued.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.faults.clone()
    }

    /// Acknowledge no send at all from now on (or again).
    pub fn set_never_ack(&mut self, never: bool) {
        self.never_ack = never;
    }

    /// Show every page the "outdated" screen (or stop).
    pub fn set_outdated(&mut self, outdated: bool) {
        self.outdated = outdated;
    }

    /// Whether pages show the outdated screen.
    pub fn outdated(&self) -> bool {
        self.outdated
    }

    /// Answer every page load and API call with 503 from now on (WhatsApp Web unreachable), or
    /// stop.
    pub fn set_unreachable(&mut self, unreachable: bool) {
        self.unreachable = unreachable;
    }

    /// Whether WhatsApp Web is unreachable.
    pub fn unreachable(&self) -> bool {
        self.unreachable
    }

    /// Accept only the last `versions` key versions of each device (0 = every one): with keys
    /// rewritten on each load, a backup older than that no longer logs in.
    pub fn set_key_window(&mut self, versions: u64) {
        self.key_window = versions;
    }

    /// How many key versions log in (0 = every one).
    pub fn key_window(&self) -> u64 {
        self.key_window
    }

    /// How long after its chat list shows the app starts intercepting in-app chat links (before
    /// that a clicked link does what a plain link does).
    pub fn set_links_ready_after(&mut self, after: Duration) {
        self.links_ready_after = after;
    }

    /// See [`World::set_links_ready_after`].
    pub fn links_ready_after(&self) -> Duration {
        self.links_ready_after
    }

    /// The phone of `account` goes offline (from now on the admin clock) or comes back: after the
    /// phone-offline expiry without it, the account's devices are logged out.
    pub fn set_phone_online(&mut self, account: &str, online: bool) -> Result<(), SimError> {
        if account.trim().is_empty() {
            return Err(SimError::BadRequest("account is empty".to_owned()));
        }
        if online {
            self.phones_offline.remove(account);
        } else {
            let clock = self.clock;
            self.phones_offline.entry(account.to_owned()).or_insert(clock);
        }
        Ok(())
    }

    /// Replace the added delays.
    pub fn set_latency(&mut self, latency: Latency) {
        self.latency = latency;
    }

    /// The added delays.
    pub fn latency(&self) -> Latency {
        self.latency
    }

    /// Every delivered message, in delivery order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.messages.iter().map(|s| s.delivery.clone()).collect()
    }
}
