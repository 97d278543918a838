//! Which time zone a recipient lives in, from the number alone: its country (the phone-number
//! library's region), and that country's zones from the time zone database's `zone.tab`
//! (`country_zones.tsv`, written by `scripts/country-zones.sh`). A country of one zone decides;
//! for a country of several, the account's zone when it is one of them (the operator's own
//! country), else every zone of the country (see [`super::SendingWindow::opens_at`]). A number
//! of no country (international services) takes the account's zone.

use crate::PhoneNumber;
use jiff::tz::TimeZone;
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

/// A zone name the time zone database does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("time_zone: '{0}' is not a time zone of the IANA database (e.g. Europe/Berlin, America/Sao_Paulo)")]
pub struct TimeZoneError(pub String);

/// An IANA time zone, by its name, resolved against the database bundled in the binary (so the
/// answer does not depend on the host's files).
#[derive(Clone)]
pub struct TimeZoneName {
    name: String,
    zone: TimeZone,
}

impl TimeZoneName {
    /// Resolves `name` (`Europe/Berlin`; the database's case is not required).
    pub fn parse(name: &str) -> Result<Self, TimeZoneError> {
        let trimmed = name.trim();
        // Only area/location names and UTC: an abbreviation or a POSIX rule is not a place.
        let plausible = !trimmed.is_empty() && (trimmed.contains('/') || trimmed.eq_ignore_ascii_case("UTC"));
        let zone = plausible
            .then(|| jiff::tz::db().get(trimmed).ok())
            .flatten()
            .ok_or_else(|| TimeZoneError(trimmed.to_owned()))?;
        let name = zone.iana_name().unwrap_or(trimmed).to_owned();
        Ok(Self { name, zone })
    }

    /// The zone's name as the database spells it.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The zone, for conversions.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }
}

impl PartialEq for TimeZoneName {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for TimeZoneName {}

impl fmt::Debug for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TimeZoneName").field(&self.name).finish()
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// The zone or zones a recipient may live in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientZones {
    /// Known: its country has one zone, or the account's zone is one of its country's.
    One(TimeZoneName),
    /// One of these, not known which: the window must be open in all of them.
    Every(Vec<TimeZoneName>),
}

impl RecipientZones {
    /// The zones of `phone`'s recipient for an account whose own zone is `account_zone`.
    pub fn of(phone: &PhoneNumber, account_zone: &TimeZoneName) -> Self {
        let Some(names) = phone.region().as_deref().and_then(country_zones) else {
            return Self::One(account_zone.clone());
        };
        if names.iter().any(|n| *n == account_zone.as_str()) {
            return Self::One(account_zone.clone());
        }
        let mut zones: Vec<TimeZoneName> = names.iter().filter_map(|n| TimeZoneName::parse(n).ok()).collect();
        match zones.len() {
            0 => Self::One(account_zone.clone()),
            1 => Self::One(zones.remove(0)),
            _ => Self::Every(zones),
        }
    }
}

/// The zones of the country with ISO 3166 code `region` (`DE`), in `zone.tab`'s order.
pub fn country_zones(region: &str) -> Option<&'static [&'static str]> {
    static TABLE: OnceLock<HashMap<&'static str, Vec<&'static str>>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        include_str!("country_zones.tsv")
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .map(|(country, zones)| (country, zones.split(',').collect()))
            .collect()
    });
    table.get(region).map(Vec::as_slice)
}

/// Every country of the table, for checks.
pub fn countries() -> impl Iterator<Item = &'static str> {
    include_str!("country_zones.tsv").lines().filter_map(|line| line.split_once('\t')).map(|(c, _)| c)
}
