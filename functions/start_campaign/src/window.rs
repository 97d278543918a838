//! `PUT` and `DELETE /accounts/{account}/sending-window`: set or remove the hours at which the
//! account's messages may reach a recipient (read in the recipient's time zone). Rows held for
//! the window they replace are decided again on the new one by the reconciler's next run; a
//! removed window lets them all go.

use crate::{ApiError, Deps};
use api_types::{SendingWindowBody, SendingWindowRequest};
use domain::{ErrorCode, SendingWindow};
use http_api::json_response;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

/// `PUT`: sets (or replaces) the window; the answer is the window as stored.
pub(crate) async fn put(deps: &Deps, account_raw: &str, req: &Request) -> Result<Response<Body>, ApiError> {
    let account = http_api::account_id(account_raw)?;
    let body: SendingWindowRequest = crate::request::parse_json(req.body().as_ref())?;
    // Every refusal names its field (from, to, days, time_zone).
    let window = SendingWindow::parse(&body.from, &body.to, &body.days, &body.time_zone)
        .map_err(|e| ApiError::bad_request(ErrorCode::BadRequest, e.to_string()))?;
    let at = deps.clock.unix();
    deps.windows.set_window(&account, &window, at).await.map_err(|e| ApiError::internal("set window", &e))?;
    tracing::info!(%account, window = %window, "sending window set");
    Ok(json_response(StatusCode::OK, &SendingWindowBody::of(account.as_str(), &window, at)))
}

/// `DELETE`: removes the window (messages go at any hour); 404 when there was none.
pub(crate) async fn delete(deps: &Deps, account_raw: &str) -> Result<Response<Body>, ApiError> {
    let account = http_api::account_id(account_raw)?;
    let removed =
        deps.windows.clear_window(&account).await.map_err(|e| ApiError::internal("clear window", &e))?;
    if !removed {
        return Err(ApiError::not_found(format!("account '{account}' has no sending window")));
    }
    tracing::info!(%account, "sending window removed");
    Ok(Response::builder().status(StatusCode::NO_CONTENT).body(Body::Empty).unwrap_or_default())
}
