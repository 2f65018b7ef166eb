//! The `change` table: the trail of every change to what a school keeps, through every
//! front. A row's version is the number of its changes.

use sea_orm::entity::prelude::*;

use crate::domain::{ChangeAction, Front};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "change")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The table of the row changed (`doel`, `coaching_entry`, ...).
    pub entity: String,
    pub entity_id: i64,
    /// The row's version after this change: 1 for its first recorded change.
    pub version: i32,
    pub action: ChangeAction,
    pub at: DateTimeUtc,
    /// `token:ID`, `import`, `scheduler`, ...
    pub actor: String,
    /// The name the actor had when it made the change (a token's name).
    pub actor_name: String,
    pub front: Front,
    /// The kindcentrum and bestuur the row belongs to, where it belongs to one: what a
    /// caller's reach is checked against.
    pub kindcentrum_id: Option<i64>,
    pub bestuur_id: Option<i64>,
    /// The row before and after, as its columns; none before a creation.
    pub before: Option<Json>,
    pub after: Option<Json>,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
