//! `GET /campaigns?account=&limit=&cursor=`: an account's campaigns, newest first, one page at a
//! time, each as its status body (counts included), from one index query per page.
//!
//! The cursor names the last campaign of the previous page as `<creation, Unix nanoseconds>.<id>`;
//! the next page holds the campaigns created before it. Any such value is a valid position (one
//! naming no campaign just starts the walk there).

use crate::{Deps, status_body};
use api_types::CampaignsPage;
use campaign_store::CampaignPosition;
use domain::{AccountId, CampaignId, ErrorCode};
use http_api::{ApiError, json_response};
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};

/// Campaigns per page when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 20;
/// The largest page a caller may ask for.
pub const MAX_LIMIT: u32 = 100;

/// The cursor of a position.
pub fn encode_cursor(p: &CampaignPosition) -> String {
    format!("{}.{}", p.created_unix_nanos, p.id)
}

/// A position given back by a caller; the error says what is wrong with it.
pub fn decode_cursor(text: &str) -> Result<CampaignPosition, String> {
    let refused = || format!("'{text}' is not <creation in Unix nanoseconds, 1 to 20 digits>.<campaign id>");
    let (nanos, id) = text.split_once('.').ok_or_else(refused)?;
    if nanos.is_empty() || nanos.len() > 20 || !nanos.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused());
    }
    let created_unix_nanos = nanos.parse::<i128>().map_err(|_| refused())?;
    let id = CampaignId::parse(id).map_err(|_| refused())?;
    Ok(CampaignPosition { created_unix_nanos, id })
}

/// A listing request, parsed from the query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    /// Whose campaigns.
    pub account: AccountId,
    /// Campaigns per page.
    pub limit: u32,
    /// Older than this one.
    pub after: Option<CampaignPosition>,
}

impl ListRequest {
    /// Parses `account`, `limit` and `cursor`; the error names the parameter at fault.
    pub fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let query: QueryMap = query.unwrap_or_default().parse().unwrap_or_default();
        let bad = |m: String| ApiError::bad_request(ErrorCode::BadRequest, m);
        let account = match query.first("account") {
            None => return Err(bad("account: required (the account whose campaigns to list)".into())),
            Some(raw) => AccountId::parse(raw).map_err(|e| bad(format!("account: {e}")))?,
        };
        let limit = http_api::page_limit(query.first("limit"), DEFAULT_LIMIT, MAX_LIMIT)?;
        let after = http_api::parsed_param("cursor", query.first("cursor"), decode_cursor)?;
        Ok(Self { account, limit, after })
    }
}

/// Serves one page.
pub(crate) async fn list(deps: &Deps, query: Option<&str>) -> Result<Response<Body>, ApiError> {
    let req = ListRequest::parse(query)?;
    // One campaign more than asked tells whether another page follows.
    let mut views = deps
        .store
        .account_campaigns(&req.account, req.after.as_ref(), req.limit + 1)
        .await
        .map_err(|e| ApiError::internal("list campaigns", &e))?;
    let more = views.len() > req.limit as usize;
    views.truncate(req.limit as usize);
    let next_cursor = match (more, views.last()) {
        (true, Some(last)) => Some(encode_cursor(&CampaignPosition::of(last))),
        _ => None,
    };
    Ok(json_response(
        StatusCode::OK,
        &CampaignsPage {
            account: req.account,
            items: views.iter().map(|v| status_body(v, deps.clock.unix())).collect(),
            next_cursor,
        },
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
    use super::*;

    #[test]
    fn a_cursor_survives_the_round_trip_and_anything_else_is_refused() {
        let p = CampaignPosition {
            created_unix_nanos: 1_764_586_800_500_000_000,
            id: CampaignId::parse("c-0123abcd").unwrap(),
        };
        let text = encode_cursor(&p);
        assert_eq!(text, "1764586800500000000.c-0123abcd");
        assert_eq!(decode_cursor(&text), Ok(p));
        for bad in ["", ".", "1.", ".c-1", "x.c-1", "1.c/1", "123456789012345678901.c-1", "-1.c-1"] {
            assert!(decode_cursor(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn a_listing_request_names_the_parameter_at_fault() {
        let err = |q: &str| ListRequest::parse(Some(q)).unwrap_err().message;
        assert!(err("").starts_with("account: required"));
        assert!(err("account=a%20b").starts_with("account: "));
        assert!(err("account=shop&limit=0").starts_with("limit: "));
        assert!(err("account=shop&limit=101").starts_with("limit: "));
        assert!(err("account=shop&cursor=x").starts_with("cursor: "));
        let ok = ListRequest::parse(Some("account=shop")).unwrap();
        assert_eq!((ok.account.as_str(), ok.limit, ok.after), ("shop", DEFAULT_LIMIT, None));
    }
}
