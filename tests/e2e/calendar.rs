//! The quality calendar over HTTP: the demo's schedules, the calendar of a bestuur, and
//! bad schedules refused with the parser's message.

use serde_json::json;

use crate::helpers::{Setup, spawn_app};

#[tokio::test]
async fn the_demo_calendar_and_schedule_mutations() {
    let app = spawn_app(Setup::demo()).await;
    let body = app
        .graphql("{ schedules { id key template scope { kind id } paused rule policy } besturen { id name } }")
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let schedule = |key: &str| {
        body["data"]["schedules"]
            .as_array()
            .expect("schedules")
            .iter()
            .find(|s| s["key"] == key)
            .cloned()
            .expect("schedule")
    };
    // KC Balans: five E&P days in the school year the clock is in (2026-2027) and five in the
    // next, and three groepsbesprekingen a year from this school year on, without an end.
    let ep_dagen = schedule("ep-dag")["rule"]["at"].clone();
    assert_eq!(ep_dagen.as_array().expect("dates").len(), 10);
    assert_eq!(
        (&ep_dagen[0], &ep_dagen[5], &ep_dagen[9]),
        (&json!("2026-09-21T08:30:00"), &json!("2027-09-20T08:30:00"), &json!("2028-06-19T08:30:00"))
    );
    let groepsbespreking = schedule("groepsbespreking");
    assert_eq!(groepsbespreking["rule"]["months"].as_array().expect("months").len(), 3);
    assert_eq!(groepsbespreking["policy"]["active_from"], "2026-08-01");
    assert!(groepsbespreking["policy"]["active_until"].is_null(), "{groepsbespreking}");
    let mut keys: Vec<&str> = body["data"]["schedules"]
        .as_array()
        .expect("schedules")
        .iter()
        .map(|s| s["key"].as_str().expect("key"))
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["coaching-ikk", "ep-dag", "groepsbespreking", "intervisie", "welbevinden-scan"]);
    let fluks = body["data"]["besturen"]
        .as_array()
        .expect("besturen")
        .iter()
        .find(|b| b["name"] == "Fluks opvang")
        .expect("Fluks")["id"]
        .clone();

    let calendar = app
        .graphql_with(
            "query($scope: ScopeInput) { calendar(from: \"2027-01-01T00:00:00Z\", to: \"2028-01-01T00:00:00Z\", scope: $scope) { schedule dueAt target action } }",
            json!({ "scope": { "kind": "BESTUUR", "id": fluks } }),
        )
        .await;
    assert!(calendar.get("errors").is_none(), "{calendar}");
    let entries = calendar["data"]["calendar"].as_array().expect("calendar");
    let count = |key: &str| entries.iter().filter(|e| e["schedule"] == key).count();
    assert_eq!((count("welbevinden-scan"), count("intervisie"), count("coaching-ikk")), (4, 4, 1));
    assert_eq!(count("ep-dag"), 0, "KC Balans is not a kindcentrum of Fluks opvang");
    assert!(entries.iter().all(|e| e["dueAt"].as_str().expect("dueAt") >= "2027-01-01"));

    let create = "mutation($input: ScheduleInput!) { createSchedule(input: $input) { id key paused } }";
    let scope = json!({ "kind": "KINDCENTRUM", "id": "1" });
    let bad_cron = app
        .graphql_with(create, json!({ "input": { "key": "x", "name": "X", "scope": scope, "rule": { "kind": "cron", "expression": "elke maandag" }, "action": { "kind": "iterate", "workflow": "vierxd", "from": "doen", "to": "data" } } }))
        .await;
    assert_eq!(bad_cron["errors"][0]["extensions"]["code"], "VALIDATION", "{bad_cron}");
    assert!(
        bad_cron["errors"][0]["message"]
            .as_str()
            .expect("message")
            .starts_with("invalid cron expression `elke maandag`: "),
        "{bad_cron}"
    );
    let no_dates = app
        .graphql_with(create, json!({ "input": { "key": "y", "name": "Y", "scope": scope, "rule": { "kind": "dates", "at": [] }, "action": { "kind": "iterate", "workflow": "vierxd", "from": "doen", "to": "data" } } }))
        .await;
    assert_eq!(no_dates["errors"][0]["extensions"]["code"], "VALIDATION", "{no_dates}");
    assert!(no_dates["errors"][0]["message"].as_str().expect("message").contains("empty"), "{no_dates}");

    let created = app
        .graphql_with(create, json!({ "input": { "key": "studiemiddag", "name": "Studiemiddag", "scope": scope,
            "rule": { "kind": "cron", "expression": "0 0 13 * * Wed *" },
            "action": { "kind": "reminder", "title": "Studiemiddag", "due_in_days": 0, "assignee": { "select": "team", "kind": "plg" } },
            "policy": { "holidays": "skip" } } }))
        .await;
    assert!(created.get("errors").is_none(), "{created}");
    let id = created["data"]["createSchedule"]["id"].clone();
    let paused =
        app.graphql_with("mutation($id: ID!) { pauseSchedule(id: $id) { paused } }", json!({ "id": id })).await;
    assert_eq!(paused["data"]["pauseSchedule"]["paused"], true, "{paused}");

    let reminders =
        app.graphql("{ reminders(overdue: true) { totalCount } occurrences(status: FIRED) { totalCount } }").await;
    assert!(reminders.get("errors").is_none(), "{reminders}");
}

#[test]
fn preview_prints_json_and_holidays_import_from_the_command_line() {
    use crate::helpers::{example, run};

    let dir = tempfile::tempdir().expect("tempdir");
    let url = koers_testing::database_url_blocking(dir.path(), "k.db");
    let heidevlinder = example("heidevlinder.toml");
    for args in [
        vec!["import", "--database-url", &url, heidevlinder.to_str().expect("path")],
        vec![
            "schedule",
            "apply-template",
            "--database-url",
            &url,
            "--template",
            "welbevinden-scan",
            "--scope",
            "kindcentrum:1",
        ],
    ] {
        let output = run(&args);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    let output = run(&[
        "schedule",
        "preview",
        "--database-url",
        &url,
        "--from",
        "2027-01-01",
        "--to",
        "2027-12-31",
        "--format",
        "json",
    ]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let planned: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    let planned = planned.as_array().expect("array");
    assert_eq!(planned.len(), 4);
    assert_eq!(planned[0]["schedule"], "welbevinden-scan");
    assert_eq!(planned[0]["dueAt"], "2027-01-04T09:00:00+01:00");
    assert_eq!(planned[1]["dueAt"], "2027-04-05T09:00:00+02:00", "summer time");
    assert_eq!(planned[0]["scope"], "kindcentrum:1");
    assert_eq!(planned[0]["target"], json!(["BSO Borkel 1"]));
    assert_eq!(planned[0]["action"], "open-cycle pedagogische-kwaliteitscyclus");

    let holidays = dir.path().join("schoolvakanties.json");
    std::fs::write(
        &holidays,
        r#"{"content":[{"schoolyear":"2026-2027","vacations":[{"type":"Kerstvakantie","regions":[{"region":"heel Nederland","startdate":"2026-12-19T00:00:00.000Z","enddate":"2027-01-03T00:00:00.000Z"}]}]}]}"#,
    )
    .expect("write");
    let output = run(&["import-holidays", "--database-url", &url, holidays.to_str().expect("path")]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stderr).contains("holidays=3"));

    std::fs::write(&holidays, r#"{"content":[{"schoolyear":"2026","vacations":[]}]}"#).expect("write");
    let output = run(&["import-holidays", "--database-url", &url, holidays.to_str().expect("path")]);
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("schoolvakanties.json") && message.contains("`2026` is not a school year"), "{message}");
}
