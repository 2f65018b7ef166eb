//! The wet IKK norm of the demo: Fluks opvang needs 12 hours coaching and 100 hours
//! beleid in 2026 (locatiejaarplan Heidevlinder), and hours logged over HTTP count.

use serde_json::json;

use crate::helpers::{Setup, spawn_app};

const BOARD: &str = "{ besturen { id name coachingNorm(year: 2026) { coachingRequiredHours beleidRequiredHours \
                     uncoached { name } } } kindcentra { professionals(first: 20) { edges { node { id key } } } } }";

#[tokio::test]
async fn the_demo_shows_the_heidevlinder_norm_and_takes_hours() {
    let app = spawn_app(Setup::demo()).await;
    let body = app.graphql(BOARD).await;
    assert!(body.get("errors").is_none(), "{body}");
    let besturen = body["data"]["besturen"].as_array().expect("besturen");
    let fluks = besturen.iter().find(|b| b["name"] == "Fluks opvang").expect("Fluks opvang");
    let norm = &fluks["coachingNorm"];
    assert_eq!(
        (norm["coachingRequiredHours"].as_f64(), norm["beleidRequiredHours"].as_f64()),
        (Some(12.0), Some(100.0))
    );
    assert_eq!(norm["uncoached"], json!([{ "name": "L.S." }]), "the demo's coach took turns with W.H. and S.D.");
    let onderwijs = besturen.iter().find(|b| b["name"] == "Fluks onderwijs").expect("Fluks onderwijs");
    assert!(onderwijs["coachingNorm"].is_null(), "the norm is for kinderopvang only");

    let people: Vec<&serde_json::Value> = body["data"]["kindcentra"]
        .as_array()
        .expect("kindcentra")
        .iter()
        .flat_map(|kc| kc["professionals"]["edges"].as_array().expect("edges"))
        .map(|e| &e["node"])
        .collect();
    let id = |key: &str| people.iter().find(|p| p["key"] == key).expect("professional")["id"].clone();
    let logged = app
        .graphql_with(
            "mutation($input: LogCoachingHoursInput!) { logCoachingHours(input: $input) { hours bestuur { name } } }",
            json!({ "input": { "coachId": id("l-van-der-heijden"), "date": "2026-01-15", "hours": 1.5,
                               "kind": "COACHING_TEAM", "coacheeIds": [id("s-d"), id("l-s")] } }),
        )
        .await;
    assert!(logged.get("errors").is_none(), "{logged}");
    assert_eq!(logged["data"]["logCoachingHours"]["bestuur"]["name"], "Fluks opvang");

    let after = app.graphql(BOARD).await;
    let fluks =
        after["data"]["besturen"].as_array().expect("besturen").iter().find(|b| b["name"] == "Fluks opvang").cloned();
    assert_eq!(fluks.expect("Fluks opvang")["coachingNorm"]["uncoached"], json!([]));
}
