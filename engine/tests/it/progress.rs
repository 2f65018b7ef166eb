//! Progress of a koersplan from its indicators' measurements, and the signal at a peildatum.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use koers_engine::clock::ManualClock;
use koers_engine::cycle::machine::{Status, Values};
use koers_engine::cycle::{Owner, StartCycle};
use koers_engine::io::import::import_str;
use koers_engine::plan::progress::{Evidence, Signal, SignalSubject};
use koers_engine::store::entity::{ambitie, doel, koersplan, measurement, succescriterium, team};
use koers_engine::workflow::load;
use koers_engine::{Engine, Error};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

const PLAN: &str = r#"

[[kindcentrum.team]]
key = "kring"
name = "Kenniskring lezen"
kind = "kenniskring"

[[indicator]]
key = "lezen"
name = "Lezen I-III"
unit = "%"
direction = "at-least"
target = 80.0
kindcentrum = "kc"
measurements = [
  { date = 2021-06-30, value = 78.0, source = "Cito" },
  { date = 2022-06-30, value = 82.0, source = "Cito" },
]

[[indicator]]
key = "verzuim"
name = "Verzuim"
unit = "%"
direction = "at-most"
target = 5.0
kindcentrum = "kc"
measurements = [{ date = 2021-06-30, value = 4.0, source = "Administratie" }]

[koersplan]
key = "plan"
kindcentrum = "kc"
title = "Plan"
first_school_year = "2019-2020"
last_school_year = "2022-2023"
visie = "Visie"

[[koersplan.ambitie]]
key = "a1"
title = "Een"

[[koersplan.ambitie.doel]]
key = "d1"
title = "Lezen"
succescriteria = [
  { description = "80% scoort I-III", indicator = "lezen" },
  { description = "Verzuim hooguit 5%", indicator = "verzuim" },
]

[[koersplan.ambitie.doel]]
key = "d2"
title = "Zonder criteria"

[[koersplan.ambitie]]
key = "a2"
title = "Twee"

[[koersplan.ambitie.doel]]
key = "d3"
title = "Nog niets gemeten"
succescriteria = [{ description = "Een verhaal" }]
"#;

#[tokio::test]
async fn progress_follows_the_latest_measurement_up_to_the_peildatum() {
    let db = koers_testing::database().await;
    import_str(&db, "plan.toml", &koers_testing::one_kindcentrum(PLAN)).await.expect("import");
    let engine = koers_testing::engine(db);
    let id = koersplan::Entity::find().one(engine.db()).await.expect("q").expect("plan").id;
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");

    // 1 July 2021: lezen 78 < 80 (not met), verzuim 4 <= 5 (met).
    let early = engine.koersplan_progress(id, date(2021, 7, 1)).await.expect("progress");
    let a1 = &early.ambities[0];
    assert_eq!((a1.doelen[0].met, a1.doelen[0].criteria), (1, 2));
    assert_eq!(a1.doelen[0].progress, Some(0.5));
    assert_eq!(a1.doelen[1].progress, None, "a doel without criteria does not count");
    assert_eq!(a1.progress, Some(0.5));
    assert_eq!(early.ambities[1].progress, Some(0.0));
    assert_eq!(early.progress, Some(0.25));
    // Just under half of the plan period has passed: 0.25 >= t - 0.25.
    assert!(early.elapsed > 0.45 && early.elapsed < 0.5, "{}", early.elapsed);
    assert_eq!(early.signal, Some(Signal::OpKoersMetAandacht));
    assert_eq!(a1.signal, Some(Signal::OpKoers));

    // Mid 2022 the newer measurement (82) meets the target.
    let later = engine.koersplan_progress(id, date(2022, 7, 31)).await.expect("progress");
    assert_eq!(later.ambities[0].doelen[0].progress, Some(1.0));
    assert_eq!(later.ambities[0].signal, Some(Signal::Afgerond));
    assert_eq!(later.progress, Some(0.5));
    assert_eq!(later.signal, Some(Signal::NietOpKoers), "0.5 < 0.75 - 0.25");
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// An engine over the plan, with the clock at noon UTC of `today`.
async fn engine_on(today: NaiveDate) -> (Engine, Arc<ManualClock>, koersplan::Model) {
    let db = koers_testing::database().await;
    import_str(&db, "plan.toml", &koers_testing::one_kindcentrum(PLAN)).await.expect("import");
    let clock = Arc::new(ManualClock::new(Utc.from_utc_datetime(&today.and_hms_opt(12, 0, 0).expect("noon"))));
    let engine = Engine::with_clock(db, clock.clone());
    let plan = koersplan::Entity::find().one(engine.db()).await.expect("q").expect("plan");
    (engine, clock, plan)
}

async fn criterium(engine: &Engine, description: &str) -> succescriterium::Model {
    succescriterium::Entity::find()
        .filter(succescriterium::Column::Description.eq(description))
        .one(engine.db())
        .await
        .expect("q")
        .expect("criterium")
}

#[tokio::test]
async fn a_criterium_is_met_by_a_mark_with_evidence_and_never_without() {
    let (engine, clock, plan) = engine_on(date(2021, 3, 1)).await;
    let story = criterium(&engine, "Een verhaal").await;

    // No evidence at all, or only blank text: refused, nothing stored.
    for evidence in [Evidence::default(), Evidence { note: Some("  ".into()), ..Evidence::default() }] {
        let refused = engine.mark_succescriterium_met("test", story.id, evidence).await.expect_err("no evidence");
        assert!(matches!(&refused, Error::Validation(m) if m.contains("evidence")), "{refused}");
    }
    assert!(engine.marks_of(&[story.id]).await.expect("marks").is_empty());

    // An open cycle is no evidence; a closed one is.
    engine.register_workflows(load(None).expect("workflows")).await.expect("workflows");
    let kring = team::Entity::find().one(engine.db()).await.expect("q").expect("team");
    let cycle = engine
        .start_cycle(
            "test",
            StartCycle {
                workflow: "pdca".into(),
                title: "Voorlezen in de onderbouw".into(),
                owner: Owner::Team(kring.id),
                doelen: vec![],
                due_dates: BTreeMap::new(),
                occurrence_id: None,
            },
        )
        .await
        .expect("start");
    let evidence = Evidence { cycle_id: Some(cycle.id), ..Evidence::default() };
    let refused = engine.mark_succescriterium_met("test", story.id, evidence.clone()).await.expect_err("open cycle");
    assert!(matches!(&refused, Error::Validation(m) if m.contains("still open")), "{refused}");
    let closed = close(&engine, cycle.id).await;
    assert_eq!(closed.status, Status::Closed);
    let unknown = Evidence { measurement_id: Some(9999), ..Evidence::default() };
    assert!(matches!(
        engine.mark_succescriterium_met("test", story.id, unknown).await,
        Err(Error::NotFound { what: "measurement", .. })
    ));

    let before = engine.koersplan_progress(plan.id, date(2021, 3, 1)).await.expect("progress");
    assert_eq!(before.ambities[1].progress, Some(0.0));
    let mark = engine.mark_succescriterium_met("directeur", story.id, evidence).await.expect("mark");
    assert_eq!((mark.met, mark.cycle_id, mark.actor.as_str()), (true, Some(cycle.id), "directeur"));

    let after = engine.koersplan_progress(plan.id, date(2021, 3, 1)).await.expect("progress");
    let doel = &after.ambities[1].doelen[0];
    assert_eq!(doel.progress, Some(1.0));
    assert_eq!(doel.signal, Some(Signal::Afgerond));
    assert_eq!(doel.succescriteria[0].mark.as_ref().map(|m| m.id), Some(mark.id));
    // A peildatum before the mark does not see it.
    let earlier = engine.koersplan_progress(plan.id, date(2021, 2, 28)).await.expect("progress");
    assert_eq!(earlier.ambities[1].doelen[0].progress, Some(0.0));

    // A measurement is evidence too; withdrawing needs a reason and keeps the history.
    let lezen = criterium(&engine, "80% scoort I-III").await;
    let measured = measurement::Entity::find().one(engine.db()).await.expect("q").expect("measurement");
    engine
        .mark_succescriterium_met(
            "test",
            lezen.id,
            Evidence { measurement_id: Some(measured.id), ..Evidence::default() },
        )
        .await
        .expect("mark with measurement");
    clock.advance(chrono::TimeDelta::days(1));
    assert!(matches!(
        engine.withdraw_succescriterium_mark("test", story.id, " ").await,
        Err(Error::Validation(m)) if m.contains("reason")
    ));
    engine.withdraw_succescriterium_mark("test", story.id, "De cyclus is niet geborgd").await.expect("withdraw");
    let history = engine.marks_of(&[story.id]).await.expect("marks").remove(&story.id).expect("history");
    assert_eq!(history.iter().map(|m| m.met).collect::<Vec<_>>(), [true, false]);
    let now = engine.koersplan_progress(plan.id, date(2021, 3, 2)).await.expect("progress");
    assert_eq!(now.ambities[1].doelen[0].progress, Some(0.0));
    let lezen_doel = &now.ambities[0].doelen[0];
    assert_eq!(lezen_doel.progress, Some(0.5), "lezen is met by its mark; verzuim is not measured yet");
    assert!(lezen_doel.succescriteria[0].met && lezen_doel.succescriteria[0].indicator_met.is_none());
}

async fn close(engine: &Engine, id: i64) -> koers_engine::store::entity::cycle::Model {
    let values = |v: serde_json::Value| -> Values { serde_json::from_value(v).expect("values") };
    let plan = values(json!({"doelen": ["Meer leesplezier"], "criteria": ["Elke dag voorlezen"]}));
    engine.advance_cycle("test", id, 1, "do", plan).await.expect("plan -> do");
    engine.advance_cycle("test", id, 2, "check", values(json!({"logboek": "Gestart"}))).await.expect("do -> check");
    engine.advance_cycle("test", id, 3, "act", values(json!({"realisatie": "Gerealiseerd"}))).await.expect("act");
    engine
        .update_cycle_fields("test", id, 4, values(json!({"analyse": "Werkt", "besluit": "borgen"})))
        .await
        .expect("act");
    let evaluation = values(json!({"evaluatieProces": "Goed verlopen", "evaluatieProduct": "Voorlezen blijft"}));
    engine.close_cycle("test", id, 5, "borgen", evaluation).await.expect("close")
}

#[tokio::test]
async fn a_signal_set_by_hand_needs_a_reason_and_is_kept_as_an_event() {
    let (engine, clock, plan) = engine_on(date(2021, 7, 1)).await;
    let a1 =
        ambitie::Entity::find().filter(ambitie::Column::Key.eq("a1")).one(engine.db()).await.expect("q").expect("a1");
    let d3 = doel::Entity::find().filter(doel::Column::Key.eq("d3")).one(engine.db()).await.expect("q").expect("d3");

    let refused = engine
        .override_signal("bestuur", SignalSubject::Doel(d3.id), Some(Signal::OpKoers), "")
        .await
        .expect_err("no reason");
    assert!(matches!(&refused, Error::Validation(m) if m.contains("reason")), "{refused}");
    assert!(matches!(
        engine.override_signal("bestuur", SignalSubject::Ambitie(4242), Some(Signal::OpKoers), "x").await,
        Err(Error::NotFound { what: "ambitie", .. })
    ));

    let reason = "Het leesproject start pas in het voorjaar, afgesproken met de directie";
    let set = engine
        .override_signal("bestuur", SignalSubject::Doel(d3.id), Some(Signal::OpKoersMetAandacht), reason)
        .await
        .expect("override");
    assert_eq!((set.koersplan_id, set.doel_id, set.reason.as_str()), (plan.id, Some(d3.id), reason));
    engine
        .override_signal("bestuur", SignalSubject::Ambitie(a1.id), Some(Signal::NietOpKoers), "Verzuim stijgt weer")
        .await
        .expect("override ambitie");

    let p = engine.koersplan_progress(plan.id, date(2021, 7, 1)).await.expect("progress");
    let d = &p.ambities[1].doelen[0];
    assert_eq!(d.computed_signal, Some(Signal::NietOpKoers));
    assert_eq!(d.signal, Some(Signal::OpKoersMetAandacht));
    assert_eq!(d.signal_override.as_ref().map(|o| o.reason.as_str()), Some(reason));
    assert_eq!(p.ambities[0].computed_signal, Some(Signal::OpKoers));
    assert_eq!(p.ambities[0].signal, Some(Signal::NietOpKoers));
    assert_eq!(p.signal, p.computed_signal, "the koersplan itself has no override");
    // Before the override was set, the computed signal counted.
    let before = engine.koersplan_progress(plan.id, date(2021, 6, 30)).await.expect("progress");
    assert_eq!(before.ambities[1].doelen[0].signal, before.ambities[1].doelen[0].computed_signal);

    // Lifting the override takes a reason too; the computed signal counts again, and both
    // events stay in the history.
    clock.advance(chrono::TimeDelta::days(1));
    engine.override_signal("bestuur", SignalSubject::Doel(d3.id), None, "Project is gestart").await.expect("lift");
    let p = engine.koersplan_progress(plan.id, date(2021, 7, 2)).await.expect("progress");
    assert_eq!(p.ambities[1].doelen[0].signal, Some(Signal::NietOpKoers));
    assert!(p.ambities[1].doelen[0].signal_override.is_none());
    let history = engine.signal_overrides_of(&[plan.id]).await.expect("history").remove(&plan.id).expect("rows");
    assert_eq!(history.len(), 3);
    assert_eq!(
        history.iter().filter(|o| o.doel_id == Some(d3.id)).map(|o| o.signal).collect::<Vec<_>>(),
        [Some(Signal::OpKoersMetAandacht), None]
    );
}

#[tokio::test]
async fn a_recorded_measurement_moves_progress_and_bad_values_are_refused() {
    use koers_engine::plan::measurement::{NewMeasurement, Period};
    use koers_engine::store::entity::indicator;
    let (engine, _, plan) = engine_on(date(2021, 3, 1)).await;
    let lezen = indicator::Entity::find()
        .filter(indicator::Column::Key.eq("lezen"))
        .one(engine.db())
        .await
        .expect("q")
        .expect("i");
    let new = |value: f64, day: NaiveDate| NewMeasurement {
        indicator_id: lezen.id,
        period: Period::day(day),
        value,
        source: "Cito M".into(),
        note: None,
    };
    for (value, expected) in [(120.0, "percentage"), (f64::NAN, "not a number")] {
        let refused = engine.record_measurement(new(value, date(2021, 2, 1))).await.expect_err("bad value");
        assert!(matches!(&refused, Error::Validation(m) if m.contains(expected)), "{refused}");
    }
    let blank = NewMeasurement { source: " ".into(), ..new(81.0, date(2021, 2, 1)) };
    assert!(matches!(engine.record_measurement(blank).await, Err(Error::Validation(m)) if m.contains("source")));
    let unknown = NewMeasurement { indicator_id: 999, ..new(81.0, date(2021, 2, 1)) };
    assert!(matches!(engine.record_measurement(unknown).await, Err(Error::NotFound { what: "indicator", .. })));

    engine.record_measurement(new(81.0, date(2021, 2, 1))).await.expect("record");
    let twice = engine.record_measurement(new(70.0, date(2021, 2, 1))).await.expect_err("same period");
    assert!(matches!(&twice, Error::Validation(m) if m.contains("already has a measurement")), "{twice}");
    let p = engine.koersplan_progress(plan.id, date(2021, 3, 1)).await.expect("progress");
    assert_eq!(p.ambities[0].doelen[0].succescriteria[0].latest_value, Some(81.0));
    assert_eq!(p.ambities[0].doelen[0].met, 1);
}

/// A plan with one doel per succescriterium, each at a boundary of the rule that decides
/// whether it is met: per indicator its key, direction, target and measurements, and a
/// criterion without indicator (met only by hand).
fn boundaries() -> String {
    const INDICATORS: [(&str, &str, f64, &str); 6] = [
        ("gelijk-minimum", "at-least", 80.0, "{ date = 2021-06-30, value = 80.0 }"),
        ("gelijk-maximum", "at-most", 5.0, "{ date = 2021-06-30, value = 5.0 }"),
        ("net-onder", "at-least", 80.0, "{ date = 2021-06-30, value = 79.9 }"),
        ("net-boven", "at-most", 5.0, "{ date = 2021-06-30, value = 5.1 }"),
        // Met in January, no longer at the end of June.
        ("gedaald", "at-least", 80.0, "{ date = 2021-01-31, value = 90.0 }, { date = 2021-06-30, value = 70.0 }"),
        // Two periods ending on the same day: the one written last counts.
        (
            "zelfde-einde",
            "at-least",
            80.0,
            "{ from = 2021-06-01, until = 2021-06-30, value = 90.0 }, { date = 2021-06-30, value = 70.0 }",
        ),
    ];
    let mut toml = String::from(
        "[[bestuur]]\nkey = \"b\"\nname = \"Bestuur\"\nkind = \"onderwijs\"\n\n\
         [[kindcentrum]]\nkey = \"kc\"\nname = \"KC\"\nbesturen = [\"b\"]\n\n",
    );
    for (key, direction, target, measurements) in INDICATORS {
        let measurements = measurements.replace(" }", ", source = \"Cito\" }");
        toml += &format!(
            "[[indicator]]\nkey = \"{key}\"\nname = \"{key}\"\nunit = \"%\"\ndirection = \"{direction}\"\n\
             target = {target:?}\nkindcentrum = \"kc\"\nmeasurements = [{measurements}]\n\n"
        );
    }
    toml += "[koersplan]\nkey = \"plan\"\nkindcentrum = \"kc\"\ntitle = \"Plan\"\n\
             first_school_year = \"2019-2020\"\nlast_school_year = \"2022-2023\"\nvisie = \"Visie\"\n\n\
             [[koersplan.ambitie]]\nkey = \"a\"\ntitle = \"Grenzen\"\n\n";
    for key in INDICATORS.map(|(key, ..)| key) {
        toml += &format!(
            "[[koersplan.ambitie.doel]]\nkey = \"{key}\"\ntitle = \"{key}\"\n\
             succescriteria = [{{ description = \"{key}\", indicator = \"{key}\" }}]\n\n"
        );
    }
    toml += "[[koersplan.ambitie.doel]]\nkey = \"verhaal\"\ntitle = \"verhaal\"\n\
             succescriteria = [{ description = \"verhaal\" }]\n";
    toml
}

#[tokio::test]
async fn the_counted_and_the_listed_criteria_agree_at_every_boundary_of_the_rule() {
    use koers_engine::plan::progress::Depth;
    let db = koers_testing::database().await;
    import_str(&db, "grenzen.toml", &boundaries()).await.expect("import");
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2021, 7, 1, 21, 59, 59).single().expect("time")));
    let engine = Engine::with_clock(db, clock.clone());
    let plan = koersplan::Entity::find().one(engine.db()).await.expect("q").expect("plan");
    let evidence = {
        let measured = measurement::Entity::find().one(engine.db()).await.expect("q").expect("measurement");
        Evidence { measurement_id: Some(measured.id), ..Evidence::default() }
    };
    // The last second of 1 July in Amsterdam, and the first of 2 July.
    let verhaal = criterium(&engine, "verhaal").await;
    engine.mark_succescriterium_met("test", verhaal.id, evidence.clone()).await.expect("mark");
    clock.advance(chrono::TimeDelta::seconds(1));
    let net_onder = criterium(&engine, "net-onder").await;
    engine.mark_succescriterium_met("test", net_onder.id, evidence).await.expect("mark");
    // Withdrawn the next day: the latest mark counts.
    clock.advance(chrono::TimeDelta::hours(12));
    engine.withdraw_succescriterium_mark("test", verhaal.id, "Toch niet geborgd").await.expect("withdraw");

    // Per peildatum, the doelen whose one criterion is met.
    let expected: [(NaiveDate, &[&str]); 4] = [
        (date(2021, 6, 29), &["gedaald"]),
        (date(2021, 6, 30), &["gelijk-maximum", "gelijk-minimum"]),
        (date(2021, 7, 1), &["gelijk-maximum", "gelijk-minimum", "verhaal"]),
        (date(2021, 7, 2), &["gelijk-maximum", "gelijk-minimum", "net-onder"]),
    ];
    for (peildatum, met) in expected {
        let mut per_depth = Vec::new();
        for depth in [Depth::Succescriteria, Depth::Doelen] {
            let progress =
                engine.koersplannen_progress(vec![plan.clone()], peildatum, depth).await.expect("progress").remove(0);
            let doelen: BTreeMap<String, (usize, usize)> =
                progress.ambities[0].doelen.iter().map(|d| (d.doel.key.to_string(), (d.criteria, d.met))).collect();
            assert_eq!(doelen.len(), 7, "{doelen:?}");
            assert!(doelen.values().all(|&(criteria, _)| criteria == 1), "{doelen:?}");
            let met_here: Vec<&str> =
                doelen.iter().filter(|(_, (_, met))| *met == 1).map(|(key, _)| key.as_str()).collect();
            assert_eq!(met_here, met, "{depth:?} on {peildatum}");
            per_depth.push(doelen);
        }
        assert_eq!(per_depth[0], per_depth[1], "the SQL count and the rule per criterion differ on {peildatum}");
    }
}

/// Evidence of last autumn typed in today counts from last autumn: the mark holds both the
/// day it counts from and the moment it was recorded. A day after today, or outside the
/// plan's period, is refused.
#[tokio::test]
async fn a_mark_can_count_from_an_earlier_day_of_the_plan() {
    let (engine, _, plan) = engine_on(date(2021, 3, 1)).await;
    let story = criterium(&engine, "Een verhaal").await;
    let on = |day| Evidence { note: Some("Verslag E&P-dag".into()), on: Some(day), ..Evidence::default() };

    let refused = engine.mark_succescriterium_met("test", story.id, on(date(2021, 3, 2))).await.expect_err("future");
    assert!(matches!(&refused, Error::Validation(m) if m.contains("after today (2021-03-01)")), "{refused}");
    let first = plan.first_school_year.first_day();
    let before = first.pred_opt().expect("day");
    let refused = engine.mark_succescriterium_met("test", story.id, on(before)).await.expect_err("before the plan");
    assert!(matches!(&refused, Error::Validation(m) if m.contains("outside the period")), "{refused}");

    let mark = engine.mark_succescriterium_met("test", story.id, on(date(2020, 11, 16))).await.expect("mark");
    assert_eq!(mark.at.with_timezone(&chrono_tz::Europe::Amsterdam).date_naive(), date(2020, 11, 16));
    assert_eq!(mark.recorded_at, Utc.with_ymd_and_hms(2021, 3, 1, 12, 0, 0).single().expect("time"));
    let progress = |day| {
        let engine = engine.clone();
        async move { engine.koersplan_progress(plan.id, day).await.expect("progress").ambities[1].doelen[0].progress }
    };
    assert_eq!(progress(date(2020, 11, 15)).await, Some(0.0), "not before its day");
    assert_eq!(progress(date(2020, 11, 16)).await, Some(1.0), "from its day on");
}
