//! API tokens: only a hash of each token is stored; the token itself is shown once.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiToken {
    Table,
    Id,
    Name,
    Role,
    ScopeKind,
    ScopeId,
    Hash,
    CreatedAt,
    ExpiresOn,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ApiToken::Table)
                .col(big_pk_auto(ApiToken::Id))
                .col(string(ApiToken::Name))
                .col(string(ApiToken::Role))
                // `all`, `bestuur`, `kindcentrum`, `locatie`, `team` or `professional`.
                .col(string(ApiToken::ScopeKind))
                .col(big_integer_null(ApiToken::ScopeId))
                // SHA-256 of the token, hex.
                .col(string_uniq(ApiToken::Hash))
                .col(timestamp_with_time_zone(ApiToken::CreatedAt))
                // The last day the token is valid, Dutch calendar day.
                .col(date_null(ApiToken::ExpiresOn))
                .col(timestamp_with_time_zone_null(ApiToken::RevokedAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ApiToken::Table).to_owned()).await
    }
}
