//! The coaching log and the wet IKK norm through GraphQL, on the Heidevlinder example and a
//! manual clock: 12 hours coaching and 100 hours beleid for 2026, logging, correcting and
//! withdrawing hours, and the error codes of refused entries.

use async_graphql::{PathSegment, Request, Variables};
use axum::Router;
use axum::body::Body;
use axum::http::header;
use chrono::{NaiveDate, TimeZone, Utc};
use koers_engine::Engine;
use koers_engine::access::token::AccessScope;
use koers_engine::calendar::template::TemplateOptions;
use koers_engine::domain::AccessRole;
use koers_engine::domain::CoachingKind;
use koers_engine::domain::ScheduleScope;
use koers_engine::evidence::coaching::{Hours, NewCoachingEntry};
use koers_engine::io::import::import_str;
use koers_engine::store::entity::{locatie, professional};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// The Heidevlinder example on 14 March 2026 (day 73 of 365).
async fn heidevlinder() -> Engine {
    let now = Utc.with_ymd_and_hms(2026, 3, 14, 12, 0, 0).single().expect("time");
    koers_testing::examples_at(now, &["heidevlinder.toml"]).await.0
}

/// Runs a request; answers its data and, for each error, its path (`a.0.b`) and its
/// `extensions.code`.
async fn execute(engine: &Engine, query: &str, variables: Value) -> (Value, Vec<(String, String)>) {
    let schema = koers_graphql::schema(engine.clone());
    let request =
        Request::new(query).variables(Variables::from_json(variables)).data(koers_graphql::loader::new(engine.clone()));
    let response = schema.execute(request).await;
    let errors = response
        .errors
        .iter()
        .map(|e| {
            let path = e
                .path
                .iter()
                .map(|segment| match segment {
                    PathSegment::Field(name) => name.clone(),
                    PathSegment::Index(i) => i.to_string(),
                })
                .collect::<Vec<_>>()
                .join(".");
            let code = e
                .extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .map_or_else(|| format!("no code: {}", e.message), |c| c.to_string().trim_matches('"').to_owned());
            (path, code)
        })
        .collect();
    (serde_json::to_value(response.data).expect("json"), errors)
}

/// Runs a request; answers its data and the `extensions.code` of each error.
async fn run(engine: &Engine, query: &str, variables: Value) -> (Value, Vec<String>) {
    let (data, errors) = execute(engine, query, variables).await;
    (data, errors.into_iter().map(|(_, code)| code).collect())
}

/// The engine as a new token of `role` within `scope` sees it, as the server scopes it.
async fn as_token(engine: &Engine, role: AccessRole, scope: AccessScope) -> Engine {
    let token = engine.create_token("test", role, scope, None).await.expect("token").token;
    let caller = engine.authenticate(&token).await.expect("query").expect("caller");
    engine.scoped(engine.access(&caller).await.expect("access"))
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

/// Another houder with a kindcentrum, a locatie, a pedagogisch coach and a pedagogisch
/// medewerker of its own.
const ELDERS: &str = r#"
[[bestuur]]
key = "elders-opvang"
name = "Elders opvang"
kind = "kinderopvang"

[[kindcentrum]]
key = "elders"
name = "KC Elders"
besturen = ["elders-opvang"]

[[kindcentrum.onderdeel]]
key = "bso"
name = "BSO"
kind = "bso"
bestuur = "elders-opvang"

[[kindcentrum.locatie]]
key = "elders-hoofd"
name = "Locatie Elders"
lrk = [{ number = "300000001", onderdeel = "bso" }]

[[professional]]
key = "coach-elders"
name = "Coach Elders"
employer = "elders-opvang"
kindcentra = ["elders"]
roles = ["pedagogisch-coach"]

[[professional]]
key = "pm-elders"
name = "PM Elders"
employer = "elders-opvang"
kindcentra = ["elders"]
roles = ["pedagogisch-medewerker"]
fte = [{ from = 2025-01-01, fte = 0.8 }]
"#;

/// Heidevlinder and Elders opvang on 8 December 2026. Each houder's calendar holds the
/// coaching-ikk template, Heidevlinder's also the BHV/EHBO reminder of its locatiemanager;
/// both fired. Each houder logged an hour of beleid without a locatie.
async fn two_houders() -> Engine {
    let db = koers_testing::database().await;
    koers_testing::import_examples(&db, &["heidevlinder.toml"]).await;
    import_str(&db, "elders.toml", ELDERS).await.expect("import");
    let now = Utc.with_ymd_and_hms(2026, 8, 31, 12, 0, 0).single().expect("time");
    let (engine, clock) = koers_testing::engine_at(db, now).await;
    let heidevlinder = engine.kindcentrum_by_key("heidevlinder").await.expect("query").expect("heidevlinder").id;
    let options = TemplateOptions::default;
    engine.apply_template("bhv-ehbo", ScheduleScope::Kindcentrum(heidevlinder), options()).await.expect("template");
    for (houder, coach) in [("fluks-opvang", "c-maes"), ("elders-opvang", "coach-elders")] {
        let houder = engine.bestuur_by_key(houder).await.expect("query").expect("houder").id;
        engine.apply_template("coaching-ikk", ScheduleScope::Bestuur(houder), options()).await.expect("template");
        let coach = professional_id(&engine, coach).await;
        let beleid = NewCoachingEntry {
            coach_id: coach,
            date: NaiveDate::from_ymd_opt(2026, 8, 24).expect("date"),
            hours: Hours::new(1.0).expect("hours"),
            kind: CoachingKind::Beleid,
            coachees: Vec::new(),
            locatie_id: None,
            note: None,
        };
        engine.log_coaching("setup", beleid).await.expect("logged");
    }
    clock.set(Utc.with_ymd_and_hms(2026, 12, 8, 12, 0, 0).single().expect("time"));
    engine.run_scheduler_once().await.expect("fire");
    engine
}

async fn professional_id(engine: &Engine, key: &str) -> i64 {
    let found = professional::Entity::find().filter(professional::Column::Key.eq(key)).one(engine.db()).await;
    found.expect("query").expect("professional").id
}

async fn locatie_id(engine: &Engine, key: &str) -> i64 {
    let found = locatie::Entity::find().filter(locatie::Column::Key.eq(key)).one(engine.db()).await;
    found.expect("query").expect("locatie").id
}

const COACHING_OF: &str = r#"query($id: ID!) {
    coachingNorm(bestuurId: $id, year: 2026) { bestuur { name } coachingRequiredHours beleidRealisedHours }
    coachingEntries(bestuurId: $id) { totalCount }
}"#;

const REMINDERS: &str = "{ reminders(first: 50) { nodes { title professional { name } } } }";

/// (title, assignee) of the reminders in an answer to [`REMINDERS`].
fn reminders(data: &Value) -> Vec<(String, String)> {
    data["reminders"]["nodes"]
        .as_array()
        .expect("reminders")
        .iter()
        .map(|r| {
            let title = r["title"].as_str().unwrap_or_default().to_owned();
            (title, r["professional"]["name"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

/// A coach of a locatie reads the norm and the whole coaching log of its houder, and the
/// calendar's wet IKK reminder of the coaches there; not another houder's norm, log or
/// reminder, nor the houder's calendar or the locatiemanager's reminder. A reader of the
/// same locatie reads no norm.
#[tokio::test]
async fn a_coach_reads_the_norm_log_and_ikk_reminder_of_its_houder_only() {
    let engine = two_houders().await;
    let id = |key: &'static str| {
        let engine = engine.clone();
        async move { engine.bestuur_by_key(key).await.expect("query").expect("bestuur").id.to_string() }
    };
    let (fluks, elders) = (id("fluks-opvang").await, id("elders-opvang").await);
    let locatie = locatie_id(&engine, "heidevlinder").await;
    let ikk = "Coachingsuren wet IKK afronden vóór 31 december Kindcentrum Heidevlinder";

    // Everything that fired, as the engine itself sees it.
    let all = reminders(&ok(&engine, REMINDERS, json!({})).await);
    assert!(all.iter().any(|(title, _)| title.starts_with("BHV/EHBO")), "{all:?}");
    assert!(all.iter().any(|(title, _)| title.ends_with("KC Elders")), "{all:?}");

    let coach = as_token(&engine, AccessRole::Coach, AccessScope::Locatie(locatie)).await;
    let own = ok(&coach, COACHING_OF, json!({ "id": fluks })).await;
    assert_eq!(own["coachingNorm"]["bestuur"]["name"], "Fluks opvang");
    assert_eq!(own["coachingNorm"]["coachingRequiredHours"].as_f64(), Some(12.0));
    assert_eq!(own["coachingNorm"]["beleidRealisedHours"].as_f64(), Some(1.0));
    assert_eq!(own["coachingEntries"]["totalCount"], 1, "the beleid hour logged without a locatie");
    assert_eq!(
        reminders(&ok(&coach, REMINDERS, json!({})).await),
        [(ikk.to_owned(), "C. Maes".to_owned()), (ikk.to_owned(), "L. van der Heijden".to_owned())]
    );
    let (_, codes) = run(&coach, COACHING_OF, json!({ "id": elders })).await;
    assert_eq!(codes, ["NOT_FOUND", "NOT_FOUND"], "another houder's norm and log");
    // Nothing else of the houder: not its calendar.
    let calendar = ok(&coach, "{ schedules { name } }", json!({})).await;
    assert_eq!(calendar["schedules"], json!([]));

    // The norm through the kindcentrum's besturen: Fluks onderwijs has none.
    let besturen = ok(
        &coach,
        "{ kindcentra { besturen { name coachingNorm(year: 2026) { coachingRequiredHours } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        besturen["kindcentra"][0]["besturen"],
        json!([
            { "name": "Fluks onderwijs", "coachingNorm": null },
            { "name": "Fluks opvang", "coachingNorm": { "coachingRequiredHours": 12.0 } },
        ])
    );

    let reader = as_token(&engine, AccessRole::Reader, AccessScope::Locatie(locatie)).await;
    let (_, codes) = run(&reader, COACHING_OF, json!({ "id": fluks })).await;
    assert_eq!(codes, ["NOT_FOUND"], "the norm is for the coach role; the log holds the entries at the locatie");
    assert!(reminders(&ok(&reader, REMINDERS, json!({})).await).is_empty());
}

/// `Bestuur.coachingNorm` is null for a bestuur that is not kinderopvang, and a NOT_FOUND
/// error for a kinderopvang houder out of the token's reach: the two are told apart.
#[tokio::test]
async fn a_norm_out_of_reach_is_not_found_and_null_means_not_kinderopvang() {
    let engine = two_houders().await;
    let onderwijs = engine.bestuur_by_key("fluks-onderwijs").await.expect("query").expect("bestuur").id;
    let token = as_token(&engine, AccessRole::Bestuur, AccessScope::Bestuur(onderwijs)).await;
    let (data, errors) = execute(
        &token,
        "{ kindcentra { besturen { name kind coachingNorm(year: 2026) { coachingRequiredHours } } } }",
        json!({}),
    )
    .await;
    let besturen = &data["kindcentra"][0]["besturen"];
    assert_eq!(besturen[0], json!({ "name": "Fluks onderwijs", "kind": "ONDERWIJS", "coachingNorm": null }));
    assert_eq!((&besturen[1]["name"], &besturen[1]["kind"]), (&json!("Fluks opvang"), &json!("KINDEROPVANG")));
    assert!(besturen[1]["coachingNorm"].is_null(), "{besturen}");
    assert_eq!(errors, [("kindcentra.0.besturen.1.coachingNorm".to_owned(), "NOT_FOUND".to_owned())]);

    // The houder's own token reads it.
    let fluks = engine.bestuur_by_key("fluks-opvang").await.expect("query").expect("bestuur").id;
    let token = as_token(&engine, AccessRole::Bestuur, AccessScope::Bestuur(fluks)).await;
    let (data, errors) = execute(
        &token,
        "{ kindcentra { besturen { name coachingNorm(year: 2026) { coachingRequiredHours } } } }",
        json!({}),
    )
    .await;
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(data["kindcentra"][0]["besturen"][1]["coachingNorm"]["coachingRequiredHours"].as_f64(), Some(12.0));
}

/// POSTs a query with its variables to the router as the bearer of `token`; answers the
/// whole response, data and errors.
async fn post(app: &Router, token: &str, query: &str, variables: Value) -> Value {
    let request = axum::http::Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(json!({ "query": query, "variables": variables }).to_string()))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("response");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
}

/// The `extensions.code` of each error of a response.
fn codes(response: &Value) -> Vec<&str> {
    response["errors"].as_array().map_or_else(Vec::new, |errors| {
        errors.iter().map(|e| e["extensions"]["code"].as_str().unwrap_or("no code")).collect()
    })
}

/// The data of a response without errors.
fn data(response: Value) -> Value {
    assert!(response["errors"].is_null(), "{}", response["errors"]);
    response["data"].clone()
}

const CORRECT: &str = r#"mutation($input: CorrectCoachingEntryInput!) { correctCoachingEntry(input: $input) {
    id hours kind version withdrawnAt coachees { name }
} }"#;

const WITHDRAW: &str = r#"mutation($id: ID!, $version: Int!, $reason: String!) {
    withdrawCoachingEntry(coachingEntryId: $id, expectedVersion: $version, reason: $reason) {
        id version withdrawnAt withdrawnReason
    }
}"#;

const NORM_AND_LOG: &str = r#"query($id: ID!) {
    coachingNorm(bestuurId: $id, year: 2026) { coachingRealisedHours uncoached { name } }
    coachingEntries(bestuurId: $id) { totalCount nodes {
        id hours version withdrawnAt withdrawnReason
        history { version action actor actorName front before after reason }
    } }
}"#;

/// A coach corrects the hours of an entry through the API, and the norm follows; the log
/// shows the entry with its history under the token's name; a withdrawal answers the entry
/// marked withdrawn and takes its hours out of the norm; a stale `expectedVersion` answers
/// VERSION_CONFLICT and a blank reason VALIDATION.
#[tokio::test]
async fn a_coach_corrects_and_withdraws_an_entry_through_the_api() {
    let engine = heidevlinder().await;
    let locatie = locatie_id(&engine, "heidevlinder").await;
    let (maes, wh) = (professional_id(&engine, "c-maes").await, professional_id(&engine, "w-h").await);
    let fluks = engine.bestuur_by_key("fluks-opvang").await.expect("query").expect("houder").id.to_string();
    let new = engine
        .create_token("Coach Heidevlinder", AccessRole::Coach, AccessScope::Locatie(locatie), None)
        .await
        .expect("token");
    let token = new.token.as_str();
    let app = koers_graphql::server::router(engine.clone(), koers_graphql::ApiConfig::default());

    let input = json!({
        "coachId": maes.to_string(), "date": "2026-02-10", "hours": 2.0, "kind": "COACHING_INDIVIDUEEL",
        "coacheeIds": [wh.to_string()], "locatieId": locatie.to_string()
    });
    let logged = data(post(&app, token, LOG, json!({ "input": input })).await);
    let id = logged["logCoachingHours"]["id"].as_str().expect("id").to_owned();

    // 3.5 hours, not 2.
    let correction = json!({ "coachingEntryId": id, "expectedVersion": 1, "hours": 3.5, "reason": "typfout" });
    let corrected = data(post(&app, token, CORRECT, json!({ "input": correction })).await);
    let corrected = &corrected["correctCoachingEntry"];
    assert_eq!((corrected["hours"].as_f64(), &corrected["version"]), (Some(3.5), &json!(2)));
    assert_eq!((&corrected["kind"], &corrected["withdrawnAt"]), (&json!("COACHING_INDIVIDUEEL"), &Value::Null));
    assert_eq!(corrected["coachees"], json!([{ "name": "W.H." }]));

    let now = data(post(&app, token, NORM_AND_LOG, json!({ "id": fluks })).await);
    assert_eq!(now["coachingNorm"]["coachingRealisedHours"].as_f64(), Some(3.5));
    assert_eq!(now["coachingEntries"]["totalCount"], 1);
    let entry = &now["coachingEntries"]["nodes"][0];
    assert_eq!((&entry["id"], entry["hours"].as_f64(), &entry["version"]), (&json!(id), Some(3.5), &json!(2)));
    let history = entry["history"].as_array().expect("history");
    let actor = format!("token:{}", new.row.id);
    let steps: Vec<(&Value, &Value, &Value, &Value, &Value)> =
        history.iter().map(|c| (&c["action"], &c["actor"], &c["actorName"], &c["front"], &c["reason"])).collect();
    assert_eq!(
        steps,
        [
            (&json!("CREATED"), &json!(actor), &json!("Coach Heidevlinder"), &json!("API"), &Value::Null),
            (&json!("UPDATED"), &json!(actor), &json!("Coach Heidevlinder"), &json!("API"), &json!("typfout")),
        ]
    );
    assert_eq!(history[0]["before"], Value::Null);
    assert_eq!((history[1]["before"]["hours"].as_f64(), history[1]["after"]["hours"].as_f64()), (Some(2.0), Some(3.5)));
    assert_eq!(history[1]["after"]["coachees"], json!([wh]));

    // Read at version 1, changed since: nothing is written.
    let stale = post(&app, token, WITHDRAW, json!({ "id": id, "version": 1, "reason": "dubbel" })).await;
    assert_eq!(codes(&stale), ["VERSION_CONFLICT"], "{stale}");
    assert_eq!(
        (&stale["errors"][0]["extensions"]["expectedVersion"], &stale["errors"][0]["extensions"]["actualVersion"]),
        (&json!(1), &json!(2))
    );
    let stale = json!({ "coachingEntryId": id, "expectedVersion": 1, "hours": 4.0, "reason": "nog eens" });
    assert_eq!(codes(&post(&app, token, CORRECT, json!({ "input": stale })).await), ["VERSION_CONFLICT"]);
    let blank = post(&app, token, WITHDRAW, json!({ "id": id, "version": 2, "reason": " " })).await;
    assert_eq!(codes(&blank), ["VALIDATION"]);
    let same = data(post(&app, token, NORM_AND_LOG, json!({ "id": fluks })).await);
    assert_eq!(same["coachingEntries"]["nodes"][0]["version"], 2, "nothing written");
    assert_eq!(same["coachingNorm"]["coachingRealisedHours"].as_f64(), Some(3.5));

    // Withdrawn: the entry stays in the log, marked, and no longer counts.
    let withdrawn = post(&app, token, WITHDRAW, json!({ "id": id, "version": 2, "reason": "dubbel gelogd" })).await;
    let withdrawn = &data(withdrawn)["withdrawCoachingEntry"];
    assert_eq!((&withdrawn["withdrawnReason"], &withdrawn["version"]), (&json!("dubbel gelogd"), &json!(3)));
    assert_eq!(withdrawn["withdrawnAt"], "2026-03-14T12:00:00+00:00", "the clock's now");
    let after = data(post(&app, token, NORM_AND_LOG, json!({ "id": fluks })).await);
    assert_eq!(after["coachingNorm"]["coachingRealisedHours"].as_f64(), Some(0.0));
    assert_eq!(after["coachingNorm"]["uncoached"], json!([{ "name": "L.S." }, { "name": "S.D." }, { "name": "W.H." }]));
    let entry = &after["coachingEntries"]["nodes"][0];
    assert_eq!(entry["withdrawnReason"], "dubbel gelogd");
    assert_eq!(entry["history"][2]["action"], "WITHDRAWN");
    assert_eq!(entry["history"][2]["reason"], "dubbel gelogd");
    let again = json!({ "coachingEntryId": id, "expectedVersion": 3, "hours": 2.0, "reason": "toch niet" });
    assert_eq!(codes(&post(&app, token, CORRECT, json!({ "input": again })).await), ["VALIDATION"]);
}
