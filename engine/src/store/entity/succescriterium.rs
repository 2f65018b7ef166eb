//! The `succescriterium` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "succescriterium")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub doel_id: i64,
    pub key: String,
    pub position: i32,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub indicator_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
