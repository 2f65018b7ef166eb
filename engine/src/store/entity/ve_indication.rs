//! The `ve_indication` table: per houder that offers voorschoolse educatie, the number of
//! VE-indicated children aged 2.5 to 4 on 1 January of a year.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "ve_indication")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub bestuur_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub year: i32,
    pub children: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
