//! An index on the schedules still to be materialised: the scheduler's every wake-up asks
//! for the active schedules whose horizon ends too early, and with tens of thousands of
//! schedules that question must not read them all.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Schedule {
    Table,
    Paused,
    MaterializedUntil,
}

const NAME: &str = "idx_schedule_horizon";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(NAME)
                .table(Schedule::Table)
                .col(Schedule::Paused)
                .col(Schedule::MaterializedUntil)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(NAME).table(Schedule::Table).to_owned()).await
    }
}
