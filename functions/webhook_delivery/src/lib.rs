//! `webhook_delivery`: each event on the webhook queue posted to its endpoint, signed, at least
//! once; an endpoint that fails gets it again later, and one that keeps failing leaves it in the
//! webhook dead-letter queue.

pub mod config;
pub mod deliver;
