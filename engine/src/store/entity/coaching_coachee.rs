//! The `coaching_coachee` table: the professionals coached in a coaching-log entry.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "coaching_coachee")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub coaching_entry_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub professional_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
