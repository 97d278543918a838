//! A webhook endpoint a test starts: it records every request (headers and raw body) and
//! answers 204, or 503 while it is told to fail (and always under `/refuse/`), so a test can see signatures, retries and
//! de-duplication from the receiving side.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// One request the endpoint got.
#[derive(Debug, Clone)]
pub struct Received {
    /// The path it was posted to.
    pub path: String,
    /// Its headers, lower-case names.
    pub headers: Vec<(String, String)>,
    /// The raw body.
    pub body: Vec<u8>,
    /// What the endpoint answered.
    pub status: u16,
}

impl Received {
    /// One header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Shared {
    failing: AtomicBool,
    received: Mutex<Vec<Received>>,
}

/// A running endpoint; it stops with the test binary.
#[derive(Clone)]
pub struct Receiver {
    url: String,
    shared: Arc<Shared>,
}

async fn take(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    // A path under /refuse/ always fails: an endpoint that never takes its events.
    let refused = shared.failing.load(Ordering::SeqCst) || uri.path().starts_with("/refuse/");
    let status = if refused { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::NO_CONTENT };
    let headers = headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let mut received = shared.received.lock().unwrap_or_else(|e| e.into_inner());
    received.push(Received {
        path: uri.path().to_owned(),
        headers,
        body: body.to_vec(),
        status: status.as_u16(),
    });
    status
}

impl Receiver {
    /// Starts an endpoint on a free loopback port, answering every path.
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let app = axum::Router::new().fallback(take).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("the webhook receiver cannot listen: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url: format!("http://127.0.0.1:{port}"), shared }
    }

    /// Its URL with `path` (each test its own path, so receivers can be told apart).
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.url, path.trim_start_matches('/'))
    }

    /// Answers 503 from now on (`true`) or 204 again (`false`).
    pub fn set_failing(&self, failing: bool) {
        self.shared.failing.store(failing, Ordering::SeqCst);
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
