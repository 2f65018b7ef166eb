//! Indexes that answer the board's view and the national roll-up without reading the
//! rows they point to, and one that a foreign key lacked:
//!
//! - the latest measurement of an indicator carries its value, and the latest mark of a
//!   succescriterium whether it is met, so counting the met criteria of the country reads
//!   one index entry for each instead of also the row;
//! - the overdue cycles (open, due before a date) carry their owner, so counting them per
//!   kindcentrum does not read 180,000 whole cycle rows;
//! - a houder's coaching entries of a year carry locatie, kind and hours, so their totals
//!   come from the index alone;
//! - the LRK registrations of an onderdeel are found without reading every registration
//!   (and deleting an onderdeel no longer scans them all).
//!
//! Each widened index keeps its name and its leading columns, so every query that used it
//! still can.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// An index before and after this migration: its table and columns.
struct Widened {
    name: &'static str,
    table: &'static str,
    before: &'static [&'static str],
    after: &'static [&'static str],
}

const WIDENED: [Widened; 4] = [
    Widened {
        name: "idx_measurement_latest",
        table: "measurement",
        before: &["indicator_id", "period_end", "id"],
        after: &["indicator_id", "period_end", "id", "value"],
    },
    Widened {
        name: "idx_criterium_mark_criterium",
        table: "criterium_mark",
        before: &["succescriterium_id", "at"],
        after: &["succescriterium_id", "at", "id", "met"],
    },
    Widened {
        name: "idx_cycle_due",
        table: "cycle",
        before: &["status", "current_due"],
        after: &["status", "current_due", "kindcentrum_id", "team_id", "groep_id", "professional_id"],
    },
    Widened {
        name: "idx_coaching_entry_houder",
        table: "coaching_entry",
        before: &["bestuur_id", "date"],
        after: &["bestuur_id", "date", "locatie_id", "kind", "hours"],
    },
];

const LRK_ONDERDEEL: &str = "idx_lrk_registration_onderdeel";

async fn replace(m: &SchemaManager<'_>, name: &str, table: &str, columns: &[&str]) -> Result<(), DbErr> {
    m.drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned()).await?;
    let mut index = Index::create();
    index.name(name).table(Alias::new(table));
    for column in columns {
        index.col(Alias::new(*column));
    }
    m.create_index(index.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for index in &WIDENED {
            replace(m, index.name, index.table, index.after).await?;
        }
        m.create_index(
            Index::create()
                .name(LRK_ONDERDEEL)
                .table(Alias::new("lrk_registration"))
                .col(Alias::new("onderdeel_id"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(LRK_ONDERDEEL).table(Alias::new("lrk_registration")).to_owned()).await?;
        for index in &WIDENED {
            replace(m, index.name, index.table, index.before).await?;
        }
        Ok(())
    }
}
