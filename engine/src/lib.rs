//! koers-engine: the domain model of koers, its rules and its persistence.
//!
//! Everything that decides something lives here; the GraphQL and CLI layers call the
//! services of [`Engine`] and translate their answers. The engine knows nothing of HTTP
//! or GraphQL.

pub mod access;
pub mod audit;
pub mod calendar;
pub mod clock;
pub mod cycle;
pub mod domain;
pub mod error;
pub mod evidence;
pub mod io;
pub mod org;
pub mod plan;
pub mod store;
pub mod workflow;

use std::sync::Arc;

pub use error::{Error, ImportError, Result};
pub use sea_orm::DatabaseConnection;

use crate::clock::{Clock, SystemClock};

/// The engine's services over one database. Cheap to clone: clones share everything.
#[derive(Clone, Debug)]
pub struct Engine {
    inner: Arc<Inner>,
    /// What this engine's services answer and change (see [`access`]).
    access: access::Access,
    /// Whom the changes this engine makes are recorded as (see [`audit`]).
    actor: Arc<domain::Actor>,
    /// The store every service reads and writes.
    db: DatabaseConnection,
    /// Where the views that read much and write nothing read from: the store itself, or
    /// a pool of read-only connections to it ([`Engine::reading_from`]).
    reads: DatabaseConnection,
}

#[derive(Debug)]
struct Inner {
    clock: Arc<dyn Clock>,
    workflows: workflow::registry::Workflows,
    events: tokio::sync::broadcast::Sender<cycle::CycleEventRecord>,
    /// Wakes the scheduler loop when schedules change.
    schedules_changed: tokio::sync::Notify,
    /// What the scheduler loop last did, for the health check.
    scheduler: std::sync::Mutex<calendar::Heartbeat>,
}

impl Engine {
    /// An engine on the system clock.
    pub fn new(db: DatabaseConnection) -> Self {
        Engine::with_clock(db, Arc::new(SystemClock))
    }

    pub fn with_clock(db: DatabaseConnection, clock: Arc<dyn Clock>) -> Self {
        let (events, _) = tokio::sync::broadcast::channel(1024);
        Engine {
            reads: db.clone(),
            db,
            inner: Arc::new(Inner {
                clock,
                workflows: workflow::registry::Workflows::default(),
                events,
                schedules_changed: tokio::sync::Notify::new(),
                scheduler: Default::default(),
            }),
            access: access::Access::system(),
            actor: Arc::new(domain::Actor::of(domain::Front::Cli)),
        }
    }

    /// Reads the board's view and the national roll-up from `reads`, a pool of read-only
    /// connections to this engine's database ([`store::read_pool`]), so that their parts
    /// run side by side.
    pub fn reading_from(mut self, reads: DatabaseConnection) -> Self {
        self.reads = reads;
        self
    }

    /// This engine reading from its read pool: for views that write nothing.
    pub(crate) fn reader(&self) -> Engine {
        Engine { db: self.reads.clone(), ..self.clone() }
    }

    /// This engine, recording the changes it makes as `actor`'s.
    pub fn acting_as(&self, actor: domain::Actor) -> Engine {
        Engine { actor: Arc::new(actor), ..self.clone() }
    }

    /// Whom the changes this engine makes are recorded as.
    pub fn actor(&self) -> &domain::Actor {
        &self.actor
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn clock(&self) -> &dyn Clock {
        self.inner.clock.as_ref()
    }

    /// Checks that the database answers; names the kind of store either way.
    pub async fn health(&self) -> (&'static str, Result<()>) {
        let backend = match self.db().get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => "postgres",
            sea_orm::DatabaseBackend::Sqlite => "sqlite",
            _ => "other",
        };
        (backend, store::ping(self.db()).await)
    }
}

/// Arms the fail points that `FAILPOINTS` names (`fire-before-commit=pause`) for the rest
/// of the process. Only builds with the `failpoints` feature have fail points, and only the
/// tests turn it on; elsewhere this does nothing.
pub fn arm_failpoints() {
    #[cfg(feature = "failpoints")]
    std::mem::forget(fail::FailScenario::setup());
}

/// The fail point `name`: in builds with the `failpoints` feature, when `FAILPOINTS` arms
/// it, it logs that it was reached (the line a test waits for) and then does what it was
/// armed with, such as `pause`; otherwise nothing.
#[inline]
#[cfg_attr(not(feature = "failpoints"), allow(unused_variables))]
pub(crate) fn failpoint(name: &str) {
    #[cfg(feature = "failpoints")]
    {
        if fail::list().iter().any(|(armed, _)| armed == name) {
            tracing::warn!(failpoint = name, "reached fail point");
        }
        fail::eval(name, |_| ());
    }
}
