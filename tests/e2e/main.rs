//! End-to-end tests: the real `koers` binary, a real SQLite file, real HTTP.

mod auth;
mod calendar;
mod cli;
mod coaching;
mod crash;
mod cycles;
mod evidence;
mod helpers;
mod readme;
mod replicas;
mod serve;
