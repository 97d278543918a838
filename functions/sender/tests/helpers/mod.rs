//! The sender's unit-test world: the handler over the in-memory ports, a scripted fake WhatsApp
//! Web (the browser port), a clock the test moves, and SQS records built from a captured SQS FIFO
//! event (`fixtures/sqs_fifo_event.json`).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use campaign_store::{
    AccountGate, CampaignStore, InMemoryAccountGate, InMemoryCampaignStore, InMemorySendingWindows,
    LeaseGrant, NewCampaign, NewMessage, SendCaps,
};
use domain::{
    AccountId, CampaignId, ErrorCode, MessageSeq, PhoneNumber, QueuedMessage, Receipt, Template, WaMessageId,
};
use lambda_runtime::LambdaEvent;
use message_queue::InMemoryMessageQueue;
use sender::browser::{Browser, ChatReceipts, Check, Earlier, Launcher, Outgoing, Seen, SendOutcome};
use sender::{Config, Deps, handle};
use session_store::{GenerationState, InMemoryProfileStore, ProfileStore, StoreConfig};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;

/// The captured SQS FIFO event (two records of account `shop`, campaign `c-1`).
pub const FIFO_EVENT: &str = include_str!("../fixtures/sqs_fifo_event.json");

/// What the fake WhatsApp Web does; shared by every browser the launcher starts.
#[derive(Default)]
pub struct Script {
    /// Messages that reached a recipient, as (phone, text).
    pub delivered: Vec<(String, String)>,
    /// Files that reached a recipient with those messages, as (phone, file name, bytes).
    pub delivered_files: Vec<(String, String, Vec<u8>)>,
    /// The next sends' files are refused by WhatsApp Web (nothing goes out).
    pub refuse_files: bool,
    /// Chats looked in before a send, as (phone, whether only a bubble with a file counted).
    pub looked: Vec<(String, bool)>,
    /// Messages a chat shows with the clock (not out yet), as (phone, text).
    pub pending: Vec<(String, String)>,
    /// The receipt a message sent shows while its chat is open (none: one check).
    pub receipt_on_send: Option<Receipt>,
    /// Earlier messages every chat shows, with their receipts (a later look at a chat).
    pub shown: Vec<Seen>,
    /// Waits the sender asked for after its sends.
    pub receipt_waits: Vec<Duration>,
    /// Outcomes to play for the next sends (then `Sent`).
    pub next: VecDeque<SendOutcome>,
    /// Browsers launched.
    pub launches: u32,
    /// The account gate, to look at (or take over) the browser lease while a batch runs.
    pub gate: Option<Arc<InMemoryAccountGate>>,
    /// The browser lease at each launch.
    pub leases_seen: Vec<Option<(String, i64)>>,
    /// Another instance takes the browser lease over at the next send.
    pub take_over_lease: bool,
    /// Each send moves the world's clock on by this many seconds (a send that takes its time).
    pub seconds_per_send: i64,
    /// The world's clock, moved by sends.
    pub clock: Option<Arc<Mutex<i64>>>,
    /// At the next launch, an operator's setup links a new device: a generation that logs in is
    /// stored in this store (the session pointer moves while the sender tries its generations).
    pub link_at_next_launch: Option<Arc<InMemoryProfileStore>>,
}

/// Logs in when the profile's marker file says "good".
pub struct FakeLauncher(pub Arc<Mutex<Script>>);

struct FakeBrowser {
    ready: bool,
    script: Arc<Mutex<Script>>,
    /// The id of the message sent last, while its chat is open.
    last_sent: Option<WaMessageId>,
}

/// The WhatsApp id the fake gives the `n`-th message delivered.
pub fn wa_id(n: usize) -> WaMessageId {
    WaMessageId::parse(&format!("true_fake@c.us_{n:04}")).unwrap()
}

impl Launcher for FakeLauncher {
    fn launch(&self, profile_dir: &Path) -> Result<Box<dyn Browser>, String> {
        let marker = std::fs::read_to_string(profile_dir.join("Default/Local Storage/leveldb/marker.log"))
            .map_err(|e| e.to_string())?;
        let mut s = self.0.lock().unwrap();
        if let Some(profiles) = s.link_at_next_launch.take() {
            let dir = good_profile();
            let linked = tokio::runtime::Handle::current().block_on(profiles.backup(
                &shop(),
                dir.path(),
                GenerationState::Ready,
            ));
            linked.unwrap();
        }
        s.launches += 1;
        let lease = s.gate.as_ref().and_then(|g| g.lease_of(&shop()));
        s.leases_seen.push(lease);
        drop(s);
        Ok(Box::new(FakeBrowser { ready: marker == "good", script: self.0.clone(), last_sent: None }))
    }
}

impl Browser for FakeBrowser {
    fn check(&mut self) -> Check {
        if self.ready { Check::Ready } else { Check::NeedsQr }
    }
    fn send(&mut self, phone: &PhoneNumber, message: &Outgoing) -> SendOutcome {
        let text = message.text.as_str();
        let mut s = self.script.lock().unwrap();
        if message.attachment.is_some() && s.refuse_files {
            return SendOutcome::Refused(ErrorCode::MediaRefused);
        }
        if std::mem::take(&mut s.take_over_lease)
            && let Some(gate) = s.gate.clone()
        {
            // Far past the lease's end, as if this instance's clock were far behind.
            let later = i64::MAX / 4;
            let taken = tokio::runtime::Handle::current().block_on(gate.acquire_browser(
                &shop(),
                "elsewhere",
                later,
                later + 90,
            ));
            assert_eq!(taken.unwrap(), LeaseGrant::Acquired);
        }
        if let Some(clock) = &s.clock {
            *clock.lock().unwrap() += s.seconds_per_send;
        }
        let outcome = s.next.pop_front().unwrap_or(SendOutcome::Sent);
        self.last_sent = None;
        if matches!(outcome, SendOutcome::Sent | SendOutcome::Uncertain(ErrorCode::SendTimeout)) {
            if let Some(file) = &message.attachment {
                let name =
                    file.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let bytes = std::fs::read(&file.path).unwrap();
                s.delivered_files.push((phone.e164().to_owned(), name, bytes));
            }
            s.delivered.push((phone.e164().to_owned(), text.to_owned()));
            self.last_sent = Some(wa_id(s.delivered.len() - 1));
        }
        outcome
    }
    fn already_sent(
        &mut self,
        phone: &PhoneNumber,
        text: &str,
        with_file: bool,
        _since: Option<OffsetDateTime>,
    ) -> Result<Earlier, String> {
        self.last_sent = None;
        let mut s = self.script.lock().unwrap();
        s.looked.push((phone.e164().to_owned(), with_file));
        let carried_file = !with_file || s.delivered_files.iter().any(|(p, _, _)| p == phone.e164());
        if carried_file && s.delivered.iter().any(|(p, t)| p == phone.e164() && t == text) {
            Ok(Earlier::Delivered)
        } else if s.pending.iter().any(|(p, t)| p == phone.e164() && t == text) {
            Ok(Earlier::Pending)
        } else {
            Ok(Earlier::Absent)
        }
    }
    fn receipts(&mut self, wait: Duration) -> Result<ChatReceipts, String> {
        let mut s = self.script.lock().unwrap();
        s.receipt_waits.push(wait);
        let just_sent = self.last_sent.clone().map(|id| Seen { id, receipt: s.receipt_on_send });
        let messages = s.shown.iter().cloned().chain(just_sent.clone()).collect();
        Ok(ChatReceipts { just_sent, messages })
    }
    fn chat_receipts(&mut self, _: &PhoneNumber) -> Result<ChatReceipts, String> {
        let s = self.script.lock().unwrap();
        Ok(ChatReceipts { just_sent: None, messages: s.shown.clone() })
    }
    fn full_loads(&self) -> u32 {
        1
    }
    fn close(self: Box<Self>) -> Result<(), String> {
        Ok(())
    }
}

/// The handler's dependencies over in-memory ports, and handles on each for the assertions.
pub struct World {
    pub deps: Deps,
    pub store: Arc<InMemoryCampaignStore>,
    pub gate: Arc<InMemoryAccountGate>,
    pub windows: Arc<InMemorySendingWindows>,
    pub media: Arc<media_store::InMemoryMediaStore>,
    /// Where the sender keeps the files it fetched (removed with the world).
    _media_root: tempfile::TempDir,
    pub queue: Arc<InMemoryMessageQueue>,
    pub profiles: Arc<InMemoryProfileStore>,
    pub script: Arc<Mutex<Script>>,
    /// The clock, in Unix seconds; tests move it.
    pub now: Arc<Mutex<i64>>,
}

pub fn world() -> World {
    let store = Arc::new(InMemoryCampaignStore::default());
    let gate = Arc::new(InMemoryAccountGate::default());
    let windows = Arc::new(InMemorySendingWindows::default());
    let media = Arc::new(media_store::InMemoryMediaStore::default());
    let media_root = tempfile::tempdir().unwrap();
    let queue = Arc::new(InMemoryMessageQueue::default());
    let profiles = Arc::new(InMemoryProfileStore::new(StoreConfig::new("bucket", "table")));
    let now = Arc::new(Mutex::new(1_800_000_000i64));
    let script = Arc::new(Mutex::new(Script {
        gate: Some(gate.clone()),
        clock: Some(now.clone()),
        ..Script::default()
    }));
    let clock_now = now.clone();
    let deps = Deps {
        config: Config {
            table_name: "t".into(),
            queue_url: "q".into(),
            media_bucket: "media".into(),
            retry_delay: Duration::from_secs(7),
            lease: Duration::from_secs(60),
            max_attempts: 3,
            max_fallback: 3,
            pace: (Duration::ZERO, Duration::ZERO),
            receipt_wait: Duration::from_secs(6),
            deadline_reserve: Duration::ZERO,
            caps: SendCaps::default(),
            warm_up: domain::WarmUp::default(),
            backup_every: Duration::ZERO,
            take_over_conflict: false,
            max_receive_count: 5,
        },
        store: store.clone(),
        gate: gate.clone(),
        windows: windows.clone(),
        queue: queue.clone(),
        profiles: profiles.clone(),
        launcher: Arc::new(FakeLauncher(script.clone())),
        files: Arc::new(sender::media_files::MediaFiles::new(
            media.clone(),
            media_root.path().to_path_buf(),
            1024,
        )),
        clock: Arc::new(move || {
            OffsetDateTime::from_unix_timestamp(*clock_now.lock().unwrap())
                .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        }),
    };
    World { deps, store, gate, windows, media, _media_root: media_root, queue, profiles, script, now }
}

/// A profile directory whose browser logs in ("good") or shows the QR ("bad").
pub fn profile(marker: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let leveldb = dir.path().join("Default/Local Storage/leveldb");
    std::fs::create_dir_all(&leveldb).unwrap();
    std::fs::write(leveldb.join("marker.log"), marker).unwrap();
    dir
}

fn good_profile() -> tempfile::TempDir {
    profile("good")
}

pub fn shop() -> AccountId {
    AccountId::parse("shop").unwrap()
}

impl World {
    /// Campaign `c-1` of account `shop` with `n` recipients.
    pub async fn campaign(&self, n: u32) -> CampaignId {
        self.campaign_with(n, "Hi {{name}}").await
    }

    /// [`World::campaign`] with another template.
    pub async fn campaign_with(&self, n: u32, template: &str) -> CampaignId {
        let phones: Vec<String> = (0..n).map(|i| format!("+49151123456{i:02}")).collect();
        self.campaign_to(&phones, template).await
    }

    /// Campaign `c-1` of account `shop` to `phones`, row `i` with the name `R<i>`.
    pub async fn campaign_to(&self, phones: &[String], template: &str) -> CampaignId {
        let id = CampaignId::parse("c-1").unwrap();
        let messages = (0u32..)
            .zip(phones)
            .map(|(i, phone)| NewMessage {
                seq: MessageSeq(i),
                phone: PhoneNumber::parse(phone, None).map_err(|e| e.to_string()),
                vars: [("name".to_string(), format!("R{i}"))].into(),
                opted_out: false,
                media: None,
            })
            .collect();
        self.store
            .create_campaign(&NewCampaign {
                id: id.clone(),
                name: "n".into(),
                account: shop(),
                template: Template::parse(template).unwrap(),
                messages,
                created_at: "2026-11-29T00:00:00Z".into(),
                paused: None,
                webhook: None,
                send_at: None,
                attachments: Vec::new(),
            })
            .await
            .unwrap();
        id
    }

    /// Campaign `c-1` of `n` recipients, each sent `media` (its bytes `bytes`, accepted: the
    /// campaign's own copy is in the media store) with the text as caption.
    pub async fn campaign_with_media(&self, n: u32, media: &domain::Media, bytes: &[u8]) -> CampaignId {
        let id = CampaignId::parse("c-1").unwrap();
        let messages = (0..n)
            .map(|i| NewMessage {
                seq: MessageSeq(i),
                phone: PhoneNumber::parse(&format!("+49151123456{i:02}"), None).map_err(|e| e.to_string()),
                vars: [("name".to_string(), format!("R{i}"))].into(),
                opted_out: false,
                media: Some(media.id.clone()),
            })
            .collect();
        self.media.upload(&shop(), &media.id, bytes);
        let etag =
            media_store::MediaStore::inspect(&*self.media, &shop(), &media.id).await.unwrap().unwrap().etag;
        media_store::MediaStore::adopt(&*self.media, &shop(), &media.id, &etag, &id).await.unwrap();
        self.store
            .create_campaign(&NewCampaign {
                id: id.clone(),
                name: "n".into(),
                account: shop(),
                template: Template::parse("Hi {{name}}").unwrap(),
                messages,
                created_at: "2026-11-29T00:00:00Z".into(),
                paused: None,
                webhook: None,
                send_at: None,
                attachments: vec![media.clone()],
            })
            .await
            .unwrap();
        id
    }

    /// Stores a generation whose browser logs in ("good") or shows the QR ("bad").
    pub async fn generation(&self, marker: &str) {
        let dir = profile(marker);
        self.profiles.backup(&shop(), dir.path(), GenerationState::Ready).await.unwrap();
    }

    pub async fn run(&self, records: Vec<SqsMessage>) -> Vec<String> {
        self.run_with(records, 60_000).await
    }

    /// Runs a batch with `left_ms` milliseconds left before the invocation's deadline.
    pub async fn run_with(&self, records: Vec<SqsMessage>, left_ms: u64) -> Vec<String> {
        let mut ev = SqsEvent::default();
        ev.records = records;
        let mut ctx = lambda_runtime::Context::default();
        ctx.deadline = u64::try_from(*self.now.lock().unwrap() * 1000).unwrap() + left_ms;
        let resp = handle(&self.deps, LambdaEvent::new(ev, ctx)).await.unwrap();
        resp.batch_item_failures.into_iter().map(|f| f.item_identifier).collect()
    }

    pub fn delivered(&self) -> Vec<(String, String)> {
        self.script.lock().unwrap().delivered.clone()
    }
}

/// A record shaped like the captured FIFO event's, with its own id, group and body.
pub fn record(id: &str, group: &str, body: &str) -> SqsMessage {
    let event: SqsEvent = serde_json::from_str(FIFO_EVENT).unwrap();
    let mut r = event.records.into_iter().next().unwrap();
    r.message_id = Some(id.into());
    r.receipt_handle = Some(format!("rh-{id}"));
    r.body = Some(body.into());
    r.attributes.insert("MessageGroupId".to_string(), group.to_string());
    r
}

pub fn body(campaign: &CampaignId, seq: u32) -> String {
    serde_json::to_string(&QueuedMessage::new(campaign.clone(), MessageSeq(seq), shop(), 0)).unwrap()
}

pub fn records(campaign: &CampaignId, n: u32) -> Vec<SqsMessage> {
    (0..n).map(|i| record(&format!("r{i}"), "shop", &body(campaign, i))).collect()
}
