//! `GET /campaigns/{id}/messages.csv?status=&limit=&cursor=`: a campaign's report as CSV, to hand
//! to whoever the campaign was run for.
//!
//! One page per request, at most [`MAX_LIMIT`] rows ([`DEFAULT_LIMIT`] when `limit` is not
//! given): the function never holds more of a campaign than one page, whatever its size. The page
//! without a `cursor` starts with the header line and the pages after it hold rows only, so the
//! pages in order, concatenated, are one RFC 4180 file. `Link: <…>; rel="next"` names the next
//! page (relative to this one); the last page has none. `status` and `cursor` mean what they mean
//! for `GET /campaigns/{id}/messages`.
//!
//! Columns: `row`, `phone`, one per template variable (in order of first use), `status`, `code`,
//! `reason`, `attempts`, `updated_at`, `sent_at`, `delivered_at`, `read_at`. A variable named like
//! one of the other columns is headed `var:{name}`. `delivered_at` and `read_at` are empty until
//! that receipt is seen for the row.
//!
//! A cell a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab or a
//! carriage return) is written with a leading `'`; a phone in E.164 (`+` and digits) is written
//! as it is.

use crate::messages::{MAX_LIMIT, PageRequest, read_page};
use crate::{Deps, existing_campaign};
use campaign_store::MessageEntry;
use domain::{MessageSeq, MessageStatus, Template};
use http_api::ApiError;
use lambda_http::http::{HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use std::borrow::Cow;

/// Rows per page when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = MAX_LIMIT;

/// The columns before the variables.
const LEADING: [&str; 2] = ["row", "phone"];
/// The columns after the variables.
const TRAILING: [&str; 8] =
    ["status", "code", "reason", "attempts", "updated_at", "sent_at", "delivered_at", "read_at"];

/// The report's columns for one campaign: the fixed ones around the template's variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    variables: Vec<String>,
}

impl Columns {
    /// The columns for a campaign whose template is `template` (accepted at the door, so it
    /// parses; one that did not would give no variable columns).
    pub fn of(template: &str) -> Self {
        let variables = Template::parse(template)
            .map(|t| t.variables().into_iter().map(str::to_owned).collect())
            .unwrap_or_default();
        Self { variables }
    }

    /// The header line's cells.
    pub fn header(&self) -> Vec<Cow<'_, str>> {
        let fixed = |name: &str| LEADING.contains(&name) || TRAILING.contains(&name);
        let variables =
            self.variables.iter().map(|v| if fixed(v) { Cow::Owned(format!("var:{v}")) } else { guarded(v) });
        LEADING.into_iter().map(Cow::Borrowed).chain(variables).chain(TRAILING.map(Cow::Borrowed)).collect()
    }

    /// One row's cells, in the header's order.
    pub fn cells<'a>(&self, entry: &'a MessageEntry) -> Vec<Cow<'a, str>> {
        let r = &entry.row;
        let text = |value: Option<&'a str>| value.map_or(Cow::Borrowed(""), guarded);
        let mut cells = vec![Cow::Owned(r.seq.0.to_string()), guarded(&r.phone)];
        cells.extend(self.variables.iter().map(|v| text(r.vars.get(v).map(String::as_str))));
        cells.extend([
            Cow::Borrowed(r.status.as_str()),
            Cow::Borrowed(r.error.map_or("", |c| c.as_str())),
            Cow::Borrowed(r.error.map_or("", |c| c.sentence())),
            Cow::Owned(r.attempts.to_string()),
            text(entry.updated_at.as_deref()),
            text(entry.sent_at.as_deref()),
            text(entry.delivered_at.as_deref()),
            text(entry.read_at.as_deref()),
        ]);
        cells
    }
}

/// `text` as a cell no spreadsheet runs as a formula: a leading `'` when it starts with `=`, `+`,
/// `-`, `@`, a tab or a carriage return, except a phone in E.164 (`+` and digits only).
pub fn guarded(text: &str) -> Cow<'_, str> {
    let e164 = text.len() > 1 && text.starts_with('+') && text[1..].bytes().all(|b| b.is_ascii_digit());
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') if !e164 => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// One page of the report: the header line first when `header`, then a line per row.
pub fn render(columns: &Columns, header: bool, entries: &[MessageEntry]) -> Result<String, csv::Error> {
    let mut out = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    if header {
        out.write_record(columns.header().iter().map(|c| c.as_ref()))?;
    }
    for entry in entries {
        out.write_record(columns.cells(entry).iter().map(|c| c.as_ref()))?;
    }
    let bytes = out.into_inner().map_err(|e| csv::Error::from(e.into_error()))?;
    // Every cell was a `str`, so the bytes are UTF-8; were they not, that is an error, not a
    // report with replacement characters in it.
    String::from_utf8(bytes).map_err(|e| csv::Error::from(std::io::Error::other(e)))
}

/// The `Link` target of the page after `last`, relative to the page being served.
pub fn next_link(last: MessageSeq, limit: u32, status: Option<MessageStatus>) -> String {
    let mut target = format!("messages.csv?cursor={}&limit={limit}", last.0);
    if let Some(s) = status {
        target.push_str(&format!("&status={}", s.as_str()));
    }
    format!("<{target}>; rel=\"next\"")
}

/// Serves one page of the report.
pub(crate) async fn export(deps: &Deps, id: &str, query: Option<&str>) -> Result<Response<Body>, ApiError> {
    let page = PageRequest::parse_with(query, DEFAULT_LIMIT)?;
    let campaign = existing_campaign(deps, id).await?;
    let (entries, next) = read_page(deps, &campaign.id, &page).await?;
    let first = page.after.is_none();
    let body = render(&Columns::of(&campaign.template), first, &entries)
        .map_err(|e| ApiError::internal("write a report page", &e))?;
    let mut resp = Response::new(Body::Text(body));
    *resp.status_mut() = StatusCode::OK;
    let headers = resp.headers_mut();
    headers.insert(
        "content-type",
        HeaderValue::from_static(if first {
            "text/csv; charset=utf-8; header=present"
        } else {
            "text/csv; charset=utf-8; header=absent"
        }),
    );
    // A campaign id is `c-` and hex: safe in a header as it is.
    if let Ok(disposition) = HeaderValue::from_str(&format!("attachment; filename=\"{}.csv\"", campaign.id)) {
        headers.insert("content-disposition", disposition);
    }
    if let Some(last) = next
        && let Ok(link) = HeaderValue::from_str(&next_link(last, page.limit, page.status))
    {
        headers.insert("link", link);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
    use super::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_gets_a_leading_quote_but_an_e164_phone_does_not() {
        for (raw, written) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("-2+3", "'-2+3"),
            ("+1 (555)", "'+1 (555)"),
            ("\tx", "'\tx"),
            ("+4915112345678", "+4915112345678"),
            ("Ana", "Ana"),
            ("", ""),
        ] {
            assert_eq!(guarded(raw), written, "{raw:?}");
        }
    }

    #[test]
    fn the_header_puts_the_templates_variables_between_the_phone_and_the_status() {
        let columns = Columns::of("Hi {{name}}, {{status}} {{name}}");
        let header: Vec<String> = columns.header().into_iter().map(Cow::into_owned).collect();
        let names: Vec<&str> = header.iter().map(String::as_str).collect();
        assert_eq!(&names[..2], ["row", "phone"]);
        assert_eq!(names[2], "name");
        assert_eq!(names[3], "var:status", "a variable named like a column is told apart");
        assert_eq!(&names[4..], TRAILING);
    }

    #[test]
    fn the_next_link_is_relative_to_the_page_and_keeps_the_filter() {
        assert_eq!(
            next_link(MessageSeq(999), 1000, None),
            "<messages.csv?cursor=999&limit=1000>; rel=\"next\""
        );
        assert_eq!(
            next_link(MessageSeq(7), 5, Some(MessageStatus::Failed)),
            "<messages.csv?cursor=7&limit=5&status=FAILED>; rel=\"next\""
        );
    }
}
