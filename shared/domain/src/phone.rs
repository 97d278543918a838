//! Phone numbers in E.164, parsed with a libphonenumber port so that national formats with a
//! default region, spaces and dashes are accepted and impossible numbers refused.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a phone number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Not a phone number at all, or a national number without a known region.
    #[error("'{0}' is not a phone number (use international format, e.g. +4915112345678)")]
    Unparseable(String),
    /// Parsed, but no such number can exist.
    #[error("'{0}' is not a valid number")]
    Invalid(String),
    /// The default region is not an ISO 3166 alpha-2 code.
    #[error("unknown region '{0}' (use an ISO 3166 code such as DE or US)")]
    UnknownRegion(String),
}

/// A valid phone number, stored as E.164 (`+4915112345678`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses `input`; national numbers need `default_region` (e.g. "DE").
    pub fn parse(input: &str, default_region: Option<&str>) -> Result<Self, PhoneError> {
        let region = match default_region {
            Some(r) => Some(
                r.trim()
                    .to_ascii_uppercase()
                    .parse::<phonenumber::country::Id>()
                    .map_err(|_| PhoneError::UnknownRegion(r.to_owned()))?,
            ),
            None => None,
        };
        let trimmed = input.trim();
        let parsed =
            phonenumber::parse(region, trimmed).map_err(|_| PhoneError::Unparseable(trimmed.to_owned()))?;
        if !phonenumber::is_valid(&parsed) {
            return Err(PhoneError::Invalid(trimmed.to_owned()));
        }
        Ok(Self(parsed.format().mode(phonenumber::Mode::E164).to_string()))
    }

    /// The E.164 form with the leading `+`.
    pub fn e164(&self) -> &str {
        &self.0
    }

    /// The ISO 3166 code of the number's country (`DE`; the specific one for shared calling
    /// codes, e.g. `CA` for a Canadian +1 number), or `None` for a number of no country.
    pub fn region(&self) -> Option<String> {
        let parsed = phonenumber::parse(None, &self.0).ok()?;
        parsed.country().id().map(|id| id.as_ref().to_owned())
    }

    /// Digits only, as WhatsApp Web links want them (`4915112345678`).
    pub fn digits(&self) -> &str {
        self.0.trim_start_matches('+')
    }

    /// A form safe for logs at info level: country code and the last two digits only.
    pub fn redacted(&self) -> String {
        let d = self.digits();
        let tail = &d[d.len().saturating_sub(2)..];
        format!("+{}…{}", &d[..d.len().min(2)], tail)
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneError;
    fn try_from(s: String) -> Result<Self, PhoneError> {
        Self::parse(&s, None)
    }
}

impl From<PhoneNumber> for String {
    fn from(p: PhoneNumber) -> String {
        p.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_numbers_are_normalised_with_the_default_region() {
        let p = PhoneNumber::parse("0151 1234 5678", Some("de")).unwrap();
        assert_eq!(p.e164(), "+4915112345678");
        assert_eq!(p.digits(), "4915112345678");
    }

    #[test]
    fn international_numbers_need_no_region() {
        assert_eq!(PhoneNumber::parse("+1 415-555-2671", None).unwrap().e164(), "+14155552671");
    }

    #[test]
    fn garbage_and_impossible_numbers_are_refused() {
        assert!(matches!(PhoneNumber::parse("hello", Some("DE")), Err(PhoneError::Unparseable(_))));
        assert!(PhoneNumber::parse("+49 1", None).is_err());
        assert!(matches!(PhoneNumber::parse("0151", Some("XX")), Err(PhoneError::UnknownRegion(_))));
    }

    #[test]
    fn display_never_shows_the_whole_number() {
        let p = PhoneNumber::parse("+4915112345678", None).unwrap();
        assert!(!p.to_string().contains("15112345"));
    }
}
