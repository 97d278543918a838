//! The sender's handler over in-memory ports and a scripted WhatsApp Web: the batch rules (FIFO
//! give-back, malformed and stray records), the session (fallback, expiry), exactly-once sending
//! (claims, verify-before-resend, relaunch), the account's browser lease, caps and backups.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod helpers;

use aws_lambda_events::event::sqs::SqsEvent;
use campaign_store::{AccountGate, CampaignStore, SendCaps};
use domain::{CampaignId, ErrorCode, MessageSeq, MessageStatus, SessionHealth};
use helpers::{FIFO_EVENT, body, record, records, shop, world};
use sender::browser::SendOutcome;
use session_store::{GenerationState, ProfileStore, SessionPointers};
use std::time::Duration;
use time::OffsetDateTime;

#[tokio::test]
async fn the_captured_fifo_event_is_sent_in_order_and_acknowledged() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(2).await;
    // Given the two records of the captured event, as Lambda delivers them,
    let event: SqsEvent = serde_json::from_str(FIFO_EVENT).unwrap();
    // when the batch runs, both are acknowledged and both recipients got their message, in order.
    assert!(w.run(event.records).await.is_empty());
    let delivered = w.delivered();
    assert_eq!(
        delivered,
        vec![
            ("+4915112345600".to_string(), "Hi R0".to_string()),
            ("+4915112345601".to_string(), "Hi R1".to_string()),
        ]
    );
    assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.sent, 2);
}

#[tokio::test]
async fn without_a_session_every_message_is_paused_with_the_setup_hint() {
    let w = world();
    let id = w.campaign(2).await;
    assert!(w.run(records(&id, 2)).await.is_empty());
    let view = w.store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.counts.paused, view.counts.queued), (2, 0));
    assert_eq!(view.reason, Some(ErrorCode::SessionExpired));
    assert_eq!(
        view.hint.as_deref(),
        Some(
            "Run `wacamp setup --account shop --force`; campaign c-1 then resumes by itself (after `--no-resume`: `wacamp resume c-1`)."
        )
    );
    assert_eq!(w.script.lock().unwrap().launches, 0, "no browser without a session");
}

#[tokio::test]
async fn every_message_is_sent_once_and_a_redelivered_batch_sends_nothing_again() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(3).await;
    assert!(w.run(records(&id, 3)).await.is_empty());
    assert!(w.run(records(&id, 3)).await.is_empty(), "the duplicate batch is acknowledged");
    let delivered = w.delivered();
    assert_eq!(delivered.len(), 3, "{delivered:?}");
    assert_eq!(delivered[1], ("+4915112345601".to_string(), "Hi R1".to_string()));
    let view = w.store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.counts.sent, view.status), (3, domain::CampaignStatus::Completed));
    assert_eq!(
        w.profiles.list(&shop()).await.unwrap().len(),
        3,
        "each batch that loaded the app backs it up"
    );
}

#[tokio::test]
async fn a_current_generation_that_needs_the_qr_falls_back_to_an_older_one_and_promotes_it() {
    let w = world();
    w.generation("good").await;
    *w.now.lock().unwrap() += 10;
    w.generation("bad").await;
    let id = w.campaign(1).await;
    assert!(w.run(records(&id, 1)).await.is_empty());
    assert_eq!(w.delivered().len(), 1);
    let view = w.store.campaign(&id).await.unwrap().unwrap();
    assert_eq!(view.notice, Some(ErrorCode::SessionRestoredFromBackup));
    let gens = w.profiles.list(&shop()).await.unwrap();
    assert_eq!(gens.iter().filter(|g| g.state == GenerationState::NeedsQr).count(), 1, "{gens:?}");
}

#[tokio::test]
async fn when_no_generation_logs_in_the_session_expires_and_messages_pause() {
    let w = world();
    w.generation("bad").await;
    let id = w.campaign(2).await;
    assert!(w.run(records(&id, 2)).await.is_empty(), "records are acknowledged; rows keep the work");
    assert!(w.delivered().is_empty());
    let view = w.store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.status, view.counts.paused), (domain::CampaignStatus::Paused, 2));
    assert_eq!(w.profiles.pointer(&shop()).await.unwrap().unwrap().state, SessionHealth::Expired);
}

#[tokio::test]
async fn an_unconfirmed_send_is_verified_in_the_chat_before_any_second_send() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(2).await;
    w.script.lock().unwrap().next.push_back(SendOutcome::Uncertain(ErrorCode::SendTimeout));
    // The first send goes out without an ack: its record and the rest of the group go back.
    assert_eq!(w.run(records(&id, 2)).await, vec!["r0".to_string(), "r1".to_string()]);
    assert_eq!(w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap().status, MessageStatus::Sending);
    // Before the lease ends the row is left alone; after it, the chat shows the message.
    assert_eq!(w.run(records(&id, 2)).await, vec!["r0".to_string(), "r1".to_string()]);
    *w.now.lock().unwrap() += 61;
    assert!(w.run(records(&id, 2)).await.is_empty());
    assert_eq!(w.delivered().len(), 2, "{:?}", w.delivered());
    assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.sent, 2);
}

#[tokio::test]
async fn a_message_with_choices_is_checked_in_the_chat_with_the_text_it_was_sent_with_and_never_sent_again() {
    let w = world();
    w.generation("good").await;
    let template = "{Hi|Hello|Hey|Good day} {{name}}, {see you|bye}";
    let id = w.campaign_with(2, template).await;
    // Given the first send goes out without an ack,
    w.script.lock().unwrap().next.push_back(SendOutcome::Uncertain(ErrorCode::SendTimeout));
    assert_eq!(w.run(records(&id, 2)).await, vec!["r0".to_string(), "r1".to_string()]);
    // when its claim lapses and the record comes back,
    *w.now.lock().unwrap() += 61;
    assert!(w.run(records(&id, 2)).await.is_empty());
    // then the chat check looked for the same alternatives and found them: nothing went twice,
    // and each row got the text its campaign and row pick.
    let t = domain::Template::parse(template).unwrap();
    let expected: Vec<String> = (0..2)
        .map(|i| {
            let vars = [("name".to_string(), format!("R{i}"))].into();
            t.render_for(&vars, &id, MessageSeq(i)).unwrap()
        })
        .collect();
    let texts: Vec<String> = w.delivered().into_iter().map(|(_, text)| text).collect();
    assert_eq!(texts, expected);
}

#[tokio::test]
async fn a_number_not_on_whatsapp_fails_with_its_code_and_the_rest_is_sent() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(2).await;
    w.script.lock().unwrap().next.push_back(SendOutcome::NotOnWhatsapp);
    assert!(w.run(records(&id, 2)).await.is_empty());
    let row = w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap();
    assert_eq!((row.status, row.error), (MessageStatus::Failed, Some(ErrorCode::NotOnWhatsapp)));
    assert_eq!(w.delivered().len(), 1);
}

#[tokio::test]
async fn a_number_that_opted_out_after_acceptance_is_never_sent_unless_an_earlier_attempt_went_out() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(3).await;
    let on_list = |i: u32| domain::PhoneNumber::parse(&format!("+49151123456{i:02}"), None).unwrap();
    // Row 0's first send goes out without an ack; then rows 0 and 1 opt out.
    w.script.lock().unwrap().next.push_back(SendOutcome::Uncertain(ErrorCode::SendTimeout));
    assert_eq!(w.run(records(&id, 3)).await.len(), 3);
    for i in [0, 1] {
        w.store.add_opt_out(&shop(), &on_list(i), "2026-11-29T00:00:00Z").await.unwrap();
    }
    *w.now.lock().unwrap() += 61;
    assert!(w.run(records(&id, 3)).await.is_empty());
    // Row 0 went out before the opt-out and is found in the chat: SENT, not sent again. Row 1
    // never goes out; row 2 is sent.
    let status = |seq| {
        let store = w.store.clone();
        let id = id.clone();
        async move {
            let row = store.message(&id, MessageSeq(seq)).await.unwrap().unwrap();
            (row.status, row.error)
        }
    };
    assert_eq!(status(0).await, (MessageStatus::Sent, None));
    assert_eq!(status(1).await, (MessageStatus::Failed, Some(ErrorCode::OptedOut)));
    assert_eq!(status(2).await.0, MessageStatus::Sent);
    let to: Vec<String> = w.delivered().into_iter().map(|(phone, _)| phone).collect();
    assert_eq!(to, ["+4915112345600", "+4915112345602"]);
}

#[tokio::test]
async fn an_invocation_at_its_deadline_gives_every_unsent_record_back_untouched() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(2).await;
    assert_eq!(w.run_with(records(&id, 2), 0).await, vec!["r0".to_string(), "r1".to_string()]);
    assert!(w.delivered().is_empty());
    let view = w.store.campaign(&id).await.unwrap().unwrap();
    assert_eq!((view.counts.queued, view.counts.sending), (2, 0), "nothing was claimed");
    assert!(w.run(records(&id, 2)).await.is_empty(), "a later invocation sends them");
    assert_eq!(w.delivered().len(), 2);
}

#[tokio::test]
async fn malformed_and_stray_records_never_stop_the_batch() {
    let w = world();
    let id = w.campaign(1).await;
    let stray = body(&CampaignId::parse("c-missing").unwrap(), 0);
    let failed = w
        .run(vec![
            record("x", "shop", "{not json"),
            record("m", "shop", &stray),
            record("a", "shop", &body(&id, 0)),
        ])
        .await;
    assert_eq!(failed, vec!["m".to_string(), "a".to_string()], "the stray is kept; FIFO order holds");
    assert_eq!(w.queue.retried.lock().unwrap()[0], ("rh-m".to_string(), Duration::from_secs(7)));
    assert_eq!(
        w.store.campaign(&id).await.unwrap().unwrap().counts.queued,
        1,
        "the later record was not touched"
    );
}

#[tokio::test]
async fn a_batch_for_an_account_whose_browser_another_instance_holds_waits_for_the_lease_to_end() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(2).await;
    let now = *w.now.lock().unwrap();
    w.gate.acquire_browser(&shop(), "elsewhere", now, now + 40).await.unwrap();
    // While another instance holds the account's browser, nothing launches and nothing fails:
    // the records go back until its lease ends.
    assert_eq!(w.run(records(&id, 2)).await, vec!["r0".to_string(), "r1".to_string()]);
    assert_eq!(w.script.lock().unwrap().launches, 0, "no second browser on the account");
    assert_eq!(w.queue.retried.lock().unwrap()[0], ("rh-r0".to_string(), Duration::from_secs(41)));
    assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.queued, 2);
    // Once that lease expired (its holder died), it is taken over, and released at the end.
    *w.now.lock().unwrap() += 41;
    assert!(w.run(records(&id, 2)).await.is_empty());
    assert_eq!(w.delivered().len(), 2);
    assert_eq!(w.gate.lease_of(&shop()), None);
}

#[tokio::test]
async fn a_lease_held_until_a_far_deadline_is_looked_at_again_within_a_minute() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(1).await;
    let now = *w.now.lock().unwrap();
    // Given the session keeper holds the account's browser until its deadline fifteen minutes on,
    w.gate.acquire_browser(&shop(), "keeper", now, now + 930).await.unwrap();
    // the record goes back for a minute, not fifteen: the keeper gives the lease back in seconds.
    assert_eq!(w.run(records(&id, 1)).await, vec!["r0".to_string()]);
    assert_eq!(w.queue.retried.lock().unwrap()[0], ("rh-r0".to_string(), sender::account::BUSY_RECHECK));
}

#[tokio::test]
async fn a_reached_hourly_cap_gives_the_rest_back_until_the_next_hour_without_failing_it() {
    let mut w = world();
    w.deps.config.caps = SendCaps { per_hour: Some(2), per_day: Some(10) };
    w.generation("good").await;
    let id = w.campaign(3).await;
    assert_eq!(w.run(records(&id, 3)).await, vec!["r2".to_string()]);
    assert_eq!(w.delivered().len(), 2);
    let row = w.store.message(&id, MessageSeq(2)).await.unwrap().unwrap();
    assert_eq!(row.status, MessageStatus::Queued, "back in the queue, not FAILED");
    // The clock stands on a full hour: the record waits the whole next hour.
    assert_eq!(w.queue.retried.lock().unwrap()[0], ("rh-r2".to_string(), Duration::from_secs(3600)));
    // Waiting is not an attempt, however often the record comes back before the window opens.
    for _ in 0..4 {
        assert_eq!(w.run(vec![record("r2", "shop", &body(&id, 2))]).await, vec!["r2".to_string()]);
    }
    let row = w.store.message(&id, MessageSeq(2)).await.unwrap().unwrap();
    assert_eq!((row.status, row.attempts), (MessageStatus::Queued, 0), "the cap never claimed it");
    assert_eq!(w.gate.sends_this_hour(&shop(), *w.now.lock().unwrap()), 2);
    *w.now.lock().unwrap() += 3600;
    assert!(w.run(vec![record("r2", "shop", &body(&id, 2))]).await.is_empty());
    assert_eq!(w.delivered().len(), 3);
    assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.sent, 3);
}

#[tokio::test]
async fn a_newly_linked_account_sends_its_warm_up_step_a_day_more_as_days_pass_and_no_cap_past_the_ramp() {
    let mut w = world();
    w.deps.config.warm_up = domain::WarmUp::parse("2,3").unwrap();
    w.generation("good").await;
    w.profiles.record_linked(&shop()).await.unwrap();
    let pointer = w.profiles.pointer(&shop()).await.unwrap().unwrap();
    let linked = pointer.linked_at.unwrap().unix_timestamp();
    let id = w.campaign(6).await;
    let left =
        |from: u32| (from..6).map(|s| record(&format!("r{s}"), "shop", &body(&id, s))).collect::<Vec<_>>();
    // On the day of the link, two go out and the rest waits for the next day, not FAILED.
    *w.now.lock().unwrap() = linked + 60;
    assert_eq!(w.run(left(0)).await.len(), 4);
    assert_eq!(w.delivered().len(), 2);
    let row = w.store.message(&id, MessageSeq(2)).await.unwrap().unwrap();
    assert_eq!((row.status, row.attempts), (MessageStatus::Queued, 0));
    // A day on, three more;
    *w.now.lock().unwrap() = linked + 86_400 + 60;
    assert_eq!(w.run(left(2)).await.len(), 1);
    assert_eq!(w.delivered().len(), 5);
    // past the ramp, the rest without a cap.
    *w.now.lock().unwrap() = linked + 2 * 86_400 + 60;
    assert!(w.run(left(5)).await.is_empty());
    assert_eq!(w.delivered().len(), 6);
    assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.sent, 6);
}

#[tokio::test]
async fn the_deployment_s_daily_cap_still_holds_when_it_is_lower_than_the_warm_up_step() {
    let mut w = world();
    w.deps.config.warm_up = domain::WarmUp::parse("5").unwrap();
    w.deps.config.caps = SendCaps { per_hour: None, per_day: Some(1) };
    w.generation("good").await;
    w.profiles.record_linked(&shop()).await.unwrap();
    let linked = w.profiles.pointer(&shop()).await.unwrap().unwrap().linked_at.unwrap().unix_timestamp();
    *w.now.lock().unwrap() = linked + 60;
    let id = w.campaign(3).await;
    assert_eq!(w.run(records(&id, 3)).await.len(), 2);
    assert_eq!(w.delivered().len(), 1);
}

#[tokio::test]
async fn a_browser_that_crashes_mid_batch_is_relaunched_once_and_the_batch_goes_on() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(2).await;
    w.script.lock().unwrap().next.push_back(SendOutcome::Crashed("renderer gone".into()));
    assert!(w.run(records(&id, 2)).await.is_empty());
    assert_eq!(w.script.lock().unwrap().launches, 2, "one relaunch");
    let delivered = w.delivered();
    assert_eq!(delivered.len(), 2, "{delivered:?}");
    assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.sent, 2);
}

#[tokio::test]
async fn a_browser_that_crashes_again_after_its_relaunch_gives_the_record_back_for_redelivery() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(2).await;
    for _ in 0..2 {
        w.script.lock().unwrap().next.push_back(SendOutcome::Crashed("renderer gone".into()));
    }
    assert_eq!(w.run(records(&id, 2)).await, vec!["r0".to_string(), "r1".to_string()]);
    assert_eq!(w.script.lock().unwrap().launches, 2, "only one relaunch per batch");
    assert!(w.delivered().is_empty());
    let row = w.store.message(&id, MessageSeq(0)).await.unwrap().unwrap();
    assert_eq!(row.status, MessageStatus::Sending, "left under its claim: the next attempt verifies first");
    // A later delivery (after the claim's lease) verifies, sends, and finishes the batch.
    *w.now.lock().unwrap() += 61;
    assert!(w.run(records(&id, 2)).await.is_empty());
    assert_eq!(w.delivered().len(), 2);
}

#[tokio::test]
async fn the_browser_lease_lasts_until_the_invocation_deadline_plus_a_margin_and_is_released_after() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(1).await;
    let now = *w.now.lock().unwrap();
    // Given an invocation with 60 s left, when it runs,
    assert!(w.run_with(records(&id, 1), 60_000).await.is_empty());
    // then the browser started under a lease that ends 30 s after its deadline, never renewed,
    let seen = w.script.lock().unwrap().leases_seen.clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].as_ref().map(|(_, until)| *until), Some(now + 60 + 30), "{seen:?}");
    // and the lease is given up at the end.
    assert_eq!(w.gate.lease_of(&shop()), None);
}

#[tokio::test]
async fn a_batch_that_lost_its_browser_lease_takes_no_backup() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(1).await;
    // Given another instance that takes the account's lease over while the message is sent,
    w.script.lock().unwrap().take_over_lease = true;
    // when the batch ends, the sent message is recorded
    assert!(w.run(records(&id, 1)).await.is_empty());
    assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.sent, 1);
    // but no generation is backed up, and the other instance keeps its lease.
    assert_eq!(w.profiles.list(&shop()).await.unwrap().len(), 1, "no backup without the lease");
    assert_eq!(w.gate.lease_of(&shop()).map(|(h, _)| h), Some("elsewhere".to_string()));
}

#[tokio::test]
async fn a_batch_that_sent_nothing_still_backs_up_the_session_it_loaded() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(1).await;
    // Given a batch whose only message fails (the number is not on WhatsApp),
    w.script.lock().unwrap().next.push_back(SendOutcome::NotOnWhatsapp);
    assert!(w.run(records(&id, 1)).await.is_empty());
    assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.failed, 1);
    // the app it loaded rewrote its keys all the same, so the newest generation holds them.
    let generations = w.profiles.list(&shop()).await.unwrap();
    assert_eq!(generations.len(), 2, "the loaded session is backed up: {generations:?}");
}

#[tokio::test]
async fn a_session_that_stops_working_mid_batch_is_not_backed_up_and_is_no_longer_ready() {
    let w = world();
    w.generation("good").await;
    let id = w.campaign(2).await;
    // Given the session is lost while the first message is sent,
    w.script.lock().unwrap().next.push_back(SendOutcome::Uncertain(ErrorCode::SessionLost));
    w.run(records(&id, 2)).await;
    assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.paused, 1);
    // the profile it leaves is not stored as a working one, and the pointer no longer says
    // READY (so a keeper run that finds it working again resumes what paused).
    assert_eq!(w.profiles.list(&shop()).await.unwrap().len(), 1, "no backup of a lost session");
    let pointer = w.profiles.pointer(&shop()).await.unwrap().unwrap();
    assert_eq!(pointer.state, domain::SessionHealth::Unknown);
}

#[tokio::test]
async fn a_batch_soon_after_a_backup_takes_none_when_backups_are_spaced() {
    let mut w = world();
    w.deps.config.backup_every = Duration::from_secs(600);
    // Given a generation stored just now (the world's clock set to the wall clock),
    *w.now.lock().unwrap() = OffsetDateTime::now_utc().unix_timestamp();
    w.generation("good").await;
    let id = w.campaign(1).await;
    // when a batch sends within the interval, the message is recorded and no backup is taken.
    assert!(w.run(records(&id, 1)).await.is_empty());
    assert_eq!(w.store.campaign(&id).await.unwrap().unwrap().counts.sent, 1);
    assert_eq!(w.profiles.list(&shop()).await.unwrap().len(), 1, "backups are spaced");
}

#[tokio::test]
async fn a_relaunch_after_a_crash_takes_no_second_send_slot() {
    let mut w = world();
    w.deps.config.caps = SendCaps { per_hour: Some(10), per_day: None };
    w.generation("good").await;
    let id = w.campaign(2).await;
    w.script.lock().unwrap().next.push_back(SendOutcome::Crashed("renderer gone".into()));
    assert!(w.run(records(&id, 2)).await.is_empty());
    assert_eq!(w.script.lock().unwrap().launches, 2, "one relaunch");
    assert_eq!(w.delivered().len(), 2);
    assert_eq!(w.gate.sends_this_hour(&shop(), *w.now.lock().unwrap()), 2, "one slot per message");
}
