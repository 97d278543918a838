//! Resuming an account's campaigns that paused for a session reason, over the in-memory store
//! and queue (the decision of which to resume, and that each resumes exactly as a resume does).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use campaign_control::{Control, resume_after_link};
use campaign_store::{CampaignStore, InMemoryCampaignStore, NewCampaign, PauseReason};
use domain::{AccountId, CampaignStatus, ErrorCode, ManualClock};
use message_queue::InMemoryMessageQueue;
use std::sync::Arc;

fn paused(account: &str, code: ErrorCode, n: u32) -> NewCampaign {
    let mut campaign = test_support::fixtures::campaign(n);
    campaign.account = AccountId::parse(account).unwrap();
    campaign.paused =
        Some(PauseReason { code, hint: code.hint().to_owned(), at: "2026-12-01T00:00:00Z".into() });
    campaign
}

#[tokio::test]
async fn only_the_accounts_campaigns_paused_for_a_session_reason_resume_by_themselves() {
    let store = Arc::new(InMemoryCampaignStore::default());
    let queue = Arc::new(InMemoryMessageQueue::default());
    let control = Control {
        store: store.clone(),
        queue: queue.clone(),
        clock: Arc::new(ManualClock::at(1_764_547_200)),
    };
    // Given campaigns of shop paused because the session expired and because it was banned,
    // one of another account paused because its session expired, and one of shop cancelled,
    let expired = paused("shop", ErrorCode::SessionExpired, 3);
    let banned = paused("shop", ErrorCode::AccountBanned, 2);
    let elsewhere = paused("other", ErrorCode::SessionExpired, 2);
    let cancelled = paused("shop", ErrorCode::SessionExpired, 1);
    for c in [&expired, &banned, &elsewhere, &cancelled] {
        store.create_campaign(c).await.unwrap();
    }
    store.cancel_campaign(&cancelled.id, "2026-12-01T00:00:01Z").await.unwrap();
    // when shop's session works again,
    let resumed = resume_after_link(&control, &AccountId::parse("shop").unwrap()).await.unwrap();
    // then only the expired one resumed, its three rows queued once each;
    assert_eq!(resumed.len(), 1, "{resumed:?}");
    assert_eq!(
        (resumed[0].campaign.clone(), resumed[0].reason, resumed[0].requeued),
        (expired.id.clone(), ErrorCode::SessionExpired, 3)
    );
    let queued = queue.queued.lock().unwrap().clone();
    assert_eq!(queued.len(), 3);
    assert!(queued.iter().all(|m| m.campaign_id == expired.id));
    assert_eq!(store.campaign(&expired.id).await.unwrap().unwrap().status, CampaignStatus::Running);
    // the others wait as they were;
    assert_eq!(store.campaign(&banned.id).await.unwrap().unwrap().status, CampaignStatus::Paused);
    assert_eq!(store.campaign(&elsewhere.id).await.unwrap().unwrap().status, CampaignStatus::Paused);
    assert_eq!(store.campaign(&cancelled.id).await.unwrap().unwrap().status, CampaignStatus::Cancelled);
    // and a second call resumes nothing more.
    assert!(resume_after_link(&control, &AccountId::parse("shop").unwrap()).await.unwrap().is_empty());
    assert_eq!(queue.queued.lock().unwrap().len(), 3);
}
