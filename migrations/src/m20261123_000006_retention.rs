//! Retention of child-level scan scores: once folded, a scan keeps only the distribution
//! of its scores per scale, and the scores of the children are deleted.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Scan {
    Table,
    FoldedAt,
    Distribution,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Two statements: SQLite adds one column per ALTER TABLE.
        m.alter_table(
            Table::alter().table(Scan::Table).add_column(timestamp_with_time_zone_null(Scan::FoldedAt)).to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(Scan::Table).add_column(text_null(Scan::Distribution)).to_owned()).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Scan::Table).drop_column(Scan::Distribution).to_owned()).await?;
        m.alter_table(Table::alter().table(Scan::Table).drop_column(Scan::FoldedAt).to_owned()).await
    }
}
