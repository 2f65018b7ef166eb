//! The `api_token` table: who may call the API, as a role within a scope.

use sea_orm::entity::prelude::*;

use crate::domain::AccessRole;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "api_token")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// A label to recognise the token by in `koers token list`.
    pub name: String,
    pub role: AccessRole,
    pub scope_kind: String,
    pub scope_id: Option<i64>,
    /// SHA-256 of the token, hex; the token itself is never stored.
    pub hash: String,
    pub created_at: DateTimeUtc,
    /// The last Dutch calendar day the token is valid.
    pub expires_on: Option<Date>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
