//! The coaching log and the wet IKK norm through GraphQL, on the Heidevlinder example and a
//! manual clock: 12 hours coaching and 100 hours beleid for 2026, logging hours, and the
//! error codes of refused entries.

use std::path::Path;
use std::sync::Arc;

use async_graphql::{Request, Variables};
use chrono::{TimeZone, Utc};
use koers_engine::Engine;
use koers_engine::clock::ManualClock;
use koers_engine::import::import_file;
use serde_json::{Value, json};

/// The Heidevlinder example on 14 March 2026 (day 73 of 365).
async fn heidevlinder() -> Engine {
    let db = koers_engine::testing::database().await;
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../workflows/examples/heidevlinder.toml");
    import_file(&db, &file).await.expect("import");
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 3, 14, 12, 0, 0).single().expect("time"));
    Engine::with_clock(db, Arc::new(clock))
}

/// Runs a request; answers its data and the `extensions.code` of each error.
async fn run(engine: &Engine, query: &str, variables: Value) -> (Value, Vec<String>) {
    let schema = koers_graphql::schema(engine.clone());
    let request =
        Request::new(query).variables(Variables::from_json(variables)).data(koers_graphql::loader::new(engine.clone()));
    let response = schema.execute(request).await;
    let codes = response
        .errors
        .iter()
        .map(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .map_or_else(|| format!("no code: {}", e.message), |c| c.to_string().trim_matches('"').to_owned())
        })
        .collect();
    (serde_json::to_value(response.data).expect("json"), codes)
}

async fn ok(engine: &Engine, query: &str, variables: Value) -> Value {
    let (data, codes) = run(engine, query, variables).await;
    assert!(codes.is_empty(), "{codes:?}");
    data
}

/// Ids by name or key from a list of objects.
fn id_of<'a>(list: &'a Value, field: &str, value: &str) -> &'a str {
    list.as_array()
        .expect("list")
        .iter()
        .find(|o| o[field] == value)
        .and_then(|o| o["id"].as_str())
        .unwrap_or_else(|| panic!("no {field} {value} in {list}"))
}

const NORM: &str = r#"query($id: ID!) { coachingNorm(bestuurId: $id, year: 2026) {
    bestuur { name } peildatum kindercentra fte veChildren pedagogischMedewerkers
    coachingRequiredHours coachingRealisedHours coachingProjectedHours coachingRemainingHours coachingOnTrack
    beleidRequiredHours beleidRealisedHours beleidProjectedHours
    uncoached { name }
    locaties { locatie { name } lrkRegistrations { number } coachingRealisedHours beleidShareHours coachingShareHours }
} }"#;

const LOG: &str = r#"mutation($input: LogCoachingHoursInput!) { logCoachingHours(input: $input) {
    id date hours kind note actor bestuur { name } coach { name } coachees { name } locatie { name }
} }"#;

#[tokio::test]
async fn heidevlinder_coaching_norm_and_logging_hours() {
    let engine = heidevlinder().await;
    let org = ok(
        &engine,
        "{ besturen { id name } kindcentra { locaties { id key } professionals(first: 20) { edges { node { id key } } } } }",
        json!({}),
    )
    .await;
    let fluks = id_of(&org["besturen"], "name", "Fluks opvang").to_owned();
    let onderwijs = id_of(&org["besturen"], "name", "Fluks onderwijs").to_owned();
    let locatie = id_of(&org["kindcentra"][0]["locaties"], "key", "heidevlinder").to_owned();
    let people: Vec<Value> = org["kindcentra"][0]["professionals"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    let person = |key: &str| id_of(&Value::Array(people.clone()), "key", key).to_owned();
    let (maes, wh) = (person("c-maes"), person("w-h"));

    let norm = ok(&engine, NORM, json!({ "id": fluks })).await;
    let norm = &norm["coachingNorm"];
    assert_eq!(norm["bestuur"]["name"], "Fluks opvang");
    assert_eq!(norm["peildatum"], "2026-01-01");
    assert_eq!(
        (norm["coachingRequiredHours"].as_f64(), norm["beleidRequiredHours"].as_f64()),
        (Some(12.0), Some(100.0))
    );
    assert_eq!((norm["kindercentra"].as_i64(), norm["fte"].as_f64()), (Some(2), Some(1.2)));
    assert_eq!(norm["veChildren"], Value::Null);
    assert_eq!(norm["pedagogischMedewerkers"], 3);
    assert_eq!(norm["uncoached"], json!([{ "name": "L.S." }, { "name": "S.D." }, { "name": "W.H." }]));
    assert_eq!(norm["coachingProjectedHours"].as_f64(), Some(0.0));
    let locaties = &norm["locaties"];
    assert_eq!(locaties.as_array().map(Vec::len), Some(1));
    assert_eq!(locaties[0]["locatie"]["name"], "Kindcentrum Heidevlinder");
    assert_eq!(locaties[0]["lrkRegistrations"].as_array().map(Vec::len), Some(2));
    assert_eq!(locaties[0]["beleidShareHours"].as_f64(), Some(100.0));
    assert_eq!(locaties[0]["coachingShareHours"].as_f64(), Some(12.0));

    // C. Maes coaches W.H. for two hours at the locatie.
    let input = json!({
        "coachId": maes, "date": "2026-02-10", "hours": 2.0, "kind": "COACHING_INDIVIDUEEL",
        "coacheeIds": [wh], "locatieId": locatie, "note": "Video-interactiebegeleiding"
    });
    let logged = ok(&engine, LOG, json!({ "input": input })).await;
    let entry = &logged["logCoachingHours"];
    assert_eq!(entry["hours"].as_f64(), Some(2.0));
    assert_eq!(entry["kind"], "COACHING_INDIVIDUEEL");
    assert_eq!(entry["actor"], "api");
    assert_eq!(entry["bestuur"]["name"], "Fluks opvang");
    assert_eq!(entry["coach"]["name"], "C. Maes");
    assert_eq!(entry["coachees"], json!([{ "name": "W.H." }]));
    assert_eq!(entry["locatie"]["name"], "Kindcentrum Heidevlinder");

    let norm = ok(&engine, NORM, json!({ "id": fluks })).await;
    let norm = &norm["coachingNorm"];
    assert_eq!(norm["uncoached"], json!([{ "name": "L.S." }, { "name": "S.D." }]));
    assert_eq!(norm["coachingRealisedHours"].as_f64(), Some(2.0));
    assert_eq!(norm["coachingProjectedHours"].as_f64(), Some(10.0), "2 hours in 73 of 365 days");
    assert_eq!(norm["coachingRemainingHours"].as_f64(), Some(10.0));
    assert_eq!(norm["coachingOnTrack"], false);
    assert_eq!(norm["locaties"][0]["coachingRealisedHours"].as_f64(), Some(2.0));

    let log = ok(
        &engine,
        r#"query($id: ID!) { coachingEntries(bestuurId: $id, from: "2026-01-01", to: "2026-12-31") {
            totalCount edges { node { date hours coachees { name } } } } }"#,
        json!({ "id": fluks }),
    )
    .await;
    assert_eq!(log["coachingEntries"]["totalCount"], 1);
    assert_eq!(log["coachingEntries"]["edges"][0]["node"]["date"], "2026-02-10");

    // The board view: every bestuur with its norm, null where there is none.
    let board = ok(
        &engine,
        "{ besturen { name coachingNorm(year: 2026) { coachingRequiredHours beleidRequiredHours } } }",
        json!({}),
    )
    .await;
    for bestuur in board["besturen"].as_array().expect("besturen") {
        match bestuur["name"].as_str() {
            Some("Fluks opvang") => {
                assert_eq!(
                    bestuur["coachingNorm"],
                    json!({ "coachingRequiredHours": 12.0, "beleidRequiredHours": 100.0 })
                )
            }
            _ => assert_eq!(bestuur["coachingNorm"], Value::Null, "{bestuur}"),
        }
    }

    // Refused: 25 hours, beleid with a coachee, a coach that does not exist, the norm of
    // an onderwijs bestuur. Nothing was written.
    let refuse = |input: Value| {
        let engine = engine.clone();
        async move { run(&engine, LOG, json!({ "input": input })).await.1 }
    };
    let base = json!({ "coachId": maes, "date": "2026-03-01", "hours": 2.0, "kind": "BELEID" });
    let with = |changes: Value| {
        let mut input = base.clone();
        for (k, v) in changes.as_object().expect("object") {
            input[k] = v.clone();
        }
        input
    };
    assert_eq!(refuse(with(json!({ "hours": 25.0 }))).await, ["VALIDATION"]);
    assert_eq!(refuse(with(json!({ "hours": 0.0 }))).await, ["VALIDATION"]);
    assert_eq!(refuse(with(json!({ "coacheeIds": [wh] }))).await, ["VALIDATION"]);
    assert_eq!(refuse(with(json!({ "kind": "COACHING_TEAM" }))).await, ["VALIDATION"]);
    assert_eq!(refuse(with(json!({ "coachId": "999" }))).await, ["NOT_FOUND"]);
    assert_eq!(refuse(with(json!({ "locatieId": "999" }))).await, ["NOT_FOUND"]);
    let (_, codes) = run(&engine, NORM, json!({ "id": onderwijs })).await;
    assert_eq!(codes, ["VALIDATION"]);
    let (_, codes) = run(&engine, NORM, json!({ "id": "999" })).await;
    assert_eq!(codes, ["NOT_FOUND"]);
    let log =
        ok(&engine, r#"query($id: ID!) { coachingEntries(bestuurId: $id) { totalCount } }"#, json!({ "id": fluks }))
            .await;
    assert_eq!(log["coachingEntries"]["totalCount"], 1);
}
