//! Scans through the API: `recordScan` fills the groep's cycle, `scans` answers the
//! summaries per scale in a fixed number of statements, bad scores answer VALIDATION
//! naming the row and child, an unknown groep NOT_FOUND.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{Request, Value};
use koers_engine::Engine;
use serde_json::json;

struct Api {
    engine: Engine,
    statements: Arc<AtomicUsize>,
    groep: String,
}

impl Api {
    async fn new() -> Api {
        let mut db = koers_testing::database().await;
        koers_testing::import_examples(&db, &["heidevlinder.toml"]).await;
        let statements = koers_testing::count_statements(&mut db);
        let (engine, _) = koers_testing::engine_at(db, koers_testing::clock_start()).await;
        let mut api = Api { engine, statements, groep: String::new() };
        let json = api.ok("{ kindcentra { locaties { groepen { id } } } }").await;
        api.groep = json["kindcentra"][0]["locaties"][0]["groepen"][0]["id"].as_str().expect("groep").to_owned();
        api
    }

    async fn execute(&self, query: &str) -> async_graphql::Response {
        let schema = koers_graphql::schema(self.engine.clone());
        schema.execute(Request::new(query).data(koers_graphql::loader::new(self.engine.clone()))).await
    }

    async fn ok(&self, query: &str) -> serde_json::Value {
        let response = self.execute(query).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        serde_json::to_value(response.data).expect("json")
    }

    /// The one error of `query`, with its `extensions.code`.
    async fn error(&self, query: &str) -> (String, Option<Value>) {
        let errors = self.execute(query).await.errors;
        assert_eq!(errors.len(), 1, "{errors:?}");
        let code = errors[0].extensions.as_ref().and_then(|e| e.get("code")).cloned();
        (errors[0].message.clone(), code)
    }

    /// The statements `query` takes.
    async fn statements(&self, query: &str) -> usize {
        let before = self.statements.load(Ordering::SeqCst);
        self.ok(query).await;
        self.statements.load(Ordering::SeqCst) - before
    }

    fn record(&self, on: &str, scores: &str) -> String {
        format!(
            r#"mutation {{ recordScan(input: {{ groepId: "{}", scannedOn: "{on}", technique: KIND, scores: [{scores}] }}) {{
                id year quarter technique
                welbevinden {{ mean change urgentChildren attentionChildren bands {{ goed aandacht urgent }} }}
                cycle {{ phase {{ key }} iteration fields }}
            }} }}"#,
            self.groep
        )
    }
}

const Q4: &str =
    r#"{ childCode: "k01", welbevinden: 3, betrokkenheid: 3 }, { childCode: "k02", welbevinden: 4, betrokkenheid: 4 }"#;
const Q1: &str = r#"{ childCode: "k01", welbevinden: 2, betrokkenheid: 3 }, { childCode: "k02", welbevinden: 3.5, betrokkenheid: 4.5 }, { childCode: "k03", welbevinden: 5, betrokkenheid: 4 }"#;

const SCANS: &str = r#"{ scans(groepId: "GROEP") {
    id year quarter scannedOn technique note iteration recordedBy
    groep { name }
    cycle { id title phase { key } }
    goals { locatiedoelen teamdoelen individueleDoelen }
    scores { childCode welbevinden betrokkenheid }
    welbevinden { mean change urgentChildren attentionChildren bands { goed aandacht urgent } distribution { score label count } }
    betrokkenheid { mean change urgentChildren attentionChildren }
} }"#;

#[tokio::test]
async fn record_a_scan_and_read_it_back() {
    let api = Api::new().await;
    let q4 = api.ok(&api.record("2025-11-10", Q4)).await;
    assert_eq!(q4["recordScan"]["welbevinden"]["change"], serde_json::Value::Null);
    let q1 = api.ok(&api.record("2026-01-12", Q1)).await;
    let scan = &q1["recordScan"];
    assert_eq!((scan["year"].as_i64(), scan["quarter"].as_i64()), (Some(2026), Some(1)));
    assert_eq!(scan["technique"], "KIND");
    assert_eq!(
        scan["welbevinden"],
        json!({
            "mean": 3.5,
            "change": 0.0,
            "urgentChildren": ["k01"],
            "attentionChildren": ["k02"],
            "bands": { "goed": 1, "aandacht": 1, "urgent": 1 },
        })
    );
    assert_eq!(scan["cycle"]["phase"]["key"], "scan");
    assert_eq!(scan["cycle"]["fields"]["welbevinden"], 3.5);
    assert_eq!(scan["cycle"]["fields"]["scandatum"], "2026-01-12");

    let scans = api.ok(&SCANS.replace("GROEP", &api.groep)).await;
    let scans = scans["scans"].as_array().expect("scans");
    assert_eq!(scans.len(), 2);
    let newest = &scans[0];
    assert_eq!(newest["scannedOn"], "2026-01-12", "newest first");
    assert_eq!((newest["groep"]["name"].as_str(), newest["recordedBy"].as_str()), (Some("BSO Borkel 1"), Some("api")));
    assert_eq!(newest["scores"][1], json!({ "childCode": "k02", "welbevinden": 3.5, "betrokkenheid": 4.5 }));
    assert_eq!(newest["welbevinden"]["distribution"][5], json!({ "score": 3.5, "label": "3+", "count": 1 }));
    assert_eq!(newest["betrokkenheid"]["mean"], 3.83);
    assert_eq!(newest["betrokkenheid"]["change"], 0.33);
    assert_eq!(newest["goals"], json!({ "locatiedoelen": [], "teamdoelen": [], "individueleDoelen": [] }));
    assert_ne!(newest["cycle"]["id"], scans[1]["cycle"]["id"], "K4's cycle still holds its scan");

    let groep = api.ok("{ kindcentra { locaties { groepen { scans { quarter } } } } }").await;
    assert_eq!(
        groep["kindcentra"][0]["locaties"][0]["groepen"][0]["scans"],
        json!([{ "quarter": 1 }, { "quarter": 4 }])
    );
}

#[tokio::test]
async fn a_list_of_scans_takes_the_same_statements_however_long() {
    let api = Api::new().await;
    let query = SCANS.replace("GROEP", &api.groep);
    api.ok(&api.record("2025-11-10", Q4)).await;
    api.ok(&api.record("2026-01-12", Q1)).await;
    let two = api.statements(&query).await;
    api.ok(&api.record("2026-04-06", Q4)).await;
    api.ok(&api.record("2026-07-06", Q1)).await;
    api.ok(&api.record("2026-10-05", Q4)).await;
    let five = api.statements(&query).await;
    assert_eq!(two, five, "statements grew with the scans: {two} for 2, {five} for 5");
    // groep check, scans, groepen, cycles, scores, summary (3).
    assert!(five <= 8, "{five} statements");
}

#[tokio::test]
async fn bad_scans_answer_validation_and_unknown_groepen_not_found() {
    let api = Api::new().await;
    let validation = Some(Value::from("VALIDATION"));
    let off_scale = r#"{ childCode: "k01", welbevinden: 3, betrokkenheid: 3 }, { childCode: "k02", welbevinden: 5.5, betrokkenheid: 3 }"#;
    let (message, code) = api.error(&api.record("2026-01-12", off_scale)).await;
    assert_eq!(code, validation);
    assert_eq!(
        message,
        "score row 2 (child `k02`): welbevinden: score 5.5 is not on the Leuven scale: 1, 1+, 2, 2+, 3, 3+, 4, 4+, 5"
    );
    let (message, code) =
        api.error(&api.record("2026-01-12", r#"{ childCode: "Sanne", welbevinden: 3, betrokkenheid: 3 }"#)).await;
    assert_eq!(code, validation);
    assert!(message.contains("child code `Sanne` has no digit"), "{message}");
    let twice = r#"{ childCode: "k01", welbevinden: 3, betrokkenheid: 3 }, { childCode: "k01", welbevinden: 4, betrokkenheid: 4 }"#;
    let (message, code) = api.error(&api.record("2026-01-12", twice)).await;
    assert_eq!(code, validation);
    assert!(message.contains("`k01` is scored twice"), "{message}");
    let scans = api.ok(&SCANS.replace("GROEP", &api.groep)).await;
    assert_eq!(scans["scans"], json!([]), "nothing recorded");

    api.ok(&api.record("2026-01-12", Q1)).await;
    let (message, code) = api.error(&api.record("2026-03-30", Q4)).await;
    assert_eq!(code, validation);
    assert!(message.contains("already has a scan for 2026 K1"), "{message}");

    let not_found = Some(Value::from("NOT_FOUND"));
    for groep in ["999", "abc"] {
        let (_, code) = api.error(&format!(r#"{{ scans(groepId: "{groep}") {{ id }} }}"#)).await;
        assert_eq!(code, not_found, "scans of groep {groep}");
    }
    let unknown = r#"mutation { recordScan(input: { groepId: "999", scannedOn: "2026-01-12", technique: GROEP, scores: [{ welbevinden: 4, betrokkenheid: 4 }] }) { id } }"#;
    assert_eq!(api.error(unknown).await.1, not_found);
}

#[tokio::test]
async fn a_groep_or_kindcentrum_owns_a_cycle_started_through_the_api() {
    let api = Api::new().await;
    let json = api.ok("{ kindcentra { id } }").await;
    let kindcentrum = json["kindcentra"][0]["id"].as_str().expect("kindcentrum").to_owned();
    let start = |owner: &str| {
        format!(
            r#"mutation {{ startCycle(input: {{ workflow: "pedagogische-kwaliteitscyclus", title: "Kwartaal", {owner} }}) {{
                groep {{ name }} kindcentrum {{ name }} team {{ name }} phase {{ key }} }} }}"#
        )
    };
    let by_groep = api.ok(&start(&format!(r#"groepId: "{}""#, api.groep))).await;
    assert_eq!(by_groep["startCycle"]["groep"]["name"], "BSO Borkel 1");
    assert_eq!(by_groep["startCycle"]["phase"]["key"], "scan");
    let by_kc = api.ok(&start(&format!(r#"kindcentrumId: "{kindcentrum}""#))).await;
    assert_eq!(by_kc["startCycle"]["kindcentrum"]["name"], "Kindcentrum Heidevlinder");
    assert!(by_kc["startCycle"]["groep"].is_null());
    let (message, code) =
        api.error(&start(&format!(r#"groepId: "{}", kindcentrumId: "{kindcentrum}""#, api.groep))).await;
    assert_eq!(code, Some(Value::from("VALIDATION")));
    assert!(message.contains("exactly one of"), "{message}");
}
