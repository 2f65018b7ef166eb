//! When a schedule fires: cron expressions, the n-th weekday of months, explicit dates and
//! intervals, all in Dutch wall-clock time (Europe/Amsterdam).
//!
//! Rules produce local wall-clock times; [`instant`] turns each into one instant. That is
//! where daylight saving is handled: a local time that does not exist (the spring gap)
//! fires at the first valid instant after the gap, and a local time that exists twice
//! (the autumn overlap) fires once, at its first instant. Working in wall-clock time also
//! corrects the `cron` crate, which skips the first case and repeats the second.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use chrono::{
    DateTime, Datelike, Duration, FixedOffset, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Europe::Amsterdam;
use serde::{Deserialize, Serialize};

use super::dates;

/// A schedule's rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Rule {
    /// A cron expression of the `cron` crate: seconds first, 6 or 7 fields.
    Cron { expression: CronExpression },
    /// The n-th (1-5, or -1 for the last) weekday of each of `months`, at `time`.
    NthWeekday {
        n: i8,
        weekday: WeekdayName,
        months: Vec<u32>,
        #[serde(deserialize_with = "dates::one")]
        time: NaiveTime,
    },
    /// Explicit local date-times.
    Dates {
        #[serde(deserialize_with = "dates::list")]
        at: Vec<NaiveDateTime>,
    },
    /// Every `every` units from `anchor` on.
    Interval {
        #[serde(deserialize_with = "dates::one")]
        anchor: NaiveDateTime,
        every: u32,
        unit: IntervalUnit,
    },
}

/// A cron expression as written, parsed once, the first time it is used: a schedule's rule
/// is read from the store once and then asked for its times many times.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct CronExpression {
    source: String,
    #[serde(skip)]
    parsed: OnceLock<Result<Box<cron::Schedule>, String>>,
}

impl CronExpression {
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The parsed schedule, or what is wrong with the expression (the parser's own words).
    fn schedule(&self) -> Result<&cron::Schedule, String> {
        self.parsed
            .get_or_init(|| {
                cron::Schedule::from_str(&self.source)
                    .map(Box::new)
                    .map_err(|e| format!("invalid cron expression `{}`: {e}", self.source))
            })
            .as_deref()
            .map_err(String::clone)
    }
}

impl From<String> for CronExpression {
    fn from(source: String) -> Self {
        CronExpression { source, parsed: OnceLock::new() }
    }
}

impl From<&str> for CronExpression {
    fn from(source: &str) -> Self {
        CronExpression::from(source.to_owned())
    }
}

impl From<CronExpression> for String {
    fn from(expression: CronExpression) -> String {
        expression.source
    }
}

impl PartialEq for CronExpression {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl fmt::Display for CronExpression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// A day of the week, written out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeekdayName {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl From<WeekdayName> for Weekday {
    fn from(day: WeekdayName) -> Weekday {
        match day {
            WeekdayName::Monday => Weekday::Mon,
            WeekdayName::Tuesday => Weekday::Tue,
            WeekdayName::Wednesday => Weekday::Wed,
            WeekdayName::Thursday => Weekday::Thu,
            WeekdayName::Friday => Weekday::Fri,
            WeekdayName::Saturday => Weekday::Sat,
            WeekdayName::Sunday => Weekday::Sun,
        }
    }
}

/// The unit of an interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntervalUnit {
    Days,
    Weeks,
    Months,
    Years,
}

impl fmt::Display for IntervalUnit {
    /// As a schedule's JSON or TOML spells it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IntervalUnit::Days => "days",
            IntervalUnit::Weeks => "weeks",
            IntervalUnit::Months => "months",
            IntervalUnit::Years => "years",
        })
    }
}

/// The instant a local wall-clock time fires at, with the daylight-saving corrections.
pub fn instant(local: NaiveDateTime) -> DateTime<Utc> {
    // The spring gap is one hour; a minute-by-minute walk finds its end.
    let mut probe = local;
    for _ in 0..=24 * 60 {
        if let Some(first) = Amsterdam.from_local_datetime(&probe).earliest() {
            return first.with_timezone(&Utc);
        }
        let Some(next) = probe.checked_add_signed(Duration::minutes(1)) else { break };
        probe = next.with_second(0).unwrap_or(next);
    }
    Utc.from_utc_datetime(&local)
}

/// The local wall-clock time of an instant.
pub fn local(at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&Amsterdam).naive_local()
}

/// An instant with the offset of Dutch time then (`+01:00` in winter, `+02:00` in summer):
/// how every front shows the calendar's times, so that 08:30 reads as 08:30.
pub fn dutch(at: DateTime<Utc>) -> DateTime<FixedOffset> {
    at.with_timezone(&Amsterdam).fixed_offset()
}

/// The first instant of a Dutch calendar day (midnight never falls in a daylight-saving
/// switch, which happens at 02:00 or 03:00).
pub fn day_start(date: NaiveDate) -> DateTime<Utc> {
    instant(date.and_time(NaiveTime::MIN))
}

use chrono::Timelike as _;

/// The years a schedule's dates may lie in. A calendar of school years has no use for
/// dates outside them, and keeping every date well inside what the date types and both
/// stores hold makes the arithmetic on them safe.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2199;
/// The most dates a rule or a policy may list: a school year has about 190 school days.
pub const MAX_DATES: usize = 1000;

/// Refuses a date outside [`YEARS`], naming what it is.
pub fn check_year(what: &str, date: NaiveDate) -> Result<(), String> {
    if YEARS.contains(&date.year()) {
        Ok(())
    } else {
        Err(format!("{what} {date} lies outside the years {} to {} a schedule can plan", YEARS.start(), YEARS.end()))
    }
}

impl Rule {
    /// Checks the rule; the message says what is wrong (for cron: the parser's own words).
    /// A rule fires at most once a minute and names dates within [`YEARS`], so that what
    /// it stores and the arithmetic on it stay bounded.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Rule::Cron { expression } => {
                expression.schedule()?;
                // `@daily` and its kind fire at most hourly; otherwise one second of the
                // minute keeps a rule to once a minute at most.
                let seconds = expression.as_str().split_whitespace().next().unwrap_or_default();
                if !seconds.starts_with('@') && !seconds.parse::<u8>().is_ok_and(|s| s < 60) {
                    return Err(format!(
                        "the cron expression `{expression}` fires more than once a minute: its first field, the \
                         seconds, must be one number such as `0`, not `{seconds}`"
                    ));
                }
                Ok(())
            }
            Rule::NthWeekday { n, months, .. } => {
                if !matches!(n, 1..=5 | -1) {
                    return Err(format!("n must be 1 to 5, or -1 for the last, not {n}"));
                }
                if months.is_empty() || months.iter().any(|m| !(1..=12).contains(m)) {
                    return Err("months must list month numbers 1 to 12".into());
                }
                Ok(())
            }
            Rule::Dates { at } if at.is_empty() => Err("the list of dates is empty".into()),
            Rule::Dates { at } if at.len() > MAX_DATES => {
                Err(format!("the list holds {} dates; at most {MAX_DATES} are allowed", at.len()))
            }
            Rule::Dates { at } => at.iter().try_for_each(|t| check_year("the date", t.date())),
            Rule::Interval { every: 0, .. } => Err("an interval needs `every` of at least 1".into()),
            Rule::Interval { anchor, every, unit } => {
                check_year("the anchor", anchor.date())?;
                // At most ten years between two times: the longest rhythm of the seeds
                // is five (the ouderpopulatie).
                let most = match unit {
                    IntervalUnit::Days => 3653,
                    IntervalUnit::Weeks => 522,
                    IntervalUnit::Months => 120,
                    IntervalUnit::Years => 10,
                };
                if *every > most {
                    return Err(format!(
                        "an interval of {every} {unit} is too long: at most {most} {unit} (ten years)"
                    ));
                }
                Ok(())
            }
        }
    }

    /// The local wall-clock times in `(after, until]`, in order.
    pub fn local_times(&self, after: NaiveDateTime, until: NaiveDateTime) -> Vec<NaiveDateTime> {
        let within = |t: &NaiveDateTime| *t > after && *t <= until;
        let mut times: Vec<NaiveDateTime> = match self {
            Rule::Cron { expression } => {
                // A rule is validated before it is stored and when it is read back.
                let Ok(schedule) = expression.schedule() else { return Vec::new() };
                // Evaluated on a clock without daylight saving, so every wall-clock time
                // comes out exactly once; `instant` maps it to the real one.
                schedule
                    .after(&Utc.from_utc_datetime(&after))
                    .map(|t| t.naive_utc())
                    .take_while(|t| *t <= until)
                    .take(100_000)
                    .collect()
            }
            Rule::NthWeekday { n, weekday, months, time } => {
                let mut out = Vec::new();
                for year in after.year()..=until.year() {
                    for month in months {
                        if let Some(date) = nth_weekday(year, *month, (*weekday).into(), *n) {
                            out.push(date.and_time(*time));
                        }
                    }
                }
                out.into_iter().filter(within).collect()
            }
            Rule::Dates { at } => at.iter().copied().filter(within).collect(),
            Rule::Interval { anchor, every, unit } => {
                let mut out = Vec::new();
                for k in 0..100_000u32 {
                    let Some(t) = step(*anchor, *unit, every.saturating_mul(k)) else { break };
                    if t > until {
                        break;
                    }
                    if within(&t) {
                        out.push(t);
                    }
                }
                out
            }
        };
        times.sort();
        times.dedup();
        times
    }

    /// The first local wall-clock time after `after`, if the rule has one within the next
    /// century.
    pub fn next_after(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        if let Rule::Cron { expression } = self {
            let schedule = expression.schedule().ok()?;
            return schedule.after(&Utc.from_utc_datetime(&after)).next().map(|t| t.naive_utc());
        }
        // Windows of 1, 2, 4, ... 64 years: a rule fires at least every few years or
        // never again.
        (0..7).find_map(|k| {
            let until = after.checked_add_months(Months::new(12 << k))?;
            self.local_times(after, until).first().copied()
        })
    }
}

fn step(anchor: NaiveDateTime, unit: IntervalUnit, count: u32) -> Option<NaiveDateTime> {
    match unit {
        IntervalUnit::Days => anchor.checked_add_signed(Duration::days(count.into())),
        IntervalUnit::Weeks => anchor.checked_add_signed(Duration::weeks(count.into())),
        IntervalUnit::Months => anchor.checked_add_months(Months::new(count)),
        IntervalUnit::Years => anchor.checked_add_months(Months::new(count.checked_mul(12)?)),
    }
}

/// The n-th `weekday` of a month; `n = -1` is the last.
pub fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: i8) -> Option<NaiveDate> {
    if n == -1 {
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        }?;
        let last = next.pred_opt()?;
        let back = (7 + last.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
        return last.checked_sub_signed(Duration::days(back.into()));
    }
    let n = u8::try_from(n).ok().filter(|n| (1..=5).contains(n))?;
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).and_then(|date| date.and_hms_opt(h, min, 0)).expect("valid")
    }

    #[test]
    fn spring_gap_fires_at_the_first_instant_after_it() {
        // 29 March 2026, 02:30 does not exist in Amsterdam: clocks go from 02:00 to 03:00.
        let at = instant(dt(2026, 3, 29, 2, 30));
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).single().expect("utc"));
        assert_eq!(local(at), dt(2026, 3, 29, 3, 0));
    }

    #[test]
    fn autumn_overlap_fires_once_at_the_first_instant() {
        // 25 October 2026, 02:30 happens twice; the first time is 00:30 UTC.
        let at = instant(dt(2026, 10, 25, 2, 30));
        assert_eq!(at, Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).single().expect("utc"));
    }

    #[test]
    fn cron_on_the_switch_days_yields_each_wall_clock_time_once() {
        let rule = Rule::Cron { expression: "0 30 2 * * * *".into() };
        let spring = rule.local_times(dt(2026, 3, 28, 12, 0), dt(2026, 3, 30, 12, 0));
        assert_eq!(spring, [dt(2026, 3, 29, 2, 30), dt(2026, 3, 30, 2, 30)]);
        let autumn = rule.local_times(dt(2026, 10, 24, 12, 0), dt(2026, 10, 26, 12, 0));
        assert_eq!(autumn, [dt(2026, 10, 25, 2, 30), dt(2026, 10, 26, 2, 30)]);
    }

    #[test]
    fn the_next_time_after_a_moment() {
        let quarterly = Rule::NthWeekday {
            n: 1,
            weekday: WeekdayName::Monday,
            months: vec![1, 4, 7, 10],
            time: dt(2026, 1, 1, 9, 0).time(),
        };
        assert_eq!(quarterly.next_after(dt(2026, 1, 5, 9, 0)), Some(dt(2026, 4, 6, 9, 0)));
        let lustrum = Rule::Interval { anchor: dt(2026, 9, 7, 9, 0), every: 5, unit: IntervalUnit::Years };
        assert_eq!(lustrum.next_after(dt(2026, 9, 7, 9, 0)), Some(dt(2031, 9, 7, 9, 0)));
        let cron = Rule::Cron { expression: "0 30 8 1-7 10,2,5 Wed *".into() };
        assert_eq!(cron.next_after(dt(2026, 10, 7, 8, 30)), Some(dt(2027, 2, 3, 8, 30)));
        let dates = Rule::Dates { at: vec![dt(2026, 10, 1, 9, 0), dt(2027, 3, 1, 9, 0)] };
        assert_eq!(dates.next_after(dt(2026, 10, 1, 9, 0)), Some(dt(2027, 3, 1, 9, 0)));
        assert_eq!(dates.next_after(dt(2027, 3, 1, 9, 0)), None, "no date is left");
    }

    #[test]
    fn nth_and_last_weekdays() {
        let first_monday =
            Rule::NthWeekday { n: 1, weekday: WeekdayName::Monday, months: vec![1, 4, 7, 10], time: NaiveTime::MIN };
        let times = first_monday.local_times(dt(2026, 1, 1, 0, 0), dt(2026, 12, 31, 0, 0));
        let days: Vec<u32> = times.iter().map(|t| t.day()).collect();
        assert_eq!(days, [5, 6, 6, 5]);
        assert_eq!(nth_weekday(2026, 3, Weekday::Sun, -1), NaiveDate::from_ymd_opt(2026, 3, 29));
        assert_eq!(nth_weekday(2026, 10, Weekday::Sun, -1), NaiveDate::from_ymd_opt(2026, 10, 25));
        assert_eq!(nth_weekday(2026, 2, Weekday::Mon, 5), None);
    }

    #[test]
    fn intervals_and_dates() {
        let every_two_years = Rule::Interval { anchor: dt(2024, 10, 1, 9, 0), every: 2, unit: IntervalUnit::Years };
        assert_eq!(
            every_two_years.local_times(dt(2024, 1, 1, 0, 0), dt(2030, 12, 31, 0, 0)),
            [dt(2024, 10, 1, 9, 0), dt(2026, 10, 1, 9, 0), dt(2028, 10, 1, 9, 0), dt(2030, 10, 1, 9, 0)]
        );
        let dates = Rule::Dates { at: vec![dt(2027, 1, 4, 8, 30), dt(2026, 12, 31, 8, 30)] };
        assert_eq!(dates.local_times(dt(2026, 12, 31, 8, 30), dt(2027, 2, 1, 0, 0)), [dt(2027, 1, 4, 8, 30)]);
    }

    #[test]
    fn a_cron_rule_is_parsed_once_and_reads_back_as_written() {
        let rule: Rule = serde_json::from_str(r#"{"kind":"cron","expression":"0 0 9 * * Mon *"}"#).expect("rule");
        let Rule::Cron { expression } = &rule else { panic!("a cron rule") };
        let first = expression.schedule().expect("parsed");
        assert!(std::ptr::eq(first, expression.schedule().expect("parsed")), "the same parse, kept");
        assert_eq!(rule.next_after(dt(2026, 12, 1, 9, 0)), Some(dt(2026, 12, 7, 9, 0)));
        assert_eq!(serde_json::to_string(&rule).expect("json"), r#"{"kind":"cron","expression":"0 0 9 * * Mon *"}"#);
    }

    #[test]
    fn validation_quotes_the_cron_parser() {
        let err = Rule::Cron { expression: "0 0 9 * * Maandag".into() }.validate().expect_err("invalid");
        assert!(err.starts_with("invalid cron expression `0 0 9 * * Maandag`: "), "{err}");
        assert!(Rule::Dates { at: vec![] }.validate().is_err());
        assert!(Rule::Cron { expression: "0 0 9 * * Mon".into() }.validate().is_ok());
    }

    #[test]
    fn a_rule_is_bounded_to_what_the_calendar_means() {
        let every_second = Rule::Cron { expression: "* * * * * * *".into() }.validate().expect_err("every second");
        assert!(every_second.contains("more than once a minute"), "{every_second}");
        assert!(Rule::Cron { expression: "0,30 * * * * *".into() }.validate().is_err(), "twice a minute");
        assert!(Rule::Cron { expression: "0 * * * * *".into() }.validate().is_ok(), "once a minute");
        let far = Rule::Dates { at: vec![dt(9999, 1, 1, 9, 0)] }.validate().expect_err("year 9999");
        assert_eq!(far, "the date 9999-01-01 lies outside the years 2000 to 2199 a schedule can plan");
        let many = Rule::Dates { at: vec![dt(2027, 1, 4, 9, 0); MAX_DATES + 1] }.validate().expect_err("too many");
        assert!(many.contains("at most 1000"), "{many}");
        let long = Rule::Interval { anchor: dt(2026, 9, 1, 9, 0), every: u32::MAX, unit: IntervalUnit::Days };
        assert_eq!(
            long.validate().expect_err("too long"),
            "an interval of 4294967295 days is too long: at most 3653 days (ten years)"
        );
        let lustrum = Rule::Interval { anchor: dt(2026, 9, 1, 9, 0), every: 5, unit: IntervalUnit::Years };
        assert!(lustrum.validate().is_ok());
    }
}
