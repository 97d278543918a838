//! Starting a scheduled campaign in the DynamoDB adapter against the local AWS, through the AWS
//! fault proxy: the start time is checked in the same write that moves the campaign, a moved
//! time is the one that counts, and however the replies of the writes are lost, each held row is
//! queued exactly once and the campaign runs.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use aws_proxy::{FaultKind, FaultPlan, FaultProxy, Rule};
use campaign_control::{Control, Released, When, release};
use campaign_store::{CampaignStore, DynamoCampaignStore, Transition};
use domain::{CampaignStatus, ManualClock, SendAt};
use message_queue::InMemoryMessageQueue;
use std::collections::BTreeSet;
use std::sync::Arc;

/// 2027-01-15T08:00:00Z.
const T0: i64 = 1_800_000_000;

fn at(unix: i64) -> SendAt {
    SendAt::at(time::OffsetDateTime::from_unix_timestamp(unix).unwrap())
}

#[tokio::test]
async fn the_start_time_is_checked_in_the_write_and_a_moved_time_is_the_one_that_counts() {
    let (client, table) = test_support::fresh_table("campaign-release").await;
    let store = DynamoCampaignStore::new(client, table);
    let c = campaign_store::NewCampaign { send_at: Some(at(T0 + 60)), ..test_support::fixtures::campaign(2) };
    store.create_campaign(&c).await.unwrap();
    assert_eq!(store.release_campaign(&c.id, "t", T0 + 59).await.unwrap(), Transition::NotApplicable);
    assert_eq!(store.reschedule_campaign(&c.id, at(T0 + 120), "t").await.unwrap(), Transition::Applied);
    assert_eq!(store.release_campaign(&c.id, "t", T0 + 60).await.unwrap(), Transition::NotApplicable);
    let view = store.campaign(&c.id).await.unwrap().unwrap();
    assert_eq!(
        (view.status, view.send_at.as_deref()),
        (CampaignStatus::Scheduled, Some("2027-01-15T08:02:00Z"))
    );
    assert_eq!(store.release_campaign(&c.id, "t", T0 + 120).await.unwrap(), Transition::Applied);
    assert_eq!(store.campaign(&c.id).await.unwrap().unwrap().status, CampaignStatus::Running);
    assert_eq!(store.reschedule_campaign(&c.id, at(T0 + 900), "t").await.unwrap(), Transition::NotApplicable);
    let nobody = domain::CampaignId::parse("c-nobody").unwrap();
    assert_eq!(store.release_campaign(&nobody, "t", T0).await.unwrap(), Transition::Missing);
    assert_eq!(store.reschedule_campaign(&nobody, at(T0), "t").await.unwrap(), Transition::Missing);
}

#[tokio::test]
async fn whichever_write_loses_its_reply_each_held_row_is_queued_once_and_the_campaign_runs() {
    let (_, table) = test_support::fresh_table("campaign-release-faults").await;
    let proxy = FaultProxy::start(&test_support::endpoint()).unwrap();
    let conf = test_support::sdk_config_at(&proxy.url()).await;
    let store = Arc::new(DynamoCampaignStore::new(aws_sdk_dynamodb::Client::new(&conf), table));
    let clock = Arc::new(ManualClock::at(T0));
    let mut lost = 0;
    for seed in 0..10 {
        let queue = Arc::new(InMemoryMessageQueue::default());
        let control = Control { store: store.clone(), queue: queue.clone(), clock: clock.clone() };
        let c =
            campaign_store::NewCampaign { send_at: Some(at(T0 + 60)), ..test_support::fixtures::campaign(3) };
        store.create_campaign(&c).await.unwrap();
        clock.set(T0 + 60);
        proxy.reset_stats();
        proxy.set_plan(FaultPlan::with_rules(
            vec![Rule::new(FaultKind::ReplyLost, 0.5).on(&["UpdateItem", "TransactWriteItems"]).at_most(4)],
            seed,
        ));
        let out = release(&control, &c.id, When::Due).await.unwrap();
        proxy.set_plan(FaultPlan::strict());
        lost += proxy.stats().injected(FaultKind::ReplyLost);
        assert!(matches!(out, Released::Started { requeued: 3, .. }), "seed {seed}: {out:?}");
        let seqs: BTreeSet<u32> = queue.queued.lock().unwrap().iter().map(|m| m.seq.0).collect();
        assert_eq!((seqs.len(), queue.queued.lock().unwrap().len()), (3, 3), "seed {seed}: each row once");
        let view = store.campaign(&c.id).await.unwrap().unwrap();
        assert_eq!(
            (view.status, view.counts.queued, view.counts.paused),
            (CampaignStatus::Running, 3, 0),
            "seed {seed}"
        );
        // The next run of the schedule finds nothing to start.
        assert_eq!(
            release(&control, &c.id, When::Due).await.unwrap(),
            Released::NotScheduled(CampaignStatus::Running)
        );
        clock.set(T0);
    }
    assert!(lost >= 10, "replies were lost along the way ({lost})");
}
