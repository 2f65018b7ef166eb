//! The `professional_kindcentrum` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "professional_kindcentrum")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub professional_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kindcentrum_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
