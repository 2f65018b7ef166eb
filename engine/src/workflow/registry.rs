//! The workflow definitions in use: each stored under its content hash as a version, the
//! current version of each key the one new cycles start on, and every version a cycle may
//! still run on loaded once and kept.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::Engine;
use crate::error::{DefinitionError, Error, Result};
use crate::store::entity::workflow_version;
use crate::workflow::WorkflowDef;

/// The workflow definitions in use: the current version of each key, and every version
/// a cycle may still run on.
#[derive(Debug, Default)]
pub struct Workflows(RwLock<Registry>);

#[derive(Debug, Default)]
struct Registry {
    /// key -> version id of the definition new cycles start on.
    current: BTreeMap<String, i64>,
    /// version id -> (version number, definition).
    versions: HashMap<i64, (i32, Arc<WorkflowDef>)>,
}

/// A workflow definition as stored, with its version.
#[derive(Clone, Debug)]
pub struct WorkflowVersion {
    pub id: i64,
    pub version: i32,
    pub def: Arc<WorkflowDef>,
}

impl Engine {
    /// Stores each definition under its content hash (a new version when the content is
    /// new) and makes it the one new cycles start on.
    #[tracing::instrument(skip_all, fields(count = defs.len()))]
    pub async fn register_workflows(&self, defs: Vec<WorkflowDef>) -> Result<()> {
        let txn = crate::store::begin_write(self.db()).await?;
        if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
            // Replicas starting together register the same definitions: one at a time, so
            // each finds the versions the one before stored.
            txn.execute_unprepared("SELECT pg_advisory_xact_lock(hashtext('koers.register_workflows'))").await?;
        }
        let mut registered = Vec::new();
        for def in defs {
            def.validate().map_err(|message| DefinitionError { file: def.key.clone(), message })?;
            let hash = def.hash();
            let existing = workflow_version::Entity::find()
                .filter(workflow_version::Column::Key.eq(&def.key))
                .filter(workflow_version::Column::Hash.eq(&hash))
                .one(&txn)
                .await?;
            let row = match existing {
                Some(row) => row,
                None => {
                    let latest = workflow_version::Entity::find()
                        .filter(workflow_version::Column::Key.eq(&def.key))
                        .order_by_desc(workflow_version::Column::Version)
                        .one(&txn)
                        .await?
                        .map_or(0, |r| r.version);
                    tracing::info!(workflow = %def.key, version = latest + 1, "new workflow version");
                    workflow_version::ActiveModel {
                        key: Set(def.key.clone()),
                        version: Set(latest + 1),
                        hash: Set(hash),
                        definition: Set(def.canonical_json()),
                        created_at: Set(self.clock().now()),
                        ..Default::default()
                    }
                    .insert(&txn)
                    .await?
                }
            };
            registered.push((row.id, row.version, def));
        }
        txn.commit().await?;
        let mut registry = self.inner.workflows.0.write().unwrap_or_else(|p| p.into_inner());
        for (id, version, def) in registered {
            registry.current.insert(def.key.clone(), id);
            registry.versions.insert(id, (version, Arc::new(def)));
        }
        Ok(())
    }

    /// The definitions new cycles start on, by key.
    pub fn workflows(&self) -> Vec<WorkflowVersion> {
        let registry = self.inner.workflows.0.read().unwrap_or_else(|p| p.into_inner());
        registry
            .current
            .values()
            .filter_map(|id| {
                registry.versions.get(id).map(|(version, def)| WorkflowVersion {
                    id: *id,
                    version: *version,
                    def: def.clone(),
                })
            })
            .collect()
    }

    /// The current definition of a workflow key.
    pub fn workflow(&self, key: &str) -> Option<WorkflowVersion> {
        self.workflows().into_iter().find(|w| w.def.key == key)
    }

    /// A stored version of a definition, loaded once and then kept.
    pub async fn workflow_version(&self, id: i64) -> Result<WorkflowVersion> {
        self.workflow_version_on(self.db(), id).await
    }

    /// [`Engine::workflow_version`], read through `db`: within a transaction, which on
    /// SQLite holds the pool's one connection, a read through the pool would wait for it.
    pub(crate) async fn workflow_version_on<C: ConnectionTrait>(&self, db: &C, id: i64) -> Result<WorkflowVersion> {
        if let Some((version, def)) = self.inner.workflows.0.read().unwrap_or_else(|p| p.into_inner()).versions.get(&id)
        {
            return Ok(WorkflowVersion { id, version: *version, def: def.clone() });
        }
        let row = workflow_version::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| Error::NotFound { what: "workflow version", id: id.to_string() })?;
        let def: WorkflowDef = serde_json::from_str(&row.definition).map_err(Error::stored_json)?;
        // A stored definition is checked as a new one is before a cycle runs on it: a
        // definition without phases or with broken transitions is an error, not a panic.
        def.validate().map_err(|message| {
            Error::Database(sea_orm::DbErr::Custom(format!(
                "stored workflow version {id} (`{}` version {}) is not a valid definition: {message}",
                row.key, row.version
            )))
        })?;
        let def = Arc::new(def);
        self.inner
            .workflows
            .0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .versions
            .insert(id, (row.version, def.clone()));
        Ok(WorkflowVersion { id, version: row.version, def })
    }
}
