//! `webhook_events`: every change the ledger records becomes the events it means, on the
//! webhook queue, without the sender ever waiting for an endpoint.
//!
//! It reads the table's change stream (the campaign and message rows' old and new images),
//! derives the events ([`changes`], pure) and queues them for `webhook_delivery`
//! ([`outbox`]). A batch that cannot be queued fails and the stream hands it again, so no change
//! is skipped; event ids are stable, so a change handed twice is one event to an endpoint that
//! de-duplicates.

pub mod changes;
pub mod config;
pub mod events;
pub mod outbox;
