//! Indexes for the board's view and the national roll-up: the latest measurement of an
//! indicator and the latest scan of a groep up to a peildatum are picked in SQL, each by
//! one index seek from the end of its key rather than by reading every older row.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Measurement {
    Table,
    IndicatorId,
    PeriodEnd,
    Id,
}

#[derive(DeriveIden)]
enum Scan {
    Table,
    GroepId,
    ScannedOn,
    Id,
}

const MEASUREMENT_INDEX: &str = "idx_measurement_latest";
const SCAN_INDEX: &str = "idx_scan_latest";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(MEASUREMENT_INDEX)
                .table(Measurement::Table)
                .col(Measurement::IndicatorId)
                .col(Measurement::PeriodEnd)
                .col(Measurement::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name(SCAN_INDEX)
                .table(Scan::Table)
                .col(Scan::GroepId)
                .col(Scan::ScannedOn)
                .col(Scan::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(SCAN_INDEX).table(Scan::Table).to_owned()).await?;
        m.drop_index(Index::drop().name(MEASUREMENT_INDEX).table(Measurement::Table).to_owned()).await
    }
}
