//! The examples of README.md and workflows/README.md, run exactly as they are written, so
//! that a renamed field or a command that no longer works fails the suite.
//!
//! Both files are read when the tests run and their fenced code blocks taken out:
//!
//! - Every ```` ```graphql ```` block is posted to a `koers serve --demo` with an admin token,
//!   the header the README tells to add in GraphiQL; the answer must hold no `errors`, and
//!   `data` with none of the asked root fields null.
//! - Every line of a ```` ```sh ```` block (lines ending in `\` joined to the next, `#`
//!   comments left out) is a command. `koers ARGS` and `cargo run --release -- ARGS` run as
//!   the binary built for these tests with `ARGS`, with the suite's fixed clock (so that an
//!   `--expires` date of the README stays in the future). All of them run in README order in
//!   one working directory, so that a command sees what the ones before it wrote. That
//!   directory is what the README assumes of the directory its commands are typed in: a
//!   checkout, so it holds a copy of `workflows/` (`workflows/examples/measurements.csv`),
//!   and at first no `koers.db`. The first block's `serve --demo` creates `koers.db` there
//!   with the demo data: "the demo database" the later blocks run on. A `koers serve` runs
//!   until it listens (on a free port: `KOERS_LISTEN`, or its `--listen`, is replaced by
//!   `127.0.0.1:0`) and `GET /healthz` answers 200 with the body the README shows, and is
//!   then stopped with SIGTERM; it must exit 0. Every command must
//!   exit 0. A line that is not a `koers` command runs only when it is listed, with the
//!   reason, in [`SH_NOT_RUN`].
//!
//! Blocks of other languages are not run; [`NOT_RUN_LANGUAGES`] lists the languages and why,
//! and a block of a language not listed fails, so that a new kind of example is decided on.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{App, koers};

/// The files whose examples run, relative to the root of the repository.
const READMES: [&str; 2] = ["README.md", "workflows/README.md"];

/// The languages of the blocks that are not run, and why.
const NOT_RUN_LANGUAGES: [(&str, &str); 2] = [
    ("", "plain text: the error messages of a rejected import and the layout of the repository"),
    (
        "toml",
        "parts of import files, workflow definitions and schedules, shown a section or a field at a \
         time; the complete files in workflows/ are loaded by the other tests",
    ),
];

/// The lines of ```sh blocks that are not run (as written, comments left out), and why.
/// Every entry must match a line of a README.
const SH_NOT_RUN: [(&str, &str); 2] = [
    ("cargo test", "runs the whole test suite, this test among it"),
    (
        "KOERS_DATABASE_URL=postgres://koers:secret@db.example/koers KOERS_LISTEN=0.0.0.0:8080 koers serve",
        "needs the PostgreSQL server of the example; serving on PostgreSQL is what tests/e2e/replicas.rs \
         does when KOERS_TEST_DATABASE_URL names a server",
    ),
];

/// The ```graphql blocks that are not run, each named by a text only it contains, and why.
/// Every entry must match exactly one block.
const GRAPHQL_NOT_RUN: [(&str, &str); 0] = [];

/// A fenced code block.
#[derive(Debug)]
struct Block {
    /// The README it is in, relative to the root of the repository.
    file: &'static str,
    /// The line of its opening fence, from 1.
    line: usize,
    language: String,
    /// Its lines, each with its line number in the file.
    lines: Vec<(usize, String)>,
}

impl Block {
    fn text(&self) -> String {
        self.lines.iter().map(|(_, line)| format!("{line}\n")).collect()
    }
}

/// The fenced code blocks of a README, read from the repository now.
fn blocks(file: &'static str) -> Vec<Block> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let fence = line.trim_start().strip_prefix("```");
        match (&mut open, fence) {
            (None, Some(language)) => {
                open = Some(Block { file, line: number, language: language.trim().to_owned(), lines: Vec::new() });
            }
            (Some(_), Some(rest)) if rest.trim().is_empty() => blocks.extend(open.take()),
            (Some(block), _) => block.lines.push((number, line.to_owned())),
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "{file}: the block opened on line {} is not closed", open.map_or(0, |b| b.line));
    blocks
}

fn all_blocks() -> Vec<Block> {
    READMES.into_iter().flat_map(blocks).collect()
}

/// The words of a command line as a POSIX shell splits them: quotes and backslashes are
/// honoured and a word starting with `#` starts a comment. Redirections, pipes, variables
/// and the like are refused: the test does not run a shell.
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '#' if word.is_none() => break,
            '\\' => {
                let escaped = chars.next().ok_or("a `\\` at the end of the command")?;
                word.get_or_insert_with(String::new).push(escaped);
            }
            '\'' => {
                let word = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("a `'` that is not closed".to_owned()),
                    }
                }
            }
            '"' => {
                let word = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("a `\"` that is not closed".to_owned()),
                        },
                        Some(c @ ('$' | '`')) => return Err(format!("`{c}` inside double quotes")),
                        Some(c) => word.push(c),
                        None => return Err("a `\"` that is not closed".to_owned()),
                    }
                }
            }
            '~' if word.is_none() => return Err("the shell syntax `~`".to_owned()),
            '|' | '&' | ';' | '<' | '>' | '(' | ')' | '$' | '`' | '*' | '?' | '[' | '{' | '}' => {
                return Err(format!("the shell syntax `{c}`"));
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// A command of a ```sh block.
#[derive(Debug)]
struct ShLine {
    file: &'static str,
    /// Its first line, from 1.
    line: usize,
    /// As written, its continuation lines joined to it.
    written: String,
    /// Its words, or why it cannot be split into words.
    words: Result<Vec<String>, String>,
}

impl ShLine {
    /// The words as written, comments left out: the key of [`SH_NOT_RUN`].
    fn key(&self) -> String {
        self.words.as_ref().map_or_else(|_| self.written.clone(), |words| words.join(" "))
    }

    fn place(&self) -> String {
        format!("{}:{}: `{}`", self.file, self.line, self.written)
    }
}

fn sh_lines(block: &Block) -> Vec<ShLine> {
    let mut lines = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (number, line) in &block.lines {
        let (first, mut written) = pending.take().unwrap_or((*number, String::new()));
        match line.trim_end().strip_suffix('\\') {
            Some(start) => {
                written.push_str(start);
                written.push(' ');
                pending = Some((first, written));
            }
            None => {
                written.push_str(line);
                let words = words(&written);
                let written = written.split_whitespace().collect::<Vec<_>>().join(" ");
                lines.push(ShLine { file: block.file, line: first, written, words });
            }
        }
    }
    assert!(pending.is_none(), "{}:{}: the block ends in a `\\`", block.file, block.line);
    lines
}

/// The arguments a command gives the binary: those after `koers` or `cargo run --release --`.
fn koers_args(words: &[String]) -> Option<&[String]> {
    const CARGO_RUN: [&str; 4] = ["cargo", "run", "--release", "--"];
    match words {
        [first, args @ ..] if first == "koers" => Some(args),
        _ if words.get(..CARGO_RUN.len()).is_some_and(|start| start == CARGO_RUN) => words.get(CARGO_RUN.len()..),
        _ => None,
    }
}

/// What `/healthz` of a `koers serve` on SQLite answers, as the README shows it: the
/// fields it names must hold these values (others may come along).
const HEALTHY: &str = r#"{"status":"ok","database":"sqlite"}"#;

fn healthy(body: &str) -> bool {
    let (Ok(Value::Object(body)), Ok(Value::Object(healthy))) =
        (serde_json::from_str::<Value>(body), serde_json::from_str::<Value>(HEALTHY))
    else {
        return false;
    };
    healthy.iter().all(|(key, value)| body.get(key) == Some(value))
}

/// `GET /healthz` on `address` (`127.0.0.1:PORT`): its status line and body.
fn healthz(address: &str) -> std::io::Result<(String, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(stream, "GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    Ok((head.lines().next().unwrap_or_default().to_owned(), body.to_owned()))
}

/// Runs `koers serve ARGS` in `dir` until it listens and `/healthz` answers as the README
/// says, then stops it with SIGTERM; answers an error when it does not get there or does
/// not stop cleanly.
fn serve_until_listening(dir: &Path, args: &[String]) -> Result<(), String> {
    let mut args = args.to_vec();
    if let Some(at) = args.iter().position(|a| a == "--listen")
        && let Some(address) = args.get_mut(at + 1)
    {
        "127.0.0.1:0".clone_into(address);
    }
    let mut child = koers()
        .args(&args)
        .env("KOERS_LISTEN", "127.0.0.1:0")
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    let log = std::thread::spawn(move || {
        let mut log = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(address) = line.split("listening on http://").nth(1) {
                let _ = tx.send(address.trim().to_owned());
            }
            log.push_str(&line);
            log.push('\n');
        }
        log
    });
    let Ok(address) = rx.recv_timeout(Duration::from_secs(60)) else {
        let _ = child.kill();
        let status = child.wait().expect("wait");
        return Err(format!("it did not listen ({status}):\n{}", log.join().unwrap_or_default()));
    };
    // Stopped only once it answers: a signal in the moment between the log line and the
    // server taking its signals would end it as a signal does any process.
    let health = healthz(&address);
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    let status = child.wait().expect("wait");
    let log = log.join().unwrap_or_default();
    match health {
        Ok((line, body)) if line.starts_with("HTTP/1.1 200") && healthy(&body) => {}
        health => {
            return Err(format!("GET /healthz answered {health:?}, where the README shows 200 and {HEALTHY}:\n{log}"));
        }
    }
    if status.success() { Ok(()) } else { Err(format!("stopped with SIGTERM, it exited with {status}:\n{log}")) }
}

/// Copies the directory `from` to `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

#[test]
fn every_block_is_of_a_language_that_runs_or_is_listed() {
    let mut unknown = Vec::new();
    for block in all_blocks() {
        let runs = ["graphql", "sh"].contains(&block.language.as_str());
        if !runs && !NOT_RUN_LANGUAGES.iter().any(|(language, _)| *language == block.language) {
            unknown.push(format!("{}:{}: ```{}", block.file, block.line, block.language));
        }
    }
    assert!(
        unknown.is_empty(),
        "blocks of a language that is neither run (graphql, sh) nor listed in NOT_RUN_LANGUAGES:\n{}",
        unknown.join("\n")
    );
}

#[test]
fn the_command_lines_split_as_a_shell_splits_them() {
    assert_eq!(
        words(r#"koers token create --name 'de analist' --scope "kindcentrum:3" a\ b   # a comment"#),
        Ok(["koers", "token", "create", "--name", "de analist", "--scope", "kindcentrum:3", "a b"]
            .map(String::from)
            .to_vec())
    );
    assert_eq!(
        words("koers export --kindcentrum 2#x"),
        Ok(["koers", "export", "--kindcentrum", "2#x"].map(String::from).to_vec())
    );
    assert_eq!(words("   # only a comment"), Ok(Vec::new()));
    assert!(words("koers export --kindcentrum 2 > x.json").is_err());
    assert!(words("koers backup \"$HOME/x.db\"").is_err());
    assert!(words("koers import 'x.toml").is_err());

    let block = Block {
        file: "README.md",
        line: 1,
        language: "sh".to_owned(),
        lines: vec![(2, "koers a \\".to_owned()), (3, "    --b c   # d".to_owned()), (4, "koers e".to_owned())],
    };
    let lines = sh_lines(&block);
    assert_eq!(
        lines.iter().map(|l| (l.line, l.key())).collect::<Vec<_>>(),
        [(2, "koers a --b c".to_owned()), (4, "koers e".to_owned())]
    );
}

/// What running the commands of some ```sh blocks came to.
#[derive(Debug, Default)]
struct ShRun {
    /// A message per command that failed or could not run, naming its file, line and text.
    failures: Vec<String>,
    /// Per entry of [`SH_NOT_RUN`], how many lines it matched.
    skipped: [usize; SH_NOT_RUN.len()],
    /// The commands run.
    ran: usize,
}

/// Runs the commands of `blocks` in order, in `dir`.
fn run_sh(dir: &Path, blocks: &[Block]) -> ShRun {
    let mut run = ShRun::default();
    for block in blocks.iter().filter(|b| b.language == "sh") {
        for line in sh_lines(block) {
            let key = line.key();
            if let Some(listed) = SH_NOT_RUN.iter().position(|(written, _)| *written == key) {
                run.skipped[listed] += 1;
                continue;
            }
            let words = match &line.words {
                Ok(words) if words.is_empty() => continue,
                Ok(words) => words,
                Err(why) => {
                    run.failures.push(format!("{}: uses {why}, which this test does not run", line.place()));
                    continue;
                }
            };
            let Some(args) = koers_args(words) else {
                run.failures.push(format!(
                    "{}: is neither `koers …` nor `cargo run --release -- …`; make it one, or list it in SH_NOT_RUN \
                     with the reason",
                    line.place()
                ));
                continue;
            };
            run.ran += 1;
            eprintln!("{}", line.place());
            if args.first().is_some_and(|a| a == "serve") {
                if let Err(why) = serve_until_listening(dir, args) {
                    run.failures.push(format!("{}: {why}", line.place()));
                }
                continue;
            }
            let output = koers().args(args).current_dir(dir).output().expect("run koers");
            if !output.status.success() {
                run.failures.push(format!(
                    "{}: exited with {}:\n{}{}",
                    line.place(),
                    output.status,
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
        }
    }
    run
}

#[test]
fn the_sh_examples_run_as_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows"), &dir.path().join("workflows"));

    let run = run_sh(dir.path(), &all_blocks());
    for ((written, _), count) in SH_NOT_RUN.iter().zip(run.skipped) {
        assert!(count > 0, "SH_NOT_RUN lists `{written}`, which no ```sh block of {READMES:?} holds any more");
    }
    assert!(run.ran > 0, "no command of a ```sh block ran");
    assert!(run.failures.is_empty(), "README examples that fail:\n\n{}", run.failures.join("\n\n"));
}

#[test]
fn a_failing_command_is_named_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let block = |line: usize, text: &str| Block {
        file: "example.md",
        line,
        language: "sh".to_owned(),
        lines: text.lines().enumerate().map(|(i, l)| (line + 1 + i, l.to_owned())).collect(),
    };
    let blocks = [
        block(10, "koers token list   # there is no koers.db here\nkoers migrate\nkoers token list"),
        block(20, "cargo run --release -- export \\\n    --kindcentrum 1"),
        block(30, "ls workflows\nkoers export --kindcentrum 1 > x.json\ncargo test"),
    ];
    let run = run_sh(dir.path(), &blocks);
    assert_eq!(run.ran, 4);
    assert_eq!(run.skipped, [1, 0]);
    let expected = [
        "example.md:11: `koers token list # there is no koers.db here`: exited with",
        "example.md:21: `cargo run --release -- export --kindcentrum 1`: exited with",
        "example.md:31: `ls workflows`: is neither",
        "example.md:32: `koers export --kindcentrum 1 > x.json`: uses the shell syntax `>`",
    ];
    assert_eq!(run.failures.len(), expected.len(), "{:#?}", run.failures);
    for (failure, expected) in run.failures.iter().zip(expected) {
        assert!(failure.starts_with(expected), "{failure}");
    }
    assert!(run.failures[0].contains("koers.db"), "the command's own message: {}", run.failures[0]);
}

/// Posts the ```graphql blocks of `blocks` to `app`; answers a message per block that did
/// not answer cleanly, naming its file and line.
async fn run_graphql(app: &App, blocks: &[Block]) -> Vec<String> {
    let mut failures = Vec::new();
    for block in blocks.iter().filter(|b| b.language == "graphql") {
        let query = block.text();
        let place = format!("{}:{}", block.file, block.line);
        if GRAPHQL_NOT_RUN.iter().any(|(marker, _)| query.contains(marker)) {
            continue;
        }
        let first_word = query.split(|c: char| !c.is_alphanumeric()).find(|w| !w.is_empty()).unwrap_or_default();
        if first_word == "subscription" {
            failures.push(format!(
                "{place}: a subscription, which needs the WebSocket; run it there or list it in GRAPHQL_NOT_RUN"
            ));
            continue;
        }
        eprintln!("{place}: ```graphql");
        let response = app.post_graphql(json!({ "query": query }).to_string()).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or_else(|e| json!({ "not JSON": e.to_string() }));
        let data = body.get("data").and_then(Value::as_object);
        let null_fields: Vec<&String> =
            data.map(|data| data.iter().filter(|(_, v)| v.is_null()).map(|(k, _)| k).collect()).unwrap_or_default();
        if !status.is_success() || body.get("errors").is_some() || data.is_none() || !null_fields.is_empty() {
            let nulls =
                if null_fields.is_empty() { String::new() } else { format!(", null root fields {null_fields:?}") };
            failures.push(format!("{place}: the block of this fence answers HTTP {status}{nulls}:\n{body:#}"));
        }
    }
    failures
}

#[tokio::test]
async fn the_graphql_examples_answer_without_errors() {
    let blocks = all_blocks();
    for (marker, _) in GRAPHQL_NOT_RUN {
        let matching = blocks.iter().filter(|b| b.language == "graphql" && b.text().contains(marker)).count();
        assert_eq!(matching, 1, "GRAPHQL_NOT_RUN names `{marker}`, which should be in exactly one ```graphql block");
    }
    assert!(blocks.iter().any(|b| b.language == "graphql"), "no ```graphql block in {READMES:?}");

    let app = App::spawn_demo();
    let failures = run_graphql(&app, &blocks).await;
    assert!(failures.is_empty(), "README examples that fail:\n\n{}", failures.join("\n\n"));

    // A renamed field, a missing root object and a subscription are each reported.
    let block = |line: usize, text: &str| Block {
        file: "example.md",
        line,
        language: "graphql".to_owned(),
        lines: vec![(line + 1, text.to_owned())],
    };
    let broken = [
        block(10, "{ kindcentra { naam } }"),
        block(20, r#"{ bestuur(id: "999999") { name } }"#),
        block(30, "subscription { cycleEvents { cycleId } }"),
    ];
    let failures = run_graphql(&app, &broken).await;
    assert_eq!(failures.len(), 3, "{failures:#?}");
    assert!(failures[0].starts_with("example.md:10: ") && failures[0].contains("naam"), "{}", failures[0]);
    assert!(failures[1].starts_with("example.md:20: ") && failures[1].contains("NOT_FOUND"), "{}", failures[1]);
    assert!(failures[2].starts_with("example.md:30: a subscription"), "{}", failures[2]);
}
