//! `koers serve` over HTTP.

use serde_json::json;

use crate::helpers::{App, Setup, spawn_app};

const DONE_WHEN: &str =
    "{ kindcentra { name koersplannen { title ambities { title doelen { title succescriteria { description } } } } } }";

#[tokio::test]
async fn demo_answers_the_koersplan_query() {
    let app = spawn_app(Setup::demo()).await;
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
    let store = if koers_testing::postgres().is_some() { "postgres" } else { "sqlite" };
    assert_eq!(health["database"], store);

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
    let app = spawn_app(Setup::demo()).await;
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

const INTROSPECTION: &str = r#"{ __schema { queryType { name } } __type(name: "Kindcentrum") { name } }"#;

#[tokio::test]
async fn introspection_is_answered_unless_turned_off() {
    let app = App::spawn_demo();
    let body = app.graphql(INTROSPECTION).await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query", "{body}");
    assert_eq!(body["data"]["__type"]["name"], "Kindcentrum", "{body}");

    let flag = App::spawn_with(&[], &["--no-introspection"], &[]);
    let environment = App::spawn_with(&[], &[], &[("KOERS_INTROSPECTION", "false")]);
    for app in [flag, environment] {
        let body = app.graphql(INTROSPECTION).await;
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "VALIDATION", "{body}");
        assert!(error["message"].as_str().is_some_and(|m| m.contains("introspection is turned off")), "{body}");
        // Everything else is answered as before.
        let body = app.graphql("{ kindcentra { name } }").await;
        assert!(body.get("errors").is_none(), "{body}");
    }
}

#[tokio::test]
async fn requests_over_the_limits_are_refused() {
    let app = spawn_app(Setup::demo()).await;

    // Too deep: kindcentra > besturen > kindcentra > ... 16 levels.
    let mut deep = String::from("name");
    for level in (1..16).rev() {
        deep = format!("{} {{ {deep} }}", if level % 2 == 1 { "kindcentra" } else { "besturen" });
    }
    let body = app.graphql(&format!("{{ {deep} }}")).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "VALIDATION", "{body}");
    assert_eq!(body["errors"][0]["message"], "the query nests fields 16 levels deep; at most 15 are allowed");

    // A batch runs up to 10 operations, in order.
    let batch = |n: usize| serde_json::Value::Array(vec![json!({ "query": "{ kindcentra { name } }" }); n]).to_string();
    let answers: serde_json::Value = app.post_graphql(batch(2)).await.json().await.expect("json");
    assert_eq!(answers.as_array().map(Vec::len), Some(2), "{answers}");
    assert!(answers[1]["data"]["kindcentra"].as_array().is_some_and(|kc| !kc.is_empty()), "{answers}");
    let refused: serde_json::Value = app.post_graphql(batch(11)).await.json().await.expect("json");
    assert_eq!(refused["errors"][0]["extensions"]["code"], "VALIDATION", "{refused}");
    assert!(refused["errors"][0]["message"].as_str().is_some_and(|m| m.contains("at most 10 operations")), "{refused}");

    // A 2 MiB body.
    let large = json!({ "query": format!("{{ kindcentra {{ name }} }}{}", " ".repeat(2 * 1024 * 1024)) }).to_string();
    let response = app.post_graphql(large).await;
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "VALIDATION", "{body}");

    // The server is still there.
    assert_eq!(app.get("/healthz").await.status(), 200);
}

/// SIGTERM sent the moment the server says it listens stops it gracefully: the signal is
/// listened for before that line is written.
#[test]
fn sigterm_right_after_listening_stops_gracefully() {
    for _ in 0..5 {
        let status = App::spawn_demo().terminate();
        assert!(status.success(), "stopped by the signal instead of shutting down: {status:?}");
    }
}
