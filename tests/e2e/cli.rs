//! The other commands: migrate, import, and clear failures.

use crate::helpers::{example, run};

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
    let url = format!("sqlite://{}", dir.path().join("k.db").display());

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
    let url = format!("sqlite://{}", dir.path().join("k.db").display());
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
    assert!(!dir.path().join("k.db").exists(), "nothing was started");
}
