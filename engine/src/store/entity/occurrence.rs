//! The `occurrence` table: one due time of a schedule, stored once, fired at most once.

use crate::domain::OccurrenceStatus;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "occurrence")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub schedule_id: i64,
    pub due_at: DateTimeUtc,
    /// The wall-clock time in Europe/Amsterdam the rule asked for.
    pub local_at: DateTime,
    /// Pending, fired, missed, skipped or failed (its note says why).
    pub status: OccurrenceStatus,
    pub fired_at: Option<DateTimeUtc>,
    /// What firing created, as JSON.
    #[sea_orm(column_type = "Text", nullable)]
    pub result: Option<String>,
    /// Why it moved, was skipped or failed.
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
