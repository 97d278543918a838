//! Moving a whole campaign on behalf of an operator: starting a scheduled one, resuming it (its paused rows, and with
//! `retry_failed` its retryable failures, queued again; rows still QUEUED given their record
//! again), and resuming by themselves the campaigns of an account that paused because its
//! session stopped working, once it works again (after `wacamp setup`, or a keeper run that finds
//! it READY). Used by the HTTP API's resume route, the CLI and the session keeper, so there is
//! one resume.
//!
//! - [`pages`]: walking a campaign's rows in one status, a store page at a time.
//! - [`resume`]: one campaign.
//! - [`release`]: starting a scheduled campaign, at its time or at once.
//! - [`after_link`]: an account's campaigns paused for a session reason.

pub mod after_link;
pub mod pages;
pub mod release;
pub mod resume;

pub use after_link::{Resumed as ResumedAfterLink, resume_after_link};
pub use pages::{PAGE, Pages, requeue_queued};
pub use release::{Released, When, release};
pub use resume::{ResumeError, Resumed, resume};

use campaign_store::CampaignStore;
use domain::SharedClock;
use message_queue::MessageQueue;
use std::sync::Arc;

/// What moving a campaign needs.
#[derive(Clone)]
pub struct Control {
    /// Campaign rows.
    pub store: Arc<dyn CampaignStore>,
    /// The sender's queue.
    pub queue: Arc<dyn MessageQueue>,
    /// The current time.
    pub clock: SharedClock,
}

impl Control {
    /// The deployed wiring: the campaign table in DynamoDB and the sender's SQS queue.
    pub fn on_aws(
        dynamo: aws_sdk_dynamodb::Client,
        sqs: aws_sdk_sqs::Client,
        table: impl Into<String>,
        queue_url: impl Into<String>,
        clock: SharedClock,
    ) -> Self {
        Self {
            store: Arc::new(campaign_store::DynamoCampaignStore::new(dynamo, table.into())),
            queue: Arc::new(message_queue::SqsMessageQueue::new(sqs, queue_url.into())),
            clock,
        }
    }

    /// Now, RFC 3339.
    pub(crate) fn now(&self) -> String {
        domain::rfc3339(self.clock.now())
    }
}
