//! A professional who leaves is ended, not deleted: `left_on` is the last day they worked
//! for their employer. Their past norms, coaching entries and cycles stay as they were.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Professional {
    Table,
    LeftOn,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Professional::Table)
                .add_column(ColumnDef::new(Professional::LeftOn).date().null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Professional::Table).drop_column(Professional::LeftOn).to_owned()).await
    }
}
