//! The `criterium_mark` table: the append-only history of succescriteria marked met (or
//! no longer met) by hand; the latest mark of a criterion counts.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "criterium_mark")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub succescriterium_id: i64,
    pub met: bool,
    /// Evidence: a closed cycle ...
    pub cycle_id: Option<i64>,
    /// ... a measurement ...
    pub measurement_id: Option<i64>,
    /// ... or a note; for a withdrawn mark, the reason.
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    pub actor: String,
    /// The moment the mark counts from: when it was recorded, or the start of the earlier
    /// day its evidence is from.
    pub at: DateTimeUtc,
    /// The moment it was recorded.
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
