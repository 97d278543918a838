//! The proxy itself: an HTTP/1.1 server that reads each call, refuses what breaks a limit,
//! injects what the plan says, holds the items a write touches (to find real conflicts), and
//! forwards the rest to the emulator.

use crate::call::{self, Call};
use crate::conflicts::{Admission, InFlight};
use crate::limits::{self, Receipts};
use crate::plan::{FaultKind, FaultPlan, Service};
use crate::replies::{self, Reply};
use crate::stats::Stats;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// The plan in force, with its random source and what is left of each rule's budget.
pub(crate) struct Active {
    pub(crate) plan: FaultPlan,
    rng: StdRng,
    spent: Vec<u64>,
    held: Vec<u64>,
}

impl Active {
    pub(crate) fn new(plan: FaultPlan) -> Self {
        let rng = StdRng::seed_from_u64(plan.seed);
        let spent = vec![0; plan.rules.len()];
        let held = vec![0; plan.delays.len()];
        Self { plan, rng, spent, held }
    }

    /// How long the plan holds `call` before it goes on.
    fn delay_for(&mut self, call: &Call) -> Option<std::time::Duration> {
        for (i, delay) in self.plan.delays.iter().enumerate() {
            let op_ok = delay.operations.is_empty() || delay.operations.contains(&call.operation);
            if op_ok && delay.budget.is_none_or(|b| self.held[i] < b) {
                self.held[i] += 1;
                return Some(delay.duration);
            }
        }
        None
    }

    /// The fault the plan gives `call`, if any.
    fn fault_for(&mut self, call: &Call) -> Option<FaultKind> {
        for (i, rule) in self.plan.rules.iter().enumerate() {
            let service_ok = rule.kind.service().is_none_or(|s| s == call.service);
            let op_ok = rule.operations.is_empty() || rule.operations.contains(&call.operation);
            let conflict_ok =
                rule.kind != FaultKind::TransactionConflict || call.operation == "TransactWriteItems";
            let resource_ok = rule
                .resource
                .as_ref()
                .is_none_or(|r| call.resource.as_ref().is_some_and(|name| name.contains(r.as_str())));
            let budget_ok = rule.budget.is_none_or(|b| self.spent[i] < b);
            if service_ok
                && op_ok
                && conflict_ok
                && resource_ok
                && budget_ok
                && self.rng.random_bool(rule.rate.clamp(0.0, 1.0))
            {
                self.spent[i] += 1;
                return Some(rule.kind);
            }
        }
        None
    }
}

/// Everything the connections share.
pub(crate) struct Shared {
    pub(crate) upstream: String,
    pub(crate) client: reqwest::Client,
    pub(crate) active: Mutex<Active>,
    pub(crate) inflight: Mutex<InFlight>,
    pub(crate) receipts: Mutex<Receipts>,
    pub(crate) stats: Mutex<Stats>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Why a call gets no reply at all: the connection is closed after the call was applied.
#[derive(Debug)]
pub(crate) struct ReplyDropped;

impl std::fmt::Display for ReplyDropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("reply dropped after the call was applied")
    }
}

impl std::error::Error for ReplyDropped {}

fn name(call: &Call) -> String {
    let service = match call.service {
        Service::DynamoDb => "DynamoDB",
        Service::Sqs => "SQS",
        Service::S3 => "S3",
    };
    format!("{service}.{}", call.operation)
}

fn injected(kind: FaultKind, call: &Call) -> Option<Reply> {
    Some(match kind {
        FaultKind::TransactionConflict => {
            let items = call::transaction_keys(&call.json).len();
            replies::transaction_conflict(items, &[items.saturating_sub(1)])
        }
        FaultKind::ProvisionedThroughputExceeded => replies::provisioned_throughput_exceeded(),
        FaultKind::Throttling => replies::throttling(),
        FaultKind::InternalServerError => replies::internal_server_error(),
        FaultKind::SqsThrottled => replies::sqs_throttled(),
        FaultKind::SqsUnavailable => replies::sqs_unavailable(),
        FaultKind::S3SlowDown => replies::s3_slow_down(),
        FaultKind::ReplyLost => return None,
    })
}

/// Handles one request.
pub(crate) async fn handle(
    shared: std::sync::Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Reply, ReplyDropped> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(ReplyDropped),
    };
    let path = parts.uri.path().to_owned();
    let call = call::classify(&parts.method, &path, &parts.headers, &body);
    let op = name(&call);
    *lock(&shared.stats).calls.entry(op.clone()).or_insert(0) += 1;
    let limits = lock(&shared.active).plan.limits.clone();
    if let Some(reply) = limits::check(&call, &limits, &mut lock(&shared.receipts), Instant::now()) {
        *lock(&shared.stats).refused.entry(op).or_insert(0) += 1;
        return Ok(reply);
    }
    let held_for = lock(&shared.active).delay_for(&call);
    if let Some(duration) = held_for {
        {
            let mut stats = lock(&shared.stats);
            stats.delayed += 1;
            stats.holding += 1;
        }
        tokio::time::sleep(duration).await;
        lock(&shared.stats).holding -= 1;
    }
    let fault = lock(&shared.active).fault_for(&call);
    if let Some(kind) = fault {
        *lock(&shared.stats).injected.entry(kind).or_insert(0) += 1;
        if let Some(reply) = injected(kind, &call) {
            return Ok(reply);
        }
    }
    let is_transaction = call.service == Service::DynamoDb && call.operation == "TransactWriteItems";
    let held = if limits.conflicts && call.service == Service::DynamoDb {
        let admission = if is_transaction {
            Some(lock(&shared.inflight).transaction(&call::transaction_keys(&call.json)))
        } else {
            call::single_write_key(&call).map(|k| lock(&shared.inflight).write(k))
        };
        match admission {
            None => Vec::new(),
            Some(Admission::Granted(keys)) => keys,
            Some(Admission::TransactionConflict(items)) => {
                lock(&shared.stats).conflicts += 1;
                return Ok(replies::transaction_conflict(call::transaction_keys(&call.json).len(), &items));
            }
            Some(Admission::ItemInTransaction) => {
                lock(&shared.stats).conflicts += 1;
                return Ok(replies::item_in_transaction());
            }
        }
    } else {
        Vec::new()
    };
    if is_transaction && !limits.transaction_latency.is_zero() {
        tokio::time::sleep(limits.transaction_latency).await;
    }
    let forwarded = forward(&shared, &parts, body).await;
    lock(&shared.inflight).release(&held);
    if fault == Some(FaultKind::ReplyLost) {
        return Err(ReplyDropped);
    }
    Ok(forwarded)
}

/// Sends the call on to the emulator and returns its answer (a 502 if it does not answer).
async fn forward(shared: &Shared, parts: &hyper::http::request::Parts, body: Bytes) -> Reply {
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("{}{path_and_query}", shared.upstream);
    let mut request = shared.client.request(parts.method.clone(), url).body(body);
    for (name, value) in &parts.headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection" | "transfer-encoding") {
            request = request.header(name, value);
        }
    }
    match request.send().await {
        Ok(resp) => {
            let mut builder = Response::builder().status(resp.status());
            for (name, value) in resp.headers() {
                if !matches!(name.as_str(), "content-length" | "connection" | "transfer-encoding") {
                    builder = builder.header(name, value);
                }
            }
            let bytes = resp.bytes().await.unwrap_or_default();
            builder.body(Full::new(bytes)).unwrap_or_else(|_| Response::new(Full::default()))
        }
        Err(e) => {
            tracing::warn!(error = %e, "the local AWS did not answer the proxy");
            let mut resp = Response::new(Full::new(Bytes::from_static(b"upstream unreachable")));
            *resp.status_mut() = hyper::http::StatusCode::BAD_GATEWAY;
            resp
        }
    }
}
