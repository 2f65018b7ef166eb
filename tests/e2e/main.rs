//! End-to-end tests: the application over real HTTP on a real database. Most start it in
//! this process (`helpers::spawn_app`); those about the process itself (signals, a crash,
//! replicas, the command line, the README's commands) run the real `koers` binary. Beside
//! them, the benchmark's national dataset at small scale (`generate`) and the roll-up
//! measured on it (`rollup`).

mod auth;
mod calendar;
mod cli;
mod coaching;
mod crash;
mod cycles;
mod editing;
mod evidence;
mod generate;
mod helpers;
mod readme;
mod replicas;
mod rollup;
mod serve;
