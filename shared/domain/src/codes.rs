//! The one catalogue of stable error codes: for each code its wire form, one sentence saying
//! what happened, one hint naming the command or setting that fixes it, whether a message that
//! failed with it may succeed when tried again, and the HTTP status an API answer with it takes.
//! HTTP bodies, CLI output and logs all read from here, so an operator can search for a code and
//! find the fix; every layer's error type has a `code()` that returns one of these.

use serde::{Deserialize, Serialize};

macro_rules! catalogue {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $wire:literal, $status:literal, retryable: $retry:literal,
            $sentence:literal,
            $hint:literal;
    )+) => {
        /// A stable, machine-readable reason. The serialized form (`SESSION_EXPIRED`) never changes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $($(#[$doc])* #[serde(rename = $wire)] $variant,)+
        }

        impl ErrorCode {
            /// Every code, in catalogue order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The code as it appears on the wire and in logs.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $wire,)+ }
            }

            /// One sentence saying what happened.
            pub fn sentence(self) -> &'static str {
                match self { $(Self::$variant => $sentence,)+ }
            }

            /// What to run or change to fix it; `{account}` and `{campaign}` are filled by
            /// [`Self::hint_for`].
            pub fn hint(self) -> &'static str {
                match self { $(Self::$variant => $hint,)+ }
            }

            /// Whether a message that FAILED with this code may succeed if tried again (a resume
            /// with `retry_failed` re-queues these; an invalid or unregistered number never will).
            pub fn is_retryable(self) -> bool {
                match self { $(Self::$variant => $retry,)+ }
            }

            /// The HTTP status of an API error answer with this code.
            pub fn http_status(self) -> u16 {
                match self { $(Self::$variant => $status,)+ }
            }

            /// The code whose wire form is `text`.
            pub fn from_wire(text: &str) -> Option<Self> {
                match text { $($wire => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}

catalogue! {
    /// No stored session generation logs in any more.
    SessionExpired = "SESSION_EXPIRED", 409, retryable: false,
        "The WhatsApp Web session expired and no stored backup logs in.",
        "Run `wacamp setup --account {account} --force`; campaign {campaign} then resumes by itself (after `--no-resume`: `wacamp resume {campaign}`).";
    /// An older generation was restored after the current one stopped working (informational).
    SessionRestoredFromBackup = "SESSION_RESTORED_FROM_BACKUP", 200, retryable: false,
        "The current session stopped working; an older backup was restored and is now current.",
        "Nothing to do; `wacamp session list --account {account}` shows the generations.";
    /// The session has not logged in for longer than the warning threshold (a warning).
    SessionStale = "SESSION_STALE", 200, retryable: false,
        "The session has not logged in for a long time and WhatsApp may soon log it out.",
        "Keep the phone online and let account {account} log in (any campaign does); if it was logged out, run `wacamp setup --account {account} --force`.";
    /// The recipient is on the account's opt-out list: the row ends FAILED, never sent.
    OptedOut = "OPTED_OUT", 409, retryable: false,
        "The recipient asked not to be contacted by this account (it is on the account's opt-out list).",
        "Nothing to do; if they agreed to be contacted again, `wacamp opt-out remove --account {account} <phone>`.";
    /// Most recipients of a campaign would get the same text (a warning at acceptance).
    IdenticalText = "IDENTICAL_TEXT", 200, retryable: false,
        "Most recipients would get exactly the same text; WhatsApp may restrict a number that sends one text to many.",
        "Vary the template with `{{column}}` variables from the recipient list or `{Hi|Hello|Good day}` choices.";
    /// WhatsApp Web is open in another window for the account.
    SessionConflict = "SESSION_CONFLICT", 409, retryable: false,
        "WhatsApp Web is open for this account in another window.",
        "Close WhatsApp Web elsewhere, or set TAKE_OVER_CONFLICT=true; then `wacamp resume {campaign}`.";
    /// WhatsApp banned the account.
    AccountBanned = "ACCOUNT_BANNED", 409, retryable: false,
        "WhatsApp has banned this account.",
        "Contact WhatsApp support; the campaign stays paused.";
    /// WhatsApp Web refuses this browser as outdated.
    WaOutdated = "WA_OUTDATED", 409, retryable: false,
        "WhatsApp Web refuses this browser version.",
        "Update Chromium (WA_CHROMIUM_PATH) or the sender image.";
    /// WhatsApp Web could not be reached or did not answer in time.
    WaUnreachable = "WA_UNREACHABLE", 503, retryable: true,
        "WhatsApp Web could not be reached in time.",
        "The record is retried automatically; check the network if it persists.";
    /// The phone number is not a valid number.
    InvalidPhone = "INVALID_PHONE", 400, retryable: false,
        "The phone number is not a valid number.",
        "Correct the number (international format, e.g. +4915112345678) and start again.";
    /// The number is valid but has no WhatsApp account.
    NotOnWhatsapp = "NOT_ON_WHATSAPP", 422, retryable: false,
        "The number has no WhatsApp account.",
        "Remove the number from the list.";
    /// WhatsApp Web did not take a campaign's file (its type or size); nothing was sent.
    MediaRefused = "MEDIA_REFUSED", 422, retryable: false,
        "WhatsApp Web refused the campaign's file; nothing was sent.",
        "Send a JPEG or PNG image (at most 5 MB) or a PDF (at most 100 MB) in a new campaign.";
    /// The campaign's stored file is gone (removed from the media bucket).
    MediaMissing = "MEDIA_MISSING", 410, retryable: false,
        "The campaign's file is no longer in the media bucket; nothing was sent.",
        "Upload the file again and start a new campaign for the rows that failed (`wacamp messages {campaign} --status FAILED`).";
    /// The campaign's file could not be fetched on any try (the media bucket failed or refused).
    MediaUnavailable = "MEDIA_UNAVAILABLE", 503, retryable: true,
        "The campaign's file could not be fetched from the media bucket on any try; nothing was sent.",
        "Check the sender's access to the media bucket (its log names the error), then `wacamp resume {campaign} --retry-failed`.";
    /// The message was sent but the server acknowledgement never came.
    SendTimeout = "SEND_TIMEOUT", 504, retryable: true,
        "The message was handed to WhatsApp Web but never acknowledged.",
        "The record is retried after checking the chat for the message.";
    /// Chromium crashed or could not start.
    BrowserCrashed = "BROWSER_CRASHED", 503, retryable: true,
        "Chromium crashed or did not start.",
        "The record is retried; raise the sender's memory if it persists.";
    /// The per-account sending cap was reached.
    RateLimited = "RATE_LIMITED", 429, retryable: true,
        "The account reached its sending cap for now.",
        "Messages wait for the next window; raise CAP_PER_HOUR or CAP_PER_DAY to send more.";
    /// The recipient is outside the account's sending window: the message waits, never fails.
    QuietHours = "QUIET_HOURS", 200, retryable: true,
        "The recipient is outside the account's sending window; the message waits until it opens.",
        "Nothing to do; `wacamp window show --account {account}` shows the window and `wacamp window set` changes it.";
    /// The template names a variable the recipient row does not have.
    TemplateVariableMissing = "TEMPLATE_VARIABLE_MISSING", 400, retryable: false,
        "The template uses a variable this recipient lacks.",
        "Add the variable to the recipient row or remove it from the template.";
    /// The request body or parameters are malformed.
    BadRequest = "BAD_REQUEST", 400, retryable: false,
        "The request is malformed.",
        "Fix the named field and send the request again.";
    /// The request is larger than the documented limit.
    PayloadTooLarge = "PAYLOAD_TOO_LARGE", 413, retryable: false,
        "The request is larger than the limit.",
        "Split the campaign into smaller requests.";
    /// The API key is missing or wrong.
    Unauthorized = "UNAUTHORIZED", 401, retryable: false,
        "The API key is missing or wrong.",
        "Send the API key in the `x-api-key` header.";
    /// The campaign (or another named resource) does not exist.
    NotFound = "NOT_FOUND", 404, retryable: false,
        "No such resource.",
        "Check the identifier; `wacamp campaigns --account <account>` lists the campaigns.";
    /// The path exists but not with this method.
    MethodNotAllowed = "METHOD_NOT_ALLOWED", 405, retryable: false,
        "The path does not take this method.",
        "Use one of the methods in the `allow` header (docs/openapi.yaml lists every route).";
    /// The action does not fit the resource's current state.
    Conflict = "CONFLICT", 409, retryable: false,
        "The action does not fit the current state.",
        "Check the campaign status first with `wacamp status {campaign}`.";
    /// The campaign was cancelled before the message was sent.
    Cancelled = "CANCELLED", 409, retryable: false,
        "The campaign was cancelled before this message was sent.",
        "Start a new campaign to send it.";
    /// An `Idempotency-Key` was sent again with a different body.
    IdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED", 422, retryable: false,
        "The Idempotency-Key was already used with a different request body.",
        "Use a new Idempotency-Key for a different campaign.";
    /// A request with the same `Idempotency-Key` is still being processed.
    IdempotencyKeyInProgress = "IDEMPOTENCY_KEY_IN_PROGRESS", 409, retryable: false,
        "A request with the same Idempotency-Key is still being processed.",
        "Retry the same request after the Retry-After seconds.";
    /// The campaign table kept turning a change away (conflicts, throttling, no reply) past every
    /// try; what was done so far stays done.
    StoreBusy = "STORE_BUSY", 503, retryable: false,
        "The campaign table kept turning the change away; nothing was lost and what was done stays done.",
        "Run the same command again: it continues where this one stopped.";
    /// An unexpected failure on our side; details are in the logs, never in the response.
    Internal = "INTERNAL", 500, retryable: false,
        "Something failed on our side; it has been logged.",
        "Try again; if it persists, report the request id.";
    /// The account has no stored session, or the named generation does not exist.
    ProfileNotFound = "PROFILE_NOT_FOUND", 404, retryable: false,
        "No stored session profile was found for the account or generation.",
        "Run `wacamp setup --account {account}` to link it.";
    /// A stored generation failed its checksum, its seal or the archive format.
    ProfileCorrupt = "PROFILE_CORRUPT", 500, retryable: false,
        "A stored session profile is damaged; nothing was unpacked from it.",
        "Mark it bad and restore an older one: `wacamp session list --account {account}`, then `wacamp session restore`.";
    /// An encrypted generation, and no encryption key configured.
    ProfileKeyMissing = "PROFILE_KEY_MISSING", 500, retryable: false,
        "The stored session profile is encrypted and no encryption key is configured.",
        "Set PROFILE_ENCRYPTION_KEY to the key setup used, then `wacamp resume {campaign}`.";
    /// An encrypted generation the configured key does not open.
    ProfileKeyWrong = "PROFILE_KEY_WRONG", 500, retryable: false,
        "The configured encryption key does not open the stored session profile.",
        "Set PROFILE_ENCRYPTION_KEY to the key setup used, then `wacamp resume {campaign}`.";
    /// The session pointer moved under a writer.
    ProfileConflict = "PROFILE_CONFLICT", 409, retryable: false,
        "Another writer moved the session pointer; nothing was overwritten.",
        "Read it again and retry: `wacamp session list --account {account}` shows where it points.";
    /// S3 or DynamoDB could not be reached or refused a profile call.
    ProfileStoreUnavailable = "PROFILE_STORE_UNAVAILABLE", 503, retryable: false,
        "The session profile store could not be reached.",
        "Check AWS access to PROFILE_BUCKET and TABLE_NAME (and AWS_ENDPOINT_URL locally), then retry.";
    /// An archive holds something a profile never holds (escape, link, device, bomb).
    ProfileHostile = "PROFILE_HOSTILE", 500, retryable: false,
        "A stored session profile holds entries a profile never holds; it was refused.",
        "It was not written by wacamp: mark it bad and restore another one with `wacamp session restore`.";
    /// The local profile directory could not be read, or the restore directory written.
    ProfileLocalIo = "PROFILE_LOCAL_IO", 500, retryable: false,
        "Local profile files could not be read or written.",
        "Check free space and permissions of the profile and temp directories.";
    /// The browser profile is locked by another Chromium.
    ProfileLocked = "PROFILE_LOCKED", 409, retryable: false,
        "The browser profile is locked by another Chromium.",
        "Stop the other browser, or set WA_REMOVE_STALE_LOCK=1 when the lock comes from another host.";
    /// The session stopped being usable in the middle of a driver step.
    SessionLost = "SESSION_LOST", 409, retryable: false,
        "The WhatsApp Web session stopped being usable in the middle of a step.",
        "Check the account with `wacamp session check --account {account}`.";
    /// The WhatsApp Web selectors file or override is unreadable or malformed.
    SelectorsInvalid = "SELECTORS_INVALID", 500, retryable: false,
        "The WhatsApp Web selectors configuration is unreadable or malformed.",
        "Fix the file named by WA_SELECTORS_FILE, or unset it to use the built-in selectors.";
    /// The driver configuration is unusable.
    DriverConfigInvalid = "DRIVER_CONFIG_INVALID", 500, retryable: false,
        "The browser driver configuration is unusable.",
        "Fix the named WA_* setting (see the README's configuration table).";
}

impl ErrorCode {
    /// Whether a message that met this code waits PAUSED for the operator (the account's
    /// session stopped being usable) rather than failing: only a resume can continue it.
    pub fn pauses(self) -> bool {
        matches!(
            self,
            Self::SessionExpired
                | Self::SessionConflict
                | Self::AccountBanned
                | Self::WaOutdated
                | Self::SessionLost
        )
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

/// Lets tests and callers compare a code with its wire form directly.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_and_serde_form_agree() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert_eq!(ErrorCode::from_wire(code.as_str()), Some(*code));
        }
    }

    #[test]
    fn expired_hint_names_the_setup_command_and_the_resume_for_a_setup_that_does_not_resume() {
        let hint = ErrorCode::SessionExpired.hint_for("shop", "c-1");
        assert_eq!(
            hint,
            "Run `wacamp setup --account shop --force`; campaign c-1 then resumes by itself (after `--no-resume`: `wacamp resume c-1`)."
        );
    }

    #[test]
    fn every_code_has_a_distinct_wire_form_a_sentence_and_a_hint() {
        let mut wires: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        wires.sort_unstable();
        wires.dedup();
        assert_eq!(wires.len(), ErrorCode::ALL.len());
        for code in ErrorCode::ALL {
            assert!(code.sentence().ends_with('.') && code.hint().ends_with('.'), "{code}");
            assert!((200..600).contains(&code.http_status()), "{code}");
        }
    }
}
