//! Cycles as durable state machines: transitions, guards, versions, pitches, definition
//! versions, overdue cycles, and replay of the event log.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use koers_engine::clock::ManualClock;
use koers_engine::cycle::machine::{Status, Values};
use koers_engine::cycle::{CycleFilter, NewPitch, Owner, StartCycle, state_of};
use koers_engine::domain::CycleEventKind;
use koers_engine::io::import::import_str;
use koers_engine::store::entity::{cycle, cycle_event, doel, professional, team};
use koers_engine::store::query::Page;
use koers_engine::workflow::{WorkflowDef, load};
use koers_engine::{Engine, Error};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

const ORG: &str = r#"

[[kindcentrum.team]]
key = "kk"
name = "Kenniskring"
kind = "kenniskring"
members = ["p1", "p2", "p3"]

[[professional]]
key = "p1"
name = "Leerkracht een"
employer = "b"
kindcentra = ["kc"]

[[professional]]
key = "p2"
name = "Leerkracht twee"
employer = "b"
kindcentra = ["kc"]

[[professional]]
key = "p3"
name = "Leerkracht drie"
employer = "b"
kindcentra = ["kc"]

[koersplan]
key = "plan"
kindcentrum = "kc"
title = "Plan"
first_school_year = "2019-2020"
last_school_year = "2022-2023"
visie = "Visie"

[[koersplan.ambitie]]
key = "a"
title = "Ambitie"

[[koersplan.ambitie.doel]]
key = "d"
title = "Doel"
"#;

struct Fixture {
    engine: Engine,
    clock: ManualClock,
    team: i64,
    professionals: Vec<i64>,
    doel: i64,
}

async fn fixture() -> Fixture {
    let db = koers_testing::database().await;
    import_str(&db, "org.toml", &koers_testing::one_kindcentrum(ORG)).await.expect("import");
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 9, 1, 8, 0, 0).single().expect("time"));
    let engine = Engine::with_clock(db, Arc::new(clock.clone()));
    engine.register_workflows(load(None).expect("workflows")).await.expect("register");
    let team = team::Entity::find().one(engine.db()).await.expect("q").expect("team").id;
    let professionals =
        professional::Entity::find().all(engine.db()).await.expect("q").into_iter().map(|p| p.id).collect();
    let doel = doel::Entity::find().one(engine.db()).await.expect("q").expect("doel").id;
    Fixture { engine, clock, team, professionals, doel }
}

fn pitch(professional_id: i64, date: NaiveDate, did: &str, yielded: &str) -> NewPitch {
    NewPitch { professional_id, date, did: did.into(), yielded: yielded.into() }
}

fn values(v: serde_json::Value) -> Values {
    serde_json::from_value(v).expect("values")
}

impl Fixture {
    async fn start(&self, workflow: &str) -> i64 {
        self.started(workflow).await.id
    }

    /// A cycle of the kenniskring for the doel, as `start_cycle` answers it.
    async fn started(&self, workflow: &str) -> cycle::Model {
        self.engine
            .start_cycle(
                "test",
                StartCycle {
                    workflow: workflow.into(),
                    title: "Experiment".into(),
                    owner: Owner::Team(self.team),
                    doelen: vec![self.doel],
                    due_dates: BTreeMap::new(),
                    occurrence_id: None,
                },
            )
            .await
            .expect("start")
    }

    async fn events(&self, cycle: i64) -> Vec<cycle_event::Model> {
        self.engine.events_of(&[cycle]).await.expect("events").remove(&cycle).unwrap_or_default()
    }

    /// The stored state equals the replay of the events.
    async fn assert_replays(&self, cycle: i64) {
        let row = self.engine.cycle(cycle).await.expect("q").expect("cycle");
        let replayed = self.engine.replay_cycle(cycle).await.expect("replay").expect("started");
        assert_eq!(state_of(&row).expect("state"), replayed);
    }
}

const PLAN: fn() -> Values = || {
    values(json!({
        "doelen": ["Peuters en kleuters spelen samen"],
        "criteria": ["Kinderen van 4 stappen soepel over"],
    }))
};

/// A started cycle comes back as it is stored, on either store: PostgreSQL keeps
/// timestamps to the microsecond, so the clock's nanoseconds do not reach the row.
#[tokio::test]
async fn a_started_cycle_is_returned_as_stored() {
    let f = fixture().await;
    f.clock.set(
        Utc.with_ymd_and_hms(2026, 9, 1, 8, 0, 0).single().expect("time") + chrono::Duration::nanoseconds(123_456_789),
    );
    let started = f.started("pdca").await;
    let stored = f.engine.cycle(started.id).await.expect("q").expect("cycle");
    assert_eq!(started, stored);
    assert_eq!(stored.created_at.timestamp_subsec_nanos(), 123_456_000);
    let events = f.events(started.id).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].at, stored.created_at);
    f.assert_replays(started.id).await;
}

#[tokio::test]
async fn pdca_runs_two_iterations_and_closes_with_borgen() {
    let f = fixture().await;
    let id = f.start("pdca").await;
    let e = &f.engine;
    let mut v = 1;
    for iteration in 1..=2 {
        e.advance_cycle("test", id, v, "do", PLAN()).await.expect("plan -> do");
        e.advance_cycle("test", id, v + 1, "check", values(json!({"logboek": "Gestart"}))).await.expect("do -> check");
        e.advance_cycle("test", id, v + 2, "act", values(json!({"realisatie": "Grotendeels"})))
            .await
            .expect("check -> act");
        let act = values(json!({"analyse": "Overdracht kan beter", "besluit": "bijstellen"}));
        if iteration == 1 {
            let row = e.advance_cycle("test", id, v + 3, "plan", act).await.expect("act -> plan");
            assert_eq!((row.phase.as_str(), row.iteration), ("plan", 2));
            v += 4;
        } else {
            e.update_cycle_fields("test", id, v + 3, act).await.expect("fill act");
            v += 4;
        }
    }
    // Closing records process and product separately; the process is required.
    let err = e.close_cycle("test", id, v, "borgen", Values::new()).await.expect_err("process evaluation missing");
    assert!(matches!(&err, Error::GuardFailed { missing, .. } if missing == &["evaluatieProces".to_owned()]), "{err}");
    let closed = e
        .close_cycle(
            "test",
            id,
            v,
            "borgen",
            values(json!({"evaluatieProces": "Goed verlopen", "evaluatieProduct": "Combinatieklas blijft"})),
        )
        .await
        .expect("close");
    assert_eq!(closed.status, Status::Closed);
    assert_eq!(closed.outcome.as_deref(), Some("borgen"));
    assert_eq!(closed.iteration, 2);
    let kinds: Vec<CycleEventKind> = f.events(id).await.into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.first(), Some(&CycleEventKind::Started));
    assert_eq!(kinds.iter().filter(|k| **k == CycleEventKind::Iterated).count(), 1);
    assert_eq!(kinds.last(), Some(&CycleEventKind::Closed));
    f.assert_replays(id).await;

    // The doel lists the cycle as evidence.
    let evidence = e.cycles_of_doelen(&[f.doel]).await.expect("evidence");
    assert_eq!(evidence[&f.doel].iter().map(|c| c.id).collect::<Vec<_>>(), [id]);

    // A closed cycle refuses to move on, but may be reopened where the definition says so.
    let err = e.advance_cycle("test", id, closed.version, "plan", Values::new()).await.expect_err("closed");
    assert!(matches!(err, Error::InvalidTransition(_)), "{err}");
    let reopened =
        e.reopen_cycle("test", id, closed.version, "act", Some("Toch bijstellen".into())).await.expect("reopen");
    assert_eq!((reopened.status.as_str(), reopened.phase.as_str(), reopened.outcome), ("open", "act", None));
    f.assert_replays(id).await;
}

#[tokio::test]
async fn refused_commands_leave_the_log_unchanged() {
    let f = fixture().await;
    let id = f.start("pdca").await;
    let e = &f.engine;

    let err = e.advance_cycle("test", id, 1, "do", Values::new()).await.expect_err("empty required fields");
    match &err {
        Error::GuardFailed { phase, missing } => {
            assert_eq!(phase, "plan");
            assert_eq!(missing, &["doelen".to_owned(), "criteria".to_owned()], "in the order of the definition");
        }
        other => panic!("expected GUARD_FAILED, got {other}"),
    }
    assert_eq!(f.events(id).await.len(), 1);

    e.advance_cycle("test", id, 1, "do", PLAN()).await.expect("plan -> do");
    e.advance_cycle("test", id, 2, "check", values(json!({"logboek": "x"}))).await.expect("do -> check");
    let err = e.advance_cycle("test", id, 3, "do", Values::new()).await.expect_err("check -> do is not declared");
    assert!(matches!(&err, Error::InvalidTransition(m) if m.contains("allowed: `act`")), "{err}");

    let err = e.update_cycle_fields("test", id, 3, values(json!({"onbekend": "x"}))).await.expect_err("unknown field");
    assert!(matches!(&err, Error::Validation(m) if m.contains("no field `onbekend`")), "{err}");
    let err =
        e.update_cycle_fields("test", id, 3, values(json!({"meting": 999}))).await.expect_err("unknown indicator");
    assert!(matches!(&err, Error::NotFound { what: "indicator", id } if id == "999"), "{err}");

    // Two writers with the same expected version: the second one loses.
    e.update_cycle_fields("test", id, 3, values(json!({"realisatie": "Deels"}))).await.expect("first writer");
    let err = e.update_cycle_fields("test", id, 3, values(json!({"realisatie": "Anders"}))).await.expect_err("stale");
    assert!(matches!(err, Error::VersionConflict { expected: 3, actual: 4, .. }), "{err}");
    assert_eq!(f.events(id).await.len(), 4);
    let row = e.cycle(id).await.expect("q").expect("cycle");
    assert_eq!(state_of(&row).expect("state").values("check").expect("check")["realisatie"], json!("Deels"));
    f.assert_replays(id).await;
}

#[tokio::test]
async fn concurrent_advances_with_one_version_let_exactly_one_through() {
    let f = fixture().await;
    let id = f.start("pdca").await;
    let (a, b) = tokio::join!(
        f.engine.advance_cycle("a", id, 1, "do", PLAN()),
        f.engine.advance_cycle("b", id, 1, "do", PLAN())
    );
    let conflicts = [&a, &b].iter().filter(|r| matches!(r, Err(Error::VersionConflict { .. }))).count();
    assert_eq!((a.is_ok() as u8 + b.is_ok() as u8, conflicts), (1, 1), "{a:?} {b:?}");
    assert_eq!(f.events(id).await.len(), 2);
    f.assert_replays(id).await;
}

#[tokio::test]
async fn vierxd_with_pitches() {
    let f = fixture().await;
    let id = f.start("vierxd").await;
    let day = NaiveDate::from_ymd_opt(2026, 10, 5).expect("date");
    let mut version = 1;
    for (i, p) in f.professionals.iter().enumerate() {
        let row = f
            .engine
            .add_pitch("test", id, version, pitch(*p, day, &format!("Les {i} anders ingericht"), "Meer betrokkenheid"))
            .await
            .expect("pitch");
        version = row.version;
    }
    let err =
        f.engine.add_pitch("test", id, version, pitch(f.professionals[0], day, "x", "y")).await.expect_err("twice");
    assert!(matches!(&err, Error::Validation(m) if m.contains("already pitched")), "{err}");
    let pitches = f.engine.pitches_of(&[id]).await.expect("pitches").remove(&id).unwrap_or_default();
    assert_eq!(pitches.len(), 3);
    assert_eq!(f.events(id).await.iter().filter(|e| e.kind == CycleEventKind::PitchAdded).count(), 3);

    let pdca = f.start("pdca").await;
    let err =
        f.engine.add_pitch("test", pdca, 1, pitch(f.professionals[0], day, "x", "y")).await.expect_err("no pitches");
    assert!(matches!(err, Error::Validation(_)), "{err}");
}

#[tokio::test]
async fn a_running_cycle_keeps_its_definition_version() {
    let f = fixture().await;
    let old = f.start("pdca").await;
    // The new version of pdca requires a `werkwijze` in plan.
    let mut defs = load(None).expect("workflows");
    let pdca: &mut WorkflowDef = defs.iter_mut().find(|d| d.key == "pdca").expect("pdca");
    pdca.phases[0].fields.iter_mut().find(|f| f.key == "werkwijze").expect("werkwijze").required = true;
    f.engine.register_workflows(defs.clone()).await.expect("register v2");
    assert_eq!(f.engine.workflow("pdca").expect("pdca").version, 2);
    // Registering the same content again adds no version.
    f.engine.register_workflows(defs).await.expect("register again");
    assert_eq!(f.engine.workflow("pdca").expect("pdca").version, 2);

    f.engine.advance_cycle("test", old, 1, "do", PLAN()).await.expect("old cycle runs on version 1");
    let new = f.start("pdca").await;
    let err = f.engine.advance_cycle("test", new, 1, "do", PLAN()).await.expect_err("version 2 guards werkwijze");
    assert!(matches!(&err, Error::GuardFailed { missing, .. } if missing == &["werkwijze".to_owned()]), "{err}");
}

#[tokio::test]
async fn overdue_cycles_follow_the_clock() {
    let f = fixture().await;
    let due = NaiveDate::from_ymd_opt(2026, 9, 15).expect("date");
    let id = f
        .engine
        .start_cycle(
            "test",
            StartCycle {
                workflow: "pdca".into(),
                title: "Met deadline".into(),
                owner: Owner::Professional(f.professionals[0]),
                doelen: vec![],
                due_dates: BTreeMap::from([("plan".to_owned(), due)]),
                occurrence_id: None,
            },
        )
        .await
        .expect("start")
        .id;
    f.start("pdca").await;
    let overdue = CycleFilter { overdue: Some(true), ..Default::default() };
    let page = Page::first(50);
    assert_eq!(f.engine.cycles(&overdue, page).await.expect("cycles").total, 0);
    f.clock.set(Utc.with_ymd_and_hms(2026, 9, 16, 8, 0, 0).single().expect("time"));
    let late = f.engine.cycles(&overdue, page).await.expect("cycles");
    assert_eq!(late.items.iter().map(|c| c.id).collect::<Vec<_>>(), [id]);
    // Leaving the phase with the deadline ends the lateness.
    f.engine.advance_cycle("test", id, 1, "do", PLAN()).await.expect("advance");
    assert_eq!(f.engine.cycles(&overdue, page).await.expect("cycles").total, 0);
    let by_status = CycleFilter { status: Some(Status::Open), workflow: Some("pdca".into()), ..Default::default() };
    assert_eq!(f.engine.cycles(&by_status, page).await.expect("cycles").total, 2);
}

#[tokio::test]
async fn starting_checks_its_input() {
    let f = fixture().await;
    let start = |workflow: &str, owner, doelen: Vec<i64>| StartCycle {
        workflow: workflow.into(),
        title: "T".into(),
        owner,
        doelen,
        due_dates: BTreeMap::new(),
        occurrence_id: None,
    };
    let err = f.engine.start_cycle("t", start("pdcx", Owner::Team(f.team), vec![])).await.expect_err("workflow");
    assert!(matches!(&err, Error::Validation(m) if m.contains("unknown workflow `pdcx`")), "{err}");
    let err = f.engine.start_cycle("t", start("pdca", Owner::Team(999), vec![])).await.expect_err("team");
    assert!(matches!(err, Error::NotFound { what: "team", .. }), "{err}");
    let err = f.engine.start_cycle("t", start("pdca", Owner::Team(f.team), vec![999])).await.expect_err("doel");
    assert!(matches!(err, Error::NotFound { what: "doel", .. }), "{err}");
    assert_eq!(cycle::Entity::find().count(f.engine.db()).await.expect("count"), 0);
    assert_eq!(cycle_event::Entity::find().count(f.engine.db()).await.expect("count"), 0);
}

/// Act leads to a new iteration whose plan starts as the plan of the last one, to adjust:
/// the `iterated` event records the copy, so the replay gives the same state.
#[tokio::test]
async fn the_next_pdca_iteration_starts_with_the_plan_of_the_last() {
    let f = fixture().await;
    let id = f.start("pdca").await;
    let e = &f.engine;
    let plan = values(json!({
        "doelen": ["Peuters en kleuters spelen samen"],
        "criteria": ["Kinderen van 4 stappen soepel over"],
        "koersplanDoel": f.doel,
    }));
    e.advance_cycle("test", id, 1, "do", plan.clone()).await.expect("plan -> do");
    e.advance_cycle("test", id, 2, "check", values(json!({"logboek": "Gestart"}))).await.expect("do -> check");
    e.advance_cycle("test", id, 3, "act", values(json!({"realisatie": "Deels"}))).await.expect("check -> act");
    let act = values(json!({"analyse": "Overdracht kan beter", "besluit": "bijstellen"}));
    let row = e.advance_cycle("test", id, 4, "plan", act).await.expect("act -> plan");

    let state = state_of(&row).expect("state");
    assert_eq!((state.phase.as_str(), state.iteration), ("plan", 2));
    assert_eq!(state.values("plan"), Some(&plan), "the new plan is the last one");
    assert_eq!(state.fields[&1]["plan"], plan, "the last plan stays as it was");
    let iterated = f.events(id).await.pop().expect("event");
    let data: serde_json::Value = serde_json::from_str(&iterated.data).expect("json");
    assert_eq!(data["copied"], serde_json::to_value(&plan).expect("json"), "the event records the copy");
    f.assert_replays(id).await;

    // Adjusting one field of the copy leaves the rest, and the copied plan passes the guard.
    let adjusted = e
        .update_cycle_fields("test", id, 5, values(json!({"criteria": ["Alle kinderen van 4 stappen soepel over"]})))
        .await
        .expect("adjust");
    assert_eq!(state_of(&adjusted).expect("state").values("plan").expect("plan")["doelen"], plan["doelen"]);
    e.advance_cycle("test", id, 6, "do", Values::new()).await.expect("the copied plan is filled in");
    assert_eq!(state_of(&e.cycle(id).await.expect("q").expect("cycle")).expect("state").fields[&1]["plan"], plan);
    f.assert_replays(id).await;
}

/// Only a transition that says so copies: the next 4xD round starts with fresh data.
#[tokio::test]
async fn an_iteration_without_copy_fields_starts_empty() {
    let f = fixture().await;
    let id = f.start("vierxd").await;
    let e = &f.engine;
    e.advance_cycle("test", id, 1, "duiden", values(json!({"data": "Cito M", "bronnen": ["Cito"]})))
        .await
        .expect("data");
    e.advance_cycle("test", id, 2, "doelen", values(json!({"duiding": "Begrijpend lezen"}))).await.expect("duiden");
    e.advance_cycle("test", id, 3, "doen", values(json!({"besluit": "verbeteren", "doelen": ["Lezen"]})))
        .await
        .expect("doelen");
    let row = e.advance_cycle("test", id, 4, "data", Values::new()).await.expect("doen -> data");
    let state = state_of(&row).expect("state");
    assert_eq!((state.iteration, state.values("data")), (2, None));
    let data: serde_json::Value = serde_json::from_str(&f.events(id).await.pop().expect("event").data).expect("json");
    assert!(data.get("copied").is_none(), "{data}");
    f.assert_replays(id).await;
}

/// Due dates the store can no longer read are an error, not a cycle without due dates.
#[tokio::test]
async fn unreadable_stored_due_dates_are_an_error() {
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    let f = fixture().await;
    let row = f.started("pdca").await;
    let version = row.version;
    let mut broken = row.into_active_model();
    broken.due_dates = Set("{\"plan\": 12".into());
    let broken = broken.update(f.engine.db()).await.expect("stored");
    match f.engine.advance_cycle("test", broken.id, version, "do", PLAN()).await {
        Err(Error::Database(e)) => assert!(e.to_string().contains("stored JSON is unreadable"), "{e}"),
        other => panic!("expected the stored JSON refused, got {other:?}"),
    }
}
