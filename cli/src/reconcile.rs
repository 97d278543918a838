//! `wacamp reconcile [<campaign>]`: the reconciler's sweep run from the operator's machine, the
//! same one the scheduled function runs (the `reconcile` crate), straight against the stack's
//! table and queues. With a campaign, that campaign only (over or not); without, every campaign
//! not over yet and the dead-letter queue. Safe while senders run, and repeatable.

use anyhow::{Context, Result};
use campaign_store::DynamoCampaignStore;
use domain::CampaignId;
use message_queue::{SqsDeadLetters, SqsMessageQueue};
use reconcile::{Deps, Report, Scope};
use std::sync::Arc;
use std::time::Duration;

/// Where the sweep works, and how patient it is.
pub struct ReconcileArgs {
    /// The AWS configuration of the stack.
    pub aws: platform::SdkConfig,
    /// One campaign, or every open one.
    pub campaign: Option<String>,
    /// The campaign table.
    pub table: String,
    /// The sender's queue.
    pub queue_url: String,
    /// Its dead-letter queue.
    pub dead_letter_queue_url: String,
    /// See `reconcile::Config::grace`.
    pub grace: Duration,
    /// See `reconcile::Config::stale_claim`.
    pub stale_claim: Duration,
}

/// Runs one sweep and prints what it did.
pub async fn run(args: ReconcileArgs) -> Result<()> {
    let scope = match &args.campaign {
        None => Scope::All,
        Some(raw) => Scope::Campaign(CampaignId::parse(raw).with_context(|| format!("campaign '{raw}'"))?),
    };
    let aws = &args.aws;
    let sqs = aws_sdk_sqs::Client::new(aws);
    let dynamo = aws_sdk_dynamodb::Client::new(aws);
    let deps = Deps {
        windows: Arc::new(campaign_store::DynamoSendingWindows::new(dynamo.clone(), args.table.clone())),
        store: Arc::new(DynamoCampaignStore::new(dynamo, args.table)),
        queue: Arc::new(SqsMessageQueue::new(sqs.clone(), args.queue_url)),
        dead_letters: Arc::new(SqsDeadLetters::new(sqs, args.dead_letter_queue_url)),
        clock: domain::system_clock(),
        config: reconcile::Config { grace: args.grace, stale_claim: args.stale_claim, ..Default::default() },
    };
    let report =
        reconcile::run(&deps, &scope).await.context("the sweep stopped; run it again to continue")?;
    print!("{}", summary(&report));
    Ok(())
}

/// The report as the operator reads it.
fn summary(r: &Report) -> String {
    let mut out = format!("reconciled {} campaign(s)\n", r.campaigns);
    let mut line = |n: u64, what: &str| {
        if n > 0 {
            out.push_str(&format!("  {n:>6}  {what}\n"));
        }
    };
    line(r.drifted, "campaign(s) whose counters differed from their rows");
    line(r.repaired, "of them repaired from the rows");
    line(r.reissued, "stranded message(s) queued again (a SENDING one is checked in its chat first)");
    line(r.requeued, "paused message(s) a resume missed queued again");
    line(r.cancelled, "message(s) a cancel missed cancelled");
    line(r.dead_letters_back, "dead-lettered record(s) moved back into the queue");
    line(r.dead_letters_dropped, "dead-lettered record(s) dropped: their messages needed nothing");
    line(r.completed, "campaign(s) completed");
    line(r.unlisted, "finished campaign(s) no longer watched");
    if r.drifted == 0
        && r.reissued == 0
        && r.requeued == 0
        && r.cancelled == 0
        && r.dead_letters_back == 0
        && r.completed == 0
    {
        out.push_str("  nothing to repair\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_sweep_says_nothing_needed_repair_and_a_busy_one_counts_what_it_did() {
        assert_eq!(
            summary(&Report { campaigns: 2, ..Report::default() }),
            "reconciled 2 campaign(s)\n  nothing to repair\n"
        );
        let busy = summary(&Report { campaigns: 1, reissued: 3, dead_letters_back: 1, ..Report::default() });
        assert!(busy.contains("     3  stranded message(s) queued again"), "{busy}");
        assert!(busy.contains("     1  dead-lettered record(s) moved back"), "{busy}");
        assert!(!busy.contains("nothing to repair"), "{busy}");
    }
}
