//! `GET /accounts/{account}/session`: what is known of an account's WhatsApp Web session.

use crate::Problem;
use domain::{AccountId, SessionHealth};
use serde::{Deserialize, Serialize};

/// The health body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionHealthBody {
    /// The account.
    pub account: AccountId,
    /// The state at the last check.
    pub state: SessionHealth,
    /// The generation senders restore first.
    pub current_generation: Option<String>,
    /// The pointer's version (0: never written).
    pub pointer_version: u64,
    /// RFC 3339.
    pub last_check: Option<String>,
    /// RFC 3339.
    pub last_backup: Option<String>,
    /// The latest login any generation made, RFC 3339.
    pub last_ready: Option<String>,
    /// When the device was linked, RFC 3339.
    pub linked_at: Option<String>,
    /// Seconds since the link.
    pub link_age_seconds: Option<u64>,
    /// Seconds since the last login.
    pub since_last_ready_seconds: Option<u64>,
    /// SESSION_STALE when the last login is old.
    pub warning: Option<Problem>,
    /// While the account is on the warm-up ramp: its day and today's cap.
    #[serde(default)]
    pub warm_up: Option<WarmUpDay>,
    /// The stored generations.
    pub generations: GenerationsSummary,
    /// What to run when the session is not ready.
    pub hint: Option<String>,
}

/// Where a newly linked account stands on the warm-up ramp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarmUpDay {
    /// Days since the link (0: the first 24 hours).
    pub day: u32,
    /// The most it sends today (the deployment's daily cap applies too, if lower).
    pub daily_cap: u32,
    /// When the ramp stops applying, RFC 3339.
    pub ends_at: String,
}

/// The stored generations, counted, with the newest and the oldest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationsSummary {
    /// How many are stored.
    pub count: u64,
    /// How many are marked bad.
    pub bad: u64,
    /// The newest.
    pub newest: Option<GenerationSummary>,
    /// The oldest.
    pub oldest: Option<GenerationSummary>,
}

/// One generation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationSummary {
    /// Its id.
    pub id: String,
    /// RFC 3339.
    pub created: String,
    /// VERIFIED, UNVERIFIED, ...
    pub state: String,
    /// Marked bad (it did not log in).
    pub bad: bool,
    /// Archive bytes.
    pub size: u64,
    /// Sealed with the profile key.
    pub encrypted: bool,
    /// The pointer names it.
    pub current: bool,
}
