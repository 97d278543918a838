//! Reading and writing attributes: the small conversions both stores make between their records
//! and DynamoDB items, and the one error a malformed item gives.

use crate::keys::{Key, PK, SK};
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A boolean attribute.
pub fn b(v: bool) -> AttributeValue {
    AttributeValue::Bool(v)
}

/// The `PK`/`SK` attributes of `key`, for a `Key` or `Item` argument.
pub fn key_item(key: &Key) -> Item {
    HashMap::from([(PK.to_owned(), s(key.pk.clone())), (SK.to_owned(), s(key.sk.clone()))])
}

/// A stored item that does not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored item {key} is malformed: {reason}")]
pub struct Malformed {
    /// The item's key, as `PK/SK`.
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

/// Reads the attributes of one item, naming the item in every error.
pub struct Fields<'a> {
    item: &'a Item,
    key: String,
}

impl<'a> Fields<'a> {
    /// Reads `item`, known as `key` in errors.
    pub fn new(item: &'a Item, key: impl Into<String>) -> Self {
        Self { item, key: key.into() }
    }

    /// Reads `item`, named by its own `PK`/`SK`.
    pub fn of(item: &'a Item) -> Self {
        let part = |f: &str| item.get(f).and_then(|v| v.as_s().ok()).map_or("?", String::as_str);
        let key = format!("{}/{}", part(PK), part(SK));
        Self { item, key }
    }

    /// The item's name in errors.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// A malformed-item error about this item.
    pub fn malformed(&self, reason: impl Into<String>) -> Malformed {
        Malformed { key: self.key.clone(), reason: reason.into() }
    }

    /// A required string.
    pub fn string(&self, field: &str) -> Result<&'a str, Malformed> {
        self.opt_string(field).ok_or_else(|| self.malformed(format!("missing string field '{field}'")))
    }

    /// An optional string.
    pub fn opt_string(&self, field: &str) -> Option<&'a str> {
        self.item.get(field).and_then(|v| v.as_s().ok()).map(String::as_str)
    }

    /// A count; absent counts as 0.
    pub fn count(&self, field: &str) -> Result<u64, Malformed> {
        match self.item.get(field).and_then(|v| v.as_n().ok()) {
            None => Ok(0),
            Some(raw) => raw.parse().map_err(|_| self.malformed(format!("field '{field}' is not a count"))),
        }
    }

    /// A signed number; absent counts as 0.
    pub fn number(&self, field: &str) -> Result<i64, Malformed> {
        match self.item.get(field).and_then(|v| v.as_n().ok()) {
            None => Ok(0),
            Some(raw) => raw.parse().map_err(|_| self.malformed(format!("field '{field}' is not a number"))),
        }
    }

    /// A boolean; absent counts as false.
    pub fn flag(&self, field: &str) -> bool {
        self.item.get(field).and_then(|v| v.as_bool().ok()).copied().unwrap_or(false)
    }

    /// A required string parsed as `T`.
    pub fn parsed<T: std::str::FromStr>(&self, field: &str) -> Result<T, Malformed> {
        self.string(field)?
            .parse()
            .map_err(|_| self.malformed(format!("field '{field}' has an unknown value")))
    }

    /// An optional string parsed as `T` (absent is `None`, unparseable is an error).
    pub fn opt_parsed<T: std::str::FromStr>(&self, field: &str) -> Result<Option<T>, Malformed> {
        match self.opt_string(field) {
            None => Ok(None),
            Some(raw) => raw
                .parse()
                .map(Some)
                .map_err(|_| self.malformed(format!("field '{field}' has an unknown value"))),
        }
    }

    /// A map of strings; absent is empty.
    pub fn string_map(&self, field: &str) -> std::collections::BTreeMap<String, String> {
        match self.item.get(field) {
            Some(AttributeValue::M(m)) => {
                m.iter().filter_map(|(k, v)| v.as_s().ok().map(|v| (k.clone(), v.clone()))).collect()
            }
            _ => Default::default(),
        }
    }
}
