//! The `koersplan` table.

use crate::domain::SchoolYear;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "koersplan")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub key: String,
    pub kindcentrum_id: i64,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    pub first_school_year: SchoolYear,
    pub last_school_year: SchoolYear,
    #[sea_orm(column_type = "Text")]
    pub visie: String,
    pub pijlers: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
