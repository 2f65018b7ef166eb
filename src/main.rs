//! The `koers` command: serve the API, migrate the database, import files, export and
//! restore a kindcentrum.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, FixedOffset, NaiveDate};
use clap::{Parser, Subcommand};
use koers::args::DatabaseArgs;
use koers::bench;
use koers::startup::{Application, ClockSetting, ServeConfig, open_engine};
use koers_engine::Engine;
use koers_engine::access::token::AccessScope;
use koers_engine::calendar::dates::Moment;
use koers_engine::calendar::template::TemplateOptions;
use koers_engine::domain::AccessRole;
use koers_engine::domain::ScheduleScope;
use koers_engine::io::csv::CsvKind;
use koers_engine::io::export::Export;
use koers_engine::store::{self, StoreConfig};
use koers_graphql::ApiConfig;
use koers_migrations::{Migrator, MigratorTrait};
use tracing_subscriber::EnvFilter;

/// The scheduler and the board queries allocate many small values per row they read or
/// write; at national scale glibc's allocator took about a fifth of the scheduler's
/// profile.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// koers: the quality-cycle engine for kindcentra.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Run the clock from this moment on (RFC 3339) instead of now, in every command: to
    /// rehearse a calendar, with schedules applied and served as if it were then. Never in
    /// production.
    #[arg(long, global = true, env = "KOERS_CLOCK_START")]
    clock_start: Option<DateTime<FixedOffset>>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Args)]
struct ApiArgs {
    /// Refuse introspection (`__schema`, `__type`); GraphiQL then offers no completion.
    /// The environment takes `KOERS_INTROSPECTION=false`.
    #[arg(long = "no-introspection", env = "KOERS_INTROSPECTION", action = clap::ArgAction::SetFalse)]
    introspection: bool,
    /// How long a request to /graphql may take, in seconds, reading its body included,
    /// before it is cancelled and answers TIMEOUT.
    #[arg(
        long,
        env = "KOERS_REQUEST_TIMEOUT_SECS",
        default_value_t = ApiConfig::DEFAULT_REQUEST_TIMEOUT.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..),
    )]
    request_timeout_secs: u64,
}

impl ApiArgs {
    fn config(&self) -> ApiConfig {
        ApiConfig {
            introspection: self.introspection,
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            ..ApiConfig::default()
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve GraphQL at /graphql, GraphiQL at / and a health check at /healthz.
    Serve {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        api: ApiArgs,
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
        /// Days after a scan that the scores of its children are kept; then they are folded
        /// into the scan's distribution and deleted (a daily job). 0 keeps them forever.
        #[arg(long, env = "KOERS_CHILD_SCORE_RETENTION_DAYS", default_value_t = 730)]
        child_score_retention_days: u32,
    },
    /// The quality calendar: preview, apply templates, list schedules.
    Schedule {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        command: ScheduleCommand,
    },
    /// Import the school holidays the Rijksoverheid publishes as open data (JSON, one
    /// school year per file).
    ImportHolidays {
        #[command(flatten)]
        database: DatabaseArgs,
        file: PathBuf,
    },
    /// Copy a SQLite database to a new FILE, safely while `koers serve` runs on it. Restore
    /// by serving the copy (`--database-url sqlite://FILE`). PostgreSQL: use pg_dump.
    Backup {
        #[command(flatten)]
        database: DatabaseArgs,
        file: PathBuf,
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
    /// Import measurements, scan scores or coaching hours from a CSV file, all or nothing
    /// (columns: workflows/README.md).
    ImportCsv {
        #[command(flatten)]
        database: DatabaseArgs,
        /// What the file holds: measurements, scans or coaching.
        kind: CsvKind,
        file: PathBuf,
    },
    /// Write every row of one kindcentrum as JSON, to restore with `koers import-export`.
    /// API tokens are never exported.
    Export {
        #[command(flatten)]
        database: DatabaseArgs,
        /// The kindcentrum: its id or its key (`heidevlinder`).
        #[arg(long)]
        kindcentrum: String,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Restore a file of `koers export` into an empty database (no kindcentra, no
    /// besturen), all or nothing, with the ids it had.
    ImportExport {
        #[command(flatten)]
        database: DatabaseArgs,
        file: PathBuf,
    },
    /// API tokens: create one (printed once, alone on standard output), list, revoke.
    Token {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// The benchmark suite: generate a national dataset, measure (see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print it; only its hash is kept, so store it now.
    Create {
        /// admin, bestuur, directeur, coach, team-member or reader.
        #[arg(long)]
        role: AccessRole,
        /// all, bestuur:ID, kindcentrum:ID, locatie:ID, team:ID or professional:ID; a key
        /// for the id (`kindcentrum:heidevlinder`, `locatie:heidevlinder/heidevlinder`).
        #[arg(long)]
        scope: String,
        /// The last day the token is valid.
        #[arg(long, value_parser = date_arg)]
        expires: Option<NaiveDate>,
        /// A label to recognise the token by.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List the tokens (never the tokens themselves).
    List,
    /// Revoke a token by its id; it is refused from then on.
    Revoke { id: i64 },
}

/// A day on the command line, read as the API reads one (`2026-12-01`); another form is
/// answered with the form that is read.
fn date_arg(text: &str) -> Result<NaiveDate, String> {
    koers_engine::calendar::dates::date(text)
}

#[derive(Debug, Subcommand)]
enum ScheduleCommand {
    /// List what would fire between two dates (Dutch calendar days, both included),
    /// without firing anything.
    Preview {
        #[arg(long, value_parser = date_arg)]
        from: NaiveDate,
        #[arg(long, value_parser = date_arg)]
        to: NaiveDate,
        /// Only the schedules covering this scope, such as `kindcentrum:1` or `bestuur:2`;
        /// a key for the id (`kindcentrum:heidevlinder`).
        #[arg(long)]
        scope: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Give a scope the schedule of a template (see workflows/templates.toml).
    ApplyTemplate {
        #[arg(long)]
        template: String,
        /// `kindcentrum:1`, `locatie:3`, `groep:4`, `team:5` or `bestuur:2`; a key for the id
        /// (`kindcentrum:heidevlinder`, `groep:heidevlinder/heidevlinder/bso-borkel-1`).
        #[arg(long)]
        scope: String,
        /// The dates of a template whose dates the team chooses, comma-separated local
        /// date-times such as `2026-09-21T08:30`.
        #[arg(long, value_delimiter = ',')]
        dates: Vec<String>,
        /// First day the schedule is active.
        #[arg(long, value_parser = date_arg)]
        from: Option<NaiveDate>,
        /// Last day the schedule is active.
        #[arg(long, value_parser = date_arg)]
        until: Option<NaiveDate>,
    },
    /// List the schedules.
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Json,
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
    let clock = cli.clock_start;
    match cli.command {
        Command::Serve { database, api, listen, demo, workflows, child_score_retention_days } => {
            let config = ServeConfig {
                store: if demo { database.creating() } else { database.config() },
                api: api.config(),
                listen,
                demo,
                workflows,
                clock: ClockSetting::from_start(clock),
                child_score_retention_days,
            };
            serve(config).await
        }
        Command::Schedule { database, command } => schedule(open(&database.config(), clock).await?, command).await,
        Command::ImportHolidays { database, file } => {
            let json = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let engine = open(&database.config(), clock).await?;
            let count = engine.import_holidays(&json).await.with_context(|| format!("{}", file.display()))?;
            tracing::info!(file = %file.display(), holidays = count, "school holidays imported");
            Ok(())
        }
        Command::Backup { database, file } => {
            let db = store::connect(&database.config()).await?;
            store::backup(&db, &file).await.with_context(|| format!("backup to {}", file.display()))?;
            tracing::info!(file = %file.display(), "backup written");
            Ok(())
        }
        Command::Migrate { database, direction } => {
            migrate(database.creating(), direction.unwrap_or(Direction::Up)).await
        }
        Command::Import { database, files } => {
            let db = store::open(&database.config()).await?;
            for file in files {
                let report = koers_engine::io::import::import_file(&db, &file).await?;
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
        Command::ImportCsv { database, kind, file } => {
            let source = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let engine = open(&database.config(), clock).await?;
            // A scan fills its groep's cycle, which may need starting on its workflow.
            engine.register_workflows(koers_engine::workflow::load(None)?).await?;
            let name = file.display().to_string();
            let report = engine.import_csv("cli", kind, &name, &source).await?;
            tracing::info!(file = %name, rows = report.rows, created = report.created, "imported");
            Ok(())
        }
        Command::Export { database, kindcentrum, output } => {
            let engine = open(&database.config(), clock).await?;
            let kindcentrum = engine.resolve("kindcentrum", &kindcentrum).await?;
            let export = engine.export_kindcentrum(kindcentrum).await?;
            let written = match &output {
                Some(path) => std::fs::File::create(path)
                    .and_then(|file| write_export(&export, std::io::BufWriter::new(file)))
                    .with_context(|| format!("cannot write {}", path.display())),
                None => write_export(&export, std::io::stdout().lock()).context("cannot write the export"),
            };
            written?;
            let rows: usize = export.tables().map(|(_, rows)| rows.len()).sum();
            tracing::info!(kindcentrum, rows, "exported");
            Ok(())
        }
        Command::ImportExport { database, file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let export = Export::parse(&text).with_context(|| format!("{}", file.display()))?;
            let engine = open(&database.config(), clock).await?;
            let report = engine.restore_export(&export).await.with_context(|| format!("{}", file.display()))?;
            tracing::info!(
                file = %file.display(),
                kindcentrum = export.kindcentrum(),
                written = report.written,
                kept = report.kept,
                "restored"
            );
            Ok(())
        }
        Command::Token { database, command } => token(open(&database.config(), clock).await?, command).await,
        Command::Bench { command } => bench::run(command).await,
        Command::Schema => {
            #[allow(clippy::print_stdout)] // the schema is the command's output
            {
                print!("{}", koers_graphql::sdl());
            }
            Ok(())
        }
    }
}

/// The engine on the database of `config` (opened and migrated), its clock running from
/// `clock_start` if one is given (`--clock-start`), else from now.
async fn open(config: &StoreConfig, clock_start: Option<DateTime<FixedOffset>>) -> anyhow::Result<Engine> {
    open_engine(config, &ClockSetting::from_start(clock_start)).await
}

fn write_export(export: &Export, mut out: impl std::io::Write) -> std::io::Result<()> {
    export.write(&mut out)?;
    out.flush()
}

async fn token(engine: Engine, command: TokenCommand) -> anyhow::Result<()> {
    let output = match command {
        TokenCommand::Create { role, scope, expires, name } => {
            let scope: AccessScope = engine.resolve_scope(&scope).await?.parse().map_err(anyhow::Error::msg)?;
            let new = engine.create_token(&name, role, scope, expires).await?;
            tracing::info!(id = new.row.id, %role, %scope, "token created");
            new.token
        }
        TokenCommand::List => {
            let today = engine.clock().today();
            let mut lines = vec!["id\tname\trole\tscope\tcreated\texpires\tstatus".to_owned()];
            for t in engine.tokens().await? {
                let scope = t.scope_id.map_or_else(|| t.scope_kind.clone(), |id| format!("{}:{id}", t.scope_kind));
                let status = match (t.revoked_at, t.expires_on) {
                    (Some(_), _) => "revoked",
                    (None, Some(day)) if day < today => "expired",
                    _ => "valid",
                };
                let expires = t.expires_on.map_or_else(|| "-".to_owned(), |d| d.to_string());
                lines.push(format!(
                    "{}\t{}\t{}\t{scope}\t{}\t{expires}\t{status}",
                    t.id,
                    t.name,
                    t.role,
                    t.created_at.date_naive()
                ));
            }
            lines.join("\n")
        }
        TokenCommand::Revoke { id } => {
            let row = engine.revoke_token(id).await?;
            tracing::info!(id = row.id, name = %row.name, "token revoked");
            return Ok(());
        }
    };
    #[allow(clippy::print_stdout)] // the token or the list is the command's output
    {
        println!("{output}");
    }
    Ok(())
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    koers_engine::arm_failpoints();
    let application = Application::build(config).await?;
    #[allow(clippy::print_stdout)] // the tokens are for the person who started the demo
    for demo in application.demo_tokens() {
        println!(
            "demo token {} (id {}, name \"{}\", scope {}): {}",
            demo.role, demo.token.row.id, demo.token.row.name, demo.scope, demo.token.token
        );
    }
    // Listened for before the application says it listens: a signal sent as soon as that
    // shows stops it gracefully instead of killing it.
    let shutdown = shutdown_signal()?;
    application.run_until_stopped(shutdown).await
}

async fn schedule(engine: Engine, command: ScheduleCommand) -> anyhow::Result<()> {
    engine.register_workflows(koers_engine::workflow::load(None)?).await?;
    match command {
        ScheduleCommand::Preview { from, to, scope, format } => {
            let scope = match scope {
                Some(scope) => Some(engine.resolve_scope(&scope).await?.parse::<ScheduleScope>()?),
                None => None,
            };
            let (start, end) = (Moment::Day(from).first(), Moment::Day(to).last());
            let planned = engine.preview(start, end, scope).await?;
            let output = match format {
                Format::Json => serde_json::to_string_pretty(&planned)?,
                Format::Text => planned
                    .iter()
                    .map(|p| {
                        let at = p.due_at.with_timezone(&chrono_tz::Europe::Amsterdam).format("%Y-%m-%d %H:%M %Z");
                        let note = p.note.as_deref().map(|n| format!("  ({n})")).unwrap_or_default();
                        let skipped = if p.skipped { "  SKIPPED" } else { "" };
                        format!(
                            "{at}  {:<20} {:<16} {}  -> {}{skipped}{note}",
                            p.schedule,
                            p.scope,
                            p.action,
                            p.target.join(", ")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n"),
            };
            #[allow(clippy::print_stdout)] // the preview is the command's output
            {
                println!("{output}");
            }
        }
        ScheduleCommand::ApplyTemplate { template, scope, dates, from, until } => {
            let scope: ScheduleScope = engine.resolve_scope(&scope).await?.parse()?;
            let dates = dates
                .iter()
                .map(|d| koers_engine::calendar::dates::date_time(d).map_err(anyhow::Error::msg))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let options = TemplateOptions { dates, active_from: from, active_until: until };
            let schedule = engine.apply_template(&template, scope, options).await?;
            tracing::info!(schedule = schedule.row.id, template = %template, scope = %scope, "template applied");
        }
        ScheduleCommand::List => {
            let lines: Vec<String> = engine
                .schedules(None)
                .await?
                .iter()
                .map(|s| {
                    let paused = if s.row.paused { " (paused)" } else { "" };
                    format!("{}\t{}\t{}\t{}{paused}", s.row.id, s.spec.scope, s.spec.key, s.spec.name)
                })
                .collect();
            #[allow(clippy::print_stdout)] // the list is the command's output
            {
                println!("{}", lines.join("\n"));
            }
        }
    }
    Ok(())
}

/// Listens for Ctrl-C and SIGTERM from the moment it is called, and completes on either.
/// It is called before the server says it listens: a signal sent as soon as that shows then
/// stops the server gracefully instead of killing it.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for Ctrl-C")?;
        async move {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        }
    };
    #[cfg(not(unix))]
    let signals = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    Ok(async move {
        signals.await;
        tracing::info!("shutting down");
    })
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
