//! A `koers serve` child process for the benchmarks: started on a database, waited for by
//! its log, measured through `/proc`, killed when dropped.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// Ticks per second of the CPU times in `/proc/PID/stat` (USER_HZ, fixed by the kernel ABI).
const TICKS_PER_SECOND: f64 = 100.0;

#[derive(Debug)]
pub struct Server {
    child: Child,
    pub base: String,
    token: String,
    client: reqwest::Client,
    log: mpsc::UnboundedReceiver<String>,
}

impl Server {
    /// Starts `koers serve` on `url` with the clock at `clock_start` and waits until it
    /// listens.
    pub async fn start(url: &str, clock_start: &str, token: &str, log_file: &Path) -> anyhow::Result<Server> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["serve", "--listen", "127.0.0.1:0", "--database-url", url, "--clock-start", clock_start])
            .env("RUST_LOG", "info")
            .env_remove("KOERS_DATABASE_MAX_CONNECTIONS")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("cannot start koers serve")?;
        let stderr = child.stderr.take().context("stderr")?;
        let (tx, mut log) = mpsc::unbounded_channel();
        let mut file = tokio::fs::File::create(log_file).await?;
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt as _;
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = file.write_all(format!("{line}\n").as_bytes()).await;
                let _ = tx.send(line);
            }
        });
        let base = loop {
            let line = log.recv().await.context("koers serve stopped before it listened")?;
            if let Some(address) = line.split("listening on ").nth(1) {
                break address.trim().to_owned();
            }
        };
        Ok(Server { child, base, token: token.to_owned(), client: reqwest::Client::new(), log })
    }

    /// Waits for a log line containing `text`.
    pub async fn wait_for_log(&mut self, text: &str) -> anyhow::Result<()> {
        loop {
            let line = self.log.recv().await.with_context(|| format!("koers serve stopped before logging `{text}`"))?;
            if line.contains(text) {
                return Ok(());
            }
        }
    }

    fn pid(&self) -> anyhow::Result<u32> {
        self.child.id().context("koers serve has exited")
    }

    /// CPU seconds used so far, user and system.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()?))?;
        // The fields after the command name, which is in parentheses and may hold spaces.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).context("/proc stat")?;
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |n: usize| fields.get(n).and_then(|f| f.parse::<f64>().ok()).context("/proc stat field");
        // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
        Ok((ticks(11)? + ticks(12)?) / TICKS_PER_SECOND)
    }

    /// Peak resident memory so far, in MiB.
    pub fn peak_rss_mib(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?))?;
        let kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .context("VmHWM in /proc status")?;
        Ok(kib / 1024.0)
    }

    /// Runs a GraphQL request and answers its `data`; errors are failures.
    pub async fn graphql(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let mut body: Value = self
            .client
            .post(format!("{}/graphql", self.base))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(120))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        if let Some(errors) = body.get("errors") {
            bail!("GraphQL errors: {errors}");
        }
        Ok(body["data"].take())
    }

    /// Runs a GraphQL request that must be refused, and answers the code of its first error.
    pub async fn refused(&self, query: &str) -> anyhow::Result<String> {
        let body: Value = self
            .client
            .post(format!("{}/graphql", self.base))
            .bearer_auth(&self.token)
            .timeout(Duration::from_secs(120))
            .json(&json!({ "query": query }))
            .send()
            .await?
            .json()
            .await?;
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("the request was not refused: {body}"))
    }
}
