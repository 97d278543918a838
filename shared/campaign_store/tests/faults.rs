//! The DynamoDB adapter where DynamoDB is as harsh as AWS: through the AWS fault proxy, with
//! transactions cancelled by conflicts, replies lost after the write was applied, a completion
//! write that fails, and a pause that races a live claim. Every move still happens exactly once
//! and the counters equal the rows.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use aws_proxy::{FaultKind, FaultPlan, FaultProxy, ProxyHandle, Rule};
use campaign_store::{CampaignStore, Claim, DynamoCampaignStore, Finish, Lease, PauseReason, Transition};
use domain::{CampaignId, CampaignStatus, Counters, ErrorCode, MessageSeq, MessageStatus};
use futures::StreamExt;

/// A store on a fresh table reached through a proxy, and the proxy. The SDK tries each call
/// `attempts` times: with 1, every lost reply reaches the adapter's own retries.
async fn through_proxy(attempts: u32) -> (DynamoCampaignStore, ProxyHandle) {
    let (_, table) = test_support::fresh_table("campaign-faults").await;
    let proxy = FaultProxy::start(&test_support::endpoint()).unwrap();
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(proxy.url())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "tests"))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(attempts))
        .load()
        .await;
    (DynamoCampaignStore::new(aws_sdk_dynamodb::Client::new(&conf), table), proxy)
}

async fn campaign(store: &DynamoCampaignStore, n: u32) -> CampaignId {
    let c = test_support::fixtures::campaign(n);
    store.create_campaign(&c).await.unwrap();
    c.id
}

fn lease(now: i64) -> Lease {
    Lease { now, until: now + 60, at: format!("t{now}") }
}

/// The counters as the rows say they should be.
async fn counted(store: &DynamoCampaignStore, id: &CampaignId) -> Counters {
    let rows = store.list_messages(id, None, None, 10_000).await.unwrap();
    let mut counts = Counters::of_rows(rows.iter().map(|e| e.row.status));
    rows.iter().for_each(|e| counts.add_receipt(e.receipt()));
    counts
}

fn pause(at: &str) -> PauseReason {
    PauseReason { code: ErrorCode::SessionExpired, hint: "Run setup.".into(), at: at.into() }
}

#[tokio::test]
async fn a_row_paused_while_being_sent_keeps_that_it_may_have_gone_out_and_a_late_sent_wins() {
    let (store, _proxy) = through_proxy(3).await;
    let id = campaign(&store, 2).await;
    // Given a row claimed by a sender and paused while it is out (the session was seen lost
    // elsewhere, or a pause raced this live claim),
    let Claim::Fresh(row) = store.claim_message(&id, MessageSeq(0), &lease(100)).await.unwrap() else {
        panic!()
    };
    assert_eq!(store.pause_message(&id, MessageSeq(0), &pause("t1")).await.unwrap(), Transition::Applied);
    // then, resumed, it is claimed as ambiguous: its chat is checked before any send;
    store.resume_campaign(&id, "t2", false).await.unwrap();
    store.requeue_message(&id, MessageSeq(0), MessageStatus::Paused, "t2").await.unwrap().unwrap();
    let claim = store.claim_message(&id, MessageSeq(0), &lease(200)).await.unwrap();
    assert!(matches!(claim, Claim::Ambiguous(_)), "{claim:?}");
    // and a sender whose send went out while the pause raced it records SENT from PAUSED.
    let Claim::Fresh(other) = store.claim_message(&id, MessageSeq(1), &lease(100)).await.unwrap() else {
        panic!()
    };
    store.pause_message(&id, MessageSeq(1), &pause("t3")).await.unwrap();
    assert_eq!(
        store.finish_message(&id, MessageSeq(1), other.attempts, &Finish::Sent, "t4").await.unwrap(),
        Transition::Applied
    );
    assert_eq!(store.message(&id, MessageSeq(1)).await.unwrap().unwrap().status, MessageStatus::Sent);
    let _ = row;
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().counts, counted(&store, &id).await);
}

#[tokio::test]
async fn transaction_conflicts_and_throttling_are_waited_out_and_every_move_happens_once() {
    let (store, proxy) = through_proxy(2).await;
    let id = campaign(&store, 20).await;
    // Given a third of all transactions cancelled by conflicts and a share throttled (more would
    // make sixteen refusals in a row, which the store reports as Contended by design, likely
    // enough to happen in a run),
    proxy.set_plan(FaultPlan::with_rules(
        vec![
            Rule::new(FaultKind::TransactionConflict, 0.3),
            Rule::new(FaultKind::ProvisionedThroughputExceeded, 0.15).on(&["TransactWriteItems"]),
            Rule::new(FaultKind::Throttling, 0.1),
        ],
        11,
    ));
    // when every row is claimed and finished, four at a time (several senders' worth of traffic
    // on one campaign row),
    let work = (0..20u32).map(|i| {
        let (store, id) = (&store, &id);
        async move {
            let Claim::Fresh(row) = store.claim_message(id, MessageSeq(i), &lease(100)).await.unwrap() else {
                panic!()
            };
            let finish = if i % 5 == 0 { Finish::Failed(ErrorCode::NotOnWhatsapp) } else { Finish::Sent };
            assert_eq!(
                store.finish_message(id, MessageSeq(i), row.attempts, &finish, "t").await.unwrap(),
                Transition::Applied
            );
        }
    });
    futures::stream::iter(work).buffer_unordered(4).collect::<Vec<()>>().await;
    // then each happened once, the counters equal the rows and the campaign completed.
    proxy.set_plan(FaultPlan::strict());
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.counts.sent, view.counts.failed, view.counts.sending), (16, 4, 0));
    assert_eq!(view.counts, counted(&store, &id).await);
    assert_eq!(view.status, CampaignStatus::Completed);
    let stats = proxy.stats();
    assert!(stats.injected(FaultKind::TransactionConflict) >= 5, "{}", stats.table());
}

#[tokio::test]
async fn a_write_applied_whose_reply_was_lost_is_not_applied_twice_nor_reported_failed() {
    let (store, proxy) = through_proxy(1).await;
    let id = campaign(&store, 2).await;
    // Given every transaction is applied and its reply lost once (the SDK does not retry here),
    proxy.set_plan(FaultPlan::with_rules(
        vec![Rule::new(FaultKind::ReplyLost, 1.0).on(&["TransactWriteItems"]).at_most(3)],
        3,
    ));
    // then a claim, a finish and a requeue each succeed, once.
    let Claim::Fresh(row) = store.claim_message(&id, MessageSeq(0), &lease(100)).await.unwrap() else {
        panic!()
    };
    assert_eq!(row.attempts, 1);
    assert_eq!(
        store
            .finish_message(&id, MessageSeq(0), 1, &Finish::Failed(ErrorCode::SendTimeout), "t")
            .await
            .unwrap(),
        Transition::Applied
    );
    store.resume_campaign(&id, "t2", true).await.unwrap();
    let queued = store.requeue_message(&id, MessageSeq(0), MessageStatus::Failed, "t2").await.unwrap();
    assert_eq!(queued.map(|q| q.round), Some(1));
    assert_eq!(proxy.stats().injected(FaultKind::ReplyLost), 3);
    let after = store.message(&id, MessageSeq(0)).await.unwrap().unwrap();
    assert_eq!((after.status, after.attempts, after.round), (MessageStatus::Queued, 1, 1));
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().counts, counted(&store, &id).await);
}

#[tokio::test]
async fn a_campaign_whose_last_row_settled_without_its_completion_is_completed_by_the_next_record() {
    let (store, proxy) = through_proxy(1).await;
    let id = campaign(&store, 1).await;
    let Claim::Fresh(row) = store.claim_message(&id, MessageSeq(0), &lease(100)).await.unwrap() else {
        panic!()
    };
    // Given the completion write after the last row's finish fails (as if the process died between),
    proxy.set_plan(FaultPlan::with_rules(
        vec![Rule::new(FaultKind::InternalServerError, 1.0).on(&["UpdateItem"])],
        5,
    ));
    assert!(store.finish_message(&id, MessageSeq(0), row.attempts, &Finish::Sent, "t1").await.is_err());
    proxy.set_plan(FaultPlan::strict());
    assert_eq!(store.message(&id, MessageSeq(0)).await.unwrap().unwrap().status, MessageStatus::Sent);
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().status, CampaignStatus::Running);
    // when the record comes back (it was never acknowledged), the row is settled and the
    // campaign completes.
    assert_eq!(store.claim_message(&id, MessageSeq(0), &lease(200)).await.unwrap(), Claim::Settled);
    assert_eq!(store.campaign(&id).await.unwrap().unwrap().status, CampaignStatus::Completed);
}

#[tokio::test]
async fn many_rows_move_in_few_transactions_and_a_row_that_moved_meanwhile_is_left_out() {
    let (store, proxy) = through_proxy(2).await;
    let id = campaign(&store, 250).await;
    let rows = store.messages_in_status(&id, MessageStatus::Queued, None, 1000).await.unwrap();
    // Given one row claimed after the page was read,
    store.claim_message(&id, MessageSeq(7), &lease(100)).await.unwrap();
    store.cancel_campaign(&id, "t").await.unwrap();
    proxy.reset_stats();
    proxy.set_plan(FaultPlan::with_rules(vec![Rule::new(FaultKind::TransactionConflict, 0.3)], 2));
    // when the page is cancelled under conflicts,
    let cancelled = store.cancel_messages(&id, &rows, MessageStatus::Queued, "t").await.unwrap();
    // then every other row ended CANCELLED in a handful of transactions, the claimed one is left
    // to its sender, and the counters equal the rows.
    assert_eq!(cancelled, 249);
    let stats = proxy.stats();
    let committed =
        stats.calls["DynamoDB.TransactWriteItems"] - stats.injected(FaultKind::TransactionConflict);
    assert!(committed <= 5, "{stats:?}");
    proxy.set_plan(FaultPlan::strict());
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.counts.cancelled, view.counts.sending), (249, 1));
    assert_eq!(view.counts, counted(&store, &id).await);
}

#[tokio::test]
async fn receipts_seen_under_conflicts_lost_replies_and_twice_are_each_counted_once() {
    let (store, proxy) = through_proxy(1).await;
    let id = campaign(&store, 12).await;
    let account = domain::AccountId::parse("shop").unwrap();
    let wa_id = |i: u32| domain::WaMessageId::parse(&format!("true_{i}@c.us_3EB0{i:04}")).unwrap();
    for i in 0..12u32 {
        let Claim::Fresh(row) = store.claim_message(&id, MessageSeq(i), &lease(100)).await.unwrap() else {
            panic!()
        };
        store.finish_message(&id, MessageSeq(i), row.attempts, &Finish::Sent, "t").await.unwrap();
        let link = campaign_store::SentLink {
            account: account.clone(),
            wa_id: wa_id(i),
            campaign: id.clone(),
            seq: MessageSeq(i),
            phone: format!("+4915112{i:06}"),
            sent_at: 1_000,
            receipt: None,
        };
        store.link_sent(&link, 4_000_000_000).await.unwrap();
    }
    // Given transactions cancelled by conflicts, throttled, and applied with their reply lost,
    proxy.set_plan(FaultPlan::with_rules(
        vec![
            Rule::new(FaultKind::TransactionConflict, 0.3).on(&["TransactWriteItems"]),
            Rule::new(FaultKind::ReplyLost, 0.2).on(&["TransactWriteItems"]),
            Rule::new(FaultKind::Throttling, 0.1),
        ],
        17,
    ));
    // when every message's receipts arrive out of order and twice, from two senders at once
    // (a read first for half of them, then deliveries and reads again),
    let work = (0..12u32).flat_map(|i| {
        let first = if i % 2 == 0 { domain::Receipt::Read } else { domain::Receipt::Delivered };
        [first, domain::Receipt::Delivered, domain::Receipt::Read, first].map(|r| (i, r))
    });
    let writes = work.map(|(i, receipt)| {
        let (store, account, wa_id) = (&store, &account, &wa_id);
        async move {
            let links = store.sent_links(account, &[wa_id(i)]).await.unwrap();
            store.record_receipt(&links[0], receipt, "t2").await.unwrap();
        }
    });
    futures::stream::iter(writes).buffer_unordered(2).collect::<Vec<()>>().await;
    // then each row was delivered and read once and the counters equal the rows.
    proxy.set_plan(FaultPlan::strict());
    let view = store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.counts.sent, view.counts.delivered, view.counts.read), (12, 12, 12));
    assert_eq!(view.counts, counted(&store, &id).await);
    let stats = proxy.stats();
    assert!(stats.injected(FaultKind::ReplyLost) >= 1, "{}", stats.table());
    assert!(stats.injected(FaultKind::TransactionConflict) >= 1, "{}", stats.table());
}
