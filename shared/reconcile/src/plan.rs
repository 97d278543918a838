//! The reconciler's decisions for one campaign, pure: from its census, the time and whether the
//! queue is empty, what to repair, which rows to issue again, and whether the campaign can leave
//! the open listing; and, from its account's sending window, which held rows wait no longer.

use crate::Config;
use campaign_store::{Census, MessageEntry, MessageRow};
use domain::lifecycle::campaign;
use domain::lifecycle::hold::{self, WindowSetting};
use domain::{CampaignStatus, MessageStatus};

/// What to do for one campaign.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The counters differ from the rows: repair them from the rows.
    pub drifted: bool,
    /// Rows to issue a record for again.
    pub reissue: Vec<MessageRow>,
    /// QUEUED rows a start handed over without a record (its request's time ran short): issue
    /// the record the start would have (the same deduplication id).
    pub issue: Vec<MessageRow>,
    /// PAUSED rows of a running campaign that no resume will reach (a resume's walk missed them):
    /// queue them again.
    pub requeue: Vec<MessageRow>,
    /// QUEUED or PAUSED rows of a cancelled campaign that the cancel did not reach (it stopped
    /// part-way): end them CANCELLED.
    pub cancel: Vec<MessageRow>,
    /// The start or resume that was queueing its records is taken over: note it done (the mark
    /// set at this Unix second).
    pub mark_issued: Option<i64>,
    /// Nothing is open any more and the campaign is over: take it off the open listing.
    pub close_listing: bool,
}

/// The seconds of an RFC 3339 time, if it is one.
fn unix(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// Decides for a campaign with `census` at Unix second `now`; `queue_idle` says whether the
/// queue holds no record at all.
pub fn decide(census: &Census, now: i64, queue_idle: bool, config: &Config) -> Plan {
    let grace = i64::try_from(config.grace.as_secs()).unwrap_or(i64::MAX);
    let stale = i64::try_from(config.stale_claim.as_secs()).unwrap_or(i64::MAX);
    let status = census.view.status;
    let cancelled = status == CampaignStatus::Cancelled;
    // Rows that moved while they were counted make any difference meaningless.
    let drifted = !census.moving && census.counted != census.view.counts;
    // A start or resume that began queueing long ago and never said it finished: its rows may have
    // no record, so every QUEUED one gets one again. One that is recent is still at work.
    let issuing_recently = census.issuing_since.is_some_and(|since| now - since <= grace);
    // A start that handed the rest over queued every row before `from` itself: only the rows
    // from there on lack a record, and they are issued now rather than after the grace.
    let handed_off = census.issuing_since.zip(census.handed_off_from);
    let abandoned_issue = census.issuing_since.filter(|since| handed_off.is_none() && now - since > grace);
    // Not moved for the grace time (a row never moved counts from the campaign's creation).
    let quiet = |e: &MessageEntry| {
        let moved = e.updated_at.as_deref().or(Some(census.view.created_at.as_str())).and_then(unix);
        moved.is_none_or(|t| now - t > grace)
    };
    let rows = |keep: &dyn Fn(&MessageEntry) -> bool| -> Vec<MessageRow> {
        census.open_rows.iter().filter(|e| keep(e)).map(|e| e.row.clone()).collect()
    };
    let handed_over = |e: &MessageEntry| {
        handed_off.is_some_and(|(_, from)| {
            e.row.status == MessageStatus::Queued && e.row.seq >= from && e.row.round == 0
        })
    };
    let issue = if cancelled { Vec::new() } else { rows(&handed_over) };
    let reissue = rows(&|e| match e.row.status {
        // Not moved for a while, while nothing at all waits in the queue: stranded. A held row
        // has no record on purpose: [`holds`] decides when it gets one.
        MessageStatus::Queued => {
            !cancelled
                && !handed_over(e)
                && e.row.hold.is_none()
                && (abandoned_issue.is_some() || (queue_idle && quiet(e)))
        }
        // A claim that lapsed long ago: the record that made it is gone (dead-lettered and
        // drained, or lost with an invocation that died past its retries). The new record's
        // claim takes it over as ambiguous, so the chat is checked before any send.
        MessageStatus::Sending => e.row.lease_until + stale < now,
        _ => false,
    });
    let requeue = rows(&|e| {
        e.row.status == MessageStatus::Paused
            && status == CampaignStatus::Running
            && !issuing_recently
            && quiet(e)
    });
    let cancel = rows(&|e| {
        cancelled && matches!(e.row.status, MessageStatus::Queued | MessageStatus::Paused) && quiet(e)
    });
    let open = census.counted.open() > 0 || census.view.counts.open() > 0;
    Plan {
        drifted,
        reissue,
        issue,
        requeue,
        cancel,
        mark_issued: abandoned_issue.or(handed_off.map(|(since, _)| since)),
        close_listing: campaign::is_terminal(status) && !open,
    }
}

/// What becomes of a campaign's held rows (`domain::lifecycle::hold`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Holds {
    /// Held rows whose hold ended: issue each a record again, then end its hold.
    pub release: Vec<MessageRow>,
    /// The earliest opening the rows still held wait for (the campaign row's note of it).
    pub next: Option<i64>,
}

/// Decides on the held rows of a campaign with `census` at Unix second `now`, its account's
/// window being `window`. A cancelled campaign's held rows are left to the cancel rule.
pub fn holds(census: &Census, now: i64, window: WindowSetting) -> Holds {
    let mut decided = Holds::default();
    if census.view.status == CampaignStatus::Cancelled {
        return decided;
    }
    for e in &census.open_rows {
        let Some(h) = e.row.hold.filter(|_| e.row.status == MessageStatus::Queued) else { continue };
        if hold::ended(&h, now, window) {
            decided.release.push(e.row.clone());
        } else {
            decided.next = Some(decided.next.map_or(h.until, |n: i64| n.min(h.until)));
        }
    }
    decided
}

/// The hop of a record the reconciler issues at Unix second `now`: one per minute, so the queue
/// keeps it apart from the records senders re-issue (small hops) and drops a second one issued
/// in the same minute.
pub fn reissue_hop(now: i64) -> u32 {
    u32::try_from(now / 60).unwrap_or(u32::MAX).saturating_add(1_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use campaign_store::{CampaignView, MessageEntry};
    use domain::{AccountId, CampaignId, CampaignStatus, Counters, MessageSeq};

    fn row(seq: u32, status: MessageStatus, lease_until: i64) -> MessageEntry {
        MessageEntry {
            row: MessageRow {
                campaign: CampaignId::parse("c-1").unwrap(),
                seq: MessageSeq(seq),
                account: AccountId::parse("shop").unwrap(),
                phone: "+4915112345678".into(),
                status,
                attempts: 1,
                tries: 1,
                claimed_at: None,
                error: None,
                round: 0,
                lease_until,
                vars: Default::default(),
                verify_first: false,
                hold: None,
                media: None,
            },
            updated_at: Some("2027-01-15T08:00:00Z".into()),
            sent_at: None,
            delivered_at: None,
            read_at: None,
        }
    }

    fn census(
        status: CampaignStatus,
        counts: Counters,
        rows: Vec<MessageEntry>,
        issuing_since: Option<i64>,
    ) -> Census {
        let counted = Counters::of_rows(rows.iter().map(|e| e.row.status));
        Census {
            view: CampaignView {
                id: CampaignId::parse("c-1").unwrap(),
                name: "n".into(),
                account: AccountId::parse("shop").unwrap(),
                status,
                counts,
                reason: None,
                hint: None,
                notice: None,
                template: "t".into(),
                webhook_url: None,
                send_at: None,
                waiting_until: None,
                attachments: Vec::new(),
                created_at: "2027-01-15T08:00:00Z".into(),
                updated_at: "2027-01-15T08:00:00Z".into(),
            },
            counted,
            open_rows: rows.into_iter().filter(|e| !e.row.status.is_final()).collect(),
            issuing_since,
            handed_off_from: None,
            moving: false,
        }
    }

    const NOW: i64 = 1_800_000_000 + 3600; // an hour after the rows last moved (2027-01-15T08:00Z)

    #[test]
    fn stranded_rows_get_records_again_and_live_ones_are_left_alone() {
        let rows = vec![
            row(0, MessageStatus::Queued, 0),
            row(1, MessageStatus::Sending, NOW - 7200),
            row(2, MessageStatus::Sending, NOW + 30),
        ];
        let counts = Counters { total: 3, queued: 1, sending: 2, ..Counters::default() };
        let config = Config::default();
        // With records still in the queue, a quiet QUEUED row may simply be waiting its turn.
        let busy = decide(&census(CampaignStatus::Running, counts, rows.clone(), None), NOW, false, &config);
        assert_eq!(
            busy.reissue.iter().map(|r| r.seq.0).collect::<Vec<_>>(),
            vec![1],
            "only the claim that lapsed long ago"
        );
        assert!(!busy.drifted);
        // With an empty queue, the quiet QUEUED row is stranded too; a live claim never is.
        let idle = decide(&census(CampaignStatus::Running, counts, rows.clone(), None), NOW, true, &config);
        assert_eq!(idle.reissue.iter().map(|r| r.seq.0).collect::<Vec<_>>(), vec![0, 1]);
        // A start that never finished queueing, past the grace: every QUEUED row, whatever the queue.
        let abandoned =
            decide(&census(CampaignStatus::Running, counts, rows, Some(NOW - 3600)), NOW, false, &config);
        assert_eq!(abandoned.reissue.iter().map(|r| r.seq.0).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(abandoned.mark_issued, Some(NOW - 3600));
    }

    #[test]
    fn rows_a_start_handed_over_get_the_starts_own_record_at_once_and_no_others() {
        let rows = vec![
            row(0, MessageStatus::Queued, 0),
            row(1, MessageStatus::Sending, NOW + 30),
            row(2, MessageStatus::Queued, 0),
            row(3, MessageStatus::Queued, 0),
        ];
        let counts = Counters { total: 4, queued: 3, sending: 1, ..Counters::default() };
        let mut c = census(CampaignStatus::Running, counts, rows, Some(NOW - 5));
        c.handed_off_from = Some(domain::MessageSeq(2));
        for queue_idle in [false, true] {
            let plan = decide(&c, NOW, queue_idle, &Config::default());
            assert_eq!(plan.issue.iter().map(|r| r.seq.0).collect::<Vec<_>>(), vec![2, 3]);
            assert!(
                plan.reissue.iter().all(|r| r.seq.0 < 2),
                "a handed-over row gets one record, not two: {:?}",
                plan.reissue
            );
            assert_eq!(plan.mark_issued, Some(NOW - 5), "the hand-over is done once they are issued");
        }
        // Long after the grace the start's own rows are not taken for abandoned.
        let late = decide(&c, NOW + 86_400, false, &Config::default());
        assert_eq!(late.issue.len(), 2);
        assert!(late.reissue.iter().all(|r| r.status == MessageStatus::Sending), "{:?}", late.reissue);
        c.view.status = CampaignStatus::Cancelled;
        assert!(
            decide(&c, NOW, false, &Config::default()).issue.is_empty(),
            "a cancelled campaign queues nothing"
        );
    }

    #[test]
    fn a_row_never_moved_counts_as_quiet_only_once_its_campaign_is_older_than_the_grace() {
        let mut fresh = row(0, MessageStatus::Queued, 0);
        fresh.updated_at = None;
        let counts = Counters { total: 1, queued: 1, ..Counters::default() };
        let mut c = census(CampaignStatus::Running, counts, vec![fresh], None);
        c.view.created_at = "2027-01-15T09:00:00Z".into(); // NOW, just created
        assert!(decide(&c, NOW, true, &Config::default()).reissue.is_empty(), "a new campaign's rows wait");
        c.view.created_at = "2027-01-15T08:00:00Z".into();
        assert_eq!(decide(&c, NOW, true, &Config::default()).reissue.len(), 1);
    }

    #[test]
    fn paused_rows_a_resume_missed_are_queued_again_and_a_cancel_that_stopped_is_finished() {
        let rows = vec![row(0, MessageStatus::Paused, 0), row(1, MessageStatus::Queued, 0)];
        let counts = Counters { total: 2, paused: 1, queued: 1, ..Counters::default() };
        // A running campaign holds a paused row only when a resume's walk missed it,
        let running = decide(
            &census(CampaignStatus::Running, counts, rows.clone(), None),
            NOW,
            false,
            &Config::default(),
        );
        assert_eq!(running.requeue.iter().map(|r| r.seq.0).collect::<Vec<_>>(), vec![0]);
        assert!(running.cancel.is_empty());
        // unless a resume is walking right now;
        let resuming = decide(
            &census(CampaignStatus::Running, counts, rows.clone(), Some(NOW - 5)),
            NOW,
            false,
            &Config::default(),
        );
        assert!(resuming.requeue.is_empty());
        // a paused campaign's rows wait for the operator.
        let paused = decide(
            &census(CampaignStatus::Paused, counts, rows.clone(), None),
            NOW,
            true,
            &Config::default(),
        );
        assert!(paused.requeue.is_empty() && paused.cancel.is_empty());
        // A cancelled campaign's queued and paused rows end CANCELLED, and none is issued again.
        let cancelled =
            decide(&census(CampaignStatus::Cancelled, counts, rows, None), NOW, true, &Config::default());
        assert_eq!(cancelled.cancel.iter().map(|r| r.seq.0).collect::<Vec<_>>(), vec![0, 1]);
        assert!(cancelled.reissue.is_empty() && !cancelled.close_listing);
    }

    #[test]
    fn a_difference_seen_while_rows_moved_is_no_drift() {
        let rows = vec![row(0, MessageStatus::Sent, 0)];
        let stored = Counters { total: 1, sending: 1, ..Counters::default() };
        let mut c = census(CampaignStatus::Running, stored, rows, None);
        c.moving = true;
        assert!(!decide(&c, NOW, false, &Config::default()).drifted);
        c.moving = false;
        assert!(decide(&c, NOW, false, &Config::default()).drifted);
    }

    #[test]
    fn drift_is_reported_from_the_rows_and_a_finished_campaign_leaves_the_listing() {
        let rows = vec![row(0, MessageStatus::Sent, 0), row(1, MessageStatus::Sent, 0)];
        let stored = Counters { total: 2, sent: 1, sending: 1, ..Counters::default() };
        let plan = decide(
            &census(CampaignStatus::Running, stored, rows.clone(), None),
            NOW,
            false,
            &Config::default(),
        );
        assert!(plan.drifted && !plan.close_listing);
        let right = Counters { total: 2, sent: 2, ..Counters::default() };
        let done =
            decide(&census(CampaignStatus::Completed, right, rows, None), NOW, false, &Config::default());
        assert!(!done.drifted && done.close_listing && done.reissue.is_empty());
    }

    fn held(seq: u32, until: i64, since: i64) -> MessageEntry {
        let mut e = row(seq, MessageStatus::Queued, 0);
        e.row.hold = Some(domain::lifecycle::hold::Hold { until, since });
        e
    }

    #[test]
    fn held_rows_are_released_when_their_window_opens_and_never_taken_for_stranded() {
        let rows =
            vec![held(0, NOW - 1, NOW - 600), held(1, NOW + 3600, NOW - 600), held(2, NOW + 60, NOW - 600)];
        let counts = Counters { total: 3, queued: 3, ..Counters::default() };
        let c = census(CampaignStatus::Running, counts, rows, None);
        let window = WindowSetting::SetAt(NOW - 7200);
        let decided = holds(&c, NOW, window);
        assert_eq!(decided.release.iter().map(|r| r.seq.0).collect::<Vec<_>>(), vec![0]);
        assert_eq!(decided.next, Some(NOW + 60), "the earliest opening still ahead");
        // However idle the queue and quiet the rows, a held row is not stranded.
        assert!(decide(&c, NOW, true, &Config::default()).reissue.is_empty());
    }

    #[test]
    fn every_held_row_is_released_when_the_window_is_removed_or_changed_after_the_hold() {
        let rows = vec![held(0, NOW + 3600, NOW - 600), held(1, NOW + 3600, NOW - 60)];
        let counts = Counters { total: 2, queued: 2, ..Counters::default() };
        let c = census(CampaignStatus::Running, counts, rows, None);
        assert_eq!(holds(&c, NOW, WindowSetting::Absent).release.len(), 2);
        let changed = holds(&c, NOW, WindowSetting::SetAt(NOW - 300));
        assert_eq!(
            changed.release.iter().map(|r| r.seq.0).collect::<Vec<_>>(),
            vec![0],
            "held before the change"
        );
        assert_eq!(changed.next, Some(NOW + 3600));
    }

    #[test]
    fn a_cancelled_campaigns_held_rows_are_left_to_the_cancel() {
        let rows = vec![held(0, NOW - 1, NOW - 600)];
        let counts = Counters { total: 1, queued: 1, ..Counters::default() };
        let c = census(CampaignStatus::Cancelled, counts, rows, None);
        assert_eq!(holds(&c, NOW, WindowSetting::Absent), Holds::default());
        assert_eq!(decide(&c, NOW, false, &Config::default()).cancel.len(), 1);
    }

    #[test]
    fn a_reissued_record_is_never_deduplicated_against_a_senders_own_reissue() {
        assert!(reissue_hop(NOW) > 1_000 && reissue_hop(NOW) == reissue_hop(NOW + 59 - NOW % 60));
        assert_ne!(reissue_hop(NOW), reissue_hop(NOW + 60));
    }
}
