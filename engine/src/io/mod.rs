//! What comes in and goes out as files: the TOML import of organisations and koersplannen,
//! the CSV imports of evidence, and the export and restore of a kindcentrum.

pub mod csv;
pub mod export;
pub mod import;
