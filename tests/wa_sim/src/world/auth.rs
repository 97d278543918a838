//! Authentication and page status: what a page with (or without) credentials is told on each poll.

use super::*;

impl World {
    /// Whether the server dropped the device: marked so before, idle for longer than the idle
    /// expiry (WhatsApp's 30 days without activity), or its phone offline for longer than the
    /// phone-offline expiry (WhatsApp's 14 days), both on the admin clock.
    pub(super) fn is_idle_expired(&self, device: &Device) -> bool {
        let phone_gone = self
            .phones_offline
            .get(&device.account)
            .is_some_and(|since| self.clock.saturating_sub(*since) > self.phone_offline_expiry);
        device.expired || phone_gone || self.clock.saturating_sub(device.last_used) > self.idle_expiry
    }

    /// Whether the key window refuses `generation` of a device whose newest is `latest`: only the
    /// last `key_window` versions log in (0 = every one).
    fn outside_key_window(&self, generation: u64, latest: u64) -> bool {
        self.key_window > 0 && generation.saturating_add(self.key_window) <= latest
    }

    /// A page presents the credentials it read from IndexedDB + localStorage.
    pub fn authenticate(
        &mut self,
        device_id: &str,
        generation: u64,
        key_a: &str,
        key_b: &str,
    ) -> AuthOutcome {
        if self.outdated {
            return AuthOutcome::Outdated;
        }
        let Some(device) = self.devices.get(device_id) else {
            return AuthOutcome::Unknown;
        };
        if device.revoked {
            return AuthOutcome::Revoked;
        }
        if self.banned.contains(&device.account) {
            return AuthOutcome::Banned;
        }
        let expired = self.is_idle_expired(device);
        let outside_window = self.outside_key_window(generation, device.latest);
        let clock = self.clock;
        let rotate = self.rotate_credentials;
        let Some(device) = self.devices.get_mut(device_id) else {
            return AuthOutcome::Unknown;
        };
        if expired {
            device.expired = true;
            return AuthOutcome::Expired;
        }
        let Some(stored) = device.generations.get(&generation) else {
            return AuthOutcome::Unknown;
        };
        if outside_window {
            return AuthOutcome::Rejected;
        }
        match stored.state {
            GenState::Rejected => return AuthOutcome::Rejected,
            GenState::Unreadable => return AuthOutcome::Unreadable,
            GenState::Valid if stored.key_a != key_a || stored.key_b != key_b => {
                return AuthOutcome::Unreadable;
            }
            GenState::Valid => {}
        }
        device.last_used = clock;
        let page = random_id("page-");
        let conflict = device.holder == Holder::Elsewhere;
        if !conflict {
            device.holder = Holder::Page(page.clone());
        }
        let next = rotate.then(|| {
            device.latest += 1;
            let fresh =
                Generation { key_a: random_key_half(), key_b: random_key_half(), state: GenState::Valid };
            let credential = Credential {
                device: device.id.clone(),
                account: device.account.clone(),
                generation: device.latest,
                key_a: fresh.key_a.clone(),
                key_b: fresh.key_b.clone(),
            };
            device.generations.insert(device.latest, fresh);
            credential
        });
        let account = device.account.clone();
        self.pages.insert(page.clone(), Page { device: device_id.to_owned(), generation });
        AuthOutcome::Ok { page, account, next, conflict }
    }

    /// The open page asks what to show; an active page counts as use of the device.
    pub fn page_status(&mut self, page_id: &str) -> PageStatus {
        if self.outdated {
            return PageStatus::Outdated;
        }
        let Some(page) = self.pages.get(page_id) else {
            return PageStatus::Unknown;
        };
        let Some(device) = self.devices.get(&page.device) else {
            return PageStatus::Unknown;
        };
        if device.revoked {
            return PageStatus::Revoked;
        }
        if self.banned.contains(&device.account) {
            return PageStatus::Banned;
        }
        let expired = self.is_idle_expired(device);
        let clock = self.clock;
        let Some(device) = self.devices.get_mut(&page.device) else {
            return PageStatus::Unknown;
        };
        if expired {
            device.expired = true;
            return PageStatus::Expired;
        }
        device.last_used = clock;
        if device.holder == Holder::Page(page_id.to_owned()) {
            PageStatus::Active
        } else {
            PageStatus::Conflict
        }
    }

    /// "Use here": this page takes the session over from whichever window held it.
    pub fn take_over(&mut self, page_id: &str) -> PageStatus {
        let status = self.page_status(page_id);
        if !matches!(status, PageStatus::Active | PageStatus::Conflict) {
            return status;
        }
        let device = self.pages.get(page_id).map(|p| p.device.clone());
        if let Some(device) = device.and_then(|d| self.devices.get_mut(&d)) {
            device.holder = Holder::Page(page_id.to_owned());
        }
        PageStatus::Active
    }

    pub(super) fn page_account(&self, page_id: &str) -> Option<(String, String, u64)> {
        let page = self.pages.get(page_id)?;
        let device = self.devices.get(&page.device)?;
        Some((device.account.clone(), device.id.clone(), page.generation))
    }
}
