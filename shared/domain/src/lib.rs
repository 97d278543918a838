//! Domain types of wacamp: identifiers, phone numbers, message templates, the message and
//! campaign state machines and the error codes shared by the API, the CLI and the logs.
//!
//! Constructors parse and refuse bad input, so the rest of the code never re-checks. Nothing
//! here knows about AWS or a browser.

mod codes;
mod ids;
mod phone;
mod status;
mod template;

pub use codes::ErrorCode;
pub use ids::{AccountId, CampaignId, IdError, MessageSeq};
pub use phone::{PhoneError, PhoneNumber};
pub use status::{CampaignStatus, MessageStatus, SessionState, UnknownStatus};
pub use template::{Template, TemplateError, Vars};
