//! The `cycle_doel` table: the doelen of the koersplan a cycle serves.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "cycle_doel")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub cycle_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub doel_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
