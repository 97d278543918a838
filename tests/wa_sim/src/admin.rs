//! The admin JSON API under `/_admin/...`: the same operations as [`crate::SimHandle`], for tests in other
//! processes (the e2e harness, the demo) and for manual use with curl. The crate docs list every endpoint.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::config::Latency;
use crate::server::Shared;
use crate::world::{Fault, SimError};

/// The admin routes.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_admin/qr", get(qr))
        .route("/_admin/link", post(link))
        .route("/_admin/revoke", post(revoke))
        .route("/_admin/clock", get(clock))
        .route("/_admin/clock/advance", post(advance_clock))
        .route("/_admin/damage", post(damage))
        .route("/_admin/corrupt", post(corrupt))
        .route("/_admin/conflict", post(conflict))
        .route("/_admin/ban", post(ban))
        .route("/_admin/unban", post(unban))
        .route("/_admin/outdated", post(outdated))
        .route("/_admin/key-window", post(key_window))
        .route("/_admin/link-interception", post(link_interception))
        .route("/_admin/phone", post(phone))
        .route("/_admin/unreachable", post(unreachable))
        .route("/_admin/not-on-whatsapp", post(not_on_whatsapp))
        .route("/_admin/latency", get(get_latency).post(set_latency))
        .route("/_admin/fixed-delays", get(fixed_delays))
        .route("/_admin/fail-next", post(fail_next))
        .route("/_admin/faults", get(faults))
        .route("/_admin/hang-next-load", post(hang_next_load))
        .route("/_admin/release-hangs", post(release_hangs))
        .route("/_admin/never-ack", post(never_ack))
        .route("/_admin/deliveries", get(deliveries))
        .route("/_admin/read", post(read))
        .route("/_admin/read-after", post(read_after))
        .route("/_admin/read-receipts", post(read_receipts))
        .route("/_admin/show-ack", post(show_ack))
        .route("/_admin/earlier-message", post(earlier_message))
        .route("/_admin/sessions", get(sessions))
        .route("/_admin/selectors", get(selectors))
        .with_state(shared)
}

fn error(error: &SimError) -> Response {
    let (status, code) = match error {
        SimError::NoQrShown => (StatusCode::CONFLICT, "no_qr_shown"),
        SimError::UnknownQr => (StatusCode::NOT_FOUND, "unknown_qr"),
        SimError::QrIdle => (StatusCode::CONFLICT, "qr_idle"),
        SimError::UnknownAccount(_) => (StatusCode::NOT_FOUND, "unknown_account"),
        SimError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
    };
    (status, Json(json!({ "error": code, "message": error.to_string() }))).into_response()
}

fn reply<T: serde::Serialize>(result: Result<T, SimError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(e) => error(&e),
    }
}

#[derive(Debug, Deserialize)]
struct AccountBody {
    account: String,
}

#[derive(Debug, Deserialize)]
struct LinkBody {
    account: String,
    qr: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AdvanceBody {
    ms: u64,
}

#[derive(Debug, Deserialize)]
struct DamageBody {
    account: String,
    after_generation: u64,
}

#[derive(Debug, Deserialize)]
struct PhoneBody {
    phone: String,
}

#[derive(Debug, Deserialize)]
struct EnabledBody {
    enabled: bool,
}

#[derive(Debug, Deserialize)]
struct LatencyBody {
    page_load_ms: Option<u64>,
    api_ms: Option<u64>,
    server_ack_ms: Option<u64>,
    delivery_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct DeliveriesQuery {
    to: Option<String>,
    account: Option<String>,
}

async fn qr(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({ "qr": shared.current_qr() })).into_response()
}

async fn link(State(shared): State<Arc<Shared>>, Json(body): Json<LinkBody>) -> Response {
    reply(shared.link(&body.account, body.qr.as_deref()))
}

async fn revoke(State(shared): State<Arc<Shared>>, Json(body): Json<AccountBody>) -> Response {
    reply(shared.world().revoke(&body.account).map(|n| json!({ "devices": n })))
}

fn clock_json(now: Duration) -> serde_json::Value {
    json!({ "now_ms": u64::try_from(now.as_millis()).unwrap_or(u64::MAX) })
}

async fn clock(State(shared): State<Arc<Shared>>) -> Response {
    Json(clock_json(shared.world().clock())).into_response()
}

async fn advance_clock(State(shared): State<Arc<Shared>>, Json(body): Json<AdvanceBody>) -> Response {
    let now = shared.world().advance_clock(Duration::from_millis(body.ms));
    Json(clock_json(now)).into_response()
}

async fn damage(State(shared): State<Arc<Shared>>, Json(body): Json<DamageBody>) -> Response {
    let result = shared.world().damage_after_generation(&body.account, body.after_generation);
    reply(result.map(|n| json!({ "refused_generations": n })))
}

async fn corrupt(State(shared): State<Arc<Shared>>, Json(body): Json<AccountBody>) -> Response {
    let result = shared.world().corrupt_stored_keys(&body.account);
    reply(result.map(|n| json!({ "refused_generations": n })))
}

async fn conflict(State(shared): State<Arc<Shared>>, Json(body): Json<AccountBody>) -> Response {
    reply(shared.world().conflict(&body.account).map(|n| json!({ "devices": n })))
}

async fn ban(State(shared): State<Arc<Shared>>, Json(body): Json<AccountBody>) -> Response {
    reply(shared.world().set_banned(&body.account, true).map(|()| json!({ "banned": true })))
}

async fn unban(State(shared): State<Arc<Shared>>, Json(body): Json<AccountBody>) -> Response {
    reply(shared.world().set_banned(&body.account, false).map(|()| json!({ "banned": false })))
}

async fn outdated(State(shared): State<Arc<Shared>>, Json(body): Json<EnabledBody>) -> Response {
    shared.world().set_outdated(body.enabled);
    Json(json!({ "outdated": body.enabled })).into_response()
}

/// How many key versions log in.
#[derive(Debug, serde::Deserialize)]
struct KeyWindowBody {
    versions: u64,
}

async fn key_window(State(shared): State<Arc<Shared>>, Json(body): Json<KeyWindowBody>) -> Response {
    shared.world().set_key_window(body.versions);
    Json(json!({ "versions": body.versions })).into_response()
}

/// When, after the chat list shows, the app intercepts chat links.
#[derive(Debug, serde::Deserialize)]
struct InterceptionBody {
    after_ms: u64,
}

async fn link_interception(
    State(shared): State<Arc<Shared>>,
    Json(body): Json<InterceptionBody>,
) -> Response {
    shared.world().set_links_ready_after(Duration::from_millis(body.after_ms));
    Json(json!({ "after_ms": body.after_ms })).into_response()
}

/// An account's phone going offline or coming back.
#[derive(Debug, serde::Deserialize)]
struct PhoneStateBody {
    account: String,
    online: bool,
}

async fn phone(State(shared): State<Arc<Shared>>, Json(body): Json<PhoneStateBody>) -> Response {
    let result = shared.world().set_phone_online(&body.account, body.online);
    reply(result.map(|()| json!({ "account": body.account, "online": body.online })))
}

async fn unreachable(State(shared): State<Arc<Shared>>, Json(body): Json<EnabledBody>) -> Response {
    shared.world().set_unreachable(body.enabled);
    Json(json!({ "unreachable": body.enabled })).into_response()
}

async fn not_on_whatsapp(State(shared): State<Arc<Shared>>, Json(body): Json<PhoneBody>) -> Response {
    reply(shared.world().mark_not_on_whatsapp(&body.phone).map(|phone| json!({ "phone": phone })))
}

/// A message an account sent before (an earlier campaign's).
#[derive(Debug, Deserialize)]
struct ReadAfterBody {
    after_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct ReadReceiptsBody {
    phone: String,
    enabled: bool,
}

#[derive(Debug, Deserialize)]
struct ShowAckBody {
    id: String,
    ack: crate::world::Ack,
}

async fn read(State(shared): State<Arc<Shared>>, Json(body): Json<PhoneBody>) -> Response {
    let read = shared.world().read_chat(&body.phone, std::time::Instant::now());
    reply(read.map(|read| json!({ "read": read })))
}

async fn read_after(State(shared): State<Arc<Shared>>, Json(body): Json<ReadAfterBody>) -> Response {
    shared.world().set_read_after(body.after_ms.map(Duration::from_millis));
    Json(json!({ "after_ms": body.after_ms })).into_response()
}

async fn read_receipts(State(shared): State<Arc<Shared>>, Json(body): Json<ReadReceiptsBody>) -> Response {
    let set = shared.world().set_read_receipts(&body.phone, body.enabled);
    reply(set.map(|phone| json!({ "phone": phone, "enabled": body.enabled })))
}

async fn show_ack(State(shared): State<Arc<Shared>>, Json(body): Json<ShowAckBody>) -> Response {
    let shown = shared.world().show_ack(&body.id, body.ack);
    reply(shown.map(|()| json!({ "id": body.id, "ack": body.ack })))
}

#[derive(Debug, serde::Deserialize)]
struct EarlierMessageBody {
    account: String,
    phone: String,
    text: String,
    unix_ms: u64,
}

async fn earlier_message(
    State(shared): State<Arc<Shared>>,
    Json(body): Json<EarlierMessageBody>,
) -> Response {
    let recorded = shared.world().record_earlier(
        &body.account,
        &body.phone,
        &body.text,
        body.unix_ms,
        std::time::Instant::now(),
    );
    reply(recorded.map(|()| json!({ "recorded": true })))
}

async fn fixed_delays(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.delays()).into_response()
}

async fn get_latency(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.world().latency()).into_response()
}

async fn set_latency(State(shared): State<Arc<Shared>>, Json(body): Json<LatencyBody>) -> Response {
    let mut world = shared.world();
    let old = world.latency();
    let pick = |ms: Option<u64>, old: Duration| ms.map_or(old, Duration::from_millis);
    let latency = Latency {
        page_load: pick(body.page_load_ms, old.page_load),
        api: pick(body.api_ms, old.api),
        server_ack: pick(body.server_ack_ms, old.server_ack),
        delivery: pick(body.delivery_ms, old.delivery),
    };
    world.set_latency(latency);
    Json(latency).into_response()
}

async fn fail_next(State(shared): State<Arc<Shared>>, Json(fault): Json<Fault>) -> Response {
    reply(shared.world().fail_next(fault).map(|()| json!({ "queued": true })))
}

async fn faults(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({ "faults": shared.world().pending_faults() })).into_response()
}

async fn hang_next_load(State(shared): State<Arc<Shared>>) -> Response {
    reply(shared.world().fail_next(Fault::HangLoad).map(|()| json!({ "queued": true })))
}

async fn release_hangs(State(shared): State<Arc<Shared>>) -> Response {
    shared.release_hangs();
    Json(json!({ "released": true })).into_response()
}

async fn never_ack(State(shared): State<Arc<Shared>>, Json(body): Json<EnabledBody>) -> Response {
    shared.world().set_never_ack(body.enabled);
    Json(json!({ "never_ack": body.enabled })).into_response()
}

async fn deliveries(State(shared): State<Arc<Shared>>, Query(query): Query<DeliveriesQuery>) -> Response {
    let deliveries: Vec<_> = shared
        .world()
        .deliveries()
        .into_iter()
        .filter(|d| query.to.as_ref().is_none_or(|to| &d.to == to))
        .filter(|d| query.account.as_ref().is_none_or(|a| &d.account == a))
        .collect();
    Json(json!({ "deliveries": deliveries })).into_response()
}

async fn sessions(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({ "sessions": shared.world().sessions() })).into_response()
}

async fn selectors(State(shared): State<Arc<Shared>>) -> Response {
    let selectors = &shared.page.selectors;
    Json(json!({ "selectors": selectors, "css": selectors.css() })).into_response()
}
