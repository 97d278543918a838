use super::*;
use crate::PhoneNumber;

/// Unix second of a UTC date and time.
fn utc(date: &str, hh: i8, mm: i8) -> i64 {
    let d: jiff::civil::Date = date.parse().unwrap();
    TimeZone::UTC.to_timestamp(d.at(hh, mm, 0, 0)).unwrap().as_second()
}

fn window(from: &str, to: &str, days: &[&str], zone: &str) -> SendingWindow {
    SendingWindow::parse(from, to, days, zone).unwrap()
}

fn zone(name: &str) -> TimeZoneName {
    TimeZoneName::parse(name).unwrap()
}

fn one(name: &str) -> RecipientZones {
    RecipientZones::One(zone(name))
}

fn phone(raw: &str) -> PhoneNumber {
    PhoneNumber::parse(raw, None).unwrap()
}

#[test]
fn times_are_hh_mm_and_only_the_closing_one_may_be_the_end_of_the_day() {
    for bad in ["9:00", "09:0", "0900", "25:00", "12:60", "", "ab:cd", "-1:00", "+9:00", " 09:00"] {
        let err = SendingWindow::parse(bad, "20:00", &[] as &[&str], "UTC").unwrap_err();
        assert!(matches!(err, WindowError::Time { field: "from", .. }), "{bad}: {err}");
    }
    let err = SendingWindow::parse("24:00", "24:00", &[] as &[&str], "UTC").unwrap_err();
    assert!(err.to_string().starts_with("from: '24:00'"), "{err}");
    let w = window("00:00", "24:00", &[], "UTC");
    assert_eq!((w.from().to_string(), w.to().to_string()), ("00:00".into(), "24:00".into()));
}

#[test]
fn a_window_must_close_after_it_opens() {
    let err = SendingWindow::parse("20:00", "09:00", &[] as &[&str], "UTC").unwrap_err();
    assert_eq!(err.to_string(), "to: 09:00 is not after from (20:00); a window is one stretch of a day");
    assert!(SendingWindow::parse("09:00", "09:00", &[] as &[&str], "UTC").is_err());
}

#[test]
fn days_take_names_and_ranges_that_may_wrap_the_weekend_and_none_means_every_day() {
    assert_eq!(
        window("09:00", "17:00", &["mon-fri"], "UTC").days().names(),
        ["mon", "tue", "wed", "thu", "fri"]
    );
    assert_eq!(window("09:00", "17:00", &["fri-mon"], "UTC").days().names(), ["mon", "fri", "sat", "sun"]);
    assert_eq!(window("09:00", "17:00", &["sat", "sun", "sat"], "UTC").days().names(), ["sat", "sun"]);
    assert_eq!(window("09:00", "17:00", &[], "UTC").days(), Weekdays::ALL);
    let err = SendingWindow::parse("09:00", "17:00", &["funday"], "UTC").unwrap_err();
    assert!(err.to_string().starts_with("days: 'funday' is not a weekday"), "{err}");
    for bad in ["mon-xyz", "Mon", "mon,wed", "", "monday", "mon-"] {
        assert!(
            matches!(SendingWindow::parse("09:00", "17:00", &[bad], "UTC"), Err(WindowError::Day(_))),
            "{bad}"
        );
    }
}

#[test]
fn an_unknown_time_zone_is_refused_naming_the_field() {
    for bad in ["Europe/Atlantis", "Berlin", "CET+1", "", "../../etc/passwd"] {
        let err = SendingWindow::parse("09:00", "17:00", &[] as &[&str], bad).unwrap_err();
        assert!(err.to_string().starts_with("time_zone: "), "{bad}: {err}");
    }
    assert_eq!(zone("europe/berlin").as_str(), "Europe/Berlin");
    assert_eq!(zone("UTC").as_str(), "UTC");
}

#[test]
fn before_the_window_it_opens_the_same_morning_inside_it_is_open_and_after_it_the_next_morning() {
    // Friday 15 January 2027, Berlin is UTC+1.
    let w = window("09:00", "20:00", &[], "Europe/Berlin");
    let berlin = one("Europe/Berlin");
    assert_eq!(w.opens_at(&berlin, utc("2027-01-15", 2, 0)), Some(utc("2027-01-15", 8, 0)));
    assert_eq!(w.opens_at(&berlin, utc("2027-01-15", 8, 0)), None, "it opens at 09:00 sharp");
    assert_eq!(w.opens_at(&berlin, utc("2027-01-15", 18, 59)), None);
    assert_eq!(
        w.opens_at(&berlin, utc("2027-01-15", 19, 0)),
        Some(utc("2027-01-16", 8, 0)),
        "20:00 is closed"
    );
}

#[test]
fn a_weekday_window_closed_on_friday_evening_opens_on_monday() {
    let w = window("09:00", "17:00", &["mon-fri"], "Europe/Berlin");
    let at = w.opens_at(&one("Europe/Berlin"), utc("2027-01-15", 17, 0));
    assert_eq!(at, Some(utc("2027-01-18", 8, 0)));
}

#[test]
fn the_window_is_read_in_the_recipients_zone_not_the_accounts() {
    // 02:00 UTC: 03:00 in Berlin (closed), 11:00 in Tokyo (open).
    let w = window("09:00", "20:00", &[], "Europe/Berlin");
    let now = utc("2027-01-15", 2, 0);
    assert_eq!(w.opens_at(&RecipientZones::of(&phone("+81312345678"), w.zone()), now), None);
    assert_eq!(
        w.opens_at(&RecipientZones::of(&phone("+4915112345678"), w.zone()), now),
        Some(utc("2027-01-15", 8, 0))
    );
}

#[test]
fn a_time_a_clock_change_skips_is_read_as_the_clocks_show_it_after_the_change() {
    // Sunday 28 March 2027, Berlin moves from 02:00 CET to 03:00 CEST (01:00 UTC).
    let w = window("02:30", "12:00", &[], "Europe/Berlin");
    let at = w.opens_at(&one("Europe/Berlin"), utc("2027-03-28", 0, 0)).unwrap();
    assert_eq!(at, utc("2027-03-28", 1, 30), "03:30 CEST");
    // and on a day that repeats an hour, the window opens at the first of the two.
    let w = window("02:30", "12:00", &[], "Europe/Berlin");
    let at = w.opens_at(&one("Europe/Berlin"), utc("2027-10-30", 23, 0)).unwrap();
    assert_eq!(at, utc("2027-10-31", 0, 30), "02:30 CEST, before the clocks go back");
}

#[test]
fn a_number_of_a_one_zone_country_lives_in_that_zone() {
    let account = zone("America/New_York");
    assert_eq!(RecipientZones::of(&phone("+81312345678"), &account), one("Asia/Tokyo"));
    assert_eq!(RecipientZones::of(&phone("+33612345678"), &account), one("Europe/Paris"));
}

#[test]
fn a_number_of_a_country_of_several_zones_takes_the_accounts_zone_when_it_is_one_of_them() {
    let chicago = zone("America/Chicago");
    assert_eq!(RecipientZones::of(&phone("+12125550123"), &chicago), one("America/Chicago"));
    let sao_paulo = zone("America/Sao_Paulo");
    assert_eq!(RecipientZones::of(&phone("+5511987654321"), &sao_paulo), one("America/Sao_Paulo"));
    // A Canadian number is Canada's, not the United States', though both dial +1.
    match RecipientZones::of(&phone("+14165550123"), &chicago) {
        RecipientZones::Every(zones) => assert!(zones.iter().any(|z| z.as_str() == "America/Toronto")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn otherwise_the_window_must_be_open_in_every_zone_of_the_country() {
    // US zones from New York (UTC-5) to Honolulu (UTC-10): 09:00-20:00 everywhere is
    // 19:00-01:00 UTC in January.
    let w = window("09:00", "20:00", &[], "Europe/Berlin");
    let us = RecipientZones::of(&phone("+12125550123"), w.zone());
    assert!(matches!(&us, RecipientZones::Every(z) if z.len() > 5), "{us:?}");
    assert_eq!(w.opens_at(&us, utc("2027-01-15", 15, 0)), Some(utc("2027-01-15", 19, 0)));
    assert_eq!(w.opens_at(&us, utc("2027-01-15", 23, 0)), None);
    assert_eq!(w.opens_at(&us, utc("2027-01-16", 1, 0)), Some(utc("2027-01-16", 19, 0)));
}

#[test]
fn a_country_whose_zones_are_never_open_together_falls_back_to_the_accounts_zone() {
    // Russia spans UTC+2 to UTC+12: 09:00-17:00 is never open in all of it at once (09:00-20:00
    // would be, from 07:00 to 08:00 UTC).
    let w = window("09:00", "17:00", &[], "Europe/Berlin");
    let ru = RecipientZones::of(&phone("+79123456789"), w.zone());
    assert!(matches!(ru, RecipientZones::Every(_)));
    assert_eq!(w.opens_at(&ru, utc("2027-01-15", 2, 0)), Some(utc("2027-01-15", 8, 0)), "Berlin's 09:00");
    assert_eq!(w.opens_at(&ru, utc("2027-01-15", 10, 0)), None);
    let wide = window("09:00", "20:00", &[], "Europe/Berlin");
    assert_eq!(wide.opens_at(&ru, utc("2027-01-15", 2, 0)), Some(utc("2027-01-15", 7, 0)), "the common hour");
}

#[test]
fn every_zone_of_the_country_table_is_in_the_bundled_database() {
    let mut checked = 0;
    for country in zones::countries() {
        for name in zones::country_zones(country).unwrap() {
            assert!(TimeZoneName::parse(name).is_ok(), "{country}: {name}");
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked}");
}

#[test]
fn the_window_shows_its_times_days_and_zone() {
    assert_eq!(window("09:00", "20:00", &[], "Europe/Berlin").to_string(), "09:00–20:00 (Europe/Berlin)");
    assert_eq!(
        window("09:00", "17:30", &["mon-fri"], "UTC").to_string(),
        "09:00–17:30 mon,tue,wed,thu,fri (UTC)"
    );
}
