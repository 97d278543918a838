//! `campaign_status`: the read side of the HTTP API. `GET /campaigns/{id}` serves progress for
//! polling from the campaign row alone (one read whatever the campaign's size).

use campaign_store::{CampaignStore, CampaignView};
use domain::{CampaignId, ErrorCode};
use http_api::{ApiError, ApiKey, json_response};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::json;
use std::sync::Arc;

/// Settings read once at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table.
    pub table_name: String,
    /// SHA-256 of the API key.
    pub api_key: ApiKey,
}

impl Config {
    /// Reads `TABLE_NAME` and `API_KEY_SHA256`.
    pub fn from_env() -> Result<Self, platform::ConfigError> {
        Ok(Self {
            table_name: platform::required("TABLE_NAME")?,
            api_key: platform::parsed("API_KEY_SHA256")?,
        })
    }
}

/// What the handler needs.
pub struct Deps {
    /// Campaign rows.
    pub store: Arc<dyn CampaignStore>,
    /// Who may call.
    pub api_key: ApiKey,
}

fn error(status: StatusCode, code: ErrorCode, message: String) -> Response<Body> {
    ApiError { status, code, message }.into_response()
}

/// Handles one HTTP request; every outcome is a JSON response.
pub async fn handle(deps: &Deps, req: Request) -> Result<Response<Body>, std::convert::Infallible> {
    if let Err(e) = deps.api_key.check(&req) {
        return Ok(e.into_response());
    }
    let path = req.uri().path().to_owned();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    Ok(match (req.method(), segments.as_slice()) {
        (&Method::GET, ["campaigns", id]) => match CampaignId::parse(id) {
            Err(e) => error(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, format!("id: {e}")),
            Ok(id) => match deps.store.campaign(&id).await {
                Ok(Some(view)) => json_response(StatusCode::OK, &view_json(&view)),
                Ok(None) => error(
                    StatusCode::NOT_FOUND,
                    ErrorCode::NotFound,
                    format!("campaign '{id}' does not exist"),
                ),
                Err(e) => {
                    tracing::error!(error = %e, campaign = %id, "status read failed");
                    error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        ErrorCode::Internal,
                        ErrorCode::Internal.sentence().into(),
                    )
                }
            },
        },
        _ => error(StatusCode::NOT_FOUND, ErrorCode::NotFound, format!("no route {} {path}", req.method())),
    })
}

/// The status body: the campaign, its counts and the share of final messages.
pub fn view_json(v: &CampaignView) -> serde_json::Value {
    let c = v.counts;
    let done = c.sent + c.failed + c.cancelled;
    let percent = if c.total == 0 { 100.0 } else { (done as f64 * 1000.0 / c.total as f64).floor() / 10.0 };
    json!({
        "campaign_id": v.id,
        "name": v.name,
        "account": v.account,
        "status": v.status,
        "counts": c,
        "percent": percent,
        "reason": v.reason,
        "hint": v.hint,
        "notice": v.notice,
        "created_at": v.created_at,
        "updated_at": v.updated_at,
    })
}
