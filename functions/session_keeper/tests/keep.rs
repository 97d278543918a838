//! The keeper's decisions over in-memory ports and a scripted browser: what it stores, marks,
//! alerts and resumes for each state a session can be found in, and that it never takes a
//! browser an instance already holds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use async_trait::async_trait;
use campaign_store::{AccountGate, CampaignStore, InMemoryAccountGate, InMemoryCampaignStore, PauseReason};
use domain::{AccountId, CampaignStatus, ErrorCode, ManualClock, PhoneNumber, SessionHealth};
use message_queue::InMemoryMessageQueue;
use sender::browser::{Browser, Check, Earlier, Launcher, Seen, SendOutcome};
use session_keeper::alert::{Alert, Alerts};
use session_keeper::{Deps, Kept, Scope};
use session_store::{GenerationState, InMemoryProfileStore, ProfileStore, SessionPointers, StoreConfig};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;

/// What the scripted browsers' checks show, in launch order (READY when the script runs out).
#[derive(Default)]
struct Script {
    checks: VecDeque<Check>,
    launches: u32,
    /// What every chat shows of sent messages.
    shown: Vec<Seen>,
    /// The chats looked at, in order.
    chats_opened: Vec<String>,
}

struct FakeLauncher(Arc<Mutex<Script>>);

impl Launcher for FakeLauncher {
    fn launch(&self, _profile_dir: &Path) -> Result<Box<dyn Browser>, String> {
        let mut s = self.0.lock().unwrap();
        s.launches += 1;
        Ok(Box::new(FakeBrowser(s.checks.pop_front().unwrap_or(Check::Ready), self.0.clone())))
    }
}

struct FakeBrowser(Check, Arc<Mutex<Script>>);

impl Browser for FakeBrowser {
    fn check(&mut self) -> Check {
        self.0.clone()
    }
    fn send(&mut self, _: &PhoneNumber, _: &sender::browser::Outgoing) -> SendOutcome {
        panic!("the keeper never sends")
    }
    fn already_sent(
        &mut self,
        _: &PhoneNumber,
        _: &str,
        _: bool,
        _: Option<OffsetDateTime>,
    ) -> Result<Earlier, String> {
        panic!("the keeper never checks a chat")
    }
    fn receipts(&mut self, _: std::time::Duration) -> Result<sender::browser::ChatReceipts, String> {
        panic!("the keeper never sends, so it never awaits a receipt")
    }
    fn chat_receipts(&mut self, phone: &PhoneNumber) -> Result<sender::browser::ChatReceipts, String> {
        let mut s = self.1.lock().unwrap();
        s.chats_opened.push(phone.e164().to_owned());
        Ok(sender::browser::ChatReceipts { just_sent: None, messages: s.shown.clone() })
    }
    fn full_loads(&self) -> u32 {
        1
    }
    fn close(self: Box<Self>) -> Result<(), String> {
        Ok(())
    }
}

#[derive(Default)]
struct RecordedAlerts(Mutex<Vec<Alert>>);

#[async_trait]
impl Alerts for RecordedAlerts {
    async fn send(&self, alert: &Alert) -> Result<(), String> {
        self.0.lock().unwrap().push(alert.clone());
        Ok(())
    }
}

struct World {
    deps: Deps,
    profiles: Arc<InMemoryProfileStore>,
    gate: Arc<InMemoryAccountGate>,
    store: Arc<InMemoryCampaignStore>,
    queue: Arc<InMemoryMessageQueue>,
    alerts: Arc<RecordedAlerts>,
    script: Arc<Mutex<Script>>,
}

const NOW: i64 = 1_764_547_200;

fn world() -> World {
    let profiles = Arc::new(InMemoryProfileStore::new(StoreConfig::new("bucket", "table")));
    let gate = Arc::new(InMemoryAccountGate::default());
    let store = Arc::new(InMemoryCampaignStore::default());
    let queue = Arc::new(InMemoryMessageQueue::default());
    let alerts = Arc::new(RecordedAlerts::default());
    let script = Arc::new(Mutex::new(Script::default()));
    let clock: domain::SharedClock = Arc::new(ManualClock::at(NOW));
    let deps = Deps {
        config: session_keeper::Config {
            table_name: "table".into(),
            queue_url: "queue".into(),
            max_fallback: 3,
            reserve: std::time::Duration::from_secs(60),
            alert_topic_arn: None,
        },
        profiles: profiles.clone(),
        launcher: Arc::new(FakeLauncher(script.clone())),
        gate: gate.clone(),
        control: campaign_control::Control {
            store: store.clone(),
            queue: queue.clone(),
            clock: clock.clone(),
        },
        alerts: alerts.clone(),
        clock,
    };
    World { deps, profiles, gate, store, queue, alerts, script }
}

fn shop() -> AccountId {
    AccountId::parse("shop").unwrap()
}

impl World {
    /// Stores one working generation for `account`.
    async fn linked(&self, account: &AccountId) {
        let dir = tempfile::tempdir().unwrap();
        let leveldb = dir.path().join("Default/Local Storage/leveldb");
        std::fs::create_dir_all(&leveldb).unwrap();
        std::fs::write(leveldb.join("000003.log"), "session").unwrap();
        self.profiles.backup(account, dir.path(), GenerationState::Ready).await.unwrap();
    }

    /// Runs the keeper over every linked account with ten minutes left.
    async fn run(&self) -> Vec<(AccountId, Kept)> {
        let deadline = u64::try_from(NOW).unwrap() * 1000 + 600_000;
        let report = session_keeper::run(&self.deps, &Scope::All, deadline, "keeper-1").await.unwrap();
        report.accounts.into_iter().map(|r| (r.account, r.kept)).collect()
    }

    fn alert_codes(&self) -> Vec<ErrorCode> {
        self.alerts.0.lock().unwrap().iter().map(|a| a.code).collect()
    }
}

#[tokio::test]
async fn a_session_that_logs_in_gets_a_fresh_generation_and_the_lease_is_given_back() {
    let w = world();
    w.linked(&shop()).await;
    let kept = w.run().await;
    assert!(
        matches!(&kept[..], [(a, Kept::Refreshed { from_backup: false, .. })] if *a == shop()),
        "{kept:?}"
    );
    assert_eq!(w.profiles.list(&shop()).await.unwrap().len(), 2, "a fresh generation is stored");
    let pointer = w.profiles.pointer(&shop()).await.unwrap().unwrap();
    assert_eq!(pointer.state, SessionHealth::Ready);
    assert!(pointer.last_check.is_some());
    assert_eq!(w.gate.lease_of(&shop()), None, "the lease is given back");
    assert!(w.alert_codes().is_empty());
}

#[tokio::test]
async fn an_account_whose_browser_a_sender_holds_is_left_alone() {
    let w = world();
    w.linked(&shop()).await;
    w.gate.acquire_browser(&shop(), "sender-7", NOW, NOW + 300).await.unwrap();
    let kept = w.run().await;
    assert_eq!(kept, [(shop(), Kept::Busy)]);
    assert_eq!(w.script.lock().unwrap().launches, 0, "no second browser");
    assert_eq!(w.gate.lease_of(&shop()).map(|(h, _)| h), Some("sender-7".to_owned()));
}

#[tokio::test]
async fn a_session_that_no_longer_logs_in_is_marked_expired_and_alerted_once() {
    let w = world();
    w.linked(&shop()).await;
    w.script.lock().unwrap().checks.push_back(Check::NeedsQr);
    assert_eq!(w.run().await, [(shop(), Kept::Expired)]);
    assert_eq!(w.profiles.pointer(&shop()).await.unwrap().unwrap().state, SessionHealth::Expired);
    assert_eq!(w.alert_codes(), [ErrorCode::SessionExpired]);
    let alert = w.alerts.0.lock().unwrap()[0].clone();
    assert!(alert.hint.contains("wacamp setup --account shop --force"), "{alert:?}");
    // The next run opens no browser for it and alerts no more.
    assert_eq!(w.run().await, [(shop(), Kept::AlreadyExpired)]);
    assert_eq!(w.script.lock().unwrap().launches, 1);
    assert_eq!(w.alert_codes().len(), 1);
}

#[tokio::test]
async fn a_conflict_is_recorded_and_alerted_and_the_session_ready_again_resumes_what_paused_for_it() {
    let w = world();
    w.linked(&shop()).await;
    // Given a campaign paused because WhatsApp Web was open elsewhere, and one paused for a ban,
    let mut conflicted = test_support::fixtures::campaign(2);
    conflicted.paused = Some(PauseReason {
        code: ErrorCode::SessionConflict,
        hint: String::new(),
        at: "2026-12-01T00:00:00Z".into(),
    });
    let mut banned = test_support::fixtures::campaign(1);
    banned.paused = Some(PauseReason {
        code: ErrorCode::AccountBanned,
        hint: String::new(),
        at: "2026-12-01T00:00:00Z".into(),
    });
    w.store.create_campaign(&conflicted).await.unwrap();
    w.store.create_campaign(&banned).await.unwrap();
    // when the keeper finds the conflict still there, it records and alerts it;
    w.script.lock().unwrap().checks.push_back(Check::Blocked(ErrorCode::SessionConflict));
    assert_eq!(w.run().await, [(shop(), Kept::Blocked { code: ErrorCode::SessionConflict })]);
    assert_eq!(w.profiles.pointer(&shop()).await.unwrap().unwrap().state, SessionHealth::Conflict);
    assert_eq!(w.alert_codes(), [ErrorCode::SessionConflict]);
    assert!(w.queue.queued.lock().unwrap().is_empty());
    // and when the next run finds it READY again, the conflicted campaign resumes, the banned one waits.
    let kept = w.run().await;
    let [(_, Kept::Refreshed { resumed, .. })] = &kept[..] else { panic!("{kept:?}") };
    assert_eq!(resumed, &[conflicted.id.to_string()]);
    assert_eq!(w.queue.queued.lock().unwrap().len(), 2);
    assert_eq!(w.store.campaign(&conflicted.id).await.unwrap().unwrap().status, CampaignStatus::Running);
    assert_eq!(w.store.campaign(&banned.id).await.unwrap().unwrap().status, CampaignStatus::Paused);
}

#[tokio::test]
async fn a_campaign_the_sender_paused_when_the_session_was_lost_resumes_once_the_keeper_finds_it_working() {
    let w = world();
    w.linked(&shop()).await;
    let mut lost = test_support::fixtures::campaign(2);
    lost.paused = Some(PauseReason {
        code: ErrorCode::SessionLost,
        hint: String::new(),
        at: "2026-12-01T00:00:00Z".into(),
    });
    w.store.create_campaign(&lost).await.unwrap();
    // (what the sender records when the session stops mid-send)
    w.profiles.set_session_state(&shop(), SessionHealth::Unknown).await.unwrap();
    let kept = w.run().await;
    let [(_, Kept::Refreshed { resumed, current: true, .. })] = &kept[..] else { panic!("{kept:?}") };
    assert_eq!(resumed, &[lost.id.to_string()]);
    assert_eq!(w.queue.queued.lock().unwrap().len(), 2);
    assert_eq!(w.profiles.pointer(&shop()).await.unwrap().unwrap().state, SessionHealth::Ready);
}

#[tokio::test]
async fn a_session_already_ready_resumes_nothing_by_itself() {
    let w = world();
    w.linked(&shop()).await;
    let mut paused = test_support::fixtures::campaign(1);
    paused.paused = Some(PauseReason {
        code: ErrorCode::SessionExpired,
        hint: String::new(),
        at: "2026-12-01T00:00:00Z".into(),
    });
    w.store.create_campaign(&paused).await.unwrap();
    // A setup run with --no-resume left it paused: the keeper leaves it so.
    let kept = w.run().await;
    assert!(matches!(&kept[..], [(_, Kept::Refreshed { resumed, .. })] if resumed.is_empty()), "{kept:?}");
    assert_eq!(w.store.campaign(&paused.id).await.unwrap().unwrap().status, CampaignStatus::Paused);
}

#[tokio::test]
async fn a_broken_current_generation_is_replaced_by_an_older_one_and_that_is_alerted() {
    let w = world();
    w.linked(&shop()).await;
    w.linked(&shop()).await;
    w.script.lock().unwrap().checks.extend([Check::NeedsQr, Check::Ready]);
    let kept = w.run().await;
    assert!(matches!(&kept[..], [(_, Kept::Refreshed { from_backup: true, .. })]), "{kept:?}");
    assert_eq!(w.alert_codes(), [ErrorCode::SessionRestoredFromBackup]);
}

#[tokio::test]
async fn every_linked_account_is_walked_and_one_never_linked_is_reported() {
    let w = world();
    for a in ["alpha", "beta", "gamma"] {
        w.linked(&AccountId::parse(a).unwrap()).await;
    }
    let kept = w.run().await;
    let accounts: Vec<&str> = kept.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(accounts, ["alpha", "beta", "gamma"]);
    let deadline = u64::try_from(NOW).unwrap() * 1000 + 600_000;
    let nobody = Scope::Account(AccountId::parse("nobody").unwrap());
    let report = session_keeper::run(&w.deps, &nobody, deadline, "keeper-1").await.unwrap();
    assert_eq!(report.accounts[0].kept, Kept::NotLinked);
}

#[tokio::test]
async fn no_account_is_started_with_less_than_the_reserve_left() {
    let w = world();
    w.linked(&shop()).await;
    let deadline = u64::try_from(NOW).unwrap() * 1000 + 30_000;
    let report = session_keeper::run(&w.deps, &Scope::All, deadline, "keeper-1").await.unwrap();
    assert!(report.stopped_early && report.accounts.is_empty(), "{report:?}");
    assert_eq!(w.script.lock().unwrap().launches, 0);
}

#[test]
fn an_event_names_one_account_or_none_and_a_bad_one_is_refused_with_the_field() {
    let scheduled: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/scheduled_event.json")).unwrap();
    assert_eq!(session_keeper::scope(&scheduled), Ok(Scope::All), "its `account` is the AWS account");
    assert_eq!(session_keeper::scope(&serde_json::json!({})), Ok(Scope::All));
    assert_eq!(session_keeper::scope(&serde_json::json!({"account": "shop"})), Ok(Scope::Account(shop())));
    for bad in [serde_json::json!({"account": "../x"}), serde_json::json!({"account": 7})] {
        let error = session_keeper::scope(&bad).unwrap_err();
        assert!(error.starts_with("account:"), "{error}");
    }
}

#[tokio::test]
async fn a_keep_records_the_receipts_recent_chats_show_and_leaves_read_and_old_messages_alone() {
    let w = world();
    w.linked(&shop()).await;
    // Given three sent messages: one sent a minute ago, one a week ago, one already seen read,
    let c = test_support::fixtures::campaign(3);
    w.store.create_campaign(&c).await.unwrap();
    let wa_id = |i: u32| domain::WaMessageId::parse(&format!("true_{i}@c.us_3EB0{i}")).unwrap();
    for (i, sent_at) in [(0, NOW - 60), (1, NOW - 7 * 24 * 3600), (2, NOW - 60)] {
        let lease = campaign_store::Lease { now: NOW, until: NOW + 60, at: "t".into() };
        let campaign_store::Claim::Fresh(row) =
            w.store.claim_message(&c.id, domain::MessageSeq(i), &lease).await.unwrap()
        else {
            panic!()
        };
        let sent = campaign_store::Finish::Sent;
        w.store.finish_message(&c.id, domain::MessageSeq(i), row.attempts, &sent, "t").await.unwrap();
        let link = campaign_store::SentLink {
            account: shop(),
            wa_id: wa_id(i),
            campaign: c.id.clone(),
            seq: domain::MessageSeq(i),
            phone: format!("+4915112{i:06}"),
            sent_at,
            receipt: None,
        };
        w.store.link_sent(&link, NOW + 86_400).await.unwrap();
        if i == 2 {
            w.store.record_receipt(&link, domain::Receipt::Read, "t").await.unwrap();
        }
    }
    // and every chat showing them read,
    w.script.lock().unwrap().shown =
        (0..3).map(|i| Seen { id: wa_id(i), receipt: Some(domain::Receipt::Read) }).collect();
    // when the keeper keeps the session,
    let kept = w.run().await;
    assert!(matches!(&kept[..], [(_, Kept::Refreshed { .. })]), "{kept:?}");
    // then only the recent unread message's chat was looked at, and that message is read now.
    assert_eq!(w.script.lock().unwrap().chats_opened, ["+4915112000000"]);
    let counts = w.store.campaign(&c.id).await.unwrap().unwrap().counts;
    assert_eq!((counts.sent, counts.delivered, counts.read), (3, 2, 2));
}
