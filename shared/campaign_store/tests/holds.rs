//! Rows held for their recipient's sending window, and the accounts' windows, in the DynamoDB
//! adapters against the local AWS — through the AWS fault proxy where AWS is harsher than the
//! emulator: a hold written twice after a lost reply is the same hold, any move of the row ends
//! it, no counter moves with it, and the campaign's note keeps the earliest opening ahead.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use aws_proxy::{FaultKind, FaultPlan, FaultProxy, ProxyHandle, Rule};
use campaign_store::{
    CampaignStore, Claim, DynamoCampaignStore, DynamoSendingWindows, Lease, SendingWindows, StoreError,
    Transition,
};
use domain::lifecycle::hold::Hold;
use domain::{AccountId, CampaignId, Counters, MessageSeq, MessageStatus, SendingWindow};

async fn through_proxy() -> (DynamoCampaignStore, ProxyHandle) {
    let (_, table) = test_support::fresh_table("campaign-holds").await;
    let proxy = FaultProxy::start(&test_support::endpoint()).unwrap();
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(proxy.url())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "tests"))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await;
    (DynamoCampaignStore::new(aws_sdk_dynamodb::Client::new(&conf), table), proxy)
}

async fn hold_of(store: &DynamoCampaignStore, id: &CampaignId, seq: u32) -> Option<Hold> {
    store.message(id, MessageSeq(seq)).await.unwrap().unwrap().hold
}

#[tokio::test]
async fn a_hold_written_again_after_lost_replies_is_one_hold_and_moves_no_counter() {
    let (store, proxy) = through_proxy().await;
    let c = test_support::fixtures::campaign(3);
    store.create_campaign(&c).await.unwrap();
    let id = c.id;
    let before = store.campaign(&id).await.unwrap().unwrap().counts;
    // Given every update applied with its reply lost once, and throttling,
    proxy.set_plan(FaultPlan::with_rules(
        vec![
            Rule::new(FaultKind::ReplyLost, 1.0).on(&["UpdateItem"]).at_most(4),
            Rule::new(FaultKind::Throttling, 0.2).on(&["UpdateItem"]),
        ],
        23,
    ));
    // when three rows are held, the latest opening first,
    for (seq, until) in [(0, 5_000), (1, 3_000), (2, 4_000)] {
        let held = store.hold_message(&id, MessageSeq(seq), &Hold { until, since: 1_000 }).await.unwrap();
        assert_eq!(held, Transition::Applied, "row {seq}");
    }
    proxy.set_plan(FaultPlan::strict());
    assert!(proxy.stats().injected(FaultKind::ReplyLost) >= 3, "{}", proxy.stats().table());
    // then each row holds its hold, the counters did not move and the note is the earliest.
    assert_eq!(hold_of(&store, &id, 1).await, Some(Hold { until: 3_000, since: 1_000 }));
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!(view.counts, before);
    assert_eq!(view.counts, Counters { total: 3, queued: 3, ..Counters::default() });
    assert_eq!(view.waiting_until, Some(3_000));
}

#[tokio::test]
async fn any_move_of_a_row_ends_its_hold_and_only_a_queued_row_can_be_held() {
    let (store, _proxy) = through_proxy().await;
    let c = test_support::fixtures::campaign(2);
    store.create_campaign(&c).await.unwrap();
    let id = c.id;
    let hold = Hold { until: 9_000, since: 1_000 };
    store.hold_message(&id, MessageSeq(0), &hold).await.unwrap();
    // A claim (a duplicate record while it waited, after the window opened) ends it,
    let lease = Lease { now: 1_000, until: 1_060, at: "t1".into() };
    let claimed = store.claim_message(&id, MessageSeq(0), &lease).await.unwrap();
    assert!(matches!(claimed, Claim::Fresh(_)), "{claimed:?}");
    assert_eq!(hold_of(&store, &id, 0).await, None);
    // and a row being sent is not held.
    assert_eq!(store.hold_message(&id, MessageSeq(0), &hold).await.unwrap(), Transition::NotApplicable);
    assert_eq!(store.message(&id, MessageSeq(0)).await.unwrap().unwrap().status, MessageStatus::Sending);
    // Ending a hold names it: a hold taken again since is not ended by the old one's end.
    store.hold_message(&id, MessageSeq(1), &hold).await.unwrap();
    let newer = Hold { until: 9_500, since: 2_000 };
    store.hold_message(&id, MessageSeq(1), &newer).await.unwrap();
    assert_eq!(store.end_hold(&id, MessageSeq(1), &hold).await.unwrap(), Transition::NotApplicable);
    assert_eq!(store.end_hold(&id, MessageSeq(1), &newer).await.unwrap(), Transition::Applied);
    assert_eq!(hold_of(&store, &id, 1).await, None);
}

#[tokio::test]
async fn the_campaigns_note_is_replaced_only_while_it_is_as_it_was_read() {
    let (store, _proxy) = through_proxy().await;
    let c = test_support::fixtures::campaign(1);
    store.create_campaign(&c).await.unwrap();
    let id = c.id;
    store.hold_message(&id, MessageSeq(0), &Hold { until: 3_000, since: 1_000 }).await.unwrap();
    assert_eq!(store.note_waiting(&id, Some(2_000), None).await.unwrap(), Transition::NotApplicable);
    assert_eq!(store.note_waiting(&id, Some(3_000), Some(7_000)).await.unwrap(), Transition::Applied);
    // A hold whose window opens sooner takes the note over; one later than it does not,
    store.hold_message(&id, MessageSeq(0), &Hold { until: 8_000, since: 1_500 }).await.unwrap();
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().waiting_until, Some(7_000));
    store.hold_message(&id, MessageSeq(0), &Hold { until: 6_000, since: 1_500 }).await.unwrap();
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().waiting_until, Some(6_000));
    // not even once the note's opening has passed: rows due at it may still wait to be issued,
    // and the reconciler finds them by it (then writes the next opening itself).
    store.hold_message(&id, MessageSeq(0), &Hold { until: 9_000, since: 6_500 }).await.unwrap();
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().waiting_until, Some(6_000));
    assert_eq!(store.note_waiting(&id, Some(6_000), None).await.unwrap(), Transition::Applied);
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().waiting_until, None);
}

#[tokio::test]
async fn an_accounts_window_is_stored_read_back_replaced_and_removed() {
    let (client, table) = test_support::fresh_table("sending-windows").await;
    let windows = DynamoSendingWindows::new(client.clone(), table.clone());
    let shop = AccountId::parse("shop").unwrap();
    assert!(windows.window(&shop).await.unwrap().is_none());
    let window = SendingWindow::parse("09:00", "24:00", &["mon-fri"], "America/Sao_Paulo").unwrap();
    windows.set_window(&shop, &window, 1_000).await.unwrap();
    let stored = windows.window(&shop).await.unwrap().unwrap();
    assert_eq!((stored.window, stored.set_at), (window, 1_000));
    let other = SendingWindow::parse("10:00", "18:00", &[] as &[&str], "UTC").unwrap();
    windows.set_window(&shop, &other, 2_000).await.unwrap();
    assert_eq!(windows.window(&shop).await.unwrap().unwrap().set_at, 2_000);
    assert!(windows.clear_window(&shop).await.unwrap());
    assert!(!windows.clear_window(&shop).await.unwrap());
    // An item no window parses from is named, never taken for "no window".
    let mut item = table_layout::codec::key_item(&table_layout::keys::sending_window(&shop));
    for (k, v) in [("from", "09:00"), ("to", "20:00"), ("time_zone", "Mars/Olympus")] {
        item.insert(k.into(), table_layout::codec::s(v));
    }
    client.put_item().table_name(&table).set_item(Some(item)).send().await.unwrap();
    let err = windows.window(&shop).await.unwrap_err();
    assert!(matches!(&err, StoreError::Malformed { key, .. } if key == "ACCOUNT#shop/WINDOW"), "{err}");
}
