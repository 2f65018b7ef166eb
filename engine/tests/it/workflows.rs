//! Loading workflow definitions: the built-in ones, overrides, and every rule a
//! definition must keep.

use koers_engine::workflow::{WorkflowDef, load};

#[test]
fn the_builtin_workflows_load() {
    let defs = load(None).expect("built-in definitions are valid");
    let keys: Vec<&str> = defs.iter().map(|d| d.key.as_str()).collect();
    assert_eq!(keys, ["hgw-groepsbespreking", "pdca", "pdsa", "pedagogische-kwaliteitscyclus", "vierxd"]);
    let pdca = defs.iter().find(|d| d.key == "pdca").expect("pdca");
    let phases: Vec<&str> = pdca.phases.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(&phases[..4], ["plan", "do", "check", "act"]);
    let pdsa = defs.iter().find(|d| d.key == "pdsa").expect("pdsa");
    assert!(pdsa.phase("study").is_some() && pdsa.phase("check").is_none());
    assert!(defs.iter().find(|d| d.key == "vierxd").expect("vierxd").pitches);
}

const MINIMAL: &str = r#"
key = "mini"
name = "Mini"

[[phase]]
key = "plan"
name = "Plan"
initial = true

[[phase.field]]
key = "doel"
name = "Doel"
type = "text"
required = true

[[phase]]
key = "klaar"
name = "Klaar"
terminal = true
outcomes = ["borgen"]

[[transition]]
from = "plan"
to = "klaar"
kind = "close"
"#;

fn refused(source: &str) -> String {
    WorkflowDef::parse("mini.toml", source).expect_err("must be refused").to_string()
}

#[test]
fn a_minimal_definition_is_valid() {
    WorkflowDef::parse("mini.toml", MINIMAL).expect("valid");
}

#[test]
fn each_rule_is_enforced_with_file_and_key() {
    let cases = [
        (MINIMAL.replace("initial = true", ""), "no initial phase"),
        (MINIMAL.replace("terminal = true\noutcomes = [\"borgen\"]", "initial = true"), "2 initial phases"),
        (MINIMAL.replace("terminal = true", "").replace("outcomes = [\"borgen\"]", ""), "no terminal phase"),
        (MINIMAL.replace("to = \"klaar\"", "to = \"klar\""), "unknown phase `klar`"),
        (MINIMAL.replace("type = \"text\"", "type = \"tekst\""), "unknown variant `tekst`"),
        (MINIMAL.replace("kind = \"close\"", "kind = \"advance\""), "transition `plan` -> `klaar`"),
        (
            MINIMAL.replace("outcomes = [\"borgen\"]", "outcomes = []"),
            "terminal phase `klaar` needs at least one outcome",
        ),
        (
            MINIMAL.replace("type = \"text\"", "type = \"choice\""),
            "phase `plan` field `doel`: a choice needs `options`",
        ),
        (
            format!("{MINIMAL}\n[[phase]]\nkey = \"los\"\nname = \"Los\"\nterminal = true\noutcomes = [\"x\"]\n"),
            "phase `los` cannot be reached",
        ),
    ];
    for (source, expected) in cases {
        let message = refused(&source);
        assert!(message.starts_with("workflow mini.toml"), "{message}");
        assert!(message.contains(expected), "expected `{expected}` in: {message}");
    }
}

/// A definition that does not parse is refused at `file:line:col`, like an import file
/// (regression: the column was missing, and an empty file had no place at all).
#[test]
fn a_parse_error_names_line_and_column() {
    let message = refused(&MINIMAL.replace("type = \"text\"", "type = \"tekst\""));
    assert!(message.starts_with("workflow mini.toml:13:8: unknown variant `tekst`"), "{message}");
    assert!(refused("").starts_with("workflow mini.toml:1:1: missing field `key`"), "{}", refused(""));
}

#[test]
fn a_directory_overrides_and_extends() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("mini.toml"), MINIMAL).expect("write");
    let pdca = MINIMAL.replace("key = \"mini\"", "key = \"pdca\"").replace("name = \"Mini\"", "name = \"Eigen PDCA\"");
    std::fs::write(dir.path().join("eigen-pdca.toml"), pdca).expect("write");
    let defs = load(Some(dir.path())).expect("valid directory");
    assert!(defs.iter().any(|d| d.key == "mini"));
    assert_eq!(defs.iter().find(|d| d.key == "pdca").expect("pdca").name, "Eigen PDCA");
    assert_eq!(defs.len(), 6);

    std::fs::write(dir.path().join("kapot.toml"), MINIMAL.replace("initial = true", "")).expect("write");
    let err = load(Some(dir.path())).expect_err("invalid file stops loading").to_string();
    assert!(err.contains("kapot.toml") && err.contains("no initial phase"), "{err}");
}

/// Every field key of the built-in workflows can be written inline in GraphQL, as
/// `fields: { evaluatieProces: "..." }`: a camelCase name (`-` is no part of a name).
#[test]
fn builtin_field_keys_are_camel_case_names() {
    for def in load(None).expect("built-in definitions are valid") {
        for phase in &def.phases {
            for field in &phase.fields {
                let key = &field.key;
                let name =
                    key.starts_with(|c: char| c.is_ascii_lowercase()) && key.chars().all(|c| c.is_ascii_alphanumeric());
                assert!(name, "{} phase `{}` field `{key}` is not a camelCase name", def.key, phase.key);
            }
        }
    }
    let pdca = load(None).expect("workflows").into_iter().find(|d| d.key == "pdca").expect("pdca");
    let closing: Vec<&str> =
        pdca.phase("afgesloten").expect("afgesloten").fields.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(closing, ["evaluatieProces", "evaluatieProduct"]);
}

#[test]
fn a_field_key_that_is_no_camel_case_name_is_refused_with_its_spelling() {
    for (key, expected) in [
        ("evaluatie-proces", "`evaluatie-proces` is not a field key: a field key is camelCase"),
        ("evaluatie-proces", "write `evaluatieProces`"),
        ("koersplan_doel", "write `koersplanDoel`"),
        ("Doel", "`Doel` is not a field key"),
        ("2e-doel", "`2e-doel` is not a field key"),
    ] {
        let message = refused(&MINIMAL.replace("key = \"doel\"", &format!("key = \"{key}\"")));
        assert!(message.contains(&format!("phase `plan` field `{key}`")), "{message}");
        assert!(message.contains(expected), "expected `{expected}` in: {message}");
    }
    assert!(!refused(&MINIMAL.replace("key = \"doel\"", "key = \"Doel\"")).contains("write"), "no spelling to suggest");
    // Phase keys are strings in the API (`to: "plan"`) and stay kebab-case keys.
    let kebab_phase = MINIMAL.replace("\"klaar\"", "\"helemaal-klaar\"");
    WorkflowDef::parse("mini.toml", &kebab_phase).expect("a kebab-case phase key");
}

#[test]
fn only_an_iterate_transition_copies_fields() {
    let message = refused(&MINIMAL.replace("kind = \"close\"", "kind = \"close\"\ncopy_fields = true"));
    assert!(
        message.contains("transition `plan` -> `klaar`: only an iterate transition has `copy_fields`"),
        "{message}"
    );
    for def in load(None).expect("workflows") {
        let copying: Vec<(&str, &str)> =
            def.transitions.iter().filter(|t| t.copy_fields).map(|t| (t.from.as_str(), t.to.as_str())).collect();
        let expected: &[(&str, &str)] =
            if ["pdca", "pdsa"].contains(&def.key.as_str()) { &[("act", "plan")] } else { &[] };
        assert_eq!(copying, expected, "{}", def.key);
    }
}

#[tokio::test]
async fn a_stored_definition_that_is_not_valid_is_an_error_when_a_cycle_would_run_on_it() {
    use koers_engine::store::entity::workflow_version;
    use sea_orm::{ActiveModelTrait, Set};
    let engine = koers_testing::engine(koers_testing::database().await);
    let pdca = load(None).expect("builtin").into_iter().find(|d| d.key == "pdca").expect("pdca");
    let mut broken: serde_json::Value = serde_json::from_str(&pdca.canonical_json()).expect("json");
    broken["phase"] = serde_json::json!([]);
    let row = workflow_version::ActiveModel {
        key: Set("pdca".into()),
        version: Set(7),
        hash: Set("not-the-hash".into()),
        definition: Set(broken.to_string()),
        created_at: Set(engine.clock().now()),
        ..Default::default()
    }
    .insert(engine.db())
    .await
    .expect("a row as an older release or a hand edit could have left it");
    let err = engine.workflow_version(row.id).await.expect_err("refused, not run");
    let message = err.to_string();
    assert!(message.contains(&format!("stored workflow version {} (`pdca` version 7)", row.id)), "{message}");
    assert!(message.contains("not a valid definition"), "{message}");
}

#[test]
fn pijlers_stored_as_anything_but_a_list_of_texts_are_an_error() {
    use koers_engine::store::entity::koersplan;
    let plan = |pijlers: serde_json::Value| koersplan::Model {
        id: 1,
        key: "koers".into(),
        kindcentrum_id: 1,
        title: "Koersplan".into(),
        first_school_year: "2020-2021".parse().expect("year"),
        last_school_year: "2022-2023".parse().expect("year"),
        visie: String::new(),
        pijlers,
    };
    let good = plan(serde_json::json!(["Eigenaarschap", "Samen"]));
    assert_eq!(koers_engine::org::pijlers(&good).expect("a list"), ["Eigenaarschap", "Samen"]);
    let err = koers_engine::org::pijlers(&plan(serde_json::json!({"Eigenaarschap": 1}))).expect_err("not a list");
    assert!(err.to_string().contains("stored JSON is unreadable"), "{err}");
}
