//! Editing what a school keeps, over HTTP with the tokens of the people who do it: a
//! directeur writes the koersplan, a new colleague is hired, and every change is in the
//! trail with who made it, before and after.

use serde_json::{Value, json};

use crate::helpers::{Setup, TestApp, create_token, spawn_app};

/// A query with `token`; the whole body.
async fn as_token(app: &TestApp, token: &str, query: &str) -> Value {
    let (status, body) = app.post_as(Some(&format!("Bearer {token}")), query).await;
    assert!(status.is_success(), "{status}: {body}");
    body
}

fn ok(body: &Value) -> &Value {
    assert!(body.get("errors").is_none(), "{body}");
    &body["data"]
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("none")
}

async fn kindcentrum(app: &TestApp, name: &str) -> String {
    let body = app.graphql("{ kindcentra { id name } }").await;
    let found = body["data"]["kindcentra"].as_array().expect("kindcentra").iter().find(|k| k["name"] == name);
    found.unwrap_or_else(|| panic!("{name} in {body}"))["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn a_directeur_writes_the_koersplan_and_the_board_and_the_trail_show_it() {
    let app = spawn_app(Setup::demo()).await;
    let balans = kindcentrum(&app, "Kindcentrum Balans").await;
    let directeur = create_token(
        &app.url,
        &["--role", "directeur", "--scope", &format!("kindcentrum:{balans}"), "--name", "Directeur Balans"],
    );
    let plan = as_token(
        &app,
        &directeur,
        &format!("{{ kindcentrum(id: \"{balans}\") {{ koersplannen {{ id ambities {{ id doelen {{ id }} }} }} }} }}"),
    )
    .await;
    let ambitie =
        ok(&plan)["kindcentrum"]["koersplannen"][0]["ambities"][0]["id"].as_str().expect("ambitie").to_owned();

    // A doel with two succescriteria.
    let added = as_token(
        &app,
        &directeur,
        &format!(
            r#"mutation {{ addDoel(input: {{ ambitieId: "{ambitie}", title: "Elk kind leest met plezier",
                succescriteria: ["80% van de leerlingen leest thuis", "Elke groep heeft een leeshoek"] }})
                {{ id key version succescriteria {{ description }} }} }}"#
        ),
    )
    .await;
    let doel = &ok(&added)["addDoel"];
    assert_eq!(doel["key"], "elk-kind-leest-met-plezier");
    assert_eq!(doel["version"], 1, "its creation is its first change");
    assert_eq!(
        doel["succescriteria"],
        json!([{ "description": "80% van de leerlingen leest thuis" }, { "description": "Elke groep heeft een leeshoek" }])
    );
    let doel_id = doel["id"].as_str().expect("id").to_owned();

    // Two people edit the doel read at version 1: the second answers VERSION_CONFLICT.
    let edit = |version: i64, title: &str| {
        format!(
            r#"mutation {{ updateDoel(input: {{ doelId: "{doel_id}", expectedVersion: {version}, title: "{title}" }})
                {{ title version }} }}"#
        )
    };
    let first = as_token(&app, &directeur, &edit(1, "Elk kind leest elke dag met plezier")).await;
    assert_eq!(ok(&first)["updateDoel"], json!({ "title": "Elk kind leest elke dag met plezier", "version": 2 }));
    let stale = as_token(&app, &directeur, &edit(1, "Lezen")).await;
    assert_eq!(code(&stale), "VERSION_CONFLICT", "{stale}");
    assert_eq!(stale["errors"][0]["extensions"]["actualVersion"], 2);

    // The history of the doel: each change with its actor, before and after.
    let history = as_token(
        &app,
        &directeur,
        r#"{ changes(filter: { entity: "doel" }) { totalCount edges { node { actorName } } } }"#,
    )
    .await;
    assert!(ok(&history)["changes"]["totalCount"].as_u64().expect("count") >= 2, "{history}");
    let history = app
        .graphql(&format!(
            r#"{{ koersplan(id: "{}") {{ ambities {{ doelen {{ id history {{ version action actor actorName front
                before after }} }} }} }} }}"#,
            ok(&plan)["kindcentrum"]["koersplannen"][0]["id"].as_str().expect("plan")
        ))
        .await;
    let doelen = ok(&history)["koersplan"]["ambities"][0]["doelen"].as_array().expect("doelen").clone();
    let trail = doelen.iter().find(|d| d["id"] == doel_id.as_str()).expect("the new doel")["history"].clone();
    assert_eq!(trail.as_array().map(Vec::len), Some(2), "{trail}");
    assert_eq!(trail[0]["action"], "CREATED");
    assert_eq!(trail[0]["before"], Value::Null);
    assert_eq!(trail[1]["action"], "UPDATED");
    assert_eq!(trail[1]["before"]["title"], "Elk kind leest met plezier");
    assert_eq!(trail[1]["after"]["title"], "Elk kind leest elke dag met plezier");
    for change in trail.as_array().expect("trail") {
        assert!(change["actor"].as_str().expect("actor").starts_with("token:"), "{change}");
        assert_eq!(change["actorName"], "Directeur Balans");
        assert_eq!(change["front"], "API");
    }

    // A planning item of the meerjarenplanning overdue on the board, marked afgerond.
    let lucas = app.graphql("{ besturen { id name } }").await;
    let lucas = lucas["data"]["besturen"]
        .as_array()
        .expect("besturen")
        .iter()
        .find(|b| b["name"] == "Stichting Lucas Onderwijs")
        .expect("Lucas")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let board = format!(
        r#"{{ bestuur(id: "{lucas}") {{ voortgang(peildatum: "2023-07-31") {{ kindcentra {{ kindcentrum {{ name }}
            overduePlanning {{ id text status version }} }} }} }} }}"#
    );
    let overdue = |body: &Value| -> Vec<Value> {
        body["data"]["bestuur"]["voortgang"]["kindcentra"]
            .as_array()
            .expect("kindcentra")
            .iter()
            .find(|k| k["kindcentrum"]["name"] == "Kindcentrum Balans")
            .expect("Balans")["overduePlanning"]
            .as_array()
            .expect("overdue")
            .clone()
    };
    let before = overdue(&app.graphql(&board).await);
    let item = before.first().expect("an overdue planning item in the demo").clone();
    let done = as_token(
        &app,
        &directeur,
        &format!(
            r#"mutation {{ updatePlanningItem(input: {{ planningItemId: "{}", expectedVersion: {},
                status: AFGEROND, note: "Afgerond in de teamvergadering" }}) {{ status note version }} }}"#,
            item["id"].as_str().expect("id"),
            item["version"]
        ),
    )
    .await;
    assert_eq!(
        ok(&done)["updatePlanningItem"],
        json!({ "status": "AFGEROND", "note": "Afgerond in de teamvergadering", "version": item["version"].as_i64().expect("v") + 1 })
    );
    let after = overdue(&app.graphql(&board).await);
    assert!(after.iter().all(|i| i["id"] != item["id"]), "the board no longer shows it overdue: {after:?}");
    assert_eq!(after.len(), before.len() - 1);

    // A planning item outside the plan's years, and a doel without a title: VALIDATION, and
    // nothing written.
    let outside = as_token(
        &app,
        &directeur,
        &format!(
            r#"mutation {{ addPlanningItem(input: {{ doelId: "{doel_id}", schoolYear: "2031-2032", text: "Later" }}) {{ id }} }}"#
        ),
    )
    .await;
    assert_eq!(code(&outside), "VALIDATION");
    assert!(outside["errors"][0]["message"].as_str().expect("message").contains("schoolYear"), "{outside}");
    let untitled = as_token(
        &app,
        &directeur,
        &format!(r#"mutation {{ addDoel(input: {{ ambitieId: "{ambitie}", title: "  " }}) {{ id }} }}"#),
    )
    .await;
    assert_eq!(code(&untitled), "VALIDATION");
    assert!(untitled["errors"][0]["message"].as_str().expect("message").contains("title"), "{untitled}");

    // A reader of the same kindcentrum may read but not write.
    let reader = create_token(&app.url, &["--role", "reader", "--scope", &format!("kindcentrum:{balans}")]);
    let refused = as_token(&app, &reader, &edit(2, "Lezen")).await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");
}

#[tokio::test]
async fn a_pedagogisch_medewerker_hired_on_1_september_is_not_coached_yet_that_year() {
    let app = spawn_app(Setup::demo()).await;
    let heidevlinder = kindcentrum(&app, "Kindcentrum Heidevlinder").await;
    let directeur = create_token(
        &app.url,
        &["--role", "directeur", "--scope", &format!("kindcentrum:{heidevlinder}"), "--name", "Locatiemanager"],
    );
    let besturen = app.graphql("{ besturen { id name kind } }").await;
    let houder = besturen["data"]["besturen"]
        .as_array()
        .expect("besturen")
        .iter()
        .find(|b| b["kind"] == "KINDEROPVANG" && b["name"].as_str().is_some_and(|n| n.contains("Fluks")))
        .expect("Fluks opvang")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let hire = |fte: &str| {
        format!(
            r#"mutation {{ addProfessional(input: {{ name: "Noor Bakker", roles: [PEDAGOGISCH_MEDEWERKER],
                bestuurId: "{houder}", kindcentrumIds: ["{heidevlinder}"], fte: {fte}, startsOn: "2026-09-01" }})
                {{ id name version fteHistory {{ validFrom fte }} }} }}"#
        )
    };
    let too_much = as_token(&app, &directeur, &hire("2.5")).await;
    assert_eq!(code(&too_much), "VALIDATION");
    assert!(too_much["errors"][0]["message"].as_str().expect("message").contains("fte"), "{too_much}");

    let hired = as_token(&app, &directeur, &hire("0.8")).await;
    let noor = &ok(&hired)["addProfessional"];
    assert_eq!(noor["fteHistory"], json!([{ "validFrom": "2026-09-01", "fte": 0.8 }]));
    assert_eq!(noor["version"], 1);
    let noor_id = noor["id"].as_str().expect("id").to_owned();

    let norm = app
        .graphql(&format!(r#"{{ coachingNorm(bestuurId: "{houder}", year: 2026) {{ uncoached {{ id name }} }} }}"#))
        .await;
    let uncoached = ok(&norm)["coachingNorm"]["uncoached"].as_array().expect("uncoached").clone();
    assert!(uncoached.iter().any(|p| p["id"] == noor_id.as_str()), "Noor is not coached yet in 2026: {uncoached:?}");

    // She leaves at the end of the year: ended, not deleted, and her history says so.
    let ended = as_token(
        &app,
        &directeur,
        &format!(
            r#"mutation {{ updateProfessional(input: {{ professionalId: "{noor_id}", expectedVersion: 1,
                leftOn: "2026-12-31" }}) {{ leftOn version history {{ action before after actorName }} }} }}"#
        ),
    )
    .await;
    let ended = &ok(&ended)["updateProfessional"];
    assert_eq!(ended["leftOn"], "2026-12-31");
    assert_eq!(ended["version"], 2);
    assert_eq!(ended["history"][1]["before"]["left_on"], Value::Null);
    assert_eq!(ended["history"][1]["after"]["left_on"], "2026-12-31");
    assert_eq!(ended["history"][1]["after"]["roles"], json!(["pedagogisch-medewerker"]));
    assert_eq!(ended["history"][1]["actorName"], "Locatiemanager");

    // Out of reach: a kindcentrum of another bestuur answers NOT_FOUND, as one that does
    // not exist does.
    let balans = kindcentrum(&app, "Kindcentrum Balans").await;
    let elsewhere = as_token(
        &app,
        &directeur,
        &format!(
            r#"mutation {{ addProfessional(input: {{ name: "X", roles: [LEERKRACHT], bestuurId: "{houder}",
                kindcentrumIds: ["{balans}"], fte: 1, startsOn: "2026-09-01" }}) {{ id }} }}"#
        ),
    )
    .await;
    assert_eq!(code(&elsewhere), "NOT_FOUND", "{elsewhere}");
}
