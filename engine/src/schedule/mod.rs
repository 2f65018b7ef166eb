//! The quality calendar: schedules, their occurrences and what firing them creates.

pub mod rule;
