//! The `lrk_registration` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "lrk_registration")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub locatie_id: i64,
    pub number: String,
    pub onderdeel_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
