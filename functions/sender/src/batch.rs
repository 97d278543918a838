//! One SQS batch: records to per-account work and the work's dispositions back to a batch
//! response. The only module that knows SQS.
//!
//! Rules kept here: a malformed record is logged and acknowledged (it can never succeed);
//! records are grouped by message group (the account), in order of first appearance; once a
//! record of a group is given back, every later record of that group in the batch is given back
//! too, with its delay, so FIFO order holds. A record is given back within the 12 hours from its
//! receipt that SQS allows, and one whose receive count reached the queue's `maxReceiveCount` is
//! issued again instead (a fresh record, acknowledged in place of the old), so trouble that
//! passes — WhatsApp Web unreachable, a busy account, the store down, the deadline, a cap — never
//! sends it to the dead-letter queue; only strays (no row) end there.

use crate::Deps;
use crate::account::{self, BEHIND_ITS_GROUP, BrowserLease};
use crate::deadline::Deadline;
use crate::delivery::{Disposition, MAX_DELAY};
use crate::tally::Tally;
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use domain::QueuedMessage;
use std::time::{Duration, Instant};

/// One record of an account's group.
struct Job<'a> {
    record: &'a SqsMessage,
    message: QueuedMessage,
}

fn item_failure(id: String) -> BatchItemFailure {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = id;
    failure
}

/// The records by message group, in order of first appearance; malformed ones are counted as
/// acknowledged and left out.
fn groups<'a>(event: &'a SqsEvent, tally: &mut Tally) -> Vec<(String, Vec<Job<'a>>)> {
    let mut groups: Vec<(String, Vec<Job<'a>>)> = Vec::new();
    for record in &event.records {
        let body = record.body.as_deref().unwrap_or_default();
        let message: QueuedMessage = match serde_json::from_str(body) {
            Ok(m) => m,
            Err(e) => {
                // It can never succeed: log it (without its content) and drop it.
                tracing::error!(error = %e, bytes = body.len(), "malformed queue record acknowledged");
                tally.acked += 1;
                continue;
            }
        };
        let group =
            record.attributes.get("MessageGroupId").cloned().unwrap_or_else(|| message.account.to_string());
        match groups.iter_mut().find(|(g, _)| *g == group) {
            Some((_, jobs)) => jobs.push(Job { record, message }),
            None => groups.push((group, vec![Job { record, message }])),
        }
    }
    groups
}

/// The receive count SQS reports on a record (1 for its first delivery).
fn receive_count(record: &SqsMessage) -> u32 {
    record.attributes.get("ApproximateReceiveCount").and_then(|n| n.parse().ok()).unwrap_or(1)
}

/// What becomes of one record given back.
enum GiveBack {
    /// Back to the queue, visible again after `delay`.
    Later(Duration),
    /// Issued again (a fresh record, receive count 0) and this one acknowledged: giving it back
    /// once more would move it to the dead-letter queue, and the trouble it waits out passes.
    Again,
}

/// How a record given back with `delay` (the configured one if `None`) goes back, `started`
/// being when the batch began: within what SQS accepts from its receipt, and issued again when
/// its receive count reached the queue's `maxReceiveCount` and it is not a stray.
fn give_back(
    deps: &Deps,
    record: &SqsMessage,
    delay: Option<Duration>,
    stray: bool,
    started: Instant,
) -> GiveBack {
    if !stray && receive_count(record) >= deps.config.max_receive_count {
        return GiveBack::Again;
    }
    let budget = MAX_DELAY.saturating_sub(started.elapsed());
    GiveBack::Later(delay.unwrap_or(deps.config.retry_delay).min(budget))
}

/// Handles one SQS batch whose invocation must answer by `deadline_ms` (epoch millis).
pub async fn handle_batch(
    deps: &Deps,
    event: &SqsEvent,
    deadline_ms: u64,
    request_id: &str,
) -> SqsBatchResponse {
    let started = Instant::now();
    let mut tally = Tally::default();
    // Stop sending early enough to close and back up.
    let deadline = Deadline::new(deadline_ms, deps.clock.now(), deps.config.deadline_reserve);
    // The account's browser lease names this invocation and lasts until its deadline plus a
    // margin: it cannot lapse while this invocation lives, however long opening a session or
    // closing and backing up takes, so it is never renewed.
    let lease =
        BrowserLease { holder: format!("{}/{request_id}", std::process::id()), until: deadline.lease_until };
    let mut failures = Vec::new();
    for (_, jobs) in groups(event, &mut tally) {
        let messages: Vec<QueuedMessage> = jobs.iter().map(|j| j.message.clone()).collect();
        let dispositions = account::run(deps, &messages, &deadline, &lease, &mut tally).await;
        // Once a record goes back, the later ones of its group follow it, with its delay.
        let mut given_back: Option<Option<Duration>> = None;
        for (job, disposition) in jobs.iter().zip(dispositions) {
            let id = job.record.message_id.clone().unwrap_or_default();
            let disposition = match given_back {
                Some(delay) => Disposition::Retry { reason: BEHIND_ITS_GROUP.into(), delay },
                None => disposition,
            };
            let (reason, delay, stray) = match disposition {
                Disposition::Ack(done) => {
                    tracing::debug!(message_id = %id, ?done, "record acknowledged");
                    tally.acked += 1;
                    continue;
                }
                Disposition::Retry { reason, delay } => (reason, delay, false),
                Disposition::Stray { reason } => (reason, None, true),
            };
            given_back.get_or_insert(delay);
            match give_back(deps, job.record, delay, stray, started) {
                GiveBack::Again => match deps.queue.enqueue(&[job.message.reissued()]).await {
                    Ok(()) => {
                        tracing::info!(message_id = %id, %reason, receives = receive_count(job.record), "record issued again instead of reaching the dead-letter queue");
                        tally.reissued += 1;
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(message_id = %id, error = %e, "could not issue the record again; it goes back and may reach the dead-letter queue (the reconciler drains it)");
                    }
                },
                GiveBack::Later(wait) => {
                    tracing::warn!(message_id = %id, %reason, wait_s = wait.as_secs(), "record given back for retry");
                    if let Some(handle) = &job.record.receipt_handle
                        && let Err(e) = deps.queue.retry_later(handle, wait).await
                    {
                        tracing::warn!(error = %e, "could not set the retry delay; the queue's visibility timeout applies");
                    }
                }
            }
            tally.retried += 1;
            failures.push(item_failure(id));
        }
    }
    tally.log(event.records.len(), started.elapsed());
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}
