//! Reads a recipients CSV: a `phone` column, an optional `media` column (each recipient's own
//! file: a path or a media id, kept as given for `wacamp start` to resolve), and any other
//! columns as template variables. Errors name the line and the column.

use anyhow::{Context, Result, bail};
use api_types::RecipientRequest;
use domain::Vars;

/// Recipients as the API wants them, from CSV text in any reader.
pub fn parse(reader: impl std::io::Read) -> Result<Vec<RecipientRequest>> {
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(reader);
    let headers = rdr.headers().context("cannot read the header line")?.clone();
    let Some(phone_col) = headers.iter().position(|h| h.eq_ignore_ascii_case("phone")) else {
        bail!("line 1: no `phone` column (columns: {})", headers.iter().collect::<Vec<_>>().join(", "));
    };
    let media_col = headers.iter().position(|h| h.eq_ignore_ascii_case("media"));
    let mut out = Vec::new();
    for (i, record) in rdr.records().enumerate() {
        let line = i + 2;
        let record = record.with_context(|| format!("line {line}: not valid CSV"))?;
        let phone = record.get(phone_col).unwrap_or_default();
        if phone.is_empty() {
            bail!("line {line}: column `phone` is empty");
        }
        let mut vars = Vars::new();
        for (j, value) in record.iter().enumerate() {
            if j != phone_col && Some(j) != media_col {
                let name = headers.get(j).unwrap_or_default();
                vars.insert(name.to_owned(), value.to_owned());
            }
        }
        let media = media_col.and_then(|c| record.get(c)).filter(|m| !m.is_empty()).map(str::to_owned);
        out.push(RecipientRequest { phone: phone.to_owned(), vars, media });
    }
    if out.is_empty() {
        bail!("no recipients after the header line");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_but_phone_becomes_a_variable() {
        let rows = parse("phone,name\n+4915112345678, Ana \n".as_bytes()).unwrap();
        let vars = Vars::from([("name".to_owned(), "Ana".to_owned())]);
        assert_eq!(rows, vec![RecipientRequest { phone: "+4915112345678".into(), vars, media: None }]);
    }

    #[test]
    fn a_media_column_is_a_recipients_own_file_and_no_variable() {
        let rows = parse("phone,Media,name\n+4915112345678,offer.pdf,Ana\n+4915112345679,,Ben\n".as_bytes())
            .unwrap();
        assert_eq!(rows[0].media.as_deref(), Some("offer.pdf"));
        assert_eq!(rows[1].media, None, "an empty cell: the campaign's file, if any");
        assert_eq!(rows[0].vars, Vars::from([("name".to_owned(), "Ana".to_owned())]));
    }

    #[test]
    fn a_missing_phone_column_or_value_names_the_line() {
        let err = parse("name\nAna\n".as_bytes()).unwrap_err();
        assert!(err.to_string().starts_with("line 1: no `phone` column"), "{err}");
        let err = parse("phone,name\n,Ana\n".as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "line 2: column `phone` is empty");
    }

    #[test]
    fn ragged_rows_are_refused_with_their_line() {
        let err = parse("phone,name\n+4915112345678,Ana,extra\n".as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "line 2: not valid CSV");
    }
}
