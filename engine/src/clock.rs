//! Time, injected: the engine never reads the system clock itself, so tests move time
//! instead of waiting for it.
//!
//! Every clock answers whole microseconds. SQLite would keep the nanoseconds of the system
//! clock, PostgreSQL keeps microseconds: a time finer than that would read back differently
//! from the two stores, and an export of one would not restore to the same bytes in the
//! other.

use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, SubsecRound, TimeDelta, Utc};
use chrono_tz::Europe::Amsterdam;

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time, in whole microseconds (see [`microseconds`]).
    fn now(&self) -> DateTime<Utc>;

    /// Today in the Netherlands: due dates and peildata are Dutch calendar days.
    fn today(&self) -> NaiveDate {
        self.now().with_timezone(&Amsterdam).date_naive()
    }
}

/// `at` cut to whole microseconds, the precision both stores keep: for an instant or a
/// wall-clock time alike.
pub fn microseconds<T: SubsecRound>(at: T) -> T {
    at.trunc_subsecs(6)
}

/// The first instant after the Dutch calendar day `date`: what happened before it happened
/// on or before that day.
pub fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
    let next = date.succ_opt().unwrap_or(date).and_time(chrono::NaiveTime::MIN);
    // Midnight always exists in Amsterdam: the clocks change at 02:00 and 03:00.
    next.and_local_timezone(Amsterdam).earliest().map_or_else(|| next.and_utc(), |at| at.with_timezone(&Utc))
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        microseconds(Utc::now())
    }
}

/// A clock that stands still until it is moved; for tests.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock(Arc::new(Mutex::new(start)))
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = to;
    }

    pub fn advance(&self, by: TimeDelta) {
        let mut now = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    /// The time set, cut to whole microseconds as the system clock's is: a test that sets
    /// a finer time sees what the engine stores.
    fn now(&self) -> DateTime<Utc> {
        microseconds(*self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

/// The system clock shifted to start at a chosen moment, then running in real time: to
/// rehearse a calendar (`koers serve --clock-start`).
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock(TimeDelta);

impl OffsetClock {
    /// A clock that reads `start` now.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        OffsetClock(start - Utc::now())
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        microseconds(Utc::now() + self.0)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Timelike};

    use super::*;

    #[test]
    fn every_clock_answers_whole_microseconds() {
        let start =
            Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).single().expect("time") + TimeDelta::nanoseconds(123_456_789);
        let manual = ManualClock::new(start);
        assert_eq!(manual.now().nanosecond(), 123_456_000);
        manual.advance(TimeDelta::nanoseconds(999));
        assert_eq!(manual.now().nanosecond(), 123_457_000);
        for clock in [&SystemClock as &dyn Clock, &OffsetClock::starting_at(start)] {
            assert_eq!(clock.now().nanosecond() % 1_000, 0, "{clock:?}");
        }
        let local = start.naive_utc();
        assert_eq!(microseconds(local).nanosecond(), 123_456_000);
    }
}
