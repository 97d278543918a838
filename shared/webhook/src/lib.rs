//! What wacamp tells an operator's endpoint: the events (one JSON body each, with a unique id
//! and a timestamp; the shapes are `webhooks` in `docs/openapi.yaml`) and their signature
//! (HMAC-SHA256 over the timestamp and the raw body, with a per-deployment secret).
//!
//! The events are derived from the ledger's changes by `webhook_events` and posted by
//! `webhook_delivery`; this crate holds only the wire forms (the event, the queue's envelope and
//! the signature), so a receiver (the end-to-end tests' among them) can verify and read them.

mod envelope;
mod event;
mod signature;

pub use envelope::Envelope;
pub use event::{Event, EventData, EventKind, MessageError, event_id};
pub use signature::{
    EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, SignatureError, TIMESTAMP_HEADER, sign, verify,
};
