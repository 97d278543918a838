//! The accounts' sending windows (quiet hours outside them): the `SendingWindows` port, one item
//! per account (`table_layout::keys::sending_window`), its DynamoDB adapter and an in-memory fake.
//! The sender reads an account's window once per batch; the reconciler reads when it was set, so
//! rows held on a window that was changed or removed since are decided again.

use crate::StoreError;
use crate::dynamo::retry;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::lifecycle::hold::WindowSetting;
use domain::{AccountId, SendingWindow};
use std::collections::HashMap;
use std::sync::Mutex;
use table_layout::codec::{Fields, key_item, n, s};
use table_layout::keys;

/// An account's window as stored, with when it was set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredWindow {
    /// The window.
    pub window: SendingWindow,
    /// When it was set, Unix seconds.
    pub set_at: i64,
}

impl StoredWindow {
    /// What a hold compares itself with.
    pub fn setting(stored: Option<&Self>) -> WindowSetting {
        stored.map_or(WindowSetting::Absent, |w| WindowSetting::SetAt(w.set_at))
    }
}

/// The accounts' sending windows.
#[async_trait]
pub trait SendingWindows: Send + Sync {
    /// The account's window, read consistently; `None` when it sends at any hour.
    async fn window(&self, account: &AccountId) -> Result<Option<StoredWindow>, StoreError>;
    /// Sets (or replaces) the account's window at Unix second `at`.
    async fn set_window(
        &self,
        account: &AccountId,
        window: &SendingWindow,
        at: i64,
    ) -> Result<(), StoreError>;
    /// Removes the account's window; `false` when it had none.
    async fn clear_window(&self, account: &AccountId) -> Result<bool, StoreError>;
}

/// The DynamoDB adapter, on the campaign table.
#[derive(Clone)]
pub struct DynamoSendingWindows {
    client: Client,
    table: String,
}

impl DynamoSendingWindows {
    /// Uses `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }
}

#[async_trait]
impl SendingWindows for DynamoSendingWindows {
    async fn window(&self, account: &AccountId) -> Result<Option<StoredWindow>, StoreError> {
        let key = keys::sending_window(account);
        let request = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&key)))
            .consistent_read(true);
        let out = retry::call(|| request.clone().send()).await.map_err(StoreError::unavailable)?;
        let Some(item) = out.item else { return Ok(None) };
        let f = Fields::new(&item, key.to_string());
        let days: Vec<String> = match item.get("days") {
            Some(AttributeValue::L(list)) => list.iter().filter_map(|d| d.as_s().ok().cloned()).collect(),
            _ => Vec::new(),
        };
        let window = SendingWindow::parse(f.string("from")?, f.string("to")?, &days, f.string("time_zone")?)
            .map_err(|e| f.malformed(e.to_string()))?;
        Ok(Some(StoredWindow { window, set_at: f.number("set_at")? }))
    }

    async fn set_window(
        &self,
        account: &AccountId,
        window: &SendingWindow,
        at: i64,
    ) -> Result<(), StoreError> {
        let mut item = key_item(&keys::sending_window(account));
        item.insert("from".into(), s(window.from().to_string()));
        item.insert("to".into(), s(window.to().to_string()));
        let days = window.days().names().into_iter().map(s).collect();
        item.insert("days".into(), AttributeValue::L(days));
        item.insert("time_zone".into(), s(window.zone().as_str()));
        item.insert("set_at".into(), n(at));
        let request = self.client.put_item().table_name(&self.table).set_item(Some(item));
        retry::call(|| request.clone().send()).await.map_err(StoreError::unavailable)?;
        Ok(())
    }

    async fn clear_window(&self, account: &AccountId) -> Result<bool, StoreError> {
        let request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_item(&keys::sending_window(account))))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld);
        let out = retry::call(|| request.clone().send()).await.map_err(StoreError::unavailable)?;
        Ok(out.attributes.is_some_and(|a| !a.is_empty()))
    }
}

/// Windows in a map, for unit tests of pure logic.
#[derive(Default)]
pub struct InMemorySendingWindows {
    windows: Mutex<HashMap<AccountId, StoredWindow>>,
}

impl InMemorySendingWindows {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<AccountId, StoredWindow>> {
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl SendingWindows for InMemorySendingWindows {
    async fn window(&self, account: &AccountId) -> Result<Option<StoredWindow>, StoreError> {
        Ok(self.lock().get(account).cloned())
    }

    async fn set_window(
        &self,
        account: &AccountId,
        window: &SendingWindow,
        at: i64,
    ) -> Result<(), StoreError> {
        self.lock().insert(account.clone(), StoredWindow { window: window.clone(), set_at: at });
        Ok(())
    }

    async fn clear_window(&self, account: &AccountId) -> Result<bool, StoreError> {
        Ok(self.lock().remove(account).is_some())
    }
}
