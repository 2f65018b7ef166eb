//! The `school_holiday` table: the school holidays per vacation region, from the open
//! data of the Rijksoverheid.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "school_holiday")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// noord, midden or zuid.
    pub region: String,
    /// The first calendar year of the school year.
    pub school_year: i32,
    pub name: String,
    pub start_date: Date,
    /// The last day of the holiday, included.
    pub end_date: Date,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
