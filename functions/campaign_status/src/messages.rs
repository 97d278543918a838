//! `GET /campaigns/{id}/messages?status=&limit=&cursor=`: a campaign's rows in row order, one
//! page at a time.
//!
//! With `status` the page is read from the status index, without it from the campaign's own
//! partition: neither reads more of the table than the page. The cursor is the last row number
//! returned (decimal); the next page starts after it, so any row number is a valid cursor and a
//! walk can resume from any row.

use crate::{Deps, existing_campaign};
use api_types::{MessageItem, MessagesPage};
use campaign_store::MessageEntry;
use domain::{CampaignId, ErrorCode, MessageSeq, MessageStatus};
use http_api::{ApiError, json_response};
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};

/// Rows per page when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest page a caller may ask for.
pub const MAX_LIMIT: u32 = 1000;

/// The largest row number a cursor may name (rows are numbered below 10^9; campaigns hold at
/// most 10,000).
pub const MAX_CURSOR: u32 = 999_999_999;

/// The row a cursor names, or why it names none.
pub fn decode_cursor(text: &str) -> Result<MessageSeq, String> {
    let digits = !text.is_empty() && text.len() <= 9 && text.bytes().all(|b| b.is_ascii_digit());
    match text.parse::<u32>() {
        Ok(n) if digits && n <= MAX_CURSOR => Ok(MessageSeq(n)),
        _ => Err(format!("'{text}' is not a row number (1 to 9 digits)")),
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
        Self::parse_with(query, DEFAULT_LIMIT)
    }

    /// [`PageRequest::parse`] with `default_limit` rows when `limit` is not given.
    pub fn parse_with(query: Option<&str>, default_limit: u32) -> Result<Self, ApiError> {
        let query: QueryMap = query.unwrap_or_default().parse().unwrap_or_default();
        let bad = |m: String| ApiError::bad_request(ErrorCode::BadRequest, m);
        let status = match query.first("status").filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(s.parse::<MessageStatus>().map_err(|_| {
                let known: Vec<&str> = MessageStatus::ALL.iter().map(|s| s.as_str()).collect();
                bad(format!("status: '{s}' is not one of {}", known.join(", ")))
            })?),
        };
        let limit = http_api::page_limit(query.first("limit"), default_limit, MAX_LIMIT)?;
        let after = http_api::parsed_param("cursor", query.first("cursor"), decode_cursor)?;
        Ok(Self { status, limit, after })
    }
}

/// Serves one page.
pub(crate) async fn list(deps: &Deps, id: &str, query: Option<&str>) -> Result<Response<Body>, ApiError> {
    let page = PageRequest::parse(query)?;
    let campaign = existing_campaign(deps, id).await?;
    let (entries, next) = read_page(deps, &campaign.id, &page).await?;
    Ok(json_response(
        StatusCode::OK,
        &MessagesPage {
            campaign_id: campaign.id,
            status_filter: page.status,
            limit: page.limit,
            items: entries.iter().map(item).collect(),
            next_cursor: next.map(|seq| seq.0.to_string()),
        },
    ))
}

/// The rows of one page and, when another page follows, the cursor to it (the last row
/// returned). It reads one row more than asked, so a walk never ends on an empty page.
pub(crate) async fn read_page(
    deps: &Deps,
    campaign: &CampaignId,
    page: &PageRequest,
) -> Result<(Vec<MessageEntry>, Option<MessageSeq>), ApiError> {
    let mut entries = deps
        .store
        .list_messages(campaign, page.status, page.after, page.limit + 1)
        .await
        .map_err(|e| ApiError::internal("list messages", &e))?;
    let more = entries.len() > page.limit as usize;
    entries.truncate(page.limit as usize);
    let next = if more { entries.last().map(|last| last.row.seq) } else { None };
    tracing::debug!(campaign = %campaign, rows = entries.len(), more, "messages page read");
    Ok((entries, next))
}

/// One row as the API shows it.
pub fn item(e: &MessageEntry) -> MessageItem {
    let r = &e.row;
    MessageItem {
        row: r.seq.0,
        phone: r.phone.clone(),
        status: r.status,
        code: r.error,
        reason: r.error.map(|c| c.sentence().to_owned()),
        attempts: r.attempts,
        updated_at: e.updated_at.clone(),
        sent_at: e.sent_at.clone(),
        delivered_at: e.delivered_at.clone(),
        read_at: e.read_at.clone(),
        waiting_until: r
            .hold
            .filter(|_| r.status == domain::MessageStatus::Queued)
            .and_then(|h| time::OffsetDateTime::from_unix_timestamp(h.until).ok())
            .map(domain::rfc3339),
        media_id: r.media.as_ref().map(ToString::to_string),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
    use super::*;

    #[test]
    fn a_cursor_is_a_row_number_and_nothing_else() {
        assert_eq!(decode_cursor("0"), Ok(MessageSeq(0)));
        assert_eq!(decode_cursor("999999999"), Ok(MessageSeq(999_999_999)));
        for bad in ["", "-1", "+1", "1000000000", "1e3", "djEu", " 1"] {
            assert!(decode_cursor(bad).is_err(), "{bad} was accepted");
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
        assert!(err("cursor=").starts_with("cursor: "));
        let ok = PageRequest::parse(Some("cursor=3&limit=1000")).unwrap();
        assert_eq!(ok, PageRequest { status: None, limit: 1000, after: Some(MessageSeq(3)) });
        assert_eq!(PageRequest::parse(None).unwrap().limit, DEFAULT_LIMIT);
    }
}
