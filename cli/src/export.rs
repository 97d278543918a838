//! `wacamp export`: a campaign's report as CSV on stdout, fetched page by page through
//! `GET /campaigns/{id}/messages.csv` (following each page's `Link: <…>; rel="next"`) and
//! written as each page arrives, so a campaign of any size is never held whole.

use crate::api::Api;
use anyhow::{Context, Result, bail};
use std::io::Write;

/// Writes the report of `campaign` (rows in `status` only, when given) to `out`; returns the
/// number of rows written (the header line not counted).
pub async fn export(
    api: &Api,
    campaign: &str,
    status: Option<&str>,
    page_size: u32,
    out: &mut impl Write,
) -> Result<u64> {
    // Every value is URL-safe as it is: a status word and digits.
    let mut path = format!("/campaigns/{campaign}/messages.csv?limit={page_size}");
    if let Some(s) = status {
        path.push_str(&format!("&status={s}"));
    }
    let mut url = api.url(&path)?;
    let mut rows = 0u64;
    let mut first = true;
    // The columns the first page's header names: every row of every page has as many.
    let mut width = None;
    // A campaign holds at most 10,000 rows: more pages than that means the API loops.
    for _ in 0..=10_000 {
        let (body, link) = api.get_page(url.clone()).await?;
        rows += records(&body, first, &mut width)
            .with_context(|| format!("the page at {url} is not the report's CSV"))?;
        out.write_all(&body).context("writing the report")?;
        out.flush().context("writing the report")?;
        match link.as_deref().and_then(next_target) {
            Some(target) => url = url.join(target).with_context(|| format!("the next page '{target}'"))?,
            None => return Ok(rows),
        }
        first = false;
    }
    bail!("the API kept naming a next page after 10,000 pages")
}

/// The rows in one page (its header line, when it has one, not counted), each checked to have
/// `width` columns; the first line read sets `width` when it is not known yet.
fn records(page: &[u8], header: bool, width: &mut Option<usize>) -> Result<u64> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(page);
    let mut n = 0;
    for (line, record) in reader.records().enumerate() {
        let record = record?;
        let expected = *width.get_or_insert(record.len());
        if record.len() != expected {
            bail!("record {} has {} columns, the report {expected}", line + 1, record.len());
        }
        if !(header && line == 0) {
            n += 1;
        }
    }
    Ok(n)
}

/// The target of the `rel="next"` link in a `link` header value (RFC 8288), if any.
fn next_target(link: &str) -> Option<&str> {
    link.split(',').find_map(|part| {
        let (target, params) = part.trim().strip_prefix('<')?.split_once('>')?;
        let next = params.split(';').any(|p| {
            let p = p.trim();
            p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
        });
        next.then_some(target)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
    use super::*;

    #[test]
    fn the_next_page_is_the_link_whose_relation_is_next() {
        assert_eq!(
            next_target("<messages.csv?cursor=999&limit=1000>; rel=\"next\""),
            Some("messages.csv?cursor=999&limit=1000")
        );
        assert_eq!(next_target("<a>; rel=\"prev\", <b>; rel=next"), Some("b"));
        assert_eq!(next_target("<a>; rel=\"prev\""), None);
        assert_eq!(next_target("garbage"), None);
    }

    #[test]
    fn a_pages_rows_are_counted_without_its_header_and_with_quoted_line_breaks() {
        let mut width = None;
        let page = b"row,name\r\n1,\"two\r\nlines\"\r\n2,b\r\n";
        assert_eq!(records(page, true, &mut width).unwrap(), 2);
        assert_eq!(width, Some(2));
        assert_eq!(records(b"3,c\r\n", false, &mut width).unwrap(), 1);
        assert!(records(b"1,a\r\n2\r\n", false, &mut width).is_err(), "a short row is not the report");
    }

    #[test]
    fn a_later_page_with_other_columns_than_the_header_is_refused() {
        let mut width = None;
        assert_eq!(records(b"row,name\r\n1,a\r\n", true, &mut width).unwrap(), 1);
        let error = records(b"2,b,extra\r\n", false, &mut width).unwrap_err();
        assert_eq!(error.to_string(), "record 1 has 3 columns, the report 2");
    }
}
