//! The delivery of one message: take a send slot, claim the row, check the chat or send, settle
//! the row — and say what becomes of its record as a typed [`Disposition`].

use crate::Deps;
use crate::browser::{Browser, Earlier, GoneBrowser, Outgoing, SendOutcome};
use crate::crash;
use crate::deadline::secs;
use crate::media_files::Fetched;
use crate::relaunch::Relaunch;
use crate::tally::Tally;
use campaign_store::{Claim, Finish, Lease, SendCaps, SlotGrant, StoreError, Transition};
use domain::lifecycle::message;
use domain::{ErrorCode, Media, PhoneNumber, QueuedMessage, Template, rfc3339};
use std::time::Duration;

/// The longest delay a record is given back with. SQS refuses a visibility that reaches past 12
/// hours from the record's receipt (no clamping), and the receipt came before this invocation
/// started: 20 minutes are kept for the invocation (at most 15) and the event-source mapping's
/// hand-over. The batch takes the time it already ran off as well.
pub const MAX_DELAY: Duration = Duration::from_secs(12 * 3600 - 20 * 60);

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Done with it: acknowledge the record.
    Ack(Done),
    /// Give the record back, visible again after `delay` (the configured retry delay if `None`):
    /// trouble that passes. It never reaches the dead-letter queue for it: a record about to is
    /// issued again instead (see [`crate::batch`]).
    Retry {
        /// Why, for the log.
        reason: String,
        /// How long it stays invisible.
        delay: Option<Duration>,
    },
    /// The record names no row (a stray): no retry can succeed. Given back like a retry but never
    /// issued again, so it ends in the dead-letter queue, where the reconciler logs and drops it.
    Stray {
        /// Why, for the log.
        reason: String,
    },
}

impl Disposition {
    /// Whether the record goes back to the queue (the rest of its group then follows it).
    pub fn gives_back(&self) -> bool {
        !matches!(self, Self::Ack(_))
    }

    /// A retry after the configured delay.
    pub fn retry(reason: impl Into<String>) -> Self {
        Self::Retry { reason: reason.into(), delay: None }
    }

    /// A retry after `delay`.
    pub fn retry_after(reason: impl Into<String>, delay: Duration) -> Self {
        Self::Retry { reason: reason.into(), delay: Some(delay) }
    }
}

/// Why a record is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// The message went out (or was found in the chat) and SENT is recorded.
    Sent,
    /// The row ended FAILED with its code.
    Failed,
    /// The row is PAUSED with the command that continues it.
    Paused,
    /// The row was already SENT, FAILED, CANCELLED or PAUSED: nothing to do.
    AlreadySettled,
    /// Another sender took the claim over meanwhile; it finishes the row.
    ClaimLost,
    /// The campaign was cancelled and the earlier attempt did not go out: the row ends CANCELLED.
    Cancelled,
    /// The recipient is outside the account's sending window: the row waits QUEUED, held until
    /// it opens, and the reconciler issues its record again then.
    Held,
}

/// What an account's run hands each delivery: its caps and the one relaunch it may spend.
pub struct AccountRun<'a, 'p> {
    /// Sends allowed per hour and day (the warm-up step included).
    pub caps: SendCaps,
    /// The relaunch of a crashed browser.
    pub relaunch: &'a mut Relaunch<'p>,
}

/// What the campaign of a message allows.
#[derive(Debug, Clone)]
pub struct CampaignInfo {
    /// Its template (`None` when the stored one does not parse).
    pub template: Option<Template>,
    /// A cancelled campaign's rows are never sent.
    pub cancelled: bool,
    /// The files its rows send.
    pub attachments: Vec<Media>,
}

/// The outcome of one delivery: the browser back, the record's disposition, and a reason to stop
/// the account's run when the session or the account stopped being usable.
pub struct Delivered {
    /// The browser to go on with (a stand-in when it died).
    pub browser: Box<dyn Browser>,
    /// What becomes of the record.
    pub disposition: Disposition,
    /// Set when nothing more may be sent in this run.
    pub stop: Option<String>,
    /// Set when the session stopped being usable mid-send (the page logged out, was taken
    /// elsewhere, banned): the profile must not be backed up as a working one.
    pub session_stopped: Option<ErrorCode>,
    /// The recipient (E.164) when the message went out in this delivery and its chat is still
    /// open (not found from an earlier attempt): its receipts can be watched.
    pub sent_to: Option<String>,
}

impl Delivered {
    fn new(browser: Box<dyn Browser>, disposition: Disposition) -> Self {
        Self { browser, disposition, stop: None, session_stopped: None, sent_to: None }
    }

    fn stopping(browser: Box<dyn Browser>, disposition: Disposition, why: String) -> Self {
        Self { browser, disposition, stop: Some(why), session_stopped: None, sent_to: None }
    }
}

/// The delay until epoch second `at`, from `now`: at least a second, at most what SQS accepts.
pub fn wait_until(at: i64, now: i64) -> Duration {
    Duration::from_secs(u64::try_from(at - now).unwrap_or(1).max(1)).min(MAX_DELAY)
}

/// Claims, sends (or verifies) and settles one message.
pub async fn deliver(
    deps: &Deps,
    browser: Box<dyn Browser>,
    m: &QueuedMessage,
    campaign: &CampaignInfo,
    run: &mut AccountRun<'_, '_>,
    tally: &mut Tally,
) -> Delivered {
    let caps = run.caps;
    // The account's caps (its warm-up step included), before the claim: a full window touches nothing (the row stays QUEUED
    // with its attempts, so waiting for a window never brings it nearer to FAILED) and the record
    // (and the rest of its group) waits for the next window. One slot per handling, whatever
    // follows (a verification, a relaunch and a second try): a slot taken for a row that then
    // turns out settled, claimed elsewhere or already delivered is simply spent — conservative,
    // the cap is never passed. A cancelled campaign's rows are never sent, so they take none.
    if caps.any() && !campaign.cancelled {
        let now = deps.clock.unix();
        match deps.gate.take_send_slot(&m.account, now, caps).await {
            Ok(SlotGrant::Granted) => {}
            Ok(SlotGrant::CapReached { opens_at }) => {
                let wait = wait_until(opens_at, now);
                tracing::info!(account = %m.account, campaign = %m.campaign_id, seq = %m.seq, wait_s = wait.as_secs(), code = %ErrorCode::RateLimited, "send cap reached; the rest waits for the next window");
                let why = format!("{}: send cap reached", ErrorCode::RateLimited);
                return Delivered::stopping(browser, Disposition::retry_after(why.clone(), wait), why);
            }
            Err(e) => return Delivered::stopping(browser, Disposition::retry(e.to_string()), e.to_string()),
        }
    }
    let now = deps.clock.now();
    let lease = Lease {
        now: now.unix_timestamp(),
        until: now.unix_timestamp() + secs(deps.config.lease),
        at: rfc3339(now),
    };
    let (row, ambiguous, verify_only) = match deps.store.claim_message(&m.campaign_id, m.seq, &lease).await {
        Err(e) => return Delivered::new(browser, Disposition::retry(e.to_string())),
        Ok(Claim::Settled) => return Delivered::new(browser, Disposition::Ack(Done::AlreadySettled)),
        Ok(Claim::Missing) => {
            return Delivered::new(
                browser,
                Disposition::Stray { reason: format!("row {}#{} not found", m.campaign_id, m.seq) },
            );
        }
        Ok(Claim::Busy { lease_until }) => {
            let wait = u64::try_from(lease_until - lease.now + 1).unwrap_or(1);
            return Delivered::new(
                browser,
                Disposition::retry_after("another sender holds the claim", Duration::from_secs(wait)),
            );
        }
        Ok(Claim::Fresh(row)) => (row, false, false),
        Ok(Claim::Ambiguous(row)) => (row, true, false),
        // Cancelled while an earlier attempt was out: look, record what happened, never send.
        Ok(Claim::VerifyOnly(row)) => (row, true, true),
    };
    crash::hit(crash::CLAIMED, m, row.attempts);
    // Every claim is a try, counted since the row was last queued for a retry. The last one ends
    // the row whatever happens; past it (a process that died on every try), the chat is only
    // looked at: found, the row is SENT, else it FAILS, retryable.
    let last_try = message::out_of_tries(&row.state(), deps.config.max_attempts);
    let look_only = verify_only || row.tries > deps.config.max_attempts;
    let finish = |f: Finish| {
        let at = lease.at.clone();
        async move { deps.store.finish_message(&m.campaign_id, m.seq, row.attempts, &f, &at).await }
    };
    // The same text on every attempt of the row: a choice picks from the campaign and the row.
    let text = match campaign.template.as_ref().map(|t| t.render_for(&row.vars, &m.campaign_id, m.seq)) {
        Some(Ok(text)) => text,
        _ => {
            tally.failed += 1;
            return settle(
                finish(Finish::Failed(ErrorCode::TemplateVariableMissing)).await,
                browser,
                Done::Failed,
            );
        }
    };
    let Ok(phone) = PhoneNumber::parse(&row.phone, None) else {
        tally.failed += 1;
        return settle(finish(Finish::Failed(ErrorCode::InvalidPhone)).await, browser, Done::Failed);
    };
    // The file the message carries, as the campaign recorded it. It is fetched only right before
    // a send: looking in the chat for an earlier attempt needs its caption, not the file.
    let media = match &row.media {
        None => None,
        Some(id) => match campaign.attachments.iter().find(|a| &a.id == id) {
            Some(media) => Some(media),
            // The campaign never had the file, so no attempt of the row could have carried it.
            None => {
                tally.failed += 1;
                return settle(finish(Finish::Failed(ErrorCode::MediaMissing)).await, browser, Done::Failed);
            }
        },
    };
    let mut message = Outgoing { text, attachment: None };
    let mut ambiguous = ambiguous || look_only;
    // The account's opt-out list, right before sending: a number that opted out after the
    // campaign was accepted is never messaged. An earlier attempt that did go out is still
    // found in the chat and recorded SENT.
    let opted_out = match deps.store.opted_out(&m.account, &[phone.e164().to_owned()]).await {
        Ok(listed) => !listed.is_empty(),
        Err(e) => return Delivered::new(browser, Disposition::retry(e.to_string())),
    };
    if opted_out && !ambiguous {
        tracing::info!(campaign = %m.campaign_id, seq = %m.seq, code = %ErrorCode::OptedOut, "the recipient opted out; not sent");
        tally.failed += 1;
        return settle(finish(Finish::Failed(ErrorCode::OptedOut)).await, browser, Done::Failed);
    }
    // Only messages sent since this row was first claimed prove an earlier attempt.
    let since = row.claimed_at.and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok());
    let mut browser = browser;
    loop {
        if ambiguous {
            // An earlier attempt may have gone out: look in the chat before sending again.
            let (phone2, text, with_file) = (phone.clone(), message.text.clone(), media.is_some());
            let checked = tokio::task::spawn_blocking(move || {
                let mut b = browser;
                let r = b.already_sent(&phone2, &text, with_file, since);
                (b, r)
            })
            .await;
            match checked {
                Ok((b, Ok(Earlier::Delivered))) => {
                    tracing::info!(campaign = %m.campaign_id, seq = %m.seq, "earlier attempt was delivered; not sent again");
                    tally.sent += 1;
                    return settle(finish(Finish::Sent).await, b, Done::Sent);
                }
                // Still the clock after the ack timeout: it may yet go out on its own, so it is
                // never sent again; the record comes back once the claim lapsed and looks again,
                // and on the last try the row fails, retryable (a retry looks first too).
                Ok((b, Ok(Earlier::Pending))) if last_try || look_only => {
                    tracing::warn!(campaign = %m.campaign_id, seq = %m.seq, code = %ErrorCode::SendTimeout, "an earlier attempt still shows the clock on the last try");
                    tally.failed += 1;
                    return settle(finish(Finish::Failed(ErrorCode::SendTimeout)).await, b, Done::Failed);
                }
                Ok((b, Ok(Earlier::Pending))) => {
                    return Delivered::new(
                        b,
                        after_lease(deps, "an earlier attempt still shows the clock in the chat"),
                    );
                }
                Ok((b, Ok(Earlier::Absent))) if verify_only => {
                    tracing::info!(campaign = %m.campaign_id, seq = %m.seq, "campaign cancelled; the earlier attempt did not go out and none follows");
                    return settle(finish(Finish::Released).await, b, Done::Cancelled);
                }
                Ok((b, Ok(Earlier::Absent))) if opted_out => {
                    tracing::info!(campaign = %m.campaign_id, seq = %m.seq, code = %ErrorCode::OptedOut, "the earlier attempt did not go out and the recipient opted out; not sent");
                    tally.failed += 1;
                    return settle(finish(Finish::Failed(ErrorCode::OptedOut)).await, b, Done::Failed);
                }
                Ok((b, Ok(Earlier::Absent))) if look_only => {
                    tracing::warn!(campaign = %m.campaign_id, seq = %m.seq, tries = row.tries, code = %ErrorCode::BrowserCrashed, "no try left and the earlier ones did not go out");
                    tally.failed += 1;
                    return settle(finish(Finish::Failed(ErrorCode::BrowserCrashed)).await, b, Done::Failed);
                }
                Ok((b, Ok(Earlier::Absent))) => browser = b,
                Ok((b, Err(e))) => match run.relaunch.again(deps, b, &e, tally).await {
                    Ok(fresh) => {
                        browser = fresh;
                        continue;
                    }
                    Err(b) if last_try => {
                        tally.failed += 1;
                        let done =
                            settle(finish(Finish::Failed(ErrorCode::BrowserCrashed)).await, b, Done::Failed);
                        return Delivered { stop: Some(e), ..done };
                    }
                    Err(b) => {
                        return Delivered::stopping(
                            b,
                            Disposition::retry(format!("could not verify an earlier attempt: {e}")),
                            e,
                        );
                    }
                },
                Err(e) => {
                    return Delivered::stopping(
                        Box::new(GoneBrowser),
                        Disposition::retry(e.to_string()),
                        e.to_string(),
                    );
                }
            }
        }
        if let Some(media) = media
            && message.attachment.is_none()
        {
            match deps.files.get(&m.campaign_id, media).await {
                Ok(Fetched::Ready(file)) => message.attachment = Some(file),
                Ok(Fetched::Missing) => {
                    tracing::warn!(campaign = %m.campaign_id, seq = %m.seq, code = %ErrorCode::MediaMissing, "the campaign's file is gone from the media bucket; not sent");
                    tally.failed += 1;
                    return settle(
                        finish(Finish::Failed(ErrorCode::MediaMissing)).await,
                        browser,
                        Done::Failed,
                    );
                }
                Err(why) if last_try => {
                    tracing::warn!(campaign = %m.campaign_id, seq = %m.seq, code = %ErrorCode::MediaUnavailable, error = %why, "the campaign's file could not be fetched on the last try; not sent");
                    tally.failed += 1;
                    return settle(
                        finish(Finish::Failed(ErrorCode::MediaUnavailable)).await,
                        browser,
                        Done::Failed,
                    );
                }
                // The claim stays until its lease ends; the next try looks in the chat first.
                Err(why) => return Delivered::new(browser, after_lease(deps, format!("media fetch: {why}"))),
            }
        }
        let (phone2, message2) = (phone.clone(), message.clone());
        let sent = tokio::task::spawn_blocking(move || {
            let outcome = browser.send(&phone2, &message2);
            (browser, outcome)
        })
        .await;
        let (b, outcome) = match sent {
            Ok(pair) => pair,
            Err(e) => {
                return Delivered::stopping(
                    Box::new(GoneBrowser),
                    Disposition::retry(e.to_string()),
                    e.to_string(),
                );
            }
        };
        browser = b;
        return match outcome {
            SendOutcome::Sent => {
                crash::hit(crash::CLICKED, m, row.attempts);
                tracing::info!(campaign = %m.campaign_id, seq = %m.seq, account = %m.account, "message sent");
                tally.sent += 1;
                let written = finish(Finish::Sent).await;
                crash::hit(crash::RECORDED, m, row.attempts);
                Delivered { sent_to: Some(phone.e164().to_owned()), ..settle(written, browser, Done::Sent) }
            }
            SendOutcome::NotOnWhatsapp => {
                tally.failed += 1;
                settle(finish(Finish::Failed(ErrorCode::NotOnWhatsapp)).await, browser, Done::Failed)
            }
            SendOutcome::Refused(code) => {
                tracing::warn!(campaign = %m.campaign_id, seq = %m.seq, %code, "WhatsApp Web refused the message's file; nothing sent");
                tally.failed += 1;
                settle(finish(Finish::Failed(code)).await, browser, Done::Failed)
            }
            // The session stopped being usable mid-send: the message may have gone out, so it
            // waits PAUSED (checked in the chat after the resume), on any try — never FAILED,
            // which only `retry_failed` could reach.
            SendOutcome::Uncertain(code) if code.pauses() => {
                tally.paused += 1;
                let done = settle(finish(Finish::Paused(code)).await, browser, Done::Paused);
                Delivered {
                    stop: Some(format!("the session stopped being usable ({code})")),
                    session_stopped: Some(code),
                    ..done
                }
            }
            SendOutcome::Uncertain(code) if last_try => {
                tally.failed += 1;
                settle(finish(Finish::Failed(code)).await, browser, Done::Failed)
            }
            SendOutcome::Uncertain(code) => {
                // Left SENDING under its lease: the next attempt verifies in the chat first.
                Delivered::new(browser, after_lease(deps, format!("{code}: delivery not confirmed")))
            }
            SendOutcome::Crashed(why) => match run.relaunch.again(deps, browser, &why, tally).await {
                // A fresh browser on the same profile: the click may have gone out, so verify first.
                Ok(fresh) => {
                    browser = fresh;
                    ambiguous = true;
                    continue;
                }
                Err(b) if last_try => {
                    tally.failed += 1;
                    let done =
                        settle(finish(Finish::Failed(ErrorCode::BrowserCrashed)).await, b, Done::Failed);
                    Delivered { stop: Some(why), ..done }
                }
                Err(b) => Delivered::stopping(b, after_lease(deps, format!("browser crashed: {why}")), why),
            },
        };
    }
}

/// Gives the record back until the claim its row is left under has lapsed: the next try finds
/// the row claimed before and looks in the chat first.
fn after_lease(deps: &Deps, why: impl Into<String>) -> Disposition {
    Disposition::retry_after(why, deps.config.lease + Duration::from_secs(1))
}

/// The disposition of a finish: acknowledged as `done` when it applied, acknowledged too when
/// another sender took the claim over (it finishes the row), given back when the store failed.
fn settle(result: Result<Transition, StoreError>, browser: Box<dyn Browser>, done: Done) -> Delivered {
    match result {
        Ok(Transition::Applied) => Delivered::new(browser, Disposition::Ack(done)),
        Ok(Transition::NotApplicable | Transition::Missing) => {
            Delivered::new(browser, Disposition::Ack(Done::ClaimLost))
        }
        Err(e) => Delivered::new(browser, Disposition::retry(e.to_string())),
    }
}
