//! The trail of every change to what a school keeps, whichever front it came through: who
//! (the actor and the name it had), when, which row, before and after, and why.
//!
//! Services record their changes in the caller's transaction, so a change and its record
//! are written together or not at all. A row's version is the number of its recorded
//! changes: an editor passes the version it read (`expected`), and a change on a row that
//! moved on since answers VERSION_CONFLICT. The trail's unique (entity, row, version) holds
//! the same between two writers that read the same version at once: the second one's
//! record collides and its transaction rolls back.
//!
//! Cycles keep their own append-only events (`cycle`); the trail reads them beside its
//! own rows.

use std::collections::HashMap;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
};
use serde::Serialize;
use serde_json::Value;

use crate::Engine;
use crate::domain::{Actor, ChangeAction};
use crate::error::{Error, Result};
use crate::store::entity::change;
use crate::store::query::{Page, Slice};

/// One change about to be recorded.
#[derive(Clone, Debug)]
pub(crate) struct Changed {
    pub entity: &'static str,
    pub entity_id: i64,
    pub action: ChangeAction,
    /// The kindcentrum and bestuur the row belongs to, for the reach of `changes`.
    pub kindcentrum_id: Option<i64>,
    pub bestuur_id: Option<i64>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub reason: Option<String>,
}

impl Changed {
    /// A row created, updated (both given) or withdrawn, as its columns before and after.
    pub fn of<M: Serialize>(entity: &'static str, id: i64, before: Option<&M>, after: Option<&M>) -> Changed {
        let action = match (before, after) {
            (None, _) => ChangeAction::Created,
            (Some(_), Some(_)) => ChangeAction::Updated,
            (Some(_), None) => ChangeAction::Removed,
        };
        Changed {
            entity,
            entity_id: id,
            action,
            kindcentrum_id: None,
            bestuur_id: None,
            before: before.map(columns),
            after: after.map(columns),
            reason: None,
        }
    }

    pub fn within(mut self, kindcentrum: Option<i64>, bestuur: Option<i64>) -> Changed {
        self.kindcentrum_id = kindcentrum;
        self.bestuur_id = bestuur;
        self
    }

    pub fn action(mut self, action: ChangeAction) -> Changed {
        self.action = action;
        self
    }

    pub fn because(mut self, reason: Option<String>) -> Changed {
        self.reason = reason;
        self
    }
}

/// A row's columns as JSON.
fn columns<M: Serialize>(row: &M) -> Value {
    serde_json::to_value(row).unwrap_or(Value::Null)
}

/// A row with a numeric id, as the rows the trail records are.
pub(crate) trait Identified {
    fn id(&self) -> i64;
}

macro_rules! identified {
    ($($module:ident),* $(,)?) => {
        $(impl Identified for crate::store::entity::$module::Model {
            fn id(&self) -> i64 {
                self.id
            }
        })*
    };
}

identified!(
    bestuur,
    kindcentrum,
    onderdeel,
    locatie,
    lrk_registration,
    groep,
    professional,
    team,
    indicator,
    measurement,
    koersplan,
    ambitie,
    doel,
    succescriterium,
    planning_item,
    coaching_entry,
);

/// Which changes to list.
#[derive(Clone, Debug, Default)]
pub struct ChangeFilter {
    /// Only changes of rows of this table.
    pub entity: Option<String>,
    pub kindcentrum_id: Option<i64>,
    pub bestuur_id: Option<i64>,
    /// Only changes made by this actor (`token:7`, `import`).
    pub actor: Option<String>,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// The versions of rows of one table: the number of their recorded changes; rows with none
/// recorded are left out (their version is 0).
pub(crate) async fn versions<C: ConnectionTrait>(db: &C, entity: &str, ids: &[i64]) -> Result<HashMap<i64, i32>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, Option<i32>)> = change::Entity::find()
        .select_only()
        .column(change::Column::EntityId)
        .column_as(change::Column::Version.max(), "version")
        .filter(change::Column::Entity.eq(entity))
        .filter(change::Column::EntityId.is_in(ids.iter().copied()))
        .group_by(change::Column::EntityId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(id, v)| (id, v.unwrap_or(0))).collect())
}

/// Records `changes` by `actor` at `at` in the caller's transaction, each at its row's next
/// version, in one statement per few hundred changes.
pub(crate) async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    at: chrono::DateTime<chrono::Utc>,
    changes: Vec<Changed>,
) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut by_entity: HashMap<&'static str, Vec<i64>> = HashMap::new();
    for c in &changes {
        by_entity.entry(c.entity).or_default().push(c.entity_id);
    }
    let mut next: HashMap<(&'static str, i64), i32> = HashMap::new();
    for (entity, ids) in by_entity {
        let stored = versions(db, entity, &ids).await?;
        for id in ids {
            next.insert((entity, id), stored.get(&id).copied().unwrap_or(0));
        }
    }
    let rows: Vec<change::ActiveModel> = changes
        .into_iter()
        .map(|c| {
            let version = next.entry((c.entity, c.entity_id)).or_default();
            *version += 1;
            change::ActiveModel {
                entity: Set(c.entity.to_owned()),
                entity_id: Set(c.entity_id),
                version: Set(*version),
                action: Set(c.action),
                at: Set(at),
                actor: Set(actor.id.clone()),
                actor_name: Set(actor.name.clone()),
                front: Set(actor.front),
                kindcentrum_id: Set(c.kindcentrum_id),
                bestuur_id: Set(c.bestuur_id),
                before: Set(c.before),
                after: Set(c.after),
                reason: Set(c.reason),
                ..Default::default()
            }
        })
        .collect();
    // 14 values a row, well under the bound of SQLite's host parameters.
    for chunk in rows.chunks(500) {
        change::Entity::insert_many(chunk.to_vec()).exec(db).await.map_err(|e| match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => Error::VersionConflict {
                what: "a row changed by someone else at this moment".into(),
                expected: 0,
                actual: 1,
            },
            _ => e.into(),
        })?;
    }
    Ok(())
}

impl Engine {
    /// Refuses a change of a row that moved on since its editor read it at `expected`.
    pub(crate) async fn expect_version<C: ConnectionTrait>(
        &self,
        db: &C,
        entity: &'static str,
        id: i64,
        expected: Option<i32>,
    ) -> Result<()> {
        let Some(expected) = expected else { return Ok(()) };
        let actual = versions(db, entity, &[id]).await?.get(&id).copied().unwrap_or(0);
        if actual != expected {
            return Err(Error::VersionConflict {
                what: format!("{entity} {id}"),
                expected: expected.into(),
                actual: actual.into(),
            });
        }
        Ok(())
    }

    /// Records `changes` by this engine's actor, now.
    pub(crate) async fn record_changes<C: ConnectionTrait>(&self, db: &C, changes: Vec<Changed>) -> Result<()> {
        record(db, self.actor(), self.clock().now(), changes).await
    }

    /// The versions of rows of one table (`doel`, ...): 0 for a row never changed since
    /// the trail began.
    pub async fn versions(&self, entity: &str, ids: &[i64]) -> Result<HashMap<i64, i32>> {
        versions(self.db(), entity, ids).await
    }

    /// The recorded changes of rows of one table, oldest first, grouped by row. The caller
    /// has checked the rows are within reach.
    pub async fn histories(&self, entity: &str, ids: &[i64]) -> Result<HashMap<i64, Vec<change::Model>>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = change::Entity::find()
            .filter(change::Column::Entity.eq(entity))
            .filter(change::Column::EntityId.is_in(ids.iter().copied()))
            .order_by_asc(change::Column::EntityId)
            .order_by_asc(change::Column::Version)
            .all(self.db())
            .await?;
        Ok(crate::store::query::group(rows, |c| c.entity_id))
    }

    /// A page of the trail within reach, newest first.
    pub async fn changes(&self, filter: ChangeFilter, page: Page) -> Result<Slice<change::Model>> {
        use change::Column as C;
        let mut select = change::Entity::find().filter(self.access_of().condition_on(C::KindcentrumId, C::BestuurId));
        if let Some(entity) = filter.entity {
            select = select.filter(C::Entity.eq(entity));
        }
        if let Some(kc) = filter.kindcentrum_id {
            select = select.filter(C::KindcentrumId.eq(kc));
        }
        if let Some(bestuur) = filter.bestuur_id {
            select = select.filter(C::BestuurId.eq(bestuur));
        }
        if let Some(actor) = filter.actor {
            select = select.filter(C::Actor.eq(actor));
        }
        if let Some(from) = filter.from {
            select = select.filter(C::At.gte(from));
        }
        if let Some(to) = filter.to {
            select = select.filter(C::At.lt(to));
        }
        crate::store::query::page(self.db(), select.order_by_desc(C::At).order_by_desc(C::Id), page).await
    }
}
