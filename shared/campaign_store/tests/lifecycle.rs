//! The in-memory store and the DynamoDB store are one lifecycle: random interleavings of
//! claims, finishes (on time and late), pauses, resumes, cancels, lapsed leases, redelivered
//! records and crashed senders (a claim never finished), applied to both, give the same answer
//! at every step and leave every row and the campaign in the same state, with counters equal
//! to the rows.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use campaign_store::{
    CampaignStore, Claim, DynamoCampaignStore, Finish, InMemoryCampaignStore, Lease, MessageRow, PauseReason,
    Transition,
};
use domain::{CampaignId, Counters, ErrorCode, MessageSeq, MessageStatus};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::collections::BTreeMap;

const ROWS: u32 = 3;
const LEASE: i64 = 60;

/// How a sender's claim ends.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Sent,
    Failed(ErrorCode),
    Paused,
    Released,
}

/// One step of the world.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// A record of the row is delivered and a sender claims it (a redelivery claims again).
    Claim(u32),
    /// The sender holding the row's last claim ends it; `late` ends the claim before it
    /// instead (a sender that lost the row to a takeover).
    Finish { seq: u32, outcome: Outcome, late: bool },
    /// A sender that saw the session lost pauses the row (and the campaign).
    Pause(u32),
    /// The operator resumes, retrying failed rows or not.
    Resume { retry_failed: bool },
    /// The operator cancels.
    Cancel,
    /// Time passes beyond every lease: claims held by crashed senders lapse.
    Lapse,
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        3 => Just(Outcome::Sent),
        1 => Just(Outcome::Failed(ErrorCode::SendTimeout)),
        1 => Just(Outcome::Failed(ErrorCode::NotOnWhatsapp)),
        1 => Just(Outcome::Paused),
        1 => Just(Outcome::Released),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..ROWS).prop_map(Op::Claim),
        4 => (0..ROWS, outcome(), proptest::bool::weighted(0.15))
            .prop_map(|(seq, outcome, late)| Op::Finish { seq, outcome, late }),
        1 => (0..ROWS).prop_map(Op::Pause),
        1 => any::<bool>().prop_map(|retry_failed| Op::Resume { retry_failed }),
        1 => Just(Op::Cancel),
        2 => Just(Op::Lapse),
    ]
}

/// One store driven through the ops, with what its senders hold.
struct Driven<'a> {
    store: &'a dyn CampaignStore,
    id: CampaignId,
    /// The attempt number of each row's last claim.
    held: BTreeMap<u32, u32>,
}

/// A claim's answer without the fields only one store fills in the same way (the row's
/// variables and phone are the same by construction).
fn claim_answer(claim: &Claim) -> String {
    let row = |r: &MessageRow| format!("{:?} err={:?}", r.state(), r.error);
    match claim {
        Claim::Fresh(r) => format!("fresh {}", row(r)),
        Claim::Ambiguous(r) => format!("ambiguous {}", row(r)),
        Claim::VerifyOnly(r) => format!("verify-only {}", row(r)),
        Claim::Busy { lease_until } => format!("busy until {lease_until}"),
        Claim::Settled => "settled".into(),
        Claim::Missing => "missing".into(),
    }
}

impl Driven<'_> {
    /// Applies `op` at Unix second `now` and says what the store answered.
    async fn apply(&mut self, op: Op, now: i64) -> String {
        let at = format!("t{now}");
        let (store, id) = (self.store, &self.id);
        match op {
            Op::Claim(seq) => {
                let lease = Lease { now, until: now + LEASE, at };
                let claim = store.claim_message(id, MessageSeq(seq), &lease).await.unwrap();
                if let Claim::Fresh(r) | Claim::Ambiguous(r) | Claim::VerifyOnly(r) = &claim {
                    self.held.insert(seq, r.attempts);
                }
                claim_answer(&claim)
            }
            Op::Finish { seq, outcome, late } => {
                let Some(attempt) = self.held.get(&seq).copied() else { return "nothing held".into() };
                let attempt = if late { attempt.saturating_sub(1) } else { attempt };
                let finish = match outcome {
                    Outcome::Sent => Finish::Sent,
                    Outcome::Failed(code) => Finish::Failed(code),
                    Outcome::Paused => Finish::Paused(ErrorCode::SessionExpired),
                    Outcome::Released => Finish::Released,
                };
                let t = store.finish_message(id, MessageSeq(seq), attempt, &finish, &at).await.unwrap();
                format!("{t:?}")
            }
            Op::Pause(seq) => {
                let reason = PauseReason { code: ErrorCode::SessionExpired, hint: "Run setup.".into(), at };
                format!("{:?}", store.pause_message(id, MessageSeq(seq), &reason).await.unwrap())
            }
            Op::Resume { retry_failed } => {
                // As the resume route does it: the campaign, then its paused (and retryable failed)
                // rows, then the completion check.
                let resumed = store.resume_campaign(id, &at, retry_failed).await.unwrap();
                let mut requeued = Vec::new();
                let mut statuses = vec![MessageStatus::Paused];
                if retry_failed {
                    statuses.push(MessageStatus::Failed);
                }
                for status in statuses {
                    let rows: Vec<MessageRow> = store
                        .messages_in_status(id, status, None, 100)
                        .await
                        .unwrap()
                        .into_iter()
                        .filter(|r| {
                            status == MessageStatus::Paused || r.error.is_some_and(ErrorCode::is_retryable)
                        })
                        .collect();
                    let moved = store.requeue_messages(id, &rows, status, &at).await.unwrap();
                    requeued.extend(moved.iter().map(|m| (m.seq.0, m.round)));
                }
                store.settle_campaign(id, &at).await.unwrap();
                format!("{resumed:?} requeued {requeued:?}")
            }
            Op::Cancel => {
                let cancelled = store.cancel_campaign(id, &at).await.unwrap();
                let mut moved = 0;
                if cancelled == Transition::Applied {
                    for status in [MessageStatus::Queued, MessageStatus::Paused] {
                        let rows = store.messages_in_status(id, status, None, 100).await.unwrap();
                        moved += store.cancel_messages(id, &rows, status, &at).await.unwrap();
                    }
                }
                format!("{cancelled:?} moved {moved}")
            }
            Op::Lapse => "lapsed".into(),
        }
    }

    /// Every row's state and the campaign's status, reason and counters.
    async fn state(&self) -> (Vec<String>, String, Counters, Counters) {
        let mut rows = Vec::new();
        let mut statuses = Vec::new();
        for seq in 0..ROWS {
            let row = self.store.message(&self.id, MessageSeq(seq)).await.unwrap().unwrap();
            statuses.push(row.status);
            rows.push(format!("{:?} err={:?}", row.state(), row.error));
        }
        let view = self.store.campaign(&self.id).await.unwrap().unwrap();
        let campaign = format!("{} reason={:?}", view.status, view.reason);
        (rows, campaign, view.counts, Counters::of_rows(statuses))
    }
}

/// Runs `ops` on both stores, comparing at every step.
async fn both(dynamo: &DynamoCampaignStore, ops: &[Op]) -> Result<(), TestCaseError> {
    let memory = InMemoryCampaignStore::default();
    let campaign = test_support::fixtures::campaign(ROWS);
    memory.create_campaign(&campaign).await.unwrap();
    dynamo.create_campaign(&campaign).await.unwrap();
    let mut a = Driven { store: &memory, id: campaign.id.clone(), held: BTreeMap::new() };
    let mut b = Driven { store: dynamo, id: campaign.id, held: BTreeMap::new() };
    let mut now = 1_800_000_000;
    for (step, op) in ops.iter().enumerate() {
        now += if matches!(op, Op::Lapse) { LEASE + 1 } else { 1 };
        let (in_memory, in_dynamo) = (a.apply(*op, now).await, b.apply(*op, now).await);
        prop_assert_eq!(&in_memory, &in_dynamo, "answers to step {} ({:?})", step, op);
        let (ma, mb) = (a.state().await, b.state().await);
        prop_assert_eq!(&ma, &mb, "state after step {} ({:?})", step, op);
        prop_assert_eq!(ma.2, ma.3, "counters equal the rows after step {} ({:?})", step, op);
    }
    Ok(())
}

#[test]
fn random_interleavings_leave_the_in_memory_and_the_dynamodb_store_in_the_same_state() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dynamo = runtime.block_on(async {
        let (client, table) = test_support::fresh_table("lifecycle").await;
        DynamoCampaignStore::new(client, table)
    });
    let config = Config { cases: 48, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new_with_rng(
        config,
        proptest::test_runner::TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    let result =
        runner.run(&proptest::collection::vec(op(), 1..40), |ops| runtime.block_on(both(&dynamo, &ops)));
    if let Err(e) = result {
        panic!("{e}");
    }
}
