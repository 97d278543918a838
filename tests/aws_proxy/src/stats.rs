//! What the proxy did: calls per operation, faults injected per kind, conflicts it found between
//! concurrent writes, and calls refused for breaking a limit.

use crate::plan::FaultKind;
use std::collections::BTreeMap;

/// Counts since the last reset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Calls seen, by `Service.Operation`.
    pub calls: BTreeMap<String, u64>,
    /// Faults injected by the plan's rules, by kind.
    pub injected: BTreeMap<FaultKind, u64>,
    /// Writes refused because a concurrent write held one of their items.
    pub conflicts: u64,
    /// Calls refused for breaking an AWS limit, by `Service.Operation`.
    pub refused: BTreeMap<String, u64>,
    /// Calls held by a delay so far.
    pub delayed: u64,
    /// Calls being held right now.
    pub holding: u64,
}

impl Stats {
    /// Faults injected of `kind`.
    pub fn injected(&self, kind: FaultKind) -> u64 {
        self.injected.get(&kind).copied().unwrap_or(0)
    }

    /// Every fault the code had to cope with: injected ones and found conflicts.
    pub fn total_faults(&self) -> u64 {
        self.injected.values().sum::<u64>() + self.conflicts
    }

    /// A table of the faults, one `kind count` line each, for test output.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for kind in FaultKind::ALL {
            out.push_str(&format!("{:<32} {:>6}\n", format!("{kind:?}"), self.injected(*kind)));
        }
        out.push_str(&format!("{:<32} {:>6}\n", "concurrent-write conflicts", self.conflicts));
        out.push_str(&format!("{:<32} {:>6}\n", "refused by limits", self.refused.values().sum::<u64>()));
        out
    }
}
