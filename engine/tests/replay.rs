//! Property: whatever sequence of valid and invalid commands a cycle receives, its stored
//! state equals the replay of its events after every step, and a refused command leaves
//! the event log as it was.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use koers_engine::clock::ManualClock;
use koers_engine::cycle::machine::{CycleState, Event, Values};
use koers_engine::cycle::{NewPitch, Owner, StartCycle, state_of};
use koers_engine::entity::{professional, team};
use koers_engine::import::import_str;
use koers_engine::workflow::load;
use koers_engine::{Engine, Error};
use proptest::prelude::*;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

const ORG: &str = r#"
[[bestuur]]
key = "b"
name = "B"
kind = "onderwijs"

[[kindcentrum]]
key = "kc"
name = "KC"
besturen = ["b"]

[[kindcentrum.team]]
key = "t"
name = "T"
kind = "kenniskring"

[[professional]]
key = "p1"
name = "P1"
employer = "b"

[[professional]]
key = "p2"
name = "P2"
employer = "b"
"#;

const FIELDS: [&str; 12] = [
    "doelen",
    "criteria",
    "logboek",
    "realisatie",
    "analyse",
    "besluit",
    "data",
    "duiding",
    "uitvoering",
    "evaluatie-proces",
    "evaluatie",
    "onbekend",
];
const PHASES: [&str; 9] = ["plan", "do", "check", "act", "afgesloten", "data", "duiden", "doelen", "doen"];
const OUTCOMES: [&str; 3] = ["borgen", "stoppen", "misschien"];

#[derive(Clone, Debug)]
enum Op {
    Update(usize, usize),
    Advance(usize, Option<(usize, usize)>),
    Close(usize, bool),
    Reopen(usize),
    Pitch(usize, u32),
}

fn value(i: usize) -> Value {
    [
        json!("tekst"),
        json!(["een", "twee"]),
        json!("borgen"),
        json!("bijstellen"),
        json!("verbeteren"),
        json!(3),
        Value::Null,
        json!(""),
    ][i % 8]
        .clone()
}

fn op() -> impl Strategy<Value = (Op, bool)> {
    let op = prop_oneof![
        (0..FIELDS.len(), 0..8usize).prop_map(|(f, v)| Op::Update(f, v)),
        (0..PHASES.len(), proptest::option::of((0..FIELDS.len(), 0..8usize))).prop_map(|(p, f)| Op::Advance(p, f)),
        (0..OUTCOMES.len(), any::<bool>()).prop_map(|(o, e)| Op::Close(o, e)),
        (0..PHASES.len()).prop_map(Op::Reopen),
        (0..2usize, 0..3u32).prop_map(|(p, d)| Op::Pitch(p, d)),
    ];
    // One step in ten uses a stale version.
    (op, proptest::bool::weighted(0.1))
}

async fn check(workflow: &str, ops: Vec<(Op, bool)>) {
    let db = koers_engine::testing::database().await;
    import_str(&db, "org.toml", ORG).await.expect("import");
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 9, 1, 8, 0, 0).single().expect("time"));
    let engine = Engine::with_clock(db, Arc::new(clock));
    engine.register_workflows(load(None).expect("workflows")).await.expect("register");
    let team = team::Entity::find().one(engine.db()).await.expect("q").expect("team").id;
    let people: Vec<i64> =
        professional::Entity::find().all(engine.db()).await.expect("q").iter().map(|p| p.id).collect();
    let start = StartCycle {
        workflow: workflow.into(),
        title: "Eigenschap".into(),
        owner: Owner::Team(team),
        doelen: vec![],
        due_dates: BTreeMap::new(),
        occurrence_id: None,
    };
    let id = engine.start_cycle("prop", start).await.expect("start").id;
    for (op, stale) in ops {
        let before = engine.cycle(id).await.expect("q").expect("cycle");
        let expected = if stale { before.version - 1 } else { before.version };
        let events_before = engine.events_of(&[id]).await.expect("events")[&id].len();
        let result = match &op {
            Op::Update(f, v) => {
                engine
                    .update_cycle_fields("prop", id, expected, Values::from([(FIELDS[*f].to_owned(), value(*v))]))
                    .await
            }
            Op::Advance(p, f) => {
                let values = f.map(|(f, v)| Values::from([(FIELDS[f].to_owned(), value(v))])).unwrap_or_default();
                engine.advance_cycle("prop", id, expected, PHASES[*p], values).await
            }
            Op::Close(o, evaluation) => {
                let values = if *evaluation {
                    let key = if workflow == "pdca" { "evaluatie-proces" } else { "evaluatie" };
                    Values::from([(key.to_owned(), json!("Het proces liep goed"))])
                } else {
                    Values::new()
                };
                engine.close_cycle("prop", id, expected, OUTCOMES[*o], values).await
            }
            Op::Reopen(p) => engine.reopen_cycle("prop", id, expected, PHASES[*p], None).await,
            Op::Pitch(p, d) => {
                let date = NaiveDate::from_ymd_opt(2026, 10, 1 + d).expect("date");
                let pitch =
                    NewPitch { professional_id: people[*p], date, did: "gedaan".into(), yielded: "opgeleverd".into() };
                engine.add_pitch("prop", id, expected, pitch).await
            }
        };
        let events = engine.events_of(&[id]).await.expect("events").remove(&id).unwrap_or_default();
        match &result {
            Ok(_) => assert_eq!(events.len(), events_before + 1, "{op:?}"),
            Err(err) => {
                assert_eq!(events.len(), events_before, "{op:?} was refused ({err}) but changed the log");
                assert!(!matches!(err, Error::Database(_)), "{op:?}: {err}");
                if stale {
                    assert!(matches!(err, Error::VersionConflict { .. }), "{op:?}: {err}");
                }
            }
        }
        let row = engine.cycle(id).await.expect("q").expect("cycle");
        let replayed = engine.replay_cycle(id).await.expect("replay").expect("started");
        assert_eq!(state_of(&row).expect("state"), replayed, "after {op:?}");
        // The history is one the state machine decides step by step, as a restore checks.
        let history: Vec<Event> = events.iter().map(|e| serde_json::from_str(&e.data).expect("event")).collect();
        let def = engine.workflow_version(row.workflow_version_id).await.expect("definition").def;
        let decided = CycleState::replay_decided(&def, &history).unwrap_or_else(|why| panic!("after {op:?}: {why:?}"));
        assert_eq!(decided.last(), Some(&replayed));
        assert_eq!(row.version, events.len() as i64);
        let pitches = engine.pitches_of(&[id]).await.expect("pitches").remove(&id).unwrap_or_default();
        assert_eq!(pitches.len(), events.iter().filter(|e| e.kind == "pitch_added").count());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn stored_state_is_the_replay_of_the_events(
        workflow in prop_oneof![Just("pdca"), Just("vierxd")],
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(check(workflow, ops));
    }
}
