//! Receipts in the DynamoDB adapter against the local AWS: a sent message's link to its row,
//! and its delivered and read times, which only ever move forward with the counters.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use campaign_store::{CampaignStore, Claim, DynamoCampaignStore, Finish, Lease, SentLink, Transition};
use domain::{AccountId, CampaignId, MessageSeq, Receipt, WaMessageId};

async fn fresh_store() -> DynamoCampaignStore {
    let (client, table) = test_support::fresh_table("campaign-receipts").await;
    DynamoCampaignStore::new(client, table)
}

/// A campaign of `n` rows of which the first `sent` are SENT.
async fn campaign_with_sent(store: &DynamoCampaignStore, n: u32, sent: u32) -> CampaignId {
    let c = test_support::fixtures::campaign(n);
    store.create_campaign(&c).await.unwrap();
    for i in 0..sent {
        let lease = Lease { now: 100, until: 160, at: "t0".into() };
        let Claim::Fresh(row) = store.claim_message(&c.id, MessageSeq(i), &lease).await.unwrap() else {
            panic!()
        };
        store.finish_message(&c.id, MessageSeq(i), row.attempts, &Finish::Sent, "t0").await.unwrap();
    }
    c.id
}

fn wa_id(i: u32) -> WaMessageId {
    WaMessageId::parse(&format!("true_4915112{i:06}@c.us_3EB0{i:04}")).unwrap()
}

fn link(id: &CampaignId, i: u32) -> SentLink {
    SentLink {
        account: AccountId::parse("shop").unwrap(),
        wa_id: wa_id(i),
        campaign: id.clone(),
        seq: MessageSeq(i),
        phone: format!("+4915112{i:06}"),
        sent_at: 1_000,
        receipt: None,
    }
}

/// The link as stored now.
async fn stored(store: &DynamoCampaignStore, id: &CampaignId, i: u32) -> SentLink {
    let links = store.sent_links(&AccountId::parse("shop").unwrap(), &[wa_id(i)]).await.unwrap();
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!((&links[0].campaign, links[0].seq), (id, MessageSeq(i)));
    links[0].clone()
}

async fn times(store: &DynamoCampaignStore, id: &CampaignId, i: u32) -> (Option<String>, Option<String>) {
    let rows = store.list_messages(id, None, None, 100).await.unwrap();
    let row = rows.into_iter().find(|e| e.row.seq == MessageSeq(i)).unwrap();
    (row.delivered_at, row.read_at)
}

#[tokio::test]
async fn a_receipt_moves_a_sent_row_forward_only_and_the_counters_with_it() {
    let store = fresh_store().await;
    let id = campaign_with_sent(&store, 3, 2).await;
    for i in 0..3 {
        store.link_sent(&link(&id, i), 4_000_000_000).await.unwrap();
    }

    // A delivery is recorded once: seen again, it changes nothing.
    assert_eq!(
        store.record_receipt(&link(&id, 0), Receipt::Delivered, "t1").await.unwrap(),
        Transition::Applied
    );
    let again = stored(&store, &id, 0).await;
    assert_eq!(again.receipt, Some(Receipt::Delivered));
    assert_eq!(
        store.record_receipt(&again, Receipt::Delivered, "t2").await.unwrap(),
        Transition::NotApplicable
    );
    // Even when the link read before it is stale, the row's condition holds it.
    assert_eq!(
        store.record_receipt(&link(&id, 0), Receipt::Delivered, "t3").await.unwrap(),
        Transition::NotApplicable
    );
    assert_eq!(times(&store, &id, 0).await, (Some("t1".into()), None));

    // A read whose delivery was never seen counts as both, at the time it was seen.
    assert_eq!(store.record_receipt(&link(&id, 1), Receipt::Read, "t4").await.unwrap(), Transition::Applied);
    assert_eq!(times(&store, &id, 1).await, (Some("t4".into()), Some("t4".into())));
    assert_eq!(stored(&store, &id, 1).await.receipt, Some(Receipt::Read));
    // And a delivery or a read arriving after it (late, or twice) takes nothing back.
    for late in [Receipt::Delivered, Receipt::Read] {
        assert_eq!(store.record_receipt(&link(&id, 1), late, "t5").await.unwrap(), Transition::NotApplicable);
    }
    assert_eq!(times(&store, &id, 1).await, (Some("t4".into()), Some("t4".into())));

    // A row that is not SENT takes no receipt.
    assert_eq!(
        store.record_receipt(&link(&id, 2), Receipt::Read, "t6").await.unwrap(),
        Transition::NotApplicable
    );
    assert_eq!(times(&store, &id, 2).await, (None, None));

    // The counters say what the rows say, and the reconciler's census agrees.
    let counts = store.campaign(&id).await.unwrap().unwrap().counts;
    assert_eq!((counts.sent, counts.delivered, counts.read), (2, 2, 1));
    let census = store.census(&id).await.unwrap().unwrap();
    assert_eq!(census.counted, counts);
}

#[tokio::test]
async fn only_links_that_were_remembered_are_found_and_many_are_read_at_once() {
    let store = fresh_store().await;
    let id = campaign_with_sent(&store, 150, 0).await;
    for i in (0..150).step_by(2) {
        store.link_sent(&link(&id, i), 4_000_000_000).await.unwrap();
    }
    // More ids than one batch read takes, half of them never linked.
    let ids: Vec<WaMessageId> = (0..150).map(wa_id).collect();
    let mut found = store.sent_links(&AccountId::parse("shop").unwrap(), &ids).await.unwrap();
    found.sort_by_key(|l| l.seq);
    let rows: Vec<u32> = found.iter().map(|l| l.seq.0).collect();
    assert_eq!(rows, (0..150).step_by(2).collect::<Vec<_>>());
    assert!(found.iter().all(|l| l.campaign == id && l.receipt.is_none()));
    // Another account's ids are its own.
    let other = store.sent_links(&AccountId::parse("other").unwrap(), &ids).await.unwrap();
    assert!(other.is_empty());
}
