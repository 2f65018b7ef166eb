//! The `planning_item` table.

use crate::domain::{PlanningStatus, SchoolYear};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "planning_item")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub doel_id: i64,
    pub key: String,
    pub position: i32,
    pub school_year: SchoolYear,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    pub status: PlanningStatus,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
