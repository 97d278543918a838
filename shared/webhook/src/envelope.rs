//! What the webhook queue carries: one event, its destination and its body exactly as it will
//! be signed and posted.

use serde::{Deserialize, Serialize};

/// One queued event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Where it goes.
    pub url: String,
    /// Its id (also in the body).
    pub id: String,
    /// Its type (also in the body).
    #[serde(rename = "type")]
    pub kind: String,
    /// The JSON body.
    pub body: String,
}

impl Envelope {
    /// The envelope of `event` for `url`.
    pub fn new(url: &str, event: &crate::Event) -> Result<Self, serde_json::Error> {
        Ok(Self {
            url: url.to_owned(),
            id: event.id.clone(),
            kind: event.kind.as_str().to_owned(),
            body: serde_json::to_string(event)?,
        })
    }
}
