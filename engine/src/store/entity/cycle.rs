//! The `cycle` table: the current state of each cycle, always equal to the replay of its
//! events.

use crate::domain::CycleStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "cycle")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub workflow_version_id: i64,
    pub workflow_key: String,
    pub title: String,
    pub team_id: Option<i64>,
    pub professional_id: Option<i64>,
    pub groep_id: Option<i64>,
    pub kindcentrum_id: Option<i64>,
    /// `open` or `closed`.
    pub status: CycleStatus,
    pub phase: String,
    pub iteration: i32,
    pub outcome: Option<String>,
    /// Field values as JSON: iteration -> phase -> field -> value.
    #[sea_orm(column_type = "Text")]
    pub fields: String,
    /// Due dates as JSON: phase -> date.
    #[sea_orm(column_type = "Text")]
    pub due_dates: String,
    /// The due date of the current phase while the cycle is open.
    pub current_due: Option<Date>,
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The occurrence of a schedule that opened this cycle, if one did.
    pub occurrence_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
