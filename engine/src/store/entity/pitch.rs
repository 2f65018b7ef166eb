//! The `pitch` table: what a professional did and what it yielded, told on an Evaluatie &
//! Planningsdag.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "pitch")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub cycle_id: i64,
    pub professional_id: i64,
    pub date: Date,
    #[sea_orm(column_type = "Text")]
    pub did: String,
    #[sea_orm(column_type = "Text")]
    pub yielded: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
