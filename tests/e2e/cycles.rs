//! Cycles over HTTP: a kenniskring of KC Balans runs a PDCA experiment, a unit runs 4xD
//! with pitches, and refused commands get the right error code and leave the log alone.

use serde_json::{Value, json};

use crate::helpers::{Setup, TestApp, example, fixture, spawn_app};

const CYCLE: &str = "id title version phase { key } iteration status outcome";

struct Balans {
    app: TestApp,
    kenniskring: String,
    unit: String,
    leerkrachten: Vec<String>,
    doel: String,
}

async fn balans() -> Balans {
    let app = spawn_app(Setup::importing(&[example("kc-balans.toml"), fixture("balans-teams.toml")])).await;
    let org = app
        .graphql(
            r#"{ kindcentra { name teams { id key } professionals { edges { node { id key } } }
                koersplannen { ambities { doelen { id title } } } } }"#,
        )
        .await;
    let kc = org["data"]["kindcentra"]
        .as_array()
        .expect("kindcentra")
        .iter()
        .find(|kc| kc["name"] == "Kindcentrum Balans")
        .cloned()
        .expect("KC Balans");
    let team = |key: &str| {
        kc["teams"].as_array().expect("teams").iter().find(|t| t["key"] == key).expect("team")["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let leerkrachten = kc["professionals"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| e["node"]["key"].as_str().is_some_and(|k| k.starts_with("leerkracht")))
        .map(|e| e["node"]["id"].as_str().expect("id").to_owned())
        .collect();
    let doel = kc["koersplannen"][0]["ambities"]
        .as_array()
        .expect("ambities")
        .iter()
        .flat_map(|a| a["doelen"].as_array().expect("doelen").iter())
        .find(|d| d["title"] == "Grenzeloos, doorlopende ontwikkeling van 0-12 jaar")
        .expect("doel 0-12")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    Balans { kenniskring: team("kenniskring-jonge-kind"), unit: team("unit-bovenbouw"), leerkrachten, doel, app }
}

fn data<'a>(body: &'a Value, field: &str) -> &'a Value {
    assert!(body.get("errors").is_none(), "{body}");
    &body["data"][field]
}

fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_else(|| panic!("no error code in {body}"))
}

impl Balans {
    async fn start(&self, workflow: &str, title: &str, team: &str, doelen: &[&str]) -> Value {
        let body = self
            .app
            .graphql_with(
                &format!("mutation($input: StartCycleInput!) {{ startCycle(input: $input) {{ {CYCLE} }} }}"),
                json!({ "input": { "workflow": workflow, "title": title, "teamId": team, "doelIds": doelen } }),
            )
            .await;
        data(&body, "startCycle").clone()
    }

    async fn advance(&self, cycle: &Value, to: &str, fields: Value) -> Value {
        self.app
            .graphql_with(
                &format!("mutation($input: AdvanceCycleInput!) {{ advanceCycle(input: $input) {{ {CYCLE} }} }}"),
                json!({ "input": { "cycleId": cycle["id"], "to": to, "fields": fields, "expectedVersion": cycle["version"] } }),
            )
            .await
    }

    async fn advanced(&self, cycle: &Value, to: &str, fields: Value) -> Value {
        data(&self.advance(cycle, to, fields).await, "advanceCycle").clone()
    }

    async fn event_count(&self, cycle: &Value) -> usize {
        let body = self.app.graphql(&format!("{{ cycle(id: {}) {{ events {{ kind }} }} }}", cycle["id"])).await;
        data(&body, "cycle")["events"].as_array().expect("events").len()
    }
}

#[tokio::test]
async fn a_kenniskring_runs_the_peuter_kleuterklas_experiment_through_two_pdca_iterations() {
    let b = balans().await;
    let mut cycle = b.start("pdca", "Combinatie peuter-kleuterklas", &b.kenniskring, &[&b.doel]).await;
    assert_eq!(cycle["phase"]["key"], "plan");
    for iteration in 1..=2 {
        let plan = json!({
            "doelen": ["Peuters en kleuters spelen en leren samen in één groep"],
            "criteria": ["De overstap naar groep 1 verloopt soepel"],
            "kengetallen": ["Welbevinden na de overstap"],
        });
        cycle = b.advanced(&cycle, "do", plan).await;
        cycle = b
            .advanced(
                &cycle,
                "check",
                json!({ "logboek": format!("Ronde {iteration}: twee ochtenden per week samen") }),
            )
            .await;
        cycle = b.advanced(&cycle, "act", json!({ "realisatie": "De overstap verloopt soepeler" })).await;
        if iteration == 1 {
            cycle =
                b.advanced(&cycle, "plan", json!({ "analyse": "Te weinig overdracht", "besluit": "bijstellen" })).await;
            assert_eq!(cycle["iteration"], 2);
        }
    }
    let act = json!({ "analyse": "Werkt", "besluit": "borgen" });
    let update = b
        .app
        .graphql_with(
            &format!("mutation($input: UpdateCycleFieldsInput!) {{ updateCycleFields(input: $input) {{ {CYCLE} }} }}"),
            json!({ "input": { "cycleId": cycle["id"], "fields": act, "expectedVersion": cycle["version"] } }),
        )
        .await;
    cycle = data(&update, "updateCycleFields").clone();
    let closed = b
        .app
        .graphql_with(
            &format!("mutation($input: CloseCycleInput!) {{ closeCycle(input: $input) {{ {CYCLE} }} }}"),
            json!({ "input": {
                "cycleId": cycle["id"],
                "outcome": "borgen",
                "fields": { "evaluatieProces": "Korte rondes, plan en act vaak tegelijk", "evaluatieProduct": "Combinatieklas blijft" },
                "expectedVersion": cycle["version"],
            } }),
        )
        .await;
    let closed = data(&closed, "closeCycle");
    assert_eq!(
        (closed["status"].as_str(), closed["outcome"].as_str(), closed["iteration"].as_i64()),
        (Some("CLOSED"), Some("borgen"), Some(2))
    );

    // The doel lists the experiment as evidence, with its history.
    let evidence = b
        .app
        .graphql(
            "{ kindcentra { koersplannen { ambities { doelen { id cycles { title outcome iterations { number } events { kind } } } } } } }",
        )
        .await;
    let doel = evidence["data"]["kindcentra"]
        .as_array()
        .expect("kindcentra")
        .iter()
        .flat_map(|kc| kc["koersplannen"].as_array().expect("plannen").iter())
        .flat_map(|p| p["ambities"].as_array().expect("ambities").iter())
        .flat_map(|a| a["doelen"].as_array().expect("doelen").iter())
        .find(|d| d["id"] == json!(b.doel))
        .cloned()
        .expect("doel");
    let cycles = doel["cycles"].as_array().expect("cycles");
    assert_eq!(cycles.len(), 1);
    assert_eq!(cycles[0]["title"], "Combinatie peuter-kleuterklas");
    assert_eq!(cycles[0]["outcome"], "borgen");
    assert_eq!(cycles[0]["iterations"].as_array().expect("iterations").len(), 2);
    let kinds: Vec<&str> =
        cycles[0]["events"].as_array().expect("events").iter().map(|e| e["kind"].as_str().expect("kind")).collect();
    assert_eq!(kinds.first(), Some(&"STARTED"));
    assert_eq!(kinds.last(), Some(&"CLOSED"));
}

#[tokio::test]
async fn a_unit_runs_4xd_with_three_pitches() {
    let b = balans().await;
    let mut cycle = b.start("vierxd", "Begrijpend lezen bovenbouw", &b.unit, &[]).await;
    cycle = b.advanced(&cycle, "duiden", json!({ "data": "M-toets begrijpend lezen: 72% I-III" })).await;
    cycle = b.advanced(&cycle, "doelen", json!({ "duiding": "Woordenschat blijft achter" })).await;
    cycle = b
        .advanced(&cycle, "doen", json!({ "besluit": "verbeteren", "doelen": ["Dagelijks woordenschatdidactiek"] }))
        .await;
    assert_eq!(b.leerkrachten.len(), 3);
    for (i, leerkracht) in b.leerkrachten.iter().enumerate() {
        let body = b
            .app
            .graphql_with(
                &format!("mutation($input: AddPitchInput!) {{ addPitch(input: $input) {{ {CYCLE} }} }}"),
                json!({ "input": {
                    "cycleId": cycle["id"], "professionalId": leerkracht, "date": "2026-10-05",
                    "did": format!("Woordweb in groep {}", 6 + i), "yielded": "Meer betrokkenheid bij de tekst",
                    "expectedVersion": cycle["version"],
                } }),
            )
            .await;
        cycle = data(&body, "addPitch").clone();
    }
    let body = b
        .app
        .graphql(&format!(
            "{{ cycle(id: {}) {{ workflow {{ key pitches }} pitches {{ date did professional {{ name }} }} }} }}",
            cycle["id"]
        ))
        .await;
    let read = data(&body, "cycle");
    assert_eq!(read["workflow"]["key"], "vierxd");
    let pitches = read["pitches"].as_array().expect("pitches");
    assert_eq!(pitches.len(), 3);
    assert!(pitches.iter().all(|p| p["date"] == "2026-10-05" && p["professional"]["name"].as_str().is_some()));

    // The next Evaluatie & Planningsdag starts the next iteration at `data`.
    let next = b.advanced(&cycle, "data", json!({ "uitvoering": "Zes weken uitgevoerd" })).await;
    assert_eq!((next["phase"]["key"].as_str(), next["iteration"].as_i64()), (Some("data"), Some(2)));
}

#[tokio::test]
async fn refused_commands_get_their_code_and_leave_the_log_alone() {
    let b = balans().await;
    let cycle = b.start("pdca", "Weigeringen", &b.kenniskring, &[]).await;

    // Leaving plan with its required fields empty.
    let body = b.advance(&cycle, "do", json!({})).await;
    assert_eq!(error_code(&body), "GUARD_FAILED");
    assert_eq!(body["errors"][0]["extensions"]["missing"], json!(["doelen", "criteria"]));
    assert_eq!(b.event_count(&cycle).await, 1);

    let mut cycle = b.advanced(&cycle, "do", json!({ "doelen": ["x"], "criteria": ["y"] })).await;
    cycle = b.advanced(&cycle, "check", json!({ "logboek": "z" })).await;

    // check -> do is not declared.
    let events = b.event_count(&cycle).await;
    let body = b.advance(&cycle, "do", json!({})).await;
    assert_eq!(error_code(&body), "INVALID_TRANSITION");
    assert_eq!(b.event_count(&cycle).await, events);

    // Two concurrent advances with the same expected version: exactly one wins.
    let fields = json!({ "realisatie": "deels" });
    let (first, second) = tokio::join!(b.advance(&cycle, "act", fields.clone()), b.advance(&cycle, "act", fields));
    let codes: Vec<Option<&str>> =
        [&first, &second].iter().map(|r| r["errors"][0]["extensions"]["code"].as_str()).collect();
    assert!(codes.contains(&None) && codes.contains(&Some("VERSION_CONFLICT")), "{first} {second}");
    assert_eq!(b.event_count(&cycle).await, events + 1);

    // Ids that do not exist, bad field values and an unknown workflow.
    let body = b.app.graphql("{ cycle(id: 999999) { id } }").await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let body = b
        .app
        .graphql_with(
            "mutation($input: StartCycleInput!) { startCycle(input: $input) { id } }",
            json!({ "input": { "workflow": "pdcx", "title": "x", "teamId": b.kenniskring } }),
        )
        .await;
    assert_eq!(error_code(&body), "VALIDATION");
    let body = b.app.graphql(&format!("{{ cycles(filter: {{ teamId: {} }}) {{ totalCount }} }}", b.kenniskring)).await;
    assert_eq!(data(&body, "cycles")["totalCount"], 1);
}

#[tokio::test]
async fn the_workflows_are_listed_with_their_phases() {
    let app = spawn_app(Setup::demo()).await;
    let body = app
        .graphql(
            "{ workflows { key version phases { key fields { key type required } } transitions { from to kind } } }",
        )
        .await;
    let workflows = data(&body, "workflows").as_array().expect("workflows");
    let keys: Vec<&str> = workflows.iter().map(|w| w["key"].as_str().expect("key")).collect();
    assert_eq!(keys, ["hgw-groepsbespreking", "pdca", "pdsa", "pedagogische-kwaliteitscyclus", "vierxd"]);
    let pdca = &workflows[1];
    assert!(
        pdca["transitions"]
            .as_array()
            .expect("transitions")
            .contains(&json!({ "from": "act", "to": "plan", "kind": "ITERATE" }))
    );
}

#[tokio::test]
async fn cycle_events_arrive_over_websocket() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let b = balans().await;
    let url = format!("{}/graphql/ws", b.app.base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse().expect("header"));
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.expect("connect");
    // Waits for the next message; the timeout only bounds a broken server.
    async fn next<S>(ws: &mut S) -> Value
    where
        S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
    {
        let message = tokio::time::timeout(std::time::Duration::from_secs(30), ws.next())
            .await
            .expect("a message within 30 s")
            .expect("open")
            .expect("message");
        serde_json::from_str(message.to_text().expect("text")).expect("json")
    }
    // Browsers cannot set headers on a WebSocket: the token comes with connection_init.
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", b.app.token) } });
    ws.send(Message::text(init.to_string())).await.expect("init");
    assert_eq!(next(&mut ws).await["type"], "connection_ack");
    let subscribe = json!({
        "id": "1",
        "type": "subscribe",
        "payload": { "query": format!("subscription {{ cycleEvents(filter: {{ teamId: {} }}) {{ kind to cycle {{ title }} }} }}", b.kenniskring) },
    });
    ws.send(Message::text(subscribe.to_string())).await.expect("subscribe");
    // The server handles messages in order: once it answers the ping, it has taken the
    // subscription.
    ws.send(Message::text(json!({ "type": "ping" }).to_string())).await.expect("ping");
    assert_eq!(next(&mut ws).await["type"], "pong");

    // An event of another team is filtered out; the kenniskring's start arrives.
    b.start("vierxd", "Andere unit", &b.unit, &[]).await;
    b.start("pdca", "Live gevolgd", &b.kenniskring, &[]).await;
    let message = next(&mut ws).await;
    assert_eq!(message["type"], "next", "{message}");
    let event = &message["payload"]["data"]["cycleEvents"];
    assert_eq!(event["kind"], "STARTED");
    assert_eq!(event["to"], "plan");
    assert_eq!(event["cycle"]["title"], "Live gevolgd");
}
