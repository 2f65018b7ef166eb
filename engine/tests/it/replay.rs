//! Property: whatever sequence of valid and invalid commands a cycle receives, its stored
//! state equals the replay of its events after every step, and a refused command leaves
//! the event log as it was. And cycles stored before field keys were camelCase still
//! replay, run and restore once migrated.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use koers_engine::clock::ManualClock;
use koers_engine::cycle::machine::{Command, CycleState, Event, Fields, Status, Values};
use koers_engine::cycle::{NewPitch, Owner, StartCycle, state_of};
use koers_engine::domain::CycleEventKind;
use koers_engine::io::export::Export;
use koers_engine::io::import::import_str;
use koers_engine::store::entity::{cycle, cycle_event, doel, kindcentrum, professional, team, workflow_version};
use koers_engine::workflow::{WorkflowDef, load};
use koers_engine::{Engine, Error};
use koers_migrations::{Migrator, MigratorTrait, SchemaManager};
use proptest::prelude::*;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde::Deserialize;
use serde_json::{Value, json};

const ORG: &str = r#"

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
    "evaluatieProces",
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
    let db = koers_testing::database().await;
    import_str(&db, "org.toml", &koers_testing::one_kindcentrum(ORG)).await.expect("import");
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
                    let key = if workflow == "pdca" { "evaluatieProces" } else { "evaluatie" };
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
        assert_eq!(pitches.len(), events.iter().filter(|e| e.kind == CycleEventKind::PitchAdded).count());
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

// --- Cycles stored before field keys were camelCase -------------------------------------

/// The field keys the built-in workflows spelled in kebab-case before they became camelCase.
const RENAMED: [(&str, &str); 5] = [
    ("evaluatieProces", "evaluatie-proces"),
    ("evaluatieProduct", "evaluatie-product"),
    ("koersplanDoel", "koersplan-doel"),
    ("individueleDoelen", "individuele-doelen"),
    ("leerlingenMetExtraAandacht", "leerlingen-met-extra-aandacht"),
];

/// The migration that renamed them.
const MIGRATION: &str = "m20261208_000001_field_keys_in_camel_case";

/// A built-in definition as the release before the renaming stored it: kebab-case keys, and
/// no transition copying fields.
fn old_definition(mut def: WorkflowDef) -> WorkflowDef {
    for field in def.phases.iter_mut().flat_map(|p| p.fields.iter_mut()) {
        if let Some((_, old)) = RENAMED.iter().find(|(new, _)| *new == field.key) {
            field.key = (*old).to_owned();
        }
    }
    for transition in &mut def.transitions {
        transition.copy_fields = false;
    }
    def
}

/// Writes a cycle of `def`, stored as `version`, as that release did: the events the state
/// machine decides for `commands`, and the state they replay to. Answers its id.
async fn store_old_cycle(
    db: &sea_orm::DatabaseConnection,
    version: &workflow_version::Model,
    def: &WorkflowDef,
    team: i64,
    commands: Vec<Command>,
) -> i64 {
    let at = Utc.with_ymd_and_hms(2026, 9, 1, 8, 0, 0).single().expect("time");
    let mut state = CycleState::started(&def.initial().key);
    let mut events = vec![(
        Event::Started {
            workflow: def.key.clone(),
            workflow_version: version.version,
            title: format!("Oude {}", def.key),
            phase: state.phase.clone(),
            team_id: Some(team),
            professional_id: None,
            groep_id: None,
            kindcentrum_id: None,
            occurrence_id: None,
            doelen: vec![],
            due_dates: BTreeMap::new(),
        },
        state.clone(),
    )];
    for command in commands {
        let event = state.decide(def, command).expect("a command of the old release");
        state.apply(&event);
        events.push((event, state.clone()));
    }
    let row = cycle::ActiveModel {
        workflow_version_id: Set(version.id),
        workflow_key: Set(def.key.clone()),
        title: Set(format!("Oude {}", def.key)),
        team_id: Set(Some(team)),
        professional_id: Set(None),
        groep_id: Set(None),
        kindcentrum_id: Set(None),
        occurrence_id: Set(None),
        status: Set(state.status),
        phase: Set(state.phase.clone()),
        iteration: Set(state.iteration),
        outcome: Set(state.outcome.clone()),
        fields: Set(serde_json::to_string(&state.fields).expect("json")),
        due_dates: Set("{}".to_owned()),
        current_due: Set(None),
        version: Set(state.version),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("cycle");
    for (event, after) in events {
        let (from, to) = event.phases();
        cycle_event::ActiveModel {
            cycle_id: Set(row.id),
            sequence: Set(after.version),
            kind: Set(event.kind()),
            actor: Set("token:1".to_owned()),
            at: Set(at),
            from_phase: Set(from.map(str::to_owned)),
            to_phase: Set(to.map(str::to_owned)),
            iteration: Set(after.iteration),
            data: Set(serde_json::to_string(&event).expect("json")),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("event");
    }
    row.id
}

fn command(to: &str, values: Value) -> Command {
    Command::Advance { to: to.to_owned(), values: serde_json::from_value(values).expect("values") }
}

/// A database of the release before field keys were camelCase: a PDCA cycle two rounds in,
/// waiting in act to be closed, and a 4xD cycle, both with a koersplan-doel, on the
/// definitions of that release.
#[tokio::test]
async fn cycles_stored_with_kebab_case_field_keys_are_migrated_and_still_replay_run_and_restore() {
    let engine = koers_testing::engine(koers_testing::database().await);
    let db = engine.db();
    let migrations = Migrator::migrations();
    let at = migrations.iter().position(|m| m.name() == MIGRATION).expect("the migration is listed");
    // The organisation and the plan through today's importer, then the schema back to the
    // release before (later migrations included), where that release's cycles are written.
    import_str(db, "org.toml", &koers_testing::one_kindcentrum(ORG)).await.expect("import");
    import_str(db, "plan.toml", PLAN).await.expect("import");
    Migrator::down(db, Some((migrations.len() - at) as u32)).await.expect("back to the release before");
    let team = team::Entity::find().one(db).await.expect("q").expect("team").id;
    let kindcentrum = kindcentrum::Entity::find().one(db).await.expect("q").expect("kindcentrum").id;
    let doel = doel::Entity::find().one(db).await.expect("q").expect("doel").id;

    let mut old = BTreeMap::new();
    for def in load(None).expect("workflows").into_iter().map(old_definition) {
        let version = workflow_version::ActiveModel {
            key: Set(def.key.clone()),
            version: Set(1),
            hash: Set(def.hash()),
            definition: Set(def.canonical_json()),
            created_at: Set(Utc.with_ymd_and_hms(2026, 8, 1, 8, 0, 0).single().expect("time")),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("version");
        old.insert(def.key.clone(), (version, def));
    }
    let (pdca_version, pdca_def) = &old["pdca"];
    let mut rounds = Vec::new();
    for round in 1..=2 {
        rounds.extend([
            command(
                "do",
                json!({"doelen": [format!("Ronde {round}")], "criteria": ["Elke week"], "koersplan-doel": doel}),
            ),
            command("check", json!({"logboek": "Gedaan"})),
            command("act", json!({"realisatie": "Deels"})),
        ]);
        if round == 1 {
            rounds.push(command("plan", json!({"analyse": "Bijstellen", "besluit": "bijstellen"})));
        }
    }
    let act = json!({"analyse": "Werkt", "besluit": "borgen"});
    rounds.push(Command::UpdateFields { values: serde_json::from_value(act).expect("values") });
    let pdca = store_old_cycle(db, pdca_version, pdca_def, team, rounds).await;
    let (vierxd_version, vierxd_def) = &old["vierxd"];
    let steps = vec![
        command("duiden", json!({"data": "Cito M"})),
        command("doelen", json!({"duiding": "Lezen blijft achter"})),
        command("doen", json!({"besluit": "verbeteren", "doelen": ["Lezen"], "koersplan-doel": doel})),
    ];
    let vierxd = store_old_cycle(db, vierxd_version, vierxd_def, team, steps).await;
    // Today's exporter reads today's tables and columns: what the migrations after that
    // release add is there for the export only, and taken out of what it wrote, as that
    // release's export did not have it.
    let manager = SchemaManager::new(db);
    for later in &migrations[at + 1..] {
        later.up(&manager).await.expect("a later migration, for the export");
    }
    let today = engine.export_kindcentrum(kindcentrum).await.expect("an export of that release");
    for later in migrations[at + 1..].iter().rev() {
        later.down(&manager).await.expect("back to the release before");
    }
    let mut written = Vec::new();
    today.write(&mut written).expect("written");
    let mut document: Value = serde_json::from_slice(&written).expect("json");
    for (table, column) in [("professional", "left_on"), ("planning_item", "note")] {
        let rows = document.pointer_mut(&format!("/tables/{table}")).and_then(Value::as_array_mut);
        for row in rows.into_iter().flatten() {
            row.as_object_mut().expect("a row").remove(column);
        }
    }
    document["tables"].as_object_mut().expect("tables").remove("change");
    let before = Export::parse(&document.to_string()).expect("an export of that release");

    Migrator::up(db, None).await.expect("the migration runs");
    let stored = |id| async move { cycle::Entity::find_by_id(id).one(db).await.expect("q").expect("cycle") };
    let fields = state_of(&stored(pdca).await).expect("state").fields;
    assert_eq!(fields[&1]["plan"]["koersplanDoel"], json!(doel));
    assert_eq!(fields[&2]["plan"]["koersplanDoel"], json!(doel));
    assert!(!stored(vierxd).await.fields.contains("koersplan-doel"));
    let events = engine.events_of(&[pdca, vierxd]).await.expect("events");
    assert!(events.values().flatten().all(|e| !e.data.contains("koersplan-doel")), "{events:?}");

    // Registering the renamed definitions finds the migrated versions: its hash is that of
    // the definition the engine writes. Only PDCA and PDSA changed besides their keys (their
    // next plan is a copy of the last), so only they get a version 2, for new cycles.
    engine.register_workflows(load(None).expect("workflows")).await.expect("register");
    for (key, (version, _)) in &old {
        let current = engine.workflow(key).expect("registered");
        let expected = if ["pdca", "pdsa"].contains(&key.as_str()) { 2 } else { 1 };
        assert_eq!(current.version, expected, "{key}");
        let migrated = engine.workflow_version(version.id).await.expect("the old version");
        assert_eq!(migrated.version, 1);
        if expected == 1 {
            assert_eq!(current.id, version.id, "{key}");
        }
    }

    // Each cycle is the replay of its events, a history the state machine decides step by
    // step on the version it started on, as a restore checks.
    for id in [pdca, vierxd] {
        let row = stored(id).await;
        let replayed = engine.replay_cycle(id).await.expect("replay").expect("started");
        assert_eq!(state_of(&row).expect("state"), replayed);
        let history: Vec<Event> = engine.events_of(&[id]).await.expect("events")[&id]
            .iter()
            .map(|e| serde_json::from_str(&e.data).expect("event"))
            .collect();
        let def = engine.workflow_version(row.workflow_version_id).await.expect("definition").def;
        let decided = CycleState::replay_decided(&def, &history).expect("a decided history");
        assert_eq!(decided.last(), Some(&replayed));
    }
    let migrated = engine.export_kindcentrum(kindcentrum).await.expect("export");

    // The cycles run on, on the version they started on, with the new keys.
    let row = stored(pdca).await;
    assert_eq!(row.workflow_version_id, pdca_version.id);
    let evaluation = serde_json::from_value(json!({"evaluatieProces": "Goed verlopen", "evaluatieProduct": "Blijft"}))
        .expect("values");
    let closed = engine
        .close_cycle("test", pdca, row.version, "borgen", Values::new())
        .await
        .expect_err("the process evaluation is required, under its new key");
    assert!(
        matches!(&closed, Error::GuardFailed { missing, .. } if missing == &["evaluatieProces".to_owned()]),
        "{closed}"
    );
    let closed = engine.close_cycle("test", pdca, row.version, "borgen", evaluation).await.expect("close");
    assert_eq!((closed.status.as_str(), closed.iteration), ("closed", 2));
    let row = stored(vierxd).await;
    engine.advance_cycle("test", vierxd, row.version, "data", Values::new()).await.expect("the next round");
    for id in [pdca, vierxd] {
        let replayed = engine.replay_cycle(id).await.expect("replay").expect("started");
        assert_eq!(state_of(&stored(id).await).expect("state"), replayed);
    }

    // Both exports restore: the one of the migrated database as it is, and the one written
    // before the migration renamed as the migration renamed the database.
    let restored = koers_testing::engine(koers_testing::database().await);
    restored.restore_export(&migrated).await.expect("restore the migrated export");
    let upgraded = koers_testing::engine(koers_testing::database().await);
    upgraded.restore_export(&before).await.expect("restore the export of the release before");
    let tables = |export: &Export| -> Vec<(String, Vec<Value>)> {
        ["workflow_version", "cycle", "cycle_event"]
            .into_iter()
            .map(|table| (table.to_owned(), export.rows(table).to_vec()))
            .collect()
    };
    let again = upgraded.export_kindcentrum(kindcentrum).await.expect("export");
    assert_eq!(tables(&again), tables(&migrated), "a restored old export holds what the migrated database holds");
}

const PLAN: &str = r#"
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

// --- Canned histories ------------------------------------------------------------------

/// The folder of canned histories: each file one cycle's events, stored as the
/// `cycle_event.data` column holds them, with the state they replay to or why the workflow
/// refuses them.
const HISTORIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/histories");

/// One file of [`HISTORIES`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct History {
    /// What the history shows, for the reader of a failure.
    about: String,
    /// The built-in workflow the cycle runs on.
    workflow: String,
    /// The cycle ran on the version of its definition from before iterate transitions
    /// copied fields (`copy_fields`), as cycles of that release did.
    #[serde(default)]
    before_copy_fields: bool,
    /// The events, oldest first, each exactly as the store keeps it.
    events: Vec<Value>,
    /// The state the events replay to; a history has this or `refused`.
    expected: Option<Expected>,
    /// Where and why `replay_decided` refuses the history.
    refused: Option<Refused>,
}

/// The whole [`CycleState`] a history replays to.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    phase: String,
    iteration: i32,
    status: Status,
    outcome: Option<String>,
    version: i64,
    fields: Fields,
}

impl Expected {
    fn state(&self) -> CycleState {
        CycleState {
            phase: self.phase.clone(),
            iteration: self.iteration,
            status: self.status,
            outcome: self.outcome.clone(),
            fields: self.fields.clone(),
            version: self.version,
        }
    }
}

/// The error `replay_decided` answers: the position of the first event that does not
/// follow, and the reason, word for word.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Refused {
    at: usize,
    reason: String,
}

/// Every history of [`HISTORIES`], by file name.
fn histories() -> Vec<(String, History)> {
    let mut files: Vec<_> = std::fs::read_dir(HISTORIES)
        .expect("the folder of canned histories")
        .map(|entry| entry.expect("an entry").path())
        .collect();
    files.sort();
    let histories: Vec<_> = files
        .iter()
        .map(|path| {
            let name = path.file_name().expect("a file").to_string_lossy().into_owned();
            assert!(name.ends_with(".json"), "{name}: the folder holds only the JSON files of histories");
            let text = std::fs::read_to_string(path).expect("a readable history");
            let history: History = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                history.expected.is_some() != history.refused.is_some(),
                "{name}: a history says either the state it replays to (`expected`) or why it is refused (`refused`)"
            );
            (name, history)
        })
        .collect();
    assert!(!histories.is_empty(), "no canned histories in {HISTORIES}");
    histories
}

/// The definition the cycle of `history` ran on.
fn definition_of(name: &str, history: &History) -> WorkflowDef {
    let mut def = load(None)
        .expect("workflows")
        .into_iter()
        .find(|def| def.key == history.workflow)
        .unwrap_or_else(|| panic!("{name}: `{}` is not a built-in workflow", history.workflow));
    if history.before_copy_fields {
        for transition in &mut def.transitions {
            transition.copy_fields = false;
        }
    }
    def
}

/// The events of `history`, read as the engine reads them back from `cycle_event.data`: the
/// stored text parsed as an [`Event`].
fn events_of(name: &str, history: &History) -> Vec<Event> {
    history
        .events
        .iter()
        .enumerate()
        .map(|(index, stored)| {
            let data = stored.to_string();
            serde_json::from_str::<Event>(&data).unwrap_or_else(|e| panic!("{name}, event {index}: {e}: {data}"))
        })
        .collect()
}

/// Which variants of [`Event`], and which shapes of them, the histories hold.
#[derive(Debug, Default)]
struct Coverage {
    started: bool,
    fields_updated: bool,
    advanced: bool,
    iterated: bool,
    closed: bool,
    reopened: bool,
    pitch_added: bool,
    /// Per field with `#[serde(default)]`, as `variant.field`: whether a history stores it,
    /// and whether one leaves it out, as an event written before the field existed does.
    /// For `copied` the attribute is what keeps those events readable; serde reads a
    /// missing `Option`, such as the owner ids, as `None` with or without it.
    defaulted: BTreeMap<&'static str, (bool, bool)>,
}

impl Coverage {
    /// Notes `event`, stored as `stored`. Every field of every variant is named, without
    /// `..`: a new variant or field does not compile until it is named here, and a field
    /// with `#[serde(default)]` must be passed to `defaulted_field` so that a history shows it
    /// both stored and left out.
    fn see(&mut self, event: &Event, stored: &Value) {
        match event {
            Event::Started {
                workflow: _,
                workflow_version: _,
                title: _,
                phase: _,
                team_id: _,
                professional_id: _,
                groep_id: _,
                kindcentrum_id: _,
                occurrence_id: _,
                doelen: _,
                due_dates: _,
            } => {
                self.started = true;
                self.defaulted_field(stored, "started.groep_id");
                self.defaulted_field(stored, "started.kindcentrum_id");
                self.defaulted_field(stored, "started.occurrence_id");
            }
            Event::FieldsUpdated { phase: _, values: _ } => self.fields_updated = true,
            Event::Advanced { from: _, to: _, values: _ } => self.advanced = true,
            Event::Iterated { from: _, to: _, values: _, copied: _ } => {
                self.iterated = true;
                self.defaulted_field(stored, "iterated.copied");
            }
            Event::Closed { from: _, to: _, outcome: _, values: _ } => self.closed = true,
            Event::Reopened { from: _, to: _, reason: _ } => self.reopened = true,
            Event::PitchAdded { professional_id: _, date: _, did: _, yielded: _ } => self.pitch_added = true,
        }
    }

    fn defaulted_field(&mut self, stored: &Value, field: &'static str) {
        let (_, key) = field.split_once('.').expect("variant.field");
        let seen = self.defaulted.entry(field).or_default();
        if stored.get(key).is_some() {
            seen.0 = true;
        } else {
            seen.1 = true;
        }
    }

    /// Fails unless every variant, and every defaulted field both stored and left out, was
    /// seen.
    fn assert_complete(self) {
        let Coverage { started, fields_updated, advanced, iterated, closed, reopened, pitch_added, defaulted } = self;
        let variants = [
            ("started", started),
            ("fields_updated", fields_updated),
            ("advanced", advanced),
            ("iterated", iterated),
            ("closed", closed),
            ("reopened", reopened),
            ("pitch_added", pitch_added),
        ];
        let missing: Vec<_> = variants.iter().filter(|(_, seen)| !seen).map(|(kind, _)| *kind).collect();
        assert!(missing.is_empty(), "no canned history that replays holds an event of kind {missing:?}");
        for (field, (stored, left_out)) in defaulted {
            assert!(stored, "no canned history that replays stores `{field}`");
            assert!(left_out, "no canned history that replays leaves out `{field}`, as older events do");
        }
    }
}

/// Each canned history, read as the store reads it, replays to the state it expects, both
/// trusted (as the engine reads a cycle back) and decided step by step (as a restore checks
/// it); together they hold every kind of event and the older shapes of events.
#[test]
fn canned_histories_replay_to_the_state_they_expect() {
    let mut coverage = Coverage::default();
    let mut replayed_histories = 0;
    for (name, history) in histories() {
        let Some(expected) = &history.expected else { continue };
        replayed_histories += 1;
        let about = &history.about;
        let events = events_of(&name, &history);
        for (index, (event, stored)) in events.iter().zip(&history.events).enumerate() {
            coverage.see(event, stored);
            // The store's `kind` column, and the shape written today: a field the file
            // misspells, which serde would skip, or a change to how events are written,
            // shows here.
            assert_eq!(stored["kind"], event.kind().to_string(), "{name}, event {index}");
            assert_eq!(
                &serde_json::to_value(event).expect("json"),
                stored,
                "{name}, event {index}: the engine writes this event in another shape than the history stores"
            );
        }
        let replayed = CycleState::replay(&events).unwrap_or_else(|| panic!("{name}: no `started` first"));
        assert_eq!(replayed, expected.state(), "{name}: {about}");
        let def = definition_of(&name, &history);
        let decided = CycleState::replay_decided(&def, &events)
            .unwrap_or_else(|(at, why)| panic!("{name}: event {at} is refused: {why}\n{about}"));
        assert_eq!(decided.len(), events.len(), "{name}: a state per event");
        assert_eq!(decided.last(), Some(&replayed), "{name}: {about}");
    }
    assert!(replayed_histories > 0, "no canned history with an expected state");
    coverage.assert_complete();
}

/// Each canned history the workflow does not allow is refused by `replay_decided` at the
/// event that does not follow, with the reason word for word.
#[test]
fn canned_histories_the_workflow_does_not_allow_are_refused() {
    let mut refused_histories = 0;
    for (name, history) in histories() {
        let Some(refused) = &history.refused else { continue };
        refused_histories += 1;
        let events = events_of(&name, &history);
        let def = definition_of(&name, &history);
        match CycleState::replay_decided(&def, &events) {
            Ok(states) => panic!("{name}: accepted, ending in {:?}\n{}", states.last(), history.about),
            Err(answer) => {
                assert_eq!(answer, (refused.at, refused.reason.clone()), "{name}: {}", history.about);
            }
        }
    }
    assert!(refused_histories > 0, "no canned history that is refused");
}
