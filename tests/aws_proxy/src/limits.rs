//! AWS limits the emulator does not enforce (or enforces more kindly): DynamoDB item and
//! transaction sizes, SQS message sizes, and the 12-hour visibility of a received message.

use crate::call::Call;
use crate::plan::{Limits, Service};
use crate::replies::{self, Reply};
use base64::Engine as _;
use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The size DynamoDB counts for an attribute value in its JSON form: strings by their UTF-8
/// length, numbers roughly by their digits, binaries decoded, containers with their overhead.
fn value_bytes(v: &Value) -> usize {
    let Some((kind, inner)) = v.as_object().and_then(|m| m.iter().next()) else { return 0 };
    match kind.as_str() {
        "S" => inner.as_str().map_or(0, str::len),
        "N" => inner.as_str().map_or(0, |n| n.len().div_ceil(2) + 1),
        "B" => inner
            .as_str()
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .map_or(0, |b| b.len()),
        "BOOL" | "NULL" => 1,
        "SS" | "NS" | "BS" => {
            inner.as_array().map_or(0, |a| a.iter().map(|s| s.as_str().map_or(0, str::len)).sum())
        }
        "M" => {
            3 + inner
                .as_object()
                .map_or(0, |m| m.iter().map(|(k, v)| k.len() + value_bytes(v) + 1).sum::<usize>())
        }
        "L" => 3 + inner.as_array().map_or(0, |a| a.iter().map(|v| value_bytes(v) + 1).sum::<usize>()),
        _ => 0,
    }
}

/// The size of an item (a map of attribute names to values).
pub fn item_bytes(item: &Value) -> usize {
    item.as_object().map_or(0, |m| m.iter().map(|(k, v)| k.len() + value_bytes(v)).sum())
}

/// The smallest size an update's result can have: the values it writes.
fn update_values_bytes(update: &Value) -> usize {
    update.get("ExpressionAttributeValues").map_or(0, item_bytes)
}

/// When the proxy first saw each receipt handle.
#[derive(Debug, Default)]
pub struct Receipts {
    first_seen: HashMap<String, Instant>,
}

impl Receipts {
    /// Whether a visibility of `secs` from now keeps `handle` within `limits.max_visibility` of
    /// its receipt (assumed `limits.assumed_receipt_age` before the proxy first saw it).
    fn allows(&mut self, handle: &str, secs: u64, limits: &Limits, now: Instant) -> bool {
        let first = *self.first_seen.entry(handle.to_owned()).or_insert(now);
        let age = now.duration_since(first) + limits.assumed_receipt_age;
        age + Duration::from_secs(secs) <= limits.max_visibility
    }

    /// Forgets handles seen long ago (a received message cannot stay invisible past 12 hours).
    fn prune(&mut self, limits: &Limits, now: Instant) {
        if self.first_seen.len() > 10_000 {
            self.first_seen.retain(|_, seen| now.duration_since(*seen) < limits.max_visibility);
        }
    }
}

/// The reply AWS would give instead of processing `call`, if `call` breaks a limit.
pub fn check(call: &Call, limits: &Limits, receipts: &mut Receipts, now: Instant) -> Option<Reply> {
    match (call.service, call.operation.as_str()) {
        (Service::DynamoDb, "PutItem") => {
            let bytes = call.json.get("Item").map_or(0, item_bytes);
            (bytes > limits.max_item_bytes)
                .then(|| replies::validation("Item size has exceeded the maximum allowed size"))
        }
        (Service::DynamoDb, "UpdateItem") => (update_values_bytes(&call.json) > limits.max_item_bytes)
            .then(|| replies::validation("Item size to update has exceeded the maximum allowed size")),
        (Service::DynamoDb, "BatchWriteItem") => {
            let too_big = call.json.get("RequestItems").and_then(Value::as_object).is_some_and(|tables| {
                tables.values().filter_map(Value::as_array).flatten().any(|w| {
                    w.pointer("/PutRequest/Item").is_some_and(|item| item_bytes(item) > limits.max_item_bytes)
                })
            });
            too_big.then(|| replies::validation("Item size has exceeded the maximum allowed size"))
        }
        (Service::DynamoDb, "TransactWriteItems") => {
            let items = call.json.get("TransactItems").and_then(Value::as_array).map_or(0, Vec::len);
            if items > limits.max_transaction_items {
                return Some(replies::validation(&format!(
                    "1 validation error detected: Value '[...]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to {}",
                    limits.max_transaction_items
                )));
            }
            let total: usize = call
                .json
                .get("TransactItems")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|i| {
                    i.pointer("/Put/Item").map_or(0, item_bytes)
                        + i.pointer("/Update").map_or(0, update_values_bytes)
                })
                .sum();
            if total > limits.max_transaction_bytes {
                return Some(replies::validation(
                    "Transaction request cannot exceed the maximum request size of 4 MB",
                ));
            }
            let oversize =
                call.json.get("TransactItems").and_then(Value::as_array).into_iter().flatten().any(|i| {
                    i.pointer("/Put/Item").is_some_and(|item| item_bytes(item) > limits.max_item_bytes)
                        || i.pointer("/Update")
                            .is_some_and(|u| update_values_bytes(u) > limits.max_item_bytes)
                });
            oversize.then(|| replies::validation("Item size has exceeded the maximum allowed size"))
        }
        (Service::Sqs, "SendMessage") => {
            let bytes = call.json.get("MessageBody").and_then(Value::as_str).map_or(0, str::len);
            (bytes > limits.max_message_bytes).then(|| {
                replies::sqs_invalid_parameter(&format!(
                    "One or more parameters are invalid. Reason: Message must be shorter than {} bytes.",
                    limits.max_message_bytes
                ))
            })
        }
        (Service::Sqs, "SendMessageBatch") => {
            let bytes: usize = call
                .json
                .get("Entries")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|e| e.get("MessageBody").and_then(Value::as_str).map_or(0, str::len))
                .sum();
            (bytes > limits.max_message_bytes)
                .then(|| replies::sqs_batch_too_long(bytes, limits.max_message_bytes))
        }
        (Service::Sqs, "ChangeMessageVisibility") => {
            receipts.prune(limits, now);
            let handle = call.json.get("ReceiptHandle").and_then(Value::as_str).unwrap_or_default();
            let secs = call.json.get("VisibilityTimeout").and_then(Value::as_u64).unwrap_or(0);
            let max = limits.max_visibility.as_secs();
            if secs > max || !receipts.allows(handle, secs, limits, now) {
                return Some(replies::sqs_invalid_parameter(&format!(
                    "Value {secs} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [{max} seconds]."
                )));
            }
            None
        }
        _ => None,
    }
}
