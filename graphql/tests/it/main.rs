//! The GraphQL API's integration tests, one binary: each module tests a part of the API over
//! the real schema, and the server ones over real HTTP.

mod access;
mod api;
mod board;
mod calendar;
mod coaching;
mod documents;
mod limits;
mod scans;
mod socket;
