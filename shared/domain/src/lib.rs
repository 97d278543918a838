//! Domain types of wacamp: identifiers, phone numbers, message templates, the message and
//! campaign state machines and the error codes shared by the API, the CLI and the logs.
//!
//! Constructors parse and refuse bad input, so the rest of the code never re-checks. Nothing
//! here knows about AWS or a browser; time comes from an injected [`Clock`].

pub mod clock;
mod codes;
mod ids;
pub mod lifecycle;
pub mod media;
mod phone;
mod receipt;
mod record;
mod send_at;
pub mod sending_window;
pub mod session_age;
mod status;
mod template;
mod warm_up;
mod webhook_url;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock, rfc3339, system_clock};
pub use codes::ErrorCode;
pub use ids::{AccountId, CampaignId, IdError, MessageSeq};
pub use lifecycle::Counters;
pub use media::{ContentHash, Media, MediaId, MediaKind, MediaType};
pub use phone::{PhoneError, PhoneNumber};
pub use receipt::{Receipt, WaMessageId};
pub use record::QueuedMessage;
pub use send_at::{MAX_AHEAD_DAYS, SendAt, SendAtError};
pub use sending_window::{RecipientZones, SendingWindow, TimeZoneName, WindowError};
pub use session_age::Freshness;
pub use status::{CampaignStatus, MessageStatus, SessionHealth, UnknownStatus};
pub use template::{Template, TemplateError, Vars};
pub use warm_up::{RampDay, WarmUp, WarmUpError};
pub use webhook_url::{MAX_WEBHOOK_URL, WebhookUrl, WebhookUrlError};
