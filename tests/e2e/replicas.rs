//! Several `koers serve` processes on one database: every occurrence of a school year
//! fires exactly once, also when one of them is killed with SIGKILL while it fires; and a
//! cycle changed through two processes at once takes one change per version.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, TimeZone, Utc};
use koers_engine::Engine;
use koers_engine::calendar::template::templates;
use koers_engine::calendar::{CatchUp, ScheduleSpec};
use koers_engine::clock::ManualClock;
use koers_engine::domain::{OccurrenceStatus, ScheduleScope};
use koers_engine::store::entity::{cycle, occurrence, reminder};
use koers_engine::store::{StoreConfig, open};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::crash::{PAUSE_BEFORE_COMMIT, PAUSED, big_kindcentrum, serve, serve_with};
use crate::helpers::{App, run};

const GROEPEN: usize = 30;
const TEMPLATES: [&str; 2] = ["welbevinden-scan", "intervisie"];
/// The school year after 2026-2027: all of that year is due.
const AFTER_THE_YEAR: &str = "2027-08-01T00:00:00+02:00";

/// A kindcentrum of [`GROEPEN`] groepen with a scan cycle per groep each quarter and an
/// intervisie reminder per groep each quarter, stored for school year 2026-2027 and set
/// to catch up on all of it. Answers the occurrences.
async fn school_year(url: &str, dir: &std::path::Path) -> Vec<occurrence::Model> {
    let file = dir.join("groot.toml");
    std::fs::write(&file, big_kindcentrum(GROEPEN)).expect("write");
    let output = run(&["import", "--database-url", url, file.to_str().expect("path")]);
    assert!(output.status.success(), "import: {}", String::from_utf8_lossy(&output.stderr));

    let db = open(&StoreConfig::new(url)).await.expect("database");
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 8, 1, 0, 0, 0).single().expect("start"));
    let engine = Engine::with_clock(db.clone(), Arc::new(clock));
    // A schedule names the workflows it opens; they are those every replica registers.
    engine.register_workflows(koers_engine::workflow::load(None).expect("workflows")).await.expect("register");
    let kindcentrum = engine.kindcentrum_by_key("groot").await.expect("query").expect("kindcentrum").id;
    for template in templates().expect("templates").into_iter().filter(|t| TEMPLATES.contains(&t.key.as_str())) {
        let mut policy = template.policy;
        policy.catch_up = CatchUp::All { window_days: 400 };
        policy.active_until = NaiveDate::from_ymd_opt(2027, 7, 31);
        let spec = ScheduleSpec {
            key: template.key.clone(),
            name: template.name,
            template: Some(template.key),
            scope: ScheduleScope::Kindcentrum(kindcentrum),
            rule: template.rule,
            action: template.action,
            policy,
        };
        engine.create_schedule(spec).await.expect("schedule");
    }
    engine.materialize().await.expect("materialize");
    let occurrences = occurrence::Entity::find().all(&db).await.expect("occurrences");
    assert!(occurrences.iter().all(|o| o.status == OccurrenceStatus::Pending), "nothing fired yet");
    occurrences
}

#[tokio::test]
async fn three_replicas_fire_every_occurrence_of_a_school_year_exactly_once_with_one_killed_mid_fire() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = koers_testing::database_url(dir.path(), "k.db").await;
    let planned = school_year(&url, dir.path()).await;
    assert_eq!(planned.len(), 8, "four scans and four intervisies");

    // Three replicas, their log lines merged and tagged with the replica's index. The first
    // stops inside its first firing transaction (at a fail point) before the others start,
    // and is killed there while they wait for the database or fire what it does not hold.
    let (lines, merged) = mpsc::channel();
    let mut replicas = Vec::new();
    for index in 0..3 {
        let (child, log) = if index == 0 {
            serve_with(&url, AFTER_THE_YEAR, &[PAUSE_BEFORE_COMMIT])
        } else {
            serve(&url, AFTER_THE_YEAR)
        };
        let lines = lines.clone();
        std::thread::spawn(move || {
            while let Ok(line) = log.recv() {
                if lines.send((index, line)).is_err() {
                    break;
                }
            }
        });
        replicas.push(Some(child));
        if index == 0 {
            while !merged.recv_timeout(Duration::from_secs(120)).expect("the first replica fires").1.contains(PAUSED) {}
        }
    }
    let mut victim = replicas[0].take().expect("replica");
    victim.kill().expect("SIGKILL");
    victim.wait().expect("wait");

    let db = open(&StoreConfig::new(url.clone())).await.expect("database");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let pending = occurrence::Entity::find()
            .filter(occurrence::Column::Status.ne("fired"))
            .all(&db)
            .await
            .expect("occurrences");
        if pending.is_empty() {
            break;
        }
        // The others finish the year: each line they log is a moment to look again.
        let left = deadline.saturating_duration_since(Instant::now());
        merged.recv_timeout(left).unwrap_or_else(|_| panic!("left unfired: {pending:?}"));
    }
    for mut replica in replicas.into_iter().flatten() {
        replica.kill().expect("stop");
        replica.wait().expect("wait");
    }

    let fired = occurrence::Entity::find().all(&db).await.expect("occurrences");
    assert_eq!(fired.len(), planned.len(), "no occurrence added or lost");
    assert!(fired.iter().all(|o| o.status == OccurrenceStatus::Fired && o.result.is_some()), "{fired:?}");
    // Each fired once: one scan cycle and one intervisie reminder per groep and occurrence.
    let cycles = cycle::Entity::find().all(&db).await.expect("cycles");
    let reminders = reminder::Entity::find().all(&db).await.expect("reminders");
    assert_eq!(cycles.len(), 4 * GROEPEN);
    assert_eq!(reminders.len(), 4 * GROEPEN);
    let distinct_cycles: BTreeSet<(Option<i64>, Option<i64>)> =
        cycles.iter().map(|c| (c.occurrence_id, c.groep_id)).collect();
    let distinct_reminders: BTreeSet<(Option<i64>, Option<i64>)> =
        reminders.iter().map(|r| (r.occurrence_id, r.groep_id)).collect();
    assert_eq!(distinct_cycles.len(), cycles.len(), "no groep got a scan cycle twice");
    assert_eq!(distinct_reminders.len(), reminders.len(), "no groep got a reminder twice");
}

#[tokio::test]
async fn a_cycle_changed_through_two_replicas_at_once_takes_one_change_per_version() {
    let first = App::spawn(&[]);
    let second = App::spawn_on(&first.url, &[]);
    let team = first.graphql("{ kindcentra { teams { id } } }").await["data"]["kindcentra"][0]["teams"][0]["id"]
        .as_str()
        .expect("a team")
        .to_owned();
    let started = first
        .graphql_with(
            "mutation($team: ID!) { startCycle(input: { workflow: \"pdca\", title: \"Samen lezen\", teamId: $team }) { id version } }",
            json!({ "team": team }),
        )
        .await;
    let id = started["data"]["startCycle"]["id"].as_str().expect("id").to_owned();
    let version = started["data"]["startCycle"]["version"].as_i64().expect("version");

    let update = "mutation($id: ID!, $version: Int!, $fields: JSON!) { \
        updateCycleFields(input: { cycleId: $id, expectedVersion: $version, fields: $fields }) { version } }";
    let attempts = (0..10).map(|i| {
        let app = if i % 2 == 0 { &first } else { &second };
        let variables = json!({ "id": id, "version": version, "fields": { "doelen": [format!("poging {i}")] } });
        app.graphql_with(update, variables)
    });
    let answers = futures::future::join_all(attempts).await;
    let codes: Vec<&str> =
        answers.iter().map(|a| a["errors"][0]["extensions"]["code"].as_str().unwrap_or("OK")).collect();
    assert_eq!(codes.iter().filter(|c| **c == "OK").count(), 1, "{answers:?}");
    assert_eq!(codes.iter().filter(|c| **c == "VERSION_CONFLICT").count(), 9, "{answers:?}");

    let events = first
        .graphql_with("query($id: ID!) { cycle(id: $id) { version events { sequence } } }", json!({ "id": id }))
        .await;
    let sequences: Vec<i64> = events["data"]["cycle"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["sequence"].as_i64().expect("sequence"))
        .collect();
    assert_eq!(sequences, (1..=version + 1).collect::<Vec<_>>(), "one event per version, none lost or doubled");
    assert_eq!(events["data"]["cycle"]["version"], version + 1);
}
