//! The `koers` application: [`startup`] builds what `koers serve` runs (store, API,
//! scheduler, retention job), [`bench`] is the benchmark suite with the national dataset it
//! runs on. The `koers` binary parses flags and calls into this library; the end-to-end
//! tests start the application in their own process through it.

pub mod args;
pub mod bench;
pub mod demo;
pub mod startup;
