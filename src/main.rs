//! The `koers` command: serve the API, migrate the database, import files.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use koers_engine::Engine;
use koers_engine::store::{self, StoreConfig};
use koers_migrations::{Migrator, MigratorTrait};
use tracing_subscriber::EnvFilter;

mod demo;

/// koers: the quality-cycle engine for kindcentra.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct DatabaseArgs {
    /// Database URL: `sqlite://FILE` (created if missing) or `postgres://...`.
    #[arg(long, env = "KOERS_DATABASE_URL", default_value = "sqlite://koers.db")]
    database_url: String,
    /// Maximum number of database connections (SQLite defaults to one).
    #[arg(long, env = "KOERS_DATABASE_MAX_CONNECTIONS")]
    database_max_connections: Option<u32>,
}

impl DatabaseArgs {
    fn config(&self) -> StoreConfig {
        StoreConfig { url: self.database_url.clone(), max_connections: self.database_max_connections }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve GraphQL at /graphql, GraphiQL at / and a health check at /healthz.
    Serve {
        #[command(flatten)]
        database: DatabaseArgs,
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, env = "KOERS_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Load the example kindcentra (KC Balans, Heidevlinder) when the database is empty.
        #[arg(long)]
        demo: bool,
        /// A directory of workflow definitions (`*.toml`) that override or extend the
        /// built-in ones.
        #[arg(long, env = "KOERS_WORKFLOWS")]
        workflows: Option<PathBuf>,
    },
    /// Bring the database schema up to date, or roll migrations back.
    Migrate {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        direction: Option<Direction>,
    },
    /// Import organisation data and koersplannen from TOML files (see workflows/README.md).
    Import {
        #[command(flatten)]
        database: DatabaseArgs,
        /// The files, imported one by one, each all-or-nothing.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
}

#[derive(Debug, Subcommand)]
enum Direction {
    /// Apply every pending migration (the default).
    Up,
    /// Roll back the latest migrations.
    Down {
        /// How many migrations to roll back.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List the migrations and whether each is applied.
    Status,
}

fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing();
    match cli.command {
        Command::Serve { database, listen, demo, workflows } => serve(database.config(), listen, demo, workflows).await,
        Command::Migrate { database, direction } => {
            migrate(database.config(), direction.unwrap_or(Direction::Up)).await
        }
        Command::Import { database, files } => {
            let db = store::open(&database.config()).await?;
            for file in files {
                let report = koers_engine::import::import_file(&db, &file).await?;
                tracing::info!(
                    file = %file.display(),
                    created = report.created,
                    updated = report.updated,
                    removed = report.removed,
                    unchanged = report.unchanged,
                    "imported"
                );
            }
            Ok(())
        }
        Command::Schema => {
            #[allow(clippy::print_stdout)] // the schema is the command's output
            {
                print!("{}", koers_graphql::sdl());
            }
            Ok(())
        }
    }
}

async fn serve(config: StoreConfig, listen: SocketAddr, demo: bool, workflows: Option<PathBuf>) -> anyhow::Result<()> {
    // An invalid definition stops start-up before anything else happens.
    let definitions = koers_engine::workflow::load(workflows.as_deref())?;
    let db = store::open(&config).await?;
    let engine = Engine::new(db);
    engine.register_workflows(definitions).await?;
    if demo {
        demo::load(&engine).await.context("loading the demo data")?;
    }
    let server = koers_graphql::server::Server::bind(engine, listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = server.local_addr()?;
    tracing::info!("listening on http://{address}");
    server.run(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}

async fn migrate(config: StoreConfig, direction: Direction) -> anyhow::Result<()> {
    let db = store::connect(&config).await?;
    match direction {
        Direction::Up => Migrator::up(&db, None).await?,
        Direction::Down { steps } => Migrator::down(&db, Some(steps)).await?,
        Direction::Status => Migrator::status(&db).await?,
    }
    Ok(())
}
