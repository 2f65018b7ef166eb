//! No GraphQL document makes the server panic or hold a thread: documents generated with
//! fragments that spread each other (many times, in cycles, unknown ones), aliases and
//! inline fragments are each answered, within a bounded time, with data or with errors
//! that all carry `extensions.code`. `PROPTEST_CASES=2000 cargo test --test documents`
//! hunts longer.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use koers_engine::access::token::AccessScope;
use koers_engine::domain::AccessRole;
use koers_graphql::ApiConfig;
use koers_graphql::server::router;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// Selections a fragment on `Kindcentrum` may hold besides spreads.
const FIELDS: &[&str] = &[
    "name",
    "id",
    "__typename",
    "naam: name",
    "name: id",
    "locaties { name groepen { name } }",
    "koersplannen { title ambities { title } }",
    "... on Kindcentrum { name }",
    "... { id }",
    "besturen { name kindcentra { name } }",
    "onbekend",
    "name(first: 3)",
];

/// A fragment's body: fields, then spreads of other fragments (each a fragment index and
/// how many times it is spread).
#[derive(Debug, Clone)]
struct Fragment {
    fields: Vec<usize>,
    spreads: Vec<(usize, usize)>,
}

fn fragment(count: usize) -> impl Strategy<Value = Fragment> {
    (
        prop::collection::vec(0..FIELDS.len(), 0..4),
        // Mostly later fragments, sometimes an earlier one (a cycle) or one not defined.
        prop::collection::vec((0..count + 1, 0usize..5), 0..4),
    )
        .prop_map(|(fields, spreads)| Fragment { fields, spreads })
}

fn document() -> impl Strategy<Value = String> {
    (1usize..14)
        .prop_flat_map(|count| {
            (prop::collection::vec(fragment(count), count), any::<bool>(), prop::option::of(2usize..5))
        })
        .prop_map(|(fragments, aliased, chained)| {
            let count = fragments.len();
            let mut text = if aliased {
                String::from("{ a: kindcentra { ...F0 } b: kindcentra { name ...F0 } }\n")
            } else {
                String::from("query Q { kindcentra { ...F0 } }\n")
            };
            for (i, fragment) in fragments.iter().enumerate() {
                let mut parts: Vec<String> = fragment.fields.iter().map(|&f| FIELDS[f].to_owned()).collect();
                if let Some(fan) = chained
                    && i + 1 < count
                {
                    // A chain that multiplies at each step: the fan-out of the attack.
                    parts.extend(std::iter::repeat_n(format!("...F{}", i + 1), fan));
                }
                for &(target, times) in &fragment.spreads {
                    let name = if target == count { "Nergens".to_owned() } else { format!("F{target}") };
                    parts.extend(std::iter::repeat_n(format!("...{name}"), times));
                }
                if parts.is_empty() {
                    parts.push("name".to_owned());
                }
                text.push_str(&format!("fragment F{i} on Kindcentrum {{ {} }}\n", parts.join(" ")));
            }
            text
        })
}

/// The routes over the KC Balans example; every request carries an admin token.
async fn app() -> Router {
    let db = koers_testing::database().await;
    koers_engine::io::import::import_str(
        &db,
        "kc-balans.toml",
        include_str!("../../../workflows/examples/kc-balans.toml"),
    )
    .await
    .expect("import");
    let engine = koers_testing::engine(db);
    let token = engine.create_token("test", AccessRole::Admin, AccessScope::All, None).await.expect("token").token;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}")).expect("header");
    router(engine, ApiConfig::default()).layer(axum::middleware::map_request(move |mut request: Request<Body>| {
        let bearer = bearer.clone();
        async move {
            request.headers_mut().insert(header::AUTHORIZATION, bearer);
            request
        }
    }))
}

/// Answers `document` on a task of its own, so that a document holding its thread cannot
/// hold the timer that bounds it.
async fn answer(app: &Router, document: &str) -> Result<(StatusCode, Value), String> {
    let request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "query": document }).to_string()))
        .expect("request");
    let task = tokio::spawn(app.clone().oneshot(request));
    let response = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .map_err(|_| "no answer within 10 s".to_owned())?
        .map_err(|panic| format!("the handler panicked: {panic}"))?
        .expect("infallible");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.map_err(|e| e.to_string())?;
    let body = serde_json::from_slice(&bytes).map_err(|_| format!("not JSON: {}", String::from_utf8_lossy(&bytes)))?;
    Ok((status, body))
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_document_is_answered_in_time_with_coded_errors(document in document()) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        let result = runtime.block_on(async {
            let app = app().await;
            answer(&app, &document).await
        });
        let (status, body) = result.map_err(|why| TestCaseError::fail(format!("{why}\n{document}")))?;
        prop_assert_eq!(status, StatusCode::OK, "{}\n{}", body, document);
        let errors = body["errors"].as_array().cloned().unwrap_or_default();
        prop_assert!(!errors.is_empty() || body["data"].is_object(), "{}\n{}", body, document);
        for error in &errors {
            let code = error["extensions"]["code"].as_str().unwrap_or_default();
            prop_assert!(["VALIDATION", "NOT_FOUND"].contains(&code), "{}\n{}", error, document);
        }
    }
}
