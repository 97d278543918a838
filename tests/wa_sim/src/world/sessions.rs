//! Admin: sessions — revoking, expiring, damaging and banning linked devices.

use super::*;

impl World {
    pub(super) fn account_devices(&mut self, account: &str) -> Result<Vec<&mut Device>, SimError> {
        let devices: Vec<&mut Device> = self.devices.values_mut().filter(|d| d.account == account).collect();
        if devices.is_empty() {
            return Err(SimError::UnknownAccount(account.to_owned()));
        }
        Ok(devices)
    }

    /// The phone logs every device of `account` out; returns how many.
    pub fn revoke(&mut self, account: &str) -> Result<usize, SimError> {
        let devices = self.account_devices(account)?;
        let count = devices.len();
        for device in devices {
            device.revoked = true;
        }
        Ok(count)
    }

    /// Refuse every generation newer than `k` of the account's devices (generations issued later are fine).
    pub fn damage_after_generation(&mut self, account: &str, k: u64) -> Result<usize, SimError> {
        let mut refused = 0;
        for device in self.account_devices(account)? {
            for (_, generation) in device.generations.range_mut(k.saturating_add(1)..) {
                if generation.state == GenState::Valid {
                    generation.state = GenState::Rejected;
                    refused += 1;
                }
            }
        }
        Ok(refused)
    }

    /// Make the newest stored keys of the account's devices unreadable (a torn write): an older
    /// generation still opens.
    pub fn corrupt_stored_keys(&mut self, account: &str) -> Result<usize, SimError> {
        let mut refused = 0;
        for device in self.account_devices(account)? {
            let latest = device.latest;
            if let Some(generation) = device.generations.get_mut(&latest) {
                generation.state = GenState::Unreadable;
                refused += 1;
            }
        }
        Ok(refused)
    }

    /// Another window (not one of the simulator's pages) takes the session of `account`.
    pub fn conflict(&mut self, account: &str) -> Result<usize, SimError> {
        let devices = self.account_devices(account)?;
        let count = devices.len();
        for device in devices {
            device.holder = Holder::Elsewhere;
        }
        Ok(count)
    }

    /// Ban (or unban) an account.
    pub fn set_banned(&mut self, account: &str, banned: bool) -> Result<(), SimError> {
        if account.trim().is_empty() {
            return Err(SimError::BadRequest("account is empty".to_owned()));
        }
        if banned {
            self.banned.insert(account.to_owned());
        } else {
            self.banned.remove(account);
        }
        Ok(())
    }

    /// Every linked device, for tests and the admin API.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.devices
            .values()
            .map(|d| SessionInfo {
                device: d.id.clone(),
                account: d.account.clone(),
                latest_generation: d.latest,
                refused_generations: d
                    .generations
                    .iter()
                    .filter(|(_, g)| g.state != GenState::Valid)
                    .map(|(k, _)| *k)
                    .collect(),
                revoked: d.revoked,
                expired: self.is_idle_expired(d),
                banned: self.banned.contains(&d.account),
                held_elsewhere: d.holder == Holder::Elsewhere,
                last_used_ms: millis(d.last_used),
            })
            .collect()
    }
}
