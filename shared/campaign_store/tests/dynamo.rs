//! The DynamoDB adapter against the local AWS: claims are exclusive, counters follow every
//! transition, and a lost lease is reported as ambiguous.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use campaign_store::{
    CampaignPosition, CampaignStore, Claim, DynamoCampaignStore, Finish, Lease, Transition,
};
use domain::{AccountId, CampaignId, CampaignStatus, ErrorCode, MessageSeq, MessageStatus};

async fn fresh_store() -> DynamoCampaignStore {
    let (client, table) = test_support::fresh_table("campaign-store").await;
    DynamoCampaignStore::new(client, table)
}

async fn campaign(store: &DynamoCampaignStore, n: u32) -> CampaignId {
    let c = test_support::fixtures::campaign(n);
    store.create_campaign(&c).await.unwrap();
    c.id
}

fn lease(now: i64) -> Lease {
    Lease { now, until: now + 60, at: format!("t{now}") }
}

#[tokio::test]
async fn a_row_is_claimed_once_and_its_counters_follow_it_to_completion() {
    let store = fresh_store().await;
    let id = campaign(&store, 2).await;
    // Given two concurrent claims of the same row, exactly one wins.
    let l = lease(100);
    let (a, b) = tokio::join!(
        store.claim_message(&id, MessageSeq(0), &l),
        store.claim_message(&id, MessageSeq(0), &l)
    );
    let claims = [a.unwrap(), b.unwrap()];
    let fresh: Vec<_> = claims.iter().filter(|c| matches!(c, Claim::Fresh(_))).collect();
    assert_eq!(fresh.len(), 1, "{claims:?}");
    assert!(claims.iter().any(|c| matches!(c, Claim::Busy { lease_until: 160 })), "{claims:?}");
    let counts = store.campaign(&id).await.unwrap().unwrap().counts;
    assert_eq!((counts.queued, counts.sending), (1, 1));

    // When it is sent and the other row fails, the campaign completes with matching counters.
    assert_eq!(
        store.finish_message(&id, MessageSeq(0), 1, &Finish::Sent, "t1").await.unwrap(),
        Transition::Applied
    );
    assert!(matches!(store.claim_message(&id, MessageSeq(1), &lease(100)).await.unwrap(), Claim::Fresh(_)));
    let failed = Finish::Failed(ErrorCode::NotOnWhatsapp);
    assert_eq!(
        store.finish_message(&id, MessageSeq(1), 1, &failed, "t2").await.unwrap(),
        Transition::Applied
    );
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.counts.sent, view.counts.failed, view.counts.sending, view.counts.queued), (1, 1, 0, 0));
    assert_eq!(view.status, CampaignStatus::Completed);
    // Then a redelivered record finds the row settled and changes nothing.
    assert_eq!(store.claim_message(&id, MessageSeq(0), &lease(200)).await.unwrap(), Claim::Settled);
    assert_eq!(
        store.finish_message(&id, MessageSeq(0), 1, &Finish::Sent, "t3").await.unwrap(),
        Transition::NotApplicable
    );
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().counts.sent, 1);
}

#[tokio::test]
async fn a_claim_whose_lease_expired_is_taken_over_as_ambiguous_and_the_old_claim_cannot_finish() {
    let store = fresh_store().await;
    let id = campaign(&store, 1).await;
    assert!(matches!(store.claim_message(&id, MessageSeq(0), &lease(100)).await.unwrap(), Claim::Fresh(_)));
    // Before the lease ends another sender is told to wait; after it, it takes over.
    assert_eq!(
        store.claim_message(&id, MessageSeq(0), &lease(150)).await.unwrap(),
        Claim::Busy { lease_until: 160 }
    );
    let Claim::Ambiguous(row) = store.claim_message(&id, MessageSeq(0), &lease(161)).await.unwrap() else {
        panic!("expected an ambiguous claim")
    };
    assert_eq!((row.status, row.attempts), (MessageStatus::Sending, 2));
    // The first sender's late finish is refused; the second one's counts.
    assert_eq!(
        store.finish_message(&id, MessageSeq(0), 1, &Finish::Sent, "t").await.unwrap(),
        Transition::NotApplicable
    );
    assert_eq!(
        store.finish_message(&id, MessageSeq(0), 2, &Finish::Sent, "t").await.unwrap(),
        Transition::Applied
    );
    let counts = store.campaign(&id).await.unwrap().unwrap().counts;
    assert_eq!((counts.sent, counts.sending), (1, 0));
}

#[tokio::test]
async fn a_released_claim_goes_back_to_queued_and_rows_are_listed_by_status() {
    let store = fresh_store().await;
    let id = campaign(&store, 3).await;
    assert!(matches!(store.claim_message(&id, MessageSeq(1), &lease(100)).await.unwrap(), Claim::Fresh(_)));
    assert_eq!(
        store.finish_message(&id, MessageSeq(1), 1, &Finish::Released, "t").await.unwrap(),
        Transition::Applied
    );
    let queued = store.messages_in_status(&id, MessageStatus::Queued, None, 10).await.unwrap();
    assert_eq!(queued.iter().map(|r| r.seq.0).collect::<Vec<_>>(), vec![0, 1, 2]);
    let page = store.messages_in_status(&id, MessageStatus::Queued, Some(MessageSeq(0)), 1).await.unwrap();
    assert_eq!(page.iter().map(|r| r.seq.0).collect::<Vec<_>>(), vec![1]);
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.counts.queued, view.counts.sending, view.status), (3, 0, CampaignStatus::Running));
}

#[tokio::test]
async fn a_cancel_stops_queued_rows_lets_a_row_being_sent_finish_and_cancels_a_given_back_row() {
    let store = fresh_store().await;
    let id = campaign(&store, 4).await;
    let Claim::Fresh(sending) = store.claim_message(&id, MessageSeq(0), &lease(100)).await.unwrap() else {
        panic!("row 0 is claimable")
    };
    let Claim::Fresh(_) = store.claim_message(&id, MessageSeq(1), &lease(100)).await.unwrap() else {
        panic!("row 1 is claimable")
    };
    assert_eq!(store.cancel_campaign(&id, "t1").await.unwrap(), Transition::Applied);
    assert_eq!(store.cancel_campaign(&id, "t2").await.unwrap(), Transition::Applied, "repeatable");
    assert_eq!(
        store.cancel_message(&id, MessageSeq(2), MessageStatus::Queued, "t3").await.unwrap(),
        Transition::Applied
    );
    // A record still in the queue for row 3 finds the campaign cancelled: the row ends CANCELLED.
    assert_eq!(store.claim_message(&id, MessageSeq(3), &lease(100)).await.unwrap(), Claim::Settled);
    // The row being sent when the cancel came finishes as it ends; the given-back one is cancelled.
    let sent = store.finish_message(&id, MessageSeq(0), sending.attempts, &Finish::Sent, "t4").await.unwrap();
    assert_eq!(sent, Transition::Applied);
    let released = store.finish_message(&id, MessageSeq(1), 1, &Finish::Released, "t5").await.unwrap();
    assert_eq!(released, Transition::Applied);
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!(view.status, CampaignStatus::Cancelled);
    assert_eq!(
        (view.counts.sent, view.counts.cancelled, view.counts.queued, view.counts.sending),
        (1, 3, 0, 0)
    );
    assert_eq!(store.message(&id, MessageSeq(1)).await.unwrap().unwrap().error, Some(ErrorCode::Cancelled));
    let unknown = CampaignId::generate(7);
    assert_eq!(store.cancel_campaign(&unknown, "t6").await.unwrap(), Transition::Missing);
}

#[tokio::test]
async fn an_idempotency_key_is_owned_once_replayed_when_done_and_refused_with_another_body() {
    use campaign_store::{Idempotency, IdempotencyClaim};
    let store = fresh_store().await;
    let first = CampaignId::generate(1);
    let claim = |now: i64, fingerprint: &str, proposed: u128| IdempotencyClaim {
        key_hash: "k1".into(),
        fingerprint: fingerprint.into(),
        campaign_id: CampaignId::generate(proposed),
        now,
        until: now + 60,
        expires_at: now + 86_400,
    };
    assert_eq!(
        store.claim_idempotency(&claim(1_000, "f", 1)).await.unwrap(),
        Idempotency::Owned { campaign_id: first.clone() }
    );
    assert_eq!(
        store.claim_idempotency(&claim(1_010, "f", 2)).await.unwrap(),
        Idempotency::InProgress { until: 1_060 }
    );
    // The first request died: after its claim lapses a retry takes over the same campaign id.
    assert_eq!(
        store.claim_idempotency(&claim(1_100, "f", 3)).await.unwrap(),
        Idempotency::Owned { campaign_id: first.clone() }
    );
    store.finish_idempotency("k1").await.unwrap();
    assert_eq!(
        store.claim_idempotency(&claim(1_200, "f", 4)).await.unwrap(),
        Idempotency::Done { campaign_id: first }
    );
    assert_eq!(store.claim_idempotency(&claim(1_300, "other body", 5)).await.unwrap(), Idempotency::Mismatch);
}

/// The account gate on a fresh table.
async fn fresh_gate() -> campaign_store::DynamoAccountGate {
    let (client, table) = test_support::fresh_table("account-gate").await;
    campaign_store::DynamoAccountGate::new(client, table)
}

#[tokio::test]
async fn one_instance_holds_an_account_browser_until_it_releases_or_its_lease_expires() {
    use campaign_store::{AccountGate, LeaseGrant};
    let gate = fresh_gate().await;
    let shop = AccountId::parse("shop").unwrap();
    // Given two instances asking at once, exactly one gets the account's browser.
    let (a, b) =
        tokio::join!(gate.acquire_browser(&shop, "a", 100, 160), gate.acquire_browser(&shop, "b", 100, 160));
    let grants = [a.unwrap(), b.unwrap()];
    assert_eq!(grants.iter().filter(|g| **g == LeaseGrant::Acquired).count(), 1, "{grants:?}");
    let winner = if grants[0] == LeaseGrant::Acquired { "a" } else { "b" };
    let loser = if winner == "a" { "b" } else { "a" };
    assert!(grants.contains(&LeaseGrant::Busy { holder: winner.into(), until: 160 }), "{grants:?}");
    // The holder renews it (asking again is fine too); the other cannot renew or release it.
    assert!(gate.renew_browser(&shop, winner, 200).await.unwrap());
    assert!(!gate.renew_browser(&shop, loser, 300).await.unwrap());
    gate.release_browser(&shop, loser).await.unwrap();
    assert_eq!(
        gate.acquire_browser(&shop, loser, 150, 210).await.unwrap(),
        LeaseGrant::Busy { holder: winner.into(), until: 200 }
    );
    assert_eq!(gate.acquire_browser(&shop, winner, 150, 210).await.unwrap(), LeaseGrant::Acquired);
    // When the holder dies, its lease expires and is taken over; the old holder lost it.
    assert_eq!(gate.acquire_browser(&shop, loser, 211, 270).await.unwrap(), LeaseGrant::Acquired);
    assert!(!gate.renew_browser(&shop, winner, 300).await.unwrap());
    // Once released, anyone gets it at once.
    gate.release_browser(&shop, loser).await.unwrap();
    assert_eq!(gate.acquire_browser(&shop, winner, 212, 270).await.unwrap(), LeaseGrant::Acquired);
}

#[tokio::test]
async fn send_caps_count_per_hour_and_day_and_name_the_window_that_opens_next() {
    use campaign_store::{AccountGate, SendCaps, SlotGrant};
    let gate = fresh_gate().await;
    let shop = AccountId::parse("shop").unwrap();
    let other = AccountId::parse("other").unwrap();
    let midnight = 1_799_971_200; // a UTC midnight
    let caps = SendCaps { per_hour: Some(2), per_day: Some(3) };
    // Given an hourly cap of two, the third send of the hour waits for the next hour,
    let t = midnight + 600;
    assert_eq!(gate.take_send_slot(&shop, t, caps).await.unwrap(), SlotGrant::Granted);
    assert_eq!(gate.take_send_slot(&shop, t + 1, caps).await.unwrap(), SlotGrant::Granted);
    assert_eq!(
        gate.take_send_slot(&shop, t + 2, caps).await.unwrap(),
        SlotGrant::CapReached { opens_at: midnight + 3600 }
    );
    // while another account is counted on its own.
    assert_eq!(gate.take_send_slot(&other, t + 3, caps).await.unwrap(), SlotGrant::Granted);
    // In the next hour one more goes out, then the daily cap of three holds until midnight.
    let next_hour = midnight + 3600;
    assert_eq!(gate.take_send_slot(&shop, next_hour, caps).await.unwrap(), SlotGrant::Granted);
    assert_eq!(
        gate.take_send_slot(&shop, next_hour + 1, caps).await.unwrap(),
        SlotGrant::CapReached { opens_at: midnight + 86_400 }
    );
    assert_eq!(gate.take_send_slot(&shop, midnight + 86_400, caps).await.unwrap(), SlotGrant::Granted);
    // Without caps nothing is counted or refused.
    assert_eq!(gate.take_send_slot(&shop, t, SendCaps::default()).await.unwrap(), SlotGrant::Granted);
}

#[tokio::test]
async fn a_retried_failure_is_claimed_as_ambiguous_so_the_chat_is_checked_before_sending() {
    let store = fresh_store().await;
    let id = campaign(&store, 1).await;
    let Claim::Fresh(row) = store.claim_message(&id, MessageSeq(0), &lease(100)).await.unwrap() else {
        panic!("claimable")
    };
    let timeout = Finish::Failed(ErrorCode::SendTimeout);
    store.finish_message(&id, MessageSeq(0), row.attempts, &timeout, "t1").await.unwrap();
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().status, CampaignStatus::Completed);

    assert_eq!(store.resume_campaign(&id, "t2", true).await.unwrap(), Transition::Applied);
    let queued =
        store.requeue_message(&id, MessageSeq(0), MessageStatus::Failed, "t2").await.unwrap().unwrap();
    assert_eq!(queued.round, 1);
    let claim = store.claim_message(&id, MessageSeq(0), &lease(200)).await.unwrap();
    assert!(matches!(claim, Claim::Ambiguous(ref r) if r.attempts == 2), "{claim:?}");
    store.settle_campaign(&id, "t3").await.unwrap();
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().status, CampaignStatus::Running, "a row is out");
}

#[tokio::test]
async fn after_a_cancel_a_lapsed_claim_may_only_verify_and_ends_cancelled_when_nothing_went_out() {
    let store = fresh_store().await;
    let id = campaign(&store, 1).await;
    let Claim::Fresh(_) = store.claim_message(&id, MessageSeq(0), &lease(100)).await.unwrap() else {
        panic!("claimable")
    };
    store.cancel_campaign(&id, "t1").await.unwrap();
    // The sender died; the redelivered record finds the lease lapsed after the cancel.
    let claim = store.claim_message(&id, MessageSeq(0), &lease(1_000)).await.unwrap();
    let Claim::VerifyOnly(row) = claim else { panic!("expected VerifyOnly, got {claim:?}") };
    let released =
        store.finish_message(&id, MessageSeq(0), row.attempts, &Finish::Released, "t2").await.unwrap();
    assert_eq!(released, Transition::Applied);
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.counts.cancelled, view.counts.sending), (1, 0));
}

#[tokio::test]
async fn a_released_idempotency_claim_is_taken_over_at_once() {
    use campaign_store::{Idempotency, IdempotencyClaim};
    let store = fresh_store().await;
    let claim = |now: i64| IdempotencyClaim {
        key_hash: "k2".into(),
        fingerprint: "f".into(),
        campaign_id: CampaignId::generate(9),
        now,
        until: now + 60,
        expires_at: now + 86_400,
    };
    assert!(matches!(store.claim_idempotency(&claim(1_000)).await.unwrap(), Idempotency::Owned { .. }));
    store.release_idempotency("k2").await.unwrap();
    assert!(matches!(store.claim_idempotency(&claim(1_001)).await.unwrap(), Idempotency::Owned { .. }));
}

#[tokio::test]
async fn a_listing_whose_campaign_row_never_came_is_dropped_only_after_the_grace_and_an_open_campaign_is_never_unlisted()
 {
    let (client, table) = test_support::fresh_table("campaign-listing").await;
    let store = DynamoCampaignStore::new(client.clone(), table.clone());
    // Given a start that listed its campaign at 08:00 and died before writing its campaign row,
    let orphan = CampaignId::generate(uuid::Uuid::new_v4().as_u128());
    let mut item = table_layout::codec::key_item(&table_layout::keys::open_campaign(&orphan));
    item.insert("since".into(), aws_sdk_dynamodb::types::AttributeValue::S("2027-01-15T08:00:00Z".into()));
    client.put_item().table_name(&table).set_item(Some(item)).send().await.unwrap();
    // the listing stays while a start could still be writing it (listed after the cutoff),
    assert_eq!(
        store.drop_orphan_listing(&orphan, "2027-01-15T07:50:00Z").await.unwrap(),
        Transition::NotApplicable
    );
    // and goes once it is older than the grace.
    assert_eq!(
        store.drop_orphan_listing(&orphan, "2027-01-15T08:10:00Z").await.unwrap(),
        Transition::Applied
    );
    assert!(store.open_campaigns(None, 10).await.unwrap().is_empty());
    // A campaign that exists is never dropped as an orphan, nor closed while anything is open;
    let id = campaign(&store, 1).await;
    assert_eq!(
        store.drop_orphan_listing(&id, "2099-01-01T00:00:00Z").await.unwrap(),
        Transition::NotApplicable
    );
    assert_eq!(store.close_listing(&id).await.unwrap(), Transition::NotApplicable);
    // once it is over it leaves the listing by itself.
    let lease = Lease { now: 100, until: 160, at: "t1".into() };
    let Claim::Fresh(row) = store.claim_message(&id, MessageSeq(0), &lease).await.unwrap() else { panic!() };
    store.finish_message(&id, MessageSeq(0), row.attempts, &Finish::Sent, "t2").await.unwrap();
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().status, CampaignStatus::Completed);
    assert!(store.open_campaigns(None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_pause_that_raced_a_resume_leaves_a_campaign_that_completes_once_its_rows_are_done() {
    let store = fresh_store().await;
    let id = campaign(&store, 1).await;
    let pause = campaign_store::PauseReason {
        code: ErrorCode::SessionExpired,
        hint: "Run setup.".into(),
        at: "t1".into(),
    };
    // Given a resume that set the campaign running, then a sender (reading the old session) that
    // paused the row and so the campaign, and the resume's walk that queued the row again,
    store.resume_campaign(&id, "t1", false).await.unwrap();
    store.pause_message(&id, MessageSeq(0), &pause).await.unwrap();
    store.requeue_message(&id, MessageSeq(0), MessageStatus::Paused, "t2").await.unwrap().unwrap();
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().status, CampaignStatus::Paused);
    // when the row is sent, the campaign completes: nothing is left that a resume could continue.
    let lease = Lease { now: 100, until: 160, at: "t3".into() };
    let Claim::Fresh(row) = store.claim_message(&id, MessageSeq(0), &lease).await.unwrap() else { panic!() };
    store.finish_message(&id, MessageSeq(0), row.attempts, &Finish::Sent, "t4").await.unwrap();
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.status, view.reason), (CampaignStatus::Completed, None));
}

#[tokio::test]
async fn in_a_cancelled_campaign_a_lost_session_ends_the_rows_instead_of_pausing_them_for_ever() {
    let store = fresh_store().await;
    let id = campaign(&store, 2).await;
    let lease = Lease { now: 100, until: 160, at: "t1".into() };
    let Claim::Fresh(row) = store.claim_message(&id, MessageSeq(0), &lease).await.unwrap() else { panic!() };
    // Given a cancel while one row is being sent and one still waits,
    store.cancel_campaign(&id, "t2").await.unwrap();
    // when the session turns out lost for both (the send's outcome, and a sender's pause),
    let finished = store
        .finish_message(&id, MessageSeq(0), row.attempts, &Finish::Paused(ErrorCode::SessionExpired), "t3")
        .await
        .unwrap();
    let reason = campaign_store::PauseReason {
        code: ErrorCode::SessionExpired,
        hint: "Run setup.".into(),
        at: "t3".into(),
    };
    let paused = store.pause_message(&id, MessageSeq(1), &reason).await.unwrap();
    // the row being sent ends FAILED with the code (it may have gone out), the waiting one
    // CANCELLED, and nothing is left open.
    assert_eq!((finished, paused), (Transition::Applied, Transition::Applied));
    let sent = store.message(&id, MessageSeq(0)).await.unwrap().unwrap();
    assert_eq!((sent.status, sent.error), (MessageStatus::Failed, Some(ErrorCode::SessionExpired)));
    assert_eq!(store.message(&id, MessageSeq(1)).await.unwrap().unwrap().status, MessageStatus::Cancelled);
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.status, view.counts.open()), (CampaignStatus::Cancelled, 0));
}

/// Walks an account's campaigns a page of `limit` at a time, newest first.
async fn walk(store: &dyn CampaignStore, account: &AccountId, limit: u32) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = store.account_campaigns(account, after.as_ref(), limit).await.unwrap();
        if page.is_empty() {
            return pages;
        }
        after = page.last().map(CampaignPosition::of);
        pages.push(page.iter().map(|v| v.name.clone()).collect());
    }
}

#[tokio::test]
async fn an_account_s_campaigns_are_listed_newest_first_a_page_at_a_time_in_both_stores() {
    let dynamo = fresh_store().await;
    let memory = campaign_store::InMemoryCampaignStore::default();
    let mine = AccountId::parse("lister").unwrap();
    // Created out of order, two in the same second and one with a fraction of a second, and one
    // of another account.
    let times =
        ["2026-12-01T10:00:00Z", "2026-12-01T12:00:00Z", "2026-12-01T11:00:00.5Z", "2026-12-01T11:00:00Z"];
    for store in [&dynamo as &dyn CampaignStore, &memory] {
        for (i, at) in times.iter().enumerate() {
            let mut c = test_support::fixtures::campaign(1);
            c.account = mine.clone();
            c.name = format!("c{i}");
            c.created_at = (*at).into();
            store.create_campaign(&c).await.unwrap();
        }
        let mut other = test_support::fixtures::campaign(1);
        other.name = "not mine".into();
        store.create_campaign(&other).await.unwrap();

        assert_eq!(walk(store, &mine, 3).await, vec![vec!["c1", "c2", "c3"], vec!["c0"]]);
        assert_eq!(walk(store, &mine, 10).await, vec![vec!["c1", "c2", "c3", "c0"]]);
        assert!(walk(store, &AccountId::parse("nobody").unwrap(), 10).await.is_empty());
    }
}

#[tokio::test]
async fn a_start_s_hand_over_is_noted_under_its_own_mark_and_cleared_with_it() {
    let store = fresh_store().await;
    let id = campaign(&store, 3).await;
    let since = store.census(&id).await.unwrap().unwrap().issuing_since.expect("a new campaign is issuing");
    // A hand-over under another mark (a newer resume's) notes nothing.
    store.hand_off_issuing(&id, since + 1, MessageSeq(1)).await.unwrap();
    assert_eq!(store.census(&id).await.unwrap().unwrap().handed_off_from, None);
    store.hand_off_issuing(&id, since, MessageSeq(1)).await.unwrap();
    let census = store.census(&id).await.unwrap().unwrap();
    assert_eq!((census.issuing_since, census.handed_off_from), (Some(since), Some(MessageSeq(1))));
    store.mark_issued(&id, since).await.unwrap();
    let census = store.census(&id).await.unwrap().unwrap();
    assert_eq!((census.issuing_since, census.handed_off_from), (None, None));
}
