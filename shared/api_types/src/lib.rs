//! The HTTP API's request and response bodies, as one set of types: the functions build their
//! answers from them, the CLI reads the answers into them, and the conformance tests check them
//! against `docs/openapi.yaml`. A field renamed here changes all three at once, and a field
//! renamed in one of them alone fails to compile.
//!
//! Fields that may be absent are `Option`s serialised as `null`, as the document declares them.
//! Nothing here knows about Lambda or AWS.

mod campaigns;
mod messages;
mod opt_outs;
mod problem;
mod session;
mod start;
mod windows;

pub use campaigns::{
    CampaignStatusBody, CampaignsPage, CancelResult, ResumeResult, ScheduleRequest, ScheduleResult,
};
pub use messages::{MessageItem, MessagesPage};
pub use opt_outs::OptOutState;
pub use problem::Problem;
pub use session::{GenerationSummary, GenerationsSummary, SessionHealthBody, WarmUpDay};
pub use start::{Accepted, CampaignRequest, InvalidRow, MediaUpload, MediaUploadRequest, RecipientRequest};
pub use windows::{SendingWindowBody, SendingWindowRequest};

/// The exit code of `wacamp status --watch` when the campaign paused (waiting for the operator):
/// its hint says what to run.
pub const EXIT_PAUSED: i32 = 3;
