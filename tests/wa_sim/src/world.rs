//! The simulated WhatsApp server side: QR logins, linked devices and their credential generations, open
//! pages, the admin clock, injected faults and the record of delivered messages.
//!
//! Pure state with no I/O: the HTTP layer (the page API and the admin API) locks it, calls one method
//! and acts on the answer. Wall-clock instants (QR rotation, acknowledgement timing) are parameters so the
//! unit tests below can drive them; session expiry uses only the admin clock.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use crate::config::{Latency, SimConfig};

/// How many QR attempts the server remembers; older ones are forgotten.
const MAX_ATTEMPTS: usize = 64;
/// A QR attempt whose page stopped polling for this long is no longer "on screen".
const ATTEMPT_LIVENESS: Duration = Duration::from_secs(5);

/// Why an admin call could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    /// No page shows a scannable QR code right now.
    NoQrShown,
    /// The QR payload given is not one the server issued, or it has rotated away.
    UnknownQr,
    /// The QR code went idle ("click to reload") before it was scanned.
    QrIdle,
    /// The account has no linked device.
    UnknownAccount(String),
    /// The request itself is malformed (empty account, bad status code, ...).
    BadRequest(String),
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoQrShown => write!(f, "no page shows a scannable QR code"),
            Self::UnknownQr => write!(f, "that QR code is unknown or has rotated away"),
            Self::QrIdle => write!(f, "that QR code went idle; click \"reload\" on the page first"),
            Self::UnknownAccount(account) => write!(f, "account {account:?} has no linked device"),
            Self::BadRequest(reason) => write!(f, "bad request: {reason}"),
        }
    }
}

impl std::error::Error for SimError {}

/// A fault the next matching request suffers, queued by the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    /// The next app page load (`/`, `/send`) answers with this HTTP status.
    PageError {
        /// HTTP status, 400..=599.
        status: u16,
    },
    /// The next page API call (`/api/...`) answers with this HTTP status.
    ApiError {
        /// HTTP status, 400..=599.
        status: u16,
    },
    /// The next app page load never answers (until `release_hangs` or shutdown).
    HangLoad,
    /// The next send loses its connection before the message reaches the server: nothing is delivered.
    DropBeforeDelivery,
    /// The next send is delivered, then its connection drops before the page hears the acknowledgement.
    DropAfterDelivery,
    /// The next send is delivered but never acknowledged: the bubble keeps its clock icon.
    NoAck,
}

impl Fault {
    fn is_send_fault(&self) -> bool {
        matches!(self, Self::DropBeforeDelivery | Self::DropAfterDelivery | Self::NoAck)
    }

    fn check(&self) -> Result<(), SimError> {
        match self {
            Self::PageError { status } | Self::ApiError { status } if !(400..=599).contains(status) => {
                Err(SimError::BadRequest(format!("status {status} is not an HTTP error")))
            }
            _ => Ok(()),
        }
    }
}

/// One message as the recipient received it: the record tests count duplicates and losses from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Message id (the page's id for it; a resend of the same id is not a second delivery).
    pub id: String,
    /// The sending account.
    pub account: String,
    /// The linked device that sent it.
    pub device: String,
    /// Credential generation the sending page authenticated with.
    pub generation: u64,
    /// Recipient phone, digits only.
    pub to: String,
    /// Message text exactly as sent.
    pub text: String,
    /// Admin-clock time of delivery, in milliseconds.
    pub clock_ms: u64,
    /// Wall-clock time of delivery, Unix milliseconds.
    pub unix_ms: u64,
}

/// What the admin API reports about one linked device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Device id, issued when the QR was scanned.
    pub device: String,
    /// The account the device belongs to.
    pub account: String,
    /// Newest credential generation issued to it.
    pub latest_generation: u64,
    /// Generations the server no longer accepts (damaged or unreadable).
    pub refused_generations: Vec<u64>,
    /// The phone logged this device out.
    pub revoked: bool,
    /// The device expired after too long without use.
    pub expired: bool,
    /// The account is banned.
    pub banned: bool,
    /// Another window (outside the simulator's pages) holds the session.
    pub held_elsewhere: bool,
    /// Admin-clock time of the last use, in milliseconds.
    pub last_used_ms: u64,
}

/// A linked device as returned to whoever scanned the QR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedDevice {
    /// Device id.
    pub device: String,
    /// Account it was linked to.
    pub account: String,
    /// The QR payload that was scanned.
    pub qr: String,
}

/// The QR code a page shows now, as a phone would see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrInfo {
    /// Login attempt id (one per page showing a QR).
    pub attempt: String,
    /// The payload in `data-ref`.
    pub qr: String,
    /// How many payloads this attempt has shown so far.
    pub codes_shown: u32,
}

/// Credentials handed to a page: the key is split so that IndexedDB holds `key_a` and localStorage `key_b`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// Device id.
    pub device: String,
    /// Account (phone) the device belongs to.
    pub account: String,
    /// Generation of this credential.
    pub generation: u64,
    /// First half of the key, kept in IndexedDB.
    pub key_a: String,
    /// Second half of the key, kept in localStorage.
    pub key_b: String,
}

/// The page's view of a login attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AttemptView {
    /// Show this QR payload.
    Waiting {
        /// Current payload.
        qr: String,
    },
    /// Stop showing QR codes; offer "click to reload".
    Idle,
    /// A phone scanned it: store these credentials and reload.
    Linked {
        /// The new device's first credential.
        credential: Credential,
    },
    /// The attempt is unknown (server restarted or forgot it): start a new one.
    Unknown,
}

/// The server's answer to a page presenting its stored credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum AuthOutcome {
    /// Authenticated: sync, then show the app.
    Ok {
        /// Id of this page session, used by every later call.
        page: String,
        /// Account of the device.
        account: String,
        /// The rotated credential to store (when rotation is on).
        next: Option<Credential>,
        /// Another window holds the session: show "Use here" before syncing.
        conflict: bool,
    },
    /// The server never issued this device or generation.
    Unknown,
    /// The phone logged this device out.
    Revoked,
    /// The device expired after too long without use.
    Expired,
    /// This generation was refused after damage (an older backup may still work).
    Rejected,
    /// The stored key does not decrypt.
    Unreadable,
    /// The account is banned.
    Banned,
    /// This build of WhatsApp Web is too old.
    Outdated,
}

/// What an open page should show, answered to its status poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PageStatus {
    /// Keep going.
    Active,
    /// Another window holds the session: show "Use here".
    Conflict,
    /// Logged out from the phone: clear storage, QR with `post_logout=1`.
    Revoked,
    /// Expired: clear storage, QR.
    Expired,
    /// Banned screen.
    Banned,
    /// Outdated screen.
    Outdated,
    /// The server does not know this page (e.g. restarted): clear storage, QR.
    Unknown,
}

/// Why a send was refused before anything was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRefusal {
    /// The page is not logged in (any more).
    LoggedOut(PageStatus),
    /// Another window holds the session.
    Conflict,
    /// The number is malformed or not on WhatsApp.
    NotOnWhatsApp,
    /// Empty text.
    Empty,
}

/// A send the server accepted, and what the HTTP layer must do about acknowledging it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendAccepted {
    /// Message id.
    pub id: String,
    /// The fault to play, if one was queued for this send.
    pub fault: Option<Fault>,
    /// False when the message never reached the recipient (dropped before delivery).
    pub delivered: bool,
}

/// An earlier outgoing message shown when a chat opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryMessage {
    /// Message id.
    pub id: String,
    /// Text.
    pub text: String,
    /// `sent` or `delivered`.
    pub status: &'static str,
    /// Wall-clock Unix milliseconds.
    pub unix_ms: u64,
}

/// One row of the chat list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatSummary {
    /// Recipient phone, digits.
    pub phone: String,
    /// Text of the newest outgoing message.
    pub last_text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GenState {
    Valid,
    Rejected,
    Unreadable,
}

#[derive(Debug, Clone)]
struct Generation {
    key_a: String,
    key_b: String,
    state: GenState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Holder {
    Nobody,
    Page(String),
    Elsewhere,
}

#[derive(Debug, Clone)]
struct Device {
    id: String,
    account: String,
    generations: BTreeMap<u64, Generation>,
    latest: u64,
    revoked: bool,
    expired: bool,
    last_used: Duration,
    holder: Holder,
}

#[derive(Debug, Clone)]
enum AttemptState {
    Waiting,
    Idle,
    Linked(Credential),
}

#[derive(Debug, Clone)]
struct Attempt {
    id: String,
    qr: String,
    shown_at: Instant,
    codes_shown: u32,
    last_poll: Instant,
    state: AttemptState,
}

#[derive(Debug, Clone)]
struct Page {
    device: String,
    generation: u64,
}

#[derive(Debug, Clone)]
struct Stored {
    delivery: Delivery,
    delivered_at: Instant,
}

/// The whole simulated server state.
#[derive(Debug)]
pub struct World {
    qr_rotation: Duration,
    qr_codes_before_idle: u32,
    idle_expiry: Duration,
    rotate_credentials: bool,
    latency: Latency,
    clock: Duration,
    attempts: Vec<Attempt>,
    devices: BTreeMap<String, Device>,
    banned: BTreeSet<String>,
    pages: HashMap<String, Page>,
    not_on_whatsapp: BTreeSet<String>,
    messages: Vec<Stored>,
    faults: Vec<Fault>,
    never_ack: bool,
    outdated: bool,
}

/// A random id with a readable prefix.
fn random_id(prefix: &str) -> String {
    let bytes: [u8; 12] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{hex}")
}

/// A QR payload shaped like WhatsApp's: `ref,noise key,identity key,adv secret`.
fn random_qr() -> String {
    let parts: [[u8; 24]; 4] = rand::random();
    let encoded: Vec<String> = parts.iter().map(|p| BASE64.encode(p)).collect();
    format!("2@{}", encoded.join(","))
}

fn random_key_half() -> String {
    let bytes: [u8; 16] = rand::random();
    BASE64.encode(bytes)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn unix_ms_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(millis).unwrap_or_default()
}

/// Digits of a phone number as WhatsApp links carry it (`+`, spaces and dashes dropped), if plausible.
pub fn normalise_phone(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(|c| !matches!(c, '+' | ' ' | '-' | '(' | ')')).collect();
    let plausible = (6..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit());
    plausible.then_some(digits)
}

impl World {
    /// A fresh server with no device linked.
    pub fn new(config: &SimConfig) -> Self {
        Self {
            qr_rotation: config.qr_rotation.max(Duration::from_millis(10)),
            qr_codes_before_idle: config.qr_codes_before_idle.max(1),
            idle_expiry: config.idle_expiry,
            rotate_credentials: config.rotate_credentials,
            latency: config.latency,
            clock: Duration::ZERO,
            attempts: Vec::new(),
            devices: BTreeMap::new(),
            banned: BTreeSet::new(),
            pages: HashMap::new(),
            not_on_whatsapp: BTreeSet::new(),
            messages: Vec::new(),
            faults: Vec::new(),
            never_ack: false,
            outdated: false,
        }
    }

    // ----- QR login -------------------------------------------------------------------------------------

    /// A page without credentials starts showing QR codes.
    pub fn start_attempt(&mut self, now: Instant) -> QrInfo {
        if self.attempts.len() >= MAX_ATTEMPTS {
            self.attempts.remove(0);
        }
        let attempt = Attempt {
            id: random_id("att-"),
            qr: random_qr(),
            shown_at: now,
            codes_shown: 1,
            last_poll: now,
            state: AttemptState::Waiting,
        };
        let info = QrInfo { attempt: attempt.id.clone(), qr: attempt.qr.clone(), codes_shown: 1 };
        self.attempts.push(attempt);
        info
    }

    fn refresh_attempt(attempt: &mut Attempt, now: Instant, rotation: Duration, before_idle: u32) {
        if !matches!(attempt.state, AttemptState::Waiting) {
            return;
        }
        while now.saturating_duration_since(attempt.shown_at) >= rotation {
            if attempt.codes_shown >= before_idle {
                attempt.state = AttemptState::Idle;
                return;
            }
            attempt.qr = random_qr();
            attempt.shown_at += rotation;
            attempt.codes_shown += 1;
        }
    }

    /// The page polls its attempt: rotation, idleness or the credentials of a scan.
    pub fn poll_attempt(&mut self, id: &str, now: Instant) -> AttemptView {
        let (rotation, before_idle) = (self.qr_rotation, self.qr_codes_before_idle);
        let Some(attempt) = self.attempts.iter_mut().find(|a| a.id == id) else {
            return AttemptView::Unknown;
        };
        attempt.last_poll = now;
        Self::refresh_attempt(attempt, now, rotation, before_idle);
        match &attempt.state {
            AttemptState::Waiting => AttemptView::Waiting { qr: attempt.qr.clone() },
            AttemptState::Idle => AttemptView::Idle,
            AttemptState::Linked(credential) => AttemptView::Linked { credential: credential.clone() },
        }
    }

    /// The QR code on screen now: the newest attempt whose page still polls and whose QR is scannable.
    pub fn current_qr(&mut self, now: Instant) -> Option<QrInfo> {
        let (rotation, before_idle) = (self.qr_rotation, self.qr_codes_before_idle);
        self.attempts.iter_mut().rev().find_map(|attempt| {
            Self::refresh_attempt(attempt, now, rotation, before_idle);
            let live = now.saturating_duration_since(attempt.last_poll) <= ATTEMPT_LIVENESS;
            (live && matches!(attempt.state, AttemptState::Waiting)).then(|| QrInfo {
                attempt: attempt.id.clone(),
                qr: attempt.qr.clone(),
                codes_shown: attempt.codes_shown,
            })
        })
    }

    /// A phone scans `qr` (or, with `None`, whatever QR is on screen) and links a device for `account`.
    pub fn link(&mut self, account: &str, qr: Option<&str>, now: Instant) -> Result<LinkedDevice, SimError> {
        let account = account.trim();
        if account.is_empty() {
            return Err(SimError::BadRequest("account is empty".to_owned()));
        }
        let target = match qr {
            None => self.current_qr(now).ok_or(SimError::NoQrShown)?.attempt,
            Some(payload) => {
                let (rotation, before_idle) = (self.qr_rotation, self.qr_codes_before_idle);
                let attempt =
                    self.attempts.iter_mut().find(|a| a.qr == payload).ok_or(SimError::UnknownQr)?;
                Self::refresh_attempt(attempt, now, rotation, before_idle);
                match attempt.state {
                    AttemptState::Waiting if attempt.qr == payload => attempt.id.clone(),
                    AttemptState::Idle => return Err(SimError::QrIdle),
                    _ => return Err(SimError::UnknownQr),
                }
            }
        };
        let device_id = random_id("dev-");
        let generation =
            Generation { key_a: random_key_half(), key_b: random_key_half(), state: GenState::Valid };
        let credential = Credential {
            device: device_id.clone(),
            account: account.to_owned(),
            generation: 1,
            key_a: generation.key_a.clone(),
            key_b: generation.key_b.clone(),
        };
        self.devices.insert(
            device_id.clone(),
            Device {
                id: device_id.clone(),
                account: account.to_owned(),
                generations: BTreeMap::from([(1, generation)]),
                latest: 1,
                revoked: false,
                expired: false,
                last_used: self.clock,
                holder: Holder::Nobody,
            },
        );
        let attempt = self.attempts.iter_mut().find(|a| a.id == target).ok_or(SimError::UnknownQr)?;
        let scanned = attempt.qr.clone();
        attempt.state = AttemptState::Linked(credential);
        Ok(LinkedDevice { device: device_id, account: account.to_owned(), qr: scanned })
    }

    // ----- authentication and page status ---------------------------------------------------------------

    fn is_idle_expired(&self, device: &Device) -> bool {
        device.expired || self.clock.saturating_sub(device.last_used) > self.idle_expiry
    }

    /// A page presents the credentials it read from IndexedDB + localStorage.
    pub fn authenticate(
        &mut self,
        device_id: &str,
        generation: u64,
        key_a: &str,
        key_b: &str,
    ) -> AuthOutcome {
        if self.outdated {
            return AuthOutcome::Outdated;
        }
        let Some(device) = self.devices.get(device_id) else {
            return AuthOutcome::Unknown;
        };
        if device.revoked {
            return AuthOutcome::Revoked;
        }
        if self.banned.contains(&device.account) {
            return AuthOutcome::Banned;
        }
        let expired = self.is_idle_expired(device);
        let clock = self.clock;
        let rotate = self.rotate_credentials;
        let Some(device) = self.devices.get_mut(device_id) else {
            return AuthOutcome::Unknown;
        };
        if expired {
            device.expired = true;
            return AuthOutcome::Expired;
        }
        let Some(stored) = device.generations.get(&generation) else {
            return AuthOutcome::Unknown;
        };
        match stored.state {
            GenState::Rejected => return AuthOutcome::Rejected,
            GenState::Unreadable => return AuthOutcome::Unreadable,
            GenState::Valid if stored.key_a != key_a || stored.key_b != key_b => {
                return AuthOutcome::Unreadable;
            }
            GenState::Valid => {}
        }
        device.last_used = clock;
        let page = random_id("page-");
        let conflict = device.holder == Holder::Elsewhere;
        if !conflict {
            device.holder = Holder::Page(page.clone());
        }
        let next = rotate.then(|| {
            device.latest += 1;
            let fresh =
                Generation { key_a: random_key_half(), key_b: random_key_half(), state: GenState::Valid };
            let credential = Credential {
                device: device.id.clone(),
                account: device.account.clone(),
                generation: device.latest,
                key_a: fresh.key_a.clone(),
                key_b: fresh.key_b.clone(),
            };
            device.generations.insert(device.latest, fresh);
            credential
        });
        let account = device.account.clone();
        self.pages.insert(page.clone(), Page { device: device_id.to_owned(), generation });
        AuthOutcome::Ok { page, account, next, conflict }
    }

    /// The open page asks what to show; an active page counts as use of the device.
    pub fn page_status(&mut self, page_id: &str) -> PageStatus {
        if self.outdated {
            return PageStatus::Outdated;
        }
        let Some(page) = self.pages.get(page_id) else {
            return PageStatus::Unknown;
        };
        let Some(device) = self.devices.get(&page.device) else {
            return PageStatus::Unknown;
        };
        if device.revoked {
            return PageStatus::Revoked;
        }
        if self.banned.contains(&device.account) {
            return PageStatus::Banned;
        }
        let expired = self.is_idle_expired(device);
        let clock = self.clock;
        let Some(device) = self.devices.get_mut(&page.device) else {
            return PageStatus::Unknown;
        };
        if expired {
            device.expired = true;
            return PageStatus::Expired;
        }
        device.last_used = clock;
        if device.holder == Holder::Page(page_id.to_owned()) {
            PageStatus::Active
        } else {
            PageStatus::Conflict
        }
    }

    /// "Use here": this page takes the session over from whichever window held it.
    pub fn take_over(&mut self, page_id: &str) -> PageStatus {
        let status = self.page_status(page_id);
        if !matches!(status, PageStatus::Active | PageStatus::Conflict) {
            return status;
        }
        let device = self.pages.get(page_id).map(|p| p.device.clone());
        if let Some(device) = device.and_then(|d| self.devices.get_mut(&d)) {
            device.holder = Holder::Page(page_id.to_owned());
        }
        PageStatus::Active
    }

    fn page_account(&self, page_id: &str) -> Option<(String, String, u64)> {
        let page = self.pages.get(page_id)?;
        let device = self.devices.get(&page.device)?;
        Some((device.account.clone(), device.id.clone(), page.generation))
    }

    // ----- chats and sending ----------------------------------------------------------------------------

    /// Whether a phone (digits) can receive messages.
    pub fn is_on_whatsapp(&self, phone: &str) -> bool {
        normalise_phone(phone).is_some_and(|p| !self.not_on_whatsapp.contains(&p))
    }

    /// The chat list of the page's account: every recipient it has messaged, newest last message first.
    pub fn chats(&self, page_id: &str) -> Vec<ChatSummary> {
        let Some((account, _, _)) = self.page_account(page_id) else {
            return Vec::new();
        };
        let mut latest: BTreeMap<&str, (usize, &str)> = BTreeMap::new();
        for (index, stored) in self.messages.iter().enumerate() {
            let d = &stored.delivery;
            if d.account == account {
                latest.insert(&d.to, (index, &d.text));
            }
        }
        let mut rows: Vec<(usize, ChatSummary)> = latest
            .into_iter()
            .map(|(phone, (index, text))| {
                (index, ChatSummary { phone: phone.to_owned(), last_text: text.to_owned() })
            })
            .collect();
        rows.sort_by_key(|row| std::cmp::Reverse(row.0));
        rows.into_iter().map(|(_, row)| row).collect()
    }

    /// Earlier outgoing messages of the page's account to `phone`, oldest first.
    pub fn history(&self, page_id: &str, phone: &str, now: Instant) -> Vec<HistoryMessage> {
        let Some((account, _, _)) = self.page_account(page_id) else {
            return Vec::new();
        };
        self.messages
            .iter()
            .filter(|s| s.delivery.account == account && s.delivery.to == phone)
            .map(|s| HistoryMessage {
                id: s.delivery.id.clone(),
                text: s.delivery.text.clone(),
                status: if now >= s.delivered_at { "delivered" } else { "sent" },
                unix_ms: s.delivery.unix_ms,
            })
            .collect()
    }

    /// The page sends `text` to `to` under message id `id`; a repeated id is acknowledged, not redelivered.
    pub fn send(
        &mut self,
        page_id: &str,
        to: &str,
        text: &str,
        id: &str,
        now: Instant,
    ) -> Result<SendAccepted, SendRefusal> {
        match self.page_status(page_id) {
            PageStatus::Active => {}
            PageStatus::Conflict => return Err(SendRefusal::Conflict),
            other => return Err(SendRefusal::LoggedOut(other)),
        }
        let Some(phone) = normalise_phone(to).filter(|p| !self.not_on_whatsapp.contains(p)) else {
            return Err(SendRefusal::NotOnWhatsApp);
        };
        if text.trim().is_empty() {
            return Err(SendRefusal::Empty);
        }
        let Some((account, device, generation)) = self.page_account(page_id) else {
            return Err(SendRefusal::LoggedOut(PageStatus::Unknown));
        };
        let id = if !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric()) {
            id.to_owned()
        } else {
            random_id("msg")
        };
        if self.messages.iter().any(|s| s.delivery.id == id && s.delivery.device == device) {
            return Ok(SendAccepted { id, fault: None, delivered: true });
        }
        let mut fault = self.take_fault(Fault::is_send_fault);
        if fault.is_none() && self.never_ack {
            fault = Some(Fault::NoAck);
        }
        if fault == Some(Fault::DropBeforeDelivery) {
            return Ok(SendAccepted { id, fault, delivered: false });
        }
        self.messages.push(Stored {
            delivery: Delivery {
                id: id.clone(),
                account,
                device,
                generation,
                to: phone,
                text: text.to_owned(),
                clock_ms: millis(self.clock),
                unix_ms: unix_ms_now(),
            },
            delivered_at: now + self.latency.server_ack + self.latency.delivery,
        });
        Ok(SendAccepted { id, fault, delivered: true })
    }

    /// When the delivery receipt of message `id` (sent from `page_id`'s account) is due.
    pub fn delivered_at(&self, page_id: &str, id: &str) -> Option<Instant> {
        let (account, _, _) = self.page_account(page_id)?;
        self.messages
            .iter()
            .find(|s| s.delivery.id == id && s.delivery.account == account)
            .map(|s| s.delivered_at)
    }

    // ----- admin: sessions ------------------------------------------------------------------------------

    fn account_devices(&mut self, account: &str) -> Result<Vec<&mut Device>, SimError> {
        let devices: Vec<&mut Device> = self.devices.values_mut().filter(|d| d.account == account).collect();
        if devices.is_empty() {
            return Err(SimError::UnknownAccount(account.to_owned()));
        }
        Ok(devices)
    }

    /// The phone logs every device of `account` out; returns how many.
    pub fn revoke(&mut self, account: &str) -> Result<usize, SimError> {
        let devices = self.account_devices(account)?;
        let count = devices.len();
        for device in devices {
            device.revoked = true;
        }
        Ok(count)
    }

    /// Refuse every generation newer than `k` of the account's devices (generations issued later are fine).
    pub fn damage_after_generation(&mut self, account: &str, k: u64) -> Result<usize, SimError> {
        let mut refused = 0;
        for device in self.account_devices(account)? {
            for (_, generation) in device.generations.range_mut(k.saturating_add(1)..) {
                if generation.state == GenState::Valid {
                    generation.state = GenState::Rejected;
                    refused += 1;
                }
            }
        }
        Ok(refused)
    }

    /// Make the newest stored keys of the account's devices unreadable (a torn write): an older
    /// generation still opens.
    pub fn corrupt_stored_keys(&mut self, account: &str) -> Result<usize, SimError> {
        let mut refused = 0;
        for device in self.account_devices(account)? {
            let latest = device.latest;
            if let Some(generation) = device.generations.get_mut(&latest) {
                generation.state = GenState::Unreadable;
                refused += 1;
            }
        }
        Ok(refused)
    }

    /// Another window (not one of the simulator's pages) takes the session of `account`.
    pub fn conflict(&mut self, account: &str) -> Result<usize, SimError> {
        let devices = self.account_devices(account)?;
        let count = devices.len();
        for device in devices {
            device.holder = Holder::Elsewhere;
        }
        Ok(count)
    }

    /// Ban (or unban) an account.
    pub fn set_banned(&mut self, account: &str, banned: bool) -> Result<(), SimError> {
        if account.trim().is_empty() {
            return Err(SimError::BadRequest("account is empty".to_owned()));
        }
        if banned {
            self.banned.insert(account.to_owned());
        } else {
            self.banned.remove(account);
        }
        Ok(())
    }

    /// Every linked device, for tests and the admin API.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.devices
            .values()
            .map(|d| SessionInfo {
                device: d.id.clone(),
                account: d.account.clone(),
                latest_generation: d.latest,
                refused_generations: d
                    .generations
                    .iter()
                    .filter(|(_, g)| g.state != GenState::Valid)
                    .map(|(k, _)| *k)
                    .collect(),
                revoked: d.revoked,
                expired: self.is_idle_expired(d),
                banned: self.banned.contains(&d.account),
                held_elsewhere: d.holder == Holder::Elsewhere,
                last_used_ms: millis(d.last_used),
            })
            .collect()
    }

    // ----- admin: clock, numbers, faults, latency -------------------------------------------------------

    /// Move the admin clock forward; returns the new time.
    pub fn advance_clock(&mut self, by: Duration) -> Duration {
        self.clock = self.clock.saturating_add(by);
        self.clock
    }

    /// The admin clock.
    pub fn clock(&self) -> Duration {
        self.clock
    }

    /// A number that is not on WhatsApp: opening its chat shows the invalid-number popup.
    pub fn mark_not_on_whatsapp(&mut self, phone: &str) -> Result<String, SimError> {
        let digits = normalise_phone(phone)
            .ok_or_else(|| SimError::BadRequest(format!("{phone:?} is not a phone number")))?;
        self.not_on_whatsapp.insert(digits.clone());
        Ok(digits)
    }

    /// Queue a fault for the next matching request.
    pub fn fail_next(&mut self, fault: Fault) -> Result<(), SimError> {
        fault.check()?;
        self.faults.push(fault);
        Ok(())
    }

    /// Take the oldest queued fault that `matches`.
    pub fn take_fault(&mut self, matches: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let index = self.faults.iter().position(matches)?;
        Some(self.faults.remove(index))
    }

    /// Faults still queued.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.faults.clone()
    }

    /// Acknowledge no send at all from now on (or again).
    pub fn set_never_ack(&mut self, never: bool) {
        self.never_ack = never;
    }

    /// Show every page the "outdated" screen (or stop).
    pub fn set_outdated(&mut self, outdated: bool) {
        self.outdated = outdated;
    }

    /// Whether pages show the outdated screen.
    pub fn outdated(&self) -> bool {
        self.outdated
    }

    /// Replace the added delays.
    pub fn set_latency(&mut self, latency: Latency) {
        self.latency = latency;
    }

    /// The added delays.
    pub fn latency(&self) -> Latency {
        self.latency
    }

    /// Every delivered message, in delivery order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.messages.iter().map(|s| s.delivery.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn world() -> World {
        let config = SimConfig {
            qr_rotation: Duration::from_secs(20),
            qr_codes_before_idle: 3,
            idle_expiry: Duration::from_secs(100),
            ..SimConfig::for_tests()
        };
        World::new(&config)
    }

    fn linked(world: &mut World, account: &str, now: Instant) -> Credential {
        let attempt = world.start_attempt(now);
        world.link(account, None, now).unwrap();
        match world.poll_attempt(&attempt.attempt, now) {
            AttemptView::Linked { credential } => credential,
            other => panic!("expected linked, got {other:?}"),
        }
    }

    fn page_of(outcome: AuthOutcome) -> (String, Credential) {
        match outcome {
            AuthOutcome::Ok { page, next: Some(next), .. } => (page, next),
            other => panic!("expected ok, got {other:?}"),
        }
    }

    #[test]
    fn qr_rotates_then_goes_idle_after_the_configured_number_of_codes() {
        let mut world = world();
        let t0 = Instant::now();
        let attempt = world.start_attempt(t0);
        let AttemptView::Waiting { qr: second } =
            world.poll_attempt(&attempt.attempt, t0 + Duration::from_secs(21))
        else {
            panic!("expected a waiting QR")
        };
        assert_ne!(second, attempt.qr);
        let AttemptView::Waiting { qr: third } =
            world.poll_attempt(&attempt.attempt, t0 + Duration::from_secs(41))
        else {
            panic!("expected a waiting QR")
        };
        assert_eq!(world.poll_attempt(&attempt.attempt, t0 + Duration::from_secs(61)), AttemptView::Idle);
        let late = t0 + Duration::from_secs(61);
        assert_eq!(world.link("acct", Some(&second), late), Err(SimError::UnknownQr));
        assert_eq!(world.link("acct", Some(&third), late), Err(SimError::QrIdle));
        assert_eq!(world.link("acct", None, late), Err(SimError::NoQrShown));
    }

    #[test]
    fn key_halves_must_both_match() {
        let mut world = world();
        let credential = linked(&mut world, "acct", Instant::now());
        let outcome = world.authenticate(&credential.device, 1, &credential.key_a, "wrong");
        assert_eq!(outcome, AuthOutcome::Unreadable);
        let outcome = world.authenticate(&credential.device, 1, &credential.key_a, &credential.key_b);
        assert!(matches!(outcome, AuthOutcome::Ok { .. }));
    }

    #[test]
    fn damage_refuses_newer_generations_but_an_older_one_still_opens_and_rotates() {
        let mut world = world();
        let g1 = linked(&mut world, "acct", Instant::now());
        let (_, g2) = page_of(world.authenticate(&g1.device, 1, &g1.key_a, &g1.key_b));
        let (_, g3) = page_of(world.authenticate(&g2.device, 2, &g2.key_a, &g2.key_b));
        assert_eq!(world.damage_after_generation("acct", 2).unwrap(), 1);
        assert_eq!(world.authenticate(&g3.device, 3, &g3.key_a, &g3.key_b), AuthOutcome::Rejected);
        let (_, g4) = page_of(world.authenticate(&g2.device, 2, &g2.key_a, &g2.key_b));
        assert_eq!(g4.generation, 4);
        assert!(matches!(world.authenticate(&g4.device, 4, &g4.key_a, &g4.key_b), AuthOutcome::Ok { .. }));
    }

    #[test]
    fn corrupted_keys_refuse_the_newest_generation_only() {
        let mut world = world();
        let g1 = linked(&mut world, "acct", Instant::now());
        let (_, g2) = page_of(world.authenticate(&g1.device, 1, &g1.key_a, &g1.key_b));
        assert_eq!(world.corrupt_stored_keys("acct").unwrap(), 1);
        assert_eq!(world.authenticate(&g2.device, 2, &g2.key_a, &g2.key_b), AuthOutcome::Unreadable);
        assert!(matches!(world.authenticate(&g1.device, 1, &g1.key_a, &g1.key_b), AuthOutcome::Ok { .. }));
        assert_eq!(world.sessions()[0].refused_generations, [2]);
    }

    #[test]
    fn a_revoked_device_stays_revoked_for_every_generation() {
        let mut world = world();
        let g1 = linked(&mut world, "acct", Instant::now());
        assert_eq!(world.revoke("acct").unwrap(), 1);
        assert_eq!(world.authenticate(&g1.device, 1, &g1.key_a, &g1.key_b), AuthOutcome::Revoked);
        assert_eq!(world.revoke("nobody"), Err(SimError::UnknownAccount("nobody".to_owned())));
    }

    #[test]
    fn idle_expiry_follows_the_admin_clock_and_no_generation_survives_it() {
        let mut world = world();
        let g1 = linked(&mut world, "acct", Instant::now());
        world.advance_clock(Duration::from_secs(101));
        assert_eq!(world.authenticate(&g1.device, 1, &g1.key_a, &g1.key_b), AuthOutcome::Expired);
    }

    #[test]
    fn a_newer_page_takes_the_session_and_use_here_takes_it_back() {
        let mut world = world();
        let g1 = linked(&mut world, "acct", Instant::now());
        let (first, g2) = page_of(world.authenticate(&g1.device, 1, &g1.key_a, &g1.key_b));
        let (second, _) = page_of(world.authenticate(&g2.device, 2, &g2.key_a, &g2.key_b));
        assert_eq!(world.page_status(&first), PageStatus::Conflict);
        assert_eq!(world.page_status(&second), PageStatus::Active);
        assert_eq!(world.take_over(&first), PageStatus::Active);
        assert_eq!(world.page_status(&second), PageStatus::Conflict);
    }

    #[test]
    fn a_resent_message_id_is_not_a_second_delivery() {
        let mut world = world();
        let now = Instant::now();
        let g1 = linked(&mut world, "acct", now);
        let (page, _) = page_of(world.authenticate(&g1.device, 1, &g1.key_a, &g1.key_b));
        world.send(&page, "15550001111", "hi", "abc", now).unwrap();
        world.send(&page, "15550001111", "hi", "abc", now).unwrap();
        assert_eq!(world.deliveries().len(), 1);
        world.mark_not_on_whatsapp("+1 555 000 2222").unwrap();
        assert_eq!(world.send(&page, "15550002222", "hi", "abd", now), Err(SendRefusal::NotOnWhatsApp));
    }

    #[test]
    fn a_send_dropped_before_delivery_records_nothing() {
        let mut world = world();
        let now = Instant::now();
        let g1 = linked(&mut world, "acct", now);
        let (page, _) = page_of(world.authenticate(&g1.device, 1, &g1.key_a, &g1.key_b));
        world.fail_next(Fault::DropBeforeDelivery).unwrap();
        let accepted = world.send(&page, "15550001111", "hi", "abc", now).unwrap();
        assert!(!accepted.delivered);
        assert!(world.deliveries().is_empty());
    }
}
