//! The account's sending window in the sender: a recipient outside it is not sent to; the row
//! stays QUEUED, held until the window opens in the recipient's own zone, and its record is
//! acknowledged (it never waits in the queue in front of the account's other recipients).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod helpers;

use campaign_store::{CampaignStore, SendingWindows};
use domain::lifecycle::hold::Hold;
use domain::{MessageSeq, MessageStatus, SendingWindow};
use helpers::{World, records, shop, world};

/// 2027-01-15T08:00:00Z, a Friday: 09:00 in Berlin, 17:00 in Tokyo (the world's clock).
const NOW: i64 = 1_800_000_000;
const HOUR: i64 = 3600;

async fn window(w: &World, from: &str, to: &str, days: &[&str]) {
    let window = SendingWindow::parse(from, to, days, "Europe/Berlin").unwrap();
    w.windows.set_window(&shop(), &window, NOW - HOUR).await.unwrap();
}

async fn hold_of(w: &World, seq: u32) -> (MessageStatus, Option<Hold>) {
    let row =
        w.store.message(&domain::CampaignId::parse("c-1").unwrap(), MessageSeq(seq)).await.unwrap().unwrap();
    (row.status, row.hold)
}

#[tokio::test]
async fn recipients_outside_the_window_wait_queued_until_it_opens_and_no_browser_starts() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(2).await;
    // Given a window that opens at 10:00 in Berlin, at 09:00 there,
    window(&w, "10:00", "20:00", &[]).await;
    // when the batch runs, both records are acknowledged, nothing is sent and no browser starts,
    assert!(w.run(records(&id, 2)).await.is_empty());
    assert!(w.delivered().is_empty());
    assert_eq!(w.script.lock().unwrap().launches, 0);
    // and both rows wait QUEUED until 10:00 Berlin (09:00 UTC), which the campaign shows.
    for seq in 0..2 {
        assert_eq!(
            hold_of(&w, seq).await,
            (MessageStatus::Queued, Some(Hold { until: NOW + HOUR, since: NOW }))
        );
    }
    let view = w.store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.counts.queued, view.counts.sent, view.counts.failed), (2, 0, 0));
    assert_eq!(view.waiting_until, Some(NOW + HOUR));
}

#[tokio::test]
async fn each_recipient_is_sent_or_held_by_the_window_in_their_own_zone() {
    let w = world();
    w.generation("good").await;
    // A German recipient first (09:00 there: closed), a Japanese one behind it (17:00: open).
    let phones = ["+4915112345600".to_string(), "+81312345678".to_string()];
    let id = w.campaign_to(&phones, "Hi {{name}}").await;
    window(&w, "10:00", "20:00", &[]).await;
    assert!(w.run(records(&id, 2)).await.is_empty(), "neither record goes back to the queue");
    assert_eq!(w.delivered(), vec![("+81312345678".to_string(), "Hi R1".to_string())]);
    assert_eq!(hold_of(&w, 0).await.0, MessageStatus::Queued);
    assert_eq!(hold_of(&w, 1).await, (MessageStatus::Sent, None));
}

#[tokio::test]
async fn a_window_that_closes_during_the_batch_holds_the_rest_until_the_next_day() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(3).await;
    // Open until 09:02 in Berlin; each send takes a minute.
    window(&w, "08:00", "09:02", &[]).await;
    w.script.lock().unwrap().seconds_per_send = 60;
    assert!(w.run_with(records(&id, 3), 600_000).await.is_empty());
    assert_eq!(w.delivered().len(), 2, "sent at 09:00 and 09:01");
    let (status, hold) = hold_of(&w, 2).await;
    assert_eq!(status, MessageStatus::Queued);
    assert_eq!(hold.map(|h| h.until), Some(NOW + 23 * HOUR), "08:00 Berlin the next morning");
}

#[tokio::test]
async fn a_weekday_window_holds_a_friday_evening_message_until_monday_morning() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(1).await;
    window(&w, "09:00", "17:00", &["mon-fri"]).await;
    *w.now.lock().unwrap() = NOW + 9 * HOUR; // 18:00 Friday in Berlin
    assert!(w.run(records(&id, 1)).await.is_empty());
    let monday_nine_berlin = NOW + 3 * 24 * HOUR;
    assert_eq!(hold_of(&w, 0).await.1.map(|h| h.until), Some(monday_nine_berlin));
}

#[tokio::test]
async fn without_a_window_messages_go_at_any_hour() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(1).await;
    *w.now.lock().unwrap() = NOW - 6 * HOUR; // 03:00 in Berlin
    assert!(w.run(records(&id, 1)).await.is_empty());
    assert_eq!(w.delivered().len(), 1);
}

#[tokio::test]
async fn a_held_record_delivered_again_is_held_again_and_sent_once_the_window_opens() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(1).await;
    window(&w, "10:00", "20:00", &[]).await;
    assert!(w.run(records(&id, 1)).await.is_empty());
    // A second record of the row (a duplicate) before the window opens is held again, not sent;
    assert!(w.run(records(&id, 1)).await.is_empty());
    assert!(w.delivered().is_empty());
    // once it opens, the record the reconciler issues is sent, and the hold is gone with the move.
    *w.now.lock().unwrap() = NOW + HOUR;
    assert!(w.run(records(&id, 1)).await.is_empty());
    assert_eq!(w.delivered().len(), 1);
    assert_eq!(hold_of(&w, 0).await, (MessageStatus::Sent, None));
    assert!(w.run(records(&id, 1)).await.is_empty());
    assert_eq!(w.delivered().len(), 1, "sent once");
}
