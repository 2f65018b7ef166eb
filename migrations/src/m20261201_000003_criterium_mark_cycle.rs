//! An index on the cycle a succescriterium's mark was given in. Without it every cycle
//! that is deleted (with its kindcentrum, team or groep) makes SQLite read every mark in
//! the database to check that none refers to it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CriteriumMark {
    Table,
    CycleId,
}

const INDEX: &str = "idx_criterium_mark_cycle";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(Index::create().name(INDEX).table(CriteriumMark::Table).col(CriteriumMark::CycleId).to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(INDEX).table(CriteriumMark::Table).to_owned()).await
    }
}
