//! End-to-end tests: the real `koers` binary, a real SQLite file, real HTTP.

mod cli;
mod helpers;
mod serve;
