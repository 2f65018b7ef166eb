//! Importing organisation data and koersplannen: the examples, idempotency, in-place
//! updates and the rejection of bad files with nothing written.

use std::path::{Path, PathBuf};

use koers_engine::entity::*;
use koers_engine::import::{import_file, import_str};
use koers_engine::{DatabaseConnection, Error, ImportError};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../workflows/examples").join(name)
}

async fn fresh() -> DatabaseConnection {
    koers_engine::testing::database().await
}

/// Every row of every table the import writes, to compare database states.

#[tokio::test]
async fn kc_balans_has_the_whole_koersplan() {
    let db = fresh().await;
    import_file(&db, &example("kc-balans.toml")).await.expect("import kc-balans");
    assert_eq!(koersplan::Entity::find().count(&db).await.expect("count"), 1);
    assert_eq!(ambitie::Entity::find().count(&db).await.expect("count"), 5);
    assert_eq!(doel::Entity::find().count(&db).await.expect("count"), 19);
    let criteria = succescriterium::Entity::find().count(&db).await.expect("count");
    assert!(criteria >= 50, "only {criteria} succescriteria");
    let plan = koersplan::Entity::find().one(&db).await.expect("query").expect("koersplan");
    let pijlers: Vec<String> = serde_json::from_value(plan.pijlers).expect("pijlers");
    assert_eq!(
        pijlers,
        ["Iedereen zien", "Wendbaar ontwikkelen", "Samen in onze kracht staan", "Helder & dynamisch zijn"]
    );
    // Every school year of the plan has planning items.
    for year in 2019..=2022 {
        let items = planning_item::Entity::find()
            .filter(planning_item::Column::SchoolYear.eq(year))
            .count(&db)
            .await
            .expect("count");
        assert!(items > 0, "no planning items for {year}");
    }
    let besturen: Vec<String> =
        bestuur::Entity::find().all(&db).await.expect("besturen").into_iter().map(|b| b.name).collect();
    assert!(besturen.iter().any(|b| b.contains("Lucas Onderwijs")), "{besturen:?}");
    assert!(besturen.iter().any(|b| b.contains("Vlietkinderen")), "{besturen:?}");
    assert_eq!(kindcentrum_bestuur::Entity::find().count(&db).await.expect("count"), 2);
}

#[tokio::test]
async fn heidevlinder_has_its_locatie_groep_and_professionals() {
    let db = fresh().await;
    import_file(&db, &example("heidevlinder.toml")).await.expect("import heidevlinder");
    assert_eq!(lrk_registration::Entity::find().count(&db).await.expect("count"), 2);
    let groep = groep::Entity::find().one(&db).await.expect("query").expect("groep");
    assert_eq!(groep.max_children, Some(22));
    let pm = professional_role::Entity::find()
        .filter(professional_role::Column::Role.eq(koers_engine::domain::Role::PedagogischMedewerker))
        .all(&db)
        .await
        .expect("roles");
    assert_eq!(pm.len(), 3);
    let coaches = professional_role::Entity::find()
        .filter(professional_role::Column::Role.eq(koers_engine::domain::Role::PedagogischCoach))
        .count(&db)
        .await
        .expect("count");
    assert_eq!(coaches, 2);
    // FTE of the pedagogisch medewerkers on peildatum 1 January 2026: 1,2.
    let peildatum = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
    let history = professional_fte::Entity::find().all(&db).await.expect("fte");
    let total: f64 = pm
        .iter()
        .filter_map(|r| {
            let own: Vec<_> = history.iter().filter(|f| f.professional_id == r.professional_id).cloned().collect();
            koers_engine::read::fte_on(&own, peildatum)
        })
        .sum();
    assert!((total - 1.2).abs() < 1e-9, "total FTE {total}");
}

#[tokio::test]
async fn importing_twice_changes_nothing() {
    let db = fresh().await;
    for name in ["kc-balans.toml", "heidevlinder.toml"] {
        let first = import_file(&db, &example(name)).await.expect("first import");
        assert!(first.created > 0);
        let before = koers_engine::testing::snapshot(&db, &[]).await;
        let second = import_file(&db, &example(name)).await.expect("second import");
        assert!(second.is_unchanged(), "{name}: {second:?}");
        assert_eq!(second.unchanged, first.created, "{name}");
        assert_eq!(koers_engine::testing::snapshot(&db, &[]).await, before, "{name}");
    }
}

const SMALL: &str = r#"
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
name = "Lezen"
unit = "%"
direction = "at-least"
target = 80.0
kindcentrum = "kc"
measurements = [{ date = 2021-06-30, value = 78.0, source = "Cito" }]

[koersplan]
key = "plan"
kindcentrum = "kc"
title = "Plan"
first_school_year = "2019-2020"
last_school_year = "2022-2023"
visie = "Visie"

[[koersplan.ambitie]]
key = "a1"
title = "Ambitie een"

[[koersplan.ambitie.doel]]
key = "d1"
title = "Doel een"
indicators = ["lezen"]
succescriteria = [{ description = "Eerste" }, { description = "Tweede", indicator = "lezen" }]
planning = [{ school_year = "2019-2020", text = "Starten" }]

[[koersplan.ambitie.doel]]
key = "d2"
title = "Doel twee"
"#;

#[tokio::test]
async fn a_changed_file_updates_in_place_and_drops_what_it_no_longer_has() {
    let db = fresh().await;
    import_str(&db, "small.toml", SMALL).await.expect("import");
    let doel = doel::Entity::find().filter(doel::Column::Key.eq("d1")).one(&db).await.expect("q").expect("d1");
    let changed = SMALL
        .replace("title = \"Doel een\"", "title = \"Doel een, herschreven\"")
        .replace("[[koersplan.ambitie.doel]]\nkey = \"d2\"\ntitle = \"Doel twee\"\n", "");
    let report = import_str(&db, "small.toml", &changed).await.expect("re-import");
    assert_eq!(report.updated, 1, "{report:?}");
    assert_eq!(report.removed, 1, "{report:?}");
    assert_eq!(report.created, 0, "{report:?}");
    let after = doel::Entity::find().filter(doel::Column::Key.eq("d1")).one(&db).await.expect("q").expect("d1");
    assert_eq!(after.id, doel.id, "the doel keeps its id");
    assert_eq!(after.title, "Doel een, herschreven");
    assert_eq!(doel::Entity::find().count(&db).await.expect("count"), 1);
}

/// The error of a rejected file, checked to name file, line and key, with nothing written.
async fn rejected(source: &str) -> (usize, String) {
    let db = fresh().await;
    let before = koers_engine::testing::snapshot(&db, &[]).await;
    let err = import_str(&db, "bad.toml", source).await.expect_err("the file must be rejected");
    assert_eq!(koers_engine::testing::snapshot(&db, &[]).await, before, "nothing may be written");
    match err {
        Error::Import(ImportError::At { file, line, message, .. }) => {
            assert_eq!(file, "bad.toml");
            (line, message)
        }
        other => panic!("expected an import error, got {other}"),
    }
}

fn line_of(source: &str, needle: &str) -> usize {
    source.lines().position(|l| l.contains(needle)).expect("needle in source") + 1
}

#[tokio::test]
async fn unknown_key_is_rejected() {
    let source = SMALL.replace("title = \"Doel twee\"", "title = \"Doel twee\"\ntitel = \"typo\"");
    let (line, message) = rejected(&source).await;
    assert!(message.contains("unknown field `titel`"), "{message}");
    assert_eq!(line, line_of(&source, "titel"));
}

#[tokio::test]
async fn missing_title_is_rejected() {
    let source = SMALL.replace("title = \"Doel twee\"\n", "");
    let (line, message) = rejected(&source).await;
    assert!(message.contains("missing field `title`"), "{message}");
    // The table header of the doel that lacks it.
    assert_eq!(line, line_of(&source, "key = \"d2\"") - 1);
}

#[tokio::test]
async fn school_year_outside_the_plan_period_is_rejected() {
    let source = SMALL.replace("{ school_year = \"2019-2020\"", "{ school_year = \"2024-2025\"");
    let (line, message) = rejected(&source).await;
    assert!(message.contains("2024-2025") && message.contains("outside the plan period"), "{message}");
    assert!(message.contains("school_year"), "{message}");
    assert_eq!(line, line_of(&source, "2024-2025"));
}

#[tokio::test]
async fn reference_to_an_unknown_key_is_rejected() {
    let source = SMALL.replace("indicator = \"lezen\"", "indicator = \"rekenen\"");
    let (line, message) = rejected(&source).await;
    assert!(message.contains("unknown indicator `rekenen`"), "{message}");
    assert_eq!(line, line_of(&source, "rekenen"));

    let source = SMALL.replace("besturen = [\"b\"]", "besturen = [\"onbekend\"]");
    let (line, message) = rejected(&source).await;
    assert!(message.contains("unknown bestuur `onbekend`"), "{message}");
    assert_eq!(line, line_of(&source, "onbekend"));
}

#[tokio::test]
async fn a_late_error_leaves_nothing_of_the_file_behind() {
    // The bad reference sits in the last table, after everything else has been written.
    let db = fresh().await;
    let source = SMALL.replace("title = \"Doel twee\"", "title = \"Doel twee\"\nindicators = [\"nope\"]");
    let err = import_str(&db, "bad.toml", &source).await.expect_err("rejected");
    assert!(err.to_string().starts_with("bad.toml:"), "{err}");
    assert_eq!(bestuur::Entity::find().count(&db).await.expect("count"), 0);
    assert_eq!(koersplan::Entity::find().count(&db).await.expect("count"), 0);
}

#[tokio::test]
async fn the_error_message_names_file_line_and_column() {
    let db = fresh().await;
    let source = SMALL.replace("indicator = \"lezen\"", "indicator = \"rekenen\"");
    let err = import_str(&db, "bad.toml", &source).await.expect_err("rejected");
    let line = line_of(&source, "rekenen");
    assert!(err.to_string().starts_with(&format!("bad.toml:{line}:")), "{err}");
}

/// No store keeps a NUL in text (PostgreSQL refuses it): an escaped NUL is refused where
/// it stands, on every store.
#[tokio::test]
async fn a_nul_character_is_refused_where_it_stands() {
    let db = fresh().await;
    let source = SMALL.replace("indicator = \"lezen\"", "indicator = \"le\\u0000zen\"");
    let err = import_str(&db, "bad.toml", &source).await.expect_err("rejected");
    let line = line_of(&source, "u0000");
    assert!(err.to_string().starts_with(&format!("bad.toml:{line}:")), "{err}");
    assert!(err.to_string().contains("NUL"), "{err}");
}
