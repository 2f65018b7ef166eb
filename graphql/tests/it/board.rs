//! The board's view: `bestuur { voortgang }` answers every kindcentrum of the bestuur, with
//! progress, overdue cycles and planning, scans and the coaching norm, in the same number
//! of SQL statements for 2 kindcentra as for 8.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::Request;
use chrono::{NaiveDate, TimeZone, Utc};
use koers_engine::Engine;
use koers_engine::clock::ManualClock;
use koers_engine::cycle::{Owner, StartCycle};
use koers_engine::domain::CoachingKind;
use koers_engine::evidence::coaching::{Hours, NewCoachingEntry};
use koers_engine::evidence::scan::{NewScan, NewScore, Technique};
use koers_engine::io::import::import_str;
use koers_engine::store::entity::{bestuur, groep, professional, team};
use koers_engine::workflow::load;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

/// Two besturen (school and opvang) over `n` kindcentra, each with a koersplan, a
/// kenniskring, a BSO locatie with an LRK registration and a groep, and a pedagogisch
/// medewerker.
fn besturen(n: usize) -> String {
    let mut file = String::from(
        r#"
[[bestuur]]
key = "school"
name = "Stichting School"
kind = "onderwijs"

[[bestuur]]
key = "opvang"
name = "Stichting Opvang"
kind = "kinderopvang"

[[professional]]
key = "coach"
name = "Coach"
employer = "opvang"
roles = ["pedagogisch-coach"]
"#,
    );
    for i in 0..n {
        file.push_str(&format!(
            r#"
[[kindcentrum]]
key = "kc{i}"
name = "Kindcentrum {i:02}"
besturen = ["school", "opvang"]

[[kindcentrum.onderdeel]]
key = "onderwijs"
name = "Onderwijs"
kind = "onderwijs"
bestuur = "school"

[[kindcentrum.onderdeel]]
key = "bso"
name = "BSO"
kind = "bso"
bestuur = "opvang"

[[kindcentrum.locatie]]
key = "hoofd"
name = "Hoofdgebouw {i}"
lrk = [{{ number = "{lrk}", onderdeel = "bso" }}]

[[kindcentrum.locatie.groep]]
key = "bso-1"
name = "BSO {i}"
onderdeel = "bso"

[[kindcentrum.team]]
key = "kk"
name = "Kenniskring {i}"
kind = "kenniskring"

[[professional]]
key = "pm{i}"
name = "PM {i}"
employer = "opvang"
kindcentra = ["kc{i}"]
roles = ["pedagogisch-medewerker"]
fte = [{{ from = 2025-01-01, fte = 0.5 }}]

[[indicator]]
key = "lezen{i}"
name = "Lezen"
unit = "%"
direction = "at-least"
target = 80.0
kindcentrum = "kc{i}"
measurements = [{{ date = 2025-06-30, value = 82.0, source = "Cito" }}]
"#,
            lrk = 100_000_000 + i
        ));
    }
    file
}

fn koersplan(i: usize) -> String {
    format!(
        r#"
[koersplan]
key = "plan{i}"
kindcentrum = "kc{i}"
title = "Koersplan {i}"
first_school_year = "2024-2025"
last_school_year = "2027-2028"
visie = "Samen"

[[koersplan.ambitie]]
key = "a"
title = "Lezen"

[[koersplan.ambitie.doel]]
key = "d"
title = "Leesplezier"
succescriteria = [{{ description = "80% I-III", indicator = "lezen{i}" }}, {{ description = "Bibliotheek" }}]
planning = [
  {{ school_year = "2024-2025", text = "Leesteam", status = "afgerond" }},
  {{ school_year = "2024-2025", text = "Schoolbibliotheek" }},
  {{ school_year = "2026-2027", text = "Later" }},
]
"#
    )
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// The database with `n` kindcentra, each with a scan, coaching hours and an overdue
/// cycle; and a counter of the statements run on it.
async fn board(n: usize) -> (Engine, Arc<AtomicUsize>, i64) {
    let mut db = koers_testing::database().await;
    import_str(&db, "besturen.toml", &besturen(n)).await.expect("import");
    for i in 0..n {
        import_str(&db, &format!("plan{i}.toml"), &koersplan(i)).await.expect("plan");
    }
    let statements = koers_testing::count_statements(&mut db);
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).single().expect("time")));
    let engine = Engine::with_clock(db, clock);
    engine.register_workflows(load(None).expect("workflows")).await.expect("register");
    let coach = professional::Entity::find()
        .filter(professional::Column::Key.eq("coach"))
        .one(engine.db())
        .await
        .expect("q")
        .expect("coach");
    for (i, groep) in groep::Entity::find().all(engine.db()).await.expect("groepen").into_iter().enumerate() {
        let score = |code: &str, w: f64| NewScore::parse(1, Some(code), w, 3.0).expect("score");
        let scores = vec![score("k1", 2.0), score("k2", 3.5), score("k3", 4.5)];
        let scan = NewScan {
            groep_id: groep.id,
            scanned_on: date(2026, 2, 2),
            technique: Technique::Kind,
            scores,
            note: None,
        };
        engine.record_scan("test", scan).await.expect("scan");
        let pm = professional::Entity::find()
            .filter(professional::Column::Key.eq(format!("pm{i}")))
            .one(engine.db())
            .await
            .expect("q")
            .expect("pm");
        let entry = NewCoachingEntry {
            coach_id: coach.id,
            date: date(2026, 2, 10),
            hours: Hours::new(1.5).expect("hours"),
            kind: CoachingKind::CoachingIndividueel,
            coachees: vec![pm.id],
            locatie_id: Some(groep.locatie_id),
            note: None,
        };
        engine.log_coaching("test", entry).await.expect("coaching");
    }
    for team in team::Entity::find().all(engine.db()).await.expect("teams") {
        let start = StartCycle {
            workflow: "pdca".into(),
            title: "Leesexperiment".into(),
            owner: Owner::Team(team.id),
            doelen: vec![],
            due_dates: BTreeMap::from([("plan".to_owned(), date(2026, 1, 15))]),
            occurrence_id: None,
        };
        engine.start_cycle("test", start).await.expect("cycle");
    }
    let school = bestuur::Entity::find()
        .filter(bestuur::Column::Key.eq("school"))
        .one(engine.db())
        .await
        .expect("q")
        .expect("school")
        .id;
    (engine, statements, school)
}

const VOORTGANG: &str = r#"query($id: ID!) { bestuur(id: $id) { voortgang(peildatum: "2026-03-01") {
    peildatum bestuur { name }
    kindcentra {
        kindcentrum { name }
        koersplannen { koersplan { title } progress signal elapsed
            ambities { progress signal doelen { progress signal computedSignal met criteria } } }
        overdueCycles { title dueDate }
        overduePlanning { text schoolYear status }
        scans { groep { name } scan { year quarter } welbevinden { mean urgentChildren attentionChildren } betrokkenheid { mean } }
        coaching { locatie { beleidShareHours coachingShareHours } houder { coachingRequiredHours beleidRequiredHours coachingRealisedHours uncoached { name } } }
    }
} } }"#;

async fn voortgang(n: usize) -> (usize, serde_json::Value) {
    let (engine, statements, school) = board(n).await;
    let schema = koers_graphql::schema(engine.clone());
    let request = Request::new(VOORTGANG)
        .variables(async_graphql::Variables::from_json(serde_json::json!({ "id": school.to_string() })))
        .data(koers_graphql::loader::new(engine));
    let before = statements.load(Ordering::SeqCst);
    let response = schema.execute(request).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    (statements.load(Ordering::SeqCst) - before, serde_json::to_value(response.data).expect("json"))
}

#[tokio::test]
async fn the_board_query_answers_every_kindcentrum_in_a_constant_number_of_statements() {
    let (small, json) = voortgang(2).await;
    let (large, json_large) = voortgang(8).await;
    assert_eq!(small, large, "statements grew with the kindcentra: {small} for 2, {large} for 8");
    // One per kind of row: progress (7), lateness (6), scans (4), coaching norms (up to 10),
    // and the bestuur and its kindcentra.
    assert!(small <= 40, "{small} statements");

    let names = |json: &serde_json::Value| -> Vec<String> {
        json["bestuur"]["voortgang"]["kindcentra"]
            .as_array()
            .expect("kindcentra")
            .iter()
            .map(|kc| kc["kindcentrum"]["name"].as_str().expect("name").to_owned())
            .collect()
    };
    assert_eq!(names(&json), ["Kindcentrum 00", "Kindcentrum 01"]);
    assert_eq!(names(&json_large).len(), 8);

    let kc = &json["bestuur"]["voortgang"]["kindcentra"][0];
    let plan = &kc["koersplannen"][0];
    assert_eq!(plan["koersplan"]["title"], "Koersplan 0");
    assert_eq!(plan["ambities"][0]["doelen"][0]["met"], 1, "lezen met by its measurement");
    assert_eq!(plan["progress"], 0.5);
    assert_eq!(kc["overdueCycles"][0]["title"], "Leesexperiment");
    assert_eq!(kc["overdueCycles"].as_array().map(Vec::len), Some(1));
    let planning: Vec<&str> =
        kc["overduePlanning"].as_array().expect("planning").iter().map(|p| p["text"].as_str().expect("text")).collect();
    assert_eq!(planning, ["Schoolbibliotheek"], "done and future items are not overdue");
    let scan = &kc["scans"][0];
    assert_eq!((scan["scan"]["year"].as_i64(), scan["scan"]["quarter"].as_i64()), (Some(2026), Some(1)));
    assert_eq!(scan["welbevinden"]["urgentChildren"], serde_json::json!(["k1"]));
    assert_eq!(scan["welbevinden"]["attentionChildren"], serde_json::json!(["k2"]));
    let coaching = &kc["coaching"][0];
    assert_eq!(coaching["locatie"]["beleidShareHours"], 50.0);
    // The houder Stichting Opvang: 2 LRK registrations, 2 x 0.5 FTE.
    assert_eq!(coaching["houder"]["beleidRequiredHours"], 100.0);
    assert_eq!(coaching["houder"]["coachingRequiredHours"], 10.0);
    assert_eq!(coaching["houder"]["coachingRealisedHours"], 3.0);
    assert_eq!(coaching["houder"]["uncoached"], serde_json::json!([]));
}

#[tokio::test]
async fn the_demo_besturen_take_no_more_statements_than_a_large_board() {
    let generated = voortgang(8).await;
    let mut db = koers_testing::database().await;
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../workflows/examples");
    for file in ["kc-balans.toml", "heidevlinder.toml", "de-klinkert.toml"] {
        koers_engine::io::import::import_file(&db, &examples.join(file)).await.expect("import");
    }
    let statements = koers_testing::count_statements(&mut db);
    let engine = koers_testing::engine(db);
    let schema = koers_graphql::schema(engine.clone());
    for bestuur in bestuur::Entity::find().all(engine.db()).await.expect("besturen") {
        let request = Request::new(VOORTGANG)
            .variables(async_graphql::Variables::from_json(serde_json::json!({ "id": bestuur.id.to_string() })))
            .data(koers_graphql::loader::new(engine.clone()));
        let before = statements.load(Ordering::SeqCst);
        let response = schema.execute(request).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let used = statements.load(Ordering::SeqCst) - before;
        // Lookups with nothing to look for are skipped, so a small board may take fewer.
        assert!(
            used <= generated.0,
            "{}: {used} statements, a board of 8 kindcentra takes {}",
            bestuur.name,
            generated.0
        );
        let json = serde_json::to_value(response.data).expect("json");
        let kindcentra = json["bestuur"]["voortgang"]["kindcentra"].as_array().map(Vec::len);
        let expected =
            engine.kindcentra_of(&[bestuur.id]).await.expect("kindcentra").remove(&bestuur.id).map(|k| k.len());
        assert_eq!(kindcentra, expected.or(Some(0)), "{}", bestuur.name);
    }
}

const ROLLUP: &str = r#"{ voortgang(peildatum: "2026-03-01") {
    peildatum
    total { kindcentra koersplannen progress signals { signal koersplannen } overdueCycles }
    besturen { bestuur { name } totals { kindcentra koersplannen progress signals { signal koersplannen } overdueCycles } }
} }"#;

/// The roll-up of the database with `n` kindcentra, and the statements it took.
async fn rollup(n: usize) -> (usize, serde_json::Value, Engine) {
    let (engine, statements, _) = board(n).await;
    let schema = koers_graphql::schema(engine.clone());
    let request = Request::new(ROLLUP).data(koers_graphql::loader::new(engine.clone()));
    let before = statements.load(Ordering::SeqCst);
    let response = schema.execute(request).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    (statements.load(Ordering::SeqCst) - before, serde_json::to_value(response.data).expect("json"), engine)
}

#[tokio::test]
async fn the_national_rollup_adds_up_the_board_views_in_a_constant_number_of_statements() {
    let (small, _, _) = rollup(2).await;
    let (large, json, engine) = rollup(8).await;
    assert_eq!(small, large, "statements grew with the kindcentra: {small} for 2, {large} for 8");
    assert!(small <= 6, "{small} statements");

    let rollup = &json["voortgang"];
    assert_eq!(rollup["peildatum"], "2026-03-01");
    let schema = koers_graphql::schema(engine.clone());
    for entry in rollup["besturen"].as_array().expect("besturen") {
        let name = entry["bestuur"]["name"].as_str().expect("name");
        let id = bestuur::Entity::find()
            .filter(bestuur::Column::Name.eq(name))
            .one(engine.db())
            .await
            .expect("q")
            .expect("bestuur")
            .id;
        let request = Request::new(VOORTGANG)
            .variables(async_graphql::Variables::from_json(serde_json::json!({ "id": id.to_string() })))
            .data(koers_graphql::loader::new(engine.clone()));
        let board = serde_json::to_value(schema.execute(request).await.data).expect("json");
        let kindcentra = board["bestuur"]["voortgang"]["kindcentra"].as_array().expect("kindcentra");
        let plans: Vec<&serde_json::Value> =
            kindcentra.iter().flat_map(|kc| kc["koersplannen"].as_array().expect("plans")).collect();
        let overdue: usize = kindcentra.iter().map(|kc| kc["overdueCycles"].as_array().map_or(0, Vec::len)).sum();
        let totals = &entry["totals"];
        assert_eq!(totals["kindcentra"], kindcentra.len(), "{name}");
        assert_eq!(totals["koersplannen"], plans.len(), "{name}");
        assert_eq!(totals["overdueCycles"], overdue, "{name}");
        let progress: Vec<f64> = plans.iter().filter_map(|p| p["progress"].as_f64()).collect();
        let mean = progress.iter().sum::<f64>() / progress.len() as f64;
        assert!((totals["progress"].as_f64().expect("progress") - mean).abs() < 1e-9, "{name}");
        let mut signals: BTreeMap<String, usize> = BTreeMap::new();
        for plan in &plans {
            if let Some(signal) = plan["signal"].as_str() {
                *signals.entry(signal.to_owned()).or_default() += 1;
            }
        }
        let answered: BTreeMap<String, usize> = totals["signals"]
            .as_array()
            .expect("signals")
            .iter()
            .map(|s| {
                (s["signal"].as_str().expect("signal").to_owned(), s["koersplannen"].as_u64().expect("n") as usize)
            })
            .collect();
        assert_eq!(answered, signals, "{name}");
    }
    // Both besturen share all 8 kindcentra: the total counts each once.
    assert_eq!(rollup["total"]["kindcentra"], 8);
    assert_eq!(rollup["total"]["koersplannen"], 8);
    assert_eq!(rollup["total"]["overdueCycles"], 8, "one kenniskring cycle each");
    assert_eq!(rollup["besturen"].as_array().map(Vec::len), Some(2));
}
