//! The lifecycle's rules, one at a time.

use super::campaign::{self, Start, opening};
use super::message::{self, ClaimDecision, ClaimKind, ClaimWindow, Finish};
use super::{CampaignGuard, Counters, RowState};
use crate::{CampaignStatus, ErrorCode, MessageStatus};

fn row(status: MessageStatus) -> RowState {
    RowState {
        status,
        attempts: 0,
        tries: 0,
        lease_until: 0,
        verify_first: false,
        round: 0,
        claimed_at: None,
    }
}

const WINDOW: ClaimWindow = ClaimWindow { now: 1_000, until: 1_060 };

fn take(decision: ClaimDecision) -> (super::Move, ClaimKind) {
    match decision {
        ClaimDecision::Take(mv, kind) => (mv, kind),
        other => panic!("expected a take, got {other:?}"),
    }
}

#[test]
fn a_queued_row_is_claimed_fresh_under_a_lease_and_counts_one_attempt_and_one_try() {
    let (mv, kind) = take(message::claim(&row(MessageStatus::Queued), false, WINDOW));
    assert_eq!(kind, ClaimKind::Fresh);
    let after = mv.applied_to(&row(MessageStatus::Queued));
    assert_eq!(
        (after.status, after.attempts, after.tries, after.lease_until),
        (MessageStatus::Sending, 1, 1, 1_060)
    );
    assert_eq!(
        (after.claimed_at, mv.guard, mv.expect_attempts),
        (Some(1_000), CampaignGuard::NotCancelled, Some(0))
    );
}

#[test]
fn a_lapsed_claim_is_taken_over_as_ambiguous_and_a_live_one_is_busy() {
    let sending = RowState {
        lease_until: 999,
        attempts: 1,
        tries: 1,
        claimed_at: Some(900),
        ..row(MessageStatus::Sending)
    };
    let (mv, kind) = take(message::claim(&sending, false, WINDOW));
    assert_eq!(
        (kind, mv.from, mv.to, mv.counts()),
        (ClaimKind::Ambiguous, MessageStatus::Sending, MessageStatus::Sending, false)
    );
    assert_eq!(mv.applied_to(&sending).claimed_at, Some(900), "the first claim's time is kept");
    let live = RowState { lease_until: 1_001, ..sending };
    assert_eq!(message::claim(&live, false, WINDOW), ClaimDecision::Busy { lease_until: 1_001 });
    let (_, kind) = take(message::claim(&sending, true, WINDOW));
    assert_eq!(kind, ClaimKind::VerifyOnly, "after a cancel a lapsed claim may only look");
}

#[test]
fn a_queued_row_of_a_cancelled_campaign_ends_cancelled_and_settled_rows_are_left_alone() {
    let ClaimDecision::Cancel(mv) = message::claim(&row(MessageStatus::Queued), true, WINDOW) else {
        panic!()
    };
    assert_eq!((mv.to, mv.guard), (MessageStatus::Cancelled, CampaignGuard::Cancelled));
    for status in
        [MessageStatus::Sent, MessageStatus::Failed, MessageStatus::Paused, MessageStatus::Cancelled]
    {
        assert_eq!(message::claim(&row(status), false, WINDOW), ClaimDecision::Settled, "{status}");
    }
}

#[test]
fn a_row_paused_while_sending_keeps_the_fact_that_it_may_have_gone_out_through_the_resume() {
    let sending = RowState { attempts: 1, tries: 1, lease_until: 1_060, ..row(MessageStatus::Sending) };
    let paused = message::pause(&sending, ErrorCode::SessionExpired, false).unwrap();
    assert_eq!(paused.pause, Some(ErrorCode::SessionExpired));
    let paused_row = paused.applied_to(&sending);
    assert!(paused_row.verify_first);
    let queued = message::requeue(&paused_row, MessageStatus::Paused).unwrap().applied_to(&paused_row);
    let (_, kind) = take(message::claim(&queued, false, WINDOW));
    assert_eq!(kind, ClaimKind::Ambiguous, "the chat is checked before any send after the resume");
    let queued_fresh = message::requeue(
        &message::pause(&row(MessageStatus::Queued), ErrorCode::SessionExpired, false)
            .unwrap()
            .applied_to(&row(MessageStatus::Queued)),
        MessageStatus::Paused,
    )
    .unwrap();
    assert_eq!(queued_fresh.write.verify_first, None, "a row paused before any claim is sent fresh");
}

#[test]
fn in_a_cancelled_campaign_a_pause_ends_the_row_instead_of_leaving_it_for_a_resume_that_never_comes() {
    let sending = RowState { attempts: 1, tries: 1, lease_until: 1_060, ..row(MessageStatus::Sending) };
    // A row being sent when the session was lost may have gone out: it ends FAILED with the code;
    for mv in [
        message::pause(&sending, ErrorCode::SessionExpired, true).unwrap(),
        message::finish(&sending, 1, Finish::Paused(ErrorCode::SessionExpired), true).unwrap(),
        message::finish(&sending, 1, Finish::Failed(ErrorCode::AccountBanned), true).unwrap(),
    ] {
        assert_eq!(
            (mv.to, mv.pause, mv.guard, mv.settles),
            (MessageStatus::Failed, None, CampaignGuard::Any, true)
        );
        assert!(mv.write.error.flatten().is_some_and(ErrorCode::pauses));
    }
    // a queued one never went out: it ends CANCELLED.
    let mv = message::pause(&row(MessageStatus::Queued), ErrorCode::SessionExpired, true).unwrap();
    assert_eq!((mv.to, mv.guard), (MessageStatus::Cancelled, CampaignGuard::Cancelled));
}

#[test]
fn a_sent_proof_wins_over_a_pause_that_raced_the_claim() {
    let sending = RowState { attempts: 2, tries: 1, lease_until: 1_060, ..row(MessageStatus::Sending) };
    let paused = message::pause(&sending, ErrorCode::SessionConflict, false).unwrap().applied_to(&sending);
    let mv = message::finish(&paused, 2, Finish::Sent, false).unwrap();
    assert_eq!((mv.from, mv.to, mv.settles), (MessageStatus::Paused, MessageStatus::Sent, true));
    assert_eq!(message::finish(&paused, 1, Finish::Sent, false), None, "another claim's finish is refused");
}

#[test]
fn losing_the_session_pauses_the_row_instead_of_failing_it() {
    let sending = RowState { attempts: 3, tries: 3, ..row(MessageStatus::Sending) };
    for code in [ErrorCode::SessionExpired, ErrorCode::SessionConflict, ErrorCode::AccountBanned] {
        let mv = message::finish(&sending, 3, Finish::Failed(code), false).unwrap();
        assert_eq!(
            (mv.to, mv.pause, mv.write.verify_first),
            (MessageStatus::Paused, Some(code), Some(true)),
            "{code}"
        );
    }
    let mv = message::finish(&sending, 3, Finish::Failed(ErrorCode::SendTimeout), false).unwrap();
    assert_eq!((mv.to, mv.write.error), (MessageStatus::Failed, Some(Some(ErrorCode::SendTimeout))));
}

#[test]
fn a_release_queues_the_row_again_or_ends_it_cancelled_after_a_cancel() {
    let sending = RowState { attempts: 1, ..row(MessageStatus::Sending) };
    assert_eq!(message::finish(&sending, 1, Finish::Released, false).unwrap().to, MessageStatus::Queued);
    let mv = message::finish(&sending, 1, Finish::Released, true).unwrap();
    assert_eq!((mv.to, mv.guard), (MessageStatus::Cancelled, CampaignGuard::Cancelled));
}

#[test]
fn a_retried_failure_starts_its_tries_again_and_is_checked_first() {
    let failed = RowState { attempts: 3, tries: 3, ..row(MessageStatus::Failed) };
    assert!(message::out_of_tries(&failed, 3));
    let mv = message::requeue(&failed, MessageStatus::Failed).unwrap();
    let queued = mv.applied_to(&failed);
    assert_eq!((queued.tries, queued.attempts, queued.round, queued.verify_first), (0, 3, 1, true));
    assert!(!message::out_of_tries(&queued, 3));
    assert_eq!(message::requeue(&failed, MessageStatus::Paused), None);
}

#[test]
fn a_scheduled_campaign_opens_with_its_rows_held_and_no_pause_reason() {
    let scheduled = opening(5, 1, Start::Scheduled);
    assert_eq!(
        (scheduled.status, scheduled.counts.queued, scheduled.counts.paused, scheduled.paused_reason),
        (CampaignStatus::Scheduled, 0, 4, false)
    );
    assert!(scheduled.holds_rows());
    assert!(!opening(5, 1, Start::Now).holds_rows());
    assert!(campaign::CANCELLABLE.contains(&CampaignStatus::Scheduled));
    assert!(!campaign::completes(CampaignStatus::Scheduled, &Counters { total: 1, ..Counters::default() }));
    assert!(
        !campaign::resumable(true).contains(&CampaignStatus::Scheduled),
        "a resume does not start it early"
    );
}

#[test]
fn a_campaign_opens_running_paused_or_already_complete() {
    assert_eq!(opening(5, 1, Start::Now).status, CampaignStatus::Running);
    assert_eq!(
        opening(5, 1, Start::Now).counts,
        Counters { total: 5, queued: 4, failed: 1, ..Counters::default() }
    );
    let paused = opening(5, 1, Start::Paused);
    assert_eq!(
        (paused.status, paused.counts.paused, paused.paused_reason),
        (CampaignStatus::Paused, 4, true)
    );
    let nothing = opening(2, 2, Start::Scheduled);
    assert_eq!((nothing.status, nothing.paused_reason), (CampaignStatus::Completed, false));
    assert!(campaign::completes(
        CampaignStatus::Running,
        &Counters { total: 1, sent: 1, ..Counters::default() }
    ));
    assert!(
        campaign::completes(CampaignStatus::Paused, &Counters { total: 1, sent: 1, ..Counters::default() }),
        "a pause that raced a resume leaves nothing paused: nothing is left to resume"
    );
    assert!(!campaign::completes(
        CampaignStatus::Paused,
        &Counters { total: 2, sent: 1, paused: 1, ..Counters::default() }
    ));
    assert!(!campaign::completes(
        CampaignStatus::Cancelled,
        &Counters { total: 1, sent: 1, ..Counters::default() }
    ));
    assert!(campaign::reopens(
        CampaignStatus::Completed,
        &Counters { total: 1, queued: 1, ..Counters::default() }
    ));
}
