//! Databases for tests: SQLite by default, and PostgreSQL when `KOERS_TEST_DATABASE_URL`
//! names a server (`postgres://user@host:port/db`), where each test gets a database of its
//! own, created fresh. The whole suite runs on either store unchanged.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use koers_engine::store::{StoreConfig, connect, open};

/// Where the tests' clocks stand unless a test sets its own: Tuesday 1 December 2026,
/// 09:00 in the Netherlands, a school day. No test reads the system clock.
pub fn clock_start() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-12-01T09:00:00+01:00").expect("a valid moment").to_utc()
}

/// An engine over `db` on a manual clock standing at [`clock_start`].
pub fn engine(db: DatabaseConnection) -> koers_engine::Engine {
    koers_engine::Engine::with_clock(db, std::sync::Arc::new(koers_engine::clock::ManualClock::new(clock_start())))
}

/// The path of a file of `workflows/examples`: the organisations of the seeds (KC Balans,
/// Heidevlinder, De Klinkert) and their evidence, which most tests start from.
pub fn example(file: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../workflows/examples").join(file)
}

/// Imports the example files (`heidevlinder.toml`, ...) into `db`.
pub async fn import_examples(db: &DatabaseConnection, files: &[&str]) {
    for file in files {
        koers_engine::io::import::import_file(db, &example(file)).await.expect("the example imports");
    }
}

/// An engine over `db` on a manual clock standing at `now`, with the built-in workflows
/// registered.
pub async fn engine_at(
    db: DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
) -> (koers_engine::Engine, koers_engine::clock::ManualClock) {
    let clock = koers_engine::clock::ManualClock::new(now);
    let engine = koers_engine::Engine::with_clock(db, std::sync::Arc::new(clock.clone()));
    let workflows = koers_engine::workflow::load(None).expect("the built-in workflows load");
    engine.register_workflows(workflows).await.expect("the built-in workflows register");
    (engine, clock)
}

/// A fresh database with the example files imported, and an engine over it at `now`
/// ([`engine_at`]).
pub async fn examples_at(
    now: chrono::DateTime<chrono::Utc>,
    files: &[&str],
) -> (koers_engine::Engine, koers_engine::clock::ManualClock) {
    let db = database().await;
    import_examples(&db, files).await;
    engine_at(db, now).await
}

/// One onderwijs bestuur `b` with one kindcentrum `kc`, as the head of an import file.
const ONE_KINDCENTRUM: &str = r#"
[[bestuur]]
key = "b"
name = "Bestuur"
kind = "onderwijs"

[[kindcentrum]]
key = "kc"
name = "KC"
besturen = ["b"]
"#;

/// The organisation the tests of one team or one koersplan start from (bestuur `b` with
/// kindcentrum `kc`), followed by `rest`: its teams (`[[kindcentrum.team]]` lands in `kc`),
/// professionals, indicators and koersplan.
pub fn one_kindcentrum(rest: &str) -> String {
    format!("{ONE_KINDCENTRUM}{rest}")
}

/// The environment variable that turns the tests to PostgreSQL.
pub const DATABASE_URL: &str = "KOERS_TEST_DATABASE_URL";

/// The server the tests run on, if not SQLite.
pub fn postgres() -> Option<String> {
    std::env::var(DATABASE_URL).ok().filter(|url| !url.trim().is_empty())
}

/// A new, empty PostgreSQL database on the test server: its URL. The first one a test
/// process makes sweeps away the databases of test processes that have ended, so a whole
/// suite holds on disk no more than one test binary's databases at a time.
async fn fresh_postgres(server: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    static SWEPT: AtomicBool = AtomicBool::new(false);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let name = format!("{PREFIX}{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let admin = connect(&patient(server)).await.expect("the test database server answers");
    if !SWEPT.swap(true, Ordering::Relaxed) {
        sweep_ended(&admin).await;
    }
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create the test database");
    admin.close().await.expect("close");
    let (base, _) = server.rsplit_once('/').expect("a postgres:// URL with a database");
    format!("{base}/{name}")
}

/// The name every test database starts with, followed by the id of the process that made it.
const PREFIX: &str = "koers_test_";

/// Drops the test databases whose process is no longer running (where `/proc` tells).
async fn sweep_ended(admin: &DatabaseConnection) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let sql = format!("SELECT datname::text FROM pg_database WHERE datname LIKE '{PREFIX}%'");
    for name in strings(admin, sql).await {
        let pid = name[PREFIX.len()..].split('_').next().and_then(|pid| pid.parse::<u32>().ok());
        let running = pid.is_none_or(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if !running {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await
                .expect("drop an ended test's database");
        }
    }
}

/// A fresh, migrated database for one test: SQLite in memory, or a new PostgreSQL
/// database.
pub async fn database() -> DatabaseConnection {
    let url = match postgres() {
        Some(server) => fresh_postgres(&server).await,
        None => "sqlite::memory:".to_owned(),
    };
    open(&patient(url)).await.expect("the test database opens")
}

/// A store configuration that waits longer for a connection than a server would: a
/// test server shared by many parallel tests on a loaded machine can take seconds to
/// accept one.
fn patient(url: impl Into<String>) -> StoreConfig {
    StoreConfig { acquire_timeout: std::time::Duration::from_secs(120), ..StoreConfig::new(url) }
}

/// The URL of a fresh, empty database for a test that runs the binary: a SQLite file in
/// `dir` (an empty file, which SQLite reads as an empty database: the commands that do not
/// create a database find it), or a new PostgreSQL database.
pub async fn database_url(dir: &Path, file: &str) -> String {
    match postgres() {
        Some(server) => fresh_postgres(&server).await,
        None => {
            let path = dir.join(file);
            std::fs::File::create(&path).expect("the test database file is created");
            format!("sqlite://{}", path.display())
        }
    }
}

async fn strings(db: &DatabaseConnection, sql: String) -> Vec<String> {
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("query");
    rows.iter().map(|row| row.try_get_by_index::<String>(0).expect("text")).collect()
}

/// The tables of the database, the migrations' own included, by name.
pub async fn tables(db: &DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY 1",
    };
    strings(db, sql.to_owned()).await
}

/// The columns of a table, in order.
pub async fn columns(db: &DatabaseConnection, table: &str) -> Vec<String> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => format!(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position"
        ),
        _ => format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
    };
    strings(db, sql).await
}

/// Every row of a table as a line of text, sorted: to compare a table before and after.
pub async fn rows_as_text(db: &DatabaseConnection, table: &str) -> Vec<String> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => format!("SELECT row_to_json(t)::text FROM \"{table}\" t"),
        _ => {
            let quoted: Vec<String> = columns(db, table).await.iter().map(|c| format!("quote(\"{c}\")")).collect();
            format!("SELECT {} FROM \"{table}\"", quoted.join(" || '|' || "))
        }
    };
    let mut rows = strings(db, sql).await;
    rows.sort();
    rows
}

/// [`database_url`] for callers that are not async, or that are but must not wait: it runs
/// on a thread of its own.
pub fn database_url_blocking(dir: &Path, file: &str) -> String {
    let (dir, file) = (dir.to_owned(), file.to_owned());
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(database_url(&dir, &file))
    })
    .join()
    .expect("the test database is created")
}

/// Every row of every table but `except` (and the migrations' own), as text by table: to
/// show that nothing changed.
pub async fn snapshot(db: &DatabaseConnection, except: &[&str]) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out = std::collections::BTreeMap::new();
    for table in tables(db).await {
        if table != "seaql_migrations" && !except.contains(&table.as_str()) {
            let rows = rows_as_text(db, &table).await;
            out.insert(table, rows);
        }
    }
    out
}

/// Counts the statements `db` runs from now on: to show a query's cost does not grow with
/// its rows.
pub fn count_statements(db: &mut DatabaseConnection) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    let statements = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = statements.clone();
    db.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    statements
}
