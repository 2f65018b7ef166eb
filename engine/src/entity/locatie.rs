//! The `locatie` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "locatie")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kindcentrum_id: i64,
    pub key: String,
    pub name: String,
    pub address: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
