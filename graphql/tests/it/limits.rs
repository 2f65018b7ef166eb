//! The limits of `POST /graphql`, through the router: depth, complexity, batch size, body
//! size and introspection, each refused with a GraphQL error that says what to change.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use koers_engine::access::token::AccessScope;
use koers_engine::domain::AccessRole;
use koers_graphql::ApiConfig;
use koers_graphql::server::router;
use serde_json::{Value, json};
use tower::ServiceExt as _;

/// The routes over an empty database; every request carries an admin token.
async fn app(config: ApiConfig) -> Router {
    let db = koers_testing::database().await;
    let engine = koers_testing::engine(db);
    let token = engine.create_token("test", AccessRole::Admin, AccessScope::All, None).await.expect("token").token;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}")).expect("header");
    router(engine, config).layer(axum::middleware::map_request(move |mut request: Request<Body>| {
        let bearer = bearer.clone();
        async move {
            request.headers_mut().insert(header::AUTHORIZATION, bearer);
            request
        }
    }))
}

/// POSTs `body` as JSON and answers the status and the parsed body.
async fn post(app: Router, body: Body) -> (StatusCode, Value) {
    post_declared(app, None, body).await
}

/// POSTs `body` as JSON with a `Content-Length` header of `length`, if any.
async fn post_declared(app: Router, length: Option<usize>, body: Body) -> (StatusCode, Value) {
    let mut request = Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
    if let Some(length) = length {
        request = request.header(header::CONTENT_LENGTH, length);
    }
    let request = request.body(body).expect("request");
    let response = app.oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
    let json =
        serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)));
    (status, json)
}

async fn query(config: ApiConfig, query: &str) -> Value {
    let (status, body) = post(app(config).await, Body::from(json!({ "query": query }).to_string())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn first_error(body: &Value) -> (&str, &str) {
    let error = &body["errors"][0];
    (error["message"].as_str().unwrap_or_default(), error["extensions"]["code"].as_str().unwrap_or_default())
}

/// `{ kindcentra { besturen { kindcentra { ... { name } } } } }`, `depth` fields deep.
fn nested(depth: usize) -> String {
    let mut query = String::from("name");
    for level in (1..depth).rev() {
        let field = if level % 2 == 1 { "kindcentra" } else { "besturen" };
        query = format!("{field} {{ {query} }}");
    }
    format!("{{ {query} }}")
}

#[tokio::test]
async fn a_query_nested_deeper_than_the_limit_is_refused() {
    let body = query(ApiConfig::default(), &nested(15)).await;
    assert!(body.get("errors").is_none(), "15 levels are allowed: {body}");
    assert_eq!(body["data"]["kindcentra"], json!([]));

    let body = query(ApiConfig::default(), &nested(16)).await;
    assert_eq!(
        first_error(&body),
        ("the query nests fields 16 levels deep; at most 15 are allowed", "VALIDATION"),
        "{body}"
    );
    assert!(body.get("data").is_none_or(Value::is_null), "nothing runs: {body}");
}

#[tokio::test]
async fn a_connection_costs_its_page_size_times_its_selection() {
    // kindcentra 1 + professionals 1 + 500 x (edges 1 + node 1 + one per field): 17 fields
    // fit (9502), 18 do not (10002).
    let page = |fields: usize| {
        let fields: Vec<String> = (0..fields).map(|i| format!("f{i}: name")).collect();
        format!("{{ kindcentra {{ professionals(first: 500) {{ edges {{ node {{ {} }} }} }} }} }}", fields.join(" "))
    };
    let body = query(ApiConfig::default(), &page(17)).await;
    assert!(body.get("errors").is_none(), "{body}");

    let body = query(ApiConfig::default(), &page(18)).await;
    let (message, code) = first_error(&body);
    assert_eq!(code, "VALIDATION", "{body}");
    assert!(message.starts_with("the query is too complex: it costs 10002, at most 10000 is allowed"), "{message}");

    // The default page is 50: the same selection without `first` costs a tenth.
    let body = query(ApiConfig::default(), &page(18).replace("(first: 500)", "")).await;
    assert!(body.get("errors").is_none(), "{body}");
}

/// The query GraphiQL sends (graphql-js `getIntrospectionQuery`), with the type references
/// nested 9 deep, more than graphql-js asks.
const INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}
"#;

#[tokio::test]
async fn introspection_is_on_by_default_and_off_when_configured() {
    let body = query(ApiConfig::default(), INTROSPECTION).await;
    assert!(body.get("errors").is_none(), "GraphiQL's introspection stays within the limits: {body}");
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    let body = query(ApiConfig::default(), r#"{ __type(name: "Kindcentrum") { name } }"#).await;
    assert_eq!(body["data"]["__type"]["name"], "Kindcentrum", "{body}");

    let closed = ApiConfig { introspection: false, ..ApiConfig::default() };
    for introspection in [INTROSPECTION, r#"{ __type(name: "Kindcentrum") { name } }"#] {
        let body = query(closed.clone(), introspection).await;
        let (message, code) = first_error(&body);
        assert_eq!(code, "VALIDATION", "{body}");
        assert!(message.contains("introspection is turned off"), "{message}");
    }
    // Naming the type of an object is not introspection.
    let body = query(closed, "{ __typename kindcentra { __typename } }").await;
    assert_eq!(body["data"]["__typename"], "Query", "{body}");
}

#[tokio::test]
async fn a_batch_runs_each_operation_up_to_the_limit() {
    let batch = |n: usize| Body::from(Value::Array(vec![json!({ "query": "{ kindcentra { name } }" }); n]).to_string());

    let (status, body) = post(app(ApiConfig::default()).await, batch(10)).await;
    assert_eq!(status, StatusCode::OK);
    let answers = body.as_array().unwrap_or_else(|| panic!("an array: {body}"));
    assert_eq!(answers.len(), 10);
    assert!(answers.iter().all(|a| a["data"]["kindcentra"] == json!([])), "{body}");

    let (status, body) = post(app(ApiConfig::default()).await, batch(11)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        first_error(&body),
        ("a batch may hold at most 10 operations, this one holds 11; send the rest in another request", "VALIDATION"),
        "{body}"
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_413() {
    let large = json!({ "query": format!("{{ kindcentra {{ name }} }}{}", " ".repeat(2 * 1024 * 1024)) }).to_string();
    let (status, body) =
        post_declared(app(ApiConfig::default()).await, Some(large.len()), Body::from(large.clone())).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        first_error(&body),
        ("the request body is larger than 1048576 bytes, the most this server accepts", "VALIDATION")
    );

    // The same body streamed without a length: refused once the limit is passed.
    let chunks: Vec<Result<String, std::io::Error>> =
        large.as_bytes().chunks(64 * 1024).map(|c| Ok(String::from_utf8_lossy(c).into_owned())).collect();
    let (status, body) = post(app(ApiConfig::default()).await, Body::from_stream(futures::stream::iter(chunks))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(first_error(&body).1, "VALIDATION");

    // Just under the limit is fine.
    let fits = json!({ "query": format!("{{ kindcentra {{ name }} }}{}", " ".repeat(1024 * 1024 - 100)) }).to_string();
    let (status, body) = post_declared(app(ApiConfig::default()).await, Some(fits.len()), Body::from(fits)).await;
    assert_eq!((status, &body["data"]["kindcentra"]), (StatusCode::OK, &json!([])), "{body}");
}

#[tokio::test]
async fn a_body_declared_far_too_large_is_refused_without_reading_it() {
    // A body that would never end: answering at all shows that none of it was waited for.
    let endless = Body::from_stream(futures::stream::pending::<Result<String, std::io::Error>>());
    let (status, body) = post_declared(app(ApiConfig::default()).await, Some(1 << 30), endless).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(first_error(&body).1, "VALIDATION");
}

#[tokio::test]
async fn a_body_that_is_not_a_graphql_request_is_a_validation_error() {
    let (status, body) = post(app(ApiConfig::default()).await, Body::from("{ not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (message, code) = first_error(&body);
    assert_eq!(code, "VALIDATION");
    assert!(message.starts_with("the body is not a GraphQL request"), "{message}");
}

#[tokio::test]
async fn the_readme_examples_stay_within_the_limits() {
    let readme = include_str!("../../../README.md");
    let examples: Vec<&str> =
        readme.split("```graphql").skip(1).map(|block| block.split("```").next().unwrap_or_default()).collect();
    assert!(examples.len() >= 4, "the README's GraphQL examples: {}", examples.len());
    for example in examples {
        let body = query(ApiConfig::default(), example).await;
        for error in body["errors"].as_array().into_iter().flatten() {
            let message = error["message"].as_str().unwrap_or_default();
            assert!(!message.contains("levels deep") && !message.contains("too complex"), "{message}\n{example}");
        }
    }
}

#[tokio::test]
async fn a_nul_character_in_a_text_is_refused_before_anything_runs() {
    let in_variables = json!({
        "query": "query($key: String!) { workflow(key: $key) { name } }",
        "variables": { "key": "pd\u{0}ca" },
    });
    let in_query = json!({ "query": "{ workflow(key: \"pd\\u0000ca\") { name } }" });
    for body in [in_variables, in_query] {
        let (status, body) = post(app(ApiConfig::default()).await, Body::from(body.to_string())).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            first_error(&body),
            ("a text holds a NUL character (\\u0000), which no text may contain", "VALIDATION"),
            "{body}"
        );
    }
}

/// `k` fragments that each spread the next twice: a query of a few hundred bytes that
/// selects 2^k fields. Validation walked every spread (k = 30 held a runtime thread for
/// minutes); the count per fragment refuses it in time linear in the document.
fn fanned_out(k: usize) -> String {
    let mut document = String::from("{ kindcentra { ...F0 } }\n");
    for n in 0..k {
        document.push_str(&format!("fragment F{n} on Kindcentrum {{ name ...F{next} ...F{next} }}\n", next = n + 1));
    }
    document.push_str(&format!("fragment F{k} on Kindcentrum {{ name }}\n"));
    document
}

/// Runs `document` on a task of its own: a document that holds its runtime thread cannot
/// hold the timer that ends the wait for it.
async fn within_seconds(seconds: u64, document: &str) -> Value {
    let document = document.to_owned();
    let task = tokio::spawn(async move { query(ApiConfig::default(), &document).await });
    tokio::time::timeout(std::time::Duration::from_secs(seconds), task)
        .await
        .unwrap_or_else(|_| panic!("no answer within {seconds} s"))
        .expect("the query task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fragments_that_fan_out_are_refused_without_walking_them() {
    let body = query(ApiConfig::default(), &fanned_out(8)).await;
    assert!(body.get("errors").is_none(), "511 fields are allowed: {body}");
    let refused = within_seconds(5, &fanned_out(30)).await;
    assert_eq!(
        first_error(&refused),
        (
            "the query's fragments spread to more than 10000 fields; at most 10000 are allowed: spread each fragment \
             fewer times",
            "VALIDATION"
        ),
        "{refused}"
    );
    // Fragments that spread each other are a cycle.
    let cycle = "{ kindcentra { ...A } } fragment A on Kindcentrum { name ...B ...B } \
                 fragment B on Kindcentrum { name ...C ...C } fragment C on Kindcentrum { ...A ...A }";
    let refused = within_seconds(5, cycle).await;
    assert_eq!(
        first_error(&refused),
        (
            "fragment `A` spreads itself, through its own fields or through the fragments it spreads: a fragment may \
             spread only fragments that do not lead back to it",
            "VALIDATION"
        ),
        "{refused}"
    );
}

#[tokio::test]
async fn an_error_quotes_at_most_a_little_of_the_request() {
    let long = format!("{{ kindcentra {{ {} ) }} }}", "name ".repeat(120_000));
    let (status, body) = post(app(ApiConfig::default()).await, Body::from(json!({ "query": long }).to_string())).await;
    assert_eq!(status, StatusCode::OK);
    let (message, code) = first_error(&body);
    assert_eq!(code, "VALIDATION");
    assert!(message.len() < 1000, "{} bytes quoted", message.len());
    assert!(message.contains("(cut: the message quoted"), "{message}");
}
