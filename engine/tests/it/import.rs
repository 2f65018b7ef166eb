//! Importing organisation data and koersplannen: the examples, idempotency, in-place
//! updates and the rejection of bad files with nothing written.

use std::path::{Path, PathBuf};

use koers_engine::io::import::{import_file, import_str};
use koers_engine::store::entity::*;
use koers_engine::{DatabaseConnection, Error, ImportError};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../workflows/examples").join(name)
}

async fn fresh() -> DatabaseConnection {
    koers_testing::database().await
}

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
            koers_engine::org::fte_on(&own, peildatum)
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
        let before = koers_testing::snapshot(&db, &[]).await;
        let second = import_file(&db, &example(name)).await.expect("second import");
        assert!(second.is_unchanged(), "{name}: {second:?}");
        assert_eq!(second.unchanged, first.created, "{name}");
        assert_eq!(koers_testing::snapshot(&db, &[]).await, before, "{name}");
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
    let before = koers_testing::snapshot(&db, &[]).await;
    let err = import_str(&db, "bad.toml", source).await.expect_err("the file must be rejected");
    assert_eq!(koers_testing::snapshot(&db, &[]).await, before, "nothing may be written");
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

/// A file rejected with exactly `expected`, at the line that holds `needle`, or at the
/// table header above that line when `needle` starts with `^`.
async fn rejected_with(source: &str, needle: &str, expected: &str) {
    let (line, message) = rejected(source).await;
    assert_eq!(message, expected);
    let wanted = match needle.strip_prefix('^') {
        Some(below) => {
            let above: Vec<&str> = source.lines().take(line_of(source, below)).collect();
            above.iter().rposition(|l| l.starts_with('[')).expect("a header above") + 1
        }
        None => line_of(source, needle),
    };
    assert_eq!(line, wanted, "{message}");
}

/// Every error names the record by its key (or, without one, by its position) and the
/// field, besides the place in the file.
#[tokio::test]
async fn an_error_names_the_record_and_the_field() {
    let source = SMALL.replace("title = \"Doel twee\"", "title = \"\"");
    rejected_with(&source, "title = \"\"", "doel `d2`, field `title`: must not be empty").await;

    let source = SMALL.replace("{ description = \"Eerste\" }", "{ description = \" \" }");
    let expected = "the 1st succescriterium of doel `d1`, field `description`: must not be empty";
    rejected_with(&source, "description = \" \"", expected).await;

    let source = SMALL.replace("title = \"Ambitie een\"", "title = 5");
    let expected = "ambitie `a1`, field `title`: invalid type: integer `5`, expected a string";
    rejected_with(&source, "title = 5", expected).await;

    let source = SMALL.replace("name = \"KC\"", "name = \"\"");
    rejected_with(&source, "name = \"\"", "kindcentrum `kc`, field `name`: must not be empty").await;

    let source = SMALL.replace("name = \"KC\"", "name = \"KC\"\nplaats = 5");
    let expected = "kindcentrum `kc`, field `plaats`: invalid type: integer `5`, expected a string";
    rejected_with(&source, "plaats = 5", expected).await;

    let source = SMALL.replace(
        "measurements = [{ date = 2021-06-30, value = 78.0, source = \"Cito\" }]",
        "measurements = [{ date = 2021-06-30, value = 78.0, source = \"\" }]",
    );
    let expected = "the 1st measurement of indicator `lezen`, field `source`: must not be empty";
    rejected_with(&source, "source = \"\"", expected).await;

    let source = SMALL.replace("key = \"d2\"", "key = \"D2\"");
    let expected = "doel `D2`, field `key`: `D2` is not a key: use 1 to 64 lower-case letters, digits, `-` or `_`, \
                    starting with a letter or digit";
    rejected_with(&source, "D2", expected).await;
}

/// A record without its key is named by its position within the record around it; an
/// error about the whole record stands at its header.
#[tokio::test]
async fn an_error_in_a_record_without_a_key_names_its_position() {
    let source = SMALL.replace("key = \"d2\"\n", "");
    rejected_with(&source, "^title = \"Doel twee\"", "the 2nd doel of ambitie `a1`: missing field `key`").await;

    let source = SMALL.replace("title = \"Doel twee\"\n", "");
    rejected_with(&source, "^key = \"d2\"", "doel `d2`: missing field `title`").await;

    let source = SMALL.replace("key = \"a1\"\n", "");
    rejected_with(&source, "^title = \"Ambitie een\"", "the 1st ambitie of koersplan `plan`: missing field `key`")
        .await;
}

/// Errors the import finds after parsing (unknown references, duplicate keys, values out of
/// range) name their record and field the same way.
#[tokio::test]
async fn a_refused_reference_or_duplicate_names_the_record_and_the_field() {
    let source = SMALL.replace("indicator = \"lezen\"", "indicator = \"rekenen\"");
    let expected = "the 2nd succescriterium of doel `d1`, field `indicator`: unknown indicator `rekenen`: \
                    no indicator with this key is in this file or stored";
    rejected_with(&source, "rekenen", expected).await;

    let source = SMALL.replace("besturen = [\"b\"]", "besturen = [\"onbekend\"]");
    let expected = "kindcentrum `kc`, field `besturen`: unknown bestuur `onbekend`: \
                    no bestuur with this key is in this file or stored";
    rejected_with(&source, "onbekend", expected).await;

    let source = SMALL.replace("key = \"d2\"", "key = \"d1\"");
    let first = line_of(&source, "key = \"d1\"");
    let expected = format!("doel `d1`, field `key`: the doel on line {first} already has the key `d1`");
    let (line, message) = rejected(&source).await;
    assert_eq!(message, expected);
    assert_eq!(line, line_of(SMALL, "key = \"d2\""));

    let source = SMALL.replace("{ school_year = \"2019-2020\"", "{ school_year = \"2024-2025\"");
    let expected = "the 1st planning item of doel `d1`, field `school_year`: 2024-2025 lies outside the plan period \
                    2019-2020 .. 2022-2023";
    rejected_with(&source, "2024-2025", expected).await;

    // A key written twice in one table: the parser's own refusal.
    let source = SMALL.replace("title = \"Doel twee\"", "title = \"Doel twee\"\ntitle = \"Nog eens\"");
    rejected_with(&source, "Nog eens", "doel `d2`, field `title`: duplicate key").await;
}

/// Restating `[[kindcentrum]]` of kc-balans with only its key and name, to add a team,
/// leaves everything else of it as it was.
#[tokio::test]
async fn restating_a_kindcentrum_in_part_keeps_what_it_leaves_out() {
    let db = fresh().await;
    import_file(&db, &example("kc-balans.toml")).await.expect("import kc-balans");
    let before = koers_testing::snapshot(&db, &["team", "change"]).await;
    let teams_before = koers_testing::rows_as_text(&db, "team").await;
    let source = r#"
[[kindcentrum]]
key = "kc-balans"
name = "Kindcentrum Balans"

[[kindcentrum.team]]
key = "kenniskring-lezen"
name = "Kenniskring lezen"
kind = "kenniskring"
"#;
    let report = import_str(&db, "team.toml", source).await.expect("import the team");
    assert_eq!((report.created, report.updated, report.removed), (1, 0, 0), "{report:?}");
    let kc = kindcentrum::Entity::find().one(&db).await.expect("query").expect("kindcentrum");
    assert_eq!(kc.plaats.as_deref(), Some("Den Haag"));
    // Nothing but the team, and the trail's record of it.
    assert_eq!(koers_testing::snapshot(&db, &["team", "change"]).await, before);
    let teams = team::Entity::find().all(&db).await.expect("teams");
    assert!(teams.iter().any(|t| t.key == "kenniskring-lezen" && t.kindcentrum_id == kc.id), "{teams:?}");
    let teams_after = koers_testing::rows_as_text(&db, "team").await;
    assert!(teams_before.iter().all(|row| teams_after.contains(row)), "{teams_before:?} {teams_after:?}");
    assert_eq!(teams_after.len(), teams_before.len() + 1);

    // With its besturen restated too, and still without `plaats`.
    let source = "[[kindcentrum]]\nkey = \"kc-balans\"\nname = \"Kindcentrum Balans\"\n\
                  besturen = [\"lucas-onderwijs\", \"vlietkinderen\"]\n";
    let report = import_str(&db, "besturen.toml", source).await.expect("import the besturen");
    assert!(report.is_unchanged(), "{report:?}");
    let kc = kindcentrum::Entity::find().one(&db).await.expect("query").expect("kindcentrum");
    assert_eq!(kc.plaats.as_deref(), Some("Den Haag"));
}

/// Every optional field the import knows, set.
const FULL: &str = r#"
[[bestuur]]
key = "opvang"
name = "Opvang"
kind = "kinderopvang"
voorschoolse_educatie = [{ year = 2026, children = 8 }]

[[bestuur]]
key = "school"
name = "School"
kind = "onderwijs"

[[kindcentrum]]
key = "kc"
name = "KC"
plaats = "Borkel"
besturen = ["opvang", "school"]

[[kindcentrum.onderdeel]]
key = "bso"
name = "BSO"
kind = "bso"
bestuur = "opvang"

[[kindcentrum.locatie]]
key = "hoofd"
name = "Hoofdgebouw"
address = "Dorpsstraat 1"
vacation_region = "zuid"
lrk = [{ number = "900000001", onderdeel = "bso" }]

[[kindcentrum.locatie.groep]]
key = "bso-1"
name = "BSO 1"
onderdeel = "bso"
max_children = 22
age_from = 4
age_until = 13

[[kindcentrum.team]]
key = "locatieteam"
name = "Locatieteam"
kind = "locatieteam"
members = ["pm"]

[[professional]]
key = "pm"
name = "P.M."
employer = "opvang"
kindcentra = ["kc"]
roles = ["pedagogisch-medewerker"]
fte = [{ from = 2026-01-01, fte = 0.4 }]
flexible = true

[[indicator]]
key = "welbevinden"
name = "Welbevinden"
unit = "score"
direction = "at-least"
target = 3.5
baseline = 3.0
kindcentrum = "kc"
locatie = "hoofd"
groep = "bso-1"
measurements = [{ date = 2026-03-31, value = 3.6, source = "Scan", note = "K1" }]

[[indicator]]
key = "betrokkenheid"
name = "Betrokkenheid"
unit = "score"
direction = "at-least"
target = 3.5
kindcentrum = "kc"
locatie = "hoofd"
groep = "bso-1"

[koersplan]
key = "plan"
kindcentrum = "kc"
title = "Plan"
first_school_year = "2025-2026"
last_school_year = "2027-2028"
visie = "Visie"
pijlers = ["Samen"]

[[koersplan.ambitie]]
key = "a1"
title = "Ambitie"
description = "Waarom"

[[koersplan.ambitie.doel]]
key = "d1"
title = "Doel"
description = "Wat"
indicators = ["welbevinden"]
succescriteria = [{ description = "Gemeten", indicator = "welbevinden" }]
planning = [{ school_year = "2025-2026", text = "Starten", status = "gestart" }]

[[koersplan.ambitie.doel]]
key = "d2"
title = "Doel twee"
succescriteria = [{ description = "Verteld" }]
planning = [{ school_year = "2026-2027", text = "Verder" }]
"#;

/// Every record of [`FULL`] again, with its required fields only (and the lists of the
/// koersplan it restates, with their items' required fields only).
const REQUIRED_ONLY: &str = r#"
[[bestuur]]
key = "opvang"
name = "Opvang"
kind = "kinderopvang"

[[kindcentrum]]
key = "kc"
name = "KC"

[[kindcentrum.locatie]]
key = "hoofd"
name = "Hoofdgebouw"

[[kindcentrum.locatie.groep]]
key = "bso-1"
name = "BSO 1"
onderdeel = "bso"

[[kindcentrum.team]]
key = "locatieteam"
name = "Locatieteam"
kind = "locatieteam"

[[professional]]
key = "pm"
name = "P.M."
employer = "opvang"

[[indicator]]
key = "welbevinden"
name = "Welbevinden"
unit = "score"
direction = "at-least"
target = 3.5
measurements = [{ date = 2026-03-31, value = 3.6, source = "Scan" }]

[[indicator]]
key = "betrokkenheid"
name = "Betrokkenheid"
unit = "score"
direction = "at-least"
target = 3.5
kindcentrum = "kc"

[koersplan]
key = "plan"
kindcentrum = "kc"
title = "Plan"
first_school_year = "2025-2026"
last_school_year = "2027-2028"
visie = "Visie"

[[koersplan.ambitie]]
key = "a1"
title = "Ambitie"

[[koersplan.ambitie.doel]]
key = "d1"
title = "Doel"
succescriteria = [{ description = "Gemeten" }]
planning = [{ school_year = "2025-2026", text = "Starten" }]

[[koersplan.ambitie.doel]]
key = "d2"
title = "Doel twee"
"#;

/// A field left out of an import leaves the stored value alone, for every optional field
/// of every record the import writes.
#[tokio::test]
async fn an_optional_field_left_out_keeps_its_stored_value() {
    let db = fresh().await;
    import_str(&db, "full.toml", FULL).await.expect("import");
    let before = koers_testing::snapshot(&db, &[]).await;
    let report = import_str(&db, "required.toml", REQUIRED_ONLY).await.expect("re-import");
    assert!(report.is_unchanged(), "{report:?}");
    assert_eq!(koers_testing::snapshot(&db, &[]).await, before);

    // A koersplan restated without its ambities keeps them.
    let (start, end) = (REQUIRED_ONLY.find("[koersplan]"), REQUIRED_ONLY.find("[[koersplan.ambitie]]"));
    let plan_only = &REQUIRED_ONLY[start.expect("koersplan")..end.expect("ambitie")];
    let report = import_str(&db, "plan.toml", plan_only).await.expect("re-import the plan");
    assert!(report.is_unchanged(), "{report:?}");
    assert_eq!(koers_testing::snapshot(&db, &[]).await, before);
}

/// What `workflows/README.md` says clears a stored optional field: `""` for a single value,
/// `[]` for a list, `false` for `flexible`.
const CLEARED: &str = r#"
[[bestuur]]
key = "opvang"
name = "Opvang"
kind = "kinderopvang"
voorschoolse_educatie = []

[[kindcentrum]]
key = "kc"
name = "KC"
plaats = ""

[[kindcentrum.locatie]]
key = "hoofd"
name = "Hoofdgebouw"
address = ""
vacation_region = ""
lrk = []

[[kindcentrum.locatie.groep]]
key = "bso-1"
name = "BSO 1"
onderdeel = "bso"
max_children = ""
age_from = ""
age_until = ""

[[kindcentrum.team]]
key = "locatieteam"
name = "Locatieteam"
kind = "locatieteam"
members = []

[[professional]]
key = "pm"
name = "P.M."
employer = "opvang"
kindcentra = []
roles = []
fte = []
flexible = false

[[indicator]]
key = "welbevinden"
name = "Welbevinden"
unit = "score"
direction = "at-least"
target = 3.5
baseline = ""
locatie = ""
measurements = [{ date = 2026-03-31, value = 3.6, source = "Scan", note = "" }]

[[indicator]]
key = "betrokkenheid"
name = "Betrokkenheid"
unit = "score"
direction = "at-least"
target = 3.5
groep = ""

[koersplan]
key = "plan"
kindcentrum = "kc"
title = "Plan"
first_school_year = "2025-2026"
last_school_year = "2027-2028"
visie = "Visie"
pijlers = []

[[koersplan.ambitie]]
key = "a1"
title = "Ambitie"
description = ""

[[koersplan.ambitie.doel]]
key = "d1"
title = "Doel"
description = ""
indicators = []
succescriteria = [{ description = "Gemeten", indicator = "" }]
planning = []

[[koersplan.ambitie.doel]]
key = "d2"
title = "Doel twee"
succescriteria = []
"#;

#[tokio::test]
async fn an_optional_field_written_empty_is_cleared() {
    let db = fresh().await;
    import_str(&db, "full.toml", FULL).await.expect("import");
    import_str(&db, "cleared.toml", CLEARED).await.expect("clear");

    let kc = kindcentrum::Entity::find().one(&db).await.expect("q").expect("kindcentrum");
    assert_eq!(kc.plaats, None);
    assert_eq!(kindcentrum_bestuur::Entity::find().count(&db).await.expect("count"), 2, "besturen stay");
    let locatie = locatie::Entity::find().one(&db).await.expect("q").expect("locatie");
    assert_eq!((locatie.address, locatie.vacation_region), (None, None));
    let groep = groep::Entity::find().one(&db).await.expect("q").expect("groep");
    assert_eq!((groep.max_children, groep.age_from, groep.age_until), (None, None, None));
    let professional = professional::Entity::find().one(&db).await.expect("q").expect("professional");
    assert!(!professional.flexible);
    for (table, rows) in [
        ("ve_indication", ve_indication::Entity::find().count(&db).await),
        ("lrk_registration", lrk_registration::Entity::find().count(&db).await),
        ("team_member", team_member::Entity::find().count(&db).await),
        ("professional_kindcentrum", professional_kindcentrum::Entity::find().count(&db).await),
        ("professional_role", professional_role::Entity::find().count(&db).await),
        ("professional_fte", professional_fte::Entity::find().count(&db).await),
        ("doel_indicator", doel_indicator::Entity::find().count(&db).await),
    ] {
        assert_eq!(rows.expect("count"), 0, "{table}");
    }

    let indicator = |key: &'static str| indicator::Entity::find().filter(indicator::Column::Key.eq(key)).one(&db);
    let welbevinden = indicator("welbevinden").await.expect("q").expect("welbevinden");
    assert_eq!(welbevinden.baseline, None);
    // Without its locatie the indicator is one of the whole kindcentrum, its groep gone too.
    assert_eq!((welbevinden.kindcentrum_id, welbevinden.locatie_id, welbevinden.groep_id), (Some(kc.id), None, None));
    let betrokkenheid = indicator("betrokkenheid").await.expect("q").expect("betrokkenheid");
    assert_eq!(
        (betrokkenheid.kindcentrum_id, betrokkenheid.locatie_id, betrokkenheid.groep_id),
        (Some(kc.id), Some(locatie.id), None)
    );
    let measurement = measurement::Entity::find().one(&db).await.expect("q").expect("measurement");
    assert_eq!(measurement.note, None);

    let plan = koersplan::Entity::find().one(&db).await.expect("q").expect("koersplan");
    assert_eq!(plan.pijlers, serde_json::json!([]));
    let ambitie = ambitie::Entity::find().one(&db).await.expect("q").expect("ambitie");
    assert_eq!(ambitie.description, None);
    let doel = |key: &'static str| doel::Entity::find().filter(doel::Column::Key.eq(key)).one(&db);
    let d1 = doel("d1").await.expect("q").expect("d1");
    assert_eq!(d1.description, None);
    let d2 = doel("d2").await.expect("q").expect("d2");
    let criteria = succescriterium::Entity::find().all(&db).await.expect("succescriteria");
    assert_eq!(criteria.len(), 1, "{criteria:?}");
    assert_eq!((criteria[0].doel_id, criteria[0].indicator_id), (d1.id, None));
    // The planning of d1 is cleared; d2 leaves its planning out and keeps it.
    let planning = planning_item::Entity::find().all(&db).await.expect("planning");
    assert_eq!(planning.iter().map(|p| p.doel_id).collect::<Vec<_>>(), [d2.id]);
}

/// A required field cannot be cleared, and a new record needs what a stored one may leave
/// out.
#[tokio::test]
async fn a_required_field_cannot_be_cleared_nor_left_out_of_a_new_record() {
    let source = FULL.replacen("name = \"KC\"", "name = \"\"", 1);
    rejected_with(&source, "name = \"\"", "kindcentrum `kc`, field `name`: must not be empty").await;

    let source = FULL.replacen("besturen = [\"opvang\", \"school\"]\n", "", 1);
    let expected =
        "kindcentrum `kc`: is not stored yet, so it needs `besturen`: the keys of the besturen it belongs to";
    rejected_with(&source, "^key = \"kc\"", expected).await;

    let source = FULL.replacen("besturen = [\"opvang\", \"school\"]", "besturen = []", 1);
    rejected_with(&source, "besturen = []", "kindcentrum `kc`, field `besturen`: needs at least one bestuur key").await;

    let source = FULL.replacen(
        "kindcentrum = \"kc\"\nlocatie = \"hoofd\"\ngroep = \"bso-1\"\n\n[koersplan]",
        "\n[koersplan]",
        1,
    );
    let expected = "indicator `betrokkenheid`: is not stored yet, so it needs a scope: \
                    `bestuur = \"...\"` or `kindcentrum = \"...\"`";
    rejected_with(&source, "^key = \"betrokkenheid\"", expected).await;
}

/// A bestuur that is no longer a kinderopvang keeps no counts of voorschoolse educatie
/// behind: the file that changes its kind clears them.
#[tokio::test]
async fn a_bestuur_that_stops_offering_opvang_clears_its_ve_counts() {
    let db = fresh().await;
    import_str(&db, "full.toml", FULL).await.expect("import");
    let source = "[[bestuur]]\nkey = \"opvang\"\nname = \"Opvang\"\nkind = \"onderwijs\"\n";
    let err = import_str(&db, "bestuur.toml", source).await.expect_err("refused");
    assert_eq!(
        err.to_string(),
        "bestuur.toml:4:8: bestuur `opvang`, field `kind`: only a kinderopvang bestuur offers voorschoolse \
         educatie: write `voorschoolse_educatie = []` to remove the stored counts"
    );
    let cleared = format!("{source}voorschoolse_educatie = []\n");
    import_str(&db, "bestuur.toml", &cleared).await.expect("import");
    assert_eq!(ve_indication::Entity::find().count(&db).await.expect("count"), 0);
}

/// Records are named on the command line by id or by key; a locatie by the path
/// `kindcentrum/locatie`, or its key alone while only one locatie has it.
#[tokio::test]
async fn a_record_is_named_by_its_id_or_its_key() {
    let db = fresh().await;
    for file in ["kc-balans.toml", "heidevlinder.toml"] {
        import_file(&db, &example(file)).await.expect("import");
    }
    let engine = koers_testing::engine(db);
    let heidevlinder = engine.kindcentrum_by_key("heidevlinder").await.expect("q").expect("kc").id;
    assert_eq!(engine.resolve("kindcentrum", "heidevlinder").await.expect("key"), heidevlinder);
    assert_eq!(engine.resolve("kindcentrum", &heidevlinder.to_string()).await.expect("id"), heidevlinder);
    let balans = engine.resolve("locatie", "balans").await.expect("the only locatie `balans`");
    assert_eq!(engine.resolve("locatie", "kc-balans/balans").await.expect("path"), balans);
    assert_eq!(engine.resolve_scope("locatie:kc-balans/balans").await.expect("scope"), format!("locatie:{balans}"));
    assert_eq!(engine.resolve_scope("all").await.expect("all"), "all");
    let groep = engine.resolve("groep", "heidevlinder/heidevlinder/bso-borkel-1").await.expect("groep");
    assert_eq!(engine.resolve("groep", "bso-borkel-1").await.expect("groep"), groep);

    import_str(
        engine.db(),
        "twee.toml",
        "[[kindcentrum]]\nkey = \"kc-twee\"\nname = \"KC Twee\"\nbesturen = [\"lucas-onderwijs\"]\n\n\
         [[kindcentrum.locatie]]\nkey = \"balans\"\nname = \"Balans twee\"\n",
    )
    .await
    .expect("import");
    match engine.resolve("locatie", "balans").await {
        Err(Error::Validation(message)) => {
            assert!(message.contains("`kc-balans/balans`") && message.contains("`kc-twee/balans`"), "{message}")
        }
        other => panic!("a key two locaties have is ambiguous: {other:?}"),
    }
    assert!(matches!(
        engine.resolve("kindcentrum", "onbekend").await,
        Err(Error::NotFound { what: "kindcentrum", .. })
    ));
    assert!(matches!(engine.resolve("schip", "x").await, Err(Error::Validation(_))));
}

#[tokio::test]
async fn a_professional_who_leaves_is_ended_not_deleted() {
    let db = fresh().await;
    import_file(&db, &example("heidevlinder.toml")).await.expect("heidevlinder");
    let restated = |left_on: &str| {
        format!(
            "[[professional]]\nkey = \"w-h\"\nname = \"W.H.\"\nemployer = \"fluks-opvang\"\n{left_on}\
             fte = [{{ from = 2026-01-01, fte = 0.4 }}]\n"
        )
    };
    let left_on = || async {
        professional::Entity::find()
            .filter(professional::Column::Key.eq("w-h"))
            .one(&db)
            .await
            .expect("query")
            .expect("still there")
            .left_on
    };
    let date = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("date");

    import_str(&db, "leaves.toml", &restated("left_on = 2027-07-31\n")).await.expect("ended");
    assert_eq!(left_on().await, Some(date(2027, 7, 31)));
    import_str(&db, "again.toml", &restated("")).await.expect("left out");
    assert_eq!(left_on().await, Some(date(2027, 7, 31)), "left out keeps the stored date");
    import_str(&db, "back.toml", &restated("left_on = \"\"\n")).await.expect("cleared");
    assert_eq!(left_on().await, None, "written empty clears it: they came back");

    let source = restated("left_on = 2025-12-31\n");
    let err = import_str(&db, "early.toml", &source).await.expect_err("before their first fte");
    let message = err.to_string();
    assert!(message.contains(&format!("early.toml:{}", line_of(&source, "left_on"))), "{message}");
    assert!(message.contains("left_on 2025-12-31 lies before their first fte (from 2026-01-01)"), "{message}");
    assert_eq!(left_on().await, None, "nothing of the refused file is written");
}
