//! The `schedule` table: a rule and an action attached to a scope.

use crate::domain::ScheduleScopeKind;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "schedule")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Unique within the scope; the template key for applied templates.
    pub key: String,
    pub name: String,
    /// The template this schedule was applied from, if any.
    pub template: Option<String>,
    /// bestuur, kindcentrum, locatie, groep or team.
    pub scope_kind: ScheduleScopeKind,
    pub scope_id: i64,
    /// The rule as JSON (`schedule::rule::Rule`).
    #[sea_orm(column_type = "Text")]
    pub rule: String,
    /// The action as JSON (`schedule::Action`).
    #[sea_orm(column_type = "Text")]
    pub action: String,
    /// Overlap, catch-up, holidays, window and skip dates as JSON (`schedule::Policy`).
    #[sea_orm(column_type = "Text")]
    pub policy: String,
    pub paused: bool,
    /// Wall-clock time (Europe/Amsterdam) up to which occurrences are stored.
    pub materialized_until: DateTime,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
