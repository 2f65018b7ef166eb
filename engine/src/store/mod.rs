//! Opening the database: SQLite (the embedded default, one file in WAL mode) or
//! PostgreSQL, migrated to the current schema.

pub mod entity;
pub mod query;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use koers_migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, EntityTrait, IdenStatic, IntoActiveModel, Iterable, PrimaryKeyToColumn, PrimaryKeyTrait, QueryTrait,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

use crate::error::{Error, Result};

/// The page cache of each SQLite connection, in KiB.
const SQLITE_CACHE_KIB: u32 = 64 * 1024;

/// How long a SQLite connection waits for another writer (another process: an import
/// beside the server, a backup) to release the write lock before it answers "database is
/// locked". Other writers hold it for one bounded transaction, milliseconds; the wait is
/// long enough for a slow disk and shorter than a request's timeout (30 s), so a request
/// behind a stuck writer still gets an answer: a retryable one.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(20);

/// How to reach the database.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// `sqlite://koers.db`, `sqlite:///abs/path.db`, `sqlite::memory:` or `postgres://...`.
    pub url: String,
    /// Pool size; SQLite defaults to one connection, which serialises writers without
    /// `SQLITE_BUSY` errors.
    pub max_connections: Option<u32>,
    /// How long a request waits for a free connection of the pool before it fails.
    pub acquire_timeout: Duration,
    /// How long a connection may stay idle in the pool before it is closed.
    pub idle_timeout: Duration,
    /// Whether a SQLite file that does not exist is created. When not, opening it fails
    /// and names the file it looked for: a command run from the wrong directory must not
    /// work on a new, empty database as if it were the real one.
    pub create: bool,
}

impl StoreConfig {
    pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(600);

    pub fn new(url: impl Into<String>) -> Self {
        StoreConfig {
            url: url.into(),
            max_connections: None,
            acquire_timeout: StoreConfig::DEFAULT_ACQUIRE_TIMEOUT,
            idle_timeout: StoreConfig::DEFAULT_IDLE_TIMEOUT,
            create: true,
        }
    }
}

/// Opens the database (creating a SQLite file if needed) without migrating it.
pub async fn connect(config: &StoreConfig) -> Result<DatabaseConnection> {
    let url = config.url.as_str();
    let open_error = |reason: String| Error::Open { url: redact(url), reason };
    let mut options = pool_options(config);
    if let Some(max) = config.max_connections {
        options.max_connections(max);
    }
    if url.starts_with("sqlite:") {
        let sqlite = SqliteConnectOptions::from_str(url).map_err(|e| open_error(e.to_string()))?;
        check_sqlite_directory(sqlite.get_filename()).map_err(open_error)?;
        if !config.create {
            check_sqlite_file(url, sqlite.get_filename()).map_err(open_error)?;
        }
        let create = config.create;
        options.map_sqlx_sqlite_opts(move |opts| {
            sqlite_options(opts, SQLITE_CACHE_KIB)
                .create_if_missing(create)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
        });
    } else if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        return Err(open_error("the URL must start with sqlite: or postgres://".to_owned()));
    }
    Database::connect(options).await.map_err(|e| open_error(e.to_string()))
}

/// What every pool of `config` shares.
fn pool_options(config: &StoreConfig) -> ConnectOptions {
    let mut options = ConnectOptions::new(config.url.as_str());
    options
        .sqlx_logging(true)
        // sqlx logs every statement at INFO; keep them for RUST_LOG=sqlx=debug only.
        .sqlx_logging_level(tracing::log::LevelFilter::Debug)
        .acquire_timeout(config.acquire_timeout)
        .idle_timeout(config.idle_timeout);
    options
}

/// What every SQLite connection shares, with a page cache of `cache_kib`: SQLite's default
/// is 2 MB; a national database is gigabytes, and its indexes are much larger than that.
/// Grown only as pages are read.
fn sqlite_options(opts: SqliteConnectOptions, cache_kib: u32) -> SqliteConnectOptions {
    // Negative: KiB.
    opts.busy_timeout(SQLITE_BUSY_TIMEOUT).pragma("cache_size", format!("-{cache_kib}"))
}

/// Opens the database and brings its schema up to date.
pub async fn open(config: &StoreConfig) -> Result<DatabaseConnection> {
    let db = connect(config).await?;
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// Connections of the read pool of a SQLite file: the parts of the board's view and of
/// the national roll-up that run side by side.
const SQLITE_READERS: u32 = 3;

/// The page cache of each reader, in KiB: smaller than the writer's, as the readers'
/// caches add up and the operating system caches the file as well.
const SQLITE_READER_CACHE_KIB: u32 = 4 * 1024;

/// A pool of read-only connections to an opened SQLite file, beside the one connection
/// that writes, for the views that read much and write nothing ([`crate::Engine::reading_from`]):
/// in WAL mode readers do not wait for the writer nor for each other. None where there is
/// nothing to gain: PostgreSQL's pool already has several connections, and an in-memory
/// SQLite database exists only in its one connection.
pub async fn read_pool(config: &StoreConfig) -> Result<Option<DatabaseConnection>> {
    let url = config.url.as_str();
    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(None);
    }
    let mut options = pool_options(config);
    options.max_connections(SQLITE_READERS).map_sqlx_sqlite_opts(|opts| {
        sqlite_options(opts, SQLITE_READER_CACHE_KIB).read_only(true).create_if_missing(false)
    });
    Database::connect(options).await.map(Some).map_err(|e| Error::Open { url: redact(url), reason: e.to_string() })
}

/// Writes a consistent copy of a SQLite database to `file` (`VACUUM INTO`), safe while
/// `koers serve` runs on it: the copy is one transaction's view. Refused for PostgreSQL,
/// which has `pg_dump`, and when `file` exists.
pub async fn backup(db: &DatabaseConnection, file: &Path) -> Result<()> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Err(Error::Validation(
            "koers backup copies SQLite databases; back up PostgreSQL with pg_dump (see the README)".into(),
        ));
    }
    if file.exists() {
        return Err(Error::Validation(format!("{} exists; the backup goes to a new file", file.display())));
    }
    check_sqlite_directory(file)
        .map_err(|reason| Error::Validation(format!("cannot write the backup {}: {reason}", file.display())))?;
    let path = file.to_str().ok_or_else(|| Error::Validation(format!("{} is not UTF-8", file.display())))?;
    db.execute_raw(Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [path.into()])).await?;
    Ok(())
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), waiting its turn behind other writers (of this or another process),
/// so that what it reads stays true until it commits instead of failing at its first write
/// with "database is locked". PostgreSQL ignores the mode.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction> {
    let options = TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    };
    Ok(db.begin_with_options(options).await?)
}

/// Inserts `rows`, new rows without ids, with one statement, and answers the ids the store
/// gave them, in the order of the rows: both stores hand out ascending ids in that order.
/// SQLite sends nothing back: koers's tables are AUTOINCREMENT, so each row gets one more
/// than the largest id the table ever had, and the transaction holds the write lock; the
/// ids end at the last one inserted. PostgreSQL returns them (in no promised order).
pub(crate) async fn insert_ids<A>(txn: &DatabaseTransaction, rows: Vec<A>) -> Result<Vec<i64>>
where
    A: ActiveModelTrait,
    <A::Entity as EntityTrait>::PrimaryKey: PrimaryKeyTrait<ValueType = i64>,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
{
    let count = rows.len();
    if count == 0 {
        return Ok(Vec::new());
    }
    let insert = <A::Entity as EntityTrait>::insert_many(rows);
    let mut ids = if txn.get_database_backend() == DbBackend::Sqlite {
        let done = txn.execute(&insert.into_query()).await?;
        let last = i64::try_from(done.last_insert_id()).map_err(|e| Error::Database(DbErr::Custom(e.to_string())))?;
        if done.rows_affected() != count as u64 {
            return Err(Error::Database(DbErr::Custom(format!("{} of {count} rows inserted", done.rows_affected()))));
        }
        (last + 1 - count as i64..=last).collect()
    } else {
        insert.exec_with_returning_keys(txn).await?
    };
    ids.sort_unstable();
    Ok(ids)
}

/// Moves the id sequence of a PostgreSQL table past its highest id, after rows were
/// inserted with explicit ids: else the next row created would take id 1 again. SQLite
/// needs nothing (its rowids follow the highest one).
pub async fn advance_sequence<E: EntityTrait, C: ConnectionTrait>(db: &C) -> Result<()> {
    if db.get_database_backend() != DbBackend::Postgres || !<E::PrimaryKey as PrimaryKeyTrait>::auto_increment() {
        return Ok(());
    }
    let table = E::default().table_name();
    let id = E::PrimaryKey::iter().next().map(|k| k.into_column().as_str()).unwrap_or("id");
    db.execute_unprepared(&format!(
        r#"SELECT setval(pg_get_serial_sequence('"{table}"', '{id}'), MAX("{id}")) FROM "{table}" HAVING MAX("{id}") IS NOT NULL"#
    ))
    .await?;
    Ok(())
}

/// Checks that the database answers.
pub async fn ping(db: &DatabaseConnection) -> Result<()> {
    db.execute_unprepared("SELECT 1").await?;
    Ok(())
}

/// SQLite creates the file but not its directory: say so before sqlx answers with
/// "unable to open database file".
fn check_sqlite_directory(file: &Path) -> std::result::Result<(), String> {
    if file.as_os_str().is_empty() || file == Path::new(":memory:") {
        return Ok(());
    }
    let dir = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(format!("directory {} does not exist", dir.display()));
    }
    Ok(())
}

/// A SQLite database that is not there is not created behind the user's back: say which
/// file was looked for, and how to create one.
fn check_sqlite_file(url: &str, file: &Path) -> std::result::Result<(), String> {
    if file.as_os_str().is_empty() || file == Path::new(":memory:") || url.contains("mode=memory") || file.exists() {
        return Ok(());
    }
    let looked_for = std::path::absolute(file).unwrap_or_else(|_| file.to_owned());
    Err(format!(
        "there is no database at {}; create one with `koers migrate --database-url {url}` (or `koers serve \
         --demo` for the example data), or give the --database-url of an existing database",
        looked_for.display()
    ))
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://koers:geheim@localhost/koers"), "postgres://koers:***@localhost/koers");
        assert_eq!(redact("sqlite://koers.db"), "sqlite://koers.db");
    }

    #[tokio::test]
    async fn a_missing_file_is_created_only_when_asked() {
        let dir = std::env::temp_dir().join(format!("koers-store-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let url = format!("sqlite://{}", dir.join("absent.db").display());
        let refused = StoreConfig { create: false, ..StoreConfig::new(url.clone()) };
        let message = open(&refused).await.expect_err("must fail").to_string();
        assert!(message.contains(&format!("there is no database at {}", dir.join("absent.db").display())), "{message}");
        assert!(message.contains(&format!("koers migrate --database-url {url}")), "{message}");
        assert!(!dir.join("absent.db").exists(), "nothing was created");
        open(&StoreConfig::new(url)).await.expect("created");
        open(&refused).await.expect("there now");
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[tokio::test]
    async fn missing_directory_is_a_clear_error() {
        let err = open(&StoreConfig::new("sqlite:///nonexistent-dir/sub/x.db")).await.expect_err("must fail");
        let message = err.to_string();
        assert!(message.contains("/nonexistent-dir/sub"), "{message}");
        assert!(message.contains("does not exist"), "{message}");
    }
}
