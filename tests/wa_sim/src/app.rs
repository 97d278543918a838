//! What the browser sees: the app page (`/`, `/send`) and the JSON API its script calls (`/api/...`).
//!
//! The page script (assets/app.js) keeps the device credentials in IndexedDB and localStorage, presents
//! them on every load, shows the QR, loading, main, conflict, banned and outdated screens, and sends
//! messages; assets/media.js adds the attach menu, the media editor and media bubbles. Injected faults
//! and latency are played here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures::StreamExt as _;
use serde::Deserialize;
use serde_json::json;

use crate::delays::Step;
use crate::server::Shared;
use crate::world::{AuthOutcome, Fault, MediaKind, MediaUpload, SendAccepted, SendRefusal};

const PAGE_HTML: &str = include_str!("../assets/app.html");
const PAGE_JS: &str = include_str!("../assets/app.js");
const MEDIA_JS: &str = include_str!("../assets/media.js");
/// Room in a media upload's JSON body for everything but the base64 file (caption, name, ids).
const UPLOAD_ENVELOPE: u64 = 1024 * 1024;
/// The longest a delivery receipt is waited for in one request.
const MAX_RECEIPT_WAIT: Duration = Duration::from_secs(60);
/// How long a dropped reply lingers after its first bytes before the connection breaks.
const DROP_AFTER: Duration = Duration::from_millis(50);

/// The app page and its API.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    // The file travels base64 in JSON: 4 bytes for every 3, plus the envelope.
    let largest = shared.page.media_limits.largest();
    let upload_limit = largest.div_ceil(3).saturating_mul(4).saturating_add(UPLOAD_ENVELOPE);
    let upload_limit = usize::try_from(upload_limit).unwrap_or(usize::MAX);
    let api = Router::new()
        .route("/api/login/start", post(login_start))
        .route("/api/login/poll", get(login_poll))
        .route("/api/auth", post(auth))
        .route("/api/status", get(status))
        .route("/api/takeover", post(take_over))
        .route("/api/chats", get(chats))
        .route("/api/chat", get(chat))
        .route("/api/send", post(send))
        .route("/api/send-media", post(send_media).layer(DefaultBodyLimit::max(upload_limit)))
        .route("/api/media", get(media))
        .route("/api/delivered", get(delivered))
        .route("/api/receipt", get(receipt))
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), api_gate));
    Router::new()
        .route("/", get(app_page))
        .route("/send", get(app_page))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .merge(api)
        .with_state(shared)
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn error_status(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Plays `ApiError` faults and API latency before any `/api/...` handler.
async fn api_gate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let (fault, latency) = {
        let mut world = shared.world();
        let fault = if world.unreachable() {
            Some(Fault::ApiError { status: 503 })
        } else {
            world.take_fault(|f| matches!(f, Fault::ApiError { .. }))
        };
        (fault, world.latency().api)
    };
    if let Some(Fault::ApiError { status }) = fault {
        tracing::info!(status, path = %request.uri().path(), "wa_sim fault: API error");
        return (error_status(status), Json(json!({ "error": "injected" }))).into_response();
    }
    if crate::delays::on_critical_path(request.uri().path()) {
        shared.spent(Step::Api, latency);
    }
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    no_store(next.run(request).await)
}

/// `GET /` and `GET /send`: the single-page app, with its settings injected.
async fn app_page(State(shared): State<Arc<Shared>>) -> Response {
    let (fault, latency, outdated, links_ready_after) = {
        let mut world = shared.world();
        let fault = if world.unreachable() {
            Some(Fault::PageError { status: 503 })
        } else {
            world.take_fault(|f| matches!(f, Fault::PageError { .. } | Fault::HangLoad))
        };
        (fault, world.latency().page_load, world.outdated(), world.links_ready_after())
    };
    match fault {
        Some(Fault::PageError { status }) => {
            tracing::info!(status, "wa_sim fault: page error");
            return (
                error_status(status),
                Html(format!("<!doctype html><title>Error</title><h1>HTTP {status}</h1>")),
            )
                .into_response();
        }
        Some(Fault::HangLoad) => {
            tracing::info!("wa_sim fault: hanging a page load");
            shared.hang().await;
            return (StatusCode::SERVICE_UNAVAILABLE, "released").into_response();
        }
        _ => {}
    }
    shared.spent(Step::PageLoad, latency);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let settings = json!({
        "selectors": shared.page.selectors,
        "sync_ms": millis(shared.page.sync),
        "status_poll_ms": millis(shared.page.status_poll),
        "qr_poll_ms": millis(shared.page.qr_poll),
        "outdated": outdated,
        "links_ready_after_ms": millis(links_ready_after),
        "media_limits": shared.page.media_limits,
    });
    let settings = settings.to_string().replace("</", "<\\/");
    let page = PAGE_HTML
        .replace("/*WA_SIM_SETTINGS*/", &format!("window.WA_SIM = {settings};"))
        .replace("/*WA_SIM_MEDIA*/", MEDIA_JS)
        .replace("/*WA_SIM_APP*/", PAGE_JS);
    let mut response = no_store(Html(page).into_response());
    // Real WhatsApp Web sets a few cookies; one here makes `Default/Cookies` part of a real profile.
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("wa_lang_pref=en; Path=/; Max-Age=31536000; SameSite=Lax"),
    );
    response
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[derive(Debug, Deserialize)]
struct AttemptQuery {
    attempt: String,
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    page: String,
}

#[derive(Debug, Deserialize)]
struct ChatQuery {
    page: String,
    phone: String,
}

#[derive(Debug, Deserialize)]
struct MessageQuery {
    page: String,
    id: String,
}

#[derive(Debug, Deserialize)]
struct AuthBody {
    device: String,
    generation: u64,
    key_a: String,
    key_b: String,
}

#[derive(Debug, Deserialize)]
struct PageBody {
    page: String,
}

#[derive(Debug, Deserialize)]
struct SendBody {
    page: String,
    to: String,
    text: String,
    #[serde(default)]
    id: String,
}

/// A file sent through the attach menu, with its caption.
#[derive(Debug, Deserialize)]
struct SendMediaBody {
    page: String,
    to: String,
    #[serde(default)]
    caption: String,
    #[serde(default)]
    id: String,
    kind: MediaKind,
    file_name: String,
    #[serde(default)]
    mime: String,
    /// The file's bytes, standard base64.
    data: String,
}

async fn login_start(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.world().start_attempt(Instant::now())).into_response()
}

async fn login_poll(State(shared): State<Arc<Shared>>, Query(query): Query<AttemptQuery>) -> Response {
    Json(shared.world().poll_attempt(&query.attempt, Instant::now())).into_response()
}

async fn auth(State(shared): State<Arc<Shared>>, Json(body): Json<AuthBody>) -> Response {
    let outcome = shared.world().authenticate(&body.device, body.generation, &body.key_a, &body.key_b);
    if matches!(outcome, AuthOutcome::Ok { conflict: false, .. }) {
        // The page shows "Loading your chats" for at least a millisecond (app.js).
        shared.spent(Step::Sync, shared.page.sync.max(Duration::from_millis(1)));
    }
    Json(outcome).into_response()
}

async fn status(State(shared): State<Arc<Shared>>, Query(query): Query<PageQuery>) -> Response {
    Json(json!({ "status": shared.world().page_status(&query.page) })).into_response()
}

async fn take_over(State(shared): State<Arc<Shared>>, Json(body): Json<PageBody>) -> Response {
    Json(json!({ "status": shared.world().take_over(&body.page) })).into_response()
}

async fn chats(State(shared): State<Arc<Shared>>, Query(query): Query<PageQuery>) -> Response {
    Json(json!({ "chats": shared.world().chats(&query.page) })).into_response()
}

async fn chat(State(shared): State<Arc<Shared>>, Query(query): Query<ChatQuery>) -> Response {
    let world = shared.world();
    let phone = crate::world::normalise_phone(&query.phone);
    let on_whatsapp = world.is_on_whatsapp(&query.phone);
    let messages = match &phone {
        Some(phone) if on_whatsapp => world.history(&query.page, phone, Instant::now()),
        _ => Vec::new(),
    };
    Json(json!({ "phone": phone, "on_whatsapp": on_whatsapp, "messages": messages })).into_response()
}

/// A response whose body breaks after its first bytes: the browser sees the connection drop mid-reply.
///
/// The status line and first bytes go out before the break: a connection closed before any reply byte
/// makes Chromium silently retry the request on a fresh connection, which would hide the fault.
fn dropped_connection() -> Response {
    let head = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"{\"id\":"))]);
    let broken = futures::stream::once(async {
        tokio::time::sleep(DROP_AFTER).await;
        Err(std::io::Error::other("wa_sim dropped the connection"))
    });
    let mut response = Response::new(Body::from_stream(head.chain(broken)));
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

async fn send(State(shared): State<Arc<Shared>>, Json(body): Json<SendBody>) -> Response {
    let (result, ack_delay) = {
        let mut world = shared.world();
        let result = world.send(&body.page, &body.to, &body.text, &body.id, Instant::now());
        (result, world.latency().server_ack)
    };
    answer_send(&shared, result, ack_delay).await
}

/// `POST /api/send-media`: the page uploads a file with its caption; recorded and acknowledged
/// as a text is, after the file was checked against its menu item and limit.
async fn send_media(State(shared): State<Arc<Shared>>, Json(body): Json<SendMediaBody>) -> Response {
    let Ok(bytes) = BASE64.decode(body.data.as_bytes()) else {
        return (StatusCode::BAD_REQUEST, Json(json!({ "error": "bad_base64" }))).into_response();
    };
    let upload = MediaUpload { kind: body.kind, file_name: &body.file_name, mime: &body.mime, bytes: &bytes };
    let (result, ack_delay) = {
        let mut world = shared.world();
        let result = world.send_media(&body.page, &body.to, &body.caption, upload, &body.id, Instant::now());
        (result, world.latency().server_ack)
    };
    answer_send(&shared, result, ack_delay).await
}

/// Answers a send: the refusal, or the acknowledgement after the ack delay, or the queued fault.
async fn answer_send(
    shared: &Shared,
    result: Result<SendAccepted, SendRefusal>,
    ack_delay: Duration,
) -> Response {
    let refused = |status: StatusCode, error: &str| (status, Json(json!({ "error": error }))).into_response();
    let accepted = match result {
        Ok(accepted) => accepted,
        Err(SendRefusal::Conflict) => return refused(StatusCode::CONFLICT, "conflict"),
        Err(SendRefusal::LoggedOut(status)) => {
            return (StatusCode::UNAUTHORIZED, Json(json!({ "error": status }))).into_response();
        }
        Err(SendRefusal::NotOnWhatsApp) => return refused(StatusCode::NOT_FOUND, "not_on_whatsapp"),
        Err(SendRefusal::Empty) => return refused(StatusCode::BAD_REQUEST, "empty"),
        Err(SendRefusal::Unsupported) => return refused(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported"),
        Err(SendRefusal::TooLarge) => return refused(StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
    };
    match accepted.fault {
        Some(Fault::DropBeforeDelivery | Fault::DropAfterDelivery) => {
            tracing::info!(id = %accepted.id, delivered = accepted.delivered, "wa_sim fault: dropping a send");
            dropped_connection()
        }
        Some(Fault::NoAck) => {
            tracing::info!(id = %accepted.id, "wa_sim fault: never acknowledging a send");
            shared.hang().await;
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "error": "released" }))).into_response()
        }
        _ => {
            shared.spent(Step::Ack, ack_delay);
            if !ack_delay.is_zero() {
                tokio::time::sleep(ack_delay).await;
            }
            Json(json!({ "id": accepted.id })).into_response()
        }
    }
}

/// `GET /api/media`: the picture of an image message, for a chat opened again.
async fn media(State(shared): State<Arc<Shared>>, Query(query): Query<MessageQuery>) -> Response {
    let Some((mime, bytes)) = shared.world().media_file(&query.page, &query.id) else {
        return (StatusCode::NOT_FOUND, Json(json!({ "error": "unknown media" }))).into_response();
    };
    let mut response = Response::new(Body::from(Bytes::from_owner(bytes)));
    let content_type =
        HeaderValue::from_str(&mime).unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    response.headers_mut().insert(header::CONTENT_TYPE, content_type);
    response
}

async fn delivered(State(shared): State<Arc<Shared>>, Query(query): Query<MessageQuery>) -> Response {
    let due = shared.world().delivered_at(&query.page, &query.id);
    let Some(due) = due else {
        return (StatusCode::NOT_FOUND, Json(json!({ "error": "unknown message" }))).into_response();
    };
    let wait = due.saturating_duration_since(Instant::now()).min(MAX_RECEIPT_WAIT);
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
    Json(json!({ "id": query.id, "delivered": true })).into_response()
}

/// The receipt a message shows now (the page asks again while the bubble is on screen).
async fn receipt(State(shared): State<Arc<Shared>>, Query(query): Query<MessageQuery>) -> Response {
    match shared.world().ack(&query.page, &query.id, Instant::now()) {
        Some(ack) => Json(json!({ "id": query.id, "ack": ack })).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({ "error": "unknown message" }))).into_response(),
    }
}
