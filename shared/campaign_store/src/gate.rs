//! The account gate: what every sender instance must agree on per sending account, whatever
//! Lambda instance it runs in.
//!
//! - **One browser per account.** WhatsApp Web allows one live session per device; the FIFO
//!   group keeps one batch per account in flight, and a lease item (`table_layout::keys::lease`: holder,
//!   `lease_until`) makes it hold across instances, retries and overlapping invocations. A lease
//!   is taken with a condition (free, expired, or already ours) until the holder cannot be alive
//!   any more (the sender: its invocation's deadline plus a margin), and released at the end; a
//!   holder that died leaves a lease that expires and is taken over.
//! - **Send caps per hour and per day.** One counter item per account and window
//!   (`table_layout::keys::sends`, removed by TTL) is incremented
//!   under a condition before each send, so no instance can go past a cap.

use crate::StoreError;
use crate::dynamo::retry::{self, Attempt};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use domain::AccountId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use table_layout::codec::key_item;
use table_layout::keys::{self, Window};

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// What happened to a request for the account's browser lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseGrant {
    /// The caller holds the lease until the requested time.
    Acquired,
    /// Another holder has it until `until` (epoch seconds).
    Busy {
        /// Who holds it (an opaque instance id).
        holder: String,
        /// When it expires unless renewed.
        until: i64,
    },
}

/// Sends allowed per account; `None` means no cap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendCaps {
    /// Per clock hour (UTC).
    pub per_hour: Option<u32>,
    /// Per calendar day (UTC).
    pub per_day: Option<u32>,
}

impl SendCaps {
    /// Caps from configured limits, where 0 means no cap.
    pub fn from_limits(per_hour: u32, per_day: u32) -> Self {
        Self { per_hour: Some(per_hour).filter(|c| *c > 0), per_day: Some(per_day).filter(|c| *c > 0) }
    }

    /// These caps with the daily one lowered to `day` (a warm-up step), if given.
    pub fn with_day_cap(self, day: Option<u32>) -> Self {
        let per_day = match (self.per_day, day) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Self { per_day, ..self }
    }

    /// Whether any cap is set (no counting is needed otherwise).
    pub fn any(&self) -> bool {
        self.per_hour.is_some() || self.per_day.is_some()
    }
}

/// What a request for one send slot found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotGrant {
    /// Counted; the message may go out.
    Granted,
    /// A cap is reached; nothing was counted. The next window opens at `opens_at` (epoch seconds).
    CapReached {
        /// Start of the next window in which a send is allowed again.
        opens_at: i64,
    },
}

/// The per-account agreements between sender instances.
#[async_trait]
pub trait AccountGate: Send + Sync {
    /// Takes the account's browser lease for `holder` until `until`, if it is free, expired at
    /// `now`, or already held by `holder` (all epoch seconds).
    async fn acquire_browser(
        &self,
        account: &AccountId,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<LeaseGrant, StoreError>;
    /// Extends a lease `holder` still holds (with the same `until`: confirms it is still held);
    /// `false` when it was lost (taken over or released).
    async fn renew_browser(&self, account: &AccountId, holder: &str, until: i64) -> Result<bool, StoreError>;
    /// Gives the lease up if `holder` still holds it.
    async fn release_browser(&self, account: &AccountId, holder: &str) -> Result<(), StoreError>;
    /// Counts one send at `now` in the account's hour and day windows, unless that would pass a cap.
    async fn take_send_slot(
        &self,
        account: &AccountId,
        now: i64,
        caps: SendCaps,
    ) -> Result<SlotGrant, StoreError>;
}

fn window_start(now: i64, len: i64) -> i64 {
    now - now.rem_euclid(len)
}

/// Start of the window after the one that is full: the day's when the day cap is reached, else the hour's.
fn next_window(now: i64, day_full: bool) -> i64 {
    if day_full { window_start(now, DAY) + DAY } else { window_start(now, HOUR) + HOUR }
}

/// The in-memory fake, for unit tests of the sender's logic.
#[derive(Debug, Default)]
pub struct InMemoryAccountGate {
    leases: Mutex<HashMap<String, (String, i64)>>,
    counts: Mutex<HashMap<(String, char, i64), u32>>,
}

impl InMemoryAccountGate {
    /// Sends counted for `account` in the hour window containing `now`.
    pub fn sends_this_hour(&self, account: &AccountId, now: i64) -> u32 {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.get(&(account.to_string(), 'H', window_start(now, HOUR))).copied().unwrap_or(0)
    }

    /// Who holds `account`'s browser lease, and until when.
    pub fn lease_of(&self, account: &AccountId) -> Option<(String, i64)> {
        self.leases.lock().unwrap_or_else(|e| e.into_inner()).get(account.as_str()).cloned()
    }
}

#[async_trait]
impl AccountGate for InMemoryAccountGate {
    async fn acquire_browser(
        &self,
        account: &AccountId,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<LeaseGrant, StoreError> {
        let mut leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
        match leases.get(account.as_str()) {
            Some((h, u)) if h != holder && *u >= now => Ok(LeaseGrant::Busy { holder: h.clone(), until: *u }),
            _ => {
                leases.insert(account.to_string(), (holder.to_owned(), until));
                Ok(LeaseGrant::Acquired)
            }
        }
    }

    async fn renew_browser(&self, account: &AccountId, holder: &str, until: i64) -> Result<bool, StoreError> {
        let mut leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
        match leases.get_mut(account.as_str()) {
            Some((h, u)) if h == holder => {
                *u = until;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release_browser(&self, account: &AccountId, holder: &str) -> Result<(), StoreError> {
        let mut leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
        if leases.get(account.as_str()).is_some_and(|(h, _)| h == holder) {
            leases.remove(account.as_str());
        }
        Ok(())
    }

    async fn take_send_slot(
        &self,
        account: &AccountId,
        now: i64,
        caps: SendCaps,
    ) -> Result<SlotGrant, StoreError> {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let hour = (account.to_string(), 'H', window_start(now, HOUR));
        let day = (account.to_string(), 'D', window_start(now, DAY));
        let used = |k: &(String, char, i64)| counts.get(k).copied().unwrap_or(0);
        if caps.per_day.is_some_and(|cap| used(&day) >= cap) {
            return Ok(SlotGrant::CapReached { opens_at: next_window(now, true) });
        }
        if caps.per_hour.is_some_and(|cap| used(&hour) >= cap) {
            return Ok(SlotGrant::CapReached { opens_at: next_window(now, false) });
        }
        *counts.entry(hour).or_insert(0) += 1;
        *counts.entry(day).or_insert(0) += 1;
        Ok(SlotGrant::Granted)
    }
}

/// The DynamoDB adapter, on the campaign table.
#[derive(Clone)]
pub struct DynamoAccountGate {
    client: Client,
    table: String,
}

impl DynamoAccountGate {
    /// Uses `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// An increment of one window counter, refused at `cap`.
    fn count(
        &self,
        account: &AccountId,
        window: Window,
        start: i64,
        len: i64,
        cap: Option<u32>,
    ) -> Result<Update, StoreError> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::sends(account, window, start))))
            .update_expression("ADD sends :one SET expires_at = :expires")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            // Kept a day past the window, then removed by the table's TTL.
            .expression_attribute_values(":expires", AttributeValue::N((start + len + DAY).to_string()));
        if let Some(cap) = cap {
            update = update
                .condition_expression("attribute_not_exists(sends) OR sends < :cap")
                .expression_attribute_values(":cap", AttributeValue::N(cap.to_string()));
        }
        update.build().map_err(StoreError::unavailable)
    }
}

fn is_condition_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

#[async_trait]
impl AccountGate for DynamoAccountGate {
    async fn acquire_browser(
        &self,
        account: &AccountId,
        holder: &str,
        now: i64,
        until: i64,
    ) -> Result<LeaseGrant, StoreError> {
        let mut item = key_item(&keys::lease(account));
        item.insert("holder".into(), AttributeValue::S(holder.to_owned()));
        item.insert("lease_until".into(), AttributeValue::N(until.to_string()));
        item.insert("expires_at".into(), AttributeValue::N((until + DAY).to_string()));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK) OR lease_until < :now OR holder = :holder")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(":holder", AttributeValue::S(holder.to_owned()));
        // Idempotent: a try after a lost reply finds this holder's lease and takes it again.
        match retry::call(|| put.clone().send()).await {
            Ok(_) => Ok(LeaseGrant::Acquired),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => {
                let read = self
                    .client
                    .get_item()
                    .table_name(&self.table)
                    .set_key(Some(key_item(&keys::lease(account))))
                    .consistent_read(true);
                let current = retry::call(|| read.clone().send()).await.map_err(StoreError::unavailable)?;
                let item = current.item.unwrap_or_default();
                let holder = item.get("holder").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
                let until = item
                    .get("lease_until")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(now);
                Ok(LeaseGrant::Busy { holder, until })
            }
            Err(e) => Err(StoreError::unavailable(e)),
        }
    }

    async fn renew_browser(&self, account: &AccountId, holder: &str, until: i64) -> Result<bool, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::lease(account))))
            .update_expression("SET lease_until = :until, expires_at = :expires")
            .condition_expression("holder = :holder")
            .expression_attribute_values(":until", AttributeValue::N(until.to_string()))
            .expression_attribute_values(":expires", AttributeValue::N((until + DAY).to_string()))
            .expression_attribute_values(":holder", AttributeValue::S(holder.to_owned()));
        match retry::call(|| update.clone().send()).await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => Ok(false),
            Err(e) => Err(StoreError::unavailable(e)),
        }
    }

    async fn release_browser(&self, account: &AccountId, holder: &str) -> Result<(), StoreError> {
        let delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::lease(account))))
            .condition_expression("holder = :holder")
            .expression_attribute_values(":holder", AttributeValue::S(holder.to_owned()));
        match retry::call(|| delete.clone().send()).await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => Ok(()),
            Err(e) => Err(StoreError::unavailable(e)),
        }
    }

    async fn take_send_slot(
        &self,
        account: &AccountId,
        now: i64,
        caps: SendCaps,
    ) -> Result<SlotGrant, StoreError> {
        if !caps.any() {
            return Ok(SlotGrant::Granted);
        }
        // Both windows move together: one transaction, the hour first, then the day.
        let hour = self.count(account, Window::Hour, window_start(now, HOUR), HOUR, caps.per_hour)?;
        let day = self.count(account, Window::Day, window_start(now, DAY), DAY, caps.per_day)?;
        // One token per answered try: on AWS a try whose reply was lost is not counted twice
        // (where it is, the cap only errs on the side of sending less).
        let base = format!("{:016x}", rand::random::<u64>());
        let answered = AtomicU32::new(0);
        retry::with_backoff("send slot", || {
            let request = self
                .client
                .transact_write_items()
                .client_request_token(format!("{base}-{}", answered.load(Ordering::Relaxed)))
                .transact_items(TransactWriteItem::builder().update(hour.clone()).build())
                .transact_items(TransactWriteItem::builder().update(day.clone()).build());
            let answered = &answered;
            async move {
                let err = match request.send().await {
                    Ok(_) => return Ok(Attempt::Done(SlotGrant::Granted)),
                    Err(e) => e,
                };
                let Some(TransactWriteItemsError::TransactionCanceledException(tce)) = err.as_service_error()
                else {
                    return if retry::is_transient(&err) {
                        Ok(Attempt::Again)
                    } else {
                        Err(StoreError::unavailable(err))
                    };
                };
                answered.fetch_add(1, Ordering::Relaxed);
                let code = |i: usize| tce.cancellation_reasons().get(i).and_then(|r| r.code());
                let full = |i: usize| code(i) == Some("ConditionalCheckFailed");
                if full(1) {
                    Ok(Attempt::Done(SlotGrant::CapReached { opens_at: next_window(now, true) }))
                } else if full(0) {
                    Ok(Attempt::Done(SlotGrant::CapReached { opens_at: next_window(now, false) }))
                } else if (0..2).any(|i| code(i).is_some_and(|c| c != "None")) {
                    // A conflict with the other instance's slot, or throttling.
                    Ok(Attempt::Again)
                } else {
                    Err(StoreError::unavailable(err))
                }
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_day_waits_for_the_next_day_and_a_full_hour_for_the_next_hour() {
        let day = 1_799_971_200; // a UTC midnight
        let now = day + 2 * HOUR + 100;
        assert_eq!(next_window(now, false), day + 3 * HOUR);
        assert_eq!(next_window(now, true), day + DAY);
    }
}
