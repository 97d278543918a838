//! How a simulator instance behaves: its port, its timings and its selectors.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::selectors::Selectors;

/// Everything a test or the demo can tune when it starts a simulator.
///
/// Defaults are close to the real WhatsApp Web (20 s QR rotation, 30 days idle expiry, 14 days
/// with the phone offline); tests start from
/// [`SimConfig::for_tests`], which keeps every delay tiny so nothing waits on wall time for long.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// TCP port on 127.0.0.1; `0` picks a free one. IndexedDB and localStorage are per origin *including the
    /// port*, so a test that restores a browser profile must reuse the same port.
    pub port: u16,
    /// How long one QR payload stays valid before the page shows the next one.
    pub qr_rotation: Duration,
    /// How many QR payloads the page shows before it goes idle behind "click to reload".
    pub qr_codes_before_idle: u32,
    /// How often the unpaired page asks whether its QR was scanned (and picks up a rotation).
    pub qr_poll: Duration,
    /// How long the loading/sync screen lasts after authentication.
    pub sync_duration: Duration,
    /// How often the loaded app asks the server for the session state (revoke, conflict, ban, expiry).
    pub status_poll: Duration,
    /// Admin-clock time without use after which the server expires a device (no backup can revive
    /// it): WhatsApp disconnects linked devices after 30 days without activity.
    pub idle_expiry: Duration,
    /// Admin-clock time with the account's phone offline after which its devices are logged out
    /// (WhatsApp's 14 days).
    pub phone_offline_expiry: Duration,
    /// Whether each successful load issues a new credential generation that the page stores.
    pub rotate_credentials: bool,
    /// How many of a device's newest key versions log in (0 = every one): with rotation, a
    /// profile backed up more than this many loads ago is refused.
    pub key_window: u64,
    /// How long after the chat list shows the app starts intercepting in-app chat links.
    pub links_ready_after: Duration,
    /// Delays added to page loads, API calls and acknowledgements; admin calls can change them later.
    pub latency: Latency,
    /// Ids and texts the pages render; change one to simulate a WhatsApp DOM change.
    pub selectors: Selectors,
    /// The largest files the attach flow takes (the page refuses bigger ones with a popup).
    pub media_limits: MediaLimits,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            port: 0,
            qr_rotation: Duration::from_secs(20),
            qr_codes_before_idle: 6,
            qr_poll: Duration::from_millis(500),
            sync_duration: Duration::from_millis(1500),
            status_poll: Duration::from_secs(1),
            idle_expiry: Duration::from_secs(30 * 24 * 3600),
            phone_offline_expiry: Duration::from_secs(14 * 24 * 3600),
            rotate_credentials: true,
            key_window: 0,
            links_ready_after: Duration::ZERO,
            latency: Latency {
                page_load: Duration::ZERO,
                api: Duration::ZERO,
                server_ack: Duration::from_millis(300),
                delivery: Duration::from_millis(700),
            },
            selectors: Selectors::default(),
            media_limits: MediaLimits::default(),
        }
    }
}

impl SimConfig {
    /// A configuration for automated tests: ephemeral port, tiny delays, real-length QR rotation.
    pub fn for_tests() -> Self {
        Self {
            qr_poll: Duration::from_millis(50),
            sync_duration: Duration::from_millis(200),
            status_poll: Duration::from_millis(100),
            latency: Latency {
                page_load: Duration::ZERO,
                api: Duration::ZERO,
                server_ack: Duration::from_millis(50),
                delivery: Duration::from_millis(50),
            },
            ..Self::default()
        }
    }

    /// A configuration for benchmarks: fixed, realistic-sized latencies and a one-second sync,
    /// so the ways being compared pay the same network and WhatsApp costs.
    pub fn for_benches() -> Self {
        Self {
            sync_duration: Duration::from_millis(1000),
            latency: Latency {
                page_load: Duration::from_millis(100),
                api: Duration::from_millis(20),
                server_ack: Duration::from_millis(100),
                delivery: Duration::from_millis(100),
            },
            ..Self::for_tests()
        }
    }

    /// The same configuration on another port (e.g. a fixed one chosen for a profile restore).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
}

/// The largest file each item of the attach menu takes, in bytes.
///
/// WhatsApp refuses a too-large file before the media editor opens; the page shows
/// [`Selectors::media_too_large_text`] and the server refuses an upload over the limit too (413).
/// Defaults: 16 MiB for an image ("Photos & videos", WhatsApp's photo limit) and 100 MiB for a
/// document (WhatsApp allows 2 GB; a test never needs more, and the upload is held in memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaLimits {
    /// Largest image sent through "Photos & videos".
    pub image_max_bytes: u64,
    /// Largest file sent through "Document".
    pub document_max_bytes: u64,
}

impl Default for MediaLimits {
    fn default() -> Self {
        Self { image_max_bytes: 16 * 1024 * 1024, document_max_bytes: 100 * 1024 * 1024 }
    }
}

impl MediaLimits {
    /// The larger of the two limits: what one upload may carry at most.
    pub fn largest(&self) -> u64 {
        self.image_max_bytes.max(self.document_max_bytes)
    }
}

/// Delays the server adds, to model a slow network or a slow WhatsApp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latency {
    /// Added before the app page (`/`, `/send`) answers.
    #[serde(with = "millis")]
    pub page_load: Duration,
    /// Added before every page API call (`/api/...`) answers.
    #[serde(with = "millis")]
    pub api: Duration,
    /// Time between a send and the server acknowledgement (one check).
    #[serde(with = "millis")]
    pub server_ack: Duration,
    /// Time between the server acknowledgement and the delivery receipt (two checks).
    #[serde(with = "millis")]
    pub delivery: Duration,
}

/// Serialises a [`Duration`] as whole milliseconds, the unit the admin JSON API speaks.
pub(crate) mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_millis)
    }
}
