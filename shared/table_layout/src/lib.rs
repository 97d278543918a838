//! The layout of wacamp's one DynamoDB table, owned in one place: every partition and sort key
//! format ([`keys`]) and the attribute codec the adapters share ([`codec`]). The stores that
//! write the table (`campaign_store`, `session_store`) and the tests that look into it build
//! their keys here and nowhere else.

pub mod codec;
pub mod keys;

pub use keys::Key;
