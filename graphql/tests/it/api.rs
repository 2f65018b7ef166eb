//! The read API over a real SQLite database: nested queries are batched (the number of SQL
//! statements a query issues does not grow with the rows it returns), lists page, unknown
//! ids answer NOT_FOUND, and the checked-in schema matches the code.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::Request;
use koers_engine::Engine;
use koers_engine::io::import::import_str;

/// One kindcentrum with a koersplan of 3 ambities x 3 doelen x 3 criteria, planning,
/// an indicator with measurements and 3 professionals in a team.
fn kindcentrum(n: usize) -> String {
    let mut file = format!(
        r#"
[[bestuur]]
key = "b{n}"
name = "Bestuur {n}"
kind = "onderwijs"

[[kindcentrum]]
key = "kc{n}"
name = "Kindcentrum {n}"
besturen = ["b{n}"]

[[kindcentrum.locatie]]
key = "hoofd"
name = "Hoofdgebouw"

[[kindcentrum.team]]
key = "kk"
name = "Kenniskring"
kind = "kenniskring"
members = ["p{n}-1", "p{n}-2", "p{n}-3"]

[[indicator]]
key = "i{n}"
name = "Lezen"
unit = "%"
direction = "at-least"
target = 80.0
kindcentrum = "kc{n}"
measurements = [
  {{ date = 2021-06-30, value = 78.0, source = "Cito" }},
  {{ date = 2022-06-30, value = 81.0, source = "Cito" }},
]

[koersplan]
key = "plan{n}"
kindcentrum = "kc{n}"
title = "Koersplan {n}"
first_school_year = "2019-2020"
last_school_year = "2022-2023"
visie = "Samen"
pijlers = ["Iedereen zien"]
"#
    );
    for p in 1..=3 {
        file.push_str(&format!(
            "\n[[professional]]\nkey = \"p{n}-{p}\"\nname = \"Professional {p}\"\nemployer = \"b{n}\"\nkindcentra = [\"kc{n}\"]\nroles = [\"leerkracht\"]\nfte = [{{ from = 2020-01-01, fte = 0.8 }}]\n"
        ));
    }
    for a in 1..=3 {
        file.push_str(&format!("\n[[koersplan.ambitie]]\nkey = \"a{a}\"\ntitle = \"Ambitie {a}\"\n"));
        for d in 1..=3 {
            file.push_str(&format!(
                "\n[[koersplan.ambitie.doel]]\nkey = \"d{d}\"\ntitle = \"Doel {d}\"\nindicators = [\"i{n}\"]\nsuccescriteria = [{{ description = \"Een\" }}, {{ description = \"Twee\", indicator = \"i{n}\" }}, {{ description = \"Drie\" }}]\nplanning = [{{ school_year = \"2019-2020\", text = \"Start\" }}, {{ school_year = \"2020-2021\", text = \"Verder\" }}]\n"
            ));
        }
    }
    file
}

/// A database with `n` kindcentra and a counter of the statements run on it.
async fn with_kindcentra(n: usize) -> (Engine, Arc<AtomicUsize>) {
    let mut db = koers_testing::database().await;
    for i in 0..n {
        import_str(&db, &format!("kc{i}.toml"), &kindcentrum(i)).await.expect("import");
    }
    let statements = koers_testing::count_statements(&mut db);
    (koers_testing::engine(db), statements)
}

/// Runs `query` and answers the statements it took and its JSON.
async fn run(n: usize, query: &str) -> (usize, serde_json::Value) {
    let (engine, statements) = with_kindcentra(n).await;
    let schema = koers_graphql::schema(engine.clone());
    let before = statements.load(Ordering::SeqCst);
    let response = schema.execute(Request::new(query).data(koers_graphql::loader::new(engine))).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let json = serde_json::to_value(response.data).expect("json");
    (statements.load(Ordering::SeqCst) - before, json)
}

const KOERSPLAN_TREE: &str =
    "{ kindcentra { koersplannen { ambities { doelen { succescriteria { description } } } } } }";

const EVERYTHING: &str = r#"{
  besturen { name kindcentra { name } }
  kindcentra {
    name besturen { name }
    locaties { name groepen { name } lrkRegistrations { number } }
    teams { name members { name roles fte(on: "2021-01-01") } }
    professionals(first: 2) { totalCount edges { node { name roles employer { name } } } }
    koersplannen {
      title pijlers kindcentrum { name }
      ambities { title doelen {
        title
        succescriteria { description indicator { name } }
        planning(first: 1) { totalCount edges { node { schoolYear text } } }
        indicators { name kindcentrum { name } bestuur { name } locatie { name } groep { name } measurements(first: 1) { totalCount edges { node { value } } } }
      } }
    }
  }
}"#;

#[tokio::test]
async fn the_koersplan_tree_takes_the_same_statements_for_2_and_8_kindcentra() {
    let (small, json_small) = run(2, KOERSPLAN_TREE).await;
    let (large, json_large) = run(8, KOERSPLAN_TREE).await;
    let doelen = |json: &serde_json::Value| -> usize {
        json["kindcentra"]
            .as_array()
            .expect("kindcentra")
            .iter()
            .flat_map(|kc| kc["koersplannen"].as_array().expect("plans").iter())
            .flat_map(|p| p["ambities"].as_array().expect("ambities").iter())
            .map(|a| a["doelen"].as_array().expect("doelen").len())
            .sum()
    };
    assert_eq!(doelen(&json_small), 2 * 9);
    assert_eq!(doelen(&json_large), 8 * 9);
    assert_eq!(small, large, "statements grew with the rows: {small} for 2 kindcentra, {large} for 8");
    // kindcentra, koersplannen, ambities, doelen, succescriteria.
    assert_eq!(small, 5);
}

#[tokio::test]
async fn every_nested_field_is_batched() {
    // Each field that loads (two root lists and 22 nested ones) takes at most one
    // statement; fields on different paths may share one when their keys arrive together,
    // which depends on timing, so the count is bounded rather than exact.
    const LOAD_SITES: usize = 24;
    let (small, json) = run(2, EVERYTHING).await;
    let (large, _) = run(8, EVERYTHING).await;
    for (kindcentra, statements) in [(2, small), (8, large)] {
        assert!(statements <= LOAD_SITES, "{statements} statements for {kindcentra} kindcentra");
    }
    assert_eq!(json["kindcentra"][0]["teams"][0]["members"][0]["fte"], 0.8, "FTE on the peildatum");
    let professionals = &json["kindcentra"][0]["professionals"];
    assert_eq!(professionals["totalCount"], 3);
    assert_eq!(professionals["edges"].as_array().expect("edges").len(), 2);
    let doel = &json["kindcentra"][0]["koersplannen"][0]["ambities"][0]["doelen"][0];
    assert_eq!(doel["planning"]["totalCount"], 2);
    assert_eq!(doel["indicators"][0]["measurements"]["totalCount"], 2);
    assert_eq!(doel["indicators"][0]["kindcentrum"]["name"], "Kindcentrum 0");
    assert_eq!(doel["indicators"][0]["bestuur"], serde_json::Value::Null);
    assert_eq!(doel["indicators"][0]["measurements"]["edges"][0]["node"]["value"], 81.0, "newest first");
}

async fn run_err(query: &str) -> Vec<async_graphql::ServerError> {
    let (engine, _) = with_kindcentra(1).await;
    let schema = koers_graphql::schema(engine.clone());
    schema.execute(Request::new(query).data(koers_graphql::loader::new(engine))).await.errors
}

#[tokio::test]
async fn lists_page_forward_with_cursors() {
    let page = |after: &str| {
        format!(
            "{{ kindcentra {{ professionals(first: 2{after}) {{ totalCount pageInfo {{ hasNextPage hasPreviousPage endCursor }} edges {{ cursor node {{ name }} }} }} }} }}"
        )
    };
    let (_, first) = run(1, &page("")).await;
    let first = &first["kindcentra"][0]["professionals"];
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
    let cursor = first["pageInfo"]["endCursor"].as_str().expect("cursor").to_owned();
    let (_, second) = run(1, &page(&format!(", after: \"{cursor}\""))).await;
    let second = &second["kindcentra"][0]["professionals"];
    assert_eq!(second["pageInfo"]["hasNextPage"], false);
    assert_eq!(second["pageInfo"]["hasPreviousPage"], true);
    assert_eq!(second["totalCount"], 3);
    let names: Vec<&str> = [first, second]
        .iter()
        .flat_map(|p| p["edges"].as_array().expect("edges").iter())
        .map(|e| e["node"]["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["Professional 1", "Professional 2", "Professional 3"]);
}

#[tokio::test]
async fn page_size_is_bounded() {
    for first in ["-1", "501"] {
        let errors = run_err(&format!("{{ kindcentra {{ professionals(first: {first}) {{ totalCount }} }} }}")).await;
        assert_eq!(errors.len(), 1, "first: {first}");
        assert!(errors[0].message.contains("`first` must be between 0 and 500"), "{}", errors[0].message);
    }
    let errors = run_err("{ kindcentra { professionals(after: \"x\") { totalCount } } }").await;
    assert!(errors[0].message.contains("`after` is not a cursor"), "{}", errors[0].message);
}

/// Cursors beyond what a store can count (one past `i64::MAX` made the statement panic its
/// handler, `u64::MAX` wrapped around to the first page) are refused on root and nested
/// lists alike, and a page beyond the end still tells the length of the whole list.
#[tokio::test]
async fn a_cursor_beyond_any_list_is_refused_and_a_page_past_the_end_keeps_its_total() {
    for cursor in ["9223372036854775808", "18446744073709551615", "18446744073709551616", "-1"] {
        for query in [
            format!("{{ cycles(after: \"{cursor}\") {{ totalCount }} }}"),
            format!("{{ occurrences(after: \"{cursor}\") {{ totalCount }} }}"),
            format!("{{ reminders(after: \"{cursor}\") {{ totalCount }} }}"),
            format!("{{ coachingEntries(bestuurId: 1, after: \"{cursor}\") {{ totalCount }} }}"),
            format!("{{ kindcentra {{ professionals(after: \"{cursor}\") {{ totalCount }} }} }}"),
        ] {
            let errors = run_err(&query).await;
            assert_eq!(errors.len(), 1, "{query}: {errors:?}");
            assert!(
                errors[0].message.contains(&format!("`after` is not a cursor of this list: `{cursor}`")),
                "{query}: {}",
                errors[0].message
            );
            let code = errors[0].extensions.as_ref().and_then(|e| e.get("code")).cloned();
            assert_eq!(code, Some(async_graphql::Value::from("VALIDATION")), "{query}");
        }
    }
    for after in ["3", "4", "1000000"] {
        let (_, json) = run(
            1,
            &format!("{{ kindcentra {{ professionals(after: \"{after}\") {{ totalCount pageInfo {{ hasNextPage }} edges {{ cursor }} }} }} }}"),
        )
        .await;
        let page = &json["kindcentra"][0]["professionals"];
        assert_eq!(page["totalCount"], 3, "after {after}: {page}");
        assert_eq!(page["edges"], serde_json::json!([]), "after {after}");
        assert_eq!(page["pageInfo"]["hasNextPage"], false, "after {after}");
    }
}

#[tokio::test]
async fn unknown_ids_answer_not_found() {
    for query in [
        "{ koersplan(id: 999) { title } }",
        "{ koersplan(id: \"abc\") { title } }",
        "{ kindcentrum(id: 999) { name } }",
    ] {
        let errors = run_err(query).await;
        assert_eq!(errors.len(), 1, "{query}");
        let code = errors[0].extensions.as_ref().and_then(|e| e.get("code")).cloned();
        assert_eq!(code, Some(async_graphql::Value::from("NOT_FOUND")), "{query}");
    }
}

#[tokio::test]
async fn koersplan_by_id() {
    let (_, json) = run(1, "{ kindcentra { koersplannen { id } } }").await;
    let id = json["kindcentra"][0]["koersplannen"][0]["id"].as_str().expect("id").to_owned();
    let (_, plan) = run(
        1,
        &format!("{{ koersplan(id: \"{id}\") {{ title firstSchoolYear lastSchoolYear kindcentrum {{ name }} }} }}"),
    )
    .await;
    assert_eq!(plan["koersplan"]["title"], "Koersplan 0");
    assert_eq!(plan["koersplan"]["firstSchoolYear"], "2019-2020");
    assert_eq!(plan["koersplan"]["lastSchoolYear"], "2022-2023");
    assert_eq!(plan["koersplan"]["kindcentrum"]["name"], "Kindcentrum 0");
}

/// `graphql/schema.graphql` is the API contract under review; regenerate it with
/// `cargo run -- schema > graphql/schema.graphql`.
#[test]
fn checked_in_schema_matches_the_code() {
    let checked_in = include_str!("../../schema.graphql");
    assert!(
        checked_in == koers_graphql::sdl(),
        "graphql/schema.graphql is out of date: run `cargo run -- schema > graphql/schema.graphql`"
    );
}

#[tokio::test]
async fn koersplan_voortgang_at_a_peildatum() {
    let query = r#"{ kindcentra { koersplannen { voortgang(peildatum: "2022-07-01") {
        progress signal ambities { signal doelen { criteria met progress doel { title } } } } } } }"#;
    let (_, json) = run(1, query).await;
    let voortgang = &json["kindcentra"][0]["koersplannen"][0]["voortgang"];
    let doel = &voortgang["ambities"][0]["doelen"][0];
    // Of three criteria only the one linked to the indicator is met (81 >= 80 on 30 June 2022).
    assert_eq!((doel["criteria"].as_i64(), doel["met"].as_i64()), (Some(3), Some(1)));
    let third = voortgang["progress"].as_f64().expect("progress");
    assert!((third - 1.0 / 3.0).abs() < 1e-9, "{third}");
    assert_eq!(voortgang["signal"], "NIET_OP_KOERS");
}

async fn exec(engine: &Engine, query: &str) -> async_graphql::Response {
    let schema = koers_graphql::schema(engine.clone());
    schema.execute(Request::new(query).data(koers_graphql::loader::new(engine.clone()))).await
}

fn code(response: &async_graphql::Response) -> Option<String> {
    let extensions = response.errors.first()?.extensions.as_ref()?;
    match extensions.get("code")? {
        async_graphql::Value::String(code) => Some(code.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn evidence_is_recorded_and_signals_set_by_hand_through_the_api() {
    let (engine, _) = with_kindcentra(1).await;
    let ids = exec(
        &engine,
        "{ kindcentra { indicators { id } koersplannen { id ambities { doelen { id succescriteria { id } } } } } }",
    )
    .await;
    let ids = serde_json::to_value(ids.data).expect("json");
    let kc = &ids["kindcentra"][0];
    let indicator = kc["indicators"][0]["id"].as_str().expect("indicator");
    let doel = &kc["koersplannen"][0]["ambities"][0]["doelen"][0];
    let (doel_id, criterium) =
        (doel["id"].as_str().expect("doel"), doel["succescriteria"][0]["id"].as_str().expect("c"));

    // A measurement for a period; one outside the percentage range is refused.
    let bad = exec(&engine, &format!(r#"mutation {{ recordMeasurement(input: {{ indicatorId: "{indicator}", date: "2022-01-31", value: 180, source: "Cito" }}) {{ id }} }}"#)).await;
    assert_eq!(code(&bad).as_deref(), Some("VALIDATION"), "{:?}", bad.errors);
    let both = exec(&engine, &format!(r#"mutation {{ recordMeasurement(input: {{ indicatorId: "{indicator}", date: "2022-01-31", from: "2022-01-01", value: 80, source: "Cito" }}) {{ id }} }}"#)).await;
    assert_eq!(code(&both).as_deref(), Some("VALIDATION"), "{:?}", both.errors);
    let recorded = exec(&engine, &format!(r#"mutation {{ recordMeasurement(input: {{ indicatorId: "{indicator}", from: "2022-01-01", until: "2022-01-31", value: 79.5, source: "Cito M6", note: "Midden" }}) {{ id periodStart periodEnd value }} }}"#)).await;
    assert!(recorded.errors.is_empty(), "{:?}", recorded.errors);
    let recorded = serde_json::to_value(recorded.data).expect("json");
    assert_eq!(recorded["recordMeasurement"]["periodEnd"], "2022-01-31");
    let measurement = recorded["recordMeasurement"]["id"].as_str().expect("id");

    // A mark without evidence is refused; with a measurement it counts.
    let refused =
        exec(&engine, &format!(r#"mutation {{ markSuccescriteriumMet(id: "{criterium}", evidence: {{}}) {{ id }} }}"#))
            .await;
    assert_eq!(code(&refused).as_deref(), Some("VALIDATION"));
    assert!(refused.errors[0].message.contains("evidence"), "{}", refused.errors[0].message);
    let marked = exec(&engine, &format!(r#"mutation {{ markSuccescriteriumMet(id: "{criterium}", evidence: {{ measurementId: "{measurement}", note: "Zie toetsverslag" }}) {{ met note measurement {{ value }} }} }}"#)).await;
    assert!(marked.errors.is_empty(), "{:?}", marked.errors);

    // A signal set by hand needs a reason and exactly one subject.
    let two = exec(&engine, &format!(r#"mutation {{ overrideSignal(input: {{ doelId: "{doel_id}", koersplanId: "1", signal: OP_KOERS, reason: "x" }}) {{ id }} }}"#)).await;
    assert_eq!(code(&two).as_deref(), Some("VALIDATION"));
    let set = exec(&engine, &format!(r#"mutation {{ overrideSignal(input: {{ doelId: "{doel_id}", signal: OP_KOERS_MET_AANDACHT, reason: "Nieuwe methode loopt nog" }}) {{ signal reason doelId }} }}"#)).await;
    assert!(set.errors.is_empty(), "{:?}", set.errors);

    let today = engine.clock().today();
    let voortgang = exec(&engine, &format!(r#"{{ kindcentra {{ koersplannen {{ signalOverrides {{ reason }} voortgang(peildatum: "{today}") {{ ambities {{ doelen {{
        met signal computedSignal signalOverride {{ reason }} succescriteria {{ met indicatorMet mark {{ note measurement {{ value }} }} succescriterium {{ marks {{ met }} }} }} }} }} }} }} }} }}"#)).await;
    assert!(voortgang.errors.is_empty(), "{:?}", voortgang.errors);
    let json = serde_json::to_value(voortgang.data).expect("json");
    let plan = &json["kindcentra"][0]["koersplannen"][0];
    assert_eq!(plan["signalOverrides"][0]["reason"], "Nieuwe methode loopt nog");
    let doel = &plan["voortgang"]["ambities"][0]["doelen"][0];
    assert_eq!(doel["signal"], "OP_KOERS_MET_AANDACHT");
    assert_eq!(doel["signalOverride"]["reason"], "Nieuwe methode loopt nog");
    let first = &doel["succescriteria"][0];
    assert_eq!(first["met"], true);
    assert_eq!(first["mark"]["measurement"]["value"], 79.5);
    assert_eq!(first["succescriterium"]["marks"].as_array().map(Vec::len), Some(1));
}

/// Runs `query` as the caller of an API token, as the server does for a request.
async fn exec_as(engine: &Engine, caller: &koers_engine::access::token::Caller, query: &str) -> serde_json::Value {
    let schema = koers_graphql::schema(engine.clone());
    let request = Request::new(query).data(koers_graphql::loader::new(engine.clone())).data(caller.clone());
    let response = schema.execute(request).await;
    assert!(response.errors.is_empty(), "{query}: {:?}", response.errors);
    serde_json::to_value(response.data).expect("json")
}

/// An admin token named `name`, as the caller it authenticates.
async fn caller(engine: &Engine, name: &str) -> koers_engine::access::token::Caller {
    use koers_engine::access::token::AccessScope;
    use koers_engine::domain::AccessRole;
    let token = engine.create_token(name, AccessRole::Admin, AccessScope::All, None).await.expect("token");
    engine.authenticate(&token.token).await.expect("authenticate").expect("a valid token")
}

/// A PDCA cycle runs two rounds and closes through the API with every field written inline,
/// the closing evaluation too (`evaluatieProces`: a field key is a GraphQL name, where
/// `evaluatie-proces` was a syntax error outside variables). The second plan starts as a
/// copy of the first. The history lists the phases of each iteration in the order of the
/// workflow and names the token behind each change, all names in one statement.
#[tokio::test]
async fn a_pdca_cycle_closes_with_inline_fields_and_its_history_reads_in_order_with_names() {
    let (engine, statements) = with_kindcentra(1).await;
    engine.register_workflows(koers_engine::workflow::load(None).expect("workflows")).await.expect("register");
    let kenniskring = caller(&engine, "Kenniskring Balans").await;
    let directie = caller(&engine, "Directie Balans").await;
    let ids = exec_as(&engine, &kenniskring, "{ kindcentra { teams { id } } }").await;
    let team = ids["kindcentra"][0]["teams"][0]["id"].as_str().expect("team").to_owned();

    let started = exec_as(
        &engine,
        &kenniskring,
        &format!(r#"mutation {{ startCycle(input: {{ workflow: "pdca", title: "Combinatie peuter-kleuterklas", teamId: "{team}" }}) {{ id version }} }}"#),
    )
    .await;
    let id = started["startCycle"]["id"].as_str().expect("id").to_owned();
    let mut version = started["startCycle"]["version"].as_i64().expect("version");
    let mut step = async |who: &koers_engine::access::token::Caller, mutation: &str, input: &str| {
        let done = exec_as(
            &engine,
            who,
            &format!("mutation {{ {mutation}(input: {{ cycleId: \"{id}\", expectedVersion: {version}, {input} }}) {{ version }} }}"),
        )
        .await;
        version = done[mutation]["version"].as_i64().expect("version");
    };
    let plan = r#"doelen: ["Peuters en kleuters spelen samen"], criteria: ["De overstap verloopt soepel"]"#;
    step(&kenniskring, "advanceCycle", &format!("to: \"do\", fields: {{ {plan} }}")).await;
    step(&kenniskring, "advanceCycle", r#"to: "check", fields: { logboek: "Twee ochtenden samen" }"#).await;
    step(&kenniskring, "advanceCycle", r#"to: "act", fields: { realisatie: "Deels" }"#).await;
    step(&kenniskring, "advanceCycle", r#"to: "plan", fields: { analyse: "Meer overdracht", besluit: "bijstellen" }"#)
        .await;
    // The copied plan is filled in: the second round leaves it without a field.
    step(&kenniskring, "advanceCycle", r#"to: "do""#).await;
    step(&kenniskring, "advanceCycle", r#"to: "check", fields: { logboek: "Elke ochtend samen" }"#).await;
    step(&kenniskring, "advanceCycle", r#"to: "act", fields: { realisatie: "Geheel" }"#).await;
    step(&kenniskring, "updateCycleFields", r#"fields: { analyse: "Werkt", besluit: "borgen" }"#).await;
    step(
        &directie,
        "closeCycle",
        r#"outcome: "borgen", fields: { evaluatieProces: "Korte rondes, plan en act vaak tegelijk", evaluatieProduct: "Combinatieklas blijft" }"#,
    )
    .await;

    let history = exec_as(
        &engine,
        &directie,
        &format!(
            "{{ cycle(id: \"{id}\") {{ status outcome iterations {{ number phases {{ phase fields }} }} \
             events {{ kind actor actorName }} workflow {{ transitions {{ from to kind copyFields }} }} }} }}"
        ),
    )
    .await;
    let cycle = &history["cycle"];
    assert_eq!((cycle["status"].as_str(), cycle["outcome"].as_str()), (Some("CLOSED"), Some("borgen")));
    let phases = |iteration: usize| -> Vec<&str> {
        let phases = cycle["iterations"][iteration]["phases"].as_array().expect("phases");
        phases.iter().map(|p| p["phase"].as_str().expect("phase")).collect()
    };
    assert_eq!(phases(0), ["plan", "do", "check", "act"], "in the order of the workflow, not of the names");
    assert_eq!(phases(1), ["plan", "do", "check", "act", "afgesloten"]);
    let fields = |iteration: usize, phase: usize| cycle["iterations"][iteration]["phases"][phase]["fields"].clone();
    assert_eq!(fields(1, 0), fields(0, 0), "the second plan is a copy of the first");
    assert_eq!(fields(1, 4)["evaluatieProces"], "Korte rondes, plan en act vaak tegelijk");
    let events = cycle["events"].as_array().expect("events");
    assert_eq!(events.len() as i64, version);
    let first = &events[0];
    assert_eq!((first["kind"].as_str(), first["actorName"].as_str()), (Some("STARTED"), Some("Kenniskring Balans")));
    assert_eq!(first["actor"], format!("token:{}", kenniskring.token_id), "the raw actor stays");
    let last = events.last().expect("closed");
    assert_eq!((last["kind"].as_str(), last["actorName"].as_str()), (Some("CLOSED"), Some("Directie Balans")));
    let copying =
        cycle["workflow"]["transitions"].as_array().expect("transitions").iter().find(|t| t["copyFields"] == true);
    assert_eq!(
        copying.map(|t| (&t["from"], &t["to"], &t["kind"])),
        Some((&"act".into(), &"plan".into(), &"ITERATE".into()))
    );

    // A change without a token (an in-process caller here; the scheduler or an import in
    // production) has no name. The names of every event of every cycle take one statement.
    let tokenless = format!(
        r#"mutation {{ startCycle(input: {{ workflow: "vierxd", title: "Lezen", teamId: "{team}" }}) {{ id }} }}"#
    );
    let started = exec(&engine, &tokenless).await;
    assert!(started.errors.is_empty(), "{:?}", started.errors);
    let count = async |selection: &str| {
        let before = statements.load(Ordering::SeqCst);
        let json =
            exec_as(&engine, &directie, &format!("{{ cycles {{ edges {{ node {{ events {{ {selection} }} }} }} }} }}"))
                .await;
        (statements.load(Ordering::SeqCst) - before, json)
    };
    let (without, _) = count("actor").await;
    let (with, json) = count("actor actorName").await;
    assert_eq!(with, without + 1, "the names of all actors in one statement");
    let edges = json["cycles"]["edges"].as_array().expect("cycles");
    let vierxd = &edges[0]["node"]["events"][0];
    assert_eq!((vierxd["actor"].as_str(), &vierxd["actorName"]), (Some("api"), &serde_json::Value::Null));
    assert_eq!(edges[1]["node"]["events"][0]["actorName"], "Kenniskring Balans");
}
