//! The quality calendar through the API: its times carry the Dutch offset of their day, a
//! plain date asks for a whole Dutch day, a date typed in another form is answered with the
//! form that is read, a schedule warns of reminders nobody can be assigned, and an unknown
//! template is answered with the templates there are.

use async_graphql::{Request, Variables};
use chrono::{TimeZone, Utc};
use koers_engine::Engine;
use koers_engine::calendar::rule::instant;
use koers_engine::clock::ManualClock;
use serde_json::{Value, json};

/// Kindcentrum Heidevlinder on 1 August 2026: one BSO groep, a locatieteam, no directeur.
struct Api {
    engine: Engine,
    clock: ManualClock,
    kindcentrum: String,
}

impl Api {
    async fn new() -> Api {
        let now = Utc.with_ymd_and_hms(2026, 8, 1, 6, 0, 0).single().expect("time");
        let (engine, clock) = koers_testing::examples_at(now, &["heidevlinder.toml"]).await;
        let mut api = Api { engine, clock, kindcentrum: String::new() };
        let json = api.ok("{ kindcentra { id } }", json!({})).await;
        api.kindcentrum = json["kindcentra"][0]["id"].as_str().expect("id").to_owned();
        api
    }

    async fn execute(&self, query: &str, variables: Value) -> async_graphql::Response {
        let schema = koers_graphql::schema(self.engine.clone());
        let request = Request::new(query)
            .variables(Variables::from_json(variables))
            .data(koers_graphql::loader::new(self.engine.clone()));
        schema.execute(request).await
    }

    async fn ok(&self, query: &str, variables: Value) -> Value {
        let response = self.execute(query, variables).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        serde_json::to_value(response.data).expect("json")
    }

    /// The message of the one error of `query`, which must carry `extensions.code`
    /// VALIDATION.
    async fn refusal(&self, query: &str, variables: Value) -> String {
        let errors = self.execute(query, variables).await.errors;
        assert_eq!(errors.len(), 1, "{errors:?}");
        let code = errors[0].extensions.as_ref().and_then(|e| e.get("code")).map(|c| c.to_string());
        assert_eq!(code.as_deref(), Some("\"VALIDATION\""), "{errors:?}");
        assert!(!errors[0].message.contains("trailing input"), "{}", errors[0].message);
        errors[0].message.clone()
    }

    fn scope(&self) -> Value {
        json!({ "kind": "KINDCENTRUM", "id": self.kindcentrum })
    }
}

const APPLY: &str =
    "mutation($input: ApplyTemplateInput!) { applyScheduleTemplate(input: $input) { id key warnings } }";
const CREATE: &str = "mutation($input: ScheduleInput!) { createSchedule(input: $input) { id key warnings } }";
const CALENDAR: &str = "query($from: DateOrDateTime!, $to: DateOrDateTime!) { calendar(from: $from, to: $to) { \
                        schedule dueAt } }";

#[tokio::test]
async fn the_calendar_answers_in_dutch_time_and_takes_whole_dutch_days() {
    let api = Api::new().await;
    let dates = json!(["2026-12-07T08:30:00", "2027-06-21T08:30"]);
    api.ok(APPLY, json!({ "input": { "template": "ep-dag", "scope": api.scope(), "dates": dates } })).await;
    let calendar = |from: &str, to: &str| {
        let api = &api;
        let variables = json!({ "from": from, "to": to });
        async move { api.ok(CALENDAR, variables).await["calendar"].clone() }
    };
    let winter = json!([{ "schedule": "ep-dag", "dueAt": "2026-12-07T08:30:00+01:00" }]);
    assert_eq!(calendar("2026-12-07", "2026-12-07").await, winter, "a date is the whole Dutch day");
    let summer = json!([{ "schedule": "ep-dag", "dueAt": "2027-06-21T08:30:00+02:00" }]);
    assert_eq!(calendar("2027-06-21", "2027-06-21").await, summer, "summer time");
    assert_eq!(calendar("2026-12-08", "2027-06-20").await, json!([]), "the days between hold neither");
    // A moment with an offset, in UTC or in Dutch wall-clock time: the bounds are included.
    assert_eq!(calendar("2026-12-07T08:30:00+01:00", "2026-12-07T08:30:00+01:00").await, winter);
    assert_eq!(calendar("2026-12-07T07:30:00Z", "2026-12-07T08:30:00").await, winter);
    assert_eq!(calendar("2026-12-07T08:31:00", "2026-12-31").await, json!([]));

    // What fired answers in Dutch time too.
    api.clock.set(instant("2026-12-07T08:30:00".parse().expect("local time")));
    api.engine.run_scheduler_once().await.expect("run");
    let fired = api.ok("{ occurrences(status: FIRED) { edges { node { dueAt firedAt localAt } } } }", json!({})).await;
    assert_eq!(
        fired["occurrences"]["edges"],
        json!([{ "node": {
            "dueAt": "2026-12-07T08:30:00+01:00",
            "firedAt": "2026-12-07T08:30:00+01:00",
            "localAt": "2026-12-07T08:30:00",
        } }])
    );
}

#[tokio::test]
async fn a_date_in_another_form_is_answered_with_the_form_that_is_read() {
    let api = Api::new().await;
    let apply = |fields: Value| {
        let mut input = json!({ "template": "welbevinden-scan", "scope": api.scope() });
        input.as_object_mut().expect("object").extend(fields.as_object().expect("object").clone());
        json!({ "input": input })
    };
    let date_time = api.refusal(APPLY, apply(json!({ "dates": ["1-12-2026"] }))).await;
    assert!(
        date_time.contains("`1-12-2026` is not a date-time") && date_time.contains("2026-12-01T08:30:00"),
        "{date_time}"
    );
    let date = api.refusal(APPLY, apply(json!({ "activeFrom": "1-12-2026" }))).await;
    assert!(date.contains("`1-12-2026` is not a date: write year-month-day, as in 2026-12-01"), "{date}");
    let calendar = api.refusal(CALENDAR, json!({ "from": "1-12-2026", "to": "2026-12-31" })).await;
    assert!(
        calendar.contains("`1-12-2026` is not a date or a date-time") && calendar.contains("2026-12-01"),
        "{calendar}"
    );
    // Any date an input takes, not only the calendar's: a literal in the query as well.
    let peildatum = api.refusal("{ voortgang(peildatum: \"31-7-2027\") { peildatum } }", json!({})).await;
    assert!(peildatum.contains("write year-month-day, as in 2027-07-31"), "{peildatum}");

    // The dates inside a schedule's rule and policy.
    let reminder = json!({ "kind": "reminder", "title": "Studiedag", "due_in_days": 0,
        "assignee": { "select": "team", "kind": "locatieteam" } });
    let create = |rule: Value, policy: Value| {
        json!({ "input": { "key": "studiedag", "name": "Studiedag", "scope": api.scope(), "rule": rule,
            "action": reminder, "policy": policy } })
    };
    let dates = json!({ "kind": "dates", "at": ["2026-12-01T08:30:00"] });
    let policy = api.refusal(CREATE, create(dates.clone(), json!({ "skip_dates": ["1-12-2026"] }))).await;
    assert_eq!(policy, "policy: `1-12-2026` is not a date: write year-month-day, as in 2026-12-01");
    let rule = api.refusal(CREATE, create(json!({ "kind": "dates", "at": ["1-12-2026 08:30"] }), json!({}))).await;
    assert!(
        rule.starts_with("rule: `1-12-2026 08:30` is not a date-time") && rule.contains("2026-12-01T08:30:00"),
        "{rule}"
    );
    let created = api.ok(CREATE, create(dates, json!({ "active_from": "2026-08-01" }))).await;
    assert_eq!(created["createSchedule"]["key"], "studiedag", "the form that is read is still read");
}

#[tokio::test]
async fn a_schedule_warns_of_reminders_nobody_can_be_assigned() {
    let api = Api::new().await;
    let reminder = |key: &str, assignee: Value, targets: Value| {
        json!({ "input": { "key": key, "name": key, "scope": api.scope(),
            "rule": { "kind": "nth-weekday", "n": 1, "weekday": "monday", "months": [9], "time": "09:00" },
            "action": { "kind": "reminder", "title": "Jaarplan", "due_in_days": 7, "targets": targets,
                "assignee": assignee } } })
    };
    // As the README shows it: the rule and action as literals of the query.
    let readme = format!(
        r#"mutation {{
          createSchedule(input: {{ key: "jaarplan", name: "Jaarplan", scope: {{ kind: KINDCENTRUM, id: "{}" }},
              rule: {{ kind: "nth-weekday", n: 1, weekday: "monday", months: [9], time: "09:00" }},
              action: {{ kind: "reminder", title: "Jaarplan", due_in_days: 14,
                        assignee: {{ select: "role", role: "directeur" }} }} }}) {{
            id warnings
          }}
        }}"#,
        api.kindcentrum
    );
    let directeur = api.ok(&readme, json!({})).await;
    let nobody = "Kindcentrum Heidevlinder: no professional with role `directeur` to assign the reminder to";
    assert_eq!(directeur["createSchedule"]["warnings"], json!([nobody]), "created all the same, with the warning");
    let groepen = api
        .ok(
            CREATE,
            reminder("intervisie", json!({ "select": "team", "kind": "locatieteam" }), json!({ "select": "groepen" })),
        )
        .await;
    assert_eq!(groepen["createSchedule"]["warnings"], json!([]));
    let plg = api
        .ok(CREATE, reminder("plg", json!({ "select": "team", "kind": "plg" }), json!({ "select": "groepen" })))
        .await;
    assert_eq!(
        plg["createSchedule"]["warnings"],
        json!(["BSO Borkel 1 (Kindcentrum Heidevlinder): no team of kind `plg` to assign the reminder to"])
    );
    let applied = api.ok(APPLY, json!({ "input": { "template": "welbevinden-scan", "scope": api.scope() } })).await;
    assert_eq!(applied["applyScheduleTemplate"]["warnings"], json!([]));

    // A list answers each schedule's warnings as they stand now.
    let listed = api.ok("{ schedules { key warnings } }", json!({})).await;
    let warnings: Vec<(&str, usize)> = listed["schedules"]
        .as_array()
        .expect("schedules")
        .iter()
        .map(|s| (s["key"].as_str().expect("key"), s["warnings"].as_array().expect("warnings").len()))
        .collect();
    assert_eq!(warnings, [("jaarplan", 1), ("intervisie", 0), ("plg", 1), ("welbevinden-scan", 0)]);
}

#[tokio::test]
async fn an_unknown_template_is_answered_with_the_templates_there_are() {
    let api = Api::new().await;
    let message = api.refusal(APPLY, json!({ "input": { "template": "welbevinden", "scope": api.scope() } })).await;
    assert!(
        message.starts_with("unknown template `welbevinden`: the templates are ep-dag, welbevinden-scan, "),
        "{message}"
    );
    assert!(message.contains("oudertevredenheid"), "{message}");
}
