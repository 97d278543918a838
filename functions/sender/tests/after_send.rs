//! Receipts after a send, over in-memory ports and a scripted WhatsApp Web: the message just sent
//! is linked to its row and its receipt recorded while its chat is open, and a later visit to a
//! chat records the receipts of earlier messages, forward only.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod helpers;

use campaign_store::CampaignStore;
use domain::{CampaignId, MessageSeq, Receipt};
use helpers::{records, shop, wa_id, world};
use sender::browser::Seen;
use std::time::Duration;

async fn times(w: &helpers::World, id: &CampaignId, seq: u32) -> (bool, bool) {
    let rows = w.store.list_messages(id, None, None, 100).await.unwrap();
    let row = rows.into_iter().find(|e| e.row.seq == MessageSeq(seq)).unwrap();
    (row.delivered_at.is_some(), row.read_at.is_some())
}

#[tokio::test]
async fn a_message_read_while_its_chat_is_open_is_recorded_delivered_and_read() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(2).await;
    w.script.lock().unwrap().receipt_on_send = Some(Receipt::Read);
    assert!(w.run(records(&id, 2)).await.is_empty());
    for seq in 0..2 {
        assert_eq!(times(&w, &id, seq).await, (true, true));
    }
    let counts = w.store.campaign(&id).await.unwrap().unwrap().counts;
    assert_eq!((counts.sent, counts.delivered, counts.read), (2, 2, 2));
    // Without pacing there is no pause to watch in: the chat is read once, without a wait.
    assert_eq!(w.script.lock().unwrap().receipt_waits, [Duration::ZERO, Duration::ZERO]);
    let links = w.store.sent_links(&shop(), &[wa_id(0), wa_id(1)]).await.unwrap();
    let mut rows: Vec<u32> = links.iter().map(|l| l.seq.0).collect();
    rows.sort_unstable();
    assert_eq!(rows, [0, 1]);
}

#[tokio::test]
async fn a_later_visit_to_a_chat_records_earlier_receipts_and_never_takes_one_back() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(4).await;
    // Given two messages sent whose chats showed one check only,
    assert!(w.run(records(&id, 2)).await.is_empty());
    assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.delivered, 0);
    // when the next message is sent and its chat shows the first read and the second delivered,
    w.script.lock().unwrap().shown = vec![
        Seen { id: wa_id(0), receipt: Some(Receipt::Read) },
        Seen { id: wa_id(1), receipt: Some(Receipt::Delivered) },
        Seen { id: wa_id(99), receipt: Some(Receipt::Read) },
    ];
    let mut rest = records(&id, 4).split_off(2);
    let fourth = rest.split_off(1);
    assert!(w.run(rest).await.is_empty());
    // then their rows say so (a message of the chat that is not wacamp's changes nothing),
    assert_eq!(times(&w, &id, 0).await, (true, true));
    assert_eq!(times(&w, &id, 1).await, (true, false));
    assert_eq!(times(&w, &id, 2).await, (false, false));
    let counts = w.store.campaign(&id).await.unwrap().unwrap().counts;
    assert_eq!((counts.sent, counts.delivered, counts.read), (3, 2, 1));
    // and receipts seen again or out of order (the read one shown delivered) take nothing back.
    w.script.lock().unwrap().shown = vec![
        Seen { id: wa_id(0), receipt: Some(Receipt::Delivered) },
        Seen { id: wa_id(1), receipt: Some(Receipt::Delivered) },
    ];
    assert!(w.run(fourth).await.is_empty());
    assert_eq!(times(&w, &id, 0).await, (true, true));
    assert_eq!(times(&w, &id, 1).await, (true, false));
    let counts = w.store.campaign(&id).await.unwrap().unwrap().counts;
    assert_eq!((counts.sent, counts.delivered, counts.read), (4, 2, 1));
}
