//! The `scan_score` table: the Leuven scores of one child (by pseudonymous code) or of the
//! whole groep in a scan.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "scan_score")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub scan_id: i64,
    /// None for the one score of the group scanning technique.
    pub child_code: Option<String>,
    pub welbevinden: f64,
    pub betrokkenheid: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
