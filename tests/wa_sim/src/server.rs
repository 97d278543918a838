//! Starting and stopping a simulator, and the Rust handle tests drive it with.
//!
//! The server runs on its own thread with its own small tokio runtime, so synchronous tests (headless
//! Chromium is driven through a blocking API) and async callers use it the same way; every admin method on
//! [`SimHandle`] is synchronous and takes effect before it returns.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::config::{Latency, MediaLimits, SimConfig};
use crate::delays::{FixedDelays, Step};
use crate::selectors::{Css, Selectors};
use crate::world::{Delivery, Fault, LinkedDevice, QrInfo, SessionInfo, SimError, World};

/// The longest a hung request waits for `release_hangs` before it gives up on its own.
const MAX_HANG: Duration = Duration::from_secs(600);
/// How long shutdown lets open requests finish before the runtime is dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(300);

/// Timings the page needs, fixed for the life of a simulator.
#[derive(Debug, Clone)]
pub(crate) struct PageSettings {
    pub(crate) selectors: Selectors,
    pub(crate) sync: Duration,
    pub(crate) status_poll: Duration,
    pub(crate) qr_poll: Duration,
    pub(crate) media_limits: MediaLimits,
}

/// State shared by the HTTP handlers and the handle.
#[derive(Debug)]
pub(crate) struct Shared {
    world: Mutex<World>,
    delays: Mutex<FixedDelays>,
    pub(crate) page: PageSettings,
    release: watch::Sender<u64>,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    fn new(config: &SimConfig) -> Self {
        Self {
            world: Mutex::new(World::new(config)),
            delays: Mutex::new(FixedDelays::default()),
            page: PageSettings {
                selectors: config.selectors.clone(),
                sync: config.sync_duration,
                status_poll: config.status_poll,
                qr_poll: config.qr_poll,
                media_limits: config.media_limits,
            },
            release: watch::channel(0).0,
            shutdown: watch::channel(false).0,
        }
    }

    /// Locks the world; a panic in another holder does not make the state unusable for the rest of a test.
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Tallies one fixed delay spent on the page's way to a sent message.
    pub(crate) fn spent(&self, step: Step, delay: Duration) {
        self.delays.lock().unwrap_or_else(PoisonError::into_inner).add(step, delay);
    }

    /// The fixed delays spent so far.
    pub(crate) fn delays(&self) -> FixedDelays {
        *self.delays.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until the admin releases hung requests, the server shuts down, or [`MAX_HANG`] passes.
    pub(crate) async fn hang(&self) {
        let mut release = self.release.subscribe();
        let mut shutdown = self.shutdown.subscribe();
        if *shutdown.borrow() {
            return;
        }
        tokio::select! {
            _ = release.changed() => {}
            _ = shutdown.wait_for(|stopping| *stopping) => {}
            () = tokio::time::sleep(MAX_HANG) => {}
        }
    }

    pub(crate) fn release_hangs(&self) {
        self.release.send_modify(|epoch| *epoch += 1);
    }

    pub(crate) fn link(&self, account: &str, qr: Option<&str>) -> Result<LinkedDevice, SimError> {
        self.world().link(account, qr, Instant::now())
    }

    pub(crate) fn current_qr(&self) -> Option<QrInfo> {
        self.world().current_qr(Instant::now())
    }
}

/// Entry point: starts a simulator.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Starts a simulator on 127.0.0.1:`config.port` (0 = any free port) and returns once it accepts
    /// connections.
    ///
    /// Blocks the calling thread for the bind only (milliseconds); the server itself runs on its own
    /// thread until [`SimHandle::shutdown`] or drop. The socket uses `SO_REUSEADDR`, so a test can stop a
    /// simulator and start the next one on the same port (same origin, same browser storage).
    pub fn start(config: SimConfig) -> std::io::Result<SimHandle> {
        let shared = Arc::new(Shared::new(&config));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread_shared = Arc::clone(&shared);
        let port = config.port;
        let thread = std::thread::Builder::new()
            .name("wa-sim".to_owned())
            .spawn(move || serve(thread_shared, port, ready_tx))?;
        match ready_rx.recv() {
            Ok(Ok(addr)) => {
                tracing::info!(%addr, "wa_sim listening");
                Ok(SimHandle { shared, addr, thread: Some(thread) })
            }
            Ok(Err(error)) => {
                let _ = thread.join();
                Err(error)
            }
            Err(_) => Err(std::io::Error::other("the simulator thread stopped before binding")),
        }
    }
}

fn bind(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))?;
    socket.listen(1024)
}

fn serve(shared: Arc<Shared>, port: u16, ready: std::sync::mpsc::Sender<std::io::Result<SocketAddr>>) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("wa-sim-worker")
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = ready.send(Err(error));
            return;
        }
    };
    runtime.block_on(async move {
        let listener = match bind(port).and_then(|l| l.local_addr().map(|a| (l, a))) {
            Ok((listener, addr)) => {
                let _ = ready.send(Ok(addr));
                listener
            }
            Err(error) => {
                let _ = ready.send(Err(error));
                return;
            }
        };
        let app = crate::app::router(Arc::clone(&shared)).merge(crate::admin::router(Arc::clone(&shared)));
        let mut graceful = shared.shutdown.subscribe();
        let mut deadline = shared.shutdown.subscribe();
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = graceful.wait_for(|stopping| *stopping).await;
        });
        tokio::select! {
            result = server => {
                if let Err(error) = result {
                    tracing::warn!(%error, "wa_sim server stopped");
                }
            }
            () = async move {
                let _ = deadline.wait_for(|stopping| *stopping).await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => {}
        }
    });
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
}

/// A running simulator: its address, the admin operations and shutdown. Dropping it shuts it down.
#[derive(Debug)]
pub struct SimHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl SimHandle {
    /// `http://127.0.0.1:<port>`: the origin pages are served from (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound port, to restart a simulator on the same origin.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The URL that opens a chat with the composer filled, as `https://web.whatsapp.com/send` does.
    pub fn send_url(&self, phone: &str, text: &str) -> String {
        format!("{}/send?phone={}&text={}", self.base_url(), percent_encode(phone), percent_encode(text))
    }

    /// The selectors this instance renders (defaults unless the config overrode some).
    pub fn selectors(&self) -> &Selectors {
        &self.shared.page.selectors
    }

    /// The driver-facing CSS of this instance.
    pub fn css(&self) -> Css {
        self.shared.page.selectors.css()
    }

    /// The QR code on screen now (the newest page still polling), as a phone camera would see it.
    pub fn current_qr(&self) -> Option<QrInfo> {
        self.shared.current_qr()
    }

    /// The phone scans the QR code on screen and links a new device for `account`.
    pub fn link_current_qr(&self, account: &str) -> Result<LinkedDevice, SimError> {
        self.shared.link(account, None)
    }

    /// The phone scans this exact QR payload (read from `data-ref`) and links a device for `account`.
    pub fn link_qr(&self, qr: &str, account: &str) -> Result<LinkedDevice, SimError> {
        self.shared.link(account, Some(qr))
    }

    /// The phone logs out every device of `account`: no backup can bring it back.
    pub fn revoke(&self, account: &str) -> Result<usize, SimError> {
        self.shared.world().revoke(account)
    }

    /// Moves the admin clock (idle expiry is measured on it, never on wall time); returns the new time.
    pub fn advance_clock(&self, by: Duration) -> Duration {
        self.shared.world().advance_clock(by)
    }

    /// The admin clock.
    pub fn clock(&self) -> Duration {
        self.shared.world().clock()
    }

    /// The server refuses every credential generation after `k` of `account`'s devices, as after damage;
    /// a profile backup holding generation `k` or older still logs in. Returns how many were refused.
    pub fn damage_after_generation(&self, account: &str, k: u64) -> Result<usize, SimError> {
        self.shared.world().damage_after_generation(account, k)
    }

    /// The keys the account's browsers hold now (the newest generation) become unreadable.
    pub fn corrupt_stored_keys(&self, account: &str) -> Result<usize, SimError> {
        self.shared.world().corrupt_stored_keys(account)
    }

    /// The newest credential generation issued to `account` (highest over its devices).
    pub fn latest_generation(&self, account: &str) -> Option<u64> {
        self.sessions().iter().filter(|s| s.account == account).map(|s| s.latest_generation).max()
    }

    /// Every linked device and its state.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.shared.world().sessions()
    }

    /// Opening a chat with `phone` shows "Phone number shared via url is invalid." and sends nothing.
    pub fn mark_not_on_whatsapp(&self, phone: &str) -> Result<String, SimError> {
        self.shared.world().mark_not_on_whatsapp(phone)
    }

    /// Replaces the delays added to page loads, API calls and acknowledgements.
    pub fn set_latency(&self, latency: Latency) {
        self.shared.world().set_latency(latency);
    }

    /// The delays in force.
    pub fn latency(&self) -> Latency {
        self.shared.world().latency()
    }

    /// The fixed delays spent so far on the page's way to sent messages (page loads, API calls,
    /// acknowledgements, syncs): between two readings, the floor of what was measured.
    pub fn fixed_delays(&self) -> FixedDelays {
        self.shared.delays()
    }

    /// The next app page load never answers (until [`SimHandle::release_hangs`] or shutdown).
    pub fn hang_next_load(&self) {
        // HangLoad always passes Fault::check.
        let _ = self.shared.world().fail_next(Fault::HangLoad);
    }

    /// Lets every hung request (hung load, unacknowledged send) finish.
    pub fn release_hangs(&self) {
        self.shared.release_hangs();
    }

    /// Queues a fault for the next request it applies to.
    pub fn fail_next(&self, fault: Fault) -> Result<(), SimError> {
        self.shared.world().fail_next(fault)
    }

    /// Faults queued and not yet played.
    pub fn pending_faults(&self) -> Vec<Fault> {
        self.shared.world().pending_faults()
    }

    /// From now on no send is acknowledged (messages are still delivered), until called with `false`.
    pub fn set_never_ack(&self, never: bool) {
        self.shared.world().set_never_ack(never);
    }

    /// Another window takes `account`'s session: open pages show "Use here", and so do new loads until
    /// one of them clicks it.
    pub fn conflict(&self, account: &str) -> Result<usize, SimError> {
        self.shared.world().conflict(account)
    }

    /// Bans `account`: its pages show the banned screen.
    pub fn ban(&self, account: &str) -> Result<(), SimError> {
        self.shared.world().set_banned(account, true)
    }

    /// Lifts a ban.
    pub fn unban(&self, account: &str) -> Result<(), SimError> {
        self.shared.world().set_banned(account, false)
    }

    /// Every page shows the "outdated" screen (or, with `false`, stops).
    pub fn set_outdated(&self, outdated: bool) {
        self.shared.world().set_outdated(outdated);
    }

    /// Every page load and API call answers 503 (WhatsApp Web unreachable), or, with `false`,
    /// stops.
    pub fn set_unreachable(&self, unreachable: bool) {
        self.shared.world().set_unreachable(unreachable);
    }

    /// Only each device's last `versions` key versions log in (0 = every one).
    pub fn set_key_window(&self, versions: u64) {
        self.shared.world().set_key_window(versions);
    }

    /// Pages loaded from now intercept in-app chat links only `after` their chat list shows.
    pub fn set_links_ready_after(&self, after: Duration) {
        self.shared.world().set_links_ready_after(after);
    }

    /// The phone of `account` goes offline (on the admin clock) or comes back.
    pub fn set_phone_online(&self, account: &str, online: bool) -> Result<(), SimError> {
        self.shared.world().set_phone_online(account, online)
    }

    /// Every message delivered so far, in order: what the recipients received.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.world().deliveries()
    }

    /// Records a message `account` sent to `phone` earlier, at Unix millisecond `unix_ms` (an
    /// earlier campaign's): it shows in that chat and counts as a delivery.
    pub fn record_earlier_message(
        &self,
        account: &str,
        phone: &str,
        text: &str,
        unix_ms: u64,
    ) -> Result<(), SimError> {
        self.shared.world().record_earlier(account, phone, text, unix_ms, Instant::now())
    }

    /// Recipients read each message sent from now on `after` it reached them (only when told, `None`).
    pub fn set_read_after(&self, after: Option<Duration>) {
        self.shared.world().set_read_after(after);
    }

    /// Recipient `phone` opens its chats now: what reached it shows read. Answers how many messages.
    pub fn read_chat(&self, phone: &str) -> Result<usize, SimError> {
        self.shared.world().read_chat(phone, Instant::now())
    }

    /// Recipient `phone` turns read receipts off (`false`) or on.
    pub fn set_read_receipts(&self, phone: &str, enabled: bool) -> Result<String, SimError> {
        self.shared.world().set_read_receipts(phone, enabled)
    }

    /// Message `id` shows `ack` from now on (a receipt out of order or twice).
    pub fn show_ack(&self, id: &str, ack: crate::world::Ack) -> Result<(), SimError> {
        self.shared.world().show_ack(id, ack)
    }

    /// The messages delivered to one phone (digits).
    pub fn deliveries_to(&self, phone: &str) -> Vec<Delivery> {
        self.deliveries().into_iter().filter(|d| d.to == phone).collect()
    }

    /// Stops the server and waits for its thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.shared.shutdown.send_replace(true);
        self.shared.release_hangs();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters are kept).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
