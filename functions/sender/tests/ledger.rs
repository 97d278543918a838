//! The sender's part of "nothing lost, nothing twice" where AWS and WhatsApp Web are harsh: a
//! session lost on the last try pauses, trouble that passes never sends a record to the
//! dead-letter queue, a browser that keeps crashing ends the row after its last try, a far cap
//! window stays within what SQS accepts, a setup during the fallback is not overwritten, and a
//! generation whose object is gone is skipped.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod helpers;

use campaign_store::{AccountGate, CampaignStore, SendCaps};
use domain::{CampaignStatus, ErrorCode, MessageSeq, MessageStatus, SessionHealth};
use helpers::{body, record, records, shop, world};
use sender::browser::SendOutcome;
use session_store::{ProfileStore, SessionPointers};
use std::time::Duration;

#[tokio::test]
async fn losing_the_session_on_the_last_try_pauses_the_row_with_the_fixing_command_instead_of_failing_it() {
    let mut w = world();
    w.deps.config.max_attempts = 1;
    w.generation("good").await;
    let id = w.campaign(2).await;
    // Given WhatsApp Web logs the device out in the middle of the first (and only allowed) send,
    w.script.lock().unwrap().next.push_back(SendOutcome::Uncertain(ErrorCode::SessionExpired));
    // when the batch runs,
    let given_back = w.run(records(&id, 2)).await;
    // then the row waits PAUSED (resumable, checked in the chat first), not FAILED beyond reach,
    let row = w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap();
    assert_eq!(
        (row.status, row.error, row.verify_first),
        (MessageStatus::Paused, Some(ErrorCode::SessionExpired), true)
    );
    let view = w.store.campaign(&id).await.unwrap().unwrap();
    assert_eq!(view.status, CampaignStatus::Paused);
    assert_eq!(
        view.hint.as_deref(),
        Some(
            "Run `wacamp setup --account shop --force`; campaign c-1 then resumes by itself (after `--no-resume`: `wacamp resume c-1`)."
        )
    );
    // and the rest of the group is not sent with a session known lost.
    assert_eq!(given_back, vec!["r1".to_string()]);
    assert_eq!(w.store.message(&id, MessageSeq(1)).await.unwrap().unwrap().status, MessageStatus::Queued);
}

#[tokio::test]
async fn a_record_about_to_reach_the_dead_letter_queue_while_trouble_passes_is_issued_again_instead() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(1).await;
    let now = *w.now.lock().unwrap();
    w.gate.acquire_browser(&shop(), "elsewhere", now, now + 40).await.unwrap();
    // Given a record already received as often as the queue allows (the next give-back would move
    // it to the dead-letter queue) while another instance holds the account's browser,
    let mut tired = record("r0", "shop", &body(&id, 0));
    tired.attributes.insert("ApproximateReceiveCount".into(), "5".into());
    // when the batch runs, the record is acknowledged and issued again with a fresh receive count,
    assert!(w.run(vec![tired]).await.is_empty(), "not given back into the dead-letter queue");
    let queued = w.queue.queued.lock().unwrap().clone();
    assert_eq!(queued.len(), 1);
    assert_eq!((queued[0].seq, queued[0].hop), (MessageSeq(0), 1));
    assert_ne!(queued[0].dedup_id(), body(&id, 0), "the queue does not drop it as a duplicate");
    // and the row is untouched, still waiting to be sent.
    assert_eq!(w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap().status, MessageStatus::Queued);
    // A stray (no such row) is given back as before: it ends in the dead-letter queue.
    let stray_id = domain::CampaignId::parse("c-missing").unwrap();
    let mut stray = record("s", "shop", &body(&stray_id, 0));
    stray.attributes.insert("ApproximateReceiveCount".into(), "5".into());
    w.gate.release_browser(&shop(), "elsewhere").await.unwrap();
    assert_eq!(w.run(vec![stray]).await, vec!["s".to_string()]);
    assert_eq!(w.queue.queued.lock().unwrap().len(), 1, "a stray is never issued again");
}

#[tokio::test]
async fn a_browser_that_keeps_crashing_ends_the_row_failed_and_retryable_after_its_last_try() {
    let mut w = world();
    w.deps.config.max_attempts = 2;
    w.generation("good").await;
    let id = w.campaign(1).await;
    for _ in 0..4 {
        w.script.lock().unwrap().next.push_back(SendOutcome::Crashed("renderer gone".into()));
    }
    // Given every send crashes the browser (and its one relaunch crashes too), the first try gives
    // the record back under its claim,
    assert_eq!(w.run(records(&id, 1)).await, vec!["r0".to_string()]);
    assert_eq!(w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap().status, MessageStatus::Sending);
    // and the last try, once the claim lapsed, ends the row: FAILED with a retryable code, never
    // given back again.
    *w.now.lock().unwrap() += 61;
    assert!(w.run(records(&id, 1)).await.is_empty());
    let row = w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap();
    assert_eq!((row.status, row.error), (MessageStatus::Failed, Some(ErrorCode::BrowserCrashed)));
    assert!(ErrorCode::BrowserCrashed.is_retryable(), "a resume with retry_failed can reach it");
    assert!(w.delivered().is_empty());
    assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().status, CampaignStatus::Completed);
}

#[tokio::test]
async fn an_earlier_attempt_still_showing_the_clock_is_never_sent_again_and_fails_retryable_on_the_last_try()
{
    let mut w = world();
    w.deps.config.max_attempts = 3;
    w.generation("good").await;
    let id = w.campaign(1).await;
    // Given a send cut off before WhatsApp heard of it (the row stays SENDING under its claim),
    // whose message the chat still shows with the clock when the record comes back,
    w.script.lock().unwrap().next.push_back(SendOutcome::Uncertain(ErrorCode::WaUnreachable));
    assert_eq!(w.run(records(&id, 1)).await, vec!["r0".to_string()]);
    w.script.lock().unwrap().pending.push(("+4915112345600".into(), "Hi R0".into()));
    // when it is claimed again, nothing is sent: the record goes back and the row stays SENDING,
    *w.now.lock().unwrap() += 61;
    assert_eq!(w.run(records(&id, 1)).await, vec!["r0".to_string()]);
    assert_eq!(w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap().status, MessageStatus::Sending);
    // and on the last try the row fails with a code a retry (which looks first) can reach.
    *w.now.lock().unwrap() += 61;
    assert!(w.run(records(&id, 1)).await.is_empty());
    let row = w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap();
    assert_eq!((row.status, row.error), (MessageStatus::Failed, Some(ErrorCode::SendTimeout)));
    assert!(ErrorCode::SendTimeout.is_retryable());
    assert!(w.delivered().is_empty(), "never sent a second time");
}

#[tokio::test]
async fn a_daily_cap_whose_next_window_is_far_gives_the_record_back_within_what_sqs_accepts() {
    let mut w = world();
    w.deps.config.caps = SendCaps { per_hour: None, per_day: Some(1) };
    // Given the clock at one in the morning (UTC), so the next daily window opens in 23 hours,
    let midnight = 1_800_000_000 - 1_800_000_000 % 86_400;
    *w.now.lock().unwrap() = midnight + 3600;
    w.generation("good").await;
    let id = w.campaign(2).await;
    // when the cap is reached after one message,
    assert_eq!(w.run(records(&id, 2)).await, vec!["r1".to_string()]);
    // then the record waits as long as SQS allows from its receipt — never the 12 hours SQS refuses
    // once any time has passed since the receipt — and comes back to wait again.
    let (_, delay) = w.queue.retried.lock().unwrap()[0].clone();
    assert!(delay <= Duration::from_secs(12 * 3600 - 20 * 60), "{delay:?}");
    assert!(delay >= Duration::from_secs(11 * 3600), "{delay:?}");
    assert_eq!(w.store.message(&id, MessageSeq(1)).await.unwrap().unwrap().status, MessageStatus::Queued);
}

#[tokio::test]
async fn a_setup_that_links_a_new_device_while_the_generations_are_tried_is_not_overwritten_as_expired() {
    let w = world();
    w.generation("bad").await;
    let id = w.campaign(1).await;
    // Given the operator's setup links a new device while the sender tries the stored generation
    // (which shows the QR code),
    w.script.lock().unwrap().link_at_next_launch = Some(w.profiles.clone());
    // when the batch ends,
    let given_back = w.run(records(&id, 1)).await;
    // then the new link stands (not marked EXPIRED) and nothing is paused: the record is tried
    // again, on the new generation.
    let pointer = w.profiles.pointer(&shop()).await.unwrap().unwrap();
    assert_eq!(pointer.state, SessionHealth::Ready);
    assert_eq!(given_back, vec!["r0".to_string()]);
    assert_eq!(w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap().status, MessageStatus::Queued);
    assert!(w.run(records(&id, 1)).await.is_empty());
    assert_eq!(w.delivered().len(), 1);
}

#[tokio::test]
async fn a_generation_whose_object_is_gone_is_skipped_by_the_fallback_rather_than_retried_for_ever() {
    let w = world();
    w.generation("good").await;
    *w.now.lock().unwrap() += 10;
    w.generation("good").await;
    // Given the current generation's stored object is gone (its item still listed),
    let current = w.profiles.pointer(&shop()).await.unwrap().unwrap();
    assert!(w.profiles.lose(current.current_key.as_deref().unwrap()));
    let id = w.campaign(1).await;
    // when the batch runs, the older generation takes over and the message goes out,
    assert!(w.run(records(&id, 1)).await.is_empty());
    assert_eq!(w.delivered().len(), 1);
    // and the missing one is marked bad, never tried again.
    let gens = w.profiles.list(&shop()).await.unwrap();
    assert!(gens.iter().any(|g| Some(&g.id) == current.current.as_ref() && g.bad), "{gens:?}");
}
