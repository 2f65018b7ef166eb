//! The `signal_override` table: the append-only history of signals set by hand on a
//! koersplan, ambitie or doel; the latest row of a subject counts.

use sea_orm::entity::prelude::*;

use crate::domain::Signal;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "signal_override")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub koersplan_id: i64,
    /// Set for an override of an ambitie.
    pub ambitie_id: Option<i64>,
    /// Set for an override of a doel.
    pub doel_id: Option<i64>,
    /// None lifts the earlier override.
    pub signal: Option<Signal>,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub actor: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
