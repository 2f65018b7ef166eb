//! The `professional` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "professional")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub key: String,
    pub name: String,
    pub employer_bestuur_id: i64,
    /// Deployed flexibly (on call); still coached every year under the wet IKK.
    pub flexible: bool,
    /// The last day they worked for their employer; none while they work there. A
    /// professional who leaves is ended, not deleted.
    pub left_on: Option<Date>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
