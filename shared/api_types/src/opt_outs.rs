//! The answer of `PUT` and `DELETE /accounts/{account}/opt-outs/{phone}`.

use serde::{Deserialize, Serialize};

/// Where a number stands on an account's opt-out list after the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOutState {
    /// The account.
    pub account: String,
    /// The number, E.164.
    pub phone: String,
    /// On the list (campaigns never message it) or not.
    pub opted_out: bool,
}
