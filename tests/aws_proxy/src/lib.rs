//! The AWS fault proxy of the test world. It stands between the code (the deployed functions and
//! the tests) and the local AWS, and makes that AWS at least as strict as the real one:
//!
//! - it answers a chosen share of calls exactly as AWS does under stress ([`FaultKind`]: DynamoDB
//!   transaction conflicts, throttling and 500s, SQS throttling and 503s, S3 `SlowDown`, and a
//!   reply lost after the call was applied), in AWS's wire format, so the SDK parses each into
//!   the error AWS's would give;
//! - it finds real conflicts: a transaction is cancelled with `TransactionConflict` while another
//!   write is under way on one of its items, as DynamoDB does (the emulator serialises calls);
//! - it enforces limits the emulator does not ([`Limits`]): 400 KB items, 100-item and 4 MB
//!   transactions, 256 KB messages, and a message's visibility at most 12 hours from its receipt.
//!
//! Start it with [`FaultProxy::start`] in front of the emulator, point the code at
//! [`ProxyHandle::url`] (a stack through its `AwsEndpointOverride` parameter), change what it does
//! with [`ProxyHandle::set_plan`] and read what it did with [`ProxyHandle::stats`]. Each test
//! binary runs its own proxy on port 0; nothing is shared between binaries.

mod call;
mod conflicts;
mod limits;
mod plan;
mod replies;
mod server;
mod stats;

pub use plan::{Delay, FaultKind, FaultPlan, Limits, Rule, Service};
pub use stats::Stats;

use hyper_util::rt::TokioIo;
use server::{Active, Shared, lock};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Starts proxies.
pub struct FaultProxy;

/// A running proxy; it stops when dropped.
pub struct ProxyHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy on `127.0.0.1:0` in front of `upstream` (e.g. `http://127.0.0.1:4566`),
    /// enforcing AWS's limits and injecting nothing until a plan says so.
    pub fn start(upstream: &str) -> std::io::Result<ProxyHandle> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let client =
            reqwest::Client::builder().pool_max_idle_per_host(64).build().map_err(std::io::Error::other)?;
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client,
            active: Mutex::new(Active::new(FaultPlan::strict())),
            inflight: Mutex::new(Default::default()),
            receipts: Mutex::new(Default::default()),
            stats: Mutex::new(Stats::default()),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = Arc::clone(&shared);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("aws-proxy")
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new().name("aws-proxy".into()).spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                tokio::pin!(stopped);
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let shared = Arc::clone(&serving);
                            tokio::spawn(async move {
                                let service = hyper::service::service_fn(move |req| server::handle(Arc::clone(&shared), req));
                                // A dropped reply ends the connection without an answer, as a lost
                                // reply does on the network; the error is that, not a failure.
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .keep_alive(true)
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            });
                        }
                    }
                }
            });
        })?;
        Ok(ProxyHandle { shared, addr, stop: Some(stop), thread: Some(thread) })
    }
}

impl ProxyHandle {
    /// The proxy's endpoint, for `AWS_ENDPOINT_URL` or a stack's `AwsEndpointOverride`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces what the proxy does (rules, seed, limits); the budgets start afresh.
    pub fn set_plan(&self, plan: FaultPlan) {
        *lock(&self.shared.active) = Active::new(plan);
    }

    /// The plan in force.
    pub fn plan(&self) -> FaultPlan {
        lock(&self.shared.active).plan.clone()
    }

    /// What the proxy did since the last reset.
    pub fn stats(&self) -> Stats {
        lock(&self.shared.stats).clone()
    }

    /// Forgets the counts.
    pub fn reset_stats(&self) {
        *lock(&self.shared.stats) = Stats::default();
    }
}

impl Drop for ProxyHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
