//! Progress of a koersplan from its indicators' measurements, and the signal at a peildatum.

use chrono::NaiveDate;
use koers_engine::Engine;
use koers_engine::entity::koersplan;
use koers_engine::import::import_str;
use koers_engine::progress::Signal;
use koers_engine::store::{StoreConfig, open};
use sea_orm::EntityTrait;

const PLAN: &str = r#"
[[bestuur]]
key = "b"
name = "Bestuur"
kind = "onderwijs"

[[kindcentrum]]
key = "kc"
name = "KC"
besturen = ["b"]

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
    let db = open(&StoreConfig::new("sqlite::memory:")).await.expect("database");
    import_str(&db, "plan.toml", PLAN).await.expect("import");
    let engine = Engine::new(db);
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
