//! End-to-end tests: the application over real HTTP on a real database. Most start it in
//! this process (`helpers::spawn_app`); those about the process itself (signals, a crash,
//! replicas, the command line, the README's commands) run the real `koers` binary.

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
