//! Starting the real binary and talking to it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

/// The `koers` binary built for these tests.
pub fn koers() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_koers"));
    for variable in ["KOERS_DATABASE_URL", "KOERS_LISTEN", "KOERS_INTROSPECTION", "KOERS_REQUEST_TIMEOUT_SECS"] {
        command.env_remove(variable);
    }
    command.env("RUST_LOG", "info");
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

/// A `koers serve` process on a free port, stopped with SIGTERM when dropped.
pub struct App {
    child: Child,
    pub base: String,
    client: reqwest::Client,
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
        let url = format!("sqlite://{}", dir.path().join("koers.db").display());
        for file in files {
            let output = run(&["import", "--database-url", &url, file.to_str().expect("path")]);
            assert!(output.status.success(), "import {}: {}", file.display(), String::from_utf8_lossy(&output.stderr));
        }
        let mut child = koers()
            .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--database-url", &url])
            .args(args)
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn koers serve");
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
        App { child, base, client: reqwest::Client::new(), _dir: dir }
    }

    pub async fn graphql(&self, query: &str) -> Value {
        self.graphql_with(query, json!({})).await
    }

    /// Runs a query or mutation with variables and answers the whole response body.
    pub async fn graphql_with(&self, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("POST /graphql");
        assert!(response.status().is_success(), "status {}", response.status());
        response.json().await.expect("json")
    }

    /// POSTs `body` to /graphql as it is and answers the response, whatever its status.
    pub async fn post_graphql(&self, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.client
            .post(format!("{}/graphql", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .expect("POST /graphql")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.expect("GET")
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        self.child.wait().expect("wait")
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
