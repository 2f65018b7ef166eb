//! koers-engine: the domain model of koers, its rules and its persistence.
//!
//! Everything that decides something lives here; the GraphQL and CLI layers call the
//! services of [`Engine`] and translate their answers. The engine knows nothing of HTTP
//! or GraphQL.

pub mod domain;
pub mod entity;
pub mod error;
pub mod import;
pub mod read;
pub mod store;

pub use error::{Error, ImportError, Result};
pub use sea_orm::DatabaseConnection;

/// The engine's services over one database.
#[derive(Clone, Debug)]
pub struct Engine {
    db: DatabaseConnection,
}

impl Engine {
    pub fn new(db: DatabaseConnection) -> Self {
        Engine { db }
    }

    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Checks that the database answers; names the kind of store either way.
    pub async fn health(&self) -> (&'static str, Result<()>) {
        let backend = match self.db.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => "postgres",
            sea_orm::DatabaseBackend::Sqlite => "sqlite",
            _ => "other",
        };
        (backend, store::ping(&self.db).await)
    }
}
