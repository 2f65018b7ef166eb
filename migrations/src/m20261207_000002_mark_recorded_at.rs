//! A succescriterium's mark may count from a day before the one it is recorded on (the
//! evidence of last spring, typed in now): `at` is the moment it counts from, and
//! `recorded_at` the moment it was recorded, so that neither is shifted to fit the other.
//! Marks recorded before this migration counted from the moment they were recorded.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CriteriumMark {
    Table,
    At,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(CriteriumMark::Table)
                .add_column(
                    ColumnDef::new(CriteriumMark::RecordedAt)
                        .timestamp_with_time_zone()
                        .not_null()
                        .default("1970-01-01 00:00:00+00:00"),
                )
                .to_owned(),
        )
        .await?;
        m.exec_stmt(
            Query::update()
                .table(CriteriumMark::Table)
                .value(CriteriumMark::RecordedAt, Expr::col(CriteriumMark::At))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(CriteriumMark::Table).drop_column(CriteriumMark::RecordedAt).to_owned())
            .await
    }
}
