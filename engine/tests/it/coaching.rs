//! The coaching log and the wet IKK norm on a manual clock: Heidevlinder's 12 hours
//! coaching and 100 hours beleid for 2026, who is still to be coached, the projection to
//! 31 December, VE children, kindercentra counted by LRK registration, refused entries, and
//! entries corrected and withdrawn.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use koers_engine::access::token::AccessScope;
use koers_engine::clock::ManualClock;
use koers_engine::domain::{AccessRole, ChangeAction, CoachingKind};
use koers_engine::evidence::coaching::{CoachingCorrection, CoachingNorm, Hours, NewCoachingEntry};
use koers_engine::io::import::{import_file, import_str};
use koers_engine::store::entity::{bestuur, change, coaching_coachee, coaching_entry, locatie, professional};
use koers_engine::store::query::Page;
use koers_engine::{Engine, Error};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    // Noon: the same calendar day in Amsterdam.
    Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).single().expect("time")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn hours(value: f64) -> Hours {
    Hours::new(value).expect("hours")
}

fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../workflows/examples").join(name)
}

/// A fresh database with the Heidevlinder example and `extra` files, on a clock at `now`.
async fn heidevlinder(now: DateTime<Utc>, extra: &[&str]) -> (Engine, ManualClock) {
    let db = koers_testing::database().await;
    import_file(&db, &example("heidevlinder.toml")).await.expect("import");
    for (i, source) in extra.iter().enumerate() {
        import_str(&db, &format!("extra{i}.toml"), source).await.expect("import extra");
    }
    let clock = ManualClock::new(now);
    (Engine::with_clock(db, Arc::new(clock.clone())), clock)
}

async fn engine_with(now: DateTime<Utc>, source: &str) -> (Engine, ManualClock) {
    let db = koers_testing::database().await;
    import_str(&db, "test.toml", source).await.expect("import");
    let clock = ManualClock::new(now);
    (Engine::with_clock(db, Arc::new(clock.clone())), clock)
}

async fn bestuur_id(db: &DatabaseConnection, key: &str) -> i64 {
    bestuur::Entity::find().filter(bestuur::Column::Key.eq(key)).one(db).await.expect("query").expect("bestuur").id
}

async fn professional_id(db: &DatabaseConnection, key: &str) -> i64 {
    professional::Entity::find()
        .filter(professional::Column::Key.eq(key))
        .one(db)
        .await
        .expect("query")
        .expect("professional")
        .id
}

async fn locatie_id(db: &DatabaseConnection, key: &str) -> i64 {
    locatie::Entity::find().filter(locatie::Column::Key.eq(key)).one(db).await.expect("query").expect("locatie").id
}

fn uncoached(norm: &CoachingNorm) -> Vec<&str> {
    norm.uncoached.iter().map(|p| p.name.as_str()).collect()
}

fn entry(coach_id: i64, day: NaiveDate, h: f64, kind: CoachingKind, coachees: Vec<i64>) -> NewCoachingEntry {
    NewCoachingEntry { coach_id, date: day, hours: hours(h), kind, coachees, locatie_id: None, note: None }
}

#[tokio::test]
async fn heidevlinder_needs_12_hours_coaching_and_100_hours_beleid_in_2026() {
    // 14 March 2026: day 73 of 365, a fifth of the year.
    let (engine, clock) = heidevlinder(utc(2026, 3, 14), &[]).await;
    let db = engine.db();
    let fluks = bestuur_id(db, "fluks-opvang").await;
    let norm = engine.coaching_norm(fluks, 2026).await.expect("norm");
    assert_eq!(norm.peildatum, date(2026, 1, 1));
    assert_eq!(norm.counted_until, Some(date(2026, 3, 14)));
    assert_eq!(norm.kindercentra, 2);
    assert_eq!(norm.fte, 1.2, "0.4 FTE for each of W.H., S.D. and L.S.");
    assert_eq!(norm.ve_children, None);
    assert_eq!(norm.pedagogisch_medewerkers, 3);
    assert_eq!((norm.coaching.required, norm.beleid.required), (12.0, 100.0));
    assert_eq!((norm.coaching.realised, norm.beleid.realised), (0.0, 0.0));
    assert_eq!(norm.coaching.projected, Some(0.0));
    assert_eq!(uncoached(&norm), ["L.S.", "S.D.", "W.H."]);
    assert_eq!(norm.locaties.len(), 1);
    let locatie = &norm.locaties[0];
    assert_eq!(locatie.locatie.name, "Kindcentrum Heidevlinder");
    assert_eq!(locatie.lrk_registrations.len(), 2);
    assert_eq!((locatie.coaching_share, locatie.beleid_share), (12.0, 100.0));

    // C. Maes coaches W.H. for 2 hours at the locatie and spends 4 hours on beleid.
    let maes = professional_id(db, "c-maes").await;
    let wh = professional_id(db, "w-h").await;
    let sd = professional_id(db, "s-d").await;
    let heidevlinder = locatie_id(db, "heidevlinder").await;
    let coached = engine
        .log_coaching(
            "test",
            NewCoachingEntry {
                locatie_id: Some(heidevlinder),
                note: Some("  Video-interactiebegeleiding  ".into()),
                ..entry(maes, date(2026, 2, 10), 2.0, CoachingKind::CoachingIndividueel, vec![wh])
            },
        )
        .await
        .expect("coaching logged");
    assert_eq!(coached.bestuur_id, fluks, "the houder of the locatie's LRK registrations");
    assert_eq!(coached.note.as_deref(), Some("Video-interactiebegeleiding"));
    assert_eq!(coached.kind, CoachingKind::CoachingIndividueel);
    let beleid = engine
        .log_coaching("test", entry(maes, date(2026, 3, 2), 4.0, CoachingKind::Beleid, vec![]))
        .await
        .expect("beleid logged");
    assert_eq!(beleid.bestuur_id, fluks, "without a locatie: the coach's employer");
    // Hours planned for June are logged once spent.
    let june = entry(maes, date(2026, 6, 1), 1.5, CoachingKind::CoachingTeam, vec![sd, wh]);
    assert!(matches!(engine.log_coaching("test", june.clone()).await, Err(Error::Validation(_))));

    let norm = engine.coaching_norm(fluks, 2026).await.expect("norm");
    assert_eq!(uncoached(&norm), ["L.S.", "S.D."], "W.H. has been coached");
    assert_eq!((norm.coaching.realised, norm.beleid.realised), (2.0, 4.0));
    assert_eq!(norm.coaching.projected, Some(10.0), "2 hours in 73 of 365 days");
    assert_eq!(norm.beleid.projected, Some(20.0));
    assert_eq!(norm.coaching.on_track(), Some(false));
    assert_eq!(norm.coaching.remaining(), 10.0);
    assert_eq!(norm.locaties[0].realised.coaching, 2.0);
    assert_eq!(norm.locaties[0].realised.beleid, 0.0);
    assert_eq!(norm.without_locatie.beleid, 4.0);

    clock.set(utc(2026, 7, 1));
    engine.log_coaching("test", june).await.expect("team coaching logged");
    let norm = engine.coaching_norm(fluks, 2026).await.expect("norm");
    assert_eq!(uncoached(&norm), ["L.S."]);
    assert_eq!(norm.coaching.realised, 3.5);

    // After the year the projection is what was realised; before it nothing counts.
    clock.set(utc(2027, 2, 1));
    let after = engine.coaching_norm(fluks, 2026).await.expect("norm");
    assert_eq!(after.counted_until, Some(date(2026, 12, 31)));
    assert_eq!((after.coaching.realised, after.coaching.projected), (3.5, Some(3.5)));
    assert!(!after.coaching.met());
    clock.set(utc(2025, 12, 31));
    let before = engine.coaching_norm(fluks, 2026).await.expect("norm");
    assert_eq!(before.counted_until, None);
    assert_eq!((before.coaching.realised, before.coaching.projected), (0.0, None));
    assert_eq!(before.beleid.projected, None);
    assert_eq!(uncoached(&before).len(), 3);
    assert_eq!(before.coaching.required, 12.0, "the norm itself is known in advance");

    // The log, newest first, with its coachees.
    let all = Page::first(50);
    let log = engine.coaching_entries(fluks, None, None, all).await.expect("entries");
    assert_eq!(log.total, 3);
    let dates: Vec<NaiveDate> = log.items.iter().map(|e| e.date).collect();
    assert_eq!(dates, [date(2026, 6, 1), date(2026, 3, 2), date(2026, 2, 10)]);
    let spring =
        engine.coaching_entries(fluks, Some(date(2026, 3, 1)), Some(date(2026, 5, 31)), all).await.expect("entries");
    assert_eq!(spring.items.len(), 1);
    assert_eq!(spring.items[0].kind, CoachingKind::Beleid);
    let ids: Vec<i64> = log.items.iter().map(|e| e.id).collect();
    let coachees = engine.coachees_of(&ids).await.expect("coachees");
    let names = |id: i64| -> Vec<String> {
        coachees.get(&id).map(|ps| ps.iter().map(|p| p.name.clone()).collect()).unwrap_or_default()
    };
    assert_eq!(names(ids[0]), ["S.D.", "W.H."]);
    assert!(names(ids[1]).is_empty());
    assert_eq!(names(ids[2]), ["W.H."]);
    assert!(matches!(
        engine.coaching_entries(fluks, Some(date(2026, 6, 1)), Some(date(2026, 1, 1)), all).await,
        Err(Error::Validation(_))
    ));
    assert!(matches!(engine.coaching_entries(999, None, None, all).await, Err(Error::NotFound { .. })));
}

const FLEXIBLE: &str = r#"
[[professional]]
key = "invaller"
name = "A. Invaller"
employer = "fluks-opvang"
kindcentra = ["heidevlinder"]
roles = ["pedagogisch-medewerker"]
flexible = true
"#;

#[tokio::test]
async fn a_flexible_pedagogisch_medewerker_without_fte_is_still_to_be_coached() {
    let (engine, _) = heidevlinder(utc(2026, 5, 1), &[FLEXIBLE]).await;
    let fluks = bestuur_id(engine.db(), "fluks-opvang").await;
    let norm = engine.coaching_norm(fluks, 2026).await.expect("norm");
    assert_eq!(norm.fte, 1.2, "no FTE, so no hours added");
    assert_eq!(norm.coaching.required, 12.0);
    assert_eq!(norm.pedagogisch_medewerkers, 4);
    assert_eq!(uncoached(&norm), ["A. Invaller", "L.S.", "S.D.", "W.H."]);
    assert!(norm.uncoached[0].flexible);

    let maes = professional_id(engine.db(), "c-maes").await;
    let invaller = professional_id(engine.db(), "invaller").await;
    engine
        .log_coaching("test", entry(maes, date(2026, 4, 20), 1.0, CoachingKind::CoachingIndividueel, vec![invaller]))
        .await
        .expect("logged");
    let norm = engine.coaching_norm(fluks, 2026).await.expect("norm");
    assert_eq!(uncoached(&norm), ["L.S.", "S.D.", "W.H."]);
}

const VE: &str = r#"
[[bestuur]]
key = "fluks-opvang"
name = "Fluks opvang"
kind = "kinderopvang"
voorschoolse_educatie = [{ year = 2026, children = 3 }]
"#;

#[tokio::test]
async fn every_ve_indicated_child_adds_10_hours_coaching() {
    let (engine, _) = heidevlinder(utc(2026, 5, 1), &[VE]).await;
    let fluks = bestuur_id(engine.db(), "fluks-opvang").await;
    let norm = engine.coaching_norm(fluks, 2026).await.expect("norm");
    assert_eq!(norm.ve_children, Some(3));
    assert_eq!(norm.coaching.required, 12.0 + 30.0);
    assert_eq!(norm.beleid.required, 100.0, "VE adds no beleid hours");
    assert_eq!(norm.locaties[0].coaching_share, 12.0, "VE hours are not split over locaties");
    let next = engine.coaching_norm(fluks, 2027).await.expect("norm");
    assert_eq!((next.ve_children, next.coaching.required), (None, 12.0), "no VE count for 2027");
}

/// Kern opvang runs a combined (verticale) groep registered twice in the LRK, for
/// dagopvang and peuteropvang, and a BSO at a second locatie. Another houder runs the BSO
/// of a third locatie of the same kindcentrum.
const KERN: &str = r#"
[[bestuur]]
key = "kern"
name = "Kern opvang"
kind = "kinderopvang"

[[bestuur]]
key = "ander"
name = "Andere opvang"
kind = "kinderopvang"

[[bestuur]]
key = "school"
name = "Schoolbestuur"
kind = "onderwijs"

[[kindcentrum]]
key = "kc"
name = "KC De Kern"
besturen = ["kern", "ander", "school"]

[[kindcentrum.onderdeel]]
key = "kdv"
name = "Dagopvang"
kind = "dagopvang"
bestuur = "kern"

[[kindcentrum.onderdeel]]
key = "po"
name = "Peuteropvang"
kind = "peuteropvang"
bestuur = "kern"

[[kindcentrum.onderdeel]]
key = "bso"
name = "BSO"
kind = "bso"
bestuur = "kern"

[[kindcentrum.onderdeel]]
key = "bso-ander"
name = "BSO Ander"
kind = "bso"
bestuur = "ander"

[[kindcentrum.onderdeel]]
key = "onderwijs"
name = "Onderwijs"
kind = "onderwijs"
bestuur = "school"

[[kindcentrum.locatie]]
key = "hoofd"
name = "A Hoofdgebouw"
lrk = [
  { number = "100000001", onderdeel = "kdv" },
  { number = "100000002", onderdeel = "po" },
]

[[kindcentrum.locatie.groep]]
key = "verticaal"
name = "Verticale groep 0-4"
onderdeel = "kdv"

[[kindcentrum.locatie]]
key = "dependance"
name = "B Dependance"
lrk = [{ number = "100000003", onderdeel = "bso" }]

[[kindcentrum.locatie]]
key = "paviljoen"
name = "C Paviljoen"
lrk = [{ number = "100000004", onderdeel = "bso-ander" }]

[[kindcentrum.locatie]]
key = "gedeeld"
name = "D Gedeeld"
lrk = [
  { number = "100000005", onderdeel = "bso" },
  { number = "100000006", onderdeel = "bso-ander" },
]

[[kindcentrum]]
key = "school"
name = "Basisschool"
besturen = ["school"]

[[kindcentrum.onderdeel]]
key = "onderwijs"
name = "Onderwijs"
kind = "onderwijs"
bestuur = "school"

[[kindcentrum.locatie]]
key = "school"
name = "Schoolgebouw"

[[professional]]
key = "coach"
name = "Coach Kern"
employer = "kern"
kindcentra = ["kc"]
roles = ["pedagogisch-coach", "pedagogisch-beleidsmedewerker"]

[[professional]]
key = "pm-kern"
name = "PM Kern"
employer = "kern"
kindcentra = ["kc"]
roles = ["pedagogisch-medewerker"]
fte = [{ from = 2025-01-01, fte = 0.9 }, { from = 2026-03-01, fte = 0.5 }]

[[professional]]
key = "pm-ander"
name = "PM Ander"
employer = "ander"
kindcentra = ["kc"]
roles = ["pedagogisch-medewerker"]
fte = [{ from = 2025-01-01, fte = 1.0 }]

[[professional]]
key = "coach-ander"
name = "Coach Ander"
employer = "ander"
kindcentra = ["kc"]
roles = ["pedagogisch-coach"]

[[professional]]
key = "leerkracht"
name = "Leerkracht"
employer = "school"
kindcentra = ["kc", "school"]
roles = ["leerkracht"]

[[professional]]
key = "school-coach"
name = "Coach School"
employer = "school"
kindcentra = ["school"]
roles = ["pedagogisch-coach"]
"#;

#[tokio::test]
async fn a_combined_group_with_two_lrk_registrations_counts_twice() {
    let (engine, _) = engine_with(utc(2026, 6, 1), KERN).await;
    let kern = bestuur_id(engine.db(), "kern").await;
    let norm = engine.coaching_norm(kern, 2026).await.expect("norm");
    // Hoofdgebouw 2, Dependance 1, Gedeeld 1 of Kern's own; Paviljoen is Andere opvang's.
    assert_eq!(norm.kindercentra, 4);
    assert_eq!(norm.beleid.required, 200.0);
    assert_eq!(norm.fte, 0.9, "the FTE on 1 January, not the later 0.5");
    assert_eq!(norm.coaching.required, 9.0);
    let shares: Vec<(&str, usize, f64, f64)> = norm
        .locaties
        .iter()
        .map(|l| (l.locatie.name.as_str(), l.lrk_registrations.len(), l.beleid_share, l.coaching_share))
        .collect();
    assert_eq!(shares, [("A Hoofdgebouw", 2, 100.0, 3.0), ("B Dependance", 1, 50.0, 3.0), ("D Gedeeld", 1, 50.0, 3.0)]);
    let ander = engine.coaching_norm(bestuur_id(engine.db(), "ander").await, 2026).await.expect("norm");
    assert_eq!((ander.kindercentra, ander.beleid.required, ander.coaching.required), (2, 100.0, 10.0));
}

#[tokio::test]
async fn the_houder_of_the_hours_follows_the_locatie() {
    let (engine, _) = engine_with(utc(2026, 6, 1), KERN).await;
    let db = engine.db();
    let (kern, ander) = (bestuur_id(db, "kern").await, bestuur_id(db, "ander").await);
    let coach = professional_id(db, "coach").await;
    let coach_ander = professional_id(db, "coach-ander").await;
    let pm_ander = professional_id(db, "pm-ander").await;
    let at = |locatie: i64| NewCoachingEntry {
        locatie_id: Some(locatie),
        ..entry(coach, date(2026, 5, 4), 3.0, CoachingKind::Beleid, vec![])
    };

    // Kern's coach works at Andere opvang's paviljoen: the hours are Andere opvang's.
    let paviljoen = locatie_id(db, "paviljoen").await;
    let row = engine.log_coaching("test", at(paviljoen)).await.expect("logged");
    assert_eq!(row.bestuur_id, ander);
    // Two houders at one locatie: the coach's employer decides.
    let gedeeld = locatie_id(db, "gedeeld").await;
    assert_eq!(engine.log_coaching("test", at(gedeeld)).await.expect("logged").bestuur_id, kern);
    let row = engine
        .log_coaching(
            "test",
            NewCoachingEntry {
                coach_id: coach_ander,
                kind: CoachingKind::CoachingTeam,
                coachees: vec![pm_ander],
                ..at(gedeeld)
            },
        )
        .await
        .expect("logged");
    assert_eq!(row.bestuur_id, ander);
    let school_coach = professional_id(db, "school-coach").await;
    let refused = engine.log_coaching("test", NewCoachingEntry { coach_id: school_coach, ..at(gedeeld) }).await;
    assert!(matches!(&refused, Err(Error::Validation(m)) if m.contains("several houders")), "{refused:?}");

    let norm = engine.coaching_norm(ander, 2026).await.expect("norm");
    assert_eq!((norm.beleid.realised, norm.coaching.realised), (3.0, 3.0));
    assert!(norm.uncoached.is_empty());
    let norm = engine.coaching_norm(kern, 2026).await.expect("norm");
    assert_eq!(norm.beleid.realised, 3.0);
    assert_eq!(uncoached(&norm), ["PM Kern"]);
}

#[tokio::test]
async fn refused_entries_write_nothing() {
    let (engine, _) = engine_with(utc(2026, 6, 1), KERN).await;
    let db = engine.db();
    let coach = professional_id(db, "coach").await;
    let pm_kern = professional_id(db, "pm-kern").await;
    let pm_ander = professional_id(db, "pm-ander").await;
    let leerkracht = professional_id(db, "leerkracht").await;
    let hoofd = locatie_id(db, "hoofd").await;
    let school = locatie_id(db, "school").await;
    let day = date(2026, 5, 4);

    for bad in [0.0, 25.0, -1.0, f64::NAN] {
        assert!(Hours::new(bad).is_err(), "{bad} hours");
    }
    for bad in ["0", "25", "-1", "1,5,0", ""] {
        assert!(bad.parse::<Hours>().is_err(), "`{bad}` hours");
    }
    assert_eq!("1,5".parse::<Hours>().map(Hours::get), Ok(1.5));

    let validation = |result: Result<coaching_entry::Model, Error>, needle: &str| match result {
        Err(Error::Validation(message)) => assert!(message.contains(needle), "`{message}` lacks `{needle}`"),
        other => panic!("expected a validation error about `{needle}`, got {other:?}"),
    };
    validation(
        engine.log_coaching("test", entry(coach, day, 2.0, CoachingKind::Beleid, vec![pm_kern])).await,
        "beleid hours name no coachees",
    );
    validation(
        engine.log_coaching("test", entry(coach, day, 2.0, CoachingKind::CoachingIndividueel, vec![])).await,
        "at least one coachee",
    );
    validation(
        engine.log_coaching("test", entry(coach, day, 2.0, CoachingKind::CoachingTeam, vec![pm_kern, pm_ander])).await,
        &format!("coachee {pm_ander} (PM Ander) is not employed by houder"),
    );
    validation(
        engine
            .log_coaching(
                "test",
                NewCoachingEntry { locatie_id: Some(school), ..entry(coach, day, 2.0, CoachingKind::Beleid, vec![]) },
            )
            .await,
        &format!("locatie {school} (Schoolgebouw) has no opvang"),
    );
    let school_coach = professional_id(db, "school-coach").await;
    validation(
        engine.log_coaching("test", entry(school_coach, day, 2.0, CoachingKind::Beleid, vec![])).await,
        "not a kinderopvang houder",
    );
    // Only a pedagogisch coach or beleidsmedewerker logs hours toward the norm.
    for not_a_coach in [leerkracht, pm_kern] {
        validation(
            engine.log_coaching("test", entry(not_a_coach, day, 2.0, CoachingKind::Beleid, vec![])).await,
            "is not a pedagogisch coach or pedagogisch beleidsmedewerker",
        );
    }
    // Each coachee once.
    validation(
        engine
            .log_coaching(
                "test",
                NewCoachingEntry {
                    locatie_id: Some(hoofd),
                    ..entry(coach, day, 2.0, CoachingKind::CoachingTeam, vec![pm_kern; 5_000])
                },
            )
            .await,
        &format!("coachees name professionals {pm_kern} more than once"),
    );
    // Coaching under the wet IKK is for pedagogisch medewerkers: not for the coach, not
    // for a locatiemanager.
    validation(
        engine
            .log_coaching(
                "test",
                NewCoachingEntry {
                    locatie_id: Some(hoofd),
                    ..entry(coach, day, 2.0, CoachingKind::CoachingIndividueel, vec![coach])
                },
            )
            .await,
        &format!("coachee {coach} (Coach Kern) is not a pedagogisch medewerker"),
    );
    // Hours are logged once spent: the clock says 1 June 2026.
    validation(
        engine.log_coaching("test", entry(coach, date(2026, 6, 2), 2.0, CoachingKind::Beleid, vec![])).await,
        "the hours are dated 2026-06-02, after today (2026-06-01)",
    );
    let not_found = |result: Result<coaching_entry::Model, Error>, what: &str, id: String| match result {
        Err(Error::NotFound { what: w, id: i }) => assert_eq!((w, i), (what, id)),
        other => panic!("expected {what} {id} not found, got {other:?}"),
    };
    not_found(
        engine.log_coaching("test", entry(999, day, 2.0, CoachingKind::Beleid, vec![])).await,
        "professional",
        "999".into(),
    );
    not_found(
        engine
            .log_coaching(
                "test",
                NewCoachingEntry { locatie_id: Some(999), ..entry(coach, day, 2.0, CoachingKind::Beleid, vec![]) },
            )
            .await,
        "locatie",
        "999".into(),
    );
    not_found(
        engine
            .log_coaching(
                "test",
                NewCoachingEntry {
                    locatie_id: Some(hoofd),
                    ..entry(coach, day, 2.0, CoachingKind::CoachingIndividueel, vec![pm_kern, 998, 997])
                },
            )
            .await,
        "professional",
        "997, 998".into(),
    );

    assert_eq!(coaching_entry::Entity::find().count(db).await.expect("count"), 0);
    assert_eq!(coaching_coachee::Entity::find().count(db).await.expect("count"), 0);
}

#[tokio::test]
async fn the_norm_is_for_kinderopvang_only() {
    let (engine, _) = engine_with(utc(2026, 6, 1), KERN).await;
    let school = bestuur_id(engine.db(), "school").await;
    let kern = bestuur_id(engine.db(), "kern").await;
    assert!(matches!(engine.coaching_norm(school, 2026).await, Err(Error::Validation(_))));
    assert!(matches!(engine.coaching_norm(999, 2026).await, Err(Error::NotFound { what: "bestuur", .. })));
    assert!(matches!(engine.coaching_norm(kern, 2018).await, Err(Error::Validation(_))));
    let norms = engine.coaching_norms(&[school, kern, 999], 2026).await.expect("norms");
    assert_eq!(norms.keys().copied().collect::<Vec<_>>(), [kern], "only houders of kinderopvang have a norm");
}

/// `n` kinderopvang besturen, each with a kindcentrum, a locatie, two pedagogisch
/// medewerkers and a coach.
fn houders(n: usize) -> String {
    let mut file = String::new();
    for i in 0..n {
        file.push_str(&format!(
            r#"
[[bestuur]]
key = "h{i}"
name = "Houder {i}"
kind = "kinderopvang"
voorschoolse_educatie = [{{ year = 2026, children = {i} }}]

[[kindcentrum]]
key = "kc{i}"
name = "KC {i}"
besturen = ["h{i}"]

[[kindcentrum.onderdeel]]
key = "bso"
name = "BSO"
kind = "bso"
bestuur = "h{i}"

[[kindcentrum.locatie]]
key = "l{i}"
name = "Locatie {i}"
lrk = [{{ number = "2000000{i:02}", onderdeel = "bso" }}]

[[professional]]
key = "coach{i}"
name = "Coach {i}"
employer = "h{i}"
roles = ["pedagogisch-coach"]
"#
        ));
        for p in 0..2 {
            file.push_str(&format!(
                "\n[[professional]]\nkey = \"pm{i}-{p}\"\nname = \"PM {i}-{p}\"\nemployer = \"h{i}\"\nkindcentra = [\"kc{i}\"]\nroles = [\"pedagogisch-medewerker\"]\nfte = [{{ from = 2025-01-01, fte = 0.5 }}]\n"
            ));
        }
    }
    file
}

/// Statements taken by `coaching_norms` over every bestuur of a database with `n` houders
/// that each logged an hour of coaching.
async fn statements_for_norms(n: usize) -> (usize, usize) {
    let mut db = koers_testing::database().await;
    import_str(&db, "houders.toml", &houders(n)).await.expect("import");
    let statements = koers_testing::count_statements(&mut db);
    let engine = Engine::with_clock(db, Arc::new(ManualClock::new(utc(2026, 6, 1))));
    for i in 0..n {
        let coach = professional_id(engine.db(), &format!("coach{i}")).await;
        let pm = professional_id(engine.db(), &format!("pm{i}-0")).await;
        engine
            .log_coaching("test", entry(coach, date(2026, 5, 1), 1.0, CoachingKind::CoachingIndividueel, vec![pm]))
            .await
            .expect("logged");
    }
    let ids: Vec<i64> = engine.besturen().await.expect("besturen").into_iter().map(|b| b.id).collect();
    let before = statements.load(Ordering::SeqCst);
    let norms = engine.coaching_norms(&ids, 2026).await.expect("norms");
    let taken = statements.load(Ordering::SeqCst) - before;
    assert_eq!(norms.len(), n);
    for (i, norm) in norms.values().enumerate() {
        assert_eq!((norm.kindercentra, norm.fte, norm.coaching.realised), (1, 1.0, 1.0), "houder {i}");
        assert_eq!(norm.uncoached.len(), 1);
        let children = norm.ve_children.expect("VE");
        assert_eq!(norm.coaching.required, 10.0 + 10.0 * f64::from(children));
    }
    (taken, norms.len())
}

#[tokio::test]
async fn norms_of_many_besturen_take_the_same_statements_as_of_one() {
    let (one, _) = statements_for_norms(1).await;
    let (six, _) = statements_for_norms(6).await;
    assert_eq!(one, six, "statements grew with the besturen: {one} for 1, {six} for 6");
    assert!(one <= 10, "{one} statements");
}

/// The same hours logged twice would count twice toward the norm: the second time is
/// refused with the entry that holds them; other hours of the same day are not.
#[tokio::test]
async fn the_same_hours_are_logged_once() {
    let (engine, _) = engine_with(utc(2026, 6, 1), KERN).await;
    let db = engine.db();
    let coach = professional_id(db, "coach").await;
    let pm_kern = professional_id(db, "pm-kern").await;
    let hoofd = locatie_id(db, "hoofd").await;
    let session = NewCoachingEntry {
        locatie_id: Some(hoofd),
        ..entry(coach, date(2026, 5, 4), 1.5, CoachingKind::CoachingIndividueel, vec![pm_kern])
    };
    let first = engine.log_coaching("test", session.clone()).await.expect("logged");
    match engine.log_coaching("test", session.clone()).await {
        Err(Error::Validation(message)) => {
            assert!(message.contains(&format!("logged already (entry {}:", first.id)), "{message}")
        }
        other => panic!("expected the second entry refused, got {other:?}"),
    }
    engine.log_coaching("test", NewCoachingEntry { hours: hours(1.0), ..session }).await.expect("other hours");
    assert_eq!(coaching_entry::Entity::find().count(db).await.expect("count"), 2);
}

/// Two pedagogisch medewerkers of Fluks opvang who start later than the others: one on
/// 1 September 2026, one on 1 September 2027.
const STARTERS: &str = r#"
[[professional]]
key = "start-2026"
name = "A. Start 2026"
employer = "fluks-opvang"
kindcentra = ["heidevlinder"]
roles = ["pedagogisch-medewerker"]
fte = [{ from = 2026-09-01, fte = 0.5 }]

[[professional]]
key = "start-2027"
name = "B. Start 2027"
employer = "fluks-opvang"
kindcentra = ["heidevlinder"]
roles = ["pedagogisch-medewerker"]
fte = [{ from = 2027-09-01, fte = 0.6 }]
"#;

/// A medewerker counts for the norm of a year from the first date of their FTE on: listed
/// as uncoached once employed, never for a year before they start, and their FTE counted
/// only from the peildatum after they started.
#[tokio::test]
async fn a_pedagogisch_medewerker_counts_from_the_day_they_start() {
    let (engine, clock) = heidevlinder(utc(2026, 6, 1), &[STARTERS]).await;
    let fluks = bestuur_id(engine.db(), "fluks-opvang").await;
    let shape = |norm: &CoachingNorm| (norm.pedagogisch_medewerkers, norm.fte, norm.coaching.required);
    let norm = |year: i32| {
        let engine = engine.clone();
        async move { engine.coaching_norm(fluks, year).await.expect("norm") }
    };

    // June 2026: neither has started.
    let june = norm(2026).await;
    assert_eq!(uncoached(&june), ["L.S.", "S.D.", "W.H."]);
    assert_eq!(shape(&june), (3, 1.2, 12.0));

    // October 2026: the September starter is to be coached this year, with no FTE on the
    // peildatum; the 2027 starter is not.
    clock.set(utc(2026, 10, 1));
    let october = norm(2026).await;
    assert_eq!(uncoached(&october), ["A. Start 2026", "L.S.", "S.D.", "W.H."]);
    assert_eq!(shape(&october), (4, 1.2, 12.0));

    // 2025 is before all of them: the Heidevlinder FTE starts on 1 January 2026.
    let before = norm(2025).await;
    assert!(before.uncoached.is_empty(), "{:?}", uncoached(&before));
    assert_eq!(shape(&before), (0, 0.0, 0.0));

    // 2027, before it starts: those employed on its peildatum, with their FTE.
    let next = norm(2027).await;
    assert_eq!(uncoached(&next), ["A. Start 2026", "L.S.", "S.D.", "W.H."]);
    assert_eq!(shape(&next), (4, 1.7, 17.0));

    // October 2027: the 2027 starter counts for 2027, never for 2026.
    clock.set(utc(2027, 10, 1));
    let next = norm(2027).await;
    assert_eq!(uncoached(&next), ["A. Start 2026", "B. Start 2027", "L.S.", "S.D.", "W.H."]);
    assert_eq!(shape(&next), (5, 1.7, 17.0), "the 2027 starter has no FTE on 1 January 2027");
    let past = norm(2026).await;
    assert_eq!(uncoached(&past), ["A. Start 2026", "L.S.", "S.D.", "W.H."]);
    assert_eq!(past.pedagogisch_medewerkers, 4);
}

/// The recorded changes of a coaching-log entry, oldest first.
async fn history_of(engine: &Engine, entry: i64) -> Vec<change::Model> {
    engine.histories("coaching_entry", &[entry]).await.expect("history").remove(&entry).unwrap_or_default()
}

async fn version_of(engine: &Engine, entry: i64) -> i32 {
    engine.versions("coaching_entry", &[entry]).await.expect("versions").get(&entry).copied().unwrap_or(0)
}

fn because(reason: &str) -> String {
    reason.to_owned()
}

/// A coach corrects the hours and the coachees of an entry, then withdraws it: the norm's
/// realised hours and the medewerkers still to be coached follow each step, the entry stays
/// in the log marked withdrawn, and its history holds every step with before, after and
/// reason.
#[tokio::test]
async fn a_corrected_or_withdrawn_entry_counts_as_it_now_stands() {
    let (engine, clock) = heidevlinder(utc(2026, 3, 14), &[]).await;
    let db = engine.db();
    let fluks = bestuur_id(db, "fluks-opvang").await;
    let maes = professional_id(db, "c-maes").await;
    let (wh, sd) = (professional_id(db, "w-h").await, professional_id(db, "s-d").await);
    let heidevlinder = locatie_id(db, "heidevlinder").await;
    let session = NewCoachingEntry {
        locatie_id: Some(heidevlinder),
        ..entry(maes, date(2026, 2, 10), 2.0, CoachingKind::CoachingIndividueel, vec![wh])
    };
    let logged = engine.log_coaching("test", session.clone()).await.expect("logged");
    assert_eq!(version_of(&engine, logged.id).await, 1, "the creation is the first change");
    let norm = engine.coaching_norm(fluks, 2026).await.expect("norm");
    assert_eq!((norm.coaching.realised, uncoached(&norm)), (2.0, vec!["L.S.", "S.D."]));

    // 3.5 hours, not 2.
    clock.set(utc(2026, 3, 16));
    let correction = CoachingCorrection { hours: Some(hours(3.5)), ..CoachingCorrection::default() };
    let corrected =
        engine.correct_coaching(logged.id, 1, correction, because(" verkeerd overgenomen ")).await.expect("corrected");
    assert_eq!((corrected.hours, corrected.date, corrected.bestuur_id), (3.5, date(2026, 2, 10), fluks));
    assert_eq!(corrected.locatie_id, Some(heidevlinder), "what the correction leaves out stays");
    let norm = engine.coaching_norm(fluks, 2026).await.expect("norm");
    assert_eq!(norm.coaching.realised, 3.5);
    assert_eq!(norm.locaties[0].realised.coaching, 3.5);

    // S.D. was in the session too; W.H. stays named.
    let correction = CoachingCorrection {
        kind: Some(CoachingKind::CoachingTeam),
        coachees: Some(vec![sd, wh]),
        ..CoachingCorrection::default()
    };
    engine.correct_coaching(logged.id, 2, correction, because("S.D. vergeten")).await.expect("corrected");
    let norm = engine.coaching_norm(fluks, 2026).await.expect("norm");
    assert_eq!((norm.coaching.realised, uncoached(&norm)), (3.5, vec!["L.S."]));
    let coachees = engine.coachees_of(&[logged.id]).await.expect("coachees");
    let names: Vec<&str> = coachees[&logged.id].iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["S.D.", "W.H."]);

    // Withdrawn: no hours, nobody coached; the log still shows it.
    clock.set(utc(2026, 3, 20));
    let withdrawn =
        engine.withdraw_coaching(logged.id, 3, because("dubbel: al gelogd door L. van der Heijden")).await.expect("ok");
    assert_eq!(withdrawn.withdrawn_at, Some(utc(2026, 3, 20)));
    assert_eq!(withdrawn.withdrawn_reason.as_deref(), Some("dubbel: al gelogd door L. van der Heijden"));
    let norm = engine.coaching_norm(fluks, 2026).await.expect("norm");
    assert_eq!((norm.coaching.realised, uncoached(&norm)), (0.0, vec!["L.S.", "S.D.", "W.H."]));
    assert_eq!(norm.locaties[0].realised.coaching, 0.0);
    let log = engine.coaching_entries(fluks, None, None, Page::first(50)).await.expect("log");
    assert_eq!(log.total, 1);
    assert_eq!(log.items[0].withdrawn_at, Some(utc(2026, 3, 20)));

    // The history: created, corrected twice, withdrawn.
    let history = history_of(&engine, logged.id).await;
    let steps: Vec<(i32, ChangeAction, Option<&str>)> =
        history.iter().map(|c| (c.version, c.action, c.reason.as_deref())).collect();
    assert_eq!(
        steps,
        [
            (1, ChangeAction::Created, None),
            (2, ChangeAction::Updated, Some("verkeerd overgenomen")),
            (3, ChangeAction::Updated, Some("S.D. vergeten")),
            (4, ChangeAction::Withdrawn, Some("dubbel: al gelogd door L. van der Heijden")),
        ]
    );
    let field = |value: &Option<serde_json::Value>, name: &str| value.as_ref().map(|v| v[name].clone());
    assert_eq!(field(&history[0].before, "hours"), None);
    let hours_in = |value: &Option<serde_json::Value>| field(value, "hours").and_then(|h| h.as_f64());
    assert_eq!(hours_in(&history[0].after), Some(2.0));
    assert_eq!(field(&history[0].after, "coachees"), Some(json!([wh])));
    assert_eq!((hours_in(&history[1].before), hours_in(&history[1].after)), (Some(2.0), Some(3.5)));
    assert_eq!(field(&history[2].before, "coachees"), Some(json!([wh])));
    assert_eq!(field(&history[2].after, "coachees"), Some(json!([wh.min(sd), wh.max(sd)])));
    assert_eq!(field(&history[2].after, "kind"), Some(json!("coaching-team")));
    assert_eq!(field(&history[3].before, "withdrawn_at"), Some(serde_json::Value::Null));
    assert_eq!(field(&history[3].after, "withdrawn_reason"), Some(json!("dubbel: al gelogd door L. van der Heijden")));
    assert_eq!(history[1].at, utc(2026, 3, 16));
    assert!(history.iter().all(|c| c.bestuur_id == Some(fluks) && c.kindcentrum_id.is_none()));

    // A withdrawn entry is neither corrected nor withdrawn again; its hours are logged anew.
    let again = CoachingCorrection { hours: Some(hours(1.0)), ..CoachingCorrection::default() };
    match engine.correct_coaching(logged.id, 4, again, because("nog eens")).await {
        Err(Error::Validation(message)) => assert!(
            message.contains(&format!("entry {} was withdrawn on 2026-03-20; log the hours anew", logged.id)),
            "{message}"
        ),
        other => panic!("expected the withdrawn entry refused, got {other:?}"),
    }
    assert!(matches!(engine.withdraw_coaching(logged.id, 4, because("nog eens")).await, Err(Error::Validation(_))));
    assert_eq!(version_of(&engine, logged.id).await, 4);
    let anew = engine.log_coaching("test", session).await.expect("the same hours count again once withdrawn");
    assert_ne!(anew.id, logged.id);
    let norm = engine.coaching_norm(fluks, 2026).await.expect("norm");
    assert_eq!((norm.coaching.realised, uncoached(&norm)), (2.0, vec!["L.S.", "S.D."]));
}

/// A correction is checked as logging is, and moves the hours to the houder of the new
/// locatie; a stale version, a blank reason or a refused correction writes nothing.
#[tokio::test]
async fn a_refused_correction_or_withdrawal_writes_nothing() {
    let (engine, _) = engine_with(utc(2026, 6, 1), KERN).await;
    let db = engine.db();
    let (kern, ander) = (bestuur_id(db, "kern").await, bestuur_id(db, "ander").await);
    let coach = professional_id(db, "coach").await;
    let pm_kern = professional_id(db, "pm-kern").await;
    let pm_ander = professional_id(db, "pm-ander").await;
    let (hoofd, paviljoen) = (locatie_id(db, "hoofd").await, locatie_id(db, "paviljoen").await);
    let session = NewCoachingEntry {
        locatie_id: Some(hoofd),
        ..entry(coach, date(2026, 5, 4), 1.5, CoachingKind::CoachingIndividueel, vec![pm_kern])
    };
    let logged = engine.log_coaching("test", session.clone()).await.expect("logged");
    let other = engine
        .log_coaching("test", NewCoachingEntry { hours: hours(1.0), ..session.clone() })
        .await
        .expect("other hours");
    let unchanged = || async {
        let row = coaching_entry::Entity::find_by_id(logged.id).one(db).await.expect("query").expect("entry");
        assert_eq!(row, logged, "the entry is as logged");
        assert_eq!(history_of(&engine, logged.id).await.len(), 1, "only its creation is recorded");
        let links = coaching_coachee::Entity::find()
            .filter(coaching_coachee::Column::CoachingEntryId.eq(logged.id))
            .all(db)
            .await
            .expect("coachees");
        assert_eq!(links.iter().map(|l| l.professional_id).collect::<Vec<_>>(), [pm_kern]);
    };
    let fix = |correction: CoachingCorrection, version: i32, reason: &str| {
        let engine = engine.clone();
        let reason = reason.to_owned();
        async move { engine.correct_coaching(logged.id, version, correction, reason).await }
    };
    let hours_to = |h: f64| CoachingCorrection { hours: Some(hours(h)), ..CoachingCorrection::default() };

    // Someone else changed it since version 0 was read.
    match fix(hours_to(2.0), 0, "typo").await {
        Err(Error::VersionConflict { expected, actual, .. }) => assert_eq!((expected, actual), (0, 1)),
        other => panic!("expected a version conflict, got {other:?}"),
    }
    assert!(matches!(
        engine.withdraw_coaching(logged.id, 2, because("dubbel")).await,
        Err(Error::VersionConflict { expected: 2, actual: 1, .. })
    ));
    unchanged().await;

    let validation = |result: Result<coaching_entry::Model, Error>, needle: &str| match result {
        Err(Error::Validation(message)) => assert!(message.contains(needle), "`{message}` lacks `{needle}`"),
        other => panic!("expected a validation error about `{needle}`, got {other:?}"),
    };
    validation(fix(hours_to(2.0), 1, "  ").await, "reason is blank");
    validation(engine.withdraw_coaching(logged.id, 1, because("")).await, "reason is blank");
    // Checked as logging checks: beleid names no coachees, nor coaching someone of another
    // houder; no hours after today; no double of another entry; some change at all.
    let to_beleid = CoachingCorrection { kind: Some(CoachingKind::Beleid), ..CoachingCorrection::default() };
    validation(fix(to_beleid, 1, "beleid").await, "beleid hours name no coachees");
    let to_ander = CoachingCorrection { coachees: Some(vec![pm_ander]), ..CoachingCorrection::default() };
    validation(fix(to_ander, 1, "ander").await, &format!("coachee {pm_ander} (PM Ander) is not employed by houder"));
    let later = CoachingCorrection { date: Some(date(2026, 6, 2)), ..CoachingCorrection::default() };
    validation(fix(later, 1, "later").await, "after today (2026-06-01)");
    validation(fix(hours_to(1.0), 1, "1 uur").await, &format!("entry {} holds these hours already", other.id));
    validation(fix(hours_to(1.5), 1, "niets").await, "changes nothing");
    assert!(matches!(
        fix(CoachingCorrection { coachees: Some(vec![999]), ..CoachingCorrection::default() }, 1, "wie").await,
        Err(Error::NotFound { what: "professional", .. })
    ));
    assert!(matches!(
        engine.correct_coaching(999, 0, hours_to(2.0), because("x")).await,
        Err(Error::NotFound { what: "coaching entry", .. })
    ));
    unchanged().await;

    // Only a role that logs hours corrects them.
    let token = engine.create_token("lezer", AccessRole::Reader, AccessScope::All, None).await.expect("token").token;
    let caller = engine.authenticate(&token).await.expect("query").expect("caller");
    let reader = engine.scoped(engine.access(&caller).await.expect("access"));
    assert!(matches!(reader.withdraw_coaching(logged.id, 1, because("x")).await, Err(Error::Forbidden(_))));
    unchanged().await;

    // Beleid at Andere opvang's paviljoen: the hours move to that houder's norm.
    let moved = CoachingCorrection {
        kind: Some(CoachingKind::Beleid),
        coachees: Some(Vec::new()),
        locatie_id: Some(Some(paviljoen)),
        note: Some(Some("  beleidsplan BSO  ".into())),
        ..CoachingCorrection::default()
    };
    let row = fix(moved, 1, "verkeerde locatie").await.expect("corrected");
    assert_eq!((row.bestuur_id, row.kind, row.note.as_deref()), (ander, CoachingKind::Beleid, Some("beleidsplan BSO")));
    assert!(engine.coachees_of(&[row.id]).await.expect("coachees").get(&row.id).is_none_or(Vec::is_empty));
    let norm = engine.coaching_norm(ander, 2026).await.expect("norm");
    assert_eq!((norm.beleid.realised, norm.coaching.realised), (1.5, 0.0));
    let norm = engine.coaching_norm(kern, 2026).await.expect("norm");
    assert_eq!((norm.beleid.realised, norm.coaching.realised), (0.0, 1.0));
    let history = history_of(&engine, logged.id).await;
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].bestuur_id, Some(ander), "recorded with the houder the hours now count toward");
    // No note: cleared.
    let cleared = CoachingCorrection { note: Some(None), ..CoachingCorrection::default() };
    assert_eq!(fix(cleared, 2, "notitie weg").await.expect("corrected").note, None);
}
