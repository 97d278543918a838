//! The simulated WhatsApp server side: QR logins, linked devices and their credential generations, open
//! pages, the admin clock, injected faults and the record of delivered messages.
//!
//! Pure state with no I/O: the HTTP layer (the page API and the admin API) locks it, calls one method
//! and acts on the answer. Wall-clock instants (QR rotation, acknowledgement timing) are parameters so the
//! unit tests below can drive them; session expiry uses only the admin clock.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::config::{Latency, MediaLimits, SimConfig};

mod auth;
mod chats;
mod knobs;
mod media;
mod qr;
mod sessions;
mod views;

/// How many QR attempts the server remembers; older ones are forgotten.
const MAX_ATTEMPTS: usize = 64;
/// A QR attempt whose page stopped polling for this long is no longer "on screen".
const ATTEMPT_LIVENESS: Duration = Duration::from_secs(5);

pub use media::{MediaDelivery, MediaKind, MediaUpload};
pub use views::*;

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
    /// When the recipient reads it (never while unset).
    read_at: Option<Instant>,
    /// A receipt the page shows from now on whatever the timing says (an out-of-order or repeated one).
    shown: Option<Ack>,
}

/// The acknowledgement a page shows on an outgoing message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ack {
    /// One check: the server has it.
    Sent,
    /// Two checks: it reached the recipient's phone.
    Delivered,
    /// Two blue checks: the recipient opened it.
    Read,
}

impl Ack {
    /// The name the page script uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
        }
    }
}

/// The whole simulated server state.
#[derive(Debug)]
pub struct World {
    qr_rotation: Duration,
    qr_codes_before_idle: u32,
    idle_expiry: Duration,
    phone_offline_expiry: Duration,
    rotate_credentials: bool,
    key_window: u64,
    links_ready_after: Duration,
    latency: Latency,
    clock: Duration,
    attempts: Vec<Attempt>,
    devices: BTreeMap<String, Device>,
    banned: BTreeSet<String>,
    phones_offline: BTreeMap<String, Duration>,
    pages: HashMap<String, Page>,
    not_on_whatsapp: BTreeSet<String>,
    messages: Vec<Stored>,
    faults: Vec<Fault>,
    never_ack: bool,
    /// Recipients read a message this long after it reached them (never when unset).
    read_after: Option<Duration>,
    /// Recipients (digits) who turned read receipts off: their reads never show.
    read_receipts_off: BTreeSet<String>,
    outdated: bool,
    unreachable: bool,
    /// The largest image and document an upload may carry.
    media_limits: MediaLimits,
    /// Bytes of every picture sent, by SHA-256 (a campaign sending one picture keeps it once).
    media_files: HashMap<String, Arc<[u8]>>,
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
            phone_offline_expiry: config.phone_offline_expiry,
            rotate_credentials: config.rotate_credentials,
            key_window: config.key_window,
            links_ready_after: config.links_ready_after,
            latency: config.latency,
            clock: Duration::ZERO,
            attempts: Vec::new(),
            devices: BTreeMap::new(),
            banned: BTreeSet::new(),
            phones_offline: BTreeMap::new(),
            pages: HashMap::new(),
            not_on_whatsapp: BTreeSet::new(),
            messages: Vec::new(),
            faults: Vec::new(),
            never_ack: false,
            read_after: None,
            read_receipts_off: BTreeSet::new(),
            outdated: false,
            unreachable: false,
            media_limits: config.media_limits,
            media_files: HashMap::new(),
        }
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
    fn with_a_key_window_of_three_a_backup_four_loads_old_no_longer_logs_in() {
        let mut world = world();
        world.set_key_window(3);
        let g1 = linked(&mut world, "acct", Instant::now());
        let (_, g2) = page_of(world.authenticate(&g1.device, 1, &g1.key_a, &g1.key_b));
        let (_, g3) = page_of(world.authenticate(&g2.device, 2, &g2.key_a, &g2.key_b));
        let (_, g4) = page_of(world.authenticate(&g3.device, 3, &g3.key_a, &g3.key_b));
        // Newest is 4: versions 2, 3 and 4 log in, 1 is refused as a damaged one is.
        assert_eq!(world.authenticate(&g1.device, 1, &g1.key_a, &g1.key_b), AuthOutcome::Rejected);
        assert!(matches!(world.authenticate(&g2.device, 2, &g2.key_a, &g2.key_b), AuthOutcome::Ok { .. }));
        // That load rewrote the keys again (5): version 2 is now outside, 3 still inside.
        assert_eq!(world.authenticate(&g2.device, 2, &g2.key_a, &g2.key_b), AuthOutcome::Rejected);
        assert!(matches!(world.authenticate(&g3.device, 3, &g3.key_a, &g3.key_b), AuthOutcome::Ok { .. }));
        assert_eq!(g4.generation, 4);
    }

    #[test]
    fn a_phone_offline_past_its_expiry_logs_the_devices_out_and_one_back_in_time_does_not() {
        let config = SimConfig {
            idle_expiry: Duration::from_secs(1000),
            phone_offline_expiry: Duration::from_secs(100),
            ..SimConfig::for_tests()
        };
        let mut world = World::new(&config);
        let g1 = linked(&mut world, "acct", Instant::now());
        world.set_phone_online("acct", false).unwrap();
        world.advance_clock(Duration::from_secs(90));
        let (_, g2) = page_of(world.authenticate(&g1.device, 1, &g1.key_a, &g1.key_b));
        // Use does not help while the phone stays away.
        world.advance_clock(Duration::from_secs(11));
        assert_eq!(world.authenticate(&g2.device, 2, &g2.key_a, &g2.key_b), AuthOutcome::Expired);
        assert!(world.sessions()[0].expired);
        let mut world = World::new(&config);
        let g1 = linked(&mut world, "acct", Instant::now());
        world.set_phone_online("acct", false).unwrap();
        world.advance_clock(Duration::from_secs(90));
        world.set_phone_online("acct", true).unwrap();
        world.advance_clock(Duration::from_secs(90));
        assert!(matches!(world.authenticate(&g1.device, 1, &g1.key_a, &g1.key_b), AuthOutcome::Ok { .. }));
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
