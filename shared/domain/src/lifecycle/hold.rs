//! Holding a QUEUED row out of the queue while its recipient is outside the account's sending
//! window, and when the hold ends. A hold is not a status: the row stays QUEUED (and is counted
//! queued), its record is acknowledged, and the hold says until when it waits. The reconciler
//! issues the row a record again once the hold ends; any move of the row (a claim, a cancel, a
//! pause) ends its hold too. The claim stays the one guard against a second send, so a hold
//! decides only when a message goes out, never whether.

use super::RowState;
use crate::MessageStatus;

/// A row's hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold {
    /// The Unix second the recipient's window opens.
    pub until: i64,
    /// The Unix second the hold was decided as of: when the window it was decided on was read
    /// (at or before the hold was written).
    pub since: i64,
}

/// The account's sending window, as far as a hold cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowSetting {
    /// The account has no window any more: nothing waits.
    Absent,
    /// The window as set at this Unix second.
    SetAt(i64),
}

/// Whether `row` may be held: only a QUEUED row (a row being sent or settled is not waiting).
pub fn may_hold(row: &RowState) -> bool {
    row.status == MessageStatus::Queued
}

/// Whether `hold` has ended at Unix second `now`: the window opened, or the window it was
/// decided on is gone or was changed since (the row is then decided again on the new one; a
/// change in the hold's own second counts as later, so a hold is never kept on a stale window).
pub fn ended(hold: &Hold, now: i64, window: WindowSetting) -> bool {
    match window {
        WindowSetting::Absent => true,
        WindowSetting::SetAt(set) => hold.until <= now || set >= hold.since,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOLD: Hold = Hold { until: 1_000, since: 100 };

    #[test]
    fn a_hold_ends_when_the_window_opens_and_not_before() {
        assert!(!ended(&HOLD, 999, WindowSetting::SetAt(50)));
        assert!(ended(&HOLD, 1_000, WindowSetting::SetAt(50)));
    }

    #[test]
    fn a_hold_ends_at_once_when_the_window_is_removed_or_changed_after_it() {
        assert!(ended(&HOLD, 500, WindowSetting::Absent));
        assert!(ended(&HOLD, 500, WindowSetting::SetAt(101)));
        assert!(ended(&HOLD, 500, WindowSetting::SetAt(100)), "a change in the hold's own second");
        assert!(!ended(&HOLD, 500, WindowSetting::SetAt(99)), "the window it was decided on");
    }

    #[test]
    fn only_a_queued_row_may_be_held() {
        let row = |status| RowState {
            status,
            attempts: 0,
            tries: 0,
            lease_until: 0,
            verify_first: false,
            round: 0,
            claimed_at: None,
        };
        assert!(may_hold(&row(MessageStatus::Queued)));
        for other in
            [MessageStatus::Sending, MessageStatus::Sent, MessageStatus::Paused, MessageStatus::Failed]
        {
            assert!(!may_hold(&row(other)), "{other:?}");
        }
    }
}
