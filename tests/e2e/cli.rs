//! The other commands: migrate, import, export and restore, backup, and clear failures.

use crate::helpers::{App, example, run};

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn serve_on_a_path_that_cannot_be_created_fails_at_once() {
    let output =
        run(&["serve", "--database-url", "sqlite:///nonexistent-koers-dir/sub/x.db", "--listen", "127.0.0.1:0"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("cannot open database sqlite:///nonexistent-koers-dir/sub/x.db"), "{message}");
    assert!(message.contains("directory /nonexistent-koers-dir/sub does not exist"), "{message}");
    assert!(!message.contains("panicked"), "{message}");
}

#[test]
fn serve_refuses_a_request_timeout_of_zero() {
    let output = run(&["serve", "--listen", "127.0.0.1:0", "--request-timeout-secs", "0"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("--request-timeout-secs"), "{message}");
    assert!(message.contains("0 is not in 1.."), "{message}");
}

#[test]
fn import_migrate_and_a_rejected_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = koers_testing::database_url_blocking(dir.path(), "k.db");

    let output = run(&["migrate", "--database-url", &url]);
    assert!(output.status.success(), "{}", stderr(&output));

    let balans = example("kc-balans.toml");
    let output = run(&["import", "--database-url", &url, balans.to_str().expect("path")]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!stderr(&output).contains("created=0 "), "{}", stderr(&output));

    let output = run(&["import", "--database-url", &url, balans.to_str().expect("path")]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("created=0 updated=0 removed=0"), "{}", stderr(&output));

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[bestuur]]\nkey = \"x\"\nname = \"X\"\nkind = \"school\"\n").expect("write");
    let output = run(&["import", "--database-url", &url, bad.to_str().expect("path")]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("bad.toml:4:"), "{message}");
    assert!(message.contains("unknown variant `school`"), "{message}");

    let output = run(&["migrate", "--database-url", &url, "down"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = run(&["migrate", "--database-url", &url, "status"]);
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn an_invalid_workflow_definition_stops_start_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let workflows = dir.path().join("workflows");
    std::fs::create_dir(&workflows).expect("mkdir");
    let pdca = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows/pdca.toml"))
        .expect("pdca");
    std::fs::write(workflows.join("eigen.toml"), pdca.replace("to = \"check\"", "to = \"controle\"")).expect("write");
    let url = koers_testing::database_url_blocking(dir.path(), "k.db");
    let output = run(&[
        "serve",
        "--database-url",
        &url,
        "--listen",
        "127.0.0.1:0",
        "--workflows",
        workflows.to_str().expect("path"),
    ]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("eigen.toml"), "{message}");
    assert!(message.contains("unknown phase `controle`"), "{message}");
    assert!(!message.contains("panicked"), "{message}");
    let size = std::fs::metadata(dir.path().join("k.db")).map(|m| m.len()).unwrap_or_default();
    assert_eq!(size, 0, "nothing was started: the database was not even migrated");
}

#[test]
fn export_and_restore_a_kindcentrum() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = koers_testing::database_url_blocking(dir.path(), "source.db");
    let target = koers_testing::database_url_blocking(dir.path(), "target.db");
    for file in ["kc-balans.toml", "heidevlinder.toml"] {
        let output = run(&["import", "--database-url", &source, example(file).to_str().expect("path")]);
        assert!(output.status.success(), "{}", stderr(&output));
    }

    // Heidevlinder, imported second, is kindcentrum 2.
    let exported = run(&["export", "--kindcentrum", "2", "--database-url", &source]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let document: serde_json::Value = serde_json::from_slice(&exported.stdout).expect("JSON on standard output");
    assert_eq!(
        (&document["format"], &document["version"]),
        (&serde_json::json!("koers-export"), &serde_json::json!(1))
    );
    assert_eq!(document["tables"]["kindcentrum"][0]["key"], "heidevlinder");
    assert!(document["tables"].get("api_token").is_none());

    let file = dir.path().join("heidevlinder.json");
    let path = file.to_str().expect("path");
    let output = run(&["export", "--kindcentrum", "2", "--database-url", &source, "--output", path]);
    assert!(output.status.success() && output.stdout.is_empty(), "{}", stderr(&output));
    assert_eq!(std::fs::read(&file).expect("file"), exported.stdout);

    let output = run(&["import-export", "--database-url", &target, path]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("restored"), "{}", stderr(&output));
    let again = run(&["export", "--kindcentrum", "2", "--database-url", &target]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(String::from_utf8_lossy(&again.stdout), String::from_utf8_lossy(&exported.stdout));

    let output = run(&["import-export", "--database-url", &target, path]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("the database is not empty"), "{}", stderr(&output));

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"format\": \"koers-export\", \"version\": 7}").expect("write");
    let empty = koers_testing::database_url_blocking(dir.path(), "empty.db");
    let output = run(&["import-export", "--database-url", &empty, bad.to_str().expect("path")]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("bad.json") && message.contains("export version 7 is not supported"), "{message}");

    let output = run(&["export", "--kindcentrum", "99", "--database-url", &source]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("kindcentrum 99 not found"), "{}", stderr(&output));
}

/// A backup taken while `koers serve` runs, restored, serves the same answers: on SQLite
/// with `koers backup`, on PostgreSQL with pg_dump and pg_restore (as the README says).
#[tokio::test]
async fn a_backup_taken_while_serving_serves_the_same_answers() {
    let app = App::spawn(&[]);
    let team = app.graphql("{ kindcentra { teams { id } } }").await["data"]["kindcentra"][0]["teams"][0]["id"].clone();
    let started = app
        .graphql_with(
            "mutation($team: ID!) { startCycle(input: { workflow: \"pdca\", title: \"Samen lezen\", teamId: $team }) { id } }",
            serde_json::json!({ "team": team }),
        )
        .await;
    assert!(started.get("errors").is_none(), "{started}");

    let dir = tempfile::tempdir().expect("tempdir");
    let restored = if koers_testing::postgres().is_some() {
        let dump = dir.path().join("koers.dump");
        let target = koers_testing::database_url(dir.path(), "unused.db").await;
        for (program, args) in [
            ("pg_dump", vec!["--format=custom", "--file", dump.to_str().expect("path"), "--dbname", &app.url]),
            ("pg_restore", vec!["--no-owner", "--dbname", &target, dump.to_str().expect("path")]),
        ] {
            let output = std::process::Command::new(program).args(&args).output().expect(program);
            assert!(output.status.success(), "{program}: {}", String::from_utf8_lossy(&output.stderr));
        }
        target
    } else {
        let file = dir.path().join("backup.db");
        let file = file.to_str().expect("path");
        let output = run(&["backup", "--database-url", &app.url, file]);
        assert!(output.status.success(), "backup: {}", String::from_utf8_lossy(&output.stderr));
        let again = run(&["backup", "--database-url", &app.url, file]);
        assert!(!again.status.success(), "a backup never overwrites");
        assert!(
            String::from_utf8_lossy(&again.stderr).contains("exists"),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
        format!("sqlite://{file}")
    };

    let copy = App::spawn_on(&restored, &[]);
    let query = "{ kindcentra { name koersplannen { title voortgang(peildatum: \"2026-06-01\") { signal } } } \
        cycles { totalCount nodes { title version events { kind actor } } } schedules { key } }";
    let (original, restored) = (app.graphql(query).await, copy.graphql(query).await);
    assert!(original.get("errors").is_none(), "{original}");
    assert_eq!(original, restored);
}

/// Run from a directory without a database, a command names the file it looked for and
/// creates nothing; `koers migrate` creates it, and then the command works. A backup into a
/// folder that is not there names the folder.
#[test]
fn a_command_never_creates_a_database_behind_the_users_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let in_dir =
        |args: &[&str]| crate::helpers::koers().args(args).current_dir(dir.path()).output().expect("run koers");
    let csv = example("measurements.csv");
    let csv = csv.to_str().expect("path");
    for command in [&["token", "list"][..], &["schedule", "list"], &["import-csv", "measurements", csv]] {
        let output = in_dir(command);
        assert!(!output.status.success(), "{command:?}");
        let message = stderr(&output);
        let expected = format!("there is no database at {}", dir.path().join("koers.db").display());
        assert!(message.contains(&expected) && message.contains("koers migrate"), "{command:?}: {message}");
    }
    assert!(!dir.path().join("koers.db").exists(), "nothing was created");

    let output = in_dir(&["migrate"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = in_dir(&["token", "list"]);
    assert!(output.status.success(), "{}", stderr(&output));

    let output = in_dir(&["backup", "/nonexistent-koers-backups/x.db"]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("directory /nonexistent-koers-backups does not exist"), "{message}");
    assert_eq!(message.matches("does not exist").count(), 1, "said once: {message}");
}

/// The demo's tokens are printed with their ids and names, as `koers token list` shows them;
/// a second start revokes the first start's tokens and says so.
#[tokio::test]
async fn demo_tokens_carry_their_ids_and_a_restart_revokes_them() {
    let first = App::spawn_demo();
    let line = first.stdout_line();
    let id = line.split("(id ").nth(1).and_then(|rest| rest.split(',').next()).expect("an id").to_owned();
    assert!(line.starts_with(&format!("demo token admin (id {id}, name \"demo admin\", scope all): koers_")), "{line}");
    let list = run(&["token", "list", "--database-url", &first.url]);
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(listed.lines().any(|l| l.starts_with(&format!("{id}\tdemo admin\t")) && l.ends_with("valid")), "{listed}");

    let second = App::spawn_on(&first.url, &[]);
    second.stdout_line();
    let list = run(&["token", "list", "--database-url", &first.url]);
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(
        listed.lines().any(|l| l.starts_with(&format!("{id}\tdemo admin\t")) && l.ends_with("revoked")),
        "{listed}"
    );
}

/// The command line takes keys where it takes ids, and a date in another form is answered
/// with the form that is read.
#[test]
fn keys_for_ids_and_dates_in_another_form_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = koers_testing::database_url_blocking(dir.path(), "k.db");
    let heidevlinder = example("heidevlinder.toml");
    let output = run(&["import", "--database-url", &url, heidevlinder.to_str().expect("path")]);
    assert!(output.status.success(), "{}", stderr(&output));

    let by_key = run(&["export", "--kindcentrum", "heidevlinder", "--database-url", &url]);
    assert!(by_key.status.success(), "{}", stderr(&by_key));
    let document: serde_json::Value = serde_json::from_slice(&by_key.stdout).expect("json");
    assert_eq!(document["tables"]["kindcentrum"][0]["key"], "heidevlinder");

    let token = run(&[
        "token",
        "create",
        "--database-url",
        &url,
        "--role",
        "coach",
        "--scope",
        "locatie:heidevlinder/heidevlinder",
    ]);
    assert!(token.status.success(), "{}", stderr(&token));
    let output = run(&[
        "schedule",
        "apply-template",
        "--database-url",
        &url,
        "--template",
        "welbevinden-scan",
        "--scope",
        "kindcentrum:heidevlinder",
        "--from",
        "2027-01-01",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = run(&["schedule", "preview", "--database-url", &url, "--from", "2027-01-01", "--to", "2027-03-31"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("2027-01-04"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );

    let output = run(&["schedule", "preview", "--database-url", &url, "--from", "4-1-2027", "--to", "2027-03-31"]);
    assert!(
        stderr(&output).contains("`4-1-2027` is not a date: write year-month-day, as in 2027-01-04"),
        "{}",
        stderr(&output)
    );
    let output = run(&["export", "--kindcentrum", "heidevlindr", "--database-url", &url]);
    assert!(stderr(&output).contains("kindcentrum heidevlindr not found"), "{}", stderr(&output));
}
