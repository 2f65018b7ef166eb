//! `koers serve` as a value: [`Application::build`] opens the store, registers the
//! workflows, loads the demo when asked and binds the listener (port 0 picks a free port,
//! which [`Application::port`] then tells); [`Application::run_until_stopped`] runs the API,
//! the scheduler and the retention job side by side until the caller's shutdown completes
//! or one of them ends, and reports how each one ended.
//!
//! `main` builds it from the flags; the end-to-end tests build it in their own process, on
//! port 0 and a manual clock.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, FixedOffset, Utc};
use koers_engine::Engine;
use koers_engine::access::token::{AccessScope, NewToken};
use koers_engine::clock::{Clock, OffsetClock};
use koers_engine::domain::AccessRole;
use koers_engine::store::{self, StoreConfig};
use koers_graphql::ApiConfig;
use koers_graphql::server::Server;

use crate::demo;

/// The clock the engine runs on.
#[derive(Clone, Debug, Default)]
pub enum ClockSetting {
    /// The system clock.
    #[default]
    System,
    /// The system clock shifted to read this moment at start-up, then running in real
    /// time (`--clock-start`): to rehearse a calendar, never in production.
    StartingAt(DateTime<FixedOffset>),
    /// A clock of the caller's, such as a test's manual clock.
    Given(Arc<dyn Clock>),
}

impl ClockSetting {
    /// The clock of `--clock-start`: from that moment if one is given, else the system's.
    pub fn from_start(start: Option<DateTime<FixedOffset>>) -> ClockSetting {
        start.map_or(ClockSetting::System, ClockSetting::StartingAt)
    }
}

/// The engine on the database of `config` (opened and migrated), on the clock `clock`.
pub async fn open_engine(config: &StoreConfig, clock: &ClockSetting) -> anyhow::Result<Engine> {
    let db = store::open(config).await?;
    Ok(match clock {
        ClockSetting::System => Engine::new(db),
        ClockSetting::StartingAt(start) => {
            tracing::warn!(%start, "the clock runs from a chosen start, not from now");
            Engine::with_clock(db, Arc::new(OffsetClock::starting_at(start.with_timezone(&Utc))))
        }
        ClockSetting::Given(clock) => Engine::with_clock(db, clock.clone()),
    })
}

/// Everything `koers serve` is started with.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The database; with `demo`, one that may be created.
    pub store: StoreConfig,
    pub api: ApiConfig,
    /// The address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Load the example kindcentra when the database is empty, and create a token per role.
    pub demo: bool,
    /// A directory of workflow definitions that override or extend the built-in ones.
    pub workflows: Option<PathBuf>,
    pub clock: ClockSetting,
    /// Days a scan's child scores are kept before they are folded away; 0 keeps them.
    pub child_score_retention_days: u32,
}

/// A token `--demo` created for one role, for the person who started the demo.
#[derive(Debug)]
pub struct DemoToken {
    pub role: AccessRole,
    pub scope: AccessScope,
    pub token: NewToken,
}

/// The application, bound to its listener and not yet serving.
#[derive(Debug)]
pub struct Application {
    engine: Engine,
    server: Server,
    address: SocketAddr,
    demo_tokens: Vec<DemoToken>,
    child_score_retention_days: u32,
}

impl Application {
    /// Opens the store, registers the workflows, loads the demo if asked and binds the
    /// listener. An invalid workflow definition stops it before anything else happens.
    pub async fn build(config: ServeConfig) -> anyhow::Result<Application> {
        let definitions = koers_engine::workflow::load(config.workflows.as_deref())?;
        let mut engine = open_engine(&config.store, &config.clock).await?;
        if let Some(reads) = store::read_pool(&config.store).await? {
            engine = engine.reading_from(reads);
        }
        engine.register_workflows(definitions).await?;
        let mut demo_tokens = Vec::new();
        if config.demo {
            demo::load(&engine).await.context("loading the demo data")?;
            let tokens = demo::tokens(&engine).await.context("creating the demo tokens")?;
            demo_tokens = tokens.into_iter().map(|(role, scope, token)| DemoToken { role, scope, token }).collect();
        }
        let server = Server::bind(engine.clone(), config.listen, config.api)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let address = server.local_addr()?;
        Ok(Application {
            engine,
            server,
            address,
            demo_tokens,
            child_score_retention_days: config.child_score_retention_days,
        })
    }

    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The port it listens on: the one picked when port 0 was asked for.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// The engine it serves.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The tokens the demo created, one per role (none without `demo`).
    pub fn demo_tokens(&self) -> &[DemoToken] {
        &self.demo_tokens
    }

    /// Serves the API and runs the scheduler and the retention job beside it, until
    /// `shutdown` completes or the API or the scheduler ends on its own; then stops all of
    /// them, lets the requests in flight finish, and logs how each one ended. An error means
    /// the API or a task failed.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Application { engine, server, address, child_score_retention_days, .. } = self;
        tracing::info!("listening on http://{address}");

        let (stop, stopped) = tokio::sync::watch::channel(false);
        let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let mut scheduler = tokio::spawn({
            let engine = engine.clone();
            let stopped = until_stopped(stopped.clone());
            async move { engine.run_scheduler(stopped).await }
        });
        let retention = (child_score_retention_days > 0).then(|| {
            let engine = engine.clone();
            let stopped = until_stopped(stopped.clone());
            tokio::spawn(async move { engine.run_retention(child_score_retention_days, stopped).await })
        });
        let mut api = tokio::spawn(server.run(until_stopped(stopped)));

        // Whichever ends first, the others are stopped: a server whose scheduler died
        // would otherwise go on answering with a calendar that no longer fires.
        let (mut api_ended, mut scheduler_ended) = (None, None);
        tokio::select! {
            () = shutdown => {}
            ended = &mut api => {
                tracing::error!("the api stopped on its own");
                api_ended = Some(ended);
            }
            ended = &mut scheduler => {
                tracing::error!("the scheduler stopped on its own");
                scheduler_ended = Some(ended);
            }
        }
        let _ = stop.send(true);
        let api_ended = match api_ended {
            Some(ended) => ended,
            None => api.await,
        };
        let scheduler_ended = match scheduler_ended {
            Some(ended) => ended,
            None => scheduler.await,
        };
        let mut failed = false;
        match api_ended {
            Ok(Ok(())) => tracing::info!("api stopped"),
            Ok(Err(err)) => {
                tracing::error!(error = %err, "api failed");
                failed = true;
            }
            Err(err) => {
                tracing::error!(error = %err, "api task failed");
                failed = true;
            }
        }
        if let Err(err) = scheduler_ended {
            tracing::error!(error = %err, "scheduler task failed");
            failed = true;
        }
        if let Some(retention) = retention
            && let Err(err) = retention.await
        {
            tracing::error!(error = %err, "retention task failed");
            failed = true;
        }
        tracing::info!("stopped");
        anyhow::ensure!(!failed, "the api or a background task failed");
        Ok(())
    }
}
