//! Lambda's Runtime API for a `bootstrap` run outside Lambda: the four routes a custom runtime
//! calls (`invocation/next`, `{id}/response`, `{id}/error`, `init/error`), with the headers Lambda
//! sends, and the environment Lambda gives every function. It stands in for the Lambda service
//! itself (the local AWS runs zip functions, not images), not for anything the code under test
//! decides.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

const PREFIX: &str = "/2018-06-01/runtime";

/// How an invocation ended, as the runtime reported it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `POST /invocation/{id}/response` with this body.
    Response(Value),
    /// `POST /invocation/{id}/error` with this body.
    Error(Value),
}

struct Invocation {
    id: String,
    deadline_ms: u128,
    arn: String,
    payload: Value,
}

struct Inner {
    queue: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<Value>>,
}

/// A Runtime API served on a loopback port.
pub struct RuntimeApi {
    addr: SocketAddr,
    function_arn: String,
    send: mpsc::Sender<Invocation>,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Serves the API for the function named `function`.
    pub async fn start(function: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let (send, queue) = mpsc::channel(16);
        let inner = Arc::new(Inner {
            queue: tokio::sync::Mutex::new(queue),
            waiting: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
        });
        let app = axum::Router::new()
            .route(&format!("{PREFIX}/invocation/next"), get(next))
            .route(&format!("{PREFIX}/invocation/{{id}}/response"), post(response))
            .route(&format!("{PREFIX}/invocation/{{id}}/error"), post(error))
            .route(&format!("{PREFIX}/init/error"), post(init_error))
            .with_state(inner.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the Runtime API serves");
        });
        let function_arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{function}");
        Self { addr, function_arn, send, inner, server }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// The variables Lambda sets for every function (its reserved ones), for `function` with
    /// `memory_mb`, this API and the local AWS's test credentials.
    pub fn lambda_environment(&self, function: &str, memory_mb: u64) -> BTreeMap<String, String> {
        [
            ("AWS_LAMBDA_RUNTIME_API", self.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function}")),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]0".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
            ("AWS_SESSION_TOKEN", "test".to_owned()),
            ("LAMBDA_TASK_ROOT", "/var/task".to_owned()),
            ("LAMBDA_RUNTIME_DIR", "/var/runtime".to_owned()),
            ("TZ", ":UTC".to_owned()),
            ("LANG", "en_US.UTF-8".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Hands `payload` to the runtime's next `invocation/next` with a deadline `timeout` from now,
    /// and waits (at most `timeout` plus a margin) for the runtime to report how it ended.
    pub async fn invoke(&self, payload: Value, timeout: Duration) -> Result<Outcome, String> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let (tell, told) = oneshot::channel();
        self.inner.waiting.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), tell);
        let invocation = Invocation {
            id: id.clone(),
            deadline_ms: (now + timeout).as_millis(),
            arn: self.function_arn.clone(),
            payload,
        };
        self.send.send(invocation).await.map_err(|_| "the Runtime API stopped".to_owned())?;
        match tokio::time::timeout(timeout + Duration::from_secs(10), told).await {
            Ok(Ok(outcome)) => Ok(outcome),
            _ => Err(format!(
                "invocation {id} got no answer within {timeout:?} (init error: {})",
                self.init_error().map_or_else(|| "none".to_owned(), |e| e.to_string())
            )),
        }
    }

    /// What the runtime posted to `init/error`, if it did.
    pub fn init_error(&self) -> Option<Value> {
        self.inner.init_error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn next(State(inner): State<Arc<Inner>>) -> impl IntoResponse {
    let invocation = inner.queue.lock().await.recv().await;
    let Some(invocation) = invocation else {
        return (StatusCode::GONE, HeaderMap::new(), String::new());
    };
    let mut headers = HeaderMap::new();
    let pairs = [
        ("lambda-runtime-aws-request-id", invocation.id.clone()),
        ("lambda-runtime-deadline-ms", invocation.deadline_ms.to_string()),
        ("lambda-runtime-invoked-function-arn", invocation.arn.clone()),
        (
            "lambda-runtime-trace-id",
            format!("Root=1-00000000-{}", invocation.id.replace('-', "")[..24].to_owned()),
        ),
        ("content-type", "application/json".to_owned()),
    ];
    for (name, value) in pairs {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    }
    (StatusCode::OK, headers, invocation.payload.to_string())
}

fn settle(inner: &Inner, id: &str, outcome: Outcome) -> StatusCode {
    match inner.waiting.lock().unwrap_or_else(|e| e.into_inner()).remove(id) {
        Some(tell) => {
            let _ = tell.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

async fn response(State(inner): State<Arc<Inner>>, Path(id): Path<String>, body: String) -> StatusCode {
    settle(&inner, &id, Outcome::Response(serde_json::from_str(&body).unwrap_or(Value::String(body))))
}

async fn error(State(inner): State<Arc<Inner>>, Path(id): Path<String>, body: String) -> StatusCode {
    settle(&inner, &id, Outcome::Error(serde_json::from_str(&body).unwrap_or(Value::String(body))))
}

async fn init_error(State(inner): State<Arc<Inner>>, body: String) -> StatusCode {
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    *inner.init_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(value);
    StatusCode::ACCEPTED
}
