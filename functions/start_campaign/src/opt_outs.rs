//! The accounts' opt-out lists: `PUT` and `DELETE /accounts/{account}/opt-outs/{phone}` (the
//! number international, `+` as is or `%2B`), and the rows of a new campaign whose numbers are
//! on the list, marked to be recorded FAILED with OPTED_OUT (and listed in the 202) instead of
//! being queued. The sender checks the list again right before it sends.

use crate::{ApiError, Deps};
use api_types::OptOutState;
use campaign_store::NewCampaign;
use domain::{AccountId, ErrorCode, PhoneNumber};
use http_api::json_response;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};

fn parse(account: &str, phone: &str) -> Result<(AccountId, PhoneNumber), ApiError> {
    let account = http_api::account_id(account)?;
    let raw = percent_encoding::percent_decode_str(phone).decode_utf8_lossy();
    let phone = PhoneNumber::parse(&raw, None)
        .map_err(|e| ApiError::bad_request(ErrorCode::InvalidPhone, format!("phone: {e}")))?;
    Ok((account, phone))
}

fn state(account: &AccountId, phone: &PhoneNumber, opted_out: bool) -> Response<Body> {
    json_response(
        StatusCode::OK,
        &OptOutState { account: account.as_str().to_owned(), phone: phone.e164().to_owned(), opted_out },
    )
}

/// `PUT`: the number goes on the list (again: no change).
pub(crate) async fn put(deps: &Deps, account: &str, phone: &str) -> Result<Response<Body>, ApiError> {
    let (account, phone) = parse(account, phone)?;
    deps.store
        .add_opt_out(&account, &phone, &deps.now())
        .await
        .map_err(|e| ApiError::internal("opt out", &e))?;
    tracing::info!(account = %account, "a number was put on the opt-out list");
    Ok(state(&account, &phone, true))
}

/// `DELETE`: the number comes off the list; 404 when it was not on it.
pub(crate) async fn delete(deps: &Deps, account: &str, phone: &str) -> Result<Response<Body>, ApiError> {
    let (account, phone) = parse(account, phone)?;
    let removed =
        deps.store.remove_opt_out(&account, &phone).await.map_err(|e| ApiError::internal("opt in", &e))?;
    if !removed {
        return Err(ApiError::not_found(format!("the number is not on account '{account}''s opt-out list")));
    }
    tracing::info!(account = %account, "a number was taken off the opt-out list");
    Ok(state(&account, &phone, false))
}

/// Marks the rows of `campaign` whose numbers are on its account's list.
pub(crate) async fn mark(deps: &Deps, campaign: &mut NewCampaign) -> Result<(), ApiError> {
    let phones: Vec<String> =
        campaign.messages.iter().filter_map(|m| m.phone.as_ref().ok().map(|p| p.e164().to_owned())).collect();
    let listed = deps
        .store
        .opted_out(&campaign.account, &phones)
        .await
        .map_err(|e| ApiError::internal("opt-out list", &e))?;
    for m in &mut campaign.messages {
        m.opted_out = m.phone.as_ref().is_ok_and(|p| listed.contains(p.e164()));
    }
    Ok(())
}
