//! The flags of the database that every command takes, the benchmark's included.

use std::time::Duration;

use koers_engine::store::StoreConfig;

#[derive(Debug, clap::Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://FILE` or `postgres://...`. Only `migrate` and `serve --demo`
    /// create a SQLite file that is not there; the other commands name the file they missed.
    #[arg(long, global = true, env = "KOERS_DATABASE_URL", default_value = "sqlite://koers.db")]
    pub database_url: String,
    /// Maximum number of database connections (SQLite defaults to one).
    #[arg(long, global = true, env = "KOERS_DATABASE_MAX_CONNECTIONS")]
    pub database_max_connections: Option<u32>,
    /// Seconds a request waits for a free database connection before it fails.
    #[arg(long, global = true, env = "KOERS_DATABASE_ACQUIRE_TIMEOUT_SECS",
          default_value_t = StoreConfig::DEFAULT_ACQUIRE_TIMEOUT.as_secs())]
    pub database_acquire_timeout_secs: u64,
    /// Seconds an unused database connection stays open in the pool.
    #[arg(long, global = true, env = "KOERS_DATABASE_IDLE_TIMEOUT_SECS",
          default_value_t = StoreConfig::DEFAULT_IDLE_TIMEOUT.as_secs())]
    pub database_idle_timeout_secs: u64,
}

impl DatabaseArgs {
    /// The store of a command that works on an existing database.
    pub fn config(&self) -> StoreConfig {
        StoreConfig { create: false, ..self.creating() }
    }

    /// The store of a command that may create the database (`migrate`, `serve --demo`).
    pub fn creating(&self) -> StoreConfig {
        StoreConfig {
            max_connections: self.database_max_connections,
            acquire_timeout: Duration::from_secs(self.database_acquire_timeout_secs),
            idle_timeout: Duration::from_secs(self.database_idle_timeout_secs),
            ..StoreConfig::new(self.database_url.clone())
        }
    }
}
