//! Evidence end to end: the board's view of every demo bestuur over HTTP, and
//! `koers import-csv` with a good file and one with a bad row.

use serde_json::json;

use crate::helpers::{Setup, TestApp, example, run, spawn_app};

#[tokio::test]
async fn every_demo_bestuur_sees_all_its_kindcentra_in_its_voortgang() {
    let app = spawn_app(Setup::demo()).await;
    let body = app.graphql("{ besturen { id name kindcentra { name } } }").await;
    let besturen = body["data"]["besturen"].as_array().expect("besturen").clone();
    assert!(besturen.iter().any(|b| b["name"] == "Stichting Spelen = Leren"), "De Klinkert is in the demo");
    for bestuur in &besturen {
        let query = r#"query($id: ID!) { bestuur(id: $id) { voortgang(peildatum: "2023-07-31") {
            kindcentra { kindcentrum { name } koersplannen { progress signal ambities { signal } } overdueCycles { id } }
        } } }"#;
        let answer = app.graphql_with(query, serde_json::json!({ "id": bestuur["id"] })).await;
        assert!(answer.get("errors").is_none(), "{answer}");
        let seen: Vec<&serde_json::Value> = answer["data"]["bestuur"]["voortgang"]["kindcentra"]
            .as_array()
            .expect("kindcentra")
            .iter()
            .map(|kc| &kc["kindcentrum"]["name"])
            .collect();
        let expected: Vec<&serde_json::Value> =
            bestuur["kindcentra"].as_array().expect("kindcentra").iter().map(|kc| &kc["name"]).collect();
        assert_eq!(seen, expected, "{}", bestuur["name"]);
        if bestuur["name"] == "Stichting Lucas Onderwijs" {
            let plan = &answer["data"]["bestuur"]["voortgang"]["kindcentra"][0]["koersplannen"][0];
            assert_eq!(plan["ambities"].as_array().map(Vec::len), Some(5), "the five ambities of KC Balans");
            assert!(plan["signal"].is_string(), "{plan}");
        }
    }
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn import_csv_takes_a_good_file_and_names_the_bad_row_of_another() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = koers_testing::database_url_blocking(dir.path(), "k.db");
    let klinkert = example("de-klinkert.toml");
    let output = run(&["import", "--database-url", &url, klinkert.to_str().expect("path")]);
    assert!(output.status.success(), "{}", stderr(&output));

    let good = example("measurements.csv");
    let output = run(&["import-csv", "--database-url", &url, "measurements", good.to_str().expect("path")]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("created=3"), "{}", stderr(&output));

    let bad = dir.path().join("ouders.csv");
    std::fs::write(
        &bad,
        "indicator;date;value;source\nklinkert-ouders-ouderhulp;1-10-2026;45;Telling\nklinkert-ouders-themabrief;31-10-2026;tachtig;Digiduif\n",
    )
    .expect("write");
    let output = run(&["import-csv", "--database-url", &url, "measurements", bad.to_str().expect("path")]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("1 bad row(s), nothing imported"), "{message}");
    assert!(message.contains("line 3, column `value`: `tachtig` is not a number"), "{message}");
    assert!(!message.contains("panicked"), "{message}");

    let output = run(&["import-csv", "--database-url", &url, "uren", bad.to_str().expect("path")]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("measurements, scans or coaching"), "{}", stderr(&output));
}

/// A file of `rows` measurements of one indicator, a day each from 1 January 2000 on; the
/// last row unreadable when `bad_last` is set.
fn measurements_csv(indicator: &str, rows: usize, bad_last: bool) -> String {
    let start = chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("date");
    let mut csv = String::from("indicator,date,value,source\n");
    for day in 0..rows {
        let date = start + chrono::Days::new(day as u64);
        let value = if bad_last && day + 1 == rows { "veel".to_owned() } else { (day % 100).to_string() };
        csv.push_str(&format!("{indicator},{date},{value},Telling\n"));
    }
    csv
}

/// Clients of a running server keep writing while `koers import-csv` puts a file of
/// 100,000 rows into the same SQLite database (and while another of that size is
/// refused): each of their writes goes through, none is told "database is locked".
#[tokio::test]
async fn clients_keep_writing_while_a_large_file_is_imported_beside_the_server() {
    let app = spawn_app(Setup::demo()).await;
    let team = app.graphql("{ kindcentra { teams { id } } }").await["data"]["kindcentra"][0]["teams"][0]["id"].clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, measurements_csv("klinkert-ouders-ouderhulp", 100_000, true)).expect("write");
    let good = dir.path().join("good.csv");
    std::fs::write(&good, measurements_csv("klinkert-ouders-ouderhulp", 100_000, false)).expect("write");

    for (file, accepted) in [(&bad, false), (&good, true)] {
        let mut import = tokio::process::Command::from(crate::helpers::koers())
            .args(["import-csv", "--database-url", &app.url, "measurements", file.to_str().expect("path")])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn koers import-csv");
        let mut answers = Vec::new();
        let status = loop {
            // Four clients at once, as long as the import runs.
            let writes = (0..4).map(|i| {
                app.graphql_with(
                    "mutation($team: ID!, $title: String!) { startCycle(input: { workflow: \"pdca\", title: $title, teamId: $team }) { id } }",
                    json!({ "team": team, "title": format!("Naast de import {i}") }),
                )
            });
            answers.extend(futures::future::join_all(writes).await);
            if let Some(status) = import.try_wait().expect("import") {
                break status;
            }
        };
        let mut log = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut import.stderr.take().expect("stderr"), &mut log)
            .await
            .expect("log");
        assert_eq!(status.success(), accepted, "{log}");
        if accepted {
            assert!(log.contains("created=100000"), "{log}");
        } else {
            assert!(log.contains("line 100001, column `value`: `veel` is not a number"), "{log}");
        }
        assert!(answers.len() >= 8, "the clients wrote while the import ran: {}", answers.len());
        for answer in &answers {
            assert!(answer.get("errors").is_none(), "a write beside the import failed: {answer}");
        }
    }
}

/// The scans of groep `bso-borkel-1` of Heidevlinder: (quarter, title of its cycle).
async fn borkel_scans(app: &TestApp) -> Vec<(serde_json::Value, serde_json::Value)> {
    let body =
        app.graphql("{ kindcentra { key locaties { groepen { key scans { year quarter cycle { title } } } } } }").await;
    body["data"]["kindcentra"]
        .as_array()
        .expect("kindcentra")
        .iter()
        .filter(|kc| kc["key"] == "heidevlinder")
        .flat_map(|kc| kc["locaties"].as_array().expect("locaties").clone())
        .flat_map(|l| l["groepen"].as_array().expect("groepen").clone())
        .filter(|g| g["key"] == "bso-borkel-1")
        .flat_map(|g| g["scans"].as_array().expect("scans").clone())
        .map(|s| (json!([s["year"], s["quarter"]]), s["cycle"]["title"].clone()))
        .collect()
}

/// The README's scan example, as written: on a fresh database after `koers import` of
/// Heidevlinder, and on the demo's database beside its server; the scan of March 2026 is in
/// a cycle of its own quarter.
#[tokio::test]
async fn the_scans_example_imports_on_a_fresh_and_on_the_demo_database() {
    let scans = example("scans.csv");
    let scans = scans.to_str().expect("path");
    let dir = tempfile::tempdir().expect("tempdir");
    let url = koers_testing::database_url_blocking(dir.path(), "k.db");
    let heidevlinder = example("heidevlinder.toml");
    let output = run(&["import", "--database-url", &url, heidevlinder.to_str().expect("path")]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = run(&["import-csv", "--database-url", &url, "scans", scans]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("created=1"), "{}", stderr(&output));

    let app = spawn_app(Setup::demo()).await;
    let before = borkel_scans(&app).await;
    let output = run(&["import-csv", "--database-url", &app.url, "scans", scans]);
    assert!(output.status.success(), "{}", stderr(&output));
    let after = borkel_scans(&app).await;
    let new: Vec<_> = after.iter().filter(|s| !before.contains(s)).collect();
    assert_eq!(new.len(), 1, "{after:?}");
    assert_eq!(new[0].0, json!([2026, 1]));
    let title = new[0].1.as_str().expect("the scan is in a cycle");
    assert!(title.ends_with("2026 K1"), "the scan of March 2026 is in a cycle of its own quarter: {title}");
}

/// The demo, started in any year, shows a koersplan with a mix of signals (its evidence is
/// dated within the plan), scans and coaching hours of the months before, and a calendar
/// that plans the E&P-dagen of the school year the clock is in.
#[tokio::test]
async fn the_demo_shows_a_real_picture_in_any_year() {
    for (start, school_year, today) in
        [(crate::helpers::CLOCK_START, 2026, "2026-12-01"), ("2031-03-03T09:00:00+01:00", 2030, "2031-03-03")]
    {
        let app = spawn_app(Setup { clock_start: start, ..Setup::demo() }).await;
        let query = r#"query($today: NaiveDate) { kindcentra { key
            koersplannen { voortgang(peildatum: $today) { signal ambities { doelen { signal met } } } }
            locaties { groepen { key scans { year quarter } } } }
            schedules { key rule } }"#;
        let body = app.graphql_with(query, json!({ "today": today })).await;
        assert!(body.get("errors").is_none(), "{body}");
        let kindcentra = body["data"]["kindcentra"].as_array().expect("kindcentra");
        let balans = kindcentra.iter().find(|k| k["key"] == "kc-balans").expect("KC Balans");
        let doelen: Vec<&serde_json::Value> = balans["koersplannen"][0]["voortgang"]["ambities"]
            .as_array()
            .expect("ambities")
            .iter()
            .flat_map(|a| a["doelen"].as_array().expect("doelen"))
            .collect();
        let signals: std::collections::BTreeSet<&str> = doelen.iter().filter_map(|d| d["signal"].as_str()).collect();
        assert!(signals.len() >= 2 && signals.contains("AFGEROND"), "{start}: a mix of signals: {signals:?}");
        assert!(doelen.iter().any(|d| d["met"].as_i64() > Some(0)), "{start}");

        let heidevlinder = kindcentra.iter().find(|k| k["key"] == "heidevlinder").expect("Heidevlinder");
        let scans = heidevlinder["locaties"][0]["groepen"][0]["scans"].as_array().expect("scans");
        assert!(scans.len() >= 2, "{start}: scans of the quarters before: {scans:?}");

        let ep_dagen = body["data"]["schedules"]
            .as_array()
            .expect("schedules")
            .iter()
            .find(|s| s["key"] == "ep-dag")
            .map(|s| s["rule"]["at"].clone())
            .expect("ep-dag");
        let first = ep_dagen[0].as_str().expect("date");
        assert!(first.starts_with(&format!("{school_year}-09-")), "{start}: {ep_dagen}");
    }
}
