//! The `scan` table: one welbevinden/betrokkenheid scan of a groep in a quarter.

use crate::domain::ScanTechnique;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "scan")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub groep_id: i64,
    pub year: i32,
    /// Calendar quarter, 1 to 4.
    pub quarter: i32,
    pub scanned_on: Date,
    /// `kind` (a score per child) or `groep` (the group scanning technique).
    pub technique: ScanTechnique,
    /// The groep's pedagogische-kwaliteitscyclus whose `scan` phase this is.
    pub cycle_id: Option<i64>,
    /// The iteration of that cycle.
    pub iteration: Option<i32>,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    pub actor: String,
    pub created_at: DateTimeUtc,
    /// When the scores of the children were folded into `distribution` and deleted.
    pub folded_at: Option<DateTimeUtc>,
    /// After folding: per scale, how many scores fell on each point of the scale (JSON).
    #[sea_orm(column_type = "Text", nullable)]
    pub distribution: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
