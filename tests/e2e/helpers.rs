//! Starting the application, in this process ([`spawn_app`]) or as the real binary
//! ([`App`]), and talking to it.

use std::io::{BufRead, BufReader};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, LazyLock, mpsc};
use std::time::Duration;

use chrono::{DateTime, Utc};
use koers::startup::{Application, ClockSetting, ServeConfig};
use koers_engine::access::token::AccessScope;
use koers_engine::clock::ManualClock;
use koers_engine::domain::AccessRole;
use koers_engine::store::StoreConfig;
use koers_graphql::ApiConfig;
use serde_json::{Value, json};

/// The moment every run of the binary starts its clock from, whatever the day the suite
/// runs: the demo's calendar, what its scheduler has fired and what a schedule applied from
/// the command line plans are then the same on every day. A test that needs another moment
/// passes `--clock-start` or its own `KOERS_CLOCK_START`.
pub const CLOCK_START: &str = "2026-12-01T09:00:00+01:00";

/// The `koers` binary built for these tests.
pub fn koers() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_koers"));
    for variable in ["KOERS_DATABASE_URL", "KOERS_LISTEN", "KOERS_INTROSPECTION", "KOERS_REQUEST_TIMEOUT_SECS"] {
        command.env_remove(variable);
    }
    command.env("RUST_LOG", "info").env("KOERS_CLOCK_START", CLOCK_START);
    command
}

/// Runs `koers ARGS` to completion.
pub fn run(args: &[&str]) -> Output {
    koers().args(args).output().expect("run koers")
}

pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows/examples").join(name)
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/fixtures").join(name)
}

/// Runs `koers token create ARGS` on the database and answers the token it prints.
pub fn create_token(url: &str, args: &[&str]) -> String {
    let output = koers().args(["token", "create", "--database-url", url]).args(args).output().expect("run koers");
    assert!(output.status.success(), "token create: {}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).expect("utf-8").trim().to_owned();
    assert!(token.starts_with("koers_") && !token.contains('\n'), "the token alone: {token:?}");
    token
}

/// A client of a running application: GraphQL with the admin token, and plain requests.
#[derive(Debug)]
pub struct Api {
    pub base: String,
    /// An admin token, sent with every request of `graphql` and `graphql_with`.
    pub token: String,
    client: reqwest::Client,
}

/// What [`spawn_app`] starts the application with.
#[derive(Debug)]
pub struct Setup {
    /// Imported into the fresh database first; with none, the demo data is loaded.
    pub files: Vec<PathBuf>,
    /// The moment the application's manual clock stands at.
    pub clock_start: &'static str,
}

impl Default for Setup {
    fn default() -> Setup {
        Setup { files: Vec::new(), clock_start: CLOCK_START }
    }
}

impl Setup {
    /// The demo, on the suite's clock.
    pub fn demo() -> Setup {
        Setup::default()
    }

    /// `files` imported into a fresh database, on the suite's clock.
    pub fn importing(files: &[PathBuf]) -> Setup {
        Setup { files: files.to_vec(), ..Setup::default() }
    }
}

/// The application of `koers serve --demo`, in this process: on a fresh database, a free
/// port and a manual clock standing at the setup's moment. It runs on a runtime of its own,
/// so that a test waiting for a command line it runs (a blocking wait) does not hold up the
/// server; it stops, gracefully, when dropped.
#[derive(Debug)]
pub struct TestApp {
    api: Api,
    /// The database it runs on, for the command lines a test runs beside it.
    pub url: String,
    /// The clock it runs on: a test moves it to make time pass.
    #[allow(dead_code)] // not every test moves time
    pub clock: ManualClock,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    running: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// Logs of the applications in this process go to the test's output when `TEST_LOG` is
/// set, and nowhere otherwise.
static TRACING: LazyLock<()> = LazyLock::new(|| {
    if std::env::var_os("TEST_LOG").is_some() {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    }
});

/// Starts the application in this process as [`TestApp`] says, and answers once it
/// listens, with an admin token for its requests.
pub async fn spawn_app(setup: Setup) -> TestApp {
    LazyLock::force(&TRACING);
    let dir = tempfile::tempdir().expect("tempdir");
    let url = koers_testing::database_url(dir.path(), "koers.db").await;
    let start: DateTime<Utc> = DateTime::parse_from_rfc3339(setup.clock_start).expect("a clock start").into();
    let clock = ManualClock::new(start);
    let config = ServeConfig {
        // A test server shared by many parallel tests on a loaded machine can take seconds
        // to hand out a connection.
        store: StoreConfig { acquire_timeout: Duration::from_secs(120), ..StoreConfig::new(url.clone()) },
        api: ApiConfig::default(),
        listen: "127.0.0.1:0".parse().expect("address"),
        demo: true,
        workflows: None,
        clock: ClockSetting::Given(Arc::new(clock.clone())),
        child_score_retention_days: 730,
    };
    let (started, listening) = tokio::sync::oneshot::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the application");
        runtime.block_on(async move {
            let db = koers_engine::store::open(&config.store).await.expect("the test database opens");
            for file in &setup.files {
                koers_engine::io::import::import_file(&db, file)
                    .await
                    .unwrap_or_else(|err| panic!("import {}: {err}", file.display()));
            }
            drop(db);
            let application = Application::build(config).await.expect("the application builds");
            let admin = application
                .engine()
                .create_token("test admin", AccessRole::Admin, AccessScope::All, None)
                .await
                .expect("an admin token");
            let _ = started.send((application.address(), admin.token));
            application
                .run_until_stopped(async move {
                    let _ = stopped.await;
                })
                .await
                .expect("the application stops cleanly");
        });
    });
    let (address, token) = listening.await.expect("the application did not start");
    TestApp {
        api: Api { base: format!("http://{address}"), token, client: reqwest::Client::new() },
        url,
        clock,
        stop: Some(stop),
        running: Some(running),
        _dir: dir,
    }
}

impl Deref for TestApp {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // A test that failed has seen what went wrong; an application that then failed to
        // stop would only repeat it.
        if let Some(running) = self.running.take()
            && running.join().is_err()
            && !std::thread::panicking()
        {
            panic!("the application failed");
        }
    }
}

/// A `koers serve` process on a free port, stopped with SIGTERM when dropped.
pub struct App {
    child: Child,
    api: Api,
    /// The database the server runs on.
    pub url: String,
    /// The lines `koers serve` prints on standard output (the demo tokens), as they come.
    stdout: std::sync::Mutex<mpsc::Receiver<String>>,
    _dir: tempfile::TempDir,
}

impl App {
    /// Starts `koers serve --demo` on a fresh SQLite file and waits until it listens.
    pub fn spawn_demo() -> App {
        App::spawn(&[])
    }

    /// Imports `files` into a fresh SQLite file (the demo data when there are none), then
    /// starts `koers serve` on it and waits until it listens.
    pub fn spawn(files: &[PathBuf]) -> App {
        App::spawn_with(files, &[], &[])
    }

    /// Like [`App::spawn`], with more flags and environment for `koers serve`.
    pub fn spawn_with(files: &[PathBuf], args: &[&str], envs: &[(&str, &str)]) -> App {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = koers_testing::database_url_blocking(dir.path(), "koers.db");
        for file in files {
            let output = run(&["import", "--database-url", &url, file.to_str().expect("path")]);
            assert!(output.status.success(), "import {}: {}", file.display(), String::from_utf8_lossy(&output.stderr));
        }
        App::serve(dir, url, args, envs)
    }

    /// Starts `koers serve` on the database at `url`, beside any others serving it.
    pub fn spawn_on(url: &str, args: &[&str]) -> App {
        App::serve(tempfile::tempdir().expect("tempdir"), url.to_owned(), args, &[])
    }

    fn serve(dir: tempfile::TempDir, url: String, args: &[&str], envs: &[(&str, &str)]) -> App {
        let token = create_token(&url, &["--role", "admin", "--scope", "all"]);
        let mut child = koers()
            .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--database-url", &url])
            .args(args)
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn koers serve");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        // Reads the log until the address shows, then keeps draining it.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(address) = line.split("listening on ").nth(1) {
                    let _ = tx.send(address.trim().to_owned());
                }
                if std::env::var_os("TEST_LOG").is_some() {
                    eprintln!("{line}");
                }
            }
        });
        let base = rx.recv_timeout(Duration::from_secs(60)).expect("koers serve did not start listening");
        let (lines, stdout_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let stdout = std::sync::Mutex::new(stdout_rx);
        App { child, api: Api { base, token, client: reqwest::Client::new() }, url, stdout, _dir: dir }
    }

    /// The next line `koers serve` printed on standard output.
    pub fn stdout_line(&self) -> String {
        let lines = self.stdout.lock().expect("stdout");
        lines.recv_timeout(Duration::from_secs(60)).expect("a line on standard output")
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        self.child.wait().expect("wait")
    }
}

impl Deref for App {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Api {
    pub async fn graphql(&self, query: &str) -> Value {
        self.graphql_with(query, json!({})).await
    }

    /// Runs a query or mutation with variables and answers the whole response body.
    pub async fn graphql_with(&self, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/graphql", self.base))
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("POST /graphql");
        assert!(response.status().is_success(), "status {}", response.status());
        response.json().await.expect("json")
    }

    /// POSTs a query with the given `Authorization` header (or none) and answers the
    /// status and body.
    pub async fn post_as(&self, authorization: Option<&str>, query: &str) -> (reqwest::StatusCode, Value) {
        let mut request = self.client.post(format!("{}/graphql", self.base)).json(&json!({ "query": query }));
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        let response = request.send().await.expect("POST /graphql");
        let status = response.status();
        (status, response.json().await.expect("json"))
    }

    /// POSTs `body` to /graphql as it is (with the admin token) and answers the response, whatever its status.
    pub async fn post_graphql(&self, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.client
            .post(format!("{}/graphql", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .bearer_auth(&self.token)
            .body(body)
            .send()
            .await
            .expect("POST /graphql")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.expect("GET")
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
