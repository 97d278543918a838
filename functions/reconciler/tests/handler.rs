//! The reconciler's handler called with a captured EventBridge scheduled event, over in-memory
//! ports: stranded rows get their records, dead letters go back, drifted counters are repaired
//! from the rows, a campaign with nothing open completes, and rows held for their recipient's
//! sending window get their records once it opens.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use campaign_store::{
    CampaignStore, Claim, Finish, InMemoryCampaignStore, InMemorySendingWindows, Lease, NewCampaign,
    SendingWindows,
};
use domain::lifecycle::hold::Hold;
use domain::{
    AccountId, CampaignId, CampaignStatus, Counters, ManualClock, MessageSeq, MessageStatus, QueuedMessage,
};
use lambda_runtime::LambdaEvent;
use message_queue::{DeadLetter, InMemoryDeadLetters, InMemoryMessageQueue};
use reconcile::Deps;
use std::sync::Arc;

const START: i64 = 1_800_000_000; // 2027-01-15T08:00:00Z

struct World {
    deps: Deps,
    store: Arc<InMemoryCampaignStore>,
    queue: Arc<InMemoryMessageQueue>,
    dead: Arc<InMemoryDeadLetters>,
    clock: Arc<ManualClock>,
    windows: Arc<InMemorySendingWindows>,
}

fn world() -> World {
    let store = Arc::new(InMemoryCampaignStore::default());
    let queue = Arc::new(InMemoryMessageQueue::default());
    let dead = Arc::new(InMemoryDeadLetters::default());
    let clock = Arc::new(ManualClock::at(START));
    let windows = Arc::new(InMemorySendingWindows::default());
    let deps = Deps {
        store: store.clone(),
        queue: queue.clone(),
        dead_letters: dead.clone(),
        windows: windows.clone(),
        clock: clock.clone(),
        config: reconcile::Config::default(),
    };
    World { deps, store, queue, dead, clock, windows }
}

async fn campaign(store: &InMemoryCampaignStore, name: &str, n: u32) -> CampaignId {
    let c = NewCampaign {
        id: CampaignId::parse(name).unwrap(),
        created_at: domain::rfc3339(time::OffsetDateTime::from_unix_timestamp(START).unwrap()),
        ..test_support::fixtures::campaign(n)
    };
    store.create_campaign(&c).await.unwrap();
    c.id
}

async fn run(w: &World) -> reconcile::Report {
    let event = serde_json::from_str(include_str!("fixtures/scheduled_event.json")).unwrap();
    reconciler::handle(&w.deps, LambdaEvent::new(event, lambda_runtime::Context::default())).await.unwrap()
}

#[tokio::test]
async fn rows_of_a_start_that_died_before_queueing_get_their_records_after_the_grace() {
    let w = world();
    // Given a start that wrote its rows and died before queueing any record,
    let id = campaign(&w.store, "c-died", 3).await;
    // then within the grace the reconciler leaves it alone (the start may still be at it),
    *w.queue.depth.lock().unwrap() = 5;
    assert_eq!(run(&w).await.reissued, 0);
    // and after it every QUEUED row gets a record, once.
    w.clock.advance(601);
    let report = run(&w).await;
    assert_eq!(report.reissued, 3);
    let queued = w.queue.queued.lock().unwrap().clone();
    assert_eq!(queued.iter().map(|q| q.seq.0).collect::<Vec<_>>(), vec![0, 1, 2]);
    assert!(queued.iter().all(|q| q.campaign_id == id && q.hop > 1_000));
    assert_eq!(run(&w).await.reissued, 0, "marked issued: not issued again");
}

#[tokio::test]
async fn dead_letters_of_waiting_rows_go_back_and_the_rest_are_dropped_leaving_the_queue_empty() {
    let w = world();
    let id = campaign(&w.store, "c-dead", 2).await;
    w.store.mark_issued(&id, START).await.unwrap();
    let lease = Lease { now: START, until: START + 60, at: "2027-01-15T08:00:00Z".into() };
    let Claim::Fresh(row) = w.store.claim_message(&id, MessageSeq(1), &lease).await.unwrap() else {
        panic!()
    };
    w.store.finish_message(&id, MessageSeq(1), row.attempts, &Finish::Sent, "t").await.unwrap();
    let letter = |seq: u32| DeadLetter {
        receipt_handle: format!("dl-{seq}"),
        body: serde_json::to_string(&QueuedMessage::new(
            id.clone(),
            MessageSeq(seq),
            AccountId::parse("shop").unwrap(),
            0,
        ))
        .unwrap(),
    };
    *w.dead.letters.lock().unwrap() =
        vec![letter(0), letter(1), DeadLetter { receipt_handle: "junk".into(), body: "{".into() }];
    *w.queue.depth.lock().unwrap() = 1;
    let report = run(&w).await;
    assert_eq!((report.dead_letters_back, report.dead_letters_dropped), (1, 2));
    assert!(w.dead.letters.lock().unwrap().is_empty(), "the dead-letter queue ends empty");
    let queued = w.queue.queued.lock().unwrap().clone();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].seq, MessageSeq(0), "the waiting row, not the sent one");
}

#[tokio::test]
async fn drifted_counters_are_repaired_from_the_rows_and_a_campaign_with_nothing_open_completes() {
    let w = world();
    let id = campaign(&w.store, "c-drift", 2).await;
    w.store.mark_issued(&id, START).await.unwrap();
    // Given both rows settled SENT while the counters were lost on the way (two still "queued"),
    w.store.set_status(&id, MessageSeq(0), MessageStatus::Sent);
    w.store.set_status(&id, MessageSeq(1), MessageStatus::Sent);
    w.store.set_counters(&id, Counters { total: 2, queued: 2, ..Counters::default() });
    *w.queue.depth.lock().unwrap() = 1;
    // when the reconciler runs,
    let report = run(&w).await;
    // then the counters say what the rows say, the campaign completed and left the open listing.
    assert_eq!((report.drifted, report.repaired, report.completed), (1, 1, 1));
    let view = w.store.campaign(&id).await.unwrap().unwrap();
    assert_eq!(view.counts, Counters { total: 2, sent: 2, ..Counters::default() });
    assert_eq!(view.status, CampaignStatus::Completed);
    assert!(w.store.open_campaigns(None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn paused_rows_a_resume_missed_are_queued_again_and_rows_a_cancel_missed_end_cancelled() {
    let w = world();
    let pause = campaign_store::PauseReason {
        code: domain::ErrorCode::SessionExpired,
        hint: "Run setup.".into(),
        at: "2027-01-15T08:00:00Z".into(),
    };
    // Given a campaign resumed while a sender paused a row (the resume's walk did not see it),
    let resumed = campaign(&w.store, "c-resumed", 2).await;
    w.store.mark_issued(&resumed, START).await.unwrap();
    w.store.pause_message(&resumed, MessageSeq(0), &pause).await.unwrap();
    w.store.resume_campaign(&resumed, "2027-01-15T08:00:01Z", false).await.unwrap();
    // and a cancel that stopped before it reached the rows,
    let cancelled = campaign(&w.store, "c-cancelled", 2).await;
    w.store.mark_issued(&cancelled, START).await.unwrap();
    w.store.pause_message(&cancelled, MessageSeq(1), &pause).await.unwrap();
    w.store.cancel_campaign(&cancelled, "2027-01-15T08:00:02Z").await.unwrap();
    *w.queue.depth.lock().unwrap() = 1;
    // within the grace nothing is touched (a resume or cancel may still be at work);
    let early = run(&w).await;
    assert_eq!((early.requeued, early.cancelled), (0, 0));
    // after it, the paused row is queued again with its record, and the cancel is finished.
    w.clock.advance(601);
    let report = run(&w).await;
    assert_eq!((report.requeued, report.cancelled), (1, 2));
    let queued = w.queue.queued.lock().unwrap().clone();
    assert_eq!(
        queued.iter().map(|q| (q.campaign_id.clone(), q.seq.0)).collect::<Vec<_>>(),
        vec![(resumed.clone(), 0)]
    );
    assert_eq!(
        w.store.message(&resumed, MessageSeq(0)).await.unwrap().unwrap().status,
        MessageStatus::Queued
    );
    let over = w.store.campaign(&cancelled).await.unwrap().unwrap();
    assert_eq!(over.counts, Counters { total: 2, cancelled: 2, ..Counters::default() });
    assert_eq!(w.store.open_campaigns(None, 10).await.unwrap(), vec![resumed], "the cancelled one is over");
}

async fn run_due(w: &World) -> reconcile::Report {
    let event = serde_json::json!({"due": true});
    reconciler::handle(&w.deps, LambdaEvent::new(event, lambda_runtime::Context::default())).await.unwrap()
}

async fn held(w: &World, id: &CampaignId, seq: u32) -> Option<Hold> {
    w.store.message(id, MessageSeq(seq)).await.unwrap().unwrap().hold
}

#[tokio::test]
async fn rows_held_for_their_window_get_their_records_within_a_minute_of_its_opening() {
    let w = world();
    let id = campaign(&w.store, "c-held", 2).await;
    w.store.mark_issued(&id, START).await.unwrap();
    let window = domain::SendingWindow::parse("09:00", "20:00", &[] as &[&str], "Europe/Berlin").unwrap();
    w.windows.set_window(&AccountId::parse("shop").unwrap(), &window, START - 3600).await.unwrap();
    // Given two rows a sender held, one until an hour from now and one until two,
    for (seq, until) in [(0, START + 3600), (1, START + 7200)] {
        let hold = Hold { until, since: START };
        w.store.hold_message(&id, MessageSeq(seq), &hold).await.unwrap();
    }
    // they are not stranded, however empty the queue and however long they sat,
    w.clock.advance(1200);
    let report = run(&w).await;
    assert_eq!((report.reissued, report.unheld), (0, 0));
    assert!(w.queue.queued.lock().unwrap().is_empty());
    // and once the first window opened, the minute schedule issues its record and ends its hold;
    w.clock.advance(3600 - 1200);
    let report = run_due(&w).await;
    assert_eq!(report.unheld, 1);
    let queued = w.queue.queued.lock().unwrap().clone();
    assert_eq!(queued.iter().map(|q| q.seq.0).collect::<Vec<_>>(), vec![0]);
    assert!(queued[0].hop > 1_000, "a hop of its own, never taken for a duplicate");
    assert_eq!(held(&w, &id, 0).await, None);
    // the campaign notes the next opening, and nothing is issued twice (the record waits in the queue).
    *w.queue.depth.lock().unwrap() = 1;
    assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().waiting_until, Some(START + 7200));
    assert_eq!(run_due(&w).await.unheld, 0);
    assert_eq!(run(&w).await.unheld, 0);
    assert_eq!(w.queue.queued.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_removed_window_lets_every_held_row_go_at_the_next_run() {
    let w = world();
    let id = campaign(&w.store, "c-unwindowed", 2).await;
    w.store.mark_issued(&id, START).await.unwrap();
    for seq in 0..2 {
        w.store
            .hold_message(&id, MessageSeq(seq), &Hold { until: START + 86_400, since: START })
            .await
            .unwrap();
    }
    *w.queue.depth.lock().unwrap() = 1;
    // The account has no window (it was removed after the holds): they wait for nothing.
    let report = run(&w).await;
    assert_eq!(report.unheld, 2);
    assert_eq!(w.queue.queued.lock().unwrap().len(), 2);
    assert_eq!((held(&w, &id, 0).await, held(&w, &id, 1).await), (None, None));
    assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().waiting_until, None);
}
