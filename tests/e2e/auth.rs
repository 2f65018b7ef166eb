//! Tokens: no token means no data (the health check and GraphiQL stay open); a revoked or
//! expired token is refused with a clear error; `serve --demo` prints a token per role;
//! `koers token` creates, lists and revokes.

use crate::helpers::{App, Setup, create_token, example, run, spawn_app};

const QUERY: &str = "{ kindcentra { name } }";

fn unauthenticated(status: reqwest::StatusCode, body: &serde_json::Value, reason: &str) {
    assert_eq!(status, reqwest::StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");
    let message = body["errors"][0]["message"].as_str().expect("message");
    assert!(message.contains(reason), "{message}");
    assert!(body.get("data").is_none(), "no data: {body}");
}

#[tokio::test]
async fn no_token_no_data_and_bad_tokens_are_refused_clearly() {
    // The server's clock stands in 2030, so a token valid through 2029 has expired there.
    let app =
        spawn_app(Setup { files: vec![example("heidevlinder.toml")], clock_start: "2030-01-02T12:00:00+01:00" }).await;

    let (status, body) = app.post_as(None, QUERY).await;
    unauthenticated(status, &body, "no token");
    let (status, body) = app.post_as(Some("Basic dXNlcjpwYXNz"), QUERY).await;
    unauthenticated(status, &body, "Bearer");
    let (status, body) = app.post_as(Some("Bearer koers_00"), QUERY).await;
    unauthenticated(status, &body, "unknown token");

    let expiring = create_token(&app.url, &["--role", "reader", "--scope", "all", "--expires", "2029-12-31"]);
    let (status, body) = app.post_as(Some(&format!("Bearer {expiring}")), QUERY).await;
    unauthenticated(status, &body, "expired on 2029-12-31");

    let reader = create_token(&app.url, &["--role", "reader", "--scope", "all", "--name", "analist"]);
    let (status, body) = app.post_as(Some(&format!("Bearer {reader}")), QUERY).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    assert_eq!(body["data"]["kindcentra"][0]["name"], "Kindcentrum Heidevlinder");

    let list = run(&["token", "list", "--database-url", &app.url]);
    assert!(list.status.success());
    let list = String::from_utf8(list.stdout).expect("utf-8");
    let line = list.lines().find(|l| l.contains("analist")).expect("the reader token is listed");
    assert!(line.ends_with("valid") && !list.contains(&reader), "{list}");
    let id = line.split('\t').next().expect("id");
    let revoke = run(&["token", "revoke", "--database-url", &app.url, id]);
    assert!(revoke.status.success(), "{}", String::from_utf8_lossy(&revoke.stderr));
    let (status, body) = app.post_as(Some(&format!("Bearer {reader}")), QUERY).await;
    unauthenticated(status, &body, "revoked");

    // Open without a token: the health check and the GraphiQL page.
    assert_eq!(app.get("/healthz").await.status(), reqwest::StatusCode::OK);
    let page = app.get("/").await;
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    assert!(page.text().await.expect("page").contains("graphiql"));
}

#[test]
fn token_create_refuses_what_cannot_be() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = koers_testing::database_url_blocking(dir.path(), "k.db");
    for (args, expected) in [
        (["--role", "admin", "--scope", "bestuur:1"], "cannot have scope bestuur:1"),
        (["--role", "bestuur", "--scope", "bestuur:99"], "bestuur 99 not found"),
        (["--role", "root", "--scope", "all"], "not a role"),
        (["--role", "reader", "--scope", "school:1"], "not a scope"),
    ] {
        let output = run(&[&["token", "create", "--database-url", &url][..], &args[..]].concat());
        assert!(!output.status.success(), "{args:?}");
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(message.contains(expected), "{args:?}: {message}");
        assert!(output.stdout.is_empty(), "nothing on standard output");
    }

    // Every command reads the chosen clock: a day past at the suite's clock is still to
    // come a month before it.
    let month_before = ["--clock-start", "2026-11-01T09:00:00+01:00"];
    let token = |command: &[&str], clock: &[&str]| {
        run(&[&["token"][..], command, &["--database-url", &url][..], clock].concat())
    };
    let create = ["create", "--role", "reader", "--scope", "all", "--expires", "2026-11-30"];
    let past = token(&create, &[]);
    assert!(String::from_utf8_lossy(&past.stderr).contains("expire on 2026-11-30, which has passed"), "{past:?}");
    let ahead = token(&create, &month_before);
    assert!(ahead.status.success(), "{}", String::from_utf8_lossy(&ahead.stderr));
    let list = String::from_utf8_lossy(&token(&["list"], &month_before).stdout).into_owned();
    assert!(list.lines().any(|l| l.ends_with("\t2026-11-01\t2026-11-30\tvalid")), "{list}");
}

#[tokio::test]
async fn the_demo_prints_a_working_token_for_every_role_each_seeing_its_scope() {
    let app = App::spawn_demo();
    let mut seen = Vec::new();
    for _ in 0..6 {
        let line = app.stdout_line();
        let (label, token) = line.rsplit_once(": ").expect("demo token line");
        let role = label.trim_start_matches("demo token ").split(' ').next().expect("role").to_owned();
        let (status, body) = app.post_as(Some(&format!("Bearer {token}")), "{ kindcentra { key } }").await;
        assert_eq!(status, reqwest::StatusCode::OK, "{role}: {body}");
        let keys: Vec<String> = body["data"]["kindcentra"]
            .as_array()
            .unwrap_or_else(|| panic!("{role}: {body}"))
            .iter()
            .map(|k| k["key"].as_str().expect("key").to_owned())
            .collect();
        seen.push((role, keys.join(" ")));
    }
    let expected = [
        ("admin", "kc-balans de-klinkert heidevlinder"),
        ("bestuur", "kc-balans"),
        ("directeur", "kc-balans"),
        ("coach", "heidevlinder"),
        ("team-member", "heidevlinder"),
        ("reader", "de-klinkert"),
    ];
    assert_eq!(seen, expected.map(|(role, keys)| (role.to_owned(), keys.to_owned())));
}
