//! The quality calendar on a fake clock: a school year of templates, the E&P days,
//! daylight saving, New Year, catch-up after downtime, overlap and school holidays.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use koers_engine::calendar::rule::{Rule, WeekdayName};
use koers_engine::calendar::template::TemplateOptions;
use koers_engine::calendar::{Action, Assignee, CatchUp, Holidays, Overlap, Policy, ScheduleSpec, Targets};
use koers_engine::clock::ManualClock;
use koers_engine::cycle::machine::Values;
use koers_engine::cycle::{CycleFilter, Owner, StartCycle};
use koers_engine::domain::ScheduleScope;
use koers_engine::domain::{CycleEventKind, OccurrenceStatus, OnderdeelKind, Role};
use koers_engine::io::import::{import_file, import_str};
use koers_engine::store::entity::{cycle, groep, kindcentrum, occurrence, reminder, team};
use koers_engine::store::query::Page;
use koers_engine::workflow::load;
use koers_engine::{Engine, Error};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().expect("time")
}

fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(h, min, 0)).expect("local time")
}

fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../workflows/examples").join(name)
}

async fn engine_at(start: DateTime<Utc>, files: &[&str]) -> (Engine, ManualClock) {
    koers_testing::examples_at(start, files).await
}

/// Moves the clock from due time to due time until `end`, firing what is due; answers the
/// number of occurrences fired.
async fn run_until(engine: &Engine, clock: &ManualClock, end: DateTime<Utc>) -> usize {
    let mut fired = 0;
    loop {
        engine.materialize().await.expect("materialize");
        let Some(next) = engine.next_due().await.expect("next") else { break };
        if next > end {
            break;
        }
        clock.set(next);
        fired += engine.fire_due().await.expect("fire").fired;
    }
    clock.set(end);
    fired
}

async fn kindcentrum_id(engine: &Engine, name: &str) -> i64 {
    kindcentrum::Entity::find()
        .filter(kindcentrum::Column::Name.eq(name))
        .one(engine.db())
        .await
        .expect("query")
        .expect("kindcentrum")
        .id
}

fn spec(key: &str, scope: ScheduleScope, rule: Rule, action: Action, policy: Policy) -> ScheduleSpec {
    ScheduleSpec { key: key.into(), name: key.into(), template: None, scope, rule, action, policy }
}

fn reminder_action(title: &str) -> Action {
    Action::Reminder {
        title: title.into(),
        due_in_days: 7,
        targets: Targets::Scope,
        assignee: Assignee::Team { kind: koers_engine::domain::TeamKind::Locatieteam },
    }
}

#[tokio::test]
async fn a_school_year_of_heidevlinder_yields_four_scans_and_four_intervisies() {
    let (engine, clock) = engine_at(utc(2026, 7, 31, 22, 0), &["heidevlinder.toml"]).await;
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    for template in ["welbevinden-scan", "intervisie"] {
        engine.apply_template(template, kc, TemplateOptions::default()).await.expect("apply");
    }
    run_until(&engine, &clock, utc(2027, 7, 31, 21, 59)).await;

    let bso = groep::Entity::find().one(engine.db()).await.expect("q").expect("BSO groep");
    let scans = cycle::Entity::find()
        .filter(cycle::Column::GroepId.eq(bso.id))
        .filter(cycle::Column::WorkflowKey.eq("pedagogische-kwaliteitscyclus"))
        .all(engine.db())
        .await
        .expect("cycles");
    assert_eq!(scans.len(), 4, "{:?}", scans.iter().map(|c| &c.title).collect::<Vec<_>>());
    assert!(scans.iter().all(|c| c.phase == "scan" && c.occurrence_id.is_some() && c.current_due.is_some()));
    let intervisies =
        reminder::Entity::find().filter(reminder::Column::GroepId.eq(bso.id)).all(engine.db()).await.expect("q");
    assert_eq!(intervisies.len(), 4);
    let locatieteam = team::Entity::find().one(engine.db()).await.expect("q").expect("team");
    assert!(intervisies.iter().all(|r| r.team_id == Some(locatieteam.id) && r.title.starts_with("Intervisie")));

    // Nothing fires twice: running again at the same moment changes nothing.
    assert_eq!(engine.fire_due().await.expect("fire").fired, 0);

    // A reminder done is no longer overdue; done twice keeps the first moment.
    let overdue = |engine: &Engine| {
        let engine = engine.clone();
        async move { engine.reminders(Some(true), Page::first(50)).await.expect("reminders").total }
    };
    assert_eq!(overdue(&engine).await, 4);
    let done = engine.complete_reminder(intervisies[0].id, true).await.expect("done");
    assert!(done.done_at.is_some());
    clock.advance(chrono::TimeDelta::hours(1));
    assert_eq!(engine.complete_reminder(done.id, true).await.expect("again").done_at, done.done_at);
    assert_eq!(overdue(&engine).await, 3);
    assert!(engine.complete_reminder(done.id, false).await.expect("undone").done_at.is_none());
    assert!(matches!(engine.complete_reminder(9999, true).await, Err(Error::NotFound { .. })));
}

#[tokio::test]
async fn each_ep_day_moves_every_open_4xd_cycle_to_its_next_iteration_once() {
    let (engine, clock) = engine_at(utc(2026, 8, 1, 6, 0), &["kc-balans.toml"]).await;
    import_str(engine.db(), "teams.toml", include_str!("../../../tests/e2e/fixtures/balans-teams.toml"))
        .await
        .expect("teams");
    let balans = kindcentrum_id(&engine, "Kindcentrum Balans").await;
    let teams =
        team::Entity::find().filter(team::Column::KindcentrumId.eq(balans)).all(engine.db()).await.expect("teams");
    let mut cycles = Vec::new();
    for (i, t) in teams.iter().enumerate() {
        let start = StartCycle {
            workflow: "vierxd".into(),
            title: format!("4xD {i}"),
            owner: Owner::Team(t.id),
            doelen: vec![],
            due_dates: Default::default(),
            occurrence_id: None,
        };
        cycles.push(engine.start_cycle("test", start).await.expect("start").id);
    }
    // A PDCA cycle of the same team is not touched by the E&P days.
    let pdca = StartCycle {
        workflow: "pdca".into(),
        title: "PDCA".into(),
        owner: Owner::Team(teams[0].id),
        doelen: vec![],
        due_dates: Default::default(),
        occurrence_id: None,
    };
    let pdca = engine.start_cycle("test", pdca).await.expect("start").id;

    async fn to_doen(engine: &Engine, id: i64) {
        let steps = [
            ("duiden", json!({ "data": "Toetsresultaten" })),
            ("doelen", json!({ "duiding": "Analyse" })),
            ("doen", json!({ "besluit": "verbeteren", "doelen": ["Doel"] })),
        ];
        for (to, fields) in steps {
            let row = engine.cycle(id).await.expect("q").expect("cycle");
            let values: Values = serde_json::from_value(fields).expect("values");
            engine.advance_cycle("test", id, row.version, to, values).await.expect("advance");
        }
    }
    for id in &cycles {
        to_doen(&engine, *id).await;
    }
    let days = [
        local(2026, 9, 21, 8, 30),
        local(2026, 11, 16, 8, 30),
        local(2027, 2, 8, 8, 30),
        local(2027, 4, 12, 8, 30),
        local(2027, 6, 21, 8, 30),
    ];
    let options = TemplateOptions { dates: days.to_vec(), ..Default::default() };
    engine.apply_template("ep-dag", ScheduleScope::Kindcentrum(balans), options).await.expect("apply");

    for (n, day) in days.iter().enumerate() {
        let at = koers_engine::calendar::rule::instant(*day);
        assert_eq!(run_until(&engine, &clock, at).await, 1, "E&P day {n}");
        for id in &cycles {
            let row = engine.cycle(*id).await.expect("q").expect("cycle");
            assert_eq!((row.phase.as_str(), row.iteration), ("data", n as i32 + 2), "cycle {id} after E&P day {n}");
            to_doen(&engine, *id).await;
        }
        // Firing again on the same day moves nothing.
        assert_eq!(engine.fire_due().await.expect("fire").fired, 0);
    }
    let untouched = engine.cycle(pdca).await.expect("q").expect("pdca");
    assert_eq!((untouched.phase.as_str(), untouched.iteration), ("plan", 1));
    let fired = engine.occurrences(None, Some(OccurrenceStatus::Fired), Page::first(50)).await.expect("occurrences");
    assert_eq!(fired.total, 5);
    let result: serde_json::Value =
        serde_json::from_str(fired.items[0].result.as_deref().expect("result")).expect("json");
    assert_eq!(result["cycles_iterated"].as_array().expect("iterated").len(), cycles.len());
}

#[tokio::test]
async fn daylight_saving_switches_fire_once_each() {
    let (engine, clock) = engine_at(utc(2026, 1, 1, 12, 0), &["heidevlinder.toml"]).await;
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    let last_sunday = |month| Rule::NthWeekday {
        n: -1,
        weekday: WeekdayName::Sunday,
        months: vec![month],
        time: "02:30:00".parse().expect("time"),
    };
    let spring = engine
        .create_schedule(spec("lente", kc, last_sunday(3), reminder_action("Lente"), Policy::default()))
        .await
        .expect("spring");
    let autumn = engine
        .create_schedule(spec("herfst", kc, last_sunday(10), reminder_action("Herfst"), Policy::default()))
        .await
        .expect("autumn");
    // The same in cron: Sundays from the 25th of March, day of month AND day of week.
    let cron = Rule::Cron { expression: "0 30 2 25-31 3 Sun *".into() };
    let cron = engine
        .create_schedule(spec("lente-cron", kc, cron, reminder_action("Cron"), Policy::default()))
        .await
        .expect("cron");
    run_until(&engine, &clock, utc(2026, 12, 31, 12, 0)).await;

    let fired = |id| {
        let db = engine.db().clone();
        async move {
            occurrence::Entity::find()
                .filter(occurrence::Column::ScheduleId.eq(id))
                .filter(occurrence::Column::Status.eq("fired"))
                .all(&db)
                .await
                .expect("q")
        }
    };
    let spring = fired(spring.row.id).await;
    assert_eq!(spring.len(), 1);
    // 02:30 does not exist on 29 March 2026: it fires at 03:00 CEST, 01:00 UTC.
    assert_eq!(spring[0].due_at, utc(2026, 3, 29, 1, 0));
    let autumn = fired(autumn.row.id).await;
    assert_eq!(autumn.len(), 1);
    // 02:30 happens twice on 25 October 2026: it fires once, the first time.
    assert_eq!(autumn[0].due_at, utc(2026, 10, 25, 0, 30));
    let cron = fired(cron.row.id).await;
    assert_eq!(cron.iter().map(|o| o.due_at).collect::<Vec<_>>(), [utc(2026, 3, 29, 1, 0)]);
}

#[tokio::test]
async fn new_year_is_crossed_in_dutch_time() {
    let (engine, clock) = engine_at(utc(2026, 12, 20, 12, 0), &["heidevlinder.toml"]).await;
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    let midnight = Rule::Cron { expression: "0 0 0 1 1 * *".into() };
    let schedule = engine
        .create_schedule(spec("nieuwjaar", kc, midnight, reminder_action("Nieuwjaar"), Policy::default()))
        .await
        .expect("create");
    let weekly = Rule::Interval {
        anchor: local(2026, 12, 21, 9, 0),
        every: 1,
        unit: koers_engine::calendar::rule::IntervalUnit::Weeks,
    };
    let weekly = engine
        .create_schedule(spec("wekelijks", kc, weekly, reminder_action("Week"), Policy::default()))
        .await
        .expect("create");
    assert_eq!(run_until(&engine, &clock, utc(2027, 1, 10, 12, 0)).await, 1 + 3);
    let new_year = occurrence::Entity::find()
        .filter(occurrence::Column::ScheduleId.eq(schedule.row.id))
        .filter(occurrence::Column::Status.eq("fired"))
        .all(engine.db())
        .await
        .expect("q");
    assert_eq!(new_year.len(), 1);
    assert_eq!(new_year[0].due_at, utc(2026, 12, 31, 23, 0));
    assert_eq!(new_year[0].local_at, local(2027, 1, 1, 0, 0));
    let mut weeks: Vec<_> = occurrence::Entity::find()
        .filter(occurrence::Column::ScheduleId.eq(weekly.row.id))
        .filter(occurrence::Column::Status.eq("fired"))
        .all(engine.db())
        .await
        .expect("q")
        .into_iter()
        .map(|o| o.local_at)
        .collect();
    weeks.sort();
    assert_eq!(weeks, [local(2026, 12, 21, 9, 0), local(2026, 12, 28, 9, 0), local(2027, 1, 4, 9, 0)]);
}

#[tokio::test]
async fn after_downtime_the_catch_up_policy_decides() {
    let start = utc(2026, 9, 1, 6, 0);
    let (engine, clock) = engine_at(start, &["heidevlinder.toml"]).await;
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    let daily = Rule::Cron { expression: "0 0 9 * * * *".into() };
    let latest = engine
        .create_schedule(spec("latest", kc, daily.clone(), reminder_action("L"), Policy::default()))
        .await
        .expect("create");
    let all = Policy { catch_up: CatchUp::All { window_days: 2 }, ..Policy::default() };
    let all = engine.create_schedule(spec("all", kc, daily.clone(), reminder_action("A"), all)).await.expect("create");
    let none = Policy { catch_up: CatchUp::None, ..Policy::default() };
    let none = engine.create_schedule(spec("none", kc, daily, reminder_action("N"), none)).await.expect("create");
    engine.materialize().await.expect("materialize");
    // Down for five days: 1..5 September 09:00 are missed; back at 5 September 12:00.
    clock.set(utc(2026, 9, 5, 10, 0));
    engine.fire_due().await.expect("fire");
    let count = |id, status: &'static str| {
        let db = engine.db().clone();
        async move {
            occurrence::Entity::find()
                .filter(occurrence::Column::ScheduleId.eq(id))
                .filter(occurrence::Column::Status.eq(status))
                .all(&db)
                .await
                .expect("q")
                .len()
        }
    };
    assert_eq!((count(latest.row.id, "fired").await, count(latest.row.id, "missed").await), (1, 4));
    assert_eq!((count(all.row.id, "fired").await, count(all.row.id, "missed").await), (2, 3));
    assert_eq!((count(none.row.id, "fired").await, count(none.row.id, "missed").await), (0, 5));
}

#[tokio::test]
async fn overlap_skip_leaves_a_target_with_an_open_cycle_alone() {
    let (engine, clock) = engine_at(utc(2026, 9, 1, 6, 0), &["heidevlinder.toml"]).await;
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    let weekly = Rule::Cron { expression: "0 0 9 * * Mon *".into() };
    let open = |title: &str| Action::OpenCycle {
        workflow: "pedagogische-kwaliteitscyclus".into(),
        title: title.into(),
        targets: Targets::Groepen { onderdelen: vec![] },
        due_in_days: Some(3),
    };
    let skip = Policy { overlap: Overlap::Skip, ..Policy::default() };
    engine.create_schedule(spec("skip", kc, weekly.clone(), open("Skip"), skip)).await.expect("create");
    engine.create_schedule(spec("open", kc, weekly, open("Open"), Policy::default())).await.expect("create");
    run_until(&engine, &clock, utc(2026, 9, 22, 12, 0)).await;
    let titles: Vec<String> =
        cycle::Entity::find().all(engine.db()).await.expect("q").into_iter().map(|c| c.title).collect();
    assert_eq!(titles.iter().filter(|t| t.starts_with("Skip")).count(), 1, "{titles:?}");
    assert_eq!(titles.iter().filter(|t| t.starts_with("Open")).count(), 3, "{titles:?}");
    // The old cycles left open show as overdue: those of 7 and 14 September (due three
    // days later), not yet the one of 21 September.
    let overdue = engine
        .cycles(&CycleFilter { overdue: Some(true), ..Default::default() }, Page::first(50))
        .await
        .expect("cycles");
    assert_eq!(overdue.total, 3);
}

const HOLIDAYS: &str = r#"{
  "id": "schoolvakanties-2026-2027",
  "type": "Schoolvakanties",
  "content": [{
    "schoolyear": "2026-2027 ",
    "vacations": [
      { "type": "Herfstvakantie ", "compulsorydates": "false", "regions": [
        { "region": "noord", "startdate": "2026-10-17T00:00:00.000Z", "enddate": "2026-10-25T00:00:00.000Z" },
        { "region": "midden", "startdate": "2026-10-17T00:00:00.000Z", "enddate": "2026-10-25T00:00:00.000Z" },
        { "region": "zuid", "startdate": "2026-10-10T00:00:00.000Z", "enddate": "2026-10-18T00:00:00.000Z" }
      ] },
      { "type": "Kerstvakantie", "compulsorydates": "true", "regions": [
        { "region": "heel Nederland", "startdate": "2026-12-19T00:00:00.000Z", "enddate": "2027-01-03T00:00:00.000Z" }
      ] }
    ]
  }]
}"#;

#[tokio::test]
async fn school_holidays_move_or_skip_occurrences_per_region() {
    let (engine, clock) = engine_at(utc(2026, 9, 1, 6, 0), &["heidevlinder.toml"]).await;
    assert_eq!(engine.import_holidays(HOLIDAYS).await.expect("holidays"), 3 + 3);
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    let monday_12_oct =
        Rule::Dates { at: vec![local(2026, 10, 12, 9, 0), local(2026, 12, 21, 9, 0), local(2026, 11, 2, 9, 0)] };
    let moving = Policy {
        holidays: Holidays::Move,
        skip_dates: vec![NaiveDate::from_ymd_opt(2026, 11, 2).expect("date")],
        ..Policy::default()
    };
    let moved = engine
        .create_schedule(spec("verschuif", kc, monday_12_oct.clone(), reminder_action("V"), moving))
        .await
        .expect("create");
    let skipping = Policy { holidays: Holidays::Skip, ..Policy::default() };
    let skipped = engine
        .create_schedule(spec("sla-over", kc, monday_12_oct, reminder_action("S"), skipping))
        .await
        .expect("create");
    engine.materialize().await.expect("materialize");
    let of = |id| {
        let db = engine.db().clone();
        async move { occurrence::Entity::find().filter(occurrence::Column::ScheduleId.eq(id)).all(&db).await.expect("q") }
    };
    let mut moved: Vec<(NaiveDateTime, OccurrenceStatus)> =
        of(moved.row.id).await.into_iter().map(|o| (o.local_at, o.status)).collect();
    moved.sort();
    // Herfstvakantie zuid ends Sunday 18 October: Monday 19 October. Kerstvakantie ends
    // Sunday 3 January: Monday 4 January. 2 November is a skip date.
    assert_eq!(
        moved,
        [
            (local(2026, 10, 19, 9, 0), OccurrenceStatus::Pending),
            (local(2026, 11, 2, 9, 0), OccurrenceStatus::Skipped),
            (local(2027, 1, 4, 9, 0), OccurrenceStatus::Pending),
        ]
    );
    let statuses: Vec<OccurrenceStatus> = of(skipped.row.id).await.into_iter().map(|o| o.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == OccurrenceStatus::Skipped).count(), 2);
    let fired = run_until(&engine, &clock, utc(2027, 2, 1, 0, 0)).await;
    assert_eq!(fired, 2 + 1);
}

#[tokio::test]
async fn bad_schedules_are_validation_errors() {
    let (engine, _) = engine_at(utc(2026, 9, 1, 6, 0), &["heidevlinder.toml"]).await;
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    let err = engine
        .create_schedule(spec(
            "x",
            kc,
            Rule::Cron { expression: "elke maandag".into() },
            reminder_action("x"),
            Policy::default(),
        ))
        .await
        .expect_err("invalid cron");
    assert!(matches!(&err, Error::Validation(m) if m.starts_with("invalid cron expression `elke maandag`: ")), "{err}");
    let err = engine
        .create_schedule(spec("y", kc, Rule::Dates { at: vec![] }, reminder_action("y"), Policy::default()))
        .await
        .expect_err("empty");
    assert!(matches!(&err, Error::Validation(m) if m.contains("empty")), "{err}");
    let err = engine.apply_template("ep-dag", kc, TemplateOptions::default()).await.expect_err("dates needed");
    assert!(matches!(&err, Error::Validation(m) if m.contains("needs the dates")), "{err}");
    let err = engine
        .create_schedule(spec(
            "z",
            ScheduleScope::Groep(999),
            Rule::Dates { at: vec![local(2027, 1, 1, 9, 0)] },
            reminder_action("z"),
            Policy::default(),
        ))
        .await
        .expect_err("scope");
    assert!(matches!(err, Error::NotFound { what: "groep", .. }), "{err}");
}

#[tokio::test]
async fn preview_lists_without_firing() {
    let (engine, _) = engine_at(utc(2026, 8, 1, 6, 0), &["heidevlinder.toml"]).await;
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    engine.apply_template("welbevinden-scan", kc, TemplateOptions::default()).await.expect("apply");
    let planned = engine.preview(utc(2026, 8, 1, 0, 0), utc(2027, 8, 1, 0, 0), None).await.expect("preview");
    assert_eq!(planned.len(), 4);
    let json = serde_json::to_value(&planned[0]).expect("json");
    assert_eq!(json["schedule"], "welbevinden-scan");
    assert_eq!(json["dueAt"], "2026-10-05T09:00:00+02:00");
    assert_eq!(json["scope"], format!("kindcentrum:{}", kc.id()));
    assert_eq!(json["target"], json!(["BSO Borkel 1"]));
    assert_eq!(json["action"], "open-cycle pedagogische-kwaliteitscyclus");
    assert_eq!(occurrence::Entity::find().all(engine.db()).await.expect("q").len(), 0, "preview stores nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_loop_wakes_when_a_schedule_changes_and_when_its_moment_comes() {
    let (engine, clock) = engine_at(utc(2026, 9, 1, 6, 0), &["heidevlinder.toml"]).await;
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let looping = tokio::spawn({
        let engine = engine.clone();
        async move { engine.run_scheduler(async { stopped.await.unwrap_or(()) }).await }
    });
    let mut events = engine.subscribe();
    // With nothing scheduled the loop sleeps for an hour by the engine's clock. The new
    // schedule wakes it (a change is never missed, however the tasks interleave); it then
    // sleeps until the schedule is due, and moving the clock there wakes it to fire.
    let at = local(2026, 9, 1, 8, 30);
    let open = Action::OpenCycle {
        workflow: "pedagogische-kwaliteitscyclus".into(),
        title: "Scan".into(),
        targets: Targets::Groepen { onderdelen: vec![] },
        due_in_days: None,
    };
    engine
        .create_schedule(spec("nu", kc, Rule::Dates { at: vec![at] }, open, Policy::default()))
        .await
        .expect("create");
    clock.set(koers_engine::calendar::rule::instant(at));
    let event = tokio::time::timeout(std::time::Duration::from_secs(30), events.recv())
        .await
        .expect("the loop woke up and fired")
        .expect("event");
    assert_eq!(event.event.kind, CycleEventKind::Started);
    let _ = stop.send(());
    looping.await.expect("loop stops");
}

/// Inserts `count` schedules on `scope` as rows, the way `koers bench generate` does: more
/// than one batch of the scheduler without thousands of transactions in a test.
async fn many_schedules(engine: &Engine, scope: ScheduleScope, count: usize, rule: &Rule, policy: &Policy) {
    use koers_engine::store::entity::schedule;
    use sea_orm::Set;
    let now = engine.clock().now();
    let rows: Vec<schedule::ActiveModel> = (0..count)
        .map(|n| schedule::ActiveModel {
            key: Set(format!("s{n:05}")),
            name: Set(format!("Schedule {n}")),
            template: Set(None),
            scope_kind: Set(scope.kind().to_owned()),
            scope_id: Set(scope.id()),
            rule: Set(serde_json::to_string(rule).expect("rule")),
            action: Set(serde_json::to_string(&reminder_action("R")).expect("action")),
            policy: Set(serde_json::to_string(policy).expect("policy")),
            paused: Set(false),
            materialized_until: Set(koers_engine::calendar::rule::local(now)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(500) {
        schedule::Entity::insert_many(chunk.to_vec()).exec(engine.db()).await.expect("schedules");
    }
}

#[tokio::test]
async fn schedules_beyond_one_batch_are_stored_and_fired_as_one_by_one() {
    let start = utc(2026, 9, 1, 6, 0);
    let (engine, clock) = engine_at(start, &["heidevlinder.toml"]).await;
    engine.import_holidays(HOLIDAYS).await.expect("holidays");
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    // The first of every month; moved out of the school holidays, so the region counts.
    let monthly = Rule::Cron { expression: "0 0 9 1 * * *".into() };
    let policy = Policy { holidays: Holidays::Move, ..Policy::default() };
    const SCHEDULES: usize = 2101;
    many_schedules(&engine, kc, SCHEDULES, &monthly, &policy).await;

    let stored = engine.materialize().await.expect("materialize");
    // The preview plans every schedule on its own; the batches must store just that.
    let horizon = engine.db().clone();
    let until = koers_engine::calendar::rule::instant(
        occurrence::Entity::find().all(&horizon).await.expect("q").iter().map(|o| o.local_at).max().expect("some"),
    );
    let mut planned: Vec<(i64, DateTime<Utc>, bool)> = engine
        .preview(start, until, None)
        .await
        .expect("preview")
        .into_iter()
        .map(|p| (p.schedule_id, p.due_at, p.skipped))
        .collect();
    planned.sort();
    let mut occurrences: Vec<(i64, DateTime<Utc>, bool)> = occurrence::Entity::find()
        .all(engine.db())
        .await
        .expect("q")
        .into_iter()
        .map(|o| (o.schedule_id, o.due_at, o.status == OccurrenceStatus::Skipped))
        .collect();
    occurrences.sort();
    assert_eq!(stored, occurrences.len());
    assert_eq!(occurrences, planned);
    assert!(occurrences.len() > 12 * SCHEDULES, "more than a year ahead: {}", occurrences.len());
    // 1 January falls in the kerstvakantie (zuid) and moves to Monday 4 January.
    assert!(occurrences.iter().any(|(_, at, _)| *at == utc(2027, 1, 4, 8, 0)));
    assert!(!occurrences.iter().any(|(_, at, _)| *at == utc(2027, 1, 1, 8, 0)));
    // Stored once: a second pass stores nothing.
    assert_eq!(engine.materialize().await.expect("again"), 0);

    // Down until 5 December: 1 September to 1 December are due for each schedule, spread
    // over several batches in due order; only the latest fires.
    clock.set(utc(2026, 12, 5, 12, 0));
    let report = engine.run_scheduler_once().await.expect("run");
    assert_eq!((report.fired, report.missed), (SCHEDULES, 3 * SCHEDULES));
    let fired: Vec<occurrence::Model> =
        occurrence::Entity::find().filter(occurrence::Column::Status.eq("fired")).all(engine.db()).await.expect("q");
    assert_eq!(fired.len(), SCHEDULES);
    assert!(fired.iter().all(|o| o.due_at == utc(2026, 12, 1, 8, 0) && o.result.is_some()), "the latest fired");
    let reminders = reminder::Entity::find().all(engine.db()).await.expect("q");
    assert_eq!(reminders.len(), SCHEDULES, "one reminder for the locatieteam per schedule");
    let mut from: Vec<Option<i64>> = reminders.iter().map(|r| r.occurrence_id).collect();
    from.sort_unstable();
    from.dedup();
    assert_eq!(from.len(), SCHEDULES, "each from its own occurrence");
    // Each result names the reminder its occurrence created, across several INSERTs.
    let mut created: std::collections::HashMap<i64, Vec<i64>> = std::collections::HashMap::new();
    for r in &reminders {
        created.entry(r.occurrence_id.expect("from an occurrence")).or_default().push(r.id);
    }
    for o in &fired {
        let result: serde_json::Value = serde_json::from_str(o.result.as_deref().expect("result")).expect("json");
        let named: Vec<i64> =
            result["reminders"].as_array().expect("reminders").iter().map(|id| id.as_i64().expect("id")).collect();
        assert_eq!(Some(&named), created.get(&o.id), "occurrence {}", o.id);
    }
    assert_eq!(engine.run_scheduler_once().await.expect("again"), Default::default(), "nothing fires twice");
}

#[tokio::test]
async fn an_idle_wake_up_is_three_statements_however_many_schedules() {
    // After 1 September 09:00: the schedules start with 1 October.
    let start = utc(2026, 9, 1, 8, 0);
    let mut db = koers_testing::database().await;
    import_file(&db, &example("heidevlinder.toml")).await.expect("import");
    let statements = koers_testing::count_statements(&mut db);
    let clock = ManualClock::new(start);
    let engine = Engine::with_clock(db, Arc::new(clock.clone()));
    engine.register_workflows(load(None).expect("workflows")).await.expect("register");
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    let monthly = Rule::Cron { expression: "0 0 9 1 * * *".into() };
    many_schedules(&engine, kc, 300, &monthly, &Policy::default()).await;
    engine.run_scheduler_once().await.expect("catch up");

    // The loop wakes at least hourly; for weeks nothing is due and nothing is stored.
    let idle = |at| {
        clock.set(at);
        let (engine, statements) = (engine.clone(), statements.clone());
        async move {
            let before = statements.load(std::sync::atomic::Ordering::SeqCst);
            assert_eq!(engine.run_scheduler_once().await.expect("run"), Default::default());
            engine.next_due().await.expect("next").expect("something ahead");
            statements.load(std::sync::atomic::Ordering::SeqCst) - before
        }
    };
    assert_eq!(idle(utc(2026, 9, 1, 9, 0)).await, 3, "look for work to store, to fire, and the next due time");
    // The horizon (6 October 2027) lies in the school year 2027-2028: every schedule is
    // stored through its end, 31 July 2028, and for months nothing more is stored.
    assert_eq!(idle(utc(2026, 9, 20, 7, 0)).await, 3, "stored through the school year the horizon reaches");
    clock.set(utc(2026, 10, 1, 7, 5));
    assert_eq!(engine.run_scheduler_once().await.expect("1 October").fired, 300);
    assert_eq!(idle(utc(2026, 10, 2, 7, 0)).await, 3);
    clock.set(utc(2027, 6, 27, 7, 0));
    assert_eq!(engine.materialize().await.expect("materialize"), 0, "the horizon is still in 2027-2028");
    assert_eq!(engine.fire_due().await.expect("1 June").fired, 300, "the latest of those missed fires");
    assert_eq!(idle(utc(2027, 6, 27, 8, 0)).await, 3);
    // Once the horizon reaches 2028-2029, every schedule is stored through its end at once:
    // 1 August 2028 to 1 July 2029.
    clock.set(utc(2027, 6, 29, 7, 0));
    assert_eq!(engine.materialize().await.expect("materialize"), 300 * 12, "the next school year in one sweep");
    assert_eq!(idle(utc(2027, 6, 29, 8, 0)).await, 3);
    assert_eq!(idle(utc(2027, 6, 30, 23, 0)).await, 3, "and then nothing for a year");
}

/// Numbers no calendar means (found by attack: a catch-up window or due days of
/// 4,294,967,295 made the scheduler panic, an every-second cron stored 100,000
/// occurrences) are refused when the schedule is created, with what would be right.
#[tokio::test]
async fn a_schedule_beyond_what_the_calendar_means_is_refused() {
    let (engine, _) = engine_at(utc(2026, 9, 1, 6, 0), &["heidevlinder.toml"]).await;
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    let weekly = || Rule::Cron { expression: "0 0 9 * * Mon *".into() };
    let refused = |spec: ScheduleSpec| {
        let engine = engine.clone();
        async move {
            match engine.create_schedule(spec).await {
                Err(Error::Validation(message)) => message,
                other => panic!("expected VALIDATION, got {other:?}"),
            }
        }
    };
    let window = Policy { catch_up: CatchUp::All { window_days: u32::MAX }, ..Policy::default() };
    assert_eq!(
        refused(spec("w", kc, weekly(), reminder_action("w"), window)).await,
        "the catch-up window_days is 4294967295 days; at most 1830 (five years) is allowed"
    );
    let mut far = reminder_action("d");
    if let Action::Reminder { due_in_days, .. } = &mut far {
        *due_in_days = u32::MAX;
    }
    assert_eq!(
        refused(spec("d", kc, weekly(), far, Policy::default())).await,
        "due_in_days is 4294967295 days; at most 1830 (five years) is allowed"
    );
    let open = Action::OpenCycle {
        workflow: "vierxd".into(),
        title: "x".into(),
        targets: Targets::Scope,
        due_in_days: Some(u32::MAX),
    };
    assert!(refused(spec("o", kc, weekly(), open, Policy::default())).await.starts_with("due_in_days is 4294967295"));
    let every_second = Rule::Cron { expression: "* * * * * * *".into() };
    assert!(
        refused(spec("s", kc, every_second, reminder_action("s"), Policy::default()))
            .await
            .contains("fires more than once a minute")
    );
    let until = Policy { active_until: NaiveDate::from_ymd_opt(262_000, 1, 1), ..Policy::default() };
    assert!(refused(spec("u", kc, weekly(), reminder_action("u"), until)).await.contains("outside the years"));
    assert!(engine.schedules(None).await.expect("schedules").is_empty(), "nothing was stored");
}

/// A schedule stored before its numbers were bounded, or whose workflow is gone, cannot
/// fire: its occurrence is marked failed with the reason, and every other schedule due
/// in the same run fires as if nothing happened.
#[tokio::test]
async fn one_occurrence_that_cannot_fire_does_not_stop_the_calendar() {
    let (engine, clock) = engine_at(utc(2026, 9, 1, 6, 0), &["heidevlinder.toml"]).await;
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    let at = Rule::Dates { at: vec![local(2026, 9, 7, 9, 0)] };
    let mut ids = Vec::new();
    for key in ["before", "poisoned", "gone", "after"] {
        let schedule = engine
            .create_schedule(spec(key, kc, at.clone(), reminder_action(key), Policy::default()))
            .await
            .expect("create");
        ids.push(schedule.row.id);
    }
    // What an attacker stored before the bounds, and a workflow no longer registered.
    let poisoned = json!({ "kind": "reminder", "title": "p", "due_in_days": u32::MAX, "assignee": { "select": "team", "kind": "locatieteam" } });
    let gone = json!({ "kind": "open-cycle", "workflow": "opgeheven", "title": "g" });
    for (id, action) in [(ids[1], poisoned), (ids[2], gone)] {
        koers_engine::store::entity::schedule::Entity::update_many()
            .col_expr(
                koers_engine::store::entity::schedule::Column::Action,
                sea_orm::sea_query::Expr::value(action.to_string()),
            )
            .filter(koers_engine::store::entity::schedule::Column::Id.eq(id))
            .exec(engine.db())
            .await
            .expect("store");
    }
    engine.materialize().await.expect("materialize");
    clock.set(utc(2026, 9, 7, 7, 0));
    let report = engine.run_scheduler_once().await.expect("the run goes on");
    assert_eq!((report.fired, report.failed), (2, 2), "{report:?}");
    let occurrences = occurrence::Entity::find().all(engine.db()).await.expect("occurrences");
    let of = |id: i64| occurrences.iter().find(|o| o.schedule_id == id).expect("occurrence");
    assert_eq!(of(ids[0]).status, OccurrenceStatus::Fired);
    assert_eq!(of(ids[3]).status, OccurrenceStatus::Fired);
    assert_eq!(of(ids[1]).status, OccurrenceStatus::Failed);
    let note = of(ids[1]).note.clone().unwrap_or_default();
    assert!(
        note.starts_with("cannot fire: due_in_days 4294967295 after 2026-09-07 lies beyond the calendar"),
        "{note}"
    );
    assert_eq!(of(ids[2]).status, OccurrenceStatus::Failed);
    assert_eq!(of(ids[2]).note.as_deref(), Some("cannot fire: unknown workflow `opgeheven`"));
    let reminders = reminder::Entity::find().all(engine.db()).await.expect("reminders");
    assert_eq!(reminders.len(), 2, "the good schedules created their reminders");
    // A failed occurrence is not tried again, and nothing is pending any more.
    assert_eq!(engine.run_scheduler_once().await.expect("run"), Default::default());
    assert_eq!(engine.next_due().await.expect("next"), None);
}

#[tokio::test]
async fn a_reminder_nobody_can_be_assigned_is_warned_of_and_skipped_in_words() {
    let (engine, clock) = engine_at(utc(2026, 9, 1, 6, 0), &["heidevlinder.toml"]).await;
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    let at = local(2026, 9, 7, 9, 0);
    let reminder = |targets: Targets, assignee: Assignee| Action::Reminder {
        title: "Jaarplan".into(),
        due_in_days: 7,
        targets,
        assignee,
    };
    let directeur = Assignee::Role { role: Role::Directeur };
    // Heidevlinder has no directeur: the schedule is created, with a warning.
    let jaarplan = engine
        .create_schedule(spec(
            "jaarplan",
            kc,
            Rule::Dates { at: vec![at] },
            reminder(Targets::Scope, directeur.clone()),
            Policy::default(),
        ))
        .await
        .expect("created all the same");
    let nobody = "Kindcentrum Heidevlinder: no professional with role `directeur` to assign the reminder to";
    let per_groep = engine
        .create_schedule(spec(
            "per-groep",
            kc,
            Rule::Dates { at: vec![at] },
            reminder(Targets::Groepen { onderdelen: vec![] }, directeur),
            Policy::default(),
        ))
        .await
        .expect("create");
    let open = |onderdelen| Action::OpenCycle {
        workflow: "pedagogische-kwaliteitscyclus".into(),
        title: "Scan".into(),
        targets: Targets::Groepen { onderdelen },
        due_in_days: None,
    };
    let onderwijs = engine
        .create_schedule(spec(
            "onderwijs",
            kc,
            Rule::Dates { at: vec![at] },
            open(vec![OnderdeelKind::Onderwijs, OnderdeelKind::Dagopvang]),
            Policy::default(),
        ))
        .await
        .expect("create");
    let bso = engine
        .create_schedule(spec("bso", kc, Rule::Dates { at: vec![at] }, open(vec![]), Policy::default()))
        .await
        .expect("create");
    let warnings =
        engine.schedule_warnings(&[jaarplan.clone(), per_groep.clone(), onderwijs, bso]).await.expect("warnings");
    assert_eq!(
        warnings,
        [
            vec![nobody.to_owned()],
            vec![
                "BSO Borkel 1 (Kindcentrum Heidevlinder): no professional with role `directeur` to assign the reminder \
                 to"
                    .to_owned()
            ],
            vec![
                "Kindcentrum Heidevlinder: no groep of onderdeel `onderwijs` or `dagopvang` to open a cycle for"
                    .to_owned()
            ],
            vec![],
        ]
    );

    // Firing notes the same words in the occurrence's result.
    run_until(&engine, &clock, koers_engine::calendar::rule::instant(at)).await;
    let fired = engine
        .occurrences(Some(jaarplan.row.id), Some(OccurrenceStatus::Fired), Page::first(5))
        .await
        .expect("occurrences");
    let result: serde_json::Value =
        serde_json::from_str(fired.items[0].result.as_deref().expect("result")).expect("json");
    assert_eq!(result, json!({ "skipped": [nobody] }));
}

#[tokio::test]
async fn an_unknown_template_is_answered_with_the_templates_there_are() {
    let (engine, _) = engine_at(utc(2026, 9, 1, 6, 0), &["heidevlinder.toml"]).await;
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    let err = engine.apply_template("welbevinden", kc, TemplateOptions::default()).await.expect_err("unknown");
    let message = err.to_string();
    assert!(
        message.starts_with("unknown template `welbevinden`: the templates are ep-dag, welbevinden-scan, "),
        "{message}"
    );
    assert!(matches!(err, Error::Validation(_)));
}

#[tokio::test]
async fn the_preview_includes_both_of_its_ends() {
    let (engine, _) = engine_at(utc(2026, 8, 1, 6, 0), &["heidevlinder.toml"]).await;
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    let at = koers_engine::calendar::rule::instant(local(2026, 12, 7, 8, 30));
    let dates = Rule::Dates { at: vec![local(2026, 12, 7, 8, 30)] };
    engine.create_schedule(spec("ep", kc, dates, reminder_action("EP"), Policy::default())).await.expect("create");
    assert_eq!(engine.preview(at, at, None).await.expect("preview").len(), 1, "from and to at the very moment");
    let err = engine.preview(at, at - chrono::TimeDelta::hours(1), None).await.expect_err("backwards");
    assert_eq!(
        err.to_string(),
        "the end 2026-12-07 07:30 lies before the start 2026-12-07 08:30 (Dutch time): swap them"
    );
}

#[test]
fn a_date_in_a_rule_or_policy_in_another_form_names_the_form_that_is_read() {
    let policy = serde_json::from_value::<Policy>(json!({ "active_from": "1-12-2026" })).expect_err("day first");
    assert_eq!(policy.to_string(), "`1-12-2026` is not a date: write year-month-day, as in 2026-12-01");
    let rule = serde_json::from_value::<Rule>(
        json!({ "kind": "interval", "anchor": "2026-10-05 09:00", "every": 2, "unit": "years" }),
    )
    .expect_err("no T");
    assert!(rule.to_string().contains("as in 2026-12-01T08:30:00"), "{rule}");
    let time = serde_json::from_value::<Rule>(
        json!({ "kind": "nth-weekday", "n": 1, "weekday": "monday", "months": [9], "time": "9 uur" }),
    )
    .expect_err("words");
    assert!(time.to_string().starts_with("`9 uur` is not a time of day"), "{time}");
    // What was read before is read as before, and what is stored reads back.
    let policy = Policy {
        active_from: NaiveDate::from_ymd_opt(2026, 8, 1),
        skip_dates: vec![NaiveDate::from_ymd_opt(2026, 10, 5).expect("date")],
        ..Policy::default()
    };
    let stored = serde_json::to_value(&policy).expect("json");
    assert_eq!(serde_json::from_value::<Policy>(stored).expect("reads back"), policy);
    let dates = Rule::Dates { at: vec![local(2026, 9, 21, 8, 30)] };
    assert_eq!(serde_json::from_value::<Rule>(serde_json::to_value(&dates).expect("json")).expect("back"), dates);
}

mod arbitrary {
    //! No schedule input makes the calendar panic or stop: every generated rule, action and
    //! policy is either refused with VALIDATION when the schedule is created, or stored,
    //! materialised and fired over the next year and a half without an error.

    use chrono::TimeDelta;
    use koers_engine::calendar::rule::IntervalUnit;
    use proptest::prelude::*;

    use super::*;

    fn year() -> impl Strategy<Value = i32> {
        prop_oneof![1900..2200i32, -300_000..300_000i32, Just(i32::MAX), Just(i32::MIN)]
    }

    fn date() -> impl Strategy<Value = Option<NaiveDate>> {
        (year(), 0u32..14, 0u32..33).prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
    }

    fn moment() -> impl Strategy<Value = Option<NaiveDateTime>> {
        (date(), 0u32..25, 0u32..61).prop_map(|(d, h, m)| d.and_then(|d| d.and_hms_opt(h, m, 0)))
    }

    fn cron_field() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("*".to_owned()),
            (0u32..100).prop_map(|n| n.to_string()),
            (0u32..70).prop_map(|n| format!("*/{n}")),
            (0u32..60, 0u32..60).prop_map(|(a, b)| format!("{a}-{b}")),
            Just("Mon".to_owned()),
            Just("?".to_owned()),
        ]
    }

    fn rule() -> impl Strategy<Value = Rule> {
        prop_oneof![
            prop::collection::vec(cron_field(), 5..8)
                .prop_map(|fields| Rule::Cron { expression: fields.join(" ").into() }),
            (any::<i8>(), prop::collection::vec(0u32..15, 0..4), 0u32..24).prop_map(|(n, months, hour)| {
                Rule::NthWeekday {
                    n,
                    weekday: WeekdayName::Wednesday,
                    months,
                    time: chrono::NaiveTime::from_hms_opt(hour, 0, 0).expect("time"),
                }
            }),
            prop::collection::vec(moment(), 0..4).prop_map(|at| Rule::Dates { at: at.into_iter().flatten().collect() }),
            (moment(), any::<u32>(), 0..4usize).prop_filter_map("a valid anchor", |(anchor, every, unit)| {
                let unit = [IntervalUnit::Days, IntervalUnit::Weeks, IntervalUnit::Months, IntervalUnit::Years][unit];
                anchor.map(|anchor| Rule::Interval { anchor, every, unit })
            }),
        ]
    }

    fn policy() -> impl Strategy<Value = Policy> {
        (
            prop_oneof![
                Just(CatchUp::Latest),
                Just(CatchUp::None),
                any::<u32>().prop_map(|window_days| CatchUp::All { window_days })
            ],
            date(),
            date(),
        )
            .prop_map(|(catch_up, active_from, active_until)| Policy {
                catch_up,
                active_from,
                active_until,
                ..Policy::default()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn every_schedule_is_refused_or_fires(rule in rule(), policy in policy(), due_in_days in prop_oneof![0u32..400, any::<u32>()]) {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            let outcome: Result<(), String> = runtime.block_on(async {
                let (engine, clock) = engine_at(utc(2026, 9, 1, 6, 0), &["heidevlinder.toml"]).await;
                let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
                let mut action = reminder_action("r");
                if let Action::Reminder { due_in_days: due, .. } = &mut action {
                    *due = due_in_days;
                }
                match engine.create_schedule(spec("s", kc, rule.clone(), action, policy.clone())).await {
                    Ok(_) => {}
                    Err(Error::Validation(_)) => return Ok(()),
                    Err(other) => return Err(format!("created with {other}")),
                }
                engine.materialize().await.map_err(|e| format!("materialize: {e}"))?;
                for _ in 0..3 {
                    clock.advance(TimeDelta::days(200));
                    engine.run_scheduler_once().await.map_err(|e| format!("fire: {e}"))?;
                    engine.materialize().await.map_err(|e| format!("materialize: {e}"))?;
                }
                Ok(())
            });
            prop_assert!(outcome.is_ok(), "{:?}: {:?} {:?} due in {}", outcome, rule, policy, due_in_days);
        }
    }
}

/// A schedule that opens or iterates cycles of a workflow the engine does not know, or
/// iterates where its workflow does not, is refused when it is created, not each time it
/// fires.
#[tokio::test]
async fn a_schedule_on_an_unknown_workflow_or_iteration_is_refused() {
    let (engine, _) = engine_at(utc(2026, 9, 1, 6, 0), &["heidevlinder.toml"]).await;
    let kc = ScheduleScope::Kindcentrum(kindcentrum_id(&engine, "Kindcentrum Heidevlinder").await);
    let rule = Rule::Dates { at: vec![local(2026, 10, 12, 9, 0)] };
    let open = |workflow: &str| Action::OpenCycle {
        workflow: workflow.to_owned(),
        title: "Scan".into(),
        targets: Default::default(),
        due_in_days: None,
    };
    match engine.create_schedule(spec("onbekend", kc, rule.clone(), open("pdcx"), Policy::default())).await {
        Err(Error::Validation(message)) => {
            assert!(message.starts_with("there is no workflow `pdcx`; the workflows are: "), "{message}");
            assert!(message.contains("pdca") && message.contains("vierxd"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let iterate = Action::Iterate { workflow: "pdca".into(), from: "plan".into(), to: "do".into() };
    match engine.create_schedule(spec("verkeerd", kc, rule.clone(), iterate, Policy::default())).await {
        Err(Error::Validation(message)) => {
            assert!(message.contains("does not iterate from `plan` to `do`; it iterates act -> plan"), "{message}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    engine.create_schedule(spec("goed", kc, rule, open("pdca"), Policy::default())).await.expect("a known workflow");
}
