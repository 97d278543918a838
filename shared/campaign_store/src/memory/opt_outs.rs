//! The in-memory store's opt-out lists: (account, E.164) pairs.

use super::state::Memory;
use domain::{AccountId, PhoneNumber};
use std::collections::BTreeSet;

impl Memory {
    pub(super) fn opt_out(&mut self, account: &AccountId, phone: &PhoneNumber) {
        self.opt_outs.insert((account.clone(), phone.e164().to_owned()));
    }

    pub(super) fn opt_in(&mut self, account: &AccountId, phone: &PhoneNumber) -> bool {
        self.opt_outs.remove(&(account.clone(), phone.e164().to_owned()))
    }

    pub(super) fn opted_out_among(&self, account: &AccountId, phones: &[String]) -> BTreeSet<String> {
        phones.iter().filter(|p| self.opt_outs.contains(&(account.clone(), (*p).clone()))).cloned().collect()
    }
}
