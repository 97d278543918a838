//! The error body every failure answers with, and the warning some successes carry.

use domain::ErrorCode;
use serde::{Deserialize, Serialize};

/// `{code, message, hint}`: a stable code from the catalogue, what is wrong (naming the field or
/// row at fault), and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// Stable code.
    pub code: ErrorCode,
    /// What is wrong.
    pub message: String,
    /// What to run or change next.
    pub hint: String,
}

impl Problem {
    /// A problem whose hint is the code's own, filled with the account and campaign.
    pub fn new(code: ErrorCode, message: impl Into<String>, account: &str, campaign: &str) -> Self {
        Self { code, message: message.into(), hint: code.hint_for(account, campaign) }
    }
}
