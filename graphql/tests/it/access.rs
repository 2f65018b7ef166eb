//! Access by role and scope, and tenant isolation over the whole schema.
//!
//! Isolation: with the kindcentra of two besturen in one
//! database, a token of bestuur A walks every root query field and every mutation, taken
//! from the schema's own introspection so that a new field cannot be forgotten, aimed at
//! every kind of id of the other besturen. Nothing of theirs comes back and nothing changes.
//!
//! "The others" are every row written after bestuur A's kindcentrum and its data: the ids
//! above a watermark per table.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use koers_engine::Engine;
use koers_engine::access::token::AccessScope;
use koers_engine::calendar::template::TemplateOptions;
use koers_engine::clock::ManualClock;
use koers_engine::cycle::{Owner, StartCycle};
use koers_engine::domain::AccessRole;
use koers_engine::domain::ScheduleScope;
use koers_engine::domain::{CoachingKind, Signal};
use koers_engine::evidence::coaching::{Hours, NewCoachingEntry};
use koers_engine::evidence::scan::{NewScan, NewScore, Technique};
use koers_engine::plan::measurement::{NewMeasurement, Period};
use koers_engine::plan::progress::{Evidence, SignalSubject};
use koers_engine::store::query::Page;
use koers_graphql::ApiConfig;
use koers_graphql::server::router;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};
use tower::ServiceExt as _;

fn example(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../workflows/examples").join(file)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// Gives a kindcentrum data of every kind the API shows: cycles with events, schedules
/// with fired occurrences and reminders, scans, coaching hours, measurements, marks and
/// signal overrides, as far as the kindcentrum has what they hang on.
async fn populate(engine: &Engine, kindcentrum: i64) {
    let actor = "setup";
    let teams = engine.teams_of(&[kindcentrum]).await.expect("teams").remove(&kindcentrum).unwrap_or_default();
    let locaties = engine.locaties_of(&[kindcentrum]).await.expect("locaties").remove(&kindcentrum).unwrap_or_default();
    let locatie_ids: Vec<i64> = locaties.iter().map(|l| l.id).collect();
    let groepen: Vec<_> = engine.groepen_of(&locatie_ids).await.expect("groepen").into_values().flatten().collect();
    let plans = engine.koersplannen_of(&[kindcentrum]).await.expect("plans").remove(&kindcentrum).unwrap_or_default();
    let plan_ids: Vec<i64> = plans.iter().map(|p| p.id).collect();
    let ambities: Vec<i64> =
        engine.ambities_of(&plan_ids).await.expect("ambities").into_values().flatten().map(|a| a.id).collect();
    let doelen: Vec<i64> =
        engine.doelen_of(&ambities).await.expect("doelen").into_values().flatten().map(|d| d.id).collect();
    let criteria: Vec<i64> =
        engine.succescriteria_of(&doelen).await.expect("criteria").into_values().flatten().map(|c| c.id).collect();
    let indicators = engine.indicators_of_kindcentra(&[kindcentrum]).await.expect("indicators");
    let staff = engine
        .professionals_of(&[kindcentrum], Page::first(100))
        .await
        .expect("staff")
        .remove(&kindcentrum)
        .unwrap_or_default()
        .items;

    for team in &teams {
        let start = StartCycle {
            workflow: "pdca".into(),
            title: format!("Experiment {}", team.name),
            owner: Owner::Team(team.id),
            doelen: doelen.iter().copied().take(1).collect(),
            due_dates: BTreeMap::new(),
            occurrence_id: None,
        };
        engine.start_cycle(actor, start).await.expect("cycle");
    }
    for template in ["welbevinden-scan", "intervisie", "groepsbespreking"] {
        engine
            .apply_template(template, ScheduleScope::Kindcentrum(kindcentrum), TemplateOptions::default())
            .await
            .expect("template");
    }
    engine.materialize().await.expect("materialize");
    for groep in &groepen {
        let scores = (1..=3).map(|i| NewScore::parse(i, Some(&format!("k0{i}")), 3.0, 2.0).expect("score")).collect();
        let scan = NewScan {
            groep_id: groep.id,
            scanned_on: date(2026, 10, 5),
            technique: Technique::Kind,
            scores,
            note: None,
        };
        engine.record_scan(actor, scan).await.expect("scan");
    }
    if let (Some(locatie), Some(coach)) = (locaties.first(), staff.iter().find(|p| p.key == "c-maes")) {
        let entry = NewCoachingEntry {
            coach_id: coach.id,
            date: date(2026, 8, 25),
            hours: Hours::new(2.0).expect("hours"),
            kind: CoachingKind::Beleid,
            coachees: Vec::new(),
            locatie_id: Some(locatie.id),
            note: None,
        };
        engine.log_coaching(actor, entry).await.expect("coaching");
    }
    for indicator in indicators.values().flatten() {
        let measurement = NewMeasurement {
            indicator_id: indicator.id,
            period: Period::day(date(2026, 7, 1)),
            value: 50.0,
            source: "telling".into(),
            note: None,
        };
        engine.record_measurement(measurement).await.expect("measurement");
    }
    if let Some(&criterium) = criteria.first() {
        let evidence = Evidence { note: Some("verslag".into()), ..Evidence::default() };
        engine.mark_succescriterium_met(actor, criterium, evidence).await.expect("mark");
    }
    for plan in &plans {
        engine
            .override_signal(actor, SignalSubject::Koersplan(plan.id), Some(Signal::OpKoersMetAandacht), "gesprek")
            .await
            .expect("override");
    }
}

/// The tables of the database, without the migrations' own and the tokens.
async fn tables(db: &DatabaseConnection) -> Vec<String> {
    let mut tables = koers_testing::tables(db).await;
    tables.retain(|t| t != "seaql_migrations" && t != "api_token");
    tables
}

/// The highest id of every table with one.
async fn watermarks(db: &DatabaseConnection) -> HashMap<String, i64> {
    let mut out = HashMap::new();
    for table in tables(db).await {
        if koers_testing::columns(db, &table).await.iter().any(|c| c == "id") {
            let sql = format!("SELECT COALESCE(MAX(id), 0) AS top FROM \"{table}\"");
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("max")
                .expect("row");
            out.insert(table, row.try_get::<i64>("", "top").expect("top"));
        }
    }
    out
}

/// The rows of the other besturen: per table, the ids above the watermark.
struct Others {
    ids: BTreeMap<String, Vec<i64>>,
    names: Vec<String>,
}

impl Others {
    /// A few ids of a table: the first, a middle and the last.
    fn sample(&self, table: &str) -> Vec<i64> {
        let ids = self.ids.get(table).map_or(&[][..], Vec::as_slice);
        let mut picked: Vec<i64> =
            [ids.first(), ids.get(ids.len() / 2), ids.last()].into_iter().flatten().copied().collect();
        picked.dedup();
        picked
    }

    fn contains(&self, table: &str, id: i64) -> bool {
        self.ids.get(table).is_some_and(|ids| ids.binary_search(&id).is_ok())
    }
}

/// `CoachingEntry` -> `coaching_entry`.
fn table_of(type_name: &str) -> String {
    let mut out = String::new();
    for (i, c) in type_name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// The table an id argument or input field refers to, by its name; `id` itself by the
/// field it belongs to.
fn table_of_id(name: &str, owner: &str) -> Option<String> {
    let stem = name.strip_suffix("Ids").or_else(|| name.strip_suffix("Id")).unwrap_or(name);
    let table = match stem {
        "id" => match owner {
            "completeReminder" => "reminder",
            "updateSchedule" | "pauseSchedule" => "schedule",
            "markSuccescriteriumMet" | "withdrawSuccescriteriumMark" => "succescriterium",
            other => return Some(table_of(other)),
        },
        "coach" | "coachee" | "professional" => "professional",
        other => return Some(table_of(other)),
    };
    Some(table.to_owned())
}

struct Fixture {
    engine: Engine,
    app: Router,
    admin: String,
    bestuur_a: String,
    directeur_a: String,
    /// A reader of bestuur A's kindcentrum: it reaches what `own` holds, and may change none of it.
    reader_a: String,
    db: DatabaseConnection,
    others: Others,
    /// The rows of bestuur A: per table, the ids up to the watermark.
    own: Others,
}

async fn post(app: &Router, token: &str, query: &str) -> Value {
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(json!({ "query": query }).to_string()))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("response");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
}

/// A koersplan for De Klinkert, so the others have one too.
const KLINKERT_KOERSPLAN: &str = r#"
[koersplan]
key = "klinkert-2026-2030"
kindcentrum = "de-klinkert"
title = "Koersplan De Klinkert 2026-2030"
first_school_year = "2026-2027"
last_school_year = "2029-2030"
visie = "Samen met ouders."

[[koersplan.ambitie]]
key = "ouders"
title = "Ouders als partner"

[[koersplan.ambitie.doel]]
key = "betrokken-ouders"
title = "Ouders zijn betrokken bij de school"
succescriteria = [{ description = "Ouders komen naar de informatieavond" }]
planning = [{ school_year = "2026-2027", text = "Informatieavond in september" }]
"#;

/// KC Balans of Lucas Onderwijs first, then Heidevlinder (Fluks) and De Klinkert (Spelen =
/// Leren and its school bestuur): the others.
async fn setup() -> Fixture {
    let db = koers_testing::database().await;
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 9, 1, 8, 0, 0).single().expect("now"));
    let engine = Engine::with_clock(db.clone(), Arc::new(clock.clone()));
    engine.register_workflows(koers_engine::workflow::load(None).expect("workflows")).await.expect("register");

    koers_engine::io::import::import_file(&db, &example("kc-balans.toml")).await.expect("import");
    let balans = engine.kindcentrum_by_key("kc-balans").await.expect("query").expect("kc balans").id;
    populate(&engine, balans).await;
    clock.advance(TimeDelta::days(40));
    engine.run_scheduler_once().await.expect("fire");
    let marks = watermarks(&db).await;
    // Bestuur A's calendar stands still while the others' runs.
    for schedule in engine.schedules(None).await.expect("schedules") {
        engine.pause_schedule(schedule.row.id, true).await.expect("pause");
    }

    clock.set(Utc.with_ymd_and_hms(2026, 9, 1, 8, 0, 0).single().expect("now"));
    for file in ["heidevlinder.toml", "de-klinkert.toml"] {
        koers_engine::io::import::import_file(&db, &example(file)).await.expect("import");
    }
    koers_engine::io::import::import_str(&db, "klinkert-koersplan.toml", KLINKERT_KOERSPLAN).await.expect("import");
    let mut names = Vec::new();
    for key in ["heidevlinder", "de-klinkert"] {
        let kc = engine.kindcentrum_by_key(key).await.expect("query").expect("kindcentrum");
        populate(&engine, kc.id).await;
        names.push(kc.name);
    }
    // Into December: the intervisie of November leaves reminders.
    clock.advance(TimeDelta::days(91));
    engine.run_scheduler_once().await.expect("fire");

    let mut ids = BTreeMap::new();
    let mut own = BTreeMap::new();
    for (table, mark) in &marks {
        let sql = format!("SELECT id FROM \"{table}\" WHERE id <= {mark} ORDER BY id");
        let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("ids");
        let found: Vec<i64> = rows.iter().map(|r| r.try_get::<i64>("", "id").expect("id")).collect();
        if !found.is_empty() {
            own.insert(table.clone(), found);
        }
    }
    for (table, mark) in &marks {
        let sql = format!("SELECT id FROM \"{table}\" WHERE id > {mark} ORDER BY id");
        let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("ids");
        let found: Vec<i64> = rows.iter().map(|r| r.try_get::<i64>("", "id").expect("id")).collect();
        if !found.is_empty() {
            ids.insert(table.clone(), found);
        }
    }
    for key in ["fluks-opvang", "fluks-onderwijs", "spelen-is-leren", "klinkert-schoolbestuur"] {
        names.push(engine.bestuur_by_key(key).await.expect("query").expect("bestuur").name);
    }
    let lucas = engine.bestuur_by_key("lucas-onderwijs").await.expect("query").expect("lucas").id;
    let admin = engine.create_token("admin", AccessRole::Admin, AccessScope::All, None).await.expect("token").token;
    let bestuur_a =
        engine.create_token("a", AccessRole::Bestuur, AccessScope::Bestuur(lucas), None).await.expect("token").token;
    let directeur_a = engine
        .create_token("a", AccessRole::Directeur, AccessScope::Kindcentrum(balans), None)
        .await
        .expect("token")
        .token;
    let reader_a = engine
        .create_token("a", AccessRole::Reader, AccessScope::Kindcentrum(balans), None)
        .await
        .expect("token")
        .token;
    // No depth or complexity limit: the walk selects every field a few levels deep.
    let config = ApiConfig { max_depth: 64, max_complexity: usize::MAX, ..ApiConfig::default() };
    Fixture {
        engine: engine.clone(),
        app: router(engine, config),
        admin,
        bestuur_a,
        directeur_a,
        reader_a,
        db,
        others: Others { ids, names },
        own: Others { ids: own, names: Vec::new() },
    }
}

// --- The schema, as introspection tells it -----------------------------------------------

const INTROSPECTION: &str = r#"{ __schema { queryType { name } mutationType { name }
  types { name kind
    fields { name args { name type { ...T } defaultValue } type { ...T } }
    inputFields { name type { ...T } defaultValue }
    enumValues { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"#;

struct Schema {
    types: HashMap<String, Value>,
}

/// A type reference without its NON_NULL and LIST wrappers: its name, and whether it was
/// non-null and a list at the outside.
struct TypeRef {
    name: String,
    required: bool,
    list: bool,
}

/// The type of an argument or input field; one with a default value need not be given.
fn type_of(field: &Value) -> TypeRef {
    TypeRef {
        required: field["defaultValue"].is_null() && field["type"]["kind"] == "NON_NULL",
        ..unwrap(&field["type"])
    }
}

fn unwrap(t: &Value) -> TypeRef {
    let required = t["kind"] == "NON_NULL";
    let mut list = false;
    let mut t = t;
    loop {
        match t["kind"].as_str() {
            Some("NON_NULL") => t = &t["ofType"],
            Some("LIST") => {
                list = true;
                t = &t["ofType"];
            }
            _ => break,
        }
    }
    TypeRef { name: t["name"].as_str().expect("name").to_owned(), required, list }
}

impl Schema {
    fn ty(&self, name: &str) -> &Value {
        &self.types[name]
    }

    fn kind(&self, name: &str) -> &str {
        self.ty(name)["kind"].as_str().expect("kind")
    }

    fn fields(&self, name: &str) -> Vec<Value> {
        self.ty(name)["fields"].as_array().cloned().unwrap_or_default()
    }

    /// A value for an argument or input field that is not an id slot being aimed.
    fn filler(&self, name: &str, t: &TypeRef, owner: &str, others: &Others) -> Option<String> {
        let scalar = match t.name.as_str() {
            "ID" => {
                let table = table_of_id(name, owner)?;
                format!("\"{}\"", others.sample(&table).first()?)
            }
            "String" => match name {
                "key" | "workflow" => "\"pdca\"".to_owned(),
                "schoolYear" => "\"2020-2021\"".to_owned(),
                "template" => "\"intervisie\"".to_owned(),
                _ => "\"x\"".to_owned(),
            },
            "Int" => if name == "year" { "2026" } else { "1" }.to_owned(),
            "Float" => "2.0".to_owned(),
            "Boolean" => "true".to_owned(),
            "NaiveDate" => "\"2026-10-01\"".to_owned(),
            "NaiveDateTime" => "\"2026-10-01T09:00:00\"".to_owned(),
            "DateTime" | "DateOrDateTime" => if name == "to" { "\"2030-01-01T00:00:00Z\"" } else { "\"2020-01-01T00:00:00Z\"" }.to_owned(),
            "JSON" => match name {
                "rule" => r#"{ kind: "dates", at: ["2027-03-01T09:00:00"] }"#.to_owned(),
                "action" => {
                    r#"{ kind: "reminder", title: "x", due_in_days: 7, assignee: { select: "role", role: "directeur" } }"#
                        .to_owned()
                }
                _ => "{}".to_owned(),
            },
            "ScopeInput" => {
                let kc = others.sample("kindcentrum");
                format!("{{ kind: KINDCENTRUM, id: \"{}\" }}", kc.first()?)
            }
            other => match self.kind(other) {
                "ENUM" => self.ty(other)["enumValues"][0]["name"].as_str().expect("enum").to_owned(),
                "INPUT_OBJECT" => self.input_object(other, others, None)?,
                kind => panic!("no filler for {other} ({kind})"),
            },
        };
        Some(if t.list { format!("[{scalar}]") } else { scalar })
    }

    /// An input object with its required fields filled, and `aim` (a field name and an
    /// id) set as well.
    fn input_object(&self, name: &str, others: &Others, aim: Option<(&str, i64)>) -> Option<String> {
        let mut parts = Vec::new();
        for field in self.ty(name)["inputFields"].as_array().expect("input fields") {
            let field_name = field["name"].as_str().expect("name");
            let t = type_of(field);
            if let Some((aimed, id)) = aim.filter(|(aimed, _)| *aimed == field_name) {
                let value = if t.list { format!("[\"{id}\"]") } else { format!("\"{id}\"") };
                parts.push(format!("{aimed}: {value}"));
            } else if t.required || (field_name == "date" && t.name == "NaiveDate") {
                // A measurement's period is given by its date, though no field is required.
                parts.push(format!("{field_name}: {}", self.filler(field_name, &t, name, others)?));
            }
        }
        Some(format!("{{ {} }}", parts.join(", ")))
    }

    /// Every field of an output type, `depth` levels deep, with `__typename` everywhere.
    fn selection(&self, name: &str, depth: usize, others: &Others) -> String {
        let mut parts = vec!["__typename".to_owned()];
        for field in self.fields(name) {
            let field_name = field["name"].as_str().expect("name");
            let t = unwrap(&field["type"]);
            let mut args = Vec::new();
            for arg in field["args"].as_array().expect("args") {
                let arg_t = type_of(arg);
                if arg_t.required {
                    let arg_name = arg["name"].as_str().expect("name");
                    match self.filler(arg_name, &arg_t, field_name, others) {
                        Some(value) => args.push(format!("{arg_name}: {value}")),
                        None => continue,
                    }
                }
            }
            let args = if args.is_empty() { String::new() } else { format!("({})", args.join(", ")) };
            match self.kind(&t.name) {
                "OBJECT" | "INTERFACE" | "UNION" => {
                    if depth > 1 {
                        parts.push(format!("{field_name}{args} {{ {} }}", self.selection(&t.name, depth - 1, others)));
                    }
                }
                _ => parts.push(format!("{field_name}{args}")),
            }
        }
        parts.join(" ")
    }

    /// The operations that aim a root field at the others: one per id slot (argument, or
    /// field of an input argument) and id of the others, plus one with only the required
    /// arguments. Each is the field's name and the operation text.
    fn aimed(&self, root: &str, operation: &str, depth: usize, others: &Others) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for field in self.fields(root) {
            let name = field["name"].as_str().expect("name").to_owned();
            let t = unwrap(&field["type"]);
            let selection = match self.kind(&t.name) {
                "OBJECT" => format!(" {{ {} }}", self.selection(&t.name, depth, others)),
                _ => String::new(),
            };
            let args = field["args"].as_array().expect("args").clone();
            // Each slot: (argument, input field if inside an input object, table).
            let mut slots: Vec<(String, Option<String>, String)> = Vec::new();
            for arg in &args {
                let arg_name = arg["name"].as_str().expect("name");
                let arg_t = unwrap(&arg["type"]);
                if arg_t.name == "ID" {
                    if let Some(table) = table_of_id(arg_name, &name) {
                        slots.push((arg_name.to_owned(), None, table));
                    }
                } else if self.kind(&arg_t.name) == "INPUT_OBJECT" && arg_t.name != "ScopeInput" {
                    for field in self.ty(&arg_t.name)["inputFields"].as_array().expect("input fields") {
                        let field_name = field["name"].as_str().expect("name");
                        if unwrap(&field["type"]).name == "ID"
                            && let Some(table) = table_of_id(field_name, &name)
                        {
                            slots.push((arg_name.to_owned(), Some(field_name.to_owned()), table));
                        }
                    }
                }
            }
            // A scope input aims at every kind of scope.
            let scope_kinds: Vec<String> = self.ty("ScopeKind")["enumValues"]
                .as_array()
                .expect("scope kinds")
                .iter()
                .map(|v| v["name"].as_str().expect("name").to_owned())
                .collect();
            let mut variants: Vec<HashMap<String, String>> = vec![HashMap::new()];
            for (arg, input_field, table) in &slots {
                for id in others.sample(table) {
                    let mut variant = HashMap::new();
                    let arg_t = unwrap(&args.iter().find(|a| a["name"] == arg.as_str()).expect("arg")["type"]);
                    let value = match input_field {
                        None if arg_t.list => format!("[\"{id}\"]"),
                        None => format!("\"{id}\""),
                        Some(input_field) => match self.input_object(&arg_t.name, others, Some((input_field, id))) {
                            Some(value) => value,
                            None => continue,
                        },
                    };
                    variant.insert(arg.clone(), value);
                    variants.push(variant);
                }
            }
            // Scope arguments aimed at each kind of scope of the others.
            for arg in args.iter().filter(|a| unwrap(&a["type"]).name == "ScopeInput") {
                for kind in &scope_kinds {
                    for id in others.sample(&kind.to_lowercase()) {
                        let mut variant = HashMap::new();
                        variant.insert(
                            arg["name"].as_str().expect("name").to_owned(),
                            format!("{{ kind: {kind}, id: \"{id}\" }}"),
                        );
                        variants.push(variant);
                    }
                }
            }
            for variant in variants {
                let mut parts = Vec::new();
                let mut complete = true;
                for arg in &args {
                    let arg_name = arg["name"].as_str().expect("name");
                    let arg_t = type_of(arg);
                    if let Some(value) = variant.get(arg_name) {
                        parts.push(format!("{arg_name}: {value}"));
                    } else if arg_t.required {
                        match self.filler(arg_name, &arg_t, &name, others) {
                            Some(value) => parts.push(format!("{arg_name}: {value}")),
                            None => complete = false,
                        }
                    }
                }
                if !complete {
                    continue;
                }
                let args = if parts.is_empty() { String::new() } else { format!("({})", parts.join(", ")) };
                out.push((name.clone(), format!("{operation} {{ {name}{args}{selection} }}")));
            }
        }
        out
    }
}

async fn schema(app: &Fixture) -> (Schema, String, String) {
    let body = post(&app.app, &app.admin, INTROSPECTION).await;
    let schema = &body["data"]["__schema"];
    let types = schema["types"]
        .as_array()
        .expect("types")
        .iter()
        .map(|t| (t["name"].as_str().expect("name").to_owned(), t.clone()))
        .collect();
    let query = schema["queryType"]["name"].as_str().expect("query").to_owned();
    let mutation = schema["mutationType"]["name"].as_str().expect("mutation").to_owned();
    (Schema { types }, query, mutation)
}

/// Every (table, id) of the others in an answer, and every name of theirs in its text.
fn leaks(others: &Others, answer: &Value) -> Vec<String> {
    fn walk(others: &Others, value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(object) => {
                if let (Some(Value::String(type_name)), Some(Value::String(id))) =
                    (object.get("__typename"), object.get("id"))
                {
                    let table = table_of(type_name);
                    if id.parse::<i64>().is_ok_and(|id| others.contains(&table, id)) {
                        found.push(format!("{type_name} {id}"));
                    }
                }
                object.values().for_each(|v| walk(others, v, found));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(others, v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(others, &answer["data"], &mut found);
    let text = answer["data"].to_string();
    found.extend(others.names.iter().filter(|name| text.contains(name.as_str())).cloned());
    found
}

fn codes(answer: &Value) -> Vec<String> {
    answer["errors"]
        .as_array()
        .map(|errors| errors.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or("?").to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_bestuur_token_sees_nothing_of_another_bestuur_on_any_root_field() {
    let app = setup().await;
    let (schema, query_root, _) = schema(&app).await;
    let operations = schema.aimed(&query_root, "query", 5, &app.others);
    let fields: BTreeSet<String> = operations.iter().map(|(field, _)| field.clone()).collect();
    let all: BTreeSet<String> =
        schema.fields(&query_root).iter().map(|f| f["name"].as_str().expect("name").to_owned()).collect();
    assert_eq!(fields, all, "every root field is walked");

    let mut seen_by_admin: BTreeSet<String> = BTreeSet::new();
    for (field, operation) in &operations {
        let answer = post(&app.app, &app.bestuur_a, operation).await;
        let leaked = leaks(&app.others, &answer);
        assert!(leaked.is_empty(), "`{field}` shows bestuur A {leaked:?}\n{operation}");
        for code in codes(&answer) {
            assert!(
                ["NOT_FOUND", "VALIDATION"].contains(&code.as_str()),
                "`{field}` answers {code} to bestuur A: {answer}\n{operation}"
            );
        }
        // The same operation with an admin token does reach the others: the walk is not
        // blind.
        let answer = post(&app.app, &app.admin, operation).await;
        for leak in leaks(&app.others, &answer) {
            seen_by_admin.insert(leak.split(' ').next().unwrap_or_default().to_owned());
        }
    }
    for type_name in [
        "Bestuur",
        "Kindcentrum",
        "Locatie",
        "Groep",
        "Team",
        "Professional",
        "Koersplan",
        "Doel",
        "Succescriterium",
        "Indicator",
        "Measurement",
        "Cycle",
        "CycleEvent",
        "Schedule",
        "Occurrence",
        "Reminder",
        "Scan",
        "CoachingEntry",
        "CriteriumMark",
        "SignalOverride",
    ] {
        assert!(seen_by_admin.contains(type_name), "the walk reaches no {type_name} of the others: {seen_by_admin:?}");
    }

    // And bestuur A does see its own.
    let answer = post(&app.app, &app.bestuur_a, "{ kindcentra { name koersplannen { titel: id } } }").await;
    assert_eq!(answer["data"]["kindcentra"].as_array().map(Vec::len), Some(1), "{answer}");
}

/// Every mutation aimed at the others, with `token`: each refused, nothing written. Answers
/// the mutations that were refused as NOT_FOUND at least once, and all of them.
async fn walk_mutations(app: &Fixture, token: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (not_found, walked) = walk_mutations_at(app, token, &app.others, "NOT_FOUND").await;
    let (schema, _, mutation_root) = schema(app).await;
    let all: BTreeSet<String> =
        schema.fields(&mutation_root).iter().map(|f| f["name"].as_str().expect("name").to_owned()).collect();
    assert_eq!(walked, all, "every mutation is walked");
    (not_found, all)
}

/// Every mutation aimed at the rows of `rows` it can be aimed at, with `token`: each
/// refused, nothing written. Answers the mutations refused with `wanted` at least once, and
/// those walked.
async fn walk_mutations_at(
    app: &Fixture,
    token: &str,
    rows: &Others,
    wanted: &str,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let (schema, _, mutation_root) = schema(app).await;
    let before = koers_testing::snapshot(&app.db, &["api_token"]).await;
    let operations = schema.aimed(&mutation_root, "mutation", 1, rows);
    let mut not_found: BTreeSet<String> = BTreeSet::new();
    let mut walked: BTreeSet<String> = BTreeSet::new();
    for (field, operation) in &operations {
        walked.insert(field.clone());
        let answer = post(&app.app, token, operation).await;
        assert!(answer["data"].is_null(), "`{field}` succeeded: {answer}\n{operation}");
        let codes = codes(&answer);
        assert!(
            !codes.is_empty() && codes.iter().all(|c| ["NOT_FOUND", "VALIDATION", "FORBIDDEN"].contains(&c.as_str())),
            "`{field}`: {answer}\n{operation}"
        );
        if codes.iter().any(|c| c == wanted) {
            not_found.insert(field.clone());
        }
    }
    assert_eq!(koers_testing::snapshot(&app.db, &["api_token"]).await, before, "nothing changed");
    (not_found, walked)
}

#[tokio::test]
async fn a_bestuur_token_changes_nothing_of_another_bestuur_with_any_mutation() {
    let app = setup().await;
    let (not_found, _) = walk_mutations(&app, &app.bestuur_a).await;
    // Bestuur A may only set signals; aimed at the others that is NOT_FOUND.
    assert!(not_found.contains("overrideSignal"), "{not_found:?}");
}

#[tokio::test]
async fn a_directeur_token_changes_nothing_of_another_bestuur_with_any_mutation() {
    let app = setup().await;
    // A directeur may make every change within its kindcentrum: aimed at the others, every
    // mutation answers NOT_FOUND, exactly as for ids that do not exist.
    let (not_found, all) = walk_mutations(&app, &app.directeur_a).await;
    assert_eq!(not_found, all);
}

#[tokio::test]
async fn a_reader_token_changes_nothing_of_its_own_kindcentrum_with_any_mutation() {
    let app = setup().await;
    // Aimed at the rows it reads, every mutation is beyond the role of a reader: FORBIDDEN.
    // (Bestuur A's kindcentrum has no opvang: the coaching, scan, reminder and pitch
    // mutations, and `updateProfessional`, find nothing of its own to aim at, and `each_role_changes_only_what_the_role_
    // table_allows` holds those to the role table.)
    let (forbidden, walked) = walk_mutations_at(&app, &app.reader_a, &app.own, "FORBIDDEN").await;
    assert_eq!(forbidden, walked);
    for editing in [
        "addDoel",
        "updateDoel",
        "addSuccescriterium",
        "updateSuccescriterium",
        "addPlanningItem",
        "updatePlanningItem",
        "addProfessional",
    ] {
        assert!(walked.contains(editing), "{editing} is walked: {walked:?}");
    }
}

// --- Roles --------------------------------------------------------------------------------

impl Fixture {
    async fn token(&self, role: AccessRole, scope: AccessScope) -> String {
        self.engine.create_token("test", role, scope, None).await.expect("token").token
    }

    async fn kindcentrum(&self, key: &str) -> i64 {
        self.engine.kindcentrum_by_key(key).await.expect("query").expect("kindcentrum").id
    }

    /// The first locatie, groep and team of a kindcentrum.
    async fn parts(&self, kindcentrum: i64) -> (i64, i64, i64) {
        let locatie = self.engine.locaties_of(&[kindcentrum]).await.expect("locaties")[&kindcentrum][0].id;
        let groep = self.engine.groepen_of(&[locatie]).await.expect("groepen")[&locatie][0].id;
        let team = self.engine.teams_of(&[kindcentrum]).await.expect("teams")[&kindcentrum][0].id;
        (locatie, groep, team)
    }
}

const SCANS: &str = "{ scans(groepId: \"GROEP\") { scores { childCode welbevinden } \
    welbevinden { mean urgentChildren attentionChildren } } }";

#[tokio::test]
async fn child_codes_are_for_the_coach_role_only_and_the_others_see_aggregates() {
    let app = setup().await;
    let heidevlinder = app.kindcentrum("heidevlinder").await;
    let (locatie, groep, _) = app.parts(heidevlinder).await;
    let fluks = app.engine.bestuur_by_key("fluks-opvang").await.expect("query").expect("fluks").id;
    let query = SCANS.replace("GROEP", &groep.to_string());

    let coach = app.token(AccessRole::Coach, AccessScope::Locatie(locatie)).await;
    let answer = post(&app.app, &coach, &query).await;
    let scan = &answer["data"]["scans"][0];
    assert_eq!(scan["scores"].as_array().map(Vec::len), Some(3), "{answer}");
    assert_eq!(scan["scores"][0]["childCode"], "k01");
    assert_eq!(scan["welbevinden"]["attentionChildren"], json!(["k01", "k02", "k03"]), "{answer}");

    for token in [
        app.token(AccessRole::Bestuur, AccessScope::Bestuur(fluks)).await,
        app.token(AccessRole::Directeur, AccessScope::Kindcentrum(heidevlinder)).await,
        app.token(AccessRole::Reader, AccessScope::Locatie(locatie)).await,
        app.admin.clone(),
    ] {
        let answer = post(&app.app, &token, &query).await;
        let scan = &answer["data"]["scans"][0];
        assert_eq!(scan["scores"], json!([]), "no child-level scores for {token}: {answer}");
        assert_eq!(scan["welbevinden"]["mean"], json!(3.0), "the aggregate stays: {answer}");
        assert_eq!(scan["welbevinden"]["attentionChildren"], json!([]), "{answer}");
    }
}

#[tokio::test]
async fn each_role_changes_only_what_the_role_table_allows() {
    let app = setup().await;
    let heidevlinder = app.kindcentrum("heidevlinder").await;
    let (locatie, groep, team) = app.parts(heidevlinder).await;
    let start = format!(
        "mutation {{ startCycle(input: {{ workflow: \"pdca\", title: \"Experiment\", teamId: \"{team}\" }}) {{ id }} }}"
    );
    let scan = format!(
        "mutation {{ recordScan(input: {{ groepId: \"{groep}\", scannedOn: \"2027-01-11\", technique: GROEP, \
         scores: [{{ welbevinden: 4, betrokkenheid: 4 }}] }}) {{ id }} }}"
    );
    let cases = [
        (AccessRole::Reader, AccessScope::Kindcentrum(heidevlinder), &start, "FORBIDDEN"),
        (AccessRole::Coach, AccessScope::Locatie(locatie), &start, "FORBIDDEN"),
        (AccessRole::Reader, AccessScope::Locatie(locatie), &scan, "FORBIDDEN"),
        (AccessRole::TeamMember, AccessScope::Team(team), &scan, "NOT_FOUND"),
        (AccessRole::TeamMember, AccessScope::Team(team), &start, "OK"),
        (AccessRole::Coach, AccessScope::Locatie(locatie), &scan, "OK"),
        (AccessRole::Directeur, AccessScope::Kindcentrum(heidevlinder), &start, "OK"),
    ];
    for (role, scope, operation, expected) in cases {
        let token = app.token(role, scope).await;
        let answer = post(&app.app, &token, operation).await;
        let got = codes(&answer).first().cloned().unwrap_or_else(|| "OK".to_owned());
        assert_eq!(got, expected, "{role} {scope}: {answer}\n{operation}");
    }
}

#[tokio::test]
async fn a_team_member_sees_the_cycles_of_its_team_and_nothing_of_the_kindcentrum_beyond() {
    let app = setup().await;
    let heidevlinder = app.kindcentrum("heidevlinder").await;
    let (_, _, team) = app.parts(heidevlinder).await;
    let token = app.token(AccessRole::TeamMember, AccessScope::Team(team)).await;
    let answer = post(
        &app.app,
        &token,
        "{ cycles { nodes { team { id } groep { id } } } kindcentra { id koersplannen { id } locaties { id } teams { id } } }",
    )
    .await;
    let cycles = answer["data"]["cycles"]["nodes"].as_array().expect("cycles");
    assert!(!cycles.is_empty(), "{answer}");
    let team_id = team.to_string();
    assert!(cycles.iter().all(|c| c["team"]["id"] == team_id.as_str()), "only the team's cycles: {answer}");
    // Its kindcentrum by name, with nothing in it but the team.
    assert_eq!(
        answer["data"]["kindcentra"],
        json!([{ "id": heidevlinder.to_string(), "koersplannen": [], "locaties": [], "teams": [{ "id": team.to_string() }] }])
    );
}

#[tokio::test]
async fn a_subscription_carries_only_the_events_within_reach() {
    use futures::{FutureExt as _, StreamExt as _};

    let app = setup().await;
    let caller = app.engine.authenticate(&app.bestuur_a).await.expect("query").expect("caller");
    let scoped = app.engine.scoped(app.engine.access(&caller).await.expect("access"));
    let schema = koers_graphql::schema(app.engine.clone());
    let request = async_graphql::Request::new("subscription { cycleEvents { cycleId } }")
        .data(scoped.clone())
        .data(koers_graphql::loader::new(scoped));
    let mut events = schema.execute_stream(request);
    // The first poll subscribes; nothing has happened yet.
    assert!(events.next().now_or_never().is_none());

    let start = |kindcentrum: &'static str| {
        let engine = app.engine.clone();
        async move {
            let kc = engine.kindcentrum_by_key(kindcentrum).await.expect("query").expect("kindcentrum").id;
            let team = engine.teams_of(&[kc]).await.expect("teams")[&kc][0].id;
            let start = StartCycle {
                workflow: "pdca".into(),
                title: "Experiment".into(),
                owner: Owner::Team(team),
                doelen: Vec::new(),
                due_dates: BTreeMap::new(),
                occurrence_id: None,
            };
            engine.start_cycle("setup", start).await.expect("cycle").id
        }
    };
    start("heidevlinder").await;
    let own = start("kc-balans").await;
    let first = events.next().await.expect("an event");
    assert_eq!(first.data.into_json().expect("json"), json!({ "cycleEvents": { "cycleId": own.to_string() } }));
}

/// The words of every text in an answer's data: a child code shows as one of them wherever
/// it is quoted (`"k07"`, "…: k07, k12", JSON in a string).
fn words(answer: &Value) -> BTreeSet<String> {
    fn walk(value: &Value, out: &mut BTreeSet<String>) {
        match value {
            Value::String(text) => {
                out.extend(text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::Object(fields) => fields.values().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(&answer["data"], &mut out);
    out
}

/// Every root field walked with every role but the coach's, over data whose scans put
/// children in the urgent band: no answer holds a child code, on any path (the scan's
/// scores, its summaries, the cycle's fields, iterations and events). The coach's walk does
/// find them, so the walk is not blind.
#[tokio::test]
async fn no_answer_to_a_non_coach_token_holds_a_child_code() {
    let app = setup().await;
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT DISTINCT child_code FROM scan_score WHERE child_code IS NOT NULL",
        ))
        .await
        .expect("codes");
    let child_codes: BTreeSet<String> =
        rows.iter().map(|r| r.try_get::<String>("", "child_code").expect("code")).collect();
    assert!(!child_codes.is_empty(), "the fixture's scans score children");

    let heidevlinder = app.kindcentrum("heidevlinder").await;
    let (locatie, _, _) = app.parts(heidevlinder).await;
    let fluks = app.engine.bestuur_by_key("fluks-opvang").await.expect("query").expect("fluks").id;
    let (schema, query_root, _) = schema(&app).await;
    let operations = schema.aimed(&query_root, "query", 5, &app.others);
    let tokens = [
        ("admin", app.admin.clone()),
        ("bestuur", app.token(AccessRole::Bestuur, AccessScope::Bestuur(fluks)).await),
        ("directeur", app.token(AccessRole::Directeur, AccessScope::Kindcentrum(heidevlinder)).await),
        ("reader", app.token(AccessRole::Reader, AccessScope::Locatie(locatie)).await),
    ];
    for (role, token) in &tokens {
        for (field, operation) in &operations {
            let answer = post(&app.app, token, operation).await;
            let shown: Vec<String> = words(&answer).intersection(&child_codes).cloned().collect();
            assert!(shown.is_empty(), "`{field}` shows the {role} child codes {shown:?}\n{operation}\n{answer}");
        }
    }
    let coach = app.token(AccessRole::Coach, AccessScope::Locatie(locatie)).await;
    let mut seen = BTreeSet::new();
    for (_, operation) in &operations {
        seen.extend(words(&post(&app.app, &coach, operation).await).intersection(&child_codes).cloned());
    }
    assert!(!seen.is_empty(), "the coach's walk reaches the child codes");
}

/// A scan recorded while a directeur listens to `cycleEvents`: the events it writes into
/// the groep's cycle carry the count of children in the urgent band, never their codes.
#[tokio::test]
async fn a_subscription_to_cycle_events_carries_no_child_code() {
    use futures::StreamExt as _;

    let app = setup().await;
    let heidevlinder = app.kindcentrum("heidevlinder").await;
    let (_, groep, _) = app.parts(heidevlinder).await;
    let directeur = app.token(AccessRole::Directeur, AccessScope::Kindcentrum(heidevlinder)).await;
    let caller = app.engine.authenticate(&directeur).await.expect("query").expect("caller");
    let scoped = app.engine.scoped(app.engine.access(&caller).await.expect("access"));
    let schema = koers_graphql::schema(app.engine.clone());
    let request = async_graphql::Request::new("subscription { cycleEvents { kind data } }")
        .data(scoped.clone())
        .data(koers_graphql::loader::new(scoped));
    let mut events = schema.execute_stream(request);
    let subscribed = futures::FutureExt::now_or_never(events.next());
    assert!(subscribed.is_none());

    let scores = [("k71", 1.5), ("k72", 2.0), ("k73", 4.0)]
        .iter()
        .enumerate()
        .map(|(i, (code, score))| NewScore::parse(i + 1, Some(code), *score, 4.0).expect("score"))
        .collect();
    let scan =
        NewScan { groep_id: groep, scanned_on: date(2027, 1, 11), technique: Technique::Kind, scores, note: None };
    app.engine.record_scan("coach", scan).await.expect("scan");
    let mut datas = Vec::new();
    while datas.iter().all(|d: &Value| d["cycleEvents"]["kind"] != "FIELDS_UPDATED") {
        let event = events.next().await.expect("an event");
        datas.push(event.data.into_json().expect("json"));
    }
    let text = serde_json::to_string(&datas).expect("json");
    for code in ["k71", "k72", "k73"] {
        assert!(!text.contains(code), "{code} in {text}");
    }
    assert!(text.contains("Welbevinden 1 tot 2 (hier moet men ter hulp snellen): 2 kinderen"), "{text}");
}

/// A directeur naming a doel of another bestuur in a cycle's field gets the answer of an
/// id that does not exist, word for word but the id: no existence oracle.
#[tokio::test]
async fn a_foreign_doel_in_a_field_answers_as_a_missing_one() {
    let app = setup().await;
    let balans = app.kindcentrum("kc-balans").await;
    let team = app.engine.teams_of(&[balans]).await.expect("teams")[&balans][0].id;
    let start = format!(
        "mutation {{ startCycle(input: {{ workflow: \"pdca\", title: \"Experiment\", teamId: \"{team}\" }}) {{ id }} }}"
    );
    let started = post(&app.app, &app.directeur_a, &start).await;
    let cycle = started["data"]["startCycle"]["id"].as_str().expect("cycle").to_owned();
    let set = |id: i64, version: i64| {
        let body = json!({
            "query": "mutation($input: UpdateCycleFieldsInput!) { updateCycleFields(input: $input) { version } }",
            "variables": { "input": { "cycleId": cycle, "expectedVersion": version, "fields": { "koersplanDoel": id } } },
        });
        let app = &app;
        async move {
            let request = Request::post("/graphql")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {}", app.directeur_a))
                .body(Body::from(body.to_string()))
                .expect("request");
            let response = app.app.clone().oneshot(request).await.expect("response");
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
            let answer: Value = serde_json::from_slice(&bytes).expect("json");
            (codes(&answer), answer["errors"][0]["message"].as_str().unwrap_or_default().replace(&id.to_string(), "ID"))
        }
    };
    let foreign = set(app.others.sample("doel")[0], 1).await;
    let missing = set(999_999, 1).await;
    assert_eq!(foreign.0, ["NOT_FOUND"], "{foreign:?}");
    assert_eq!(foreign, missing);
    // Its own doel is taken.
    let plans = app.engine.koersplannen_of(&[balans]).await.expect("plans")[&balans][0].id;
    let ambitie = app.engine.ambities_of(&[plans]).await.expect("ambities")[&plans][0].id;
    let own = app.engine.doelen_of(&[ambitie]).await.expect("doelen")[&ambitie][0].id;
    assert_eq!(set(own, 1).await, (Vec::new(), String::new()));
}

// --- The coach role ------------------------------------------------------------------------

/// A coach token of KC Balans's locatie (bestuur A's side: its houder is Vlietkinderen)
/// walks every root field and every mutation aimed at the others, as bestuur A's token does:
/// the houder's norm, log and IKK reminders it reads stay within its own locaties' houders.
#[tokio::test]
async fn a_coach_token_sees_and_changes_nothing_of_another_bestuur() {
    let app = setup().await;
    let balans = app.kindcentrum("kc-balans").await;
    let locatie = app.engine.locaties_of(&[balans]).await.expect("locaties")[&balans][0].id;
    let coach = app.token(AccessRole::Coach, AccessScope::Locatie(locatie)).await;
    let (schema, query_root, _) = schema(&app).await;
    for (field, operation) in schema.aimed(&query_root, "query", 5, &app.others) {
        let answer = post(&app.app, &coach, &operation).await;
        let leaked = leaks(&app.others, &answer);
        assert!(leaked.is_empty(), "`{field}` shows the coach {leaked:?}\n{operation}");
        for code in codes(&answer) {
            assert!(["NOT_FOUND", "VALIDATION"].contains(&code.as_str()), "`{field}` answers {code}: {answer}");
        }
    }
    let (not_found, _) = walk_mutations(&app, &coach).await;
    // The coach may log hours and record scans; aimed at the others that is NOT_FOUND.
    for field in ["logCoachingHours", "recordScan"] {
        assert!(not_found.contains(field), "{field}: {not_found:?}");
    }
}

/// Who reads the wet IKK norm and the coaching log of a houder (Fluks opvang), role by role:
/// those reaching the bestuur whole, and a coach of one of its locaties; for every other
/// token the houder answers NOT_FOUND. The coach reads nothing else of the bestuur.
#[tokio::test]
async fn each_role_reads_the_coaching_of_a_houder_as_the_role_table_says() {
    let app = setup().await;
    let heidevlinder = app.kindcentrum("heidevlinder").await;
    let (locatie, _, team) = app.parts(heidevlinder).await;
    let fluks = app.engine.bestuur_by_key("fluks-opvang").await.expect("query").expect("fluks").id;
    let onderwijs = app.engine.bestuur_by_key("fluks-onderwijs").await.expect("query").expect("bestuur").id;
    let maes = app
        .engine
        .professionals_of(&[heidevlinder], Page::first(100))
        .await
        .expect("staff")
        .remove(&heidevlinder)
        .unwrap_or_default()
        .items
        .into_iter()
        .find(|p| p.key == "c-maes")
        .expect("C. Maes")
        .id;
    let query = format!(
        "{{ coachingNorm(bestuurId: \"{fluks}\", year: 2026) {{ coachingRequiredHours }} \
         coachingEntries(bestuurId: \"{fluks}\") {{ totalCount }} }}"
    );
    let cases = [
        (AccessRole::Bestuur, AccessScope::Bestuur(fluks), "OK"),
        (AccessRole::Bestuur, AccessScope::Bestuur(onderwijs), "NOT_FOUND"),
        (AccessRole::Directeur, AccessScope::Kindcentrum(heidevlinder), "NOT_FOUND"),
        (AccessRole::Coach, AccessScope::Locatie(locatie), "OK"),
        (AccessRole::Coach, AccessScope::Professional(maes), "OK"),
        (AccessRole::TeamMember, AccessScope::Team(team), "NOT_FOUND"),
        (AccessRole::Reader, AccessScope::Locatie(locatie), "NOT_FOUND"),
    ];
    for (role, scope, expected) in cases {
        let token = app.token(role, scope).await;
        let answer = post(&app.app, &token, &query).await;
        let got = codes(&answer).first().cloned().unwrap_or_else(|| "OK".to_owned());
        assert_eq!(got, expected, "{role} {scope}: {answer}");
        if expected == "OK" {
            assert_eq!(answer["data"]["coachingNorm"]["coachingRequiredHours"].as_f64(), Some(12.0), "{answer}");
            assert_eq!(answer["data"]["coachingEntries"]["totalCount"], 1, "{answer}");
        }
    }
    // A coach of KC Balans reads the norm of Vlietkinderen, its opvang's houder; not the
    // koersplan of KC Balans, nor the houder's calendar, which the directeur does see.
    let balans = app.kindcentrum("kc-balans").await;
    let balans_locatie = app.engine.locaties_of(&[balans]).await.expect("locaties")[&balans][0].id;
    let vliet = app.engine.bestuur_by_key("vlietkinderen").await.expect("query").expect("vlietkinderen").id;
    let coach = app.token(AccessRole::Coach, AccessScope::Locatie(balans_locatie)).await;
    let beyond = format!(
        "kindcentra {{ koersplannen {{ id }} }} schedules {{ id }} \
         bestuur(id: \"{vliet}\") {{ voortgang {{ kindcentra {{ koersplannen {{ koersplan {{ id }} }} }} }} }}"
    );
    let query = format!("{{ coachingNorm(bestuurId: \"{vliet}\", year: 2026) {{ bestuur {{ name }} }} {beyond} }}");
    let answer = post(&app.app, &coach, &query).await;
    assert_eq!(codes(&answer), Vec::<String>::new(), "{answer}");
    assert_eq!(answer["data"]["coachingNorm"]["bestuur"]["name"], "Stichting Vlietkinderen");
    let plans = |answer: &Value| {
        let listed = answer["data"]["kindcentra"].as_array().expect("kindcentra").iter();
        let board = answer["data"]["bestuur"]["voortgang"]["kindcentra"].as_array().expect("voortgang").iter();
        listed.chain(board).map(|kc| kc["koersplannen"].as_array().map_or(0, Vec::len)).sum::<usize>()
    };
    assert_eq!(plans(&answer), 0, "{answer}");
    assert_eq!(answer["data"]["schedules"], json!([]), "{answer}");
    let directeur = post(&app.app, &app.directeur_a, &format!("{{ {beyond} }}")).await;
    assert!(plans(&directeur) > 0, "the check is not blind: {directeur}");
}
