//! The `groep` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "groep")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub locatie_id: i64,
    pub onderdeel_id: i64,
    pub key: String,
    pub name: String,
    pub max_children: Option<i32>,
    pub age_from: Option<i32>,
    pub age_until: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
