//! Export and restore of one kindcentrum: a restored export exports to the same bytes and
//! answers the same questions, holds nothing of another kindcentrum, and a bad file or a
//! database with data is refused with nothing written. Every table of the schema is either
//! exported or deliberately not.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};
use koers_engine::access::token::AccessScope;
use koers_engine::calendar::template::TemplateOptions;
use koers_engine::clock::ManualClock;
use koers_engine::cycle::machine::Values;
use koers_engine::cycle::{NewPitch, Owner, StartCycle};
use koers_engine::domain::AccessRole;
use koers_engine::domain::ScheduleScope;
use koers_engine::domain::Signal;
use koers_engine::error::ExportRefused;
use koers_engine::io::csv::CsvKind;
use koers_engine::io::export::{Export, NOT_EXPORTED, TABLES};
use koers_engine::io::import::{import_file, import_str};
use koers_engine::plan::measurement::{NewMeasurement, Period};
use koers_engine::plan::progress::{Depth, Evidence, SignalSubject};
use koers_engine::store::entity::{
    bestuur, cycle, cycle_event, groep, indicator, kindcentrum, koersplan, locatie, onderdeel, professional,
    professional_kindcentrum, schedule, team, workflow_version,
};
use koers_engine::workflow::load;
use koers_engine::{Engine, Error};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

/// On top of the examples: a professional of KC Balans and Heidevlinder both, a VE
/// indication per houder, an indicator of a bestuur and one of a groep, and a koersplan of
/// Heidevlinder that uses both.
const EXTRA: &str = r#"
[[bestuur]]
key = "fluks-opvang"
name = "Fluks opvang"
kind = "kinderopvang"
voorschoolse_educatie = [{ year = 2026, children = 4 }]

[[bestuur]]
key = "spelen-is-leren"
name = "Stichting Spelen = Leren"
kind = "kinderopvang"
voorschoolse_educatie = [{ year = 2026, children = 9 }]

[[professional]]
key = "ib-gedeeld"
name = "M. de Vries"
employer = "lucas-onderwijs"
kindcentra = ["kc-balans", "heidevlinder"]
roles = ["intern-begeleider", "leerkracht"]
fte = [{ from = 2026-01-01, fte = 0.8 }]

[[indicator]]
key = "fluks-oudertevredenheid"
name = "Tevreden ouders Fluks"
unit = "%"
direction = "at-least"
target = 80.0
bestuur = "fluks-opvang"
measurements = [{ date = 2026-06-30, value = 84.0, source = "Enquête" }]

[[indicator]]
key = "borkel-welbevinden"
name = "Gemiddeld welbevinden BSO Borkel 1"
unit = "score"
direction = "at-least"
target = 3.5
kindcentrum = "heidevlinder"
locatie = "heidevlinder"
groep = "bso-borkel-1"
measurements = [{ date = 2026-03-31, value = 3.6, source = "Scan K1" }]

[koersplan]
key = "heidevlinder-2026"
kindcentrum = "heidevlinder"
title = "Locatiejaarplan 2026"
first_school_year = "2025-2026"
last_school_year = "2026-2027"
visie = "Kinderen voelen zich thuis"
pijlers = ["Welbevinden", "Ouders"]

[[koersplan.ambitie]]
key = "thuis"
title = "Een tweede thuis"

[[koersplan.ambitie.doel]]
key = "welbevinden"
title = "Hoog welbevinden op de BSO"
indicators = ["fluks-oudertevredenheid"]
succescriteria = [
  { description = "Welbevinden gemiddeld 3,5 of hoger", indicator = "borkel-welbevinden" },
  { description = "Ouders merken het" },
]
"#;

/// Two holidays per region, enough to tell the regions apart.
const HOLIDAYS: &str = r#"{ "content": [{ "schoolyear": "2026-2027", "vacations": [
  { "type": "Herfstvakantie", "regions": [
    { "region": "midden", "startdate": "2026-10-17T00:00:00.000Z", "enddate": "2026-10-25T00:00:00.000Z" },
    { "region": "zuid", "startdate": "2026-10-10T00:00:00.000Z", "enddate": "2026-10-18T00:00:00.000Z" } ] },
  { "type": "Kerstvakantie", "regions": [
    { "region": "heel Nederland", "startdate": "2026-12-19T00:00:00.000Z", "enddate": "2027-01-03T00:00:00.000Z" } ] }
] }] }"#;

fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../workflows/examples").join(name)
}

fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 8, 0, 0).single().expect("time")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn json_bytes(export: &Export) -> String {
    let mut out = Vec::new();
    export.write(&mut out).expect("write");
    String::from_utf8(out).expect("utf-8")
}

/// The examples with a year of their calendars, evidence of every kind and some cycles.
struct Demo {
    engine: Engine,
    clock: ManualClock,
    balans: i64,
    heidevlinder: i64,
    klinkert: i64,
}

async fn by_key<E: EntityTrait>(engine: &Engine, column: E::Column, key: &str) -> E::Model
where
    E::Column: ColumnTrait,
{
    E::find().filter(column.eq(key)).one(engine.db()).await.expect("query").expect(key)
}

async fn fresh(clock: &ManualClock) -> Engine {
    let db = koers_testing::database().await;
    Engine::with_clock(db, Arc::new(clock.clone()))
}

/// The demo in the test store (SQLite, or PostgreSQL when the tests run on it).
async fn demo() -> Demo {
    demo_in(koers_testing::database().await).await
}

async fn demo_in(db: DatabaseConnection) -> Demo {
    let clock = ManualClock::new(utc(2026, 1, 1));
    let engine = Engine::with_clock(db, Arc::new(clock.clone()));
    for file in ["kc-balans.toml", "heidevlinder.toml", "de-klinkert.toml"] {
        import_file(engine.db(), &example(file)).await.expect("import");
    }
    import_str(engine.db(), "extra.toml", EXTRA).await.expect("import extra");
    engine.register_workflows(load(None).expect("workflows")).await.expect("register");
    engine.import_holidays(HOLIDAYS).await.expect("holidays");
    let kc = |key| by_key::<kindcentrum::Entity>(&engine, kindcentrum::Column::Key, key);
    let (balans, heidevlinder, klinkert) =
        (kc("kc-balans").await.id, kc("heidevlinder").await.id, kc("de-klinkert").await.id);
    let demo = Demo { engine, clock, balans, heidevlinder, klinkert };
    demo.calendars().await;
    demo.evidence().await;
    demo.cycles().await;
    demo
}

impl Demo {
    /// Templates on every kind of scope, a bestuur's included, run through 2026.
    async fn calendars(&self) {
        let e = &self.engine;
        let bso = by_key::<groep::Entity>(e, groep::Column::Key, "bso-borkel-1").await;
        let plg = by_key::<team::Entity>(e, team::Column::Key, "onderwijsteam-plg").await;
        let fluks = by_key::<bestuur::Entity>(e, bestuur::Column::Key, "fluks-opvang").await;
        let ep_dagen = vec![date(2026, 9, 21).and_hms_opt(8, 30, 0).expect("time")];
        let applied = [
            ("ep-dag", ScheduleScope::Kindcentrum(self.balans), ep_dagen),
            ("groepsbespreking", ScheduleScope::Kindcentrum(self.balans), vec![]),
            ("sop-evaluatie", ScheduleScope::Team(plg.id), vec![]),
            ("welbevinden-scan", ScheduleScope::Kindcentrum(self.heidevlinder), vec![]),
            ("intervisie", ScheduleScope::Kindcentrum(self.heidevlinder), vec![]),
            ("kindvolggesprek", ScheduleScope::Groep(bso.id), vec![]),
            ("bhv-ehbo", ScheduleScope::Bestuur(fluks.id), vec![]),
        ];
        for (template, scope, dates) in applied {
            let options = TemplateOptions { dates, active_from: Some(date(2026, 1, 1)), ..TemplateOptions::default() };
            e.apply_template(template, scope, options).await.expect(template);
        }
        let end = utc(2026, 12, 31);
        e.materialize().await.expect("materialize");
        while let Some(next) = e.next_due().await.expect("next").filter(|at| *at <= end) {
            self.clock.set(next);
            e.run_scheduler_once().await.expect("run");
        }
        self.clock.set(end);
    }

    /// Scans, coaching hours and measurements from the example spreadsheets, and one more
    /// measurement, a mark and a signal set by hand for KC Balans.
    async fn evidence(&self) {
        let e = &self.engine;
        for (kind, file) in [
            (CsvKind::Scans, "scans.csv"),
            (CsvKind::Coaching, "coaching.csv"),
            (CsvKind::Measurements, "measurements.csv"),
        ] {
            let source = std::fs::read_to_string(example(file)).expect("csv");
            e.import_csv("test", kind, file, &source).await.expect(file);
        }
        let lezen = by_key::<indicator::Entity>(e, indicator::Column::Key, "balans-cito-lezen").await;
        let new = NewMeasurement {
            indicator_id: lezen.id,
            period: Period::day(date(2026, 6, 30)),
            value: 82.0,
            source: "Cito M".into(),
            note: None,
        };
        let measured = e.record_measurement(new).await.expect("measurement");
        let plan = by_key::<koersplan::Entity>(e, koersplan::Column::Key, "kc-balans-2019-2023").await;
        let criterium = self.first_doel(plan.id).await.1.expect("a succescriterium");
        let evidence = Evidence { measurement_id: Some(measured.id), ..Evidence::default() };
        e.mark_succescriterium_met("directeur", criterium, evidence).await.expect("mark");
        e.override_signal("bestuur", SignalSubject::Koersplan(plan.id), Some(Signal::OpKoers), "Focustraject loopt")
            .await
            .expect("override");
    }

    /// A PDCA cycle of KC Balans's PLG, and a 4xD cycle with a pitch of the professional who
    /// works at KC Balans and Heidevlinder, serving a doel of each.
    async fn cycles(&self) {
        let e = &self.engine;
        let balans_plan = by_key::<koersplan::Entity>(e, koersplan::Column::Key, "kc-balans-2019-2023").await;
        let heide_plan = by_key::<koersplan::Entity>(e, koersplan::Column::Key, "heidevlinder-2026").await;
        let (balans_doel, _) = self.first_doel(balans_plan.id).await;
        let (heide_doel, _) = self.first_doel(heide_plan.id).await;
        let plg = by_key::<team::Entity>(e, team::Column::Key, "onderwijsteam-plg").await;
        let gedeeld = by_key::<professional::Entity>(e, professional::Column::Key, "ib-gedeeld").await;
        let start = |(workflow, first): (&str, &str), owner, doelen| StartCycle {
            workflow: workflow.into(),
            title: format!("{workflow} van {owner:?}"),
            owner,
            doelen,
            due_dates: BTreeMap::from([(first.to_owned(), date(2027, 1, 31))]),
            occurrence_id: None,
        };
        let pdca =
            e.start_cycle("test", start(("pdca", "plan"), Owner::Team(plg.id), vec![balans_doel])).await.expect("pdca");
        let plan: Values =
            serde_json::from_value(json!({"doelen": ["Samen lezen"], "criteria": ["Elke week"]})).expect("values");
        e.advance_cycle("test", pdca.id, pdca.version, "do", plan).await.expect("advance");
        let owner = Owner::Professional(gedeeld.id);
        let vierxd =
            e.start_cycle("test", start(("vierxd", "data"), owner, vec![balans_doel, heide_doel])).await.expect("4xD");
        let pitch = NewPitch {
            professional_id: gedeeld.id,
            date: date(2026, 9, 21),
            did: "Leesgroepjes".into(),
            yielded: "Meer leesplezier".into(),
        };
        e.add_pitch("test", vierxd.id, vierxd.version, pitch).await.expect("pitch");
    }

    /// The first doel of a koersplan, and the first succescriterium of that doel.
    async fn first_doel(&self, plan: i64) -> (i64, Option<i64>) {
        let e = &self.engine;
        let ambitie = e.ambities_of(&[plan]).await.expect("ambities").remove(&plan).expect("ambities")[0].id;
        let doel = e.doelen_of(&[ambitie]).await.expect("doelen").remove(&ambitie).expect("doelen")[0].id;
        let criteria = e.succescriteria_of(&[doel]).await.expect("criteria").remove(&doel).unwrap_or_default();
        (doel, criteria.first().map(|c| c.id))
    }

    async fn export(&self, kindcentrum: i64) -> Export {
        self.engine.export_kindcentrum(kindcentrum).await.expect("export")
    }

    /// What the boards of a kindcentrum see, as text.
    async fn boards(engine: &Engine, export: &Export) -> Vec<String> {
        let mut boards = Vec::new();
        for row in export.rows("kindcentrum_bestuur") {
            let bestuur = row["bestuur_id"].as_i64().expect("id");
            let board = engine.board_progress(bestuur, date(2026, 12, 31), Depth::Succescriteria).await.expect("board");
            boards.push(format!("{board:?}"));
        }
        boards
    }
}

fn ids(export: &Export, table: &str, column: &str) -> BTreeSet<i64> {
    export.rows(table).iter().filter_map(|r| r[column].as_i64()).collect()
}

#[tokio::test]
async fn a_restored_export_exports_the_same_bytes_and_answers_the_same() {
    let demo = demo().await;
    for kindcentrum in [demo.balans, demo.heidevlinder, demo.klinkert] {
        let export = demo.export(kindcentrum).await;
        let names: Vec<&str> = export.tables().map(|(t, _)| t).collect();
        assert_eq!(names, TABLES, "every table, in order");
        let text = json_bytes(&export);
        let parsed = Export::parse(&text).expect("parse");
        assert_eq!(parsed, export);

        let restored = fresh(&demo.clock).await;
        let report = restored.restore_export(&parsed).await.expect("restore");
        let rows: usize = export.tables().map(|(_, rows)| rows.len()).sum();
        assert_eq!((report.written, report.kept), (rows, 0));
        let again = restored.export_kindcentrum(kindcentrum).await.expect("export again");
        assert_eq!(json_bytes(&again), text, "kindcentrum {kindcentrum}");
        assert_eq!(Demo::boards(&restored, &export).await, Demo::boards(&demo.engine, &export).await);
        for cycle in ids(&export, "cycle", "id") {
            let row = restored.cycle(cycle).await.expect("q").expect("cycle");
            let replayed = restored.replay_cycle(cycle).await.expect("replay").expect("events");
            assert_eq!(koers_engine::cycle::state_of(&row).expect("state"), replayed);
        }
    }

    // The examples filled every table that can belong to a kindcentrum.
    let heidevlinder = demo.export(demo.heidevlinder).await;
    let balans = demo.export(demo.balans).await;
    for table in TABLES {
        assert!(!heidevlinder.rows(table).is_empty() || !balans.rows(table).is_empty(), "no rows in {table}");
    }
}

/// The ids of the kindcentra other than `mine`, and of what hangs off them, by the column
/// that refers to them.
async fn others(demo: &Demo, mine: i64) -> BTreeMap<&'static str, BTreeSet<i64>> {
    let db = demo.engine.db();
    let kindcentra: BTreeSet<i64> =
        [demo.balans, demo.heidevlinder, demo.klinkert].into_iter().filter(|k| *k != mine).collect();
    let of = |rows: Vec<(i64, i64)>| -> BTreeSet<i64> {
        rows.into_iter().filter(|(_, kc)| kindcentra.contains(kc)).map(|(id, _)| id).collect()
    };
    let locaties =
        of(locatie::Entity::find().all(db).await.expect("q").iter().map(|l| (l.id, l.kindcentrum_id)).collect());
    let groepen = groep::Entity::find().all(db).await.expect("q");
    let groepen: BTreeSet<i64> = groepen.iter().filter(|g| locaties.contains(&g.locatie_id)).map(|g| g.id).collect();
    let teams = of(team::Entity::find().all(db).await.expect("q").iter().map(|t| (t.id, t.kindcentrum_id)).collect());
    let onderdelen =
        of(onderdeel::Entity::find().all(db).await.expect("q").iter().map(|o| (o.id, o.kindcentrum_id)).collect());
    let plannen =
        of(koersplan::Entity::find().all(db).await.expect("q").iter().map(|k| (k.id, k.kindcentrum_id)).collect());
    let indicators = indicator::Entity::find().all(db).await.expect("q");
    let indicators: BTreeSet<i64> =
        indicators.iter().filter(|i| i.kindcentrum_id.is_some_and(|k| kindcentra.contains(&k))).map(|i| i.id).collect();
    let only_there: BTreeSet<i64> = {
        let links = professional_kindcentrum::Entity::find().all(db).await.expect("q");
        let mine: BTreeSet<i64> =
            links.iter().filter(|l| l.kindcentrum_id == mine).map(|l| l.professional_id).collect();
        links.iter().map(|l| l.professional_id).filter(|p| !mine.contains(p)).collect()
    };
    BTreeMap::from([
        ("kindcentrum_id", kindcentra),
        ("locatie_id", locaties),
        ("groep_id", groepen),
        ("team_id", teams),
        ("onderdeel_id", onderdelen),
        ("koersplan_id", plannen),
        ("indicator_id", indicators),
        ("professional_id", only_there),
    ])
}

#[tokio::test]
async fn an_export_holds_nothing_of_another_kindcentrum() {
    let demo = demo().await;
    for mine in [demo.balans, demo.heidevlinder] {
        let export = demo.export(mine).await;
        let others = others(&demo, mine).await;
        // A row's own id counts as a reference to itself.
        let own_id = |table: &str| format!("{table}_id");
        for (table, rows) in export.tables() {
            for row in rows {
                for (column, ids) in &others {
                    let id = if own_id(table) == *column { row.get("id") } else { row.get(*column) };
                    let id = id.and_then(Value::as_i64);
                    assert!(id.is_none_or(|id| !ids.contains(&id)), "{table} {row} refers to another kindcentrum");
                }
            }
        }
        let professionals = ids(&export, "professional", "id");
        assert!(professionals.is_disjoint(&others["professional_id"]), "professionals of elsewhere only");
    }

    let heidevlinder = demo.export(demo.heidevlinder).await;
    let besturen: BTreeSet<&str> = heidevlinder.rows("bestuur").iter().filter_map(|b| b["key"].as_str()).collect();
    assert_eq!(
        besturen,
        BTreeSet::from(["fluks-onderwijs", "fluks-opvang", "lucas-onderwijs"]),
        "its own, and the employer of the professional shared with KC Balans"
    );
    let ve: Vec<&Value> = heidevlinder.rows("ve_indication").iter().map(|v| &v["children"]).collect();
    assert_eq!(ve, [&json!(4)], "Fluks opvang's only; lucas-onderwijs is no houder of Heidevlinder");
    let regions: BTreeSet<&str> =
        heidevlinder.rows("school_holiday").iter().filter_map(|h| h["region"].as_str()).collect();
    assert_eq!(regions, BTreeSet::from(["zuid"]));

    // The 4xD cycle of the shared professional goes along with both kindcentra, each time
    // serving only the doelen of the kindcentrum exported.
    let shared_cycle = |export: &Export| -> i64 {
        let rows = export.rows("cycle");
        let row = rows.iter().find(|c| c["workflow_key"] == "vierxd" && c["professional_id"].is_i64());
        row.and_then(|c| c["id"].as_i64()).expect("the shared 4xD cycle")
    };
    let balans = demo.export(demo.balans).await;
    assert_eq!(shared_cycle(&balans), shared_cycle(&heidevlinder));
    for export in [&balans, &heidevlinder] {
        let doelen = ids(export, "doel", "id");
        let served = ids(export, "cycle_doel", "doel_id");
        assert!(!served.is_empty() && served.is_subset(&doelen), "{served:?} within {doelen:?}");
    }

    // The BHV reminder of Fluks opvang's schedule is Heidevlinder's, but not the schedule.
    let reminder =
        heidevlinder.rows("reminder").iter().find(|r| r["title"].as_str().is_some_and(|t| t.starts_with("BHV")));
    assert_eq!(reminder.expect("the BHV reminder")["occurrence_id"], Value::Null);
    assert!(heidevlinder.rows("schedule").iter().all(|s| s["scope_kind"] != "bestuur"));
}

#[tokio::test]
async fn restore_refuses_a_database_with_data_and_bad_files_and_writes_nothing() {
    let demo = demo().await;
    let export = demo.export(demo.heidevlinder).await;
    let refused = demo.engine.restore_export(&export).await.expect_err("not empty");
    assert!(matches!(refused, Error::Export(ExportRefused::NotEmpty)), "{refused}");

    let text = json_bytes(&export);
    let document: Value = serde_json::from_str(&text).expect("json");
    let changed = |edit: &dyn Fn(&mut Value)| {
        let mut document = document.clone();
        edit(&mut document);
        document.to_string()
    };
    let parse_error = |text: String| Export::parse(&text).expect_err("refused").to_string();
    assert!(parse_error("{".into()).contains("not a koers export"));
    assert!(parse_error(changed(&|d| d["format"] = json!("iets anders"))).contains("`format` must be `koers-export`"));
    assert!(parse_error(changed(&|d| d["version"] = json!(2))).contains("export version 2 is not supported"));
    let unknown = parse_error(changed(&|d| d["tables"]["api_token"] = json!([])));
    assert!(unknown.contains("table `api_token` is not part of a koers export"), "{unknown}");
    let missing = parse_error(changed(&|d| {
        d["tables"].as_object_mut().expect("tables").remove("pitch");
    }));
    assert!(missing.contains("table `pitch` is missing"), "{missing}");
    assert!(parse_error(changed(&|d| d["kindcentrum"] = json!(demo.balans))).contains("must hold kindcentrum"));

    // Rows that do not fit are named by table and row (from 1); whatever came before them
    // in the same restore is rolled back.
    let last_score = export.rows("scan_score").len() - 1;
    // (table, row, column, its new value or None to drop it, what the refusal says)
    let cases = [
        ("scan_score", last_score, "welbevinden", Some(json!(9.0)), "table `scan_score`, row 4"),
        ("coaching_entry", 1, "hours", Some(json!("veel")), "table `coaching_entry`, row 2"),
        ("locatie", 0, "verdieping", Some(json!(2)), "`verdieping` is not a column of `locatie`"),
        ("groep", 0, "name", None, "table `groep`, row 1: column `name` is missing"),
    ];
    for (table, row, column, value, expected) in cases {
        let text = changed(&|d| {
            let fields = d["tables"][table][row].as_object_mut().expect("row");
            match value.clone() {
                Some(value) => fields.insert(column.to_owned(), value),
                None => fields.remove(column),
            };
        });
        let bad = Export::parse(&text).expect("the document itself is fine");
        let target = fresh(&demo.clock).await;
        let refused = target.restore_export(&bad).await.expect_err("refused").to_string();
        assert!(refused.contains(expected), "{refused}");
        assert!(target.is_empty().await.expect("q"));
        assert_eq!(workflow_version::Entity::find().count(target.db()).await.expect("q"), 0, "{expected}");
    }
}

#[tokio::test]
async fn an_engine_scoped_to_a_token_neither_exports_nor_restores() {
    let demo = demo().await;
    let export = demo.export(demo.balans).await;
    let token = demo.engine.create_token("beheer", AccessRole::Admin, AccessScope::All, None).await.expect("token");
    let caller = demo.engine.authenticate(&token.token).await.expect("q").expect("valid");
    let scoped = demo.engine.scoped(demo.engine.access(&caller).await.expect("access"));
    let refused = scoped.export_kindcentrum(demo.balans).await.expect_err("scoped");
    assert!(matches!(&refused, Error::Forbidden(m) if m.contains("koers export")), "{refused}");
    let target = fresh(&demo.clock).await;
    let scoped = target.scoped(demo.engine.access(&caller).await.expect("access"));
    assert!(matches!(scoped.restore_export(&export).await, Err(Error::Forbidden(_))));
    assert!(target.is_empty().await.expect("q"));
}

#[tokio::test]
async fn restore_keeps_the_workflow_versions_a_server_registered_already() {
    let demo = demo().await;
    let export = demo.export(demo.balans).await;
    let target = fresh(&demo.clock).await;
    target.register_workflows(load(None).expect("workflows")).await.expect("register");
    let report = target.restore_export(&export).await.expect("restore");
    assert_eq!(report.kept, export.rows("workflow_version").len());
    assert!(report.kept > 0);
}

#[tokio::test]
async fn every_table_is_exported_or_deliberately_not() {
    let engine = fresh(&ManualClock::new(utc(2026, 1, 1))).await;
    let tables: BTreeSet<String> = koers_testing::tables(engine.db()).await.into_iter().collect();
    let covered: BTreeSet<String> = TABLES.iter().chain(NOT_EXPORTED).map(|t| (*t).to_owned()).collect();
    let forgotten: Vec<&String> = tables.difference(&covered).collect();
    assert!(forgotten.is_empty(), "add these to TABLES or NOT_EXPORTED in engine/src/io/export/mod.rs: {forgotten:?}");
    assert_eq!(covered, tables, "TABLES and NOT_EXPORTED name only tables of the schema");
}

// --- A restore checks every row as the services that write such rows do ----------------

/// The document of an export as JSON, to edit.
fn document(export: &Export) -> Value {
    serde_json::from_str(&json_bytes(export)).expect("json")
}

/// The position (from 0) of the first row of `table` that `wanted` picks.
fn position(document: &Value, table: &str, wanted: impl Fn(&Value) -> bool) -> usize {
    let rows = document["tables"][table].as_array().expect("rows");
    rows.iter().position(wanted).unwrap_or_else(|| panic!("no such row in `{table}`"))
}

/// A JSON text column of a row, edited as JSON.
fn edit_text(row: &mut Value, column: &str, edit: impl FnOnce(&mut Value)) {
    let mut value: Value = serde_json::from_str(row[column].as_str().expect("text")).expect("json text");
    edit(&mut value);
    row[column] = json!(value.to_string());
}

/// Restores an edited document into an empty database, which refuses one of its rows:
/// answers the refusal, once it is clear that the database holds nothing of the document.
async fn refusal(demo: &Demo, document: &Value) -> String {
    let export = Export::parse(&document.to_string()).expect("the document itself is fine");
    let target = fresh(&demo.clock).await;
    let refused = target.restore_export(&export).await.expect_err("refused");
    assert!(matches!(refused, Error::Export(ExportRefused::Row { .. })), "{refused}");
    let left = koers_testing::snapshot(target.db(), &[]).await;
    assert!(left.values().all(Vec::is_empty), "the refused restore wrote {left:?}");
    refused.to_string()
}

/// The PDCA cycle the demo's PLG runs: started, and advanced from plan to do.
fn plg_cycle(row: &Value) -> bool {
    row["title"].as_str().is_some_and(|t| t.starts_with("pdca van Team"))
}

#[tokio::test]
async fn restore_refuses_a_cycle_whose_status_is_neither_open_nor_closed() {
    let demo = demo().await;
    let mut document = document(&demo.export(demo.balans).await);
    let row = position(&document, "cycle", plg_cycle);
    document["tables"]["cycle"][row]["status"] = json!("bogus");
    assert_eq!(
        refusal(&demo, &document).await,
        format!(
            "table `cycle`, row {}: column `status`: `bogus` is not the status of a cycle: it is `open` or `closed`",
            row + 1
        )
    );
}

#[tokio::test]
async fn restore_refuses_a_cycle_whose_fields_cannot_be_read() {
    let demo = demo().await;
    let document = document(&demo.export(demo.balans).await);
    let row = position(&document, "cycle", plg_cycle);
    // Not JSON; JSON but no object; an object whose keys are no iterations.
    for fields in ["{\"1\": {\"plan\"", "[\"Samen lezen\"]", "{\"eerste\": {}}"] {
        let mut document = document.clone();
        document["tables"]["cycle"][row]["fields"] = json!(fields);
        let refused = refusal(&demo, &document).await;
        let expected = format!(
            "table `cycle`, row {}: column `fields`: not the fields of a cycle, a JSON object of iteration -> phase -> \
             field -> value: ",
            row + 1
        );
        assert!(refused.starts_with(&expected), "{fields}: {refused}");
    }
}

#[tokio::test]
async fn restore_refuses_an_event_of_a_kind_the_state_machine_does_not_know() {
    let demo = demo().await;
    let mut document = document(&demo.export(demo.balans).await);
    let cycle = document["tables"]["cycle"][position(&document, "cycle", plg_cycle)]["id"].clone();
    let row = position(&document, "cycle_event", |e| e["cycle_id"] == cycle && e["kind"] == "advanced");
    edit_text(&mut document["tables"]["cycle_event"][row], "data", |data| data["kind"] = json!("teleported"));
    let refused = refusal(&demo, &document).await;
    let expected = format!(
        "table `cycle_event`, row {}: column `data` is not an event of a cycle: unknown variant `teleported`",
        row + 1
    );
    assert!(refused.starts_with(&expected), "{refused}");
    // The `kind` column holds one of the kinds the state machine knows.
    document["tables"]["cycle_event"][row]["kind"] = json!("teleported");
    let refused = refusal(&demo, &document).await;
    let expected = format!(
        "table `cycle_event`, row {}: column `kind`: `teleported` is not the kind of an event of a cycle: it is one \
         of `started`, `fields_updated`, `advanced`, `iterated`, `closed`, `reopened` or `pitch_added`",
        row + 1
    );
    assert!(refused.starts_with(&expected), "{refused}");
}

#[tokio::test]
async fn restore_refuses_a_cycle_that_is_not_the_replay_of_its_events() {
    let demo = demo().await;
    let document = document(&demo.export(demo.balans).await);
    let row = position(&document, "cycle", plg_cycle);
    let cycle = document["tables"]["cycle"][row]["id"].clone();
    let advanced = position(&document, "cycle_event", |e| e["cycle_id"] == cycle && e["kind"] == "advanced");

    // The cycle claims a state its events do not lead to.
    let claims = [
        ("phase", json!("act"), "column `phase` holds act, the events lead to do"),
        ("version", json!(5), "column `version` holds 5, the events lead to 2"),
        ("iteration", json!(2), "column `iteration` holds 2, the events lead to 1"),
    ];
    for (column, value, difference) in claims {
        let mut document = document.clone();
        document["tables"]["cycle"][row][column] = value;
        assert_eq!(
            refusal(&demo, &document).await,
            format!("table `cycle`, row {}: the cycle is not the replay of its 2 events: {difference}", row + 1)
        );
    }

    // The cycle and its events agree, but the workflow never makes such a history: a step
    // past a phase, and leaving a phase with a required field empty.
    let mut skipped = document.clone();
    skipped["tables"]["cycle"][row]["phase"] = json!("check");
    let event = &mut skipped["tables"]["cycle_event"][advanced];
    event["to_phase"] = json!("check");
    edit_text(event, "data", |data| data["to"] = json!("check"));
    assert_eq!(
        refusal(&demo, &skipped).await,
        format!(
            "table `cycle_event`, row {}: cycle {cycle}: `advanced` is not allowed here: no transition from `plan` to \
             `check`; allowed: `do`",
            advanced + 1
        )
    );
    let mut unfilled = document.clone();
    edit_text(&mut unfilled["tables"]["cycle"][row], "fields", |fields| {
        fields["1"]["plan"].as_object_mut().expect("plan").remove("criteria");
    });
    edit_text(&mut unfilled["tables"]["cycle_event"][advanced], "data", |data| {
        data["values"].as_object_mut().expect("values").remove("criteria");
    });
    assert_eq!(
        refusal(&demo, &unfilled).await,
        format!(
            "table `cycle_event`, row {}: cycle {cycle}: `advanced` is not allowed here: phase `plan` cannot be left \
             while these required fields are empty: criteria",
            advanced + 1
        )
    );

    // An event row that does not hold what its event makes of it.
    let mut renumbered = document.clone();
    renumbered["tables"]["cycle_event"][advanced]["iteration"] = json!(3);
    assert_eq!(
        refusal(&demo, &renumbered).await,
        format!(
            "table `cycle_event`, row {}: column `iteration` holds 3; the `advanced` event it records makes it 1",
            advanced + 1
        )
    );
}

#[tokio::test]
async fn restore_refuses_a_child_name_where_a_scan_has_a_child_code() {
    let demo = demo().await;
    let document = document(&demo.export(demo.heidevlinder).await);
    let row = position(&document, "scan_score", |s| s["child_code"].is_string());
    let refusals = [
        ("Sanne de Vries", "child code `Sanne de Vries` may only hold letters, digits, `-` and `_`"),
        ("Sanne", "child code `Sanne` has no digit: use a pseudonymous code such as `k07`, never a child's name"),
    ];
    for (name, reason) in refusals {
        let mut document = document.clone();
        document["tables"]["scan_score"][row]["child_code"] = json!(name);
        assert_eq!(
            refusal(&demo, &document).await,
            format!("table `scan_score`, row {}: column `child_code`: {reason}", row + 1)
        );
    }
}

#[tokio::test]
async fn restore_refuses_rows_the_importers_and_the_scheduler_would_refuse() {
    let demo = demo().await;
    let document = document(&demo.export(demo.heidevlinder).await);
    let first = |table: &str| position(&document, table, |_| true);
    let with_code = position(&document, "scan_score", |s| s["child_code"].is_string());
    let cases: [(&str, usize, &str, Value, &str); 7] = [
        (
            "scan_score",
            with_code,
            "welbevinden",
            json!(3.25),
            "column `welbevinden`: score 3.25 is not on the Leuven scale",
        ),
        ("coaching_entry", first("coaching_entry"), "hours", json!(25.0), "column `hours`: 25 hours: an entry has"),
        ("scan", first("scan"), "technique", json!("klas"), "column `technique`: `klas` is not a scan technique"),
        (
            "schedule",
            first("schedule"),
            "rule",
            json!("{\"kind\": \"cron\", \"expression\": \"elke maandag\"}"),
            "invalid cron expression `elke maandag`",
        ),
        (
            "schedule",
            first("schedule"),
            "scope_kind",
            json!("gemeente"),
            "column `scope_kind`: `gemeente` is not a scope",
        ),
        (
            "occurrence",
            first("occurrence"),
            "status",
            json!("vergeten"),
            "column `status`: `vergeten` is not the status of an occurrence",
        ),
        ("bestuur", first("bestuur"), "kind", json!("gemeente"), "unknown variant `gemeente`"),
    ];
    for (table, row, column, value, reason) in cases {
        let mut document = document.clone();
        document["tables"][table][row][column] = value;
        let refused = refusal(&demo, &document).await;
        let at = format!("table `{table}`, row {}: ", row + 1);
        assert!(refused.starts_with(&at) && refused.contains(reason), "{refused}");
    }
}

#[tokio::test]
async fn restore_refuses_a_workflow_version_that_is_not_its_definition() {
    let demo = demo().await;
    let document = document(&demo.export(demo.balans).await);
    let row = position(&document, "workflow_version", |w| w["key"] == "pdca");
    let mut edited = document.clone();
    edit_text(&mut edited["tables"]["workflow_version"][row], "definition", |def| def["name"] = json!("PDCA, anders"));
    let refused = refusal(&demo, &edited).await;
    let expected =
        format!("table `workflow_version`, row {}: column `hash` is not the hash of the definition", row + 1);
    assert!(refused.starts_with(&expected), "{refused}");
    let mut edited = document.clone();
    edit_text(&mut edited["tables"]["workflow_version"][row], "definition", |def| {
        def["phase"].as_array_mut().expect("phases").iter_mut().for_each(|p| p["initial"] = json!(false));
    });
    let refused = refusal(&demo, &edited).await;
    assert!(refused.contains("column `definition`: no initial phase"), "{refused}");
}

#[tokio::test]
async fn a_valid_export_restores_and_every_restored_cycle_reads() {
    let demo = demo().await;
    let e = &demo.engine;
    // A PDCA cycle through every kind of step: two rounds, closed, reopened.
    let plg = by_key::<team::Entity>(e, team::Column::Key, "onderwijsteam-plg").await;
    let plan = by_key::<koersplan::Entity>(e, koersplan::Column::Key, "kc-balans-2019-2023").await;
    let (doel, _) = demo.first_doel(plan.id).await;
    let lezen = by_key::<indicator::Entity>(e, indicator::Column::Key, "balans-cito-lezen").await;
    let start = StartCycle {
        workflow: "pdca".into(),
        title: "Rondes".into(),
        owner: Owner::Team(plg.id),
        doelen: vec![doel],
        due_dates: BTreeMap::from([("check".to_owned(), date(2027, 3, 1))]),
        occurrence_id: None,
    };
    let values = |v: Value| -> Values { serde_json::from_value(v).expect("values") };
    let mut cycle = e.start_cycle("test", start).await.expect("start");
    for round in 1..=2 {
        let plan = json!({"doelen": [format!("Ronde {round}")], "criteria": ["Elke week"], "koersplanDoel": doel});
        cycle = e.advance_cycle("test", cycle.id, cycle.version, "do", values(plan)).await.expect("do");
        let done = json!({"logboek": "Gedaan"});
        cycle = e.advance_cycle("test", cycle.id, cycle.version, "check", values(done)).await.expect("check");
        let checked = json!({"realisatie": "Deels", "meting": lezen.id});
        cycle = e.advance_cycle("test", cycle.id, cycle.version, "act", values(checked)).await.expect("act");
        let besluit = if round == 1 { "bijstellen" } else { "borgen" };
        let acted = json!({"analyse": "Te weinig tijd", "besluit": besluit});
        cycle = if round == 1 {
            e.advance_cycle("test", cycle.id, cycle.version, "plan", values(acted)).await.expect("iterate")
        } else {
            e.update_cycle_fields("test", cycle.id, cycle.version, values(acted)).await.expect("fields")
        };
    }
    let evaluated = values(json!({"evaluatieProces": "Goed"}));
    cycle = e.close_cycle("test", cycle.id, cycle.version, "borgen", evaluated).await.expect("close");
    cycle = e.reopen_cycle("test", cycle.id, cycle.version, "act", Some("Nog een ronde".into())).await.expect("reopen");
    assert_eq!((cycle.iteration, cycle.status.as_str(), cycle.version), (2, "open", 11));

    for kindcentrum in [demo.balans, demo.heidevlinder, demo.klinkert] {
        let export = demo.export(kindcentrum).await;
        let target = fresh(&demo.clock).await;
        target.restore_export(&export).await.expect("restore");
        assert_eq!(json_bytes(&target.export_kindcentrum(kindcentrum).await.expect("export")), json_bytes(&export));
        for id in ids(&export, "cycle", "id") {
            let row = target.cycle(id).await.expect("read").expect("cycle");
            let state = koers_engine::cycle::state_of(&row).expect("state");
            assert_eq!(Some(state), target.replay_cycle(id).await.expect("replay"), "cycle {id}");
            target.allowed_transitions(&row).await.expect("transitions");
            target.workflow_version(row.workflow_version_id).await.expect("workflow version");
        }
    }

    // Scans whose scores of the children were folded into their distribution (retention)
    // restore with it.
    assert!(e.fold_child_scores(0).await.expect("fold") > 0);
    let export = demo.export(demo.heidevlinder).await;
    assert!(export.rows("scan").iter().all(|s| s["distribution"].is_string()));
    let target = fresh(&demo.clock).await;
    target.restore_export(&export).await.expect("restore the folded scans");
    assert_eq!(json_bytes(&target.export_kindcentrum(demo.heidevlinder).await.expect("export")), json_bytes(&export));
}

// --- Timestamps are the same in either store ----------------------------------------------

/// `text` (a timestamp as an export writes it) moved by `by`, as an export writes it.
fn moved(text: &Value, by: TimeDelta) -> Value {
    let at: DateTime<Utc> = serde_json::from_value(text.clone()).expect("timestamp");
    serde_json::to_value(at + by).expect("json")
}

#[tokio::test]
async fn a_file_with_nanoseconds_restores_to_microseconds_and_exports_again_the_same() {
    let demo = demo().await;
    let export = demo.export(demo.balans).await;
    let original = document(&export);
    let nanos = TimeDelta::nanoseconds(123_456_789);
    let micros = TimeDelta::microseconds(123_456);
    // A file written by a koers that kept nanoseconds: a cycle's, an event's and a
    // schedule's timestamps, and a wall-clock time.
    let (mut fine, mut cut) = (original.clone(), original.clone());
    let places = [("cycle", "updated_at"), ("cycle_event", "at"), ("schedule", "created_at")];
    for (table, column) in places {
        fine["tables"][table][0][column] = moved(&original["tables"][table][0][column], nanos);
        cut["tables"][table][0][column] = moved(&original["tables"][table][0][column], micros);
    }
    let local = |text: &Value, by: TimeDelta| {
        let at: chrono::NaiveDateTime = serde_json::from_value(text.clone()).expect("wall-clock time");
        serde_json::to_value(at + by).expect("json")
    };
    let until = &original["tables"]["schedule"][0]["materialized_until"];
    fine["tables"]["schedule"][0]["materialized_until"] = local(until, nanos);
    cut["tables"]["schedule"][0]["materialized_until"] = local(until, micros);
    assert!(fine["tables"]["cycle_event"][0]["at"].as_str().expect("text").contains(".123456789"));

    let target = fresh(&demo.clock).await;
    target.restore_export(&Export::parse(&fine.to_string()).expect("parse")).await.expect("restore");
    let again = target.export_kindcentrum(demo.balans).await.expect("export");
    assert_eq!(document(&again), cut, "the timestamps in whole microseconds, everything else as it was");
    let last = fresh(&demo.clock).await;
    last.restore_export(&again).await.expect("restore again");
    let last = last.export_kindcentrum(demo.balans).await.expect("export again");
    assert_eq!(json_bytes(&last), json_bytes(&again));
}

#[tokio::test]
async fn an_export_of_sqlite_restores_into_the_test_store_and_exports_the_same_bytes() {
    let sqlite =
        koers_engine::store::open(&koers_engine::store::StoreConfig::new("sqlite::memory:")).await.expect("sqlite");
    let demo = demo_in(sqlite).await;
    // Written before the clock kept to microseconds: SQLite holds what it is given.
    let nanos = utc(2026, 6, 1) + TimeDelta::nanoseconds(987_654_321);
    cycle::Entity::update_many()
        .col_expr(cycle::Column::UpdatedAt, Expr::value(nanos))
        .exec(demo.engine.db())
        .await
        .expect("u");
    cycle_event::Entity::update_many()
        .col_expr(cycle_event::Column::At, Expr::value(nanos))
        .exec(demo.engine.db())
        .await
        .expect("u");
    schedule::Entity::update_many()
        .col_expr(schedule::Column::CreatedAt, Expr::value(nanos))
        .exec(demo.engine.db())
        .await
        .expect("u");
    let stored = cycle::Entity::find().one(demo.engine.db()).await.expect("q").expect("a cycle");
    assert_eq!(stored.updated_at, nanos, "SQLite keeps nanoseconds");

    // Into PostgreSQL when the tests run on it, and SQLite again otherwise.
    for kindcentrum in [demo.balans, demo.heidevlinder] {
        let export = demo.export(kindcentrum).await;
        let text = json_bytes(&export);
        assert!(!text.contains(".987654321") && text.contains(".987654"), "whole microseconds");
        let target = fresh(&demo.clock).await;
        target.restore_export(&Export::parse(&text).expect("parse")).await.expect("restore");
        let again = target.export_kindcentrum(kindcentrum).await.expect("export again");
        assert_eq!(json_bytes(&again), text, "kindcentrum {kindcentrum}");
    }
}
