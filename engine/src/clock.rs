//! Time, injected: the engine never reads the system clock itself, nor sleeps on tokio's
//! timer, so tests move time instead of waiting for it. A task that waits for a moment waits
//! on the clock ([`Clock::sleep_until`]); a test's [`ManualClock`] wakes it when the test
//! moves the clock past that moment.
//!
//! Every clock answers whole microseconds. SQLite would keep the nanoseconds of the system
//! clock, PostgreSQL keeps microseconds: a time finer than that would read back differently
//! from the two stores, and an export of one would not restore to the same bytes in the
//! other.

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;

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

    /// Completes once the clock reads `at` or later: at once when it already does.
    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'static, ()>;
}

/// Sleeps on tokio's timer until `clock` reads `at`, for the clocks that run in real time.
fn sleep_real_time(clock: &dyn Clock, at: DateTime<Utc>) -> BoxFuture<'static, ()> {
    let wait = (at - clock.now()).to_std().unwrap_or_default();
    Box::pin(tokio::time::sleep(wait))
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

    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'static, ()> {
        sleep_real_time(self, at)
    }
}

/// A clock that stands still until it is moved; for tests. Moving it wakes every task
/// sleeping until a moment it has now reached.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<tokio::sync::watch::Sender<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock(Arc::new(tokio::sync::watch::Sender::new(start)))
    }

    pub fn set(&self, to: DateTime<Utc>) {
        self.0.send_replace(to);
    }

    pub fn advance(&self, by: TimeDelta) {
        self.0.send_modify(|now| *now += by);
    }
}

impl Clock for ManualClock {
    /// The time set, cut to whole microseconds as the system clock's is: a test that sets
    /// a finer time sees what the engine stores.
    fn now(&self) -> DateTime<Utc> {
        microseconds(*self.0.borrow())
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'static, ()> {
        let mut moved = self.0.subscribe();
        Box::pin(async move {
            // The sender lives as long as any clone of the clock; when the last one is gone
            // nothing can move time any more, and the sleeper wakes to find that out.
            let _ = moved.wait_for(|now| microseconds(*now) >= at).await;
        })
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

    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'static, ()> {
        sleep_real_time(self, at)
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_manual_clock_wakes_its_sleepers_when_moved_past_their_moment() {
        use futures::FutureExt as _;
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 8, 0, 0).single().expect("time");
        let clock = ManualClock::new(start);
        let mut hour = clock.sleep_until(start + TimeDelta::hours(1)).shared();
        let mut day = clock.sleep_until(start + TimeDelta::days(1)).shared();
        assert!(clock.sleep_until(start).now_or_never().is_some(), "a moment reached wakes at once");
        assert!((&mut hour).now_or_never().is_none(), "the clock has not moved");
        clock.advance(TimeDelta::minutes(59));
        assert!((&mut hour).now_or_never().is_none(), "a minute short");
        let waiting = tokio::spawn(day.clone());
        clock.advance(TimeDelta::minutes(1));
        hour.await;
        assert!((&mut day).now_or_never().is_none(), "the day sleeper sleeps on");
        clock.set(start + TimeDelta::days(2));
        waiting.await.expect("the spawned sleeper woke on another thread");
    }
}
