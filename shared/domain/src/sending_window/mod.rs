//! An account's sending window (quiet hours outside it): the local times of day and the weekdays
//! at which its messages may reach a recipient, read in the recipient's own time zone (see
//! [`zones`]), for example 09:00–20:00, Monday to Saturday.
//!
//! The window is one stretch of each allowed day, `from` up to (not including) `to`; `to` may be
//! `24:00` (the end of the day) and must come after `from`. A day that skips or repeats an hour
//! (a clock change) opens at the first moment its `from` is reached. [`SendingWindow::opens_at`]
//! is the one decision the sender and the reconciler take from it: open now, or the moment it
//! opens next.

pub mod zones;

pub use zones::{RecipientZones, TimeZoneError, TimeZoneName};

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use std::fmt;

const DAY_MINUTES: u16 = 24 * 60;

/// Why a window is refused; each names the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    /// `from` or `to` is not `HH:MM`.
    #[error("{field}: '{value}' is not a time of day HH:MM (00:00 to 23:59; `to` may be 24:00)")]
    Time {
        /// `from` or `to`.
        field: &'static str,
        /// What it held.
        value: String,
    },
    /// `to` is not after `from`.
    #[error("to: {to} is not after from ({from}); a window is one stretch of a day")]
    Empty {
        /// The opening time.
        from: String,
        /// The closing time.
        to: String,
    },
    /// A weekday that is not one.
    #[error(
        "days: '{0}' is not a weekday (mon, tue, wed, thu, fri, sat or sun) or a range of them such as mon-fri"
    )]
    Day(String),
    /// No weekday at all.
    #[error("days: no weekday given; leave it out for every day")]
    NoDays,
    /// The time zone is not one the time zone database knows.
    #[error(transparent)]
    Zone(#[from] TimeZoneError),
}

/// A time of day to the minute; `24:00` is the end of a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime(u16);

impl LocalTime {
    /// Parses `HH:MM`; `24:00` only when `end_of_day` is allowed.
    fn parse(field: &'static str, raw: &str, end_of_day: bool) -> Result<Self, WindowError> {
        let bad = || WindowError::Time { field, value: raw.to_owned() };
        let (h, m) = raw.split_once(':').ok_or_else(bad)?;
        let two_digits = |s: &str| s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(h) || !two_digits(m) {
            return Err(bad());
        }
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        let minutes = h * 60 + m;
        match (h, m) {
            (0..=23, 0..=59) => Ok(Self(minutes)),
            (24, 0) if end_of_day => Ok(Self(DAY_MINUTES)),
            _ => Err(bad()),
        }
    }

    fn hour(self) -> i8 {
        i8::try_from(self.0 / 60).unwrap_or(0)
    }

    fn minute(self) -> i8 {
        i8::try_from(self.0 % 60).unwrap_or(0)
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// The weekdays a window opens on (at least one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Weekdays(u8);

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Weekdays {
    /// Every day of the week.
    pub const ALL: Self = Self(0x7f);

    /// Parses items each naming a weekday (`sat`) or a range of them (`mon-fri`, `fri-mon`
    /// wrapping the week's end), in lower case as the API documents them.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, WindowError> {
        let index = |name: &str| DAY_NAMES.iter().position(|d| *d == name);
        let mut bits = 0u8;
        for item in items {
            let item = item.as_ref();
            let bad = || WindowError::Day(item.to_owned());
            match item.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (index(a).ok_or_else(bad)?, index(b).ok_or_else(bad)?);
                    let mut d = a;
                    loop {
                        bits |= 1u8 << d;
                        if d == b {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
                None => bits |= 1u8 << index(item).ok_or_else(bad)?,
            }
        }
        if bits == 0 {
            return Err(WindowError::NoDays);
        }
        Ok(Self(bits))
    }

    /// Whether `day` is one of them.
    pub fn contains(self, day: Weekday) -> bool {
        let bit = u8::try_from(day.to_monday_zero_offset()).unwrap_or(0);
        self.0 & (1u8 << bit) != 0
    }

    /// The days' short names, Monday first (`["mon", "tue"]`).
    pub fn names(self) -> Vec<&'static str> {
        DAY_NAMES.iter().enumerate().filter(|(i, _)| self.0 & (1 << i) != 0).map(|(_, d)| *d).collect()
    }
}

/// An account's sending window, with the time zone used for numbers whose country spans several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendingWindow {
    from: LocalTime,
    to: LocalTime,
    days: Weekdays,
    zone: TimeZoneName,
}

impl SendingWindow {
    /// Parses a window from its fields as the API and the store carry them, exactly as the API
    /// documents them: `from` and `to` as `HH:MM`, `days` as weekday names or ranges (none:
    /// every day), `time_zone` as an IANA name.
    pub fn parse<S: AsRef<str>>(
        from: &str,
        to: &str,
        days: &[S],
        time_zone: &str,
    ) -> Result<Self, WindowError> {
        let from_t = LocalTime::parse("from", from, false)?;
        let to_t = LocalTime::parse("to", to, true)?;
        if to_t <= from_t {
            return Err(WindowError::Empty { from: from_t.to_string(), to: to_t.to_string() });
        }
        let days = if days.is_empty() { Weekdays::ALL } else { Weekdays::parse(days)? };
        Ok(Self { from: from_t, to: to_t, days, zone: TimeZoneName::parse(time_zone)? })
    }

    /// `HH:MM` at which it opens.
    pub fn from(&self) -> LocalTime {
        self.from
    }

    /// `HH:MM` at which it closes (`24:00`: the end of the day).
    pub fn to(&self) -> LocalTime {
        self.to
    }

    /// The weekdays it opens on.
    pub fn days(&self) -> Weekdays {
        self.days
    }

    /// The account's time zone (for numbers whose country spans several zones).
    pub fn zone(&self) -> &TimeZoneName {
        &self.zone
    }

    /// `None` when a message may reach the recipient living in `zones` at Unix second `now`;
    /// else the Unix second at which it next may. For a country of several zones the window
    /// must be open in every one of them; when they are never all open together within a week
    /// (a country spanning most of a day), the account's own zone decides.
    pub fn opens_at(&self, zones: &RecipientZones, now: i64) -> Option<i64> {
        match zones {
            RecipientZones::One(zone) => self.opens_in(zone.zone(), now),
            RecipientZones::Every(list) => match self.common_opening(list, now) {
                Common::OpenNow => None,
                Common::At(t) => Some(t),
                Common::Never => self.opens_in(self.zone.zone(), now),
            },
        }
    }

    /// The earliest moment at or after `now` at which every zone of `list` is inside the window.
    /// Each step moves to the next opening of a zone that is closed, which never passes that
    /// moment (a zone open then opens at or before it), so the steps reach it or run past a week.
    fn common_opening(&self, list: &[TimeZoneName], now: i64) -> Common {
        const WEEK: i64 = 7 * 86_400;
        let mut t = now;
        loop {
            let mut moved = false;
            for zone in list {
                if let Some(next) = self.opens_in(zone.zone(), t) {
                    t = next;
                    moved = true;
                }
            }
            if !moved {
                return if t == now { Common::OpenNow } else { Common::At(t) };
            }
            if t - now > WEEK {
                return Common::Never;
            }
        }
    }

    /// `None` when the window is open in `zone` at Unix second `now`, else when it next opens.
    pub fn opens_in(&self, zone: &TimeZone, now: i64) -> Option<i64> {
        let Ok(at) = Timestamp::from_second(now) else { return None };
        let today = zone.to_datetime(at).date();
        // The window of today or of one of the next seven days (at least one day is allowed).
        for ahead in 0..=7 {
            let Some(date) = today.checked_add(jiff::Span::new().days(ahead)).ok() else { break };
            if !self.days.contains(date.weekday()) {
                continue;
            }
            let (Some(open), Some(close)) =
                (self.instant(zone, date, self.from), self.instant(zone, date, self.to))
            else {
                continue;
            };
            if now < open {
                return Some(open);
            }
            if now < close {
                return None;
            }
        }
        None
    }

    /// The Unix second at which `date` reaches local time `t` in `zone` (`24:00`: the next
    /// midnight); a time skipped by a clock change is reached at the first moment after the gap.
    fn instant(&self, zone: &TimeZone, date: Date, t: LocalTime) -> Option<i64> {
        let (date, t) = if t.0 == DAY_MINUTES { (date.tomorrow().ok()?, LocalTime(0)) } else { (date, t) };
        let civil = date.at(t.hour(), t.minute(), 0, 0);
        zone.to_timestamp(civil).ok().map(Timestamp::as_second)
    }
}

/// When several zones are open together.
enum Common {
    OpenNow,
    At(i64),
    Never,
}

impl fmt::Display for SendingWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}–{}", self.from, self.to)?;
        if self.days != Weekdays::ALL {
            write!(f, " {}", self.days.names().join(","))?;
        }
        write!(f, " ({})", self.zone)
    }
}

#[cfg(test)]
mod tests;
