//! The `locatie` table.

use sea_orm::entity::prelude::*;

use crate::domain::VacationRegion;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "locatie")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kindcentrum_id: i64,
    pub key: String,
    pub name: String,
    pub address: Option<String>,
    /// noord, midden or zuid: the school-holiday region of its gemeente.
    pub vacation_region: Option<VacationRegion>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
