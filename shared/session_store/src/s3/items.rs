//! The session pointer and generation items to and from DynamoDB attributes.

use crate::SessionStoreError;
use crate::model::{GenerationId, GenerationInfo, SessionPointer};
use aws_sdk_dynamodb::types::AttributeValue;
use domain::{AccountId, SessionHealth};
use std::collections::HashMap;
use table_layout::codec::key_item;
use table_layout::keys;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
pub(super) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}
pub(super) fn generation_key(account: &AccountId, id: &GenerationId) -> HashMap<String, AttributeValue> {
    key_item(&keys::generation(account, id.as_str()))
}
pub(super) fn session_key(account: &AccountId) -> HashMap<String, AttributeValue> {
    key_item(&keys::session(account))
}
pub(super) fn stamp(t: OffsetDateTime) -> AttributeValue {
    s(t.format(&Rfc3339).unwrap_or_default())
}

pub(super) fn malformed(key: &str, field: &str) -> SessionStoreError {
    SessionStoreError::Corrupt(format!("stored item {key} has a missing or malformed '{field}'"))
}
pub(super) fn get_s<'a>(item: &'a Item, key: &str, field: &str) -> Result<&'a str, SessionStoreError> {
    item.get(field).and_then(|v| v.as_s().ok()).map(String::as_str).ok_or_else(|| malformed(key, field))
}
pub(super) fn opt_s(item: &Item, field: &str) -> Option<String> {
    item.get(field).and_then(|v| v.as_s().ok()).cloned()
}
pub(super) fn get_n(item: &Item, key: &str, field: &str) -> Result<u64, SessionStoreError> {
    match item.get(field).and_then(|v| v.as_n().ok()) {
        None => Ok(0),
        Some(raw) => raw.parse().map_err(|_| malformed(key, field)),
    }
}
pub(super) fn opt_time(item: &Item, field: &str) -> Option<OffsetDateTime> {
    item.get(field).and_then(|v| v.as_s().ok()).and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
}
pub(super) fn get_bool(item: &Item, field: &str) -> bool {
    item.get(field).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false)
}

pub(super) fn parse_generation(item: &Item) -> Result<GenerationInfo, SessionStoreError> {
    let sk = get_s(item, "generation item", keys::SK)?;
    let id = keys::parse_generation_sk(sk)
        .and_then(|g| GenerationId::parse(g).ok())
        .ok_or_else(|| malformed(sk, keys::SK))?;
    Ok(GenerationInfo {
        key: get_s(item, sk, "key")?.to_owned(),
        sha256: get_s(item, sk, "sha256")?.to_owned(),
        size: get_n(item, sk, "size")?,
        created: opt_time(item, "created").ok_or_else(|| malformed(sk, "created"))?,
        state: get_s(item, sk, "state")?.parse().map_err(|_| malformed(sk, "state"))?,
        bad: get_bool(item, "bad"),
        encrypted: get_bool(item, "encrypted"),
        last_ready: opt_time(item, "last_ready"),
        id,
    })
}

pub(super) fn parse_pointer(item: &Item, key: &str) -> Result<SessionPointer, SessionStoreError> {
    let state = match opt_s(item, "state") {
        Some(t) => t.parse::<SessionHealth>().map_err(|_| malformed(key, "state"))?,
        None => SessionHealth::Unknown,
    };
    let current = match opt_s(item, "current_generation") {
        Some(t) => Some(GenerationId::parse(&t).map_err(|_| malformed(key, "current_generation"))?),
        None => None,
    };
    Ok(SessionPointer {
        state,
        current,
        current_key: opt_s(item, "current_key"),
        sha256: opt_s(item, "sha256"),
        version: get_n(item, key, "version")?,
        last_check: opt_time(item, "last_check"),
        last_backup: opt_time(item, "last_backup"),
        linked_at: opt_time(item, "linked_at"),
    })
}
