//! Dates, date-times and times of day as people type them into a schedule, a calendar query
//! or any other date input: read once, here, so that every front refuses `1-12-2026` with
//! the same message naming the form it wants (`2026-12-01`), instead of the parser's
//! "trailing input".
//!
//! Date-times without an offset are Dutch wall-clock time, like the rules of a schedule.

use std::str::FromStr;

use chrono::format::ParseErrorKind;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Deserializer};

use super::rule::{day_start, instant};

/// A date as the API writes it.
pub const DATE_EXAMPLE: &str = "2026-12-01";
/// A Dutch wall-clock date-time as the API writes it.
pub const DATE_TIME_EXAMPLE: &str = "2026-12-01T08:30:00";
/// A moment with its offset (RFC 3339), as the API answers it.
pub const INSTANT_EXAMPLE: &str = "2026-12-01T08:30:00+01:00";

/// Reads a date, `2026-12-01`.
pub fn date(text: &str) -> Result<NaiveDate, String> {
    text.parse::<NaiveDate>().map_err(|err| {
        if impossible(err.kind()) {
            return format!("`{text}` is not a day of the calendar");
        }
        // Day first, the Dutch way: show that very day the way it is wanted.
        let example = dutch_order(text).map_or_else(|| DATE_EXAMPLE.to_owned(), |d| d.to_string());
        format!("`{text}` is not a date: write year-month-day, as in {example}")
    })
}

/// Reads a Dutch wall-clock date-time, `2026-12-01T08:30:00` (the seconds may be left out).
pub fn date_time(text: &str) -> Result<NaiveDateTime, String> {
    text.parse::<NaiveDateTime>()
        .or_else(|err| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").map_err(|_| err))
        .map_err(|err| {
            if impossible(err.kind()) {
                format!("`{text}` is not a day and time of the calendar")
            } else {
                format!(
                    "`{text}` is not a date-time: write the date year-month-day, a `T` and the Dutch time, as in \
                     {DATE_TIME_EXAMPLE}"
                )
            }
        })
}

/// Reads a time of day, `09:00:00` or `09:00`.
pub fn time(text: &str) -> Result<NaiveTime, String> {
    text.parse::<NaiveTime>().map_err(|_| format!("`{text}` is not a time of day: write it as 09:00:00 or 09:00"))
}

/// Whether the text had the right form but names no real day or time (30 February, 25:00).
fn impossible(kind: ParseErrorKind) -> bool {
    matches!(kind, ParseErrorKind::OutOfRange | ParseErrorKind::Impossible)
}

/// A date written day first (`1-12-2026`, `1/12/2026`), as Dutch forms write it.
fn dutch_order(text: &str) -> Option<NaiveDate> {
    ["%d-%m-%Y", "%d/%m/%Y"].iter().find_map(|format| NaiveDate::parse_from_str(text, format).ok())
}

/// The years a [`Moment`] may lie in: those RFC 3339 writes. The date types reach much
/// further, but near their ends the Dutch offset of a moment overflows them.
const MOMENT_YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// One end of a period a user asks for: a whole Dutch calendar day, or a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moment {
    /// `2026-12-07`: from the start of that day in the Netherlands, or to its end.
    Day(NaiveDate),
    /// `2026-12-07T08:30:00+01:00`, or `2026-12-07T08:30:00` in Dutch wall-clock time.
    At(DateTime<Utc>),
}

impl Moment {
    /// The first instant it covers, for the start of a period.
    pub fn first(self) -> DateTime<Utc> {
        match self {
            Moment::Day(date) => day_start(date),
            Moment::At(at) => at,
        }
    }

    /// The last instant it covers, for the end of a period: the end of a day is the last
    /// instant before the next day starts, so that a period of dates includes both.
    pub fn last(self) -> DateTime<Utc> {
        match self {
            Moment::Day(date) => {
                let next = date.succ_opt().map_or(DateTime::<Utc>::MAX_UTC, day_start);
                next - chrono::Duration::nanoseconds(1)
            }
            Moment::At(at) => at,
        }
    }
}

impl FromStr for Moment {
    type Err = String;

    fn from_str(text: &str) -> Result<Moment, String> {
        let within = |year: i32| {
            if MOMENT_YEARS.contains(&year) {
                Ok(())
            } else {
                Err(format!("`{text}` lies outside the years {} to {}", MOMENT_YEARS.start(), MOMENT_YEARS.end()))
            }
        };
        if let Ok(day) = text.parse::<NaiveDate>() {
            within(day.year())?;
            return Ok(Moment::Day(day));
        }
        if let Ok(at) = DateTime::parse_from_rfc3339(text) {
            within(at.year())?;
            return Ok(Moment::At(at.with_timezone(&Utc)));
        }
        if let Ok(local) = date_time(text) {
            within(local.year())?;
            return Ok(Moment::At(instant(local)));
        }
        Err(format!(
            "`{text}` is not a date or a date-time: write a date as {DATE_EXAMPLE}, or a date-time as \
             {DATE_TIME_EXAMPLE} (Dutch time) or {INSTANT_EXAMPLE}"
        ))
    }
}

/// Types a schedule's JSON or TOML holds as text, read with the messages above.
pub(crate) trait Written: Sized {
    fn read(text: &str) -> Result<Self, String>;
}

impl Written for NaiveDate {
    fn read(text: &str) -> Result<Self, String> {
        date(text)
    }
}

impl Written for NaiveDateTime {
    fn read(text: &str) -> Result<Self, String> {
        date_time(text)
    }
}

impl Written for NaiveTime {
    fn read(text: &str) -> Result<Self, String> {
        time(text)
    }
}

/// One value of a [`Written`] type, deserialized from its text.
struct Text<T>(T);

impl<'de, T: Written> Deserialize<'de> for Text<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        T::read(&text).map(Text).map_err(serde::de::Error::custom)
    }
}

/// `deserialize_with` for a date, date-time or time of day.
pub(crate) fn one<'de, D: Deserializer<'de>, T: Written>(deserializer: D) -> Result<T, D::Error> {
    Text::<T>::deserialize(deserializer).map(|t| t.0)
}

/// `deserialize_with` for an optional one.
pub(crate) fn optional<'de, D: Deserializer<'de>, T: Written>(deserializer: D) -> Result<Option<T>, D::Error> {
    Option::<Text<T>>::deserialize(deserializer).map(|t| t.map(|t| t.0))
}

/// `deserialize_with` for a list of them.
pub(crate) fn list<'de, D: Deserializer<'de>, T: Written>(deserializer: D) -> Result<Vec<T>, D::Error> {
    Vec::<Text<T>>::deserialize(deserializer).map(|list| list.into_iter().map(|t| t.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_in_another_form_is_answered_with_the_form_that_is_read() {
        assert_eq!(date("2026-12-01"), Ok(NaiveDate::from_ymd_opt(2026, 12, 1).expect("date")));
        assert_eq!(
            date("1-12-2026").expect_err("day first"),
            "`1-12-2026` is not a date: write year-month-day, as in 2026-12-01"
        );
        assert_eq!(
            date("7/3/2027").expect_err("day first"),
            "`7/3/2027` is not a date: write year-month-day, as in 2027-03-07"
        );
        assert_eq!(date("morgen").expect_err("word"), "`morgen` is not a date: write year-month-day, as in 2026-12-01");
        assert_eq!(date("2026-02-30").expect_err("no such day"), "`2026-02-30` is not a day of the calendar");
        let err = date_time("1-12-2026").expect_err("a date");
        assert!(err.contains("2026-12-01T08:30:00") && !err.contains("trailing"), "{err}");
        assert_eq!(date_time("2026-12-01T08:30"), date_time("2026-12-01T08:30:00"), "seconds may be left out");
        assert!(time("9 uur").expect_err("words").contains("09:00:00"));
        assert_eq!(time("09:00"), Ok(NaiveTime::from_hms_opt(9, 0, 0).expect("time")));
    }

    #[test]
    fn the_ends_of_what_the_types_hold_neither_panic_nor_overflow() {
        for text in ["+262142-12-31", "-262143-01-01", "+262142-12-31T23:59:59", "0000-01-01"] {
            assert_eq!(text.parse::<Moment>(), Err(format!("`{text}` lies outside the years 1 to 9999")));
        }
        for text in ["0001-01-01", "9999-12-31", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-23:59"] {
            let moment: Moment = text.parse().expect("a date or moment");
            for at in [moment.first(), moment.last()] {
                let _ = (super::super::rule::local(at), super::super::rule::dutch(at));
            }
        }
    }

    #[test]
    fn a_moment_is_a_dutch_day_or_an_instant() {
        let day: Moment = "2026-12-07".parse().expect("date");
        assert_eq!(day.first().to_rfc3339(), "2026-12-06T23:00:00+00:00", "midnight in winter time");
        assert_eq!(day.last().to_rfc3339(), "2026-12-07T22:59:59.999999999+00:00");
        let summer: Moment = "2027-06-01".parse().expect("date");
        assert_eq!(summer.first().to_rfc3339(), "2027-05-31T22:00:00+00:00", "midnight in summer time");
        let local: Moment = "2026-12-07T08:30:00".parse().expect("Dutch time");
        let offset: Moment = "2026-12-07T08:30:00+01:00".parse().expect("offset");
        let utc: Moment = "2026-12-07T07:30:00Z".parse().expect("UTC");
        assert_eq!((local, offset), (utc, utc));
        assert_eq!(local.first(), local.last());
        let err = "1-12-2026".parse::<Moment>().expect_err("day first");
        assert!(err.contains("2026-12-01") && err.contains("2026-12-01T08:30:00+01:00"), "{err}");
    }
}
