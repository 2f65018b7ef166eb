//! `koers serve` over HTTP.

use crate::helpers::App;

const DONE_WHEN: &str =
    "{ kindcentra { name koersplannen { title ambities { title doelen { title succescriteria { description } } } } } }";

#[tokio::test]
async fn demo_answers_the_koersplan_query() {
    let app = App::spawn_demo();
    let body = app.graphql(DONE_WHEN).await;
    assert!(body.get("errors").is_none(), "{body}");
    let kindcentra = body["data"]["kindcentra"].as_array().expect("kindcentra");
    let balans = kindcentra.iter().find(|kc| kc["name"] == "Kindcentrum Balans").expect("KC Balans");
    let plan = &balans["koersplannen"][0];
    assert_eq!(plan["title"], "Koersplan Kindcentrum Balans 2019-2023");
    let ambities = plan["ambities"].as_array().expect("ambities");
    assert_eq!(ambities.len(), 5);
    let doelen: Vec<_> = ambities.iter().flat_map(|a| a["doelen"].as_array().expect("doelen")).collect();
    assert_eq!(doelen.len(), 19);
    let criteria: usize = doelen.iter().map(|d| d["succescriteria"].as_array().expect("criteria").len()).sum();
    assert!(criteria >= 50, "{criteria} succescriteria");
    assert!(kindcentra.iter().any(|kc| kc["name"] == "Kindcentrum Heidevlinder"));
}

#[tokio::test]
async fn health_graphiql_and_graceful_shutdown() {
    let app = App::spawn_demo();
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    let health: serde_json::Value = health.json().await.expect("json");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["database"], "sqlite");

    let page = app.get("/").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("graphiql"), "GraphiQL page");

    let heidevlinder = app
        .graphql(r#"{ kindcentra { name locaties { groepen { name maxChildren } lrkRegistrations { number } } } }"#)
        .await;
    let kc = heidevlinder["data"]["kindcentra"]
        .as_array()
        .expect("kindcentra")
        .iter()
        .find(|kc| kc["name"] == "Kindcentrum Heidevlinder")
        .cloned()
        .expect("Heidevlinder");
    assert_eq!(kc["locaties"][0]["groepen"][0]["maxChildren"], 22);
    assert_eq!(kc["locaties"][0]["lrkRegistrations"].as_array().expect("lrk").len(), 2);

    let status = app.terminate();
    assert!(status.success(), "koers serve exits cleanly on SIGTERM: {status}");
}

#[tokio::test]
async fn malformed_requests_are_validation_errors() {
    let app = App::spawn_demo();
    for query in
        ["{ kindcentra { naam } }", "{ kindcentra ", "mutation { advanceCycle(input: { cycleId: 1, to: 3 }) { id } }"]
    {
        let body = app.graphql(query).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "VALIDATION", "{query}: {body}");
    }
    let body = app
        .graphql_with(
            "mutation($input: UpdateCycleFieldsInput!) { updateCycleFields(input: $input) { id } }",
            serde_json::json!({ "input": { "cycleId": "1", "fields": [1, 2], "expectedVersion": 1 } }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "VALIDATION", "{body}");
}
