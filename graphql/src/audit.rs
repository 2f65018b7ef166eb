//! The trail of changes: `Change`, the `history` and `version` of the rows screens edit,
//! and the root `changes` for those who audit a whole kindcentrum or bestuur.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, Result};
use chrono::{DateTime, Utc};
use koers_engine::audit::ChangeFilter;
use koers_engine::store::entity::change;
use serde_json::Value;

use crate::error::{IntoGraphql, LoadError};
use crate::loader::Loaders;
use crate::query::{engine, parse_id};
use crate::types::{List, connection, list, page, page_complexity};

/// What a change did to its row.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::domain::ChangeAction")]
pub enum ChangeAction {
    Created,
    Updated,
    /// Withdrawn or archived: the row stays, in its history, and no longer counts.
    Withdrawn,
    /// Removed by an import that no longer lists it.
    Removed,
}

/// Through which front a change came.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::domain::Front")]
pub enum Front {
    Api,
    Import,
    Csv,
    Scheduler,
    Cli,
}

/// One recorded change of a row.
#[derive(Debug, Clone)]
pub struct Change(pub change::Model);

#[Object]
impl Change {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// The table of the row: `doel`, `coaching_entry`, `professional`, ...
    async fn entity(&self) -> &str {
        &self.0.entity
    }
    async fn entity_id(&self) -> ID {
        self.0.entity_id.into()
    }
    /// The row's version after this change.
    async fn version(&self) -> i32 {
        self.0.version
    }
    async fn action(&self) -> ChangeAction {
        self.0.action.into()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// `token:ID` for a change through the API; `import`, `csv`, ... otherwise.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// The name the actor had when it made the change.
    async fn actor_name(&self) -> &str {
        &self.0.actor_name
    }
    async fn front(&self) -> Front {
        self.0.front.into()
    }
    /// The row's columns before the change; none for a creation.
    async fn before(&self) -> Option<Json<Value>> {
        self.0.before.clone().map(Json)
    }
    /// The row's columns after the change; none for a removal.
    async fn after(&self) -> Option<Json<Value>> {
        self.0.after.clone().map(Json)
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
}

/// Loader key: the history of one row of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HistoryOf(pub &'static str, pub i64);

/// Loader key: the version of one row of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VersionOf(pub &'static str, pub i64);

fn by_entity<'k>(keys: impl Iterator<Item = (&'static str, i64)> + 'k) -> HashMap<&'static str, Vec<i64>> {
    let mut out: HashMap<&'static str, Vec<i64>> = HashMap::new();
    for (entity, id) in keys {
        out.entry(entity).or_default().push(id);
    }
    out
}

impl Loader<HistoryOf> for Loaders {
    type Value = Vec<change::Model>;
    type Error = LoadError;

    /// One statement per table asked.
    async fn load(&self, keys: &[HistoryOf]) -> Result<HashMap<HistoryOf, Self::Value>, Self::Error> {
        let mut out = HashMap::new();
        for (entity, ids) in by_entity(keys.iter().map(|k| (k.0, k.1))) {
            for (id, changes) in self.engine().histories(entity, &ids).await? {
                out.insert(HistoryOf(entity, id), changes);
            }
        }
        Ok(out)
    }
}

impl Loader<VersionOf> for Loaders {
    type Value = i32;
    type Error = LoadError;

    async fn load(&self, keys: &[VersionOf]) -> Result<HashMap<VersionOf, Self::Value>, Self::Error> {
        let mut out = HashMap::new();
        for (entity, ids) in by_entity(keys.iter().map(|k| (k.0, k.1))) {
            for (id, version) in self.engine().versions(entity, &ids).await? {
                out.insert(VersionOf(entity, id), version);
            }
        }
        Ok(out)
    }
}

/// The recorded changes of a row, oldest first.
pub(crate) async fn history(ctx: &Context<'_>, entity: &'static str, id: i64) -> Result<Vec<Change>> {
    Ok(list(ctx, HistoryOf(entity, id)).await?.into_iter().map(Change).collect())
}

/// The version of a row: the number of its recorded changes. An edit passes it back as
/// `expectedVersion`.
pub(crate) async fn version(ctx: &Context<'_>, entity: &'static str, id: i64) -> Result<i32> {
    list(ctx, VersionOf(entity, id)).await
}

/// Which changes to list.
#[derive(InputObject, Debug, Default)]
pub struct ChangeFilterInput {
    /// Only changes of rows of this table (`doel`, `coaching_entry`, ...).
    pub entity: Option<String>,
    pub kindcentrum_id: Option<ID>,
    pub bestuur_id: Option<ID>,
    /// Only the changes of this actor (`token:7`, `import`).
    pub actor: Option<String>,
    /// From this moment (included) ...
    pub from: Option<DateTime<Utc>>,
    /// ... to this one (excluded).
    pub to: Option<DateTime<Utc>>,
}

#[derive(Default, Debug)]
pub struct ChangeQuery;

#[Object]
impl ChangeQuery {
    /// The trail of changes within the token's reach, newest first: of the kindcentra and
    /// besturen it reaches whole.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        filter: Option<ChangeFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Change>> {
        let filter = filter.unwrap_or_default();
        let filter = ChangeFilter {
            entity: filter.entity,
            kindcentrum_id: filter.kindcentrum_id.as_ref().map(|id| parse_id(id, "kindcentrum")).transpose()?,
            bestuur_id: filter.bestuur_id.as_ref().map(|id| parse_id(id, "bestuur")).transpose()?,
            actor: filter.actor,
            from: filter.from,
            to: filter.to,
        };
        let page = page(first, after)?;
        Ok(connection(page, engine(ctx).changes(filter, page).await.gql()?, Change))
    }
}
