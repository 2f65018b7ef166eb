//! The `coaching_entry` table: the coaching log of the wet IKK, one row per session or
//! block of beleid work.

use sea_orm::entity::prelude::*;

use crate::domain::CoachingKind;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "coaching_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The houder whose norm the hours count toward.
    pub bestuur_id: i64,
    pub coach_id: i64,
    pub date: Date,
    pub hours: f64,
    /// Stored as `coaching-individueel`, `coaching-team` or `beleid`.
    pub kind: CoachingKind,
    pub locatie_id: Option<i64>,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    pub actor: String,
    pub created_at: DateTimeUtc,
    /// When the entry was withdrawn: it stays in the log and no longer counts.
    pub withdrawn_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub withdrawn_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
