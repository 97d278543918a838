//! DynamoDB's concurrency rules, which the emulator (one request at a time) never shows: a
//! transaction is cancelled with `TransactionConflict` when another transaction or a single-item
//! write is under way on one of its items, and a single-item write is refused with
//! `TransactionConflictException` while a transaction holds its item.

use crate::call::ItemKey;
use std::collections::HashMap;

/// Who holds an item right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    Transaction,
    Write,
}

/// The items writes are under way on.
#[derive(Debug, Default)]
pub struct InFlight {
    held: HashMap<ItemKey, (Holder, u32)>,
}

/// What a write may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead; release these keys when done.
    Granted(Vec<ItemKey>),
    /// A transaction conflicts on these of its items (indices into its transact items).
    TransactionConflict(Vec<usize>),
    /// A single-item write hits an item a transaction holds.
    ItemInTransaction,
}

impl InFlight {
    /// Admits a transaction over `keys` (one per transact item).
    pub fn transaction(&mut self, keys: &[Option<ItemKey>]) -> Admission {
        let conflicting: Vec<usize> = keys
            .iter()
            .enumerate()
            .filter(|(_, k)| k.as_ref().is_some_and(|k| self.held.contains_key(k)))
            .map(|(i, _)| i)
            .collect();
        if !conflicting.is_empty() {
            return Admission::TransactionConflict(conflicting);
        }
        let keys: Vec<ItemKey> = keys.iter().flatten().cloned().collect();
        for k in &keys {
            self.hold(k, Holder::Transaction);
        }
        Admission::Granted(keys)
    }

    /// Admits a single-item write on `key`.
    pub fn write(&mut self, key: ItemKey) -> Admission {
        if self.held.get(&key).is_some_and(|(h, _)| *h == Holder::Transaction) {
            return Admission::ItemInTransaction;
        }
        self.hold(&key, Holder::Write);
        Admission::Granted(vec![key])
    }

    fn hold(&mut self, key: &ItemKey, holder: Holder) {
        let entry = self.held.entry(key.clone()).or_insert((holder, 0));
        entry.1 += 1;
    }

    /// Releases what an admission granted.
    pub fn release(&mut self, keys: &[ItemKey]) {
        for k in keys {
            if let Some(entry) = self.held.get_mut(k) {
                entry.1 -= 1;
                if entry.1 == 0 {
                    self.held.remove(k);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> ItemKey {
        ("t".into(), s.into())
    }

    #[test]
    fn overlapping_transactions_conflict_on_the_shared_item_and_writes_wait_for_none() {
        let mut f = InFlight::default();
        let Admission::Granted(first) = f.transaction(&[Some(key("row1")), Some(key("meta"))]) else {
            panic!()
        };
        assert_eq!(
            f.transaction(&[Some(key("row2")), Some(key("meta"))]),
            Admission::TransactionConflict(vec![1])
        );
        assert_eq!(f.write(key("meta")), Admission::ItemInTransaction);
        f.release(&first);
        let Admission::Granted(w) = f.write(key("meta")) else { panic!() };
        assert_eq!(f.transaction(&[Some(key("meta"))]), Admission::TransactionConflict(vec![0]));
        let Admission::Granted(w2) = f.write(key("meta")) else {
            panic!("single writes serialise, never conflict")
        };
        f.release(&w);
        f.release(&w2);
        assert!(matches!(f.transaction(&[Some(key("meta"))]), Admission::Granted(_)));
    }
}
