//! Stable error codes: one sentence and one hint each, identical in HTTP bodies, CLI output and
//! logs, so an operator can search for a code and find the fix.

use serde::{Deserialize, Serialize};

/// A stable, machine-readable reason. The serialized form (`SESSION_EXPIRED`) never changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// No stored session generation logs in any more.
    SessionExpired,
    /// An older generation was restored after the current one stopped working (informational).
    SessionRestoredFromBackup,
    /// WhatsApp Web is open in another window for the account.
    SessionConflict,
    /// WhatsApp banned the account.
    AccountBanned,
    /// WhatsApp Web refuses this browser as outdated.
    WaOutdated,
    /// WhatsApp Web could not be reached or did not answer in time.
    WaUnreachable,
    /// The phone number is not a valid number.
    InvalidPhone,
    /// The number is valid but has no WhatsApp account.
    NotOnWhatsapp,
    /// The message was sent but the server acknowledgement never came.
    SendTimeout,
    /// Chromium crashed or could not start.
    BrowserCrashed,
    /// The per-account sending cap was reached.
    RateLimited,
    /// The template names a variable the recipient row does not have.
    TemplateVariableMissing,
    /// The request body or parameters are malformed.
    BadRequest,
    /// The request is larger than the documented limit.
    PayloadTooLarge,
    /// The API key is missing or wrong.
    Unauthorized,
    /// The campaign (or another named resource) does not exist.
    NotFound,
    /// The action does not fit the resource's current state.
    Conflict,
    /// The campaign was cancelled before the message was sent.
    Cancelled,
    /// An `Idempotency-Key` was sent again with a different body.
    IdempotencyKeyReused,
    /// A request with the same `Idempotency-Key` is still being processed.
    IdempotencyKeyInProgress,
    /// An unexpected failure on our side; details are in the logs, never in the response.
    Internal,
}

impl ErrorCode {
    /// The code as it appears on the wire and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SessionExpired => "SESSION_EXPIRED",
            Self::SessionRestoredFromBackup => "SESSION_RESTORED_FROM_BACKUP",
            Self::SessionConflict => "SESSION_CONFLICT",
            Self::AccountBanned => "ACCOUNT_BANNED",
            Self::WaOutdated => "WA_OUTDATED",
            Self::WaUnreachable => "WA_UNREACHABLE",
            Self::InvalidPhone => "INVALID_PHONE",
            Self::NotOnWhatsapp => "NOT_ON_WHATSAPP",
            Self::SendTimeout => "SEND_TIMEOUT",
            Self::BrowserCrashed => "BROWSER_CRASHED",
            Self::RateLimited => "RATE_LIMITED",
            Self::TemplateVariableMissing => "TEMPLATE_VARIABLE_MISSING",
            Self::BadRequest => "BAD_REQUEST",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::Unauthorized => "UNAUTHORIZED",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::Cancelled => "CANCELLED",
            Self::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            Self::IdempotencyKeyInProgress => "IDEMPOTENCY_KEY_IN_PROGRESS",
            Self::Internal => "INTERNAL",
        }
    }

    /// One sentence saying what happened.
    pub fn sentence(self) -> &'static str {
        match self {
            Self::SessionExpired => "The WhatsApp Web session expired and no stored backup logs in.",
            Self::SessionRestoredFromBackup => {
                "The current session stopped working; an older backup was restored and is now current."
            }
            Self::SessionConflict => "WhatsApp Web is open for this account in another window.",
            Self::AccountBanned => "WhatsApp has banned this account.",
            Self::WaOutdated => "WhatsApp Web refuses this browser version.",
            Self::WaUnreachable => "WhatsApp Web could not be reached in time.",
            Self::InvalidPhone => "The phone number is not a valid number.",
            Self::NotOnWhatsapp => "The number has no WhatsApp account.",
            Self::SendTimeout => "The message was handed to WhatsApp Web but never acknowledged.",
            Self::BrowserCrashed => "Chromium crashed or did not start.",
            Self::RateLimited => "The account reached its sending cap for now.",
            Self::TemplateVariableMissing => "The template uses a variable this recipient lacks.",
            Self::BadRequest => "The request is malformed.",
            Self::PayloadTooLarge => "The request is larger than the limit.",
            Self::Unauthorized => "The API key is missing or wrong.",
            Self::NotFound => "No such resource.",
            Self::Conflict => "The action does not fit the current state.",
            Self::Cancelled => "The campaign was cancelled before this message was sent.",
            Self::IdempotencyKeyReused => {
                "The Idempotency-Key was already used with a different request body."
            }
            Self::IdempotencyKeyInProgress => {
                "A request with the same Idempotency-Key is still being processed."
            }
            Self::Internal => "Something failed on our side; it has been logged.",
        }
    }

    /// What to run or change to fix it; `{account}` and `{campaign}` are filled by [`Self::hint_for`].
    pub fn hint(self) -> &'static str {
        match self {
            Self::SessionExpired => {
                "Run `wacamp setup --account {account} --force`, then `wacamp resume {campaign}`."
            }
            Self::SessionRestoredFromBackup => {
                "Nothing to do; `wacamp session list --account {account}` shows the generations."
            }
            Self::SessionConflict => {
                "Close WhatsApp Web elsewhere, or set TAKE_OVER_CONFLICT=true; then `wacamp resume {campaign}`."
            }
            Self::AccountBanned => "Contact WhatsApp support; the campaign stays paused.",
            Self::WaOutdated => "Update Chromium (CHROMIUM_PATH) or the sender image.",
            Self::WaUnreachable => "The record is retried automatically; check the network if it persists.",
            Self::InvalidPhone => {
                "Correct the number (international format, e.g. +4915112345678) and start again."
            }
            Self::NotOnWhatsapp => "Remove the number from the list.",
            Self::SendTimeout => "The record is retried after checking the chat for the message.",
            Self::BrowserCrashed => "The record is retried; raise the sender's memory if it persists.",
            Self::RateLimited => "Messages wait for the next window; raise the cap in the sender's settings.",
            Self::TemplateVariableMissing => {
                "Add the variable to the recipient row or remove it from the template."
            }
            Self::BadRequest => "Fix the named field and send the request again.",
            Self::PayloadTooLarge => "Split the campaign into smaller requests.",
            Self::Unauthorized => "Send the API key in the `x-api-key` header.",
            Self::NotFound => "Check the identifier; `wacamp status` lists campaigns you started.",
            Self::Conflict => "Check the campaign status first with `wacamp status {campaign}`.",
            Self::Cancelled => "Start a new campaign to send it.",
            Self::IdempotencyKeyReused => "Use a new Idempotency-Key for a different campaign.",
            Self::IdempotencyKeyInProgress => "Retry the same request after the Retry-After seconds.",
            Self::Internal => "Try again; if it persists, report the request id.",
        }
    }

    /// Whether a message that FAILED with this code may succeed if tried again (a resume with
    /// `retry_failed` re-queues these; an invalid or unregistered number never will).
    pub fn is_retryable(self) -> bool {
        matches!(self, Self::SendTimeout | Self::BrowserCrashed | Self::WaUnreachable | Self::RateLimited)
    }

    /// The hint with the account and campaign filled in.
    pub fn hint_for(self, account: &str, campaign: &str) -> String {
        self.hint().replace("{account}", account).replace("{campaign}", campaign)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_and_serde_form_agree() {
        for code in [ErrorCode::SessionExpired, ErrorCode::NotOnWhatsapp, ErrorCode::TemplateVariableMissing]
        {
            let json = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn expired_hint_names_the_setup_and_resume_commands() {
        let hint = ErrorCode::SessionExpired.hint_for("shop", "c-1");
        assert_eq!(hint, "Run `wacamp setup --account shop --force`, then `wacamp resume c-1`.");
    }
}
