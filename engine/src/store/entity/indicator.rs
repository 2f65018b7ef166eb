//! The `indicator` table.

use crate::domain::Direction;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "indicator")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub key: String,
    pub name: String,
    pub unit: String,
    pub direction: Direction,
    pub target: f64,
    pub baseline: Option<f64>,
    pub bestuur_id: Option<i64>,
    pub kindcentrum_id: Option<i64>,
    pub locatie_id: Option<i64>,
    pub groep_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
