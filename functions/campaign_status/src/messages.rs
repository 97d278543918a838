//! `GET /campaigns/{id}/messages?status=&limit=&cursor=`: a campaign's rows in row order, one
//! page at a time.
//!
//! With `status` the page is read from the status index, without it from the campaign's own
//! partition: neither reads more of the table than the page. The cursor is opaque to callers:
//! base64url of `v1.<filter>.<last row>`, where the filter is the status or `ALL`. It is checked
//! on the way in, and a cursor taken under another filter is refused, so a walk can neither skip
//! nor repeat rows by mixing filters.

use crate::{Deps, existing_campaign};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use campaign_store::MessageEntry;
use domain::{ErrorCode, MessageSeq, MessageStatus};
use http_api::{ApiError, json_response};
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json;

/// Rows per page when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest page a caller may ask for.
pub const MAX_LIMIT: u32 = 1000;

/// Where a walk stands: the filter it runs under and the last row it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The status filter the walk runs under (`None`: every row).
    pub status: Option<MessageStatus>,
    /// The last row returned; the next page starts after it.
    pub after: MessageSeq,
}

impl Cursor {
    /// The opaque text handed to callers.
    pub fn encode(&self) -> String {
        let filter = self.status.map_or("ALL", MessageStatus::as_str);
        URL_SAFE_NO_PAD.encode(format!("v1.{filter}.{}", self.after.0))
    }

    /// Reads a cursor given back by a caller; the error says what is wrong with it.
    pub fn decode(text: &str) -> Result<Self, &'static str> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| "is not a cursor this API issued")?;
        let text = String::from_utf8(bytes).map_err(|_| "is not a cursor this API issued")?;
        let mut parts = text.splitn(3, '.');
        let (Some("v1"), Some(filter), Some(seq)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("is not a cursor this API issued");
        };
        let status = match filter {
            "ALL" => None,
            s => Some(s.parse::<MessageStatus>().map_err(|_| "is not a cursor this API issued")?),
        };
        let after = seq.parse::<u32>().map(MessageSeq).map_err(|_| "is not a cursor this API issued")?;
        Ok(Self { status, after })
    }
}

/// A page request, parsed from the query string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Only rows in this status.
    pub status: Option<MessageStatus>,
    /// Rows per page.
    pub limit: u32,
    /// Start after this row.
    pub after: Option<MessageSeq>,
}

impl PageRequest {
    /// Parses `status`, `limit` and `cursor`; the error names the parameter at fault.
    pub fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let query: QueryMap = query.unwrap_or_default().parse().unwrap_or_default();
        let bad = |m: String| ApiError::bad_request(ErrorCode::BadRequest, m);
        let status = match query.first("status").filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(s.parse::<MessageStatus>().map_err(|_| {
                let known: Vec<&str> = MessageStatus::ALL.iter().map(|s| s.as_str()).collect();
                bad(format!("status: '{s}' is not one of {}", known.join(", ")))
            })?),
        };
        let limit = match query.first("limit") {
            None => DEFAULT_LIMIT,
            Some(raw) => {
                raw.parse::<u32>().ok().filter(|l| (1..=MAX_LIMIT).contains(l)).ok_or_else(|| {
                    bad(format!("limit: '{raw}' is not a whole number from 1 to {MAX_LIMIT}"))
                })?
            }
        };
        let after = match query.first("cursor").filter(|c| !c.is_empty()) {
            None => None,
            Some(raw) => {
                let cursor = Cursor::decode(raw).map_err(|why| bad(format!("cursor: {why}")))?;
                if cursor.status != status {
                    let filter = |s: Option<MessageStatus>| s.map_or("no status", MessageStatus::as_str);
                    return Err(bad(format!(
                        "cursor: it continues a walk with {}, not {}; start again without a cursor",
                        filter(cursor.status),
                        filter(status)
                    )));
                }
                Some(cursor.after)
            }
        };
        Ok(Self { status, limit, after })
    }
}

/// Serves one page.
pub(crate) async fn list(deps: &Deps, id: &str, query: Option<&str>) -> Result<Response<Body>, ApiError> {
    let page = PageRequest::parse(query)?;
    let campaign = existing_campaign(deps, id).await?;
    // One row more than asked tells whether another page follows, so a walk never ends on an
    // empty page.
    let mut entries = deps
        .store
        .list_messages(&campaign.id, page.status, page.after, page.limit + 1)
        .await
        .map_err(|e| ApiError::internal("list messages", &e))?;
    let more = entries.len() > page.limit as usize;
    entries.truncate(page.limit as usize);
    let next_cursor = match (more, entries.last()) {
        (true, Some(last)) => Some(Cursor { status: page.status, after: last.row.seq }.encode()),
        _ => None,
    };
    tracing::debug!(campaign = %campaign.id, rows = entries.len(), more, "messages page served");
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "campaign_id": campaign.id,
            "status_filter": page.status,
            "limit": page.limit,
            "items": entries.iter().map(item_json).collect::<Vec<_>>(),
            "next_cursor": next_cursor,
        }),
    ))
}

/// One row as the API shows it.
pub fn item_json(e: &MessageEntry) -> serde_json::Value {
    let r = &e.row;
    json!({
        "row": r.seq.0,
        "phone": r.phone,
        "status": r.status,
        "code": r.error,
        "reason": r.error.map(ErrorCode::sentence),
        "attempts": r.attempts,
        "updated_at": e.updated_at,
        "sent_at": e.sent_at,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
    use super::*;

    #[test]
    fn a_cursor_survives_the_round_trip_and_stays_url_safe() {
        for status in [None, Some(MessageStatus::Paused)] {
            let c = Cursor { status, after: MessageSeq(4_000_000) };
            let text = c.encode();
            assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{text}");
            assert_eq!(Cursor::decode(&text), Ok(c));
        }
    }

    #[test]
    fn forged_or_foreign_cursors_are_refused() {
        for bad in ["", "!!", "djEuQUxMLg", "djIuQUxMLjU", "djEuU09SVC41", "djEuQUxMLi0x"] {
            assert!(Cursor::decode(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn a_page_request_names_the_parameter_at_fault() {
        let err = |q: &str| PageRequest::parse(Some(q)).unwrap_err().message;
        assert!(err("limit=0").starts_with("limit: "));
        assert!(err("limit=1001").starts_with("limit: "));
        assert!(err("limit=ten").starts_with("limit: "));
        assert!(err("status=sent").starts_with("status: "));
        assert!(err("cursor=%%%").starts_with("cursor: "));
        let all = Cursor { status: None, after: MessageSeq(3) }.encode();
        assert!(
            err(&format!("status=SENT&cursor={all}"))
                .starts_with("cursor: it continues a walk with no status")
        );
        let ok = PageRequest::parse(Some(&format!("cursor={all}&limit=1000"))).unwrap();
        assert_eq!(ok, PageRequest { status: None, limit: 1000, after: Some(MessageSeq(3)) });
        assert_eq!(PageRequest::parse(None).unwrap().limit, DEFAULT_LIMIT);
    }
}
