//! The koersplan's progress: measurements of indicators, the signal of every doel from its
//! succescriteria and evidence, the board's view of a kindcentrum, and the roll-up across
//! kindcentra.

pub mod board;
pub mod edit;
pub mod measurement;
pub mod progress;
pub mod rollup;
