//! The `reminder` table: something to do by a date, for a team or a professional.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "reminder")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub occurrence_id: Option<i64>,
    pub title: String,
    pub due_date: Date,
    pub team_id: Option<i64>,
    pub professional_id: Option<i64>,
    /// The groep the reminder is about, if any.
    pub groep_id: Option<i64>,
    pub kindcentrum_id: Option<i64>,
    pub done_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
