//! Database schema of koers, one migration per schema change.
//!
//! Migrations run on every start of `koers serve` and by `koers migrate`; each one has a
//! working `down` so a release can be rolled back.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_foundation;
mod m20261123_000002_cycles;
mod m20261123_000003_calendar;
mod m20261123_000004_evidence;
mod m20261123_000005_tokens;
mod m20261123_000006_retention;
mod m20261201_000001_schedule_horizon;
mod m20261201_000002_progress_indexes;
mod m20261201_000003_criterium_mark_cycle;
mod m20261201_000004_covering_indexes;
mod m20261207_000001_signalen_without_child_codes;
mod m20261207_000002_mark_recorded_at;
mod m20261208_000001_field_keys_in_camel_case;
mod m20261208_000002_professional_left_on;
mod m20261208_000003_change_trail;

/// The renaming of field keys to camelCase, for a restore to upgrade an export written
/// before it as the migration upgrades a database.
pub mod field_keys {
    pub use crate::m20261208_000001_field_keys_in_camel_case::{Plan, StoredVersion, camel_case, kebab_case};
}

/// All migrations, oldest first.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_foundation::Migration),
            Box::new(m20261123_000002_cycles::Migration),
            Box::new(m20261123_000003_calendar::Migration),
            Box::new(m20261123_000004_evidence::Migration),
            Box::new(m20261123_000005_tokens::Migration),
            Box::new(m20261123_000006_retention::Migration),
            Box::new(m20261201_000001_schedule_horizon::Migration),
            Box::new(m20261201_000002_progress_indexes::Migration),
            Box::new(m20261201_000003_criterium_mark_cycle::Migration),
            Box::new(m20261201_000004_covering_indexes::Migration),
            Box::new(m20261207_000001_signalen_without_child_codes::Migration),
            Box::new(m20261207_000002_mark_recorded_at::Migration),
            Box::new(m20261208_000001_field_keys_in_camel_case::Migration),
            Box::new(m20261208_000002_professional_left_on::Migration),
            Box::new(m20261208_000003_change_trail::Migration),
        ]
    }
}
