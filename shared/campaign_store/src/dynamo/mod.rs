//! `CampaignStore` on the one DynamoDB table: batch writes for fan-out, conditional transactions
//! for every state change so counters never drift and retries stay safe.
//!
//! - [`codec`]: campaign and message rows to and from items.
//! - [`moves`]: carrying out the lifecycle's moves (`domain::lifecycle`) as conditional
//!   transactions of rows and their campaign row; [`retry`]: trying again on conflicts and throttling.
//! - [`campaigns`]: creating, reading and moving campaigns (resume, cancel, completion, notices).
//! - [`schedule`]: releasing a scheduled campaign when its time has come, and moving that time.
//! - [`messages`]: reading rows and moving them (claim, finish, pause, requeue, cancel).
//! - [`holds`]: a QUEUED row held out of the queue for its recipient's sending window.
//! - [`receipts`]: the link from a sent message's WhatsApp id to its row, and its receipts.
//! - [`opt_outs`]: the accounts' opt-out lists.
//! - [`idempotency`]: the `Idempotency-Key` claims of campaign starts.
//! - [`listing`]: the open campaigns and the census of a campaign's rows, for the reconciler.
//!
//! Keys come from `table_layout::keys`, the one owner of the table's layout.

mod account_listing;
mod campaigns;
mod codec;
mod holds;
mod idempotency;
pub mod images;
mod listing;
mod messages;
mod moves;
mod opt_outs;
mod receipts;
pub(crate) mod retry;
mod schedule;

use crate::Finish;
use crate::model::{
    CampaignPosition, CampaignView, Census, Claim, Idempotency, IdempotencyClaim, Lease, MessageEntry,
    MessageRow, NewCampaign, PauseReason, SentLink,
};
use crate::{CampaignStore, StoreError, Transition};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use domain::lifecycle::hold::Hold;
use domain::{
    AccountId, CampaignId, ErrorCode, MessageSeq, MessageStatus, PhoneNumber, QueuedMessage, Receipt, SendAt,
    WaMessageId,
};
use std::collections::BTreeSet;
use table_layout::Key;
use table_layout::codec::{Item, key_item};

/// How often a move re-reads a row that changed between its read and its write.
const MAX_ATTEMPTS: u32 = 8;

/// The DynamoDB adapter.
#[derive(Clone)]
pub struct DynamoCampaignStore {
    client: Client,
    table: String,
}

impl DynamoCampaignStore {
    /// Uses `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// An update of one item.
    fn update(
        &self,
        key: &Key,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client.update_item().table_name(&self.table).set_key(Some(key_item(key)))
    }

    /// One item by key, read consistently.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let request =
            self.client.get_item().table_name(&self.table).set_key(Some(key_item(key))).consistent_read(true);
        let out = retry::call(|| request.clone().send()).await.map_err(StoreError::unavailable)?;
        Ok(out.item)
    }
}

/// A conditional update's result: a failed condition means "does not apply", not an error.
fn conditional<T, E>(
    result: Result<T, aws_sdk_dynamodb::error::SdkError<E>>,
) -> Result<Transition, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    aws_sdk_dynamodb::error::SdkError<E>: std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(Transition::Applied),
        Err(e) if e.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException") => {
            Ok(Transition::NotApplicable)
        }
        Err(e) => Err(StoreError::unavailable(e)),
    }
}

#[async_trait]
impl CampaignStore for DynamoCampaignStore {
    async fn create_campaign(&self, campaign: &NewCampaign) -> Result<(), StoreError> {
        self.create(campaign).await
    }

    async fn campaign(&self, id: &CampaignId) -> Result<Option<CampaignView>, StoreError> {
        self.read_campaign(id).await
    }

    async fn message(&self, id: &CampaignId, seq: MessageSeq) -> Result<Option<MessageRow>, StoreError> {
        self.read_message(id, seq).await
    }

    async fn pause_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        reason: &PauseReason,
    ) -> Result<Transition, StoreError> {
        self.pause(id, seq, reason).await
    }

    async fn resume_campaign(
        &self,
        id: &CampaignId,
        at: &str,
        reopen_completed: bool,
    ) -> Result<Transition, StoreError> {
        self.resume(id, at, reopen_completed).await
    }

    async fn release_campaign(
        &self,
        id: &CampaignId,
        at: &str,
        due_by: i64,
    ) -> Result<Transition, StoreError> {
        self.release(id, at, due_by).await
    }

    async fn reschedule_campaign(
        &self,
        id: &CampaignId,
        send_at: SendAt,
        at: &str,
    ) -> Result<Transition, StoreError> {
        self.reschedule(id, send_at, at).await
    }

    async fn settle_campaign(&self, id: &CampaignId, at: &str) -> Result<(), StoreError> {
        self.settle(id, at).await
    }

    async fn hold_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        hold: &Hold,
    ) -> Result<Transition, StoreError> {
        self.hold(id, seq, hold).await
    }

    async fn end_hold(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        hold: &Hold,
    ) -> Result<Transition, StoreError> {
        self.end_hold(id, seq, hold).await
    }

    async fn note_waiting(
        &self,
        id: &CampaignId,
        seen: Option<i64>,
        next: Option<i64>,
    ) -> Result<Transition, StoreError> {
        self.note_waiting(id, seen, next).await
    }

    async fn link_sent(&self, link: &SentLink, expires_at: i64) -> Result<(), StoreError> {
        self.link(link, expires_at).await
    }

    async fn sent_links(
        &self,
        account: &AccountId,
        wa_ids: &[WaMessageId],
    ) -> Result<Vec<SentLink>, StoreError> {
        self.links(account, wa_ids).await
    }

    async fn unread_links(
        &self,
        account: &AccountId,
        since: i64,
        max: usize,
    ) -> Result<Vec<SentLink>, StoreError> {
        self.unread(account, since, max).await
    }

    async fn record_receipt(
        &self,
        link: &SentLink,
        receipt: Receipt,
        at: &str,
    ) -> Result<Transition, StoreError> {
        self.receipt(link, receipt, at).await
    }

    async fn messages_in_status(
        &self,
        id: &CampaignId,
        status: MessageStatus,
        after: Option<MessageSeq>,
        limit: u32,
    ) -> Result<Vec<MessageRow>, StoreError> {
        self.rows_in_status(id, status, after, limit).await
    }

    async fn list_messages(
        &self,
        id: &CampaignId,
        status: Option<MessageStatus>,
        after: Option<MessageSeq>,
        limit: u32,
    ) -> Result<Vec<MessageEntry>, StoreError> {
        self.entries(id, status, after, limit).await
    }

    async fn requeue_messages(
        &self,
        id: &CampaignId,
        rows: &[MessageRow],
        from: MessageStatus,
        at: &str,
    ) -> Result<Vec<QueuedMessage>, StoreError> {
        self.requeue_many(id, rows, from, at).await
    }

    async fn claim_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        lease: &Lease,
    ) -> Result<Claim, StoreError> {
        self.claim(id, seq, lease).await
    }

    async fn finish_message(
        &self,
        id: &CampaignId,
        seq: MessageSeq,
        attempt: u32,
        finish: &Finish,
        at: &str,
    ) -> Result<Transition, StoreError> {
        self.finish(id, seq, attempt, finish, at).await
    }

    async fn add_opt_out(
        &self,
        account: &AccountId,
        phone: &PhoneNumber,
        at: &str,
    ) -> Result<(), StoreError> {
        self.opt_out(account, phone, at).await
    }

    async fn remove_opt_out(&self, account: &AccountId, phone: &PhoneNumber) -> Result<bool, StoreError> {
        self.opt_in(account, phone).await
    }

    async fn opted_out(
        &self,
        account: &AccountId,
        phones: &[String],
    ) -> Result<BTreeSet<String>, StoreError> {
        self.opted_out_among(account, phones).await
    }

    async fn record_notice(&self, id: &CampaignId, notice: ErrorCode, at: &str) -> Result<(), StoreError> {
        self.notice(id, notice, at).await
    }

    async fn cancel_campaign(&self, id: &CampaignId, at: &str) -> Result<Transition, StoreError> {
        self.cancel(id, at).await
    }

    async fn cancel_messages(
        &self,
        id: &CampaignId,
        rows: &[MessageRow],
        from: MessageStatus,
        at: &str,
    ) -> Result<usize, StoreError> {
        self.cancel_many(id, rows, from, at).await
    }

    async fn account_campaigns(
        &self,
        account: &AccountId,
        after: Option<&CampaignPosition>,
        limit: u32,
    ) -> Result<Vec<CampaignView>, StoreError> {
        self.list_of_account(account, after, limit).await
    }

    async fn open_campaigns(
        &self,
        after: Option<&CampaignId>,
        limit: u32,
    ) -> Result<Vec<CampaignId>, StoreError> {
        self.list_open(after, limit).await
    }

    async fn close_listing(&self, id: &CampaignId) -> Result<Transition, StoreError> {
        self.close(id).await
    }

    async fn drop_orphan_listing(
        &self,
        id: &CampaignId,
        listed_before: &str,
    ) -> Result<Transition, StoreError> {
        self.drop_orphan(id, listed_before).await
    }

    async fn census(&self, id: &CampaignId) -> Result<Option<Census>, StoreError> {
        self.count(id).await
    }

    async fn repair_counters(
        &self,
        seen: &CampaignView,
        counted: &domain::Counters,
        at: &str,
    ) -> Result<Transition, StoreError> {
        self.repair(seen, counted, at).await
    }

    async fn mark_issuing(&self, id: &CampaignId, since: i64) -> Result<(), StoreError> {
        self.issuing(id, since).await
    }

    async fn mark_issued(&self, id: &CampaignId, since: i64) -> Result<(), StoreError> {
        self.issued(id, since).await
    }

    async fn hand_off_issuing(
        &self,
        id: &CampaignId,
        since: i64,
        from: MessageSeq,
    ) -> Result<(), StoreError> {
        self.handed_off(id, since, from).await
    }

    async fn claim_idempotency(&self, claim: &IdempotencyClaim) -> Result<Idempotency, StoreError> {
        self.claim_key(claim).await
    }

    async fn finish_idempotency(&self, key_hash: &str) -> Result<(), StoreError> {
        self.finish_key(key_hash).await
    }

    async fn release_idempotency(&self, key_hash: &str) -> Result<(), StoreError> {
        self.release_key(key_hash).await
    }
}
