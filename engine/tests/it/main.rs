//! The engine's integration tests, one binary: each module tests one domain through the
//! library's public API, on SQLite or, with `KOERS_TEST_DATABASE_URL`, on PostgreSQL.

mod coaching;
mod csv;
mod cycles;
mod export;
mod import;
mod layout;
mod migrations;
mod no_panic;
mod progress;
mod replay;
mod retention;
mod scans;
mod schedule;
mod workflows;
