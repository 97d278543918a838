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
