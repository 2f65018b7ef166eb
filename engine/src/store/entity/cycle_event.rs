//! The `cycle_event` table: the append-only history of every cycle.

use crate::domain::CycleEventKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "cycle_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub cycle_id: i64,
    /// 1 for the start; the cycle's version after this event.
    pub sequence: i64,
    pub kind: CycleEventKind,
    pub actor: String,
    pub at: DateTimeUtc,
    pub from_phase: Option<String>,
    pub to_phase: Option<String>,
    /// The iteration after the event.
    pub iteration: i32,
    /// The event itself, as JSON; replaying these gives the cycle's state.
    #[sea_orm(column_type = "Text")]
    pub data: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
