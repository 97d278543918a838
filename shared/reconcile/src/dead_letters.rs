//! Draining the dead-letter queue back: a record whose row still waits for a sender (QUEUED, or
//! SENDING — its claim is taken over and checked in the chat) is issued again into the queue; any
//! other (its row settled, paused, gone, or not a record at all) is dropped with a log line.
//! Either way the dead letter is deleted, so the dead-letter queue ends empty.

use crate::{Deps, ReconcileError, Report, plan};
use domain::{MessageStatus, QueuedMessage};

/// Moves back what the dead-letter queue holds, up to the configured bound.
pub async fn drain(deps: &Deps, report: &mut Report) -> Result<(), ReconcileError> {
    let mut handled = 0u32;
    while handled < deps.config.max_dead_letters {
        let letters = deps.dead_letters.receive(10).await?;
        if letters.is_empty() {
            break;
        }
        for letter in letters {
            handled += 1;
            let record: Option<QueuedMessage> = serde_json::from_str(&letter.body).ok();
            let row = match &record {
                Some(r) => deps.store.message(&r.campaign_id, r.seq).await?,
                None => None,
            };
            match (record, row) {
                (Some(record), Some(row))
                    if matches!(row.status, MessageStatus::Queued | MessageStatus::Sending) =>
                {
                    let again = QueuedMessage { hop: plan::reissue_hop(deps.clock.unix()), ..record };
                    deps.queue.enqueue(std::slice::from_ref(&again)).await?;
                    report.dead_letters_back += 1;
                    tracing::info!(campaign = %again.campaign_id, seq = %again.seq, "dead-lettered record issued again");
                }
                (Some(record), row) => {
                    report.dead_letters_dropped += 1;
                    tracing::info!(campaign = %record.campaign_id, seq = %record.seq, status = ?row.map(|r| r.status), "dead-lettered record dropped: its row needs no record");
                }
                (None, _) => {
                    report.dead_letters_dropped += 1;
                    tracing::warn!(
                        bytes = letter.body.len(),
                        "dead-lettered record dropped: not a queue record"
                    );
                }
            }
            deps.dead_letters.delete(&letter.receipt_handle).await?;
        }
    }
    Ok(())
}
