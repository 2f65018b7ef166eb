//! Field keys become camelCase: `evaluatie-proces` is now `evaluatieProces`. A team fills in
//! a phase through GraphQL as `fields: { evaluatieProces: "..." }`, where an object key is a
//! GraphQL name, and a name cannot hold a `-`: a kebab-case key could only be sent in a
//! variable. The workflow files now spell every field key in camelCase and the engine
//! refuses any other spelling; this rewrites what was stored under the old keys:
//!
//! - the definition of each stored workflow version, with the hash of its new content, so
//!   that `koers serve` registering the renamed built-in definitions finds these versions
//!   again (where nothing but the keys changed), and every cycle keeps the version it
//!   started on;
//! - the fields of the cycles that run on a renamed version and the values their events
//!   record, alike, so that the replay of the events still gives each cycle's state.
//!
//! A version is renamed as a whole or not at all: one with a key that cannot become a name
//! (one starting with a digit, say), two keys of a phase that would become one, or a new content that
//! another version of its workflow already has, keeps its keys; so do its cycles, which run
//! on as before, as they agree with it.
//!
//! Definitions are read and written in the format of the time of this migration
//! ([`Definition`]), field by field in the order the engine writes them: the hash is that of
//! the exact text. [`Plan`] is public because a restore upgrades an export written before
//! this migration with it, as this migration upgrades a database.

use std::collections::{BTreeMap, HashMap, HashSet};

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum WorkflowVersion {
    Table,
    Id,
    Key,
    Definition,
    Hash,
}

#[derive(DeriveIden, Clone, Copy)]
enum Cycle {
    Table,
    Id,
    WorkflowVersionId,
    Fields,
}

#[derive(DeriveIden, Clone, Copy)]
enum CycleEvent {
    Table,
    Id,
    CycleId,
    Kind,
    Data,
}

/// Rows read per statement while rewriting cycles and events: a database may hold millions
/// of events, which are not all held in memory at once.
const CHUNK: u64 = 1000;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rewrite(m.get_connection(), Plan::up).await
    }

    /// Spells the keys in kebab-case again: exact for every key that was kebab-case before
    /// (all keys of the built-in workflows). A version registered since, in a format this
    /// migration does not know (one with `copy_fields`), is left as it is: the release
    /// before cannot read it either way.
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        rewrite(m.get_connection(), Plan::down).await
    }

    /// The definitions, cycles and events change together or not at all, on every store.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

/// Renames the field keys of the stored versions `plan` picks, with their cycles and events.
async fn rewrite(db: &impl ConnectionTrait, plan: fn(&[StoredVersion]) -> Plan) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let select = Query::select()
        .columns([WorkflowVersion::Id, WorkflowVersion::Key, WorkflowVersion::Definition, WorkflowVersion::Hash])
        .from(WorkflowVersion::Table)
        .to_owned();
    let mut versions = Vec::new();
    for row in db.query_all_raw(backend.build(&select)).await? {
        versions.push(StoredVersion {
            id: row.try_get_by_index(0)?,
            key: row.try_get_by_index(1)?,
            definition: row.try_get_by_index(2)?,
            hash: row.try_get_by_index(3)?,
        });
    }
    let plan = plan(&versions);
    if plan.versions.is_empty() {
        return Ok(());
    }
    for (id, renamed) in &plan.versions {
        let update = Query::update()
            .table(WorkflowVersion::Table)
            .values([
                (WorkflowVersion::Definition, renamed.definition.clone().into()),
                (WorkflowVersion::Hash, renamed.hash.clone().into()),
            ])
            .and_where(Expr::col(WorkflowVersion::Id).eq(*id))
            .to_owned();
        db.execute(&update).await?;
    }
    let renamed: Vec<i64> = plan.versions.keys().copied().collect();

    let cycles = |after: i64| {
        Query::select()
            .columns([Cycle::Id, Cycle::WorkflowVersionId, Cycle::Fields])
            .from(Cycle::Table)
            .and_where(Expr::col(Cycle::WorkflowVersionId).is_in(renamed.clone()))
            .and_where(Expr::col(Cycle::Id).gt(after))
            .order_by(Cycle::Id, Order::Asc)
            .limit(CHUNK)
            .to_owned()
    };
    rewrite_chunks(db, cycles, Cycle::Table, Cycle::Id, Cycle::Fields, |version, text| plan.fields(version, text))
        .await?;

    let events = |after: i64| {
        Query::select()
            .column((CycleEvent::Table, CycleEvent::Id))
            .column((Cycle::Table, Cycle::WorkflowVersionId))
            .column((CycleEvent::Table, CycleEvent::Data))
            .from(CycleEvent::Table)
            .inner_join(
                Cycle::Table,
                Expr::col((Cycle::Table, Cycle::Id)).equals((CycleEvent::Table, CycleEvent::CycleId)),
            )
            .and_where(Expr::col((Cycle::Table, Cycle::WorkflowVersionId)).is_in(renamed.clone()))
            .and_where(Expr::col((CycleEvent::Table, CycleEvent::Kind)).is_in(EVENTS_WITH_VALUES))
            .and_where(Expr::col((CycleEvent::Table, CycleEvent::Id)).gt(after))
            .order_by((CycleEvent::Table, CycleEvent::Id), Order::Asc)
            .limit(CHUNK)
            .to_owned()
    };
    rewrite_chunks(db, events, CycleEvent::Table, CycleEvent::Id, CycleEvent::Data, |version, text| {
        plan.event(version, text)
    })
    .await
}

/// Reads the rows `select` answers (id, workflow version id, JSON text) chunk by chunk, each
/// chunk after the last id of the one before, and writes the text `respelled` makes of each.
async fn rewrite_chunks(
    db: &impl ConnectionTrait,
    select: impl Fn(i64) -> SelectStatement,
    table: impl Iden + Copy + 'static,
    id: impl Iden + Copy + 'static,
    text: impl Iden + Copy + 'static,
    respelled: impl Fn(i64, &str) -> Option<String>,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let mut after = 0;
    loop {
        let rows = db.query_all_raw(backend.build(&select(after))).await?;
        for row in &rows {
            let key: i64 = row.try_get_by_index(0)?;
            let version: i64 = row.try_get_by_index(1)?;
            let stored: String = row.try_get_by_index(2)?;
            after = key;
            let Some(new) = respelled(version, &stored) else { continue };
            let update = Query::update().table(table).value(text, new).and_where(Expr::col(id).eq(key)).to_owned();
            db.execute(&update).await?;
        }
        if (rows.len() as u64) < CHUNK {
            return Ok(());
        }
    }
}

/// The kinds of events that record field values.
const EVENTS_WITH_VALUES: [&str; 4] = ["fields_updated", "advanced", "iterated", "closed"];

/// The phase whose fields the `values` of an event of `kind` are.
fn phase_of_values(kind: &str) -> Option<&'static str> {
    match kind {
        "fields_updated" => Some("phase"),
        "advanced" | "iterated" => Some("from"),
        "closed" => Some("to"),
        _ => None,
    }
}

/// `key` in camelCase, a GraphQL name: each `-` or `_` dropped and the letter after it
/// capitalised (`evaluatie-proces` becomes `evaluatieProces`); a key that is camelCase
/// already stays as it is. None for a key that cannot become a name: one that starts with
/// anything but a lower-case letter, holds an empty part (`a--b`, `a-`) or a character
/// other than a letter or digit.
pub fn camel_case(key: &str) -> Option<String> {
    let mut parts = key.split(['-', '_']);
    let first = parts.next().filter(|first| first.starts_with(|c: char| c.is_ascii_lowercase()))?;
    let mut out = first.to_owned();
    for part in parts {
        let mut chars = part.chars();
        out.push(chars.next()?.to_ascii_uppercase());
        out.push_str(chars.as_str());
    }
    out.chars().all(|c| c.is_ascii_alphanumeric()).then_some(out)
}

/// `key` in kebab-case, as field keys were written before this migration: a `-` before each
/// capital, which becomes lower-case (`evaluatieProces` becomes `evaluatie-proces`). None
/// for a key that was not a key then (it holds a character other than a letter, digit, `-`
/// or `_`).
pub fn kebab_case(key: &str) -> Option<String> {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        match c {
            'A'..='Z' => {
                out.push('-');
                out.push(c.to_ascii_lowercase());
            }
            'a'..='z' | '0'..='9' | '-' | '_' => out.push(c),
            _ => return None,
        }
    }
    out.starts_with(|c: char| c.is_ascii_alphanumeric()).then_some(out)
}

/// A workflow definition as the engine stored it when this migration was written: the same
/// members in the same order, so that writing one gives the text the engine would write, and
/// its hash the hash the engine computes.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Definition {
    key: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default)]
    pitches: bool,
    #[serde(rename = "phase")]
    phases: Vec<Phase>,
    #[serde(rename = "transition")]
    transitions: Vec<Transition>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Phase {
    key: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default)]
    initial: bool,
    #[serde(default)]
    terminal: bool,
    #[serde(default)]
    outcomes: Vec<String>,
    #[serde(default, rename = "field")]
    fields: Vec<Field>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Field {
    key: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    options: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Transition {
    from: String,
    to: String,
    kind: String,
}

/// A row of `workflow_version`, as far as a renaming reads it.
#[derive(Clone, Debug)]
pub struct StoredVersion {
    pub id: i64,
    /// The workflow's key.
    pub key: String,
    pub definition: String,
    pub hash: String,
}

/// The renaming of a set of stored workflow versions, and what it makes of the fields of
/// their cycles and of the events of those.
#[derive(Debug, Default)]
pub struct Plan {
    versions: HashMap<i64, Renamed>,
}

/// One version, renamed.
#[derive(Debug)]
struct Renamed {
    definition: String,
    hash: String,
    /// Per phase, the keys that change: old key -> new key.
    keys: HashMap<String, HashMap<String, String>>,
}

impl Plan {
    /// Field keys to camelCase.
    pub fn up(versions: &[StoredVersion]) -> Plan {
        Plan::new(versions, camel_case)
    }

    /// Field keys back to kebab-case.
    pub fn down(versions: &[StoredVersion]) -> Plan {
        Plan::new(versions, kebab_case)
    }

    /// Respells the field keys of each version with `respell`, leaving alone a version with
    /// nothing to respell, one `respell` cannot do entirely (see the module), one whose
    /// definition is not in the format of this migration, and one whose new content another
    /// version of the same workflow has (the store holds each content once per workflow).
    fn new(versions: &[StoredVersion], respell: fn(&str) -> Option<String>) -> Plan {
        let mut taken: HashSet<(&str, String)> = versions.iter().map(|v| (v.key.as_str(), v.hash.clone())).collect();
        let mut plan = Plan::default();
        for version in versions {
            let Ok(mut def) = serde_json::from_str::<Definition>(&version.definition) else { continue };
            let Some(keys) = respell_fields(&mut def, respell) else { continue };
            if keys.is_empty() || def.key != version.key {
                continue;
            }
            let Ok(definition) = serde_json::to_string(&def) else { continue };
            let hash = hex::encode(Sha256::digest(definition.as_bytes()));
            if !taken.insert((version.key.as_str(), hash.clone())) {
                continue;
            }
            plan.versions.insert(version.id, Renamed { definition, hash, keys });
        }
        plan
    }

    /// The new definition and hash of `version`, if it is renamed.
    pub fn definition(&self, version: i64) -> Option<(&str, &str)> {
        self.versions.get(&version).map(|r| (r.definition.as_str(), r.hash.as_str()))
    }

    /// The fields of a cycle on `version` (iteration -> phase -> field -> value) with the
    /// keys renamed; None when nothing changes.
    pub fn fields(&self, version: i64, text: &str) -> Option<String> {
        let renamed = self.versions.get(&version)?;
        // The engine's own type for them, so the text comes out as the engine writes it.
        let mut fields: BTreeMap<i32, BTreeMap<String, BTreeMap<String, Value>>> = serde_json::from_str(text).ok()?;
        let mut changed = false;
        for phases in fields.values_mut() {
            for (phase, values) in phases.iter_mut() {
                if let Some(keys) = renamed.keys.get(phase) {
                    changed |= respell_values(values, keys);
                }
            }
        }
        changed.then(|| serde_json::to_string(&fields).ok()).flatten()
    }

    /// The data of an event of a cycle on `version`, with the keys of the values it records
    /// renamed; None when nothing changes.
    pub fn event(&self, version: i64, text: &str) -> Option<String> {
        let renamed = self.versions.get(&version)?;
        let mut event: serde_json::Map<String, Value> = serde_json::from_str(text).ok()?;
        let member = phase_of_values(event.get("kind")?.as_str()?)?;
        let keys = renamed.keys.get(event.get(member)?.as_str()?)?;
        let Some(Value::Object(values)) = event.get_mut("values") else { return None };
        let mut sorted: BTreeMap<String, Value> = std::mem::take(values).into_iter().collect();
        let changed = respell_values(&mut sorted, keys);
        *values = sorted.into_iter().collect();
        changed.then(|| serde_json::to_string(&event).ok()).flatten()
    }
}

/// Respells the field keys of `def`: per phase, the keys that changed; None when a key
/// cannot be respelled or two keys of a phase would become one.
fn respell_fields(
    def: &mut Definition,
    respell: fn(&str) -> Option<String>,
) -> Option<HashMap<String, HashMap<String, String>>> {
    let mut keys = HashMap::new();
    for phase in &mut def.phases {
        let mut seen = HashSet::new();
        let mut changed = HashMap::new();
        for field in &mut phase.fields {
            let new = respell(&field.key)?;
            if !seen.insert(new.clone()) {
                return None;
            }
            if new != field.key {
                changed.insert(std::mem::replace(&mut field.key, new.clone()), new);
            }
        }
        if !changed.is_empty() {
            keys.insert(phase.key.clone(), changed);
        }
    }
    Some(keys)
}

/// Renames the keys of `values` that `keys` names; whether any was there.
fn respell_values(values: &mut BTreeMap<String, Value>, keys: &HashMap<String, String>) -> bool {
    let mut changed = false;
    for (old, new) in keys {
        if let Some(value) = values.remove(old) {
            values.insert(new.clone(), value);
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A definition as the engine stored it before: kebab-case keys, members in its order.
    fn old_definition() -> String {
        json_text(&json!({
            "key": "pdca",
            "name": "PDCA-cyclus",
            "pitches": false,
            "phase": [
                { "key": "plan", "name": "Plan", "initial": true, "terminal": false, "outcomes": [], "field": [
                    { "key": "doelen", "name": "Doelen", "type": "list", "required": true, "options": [] },
                    { "key": "koersplan-doel", "name": "Koersplan-doel", "type": "doel", "required": false, "options": [] },
                ] },
                { "key": "afgesloten", "name": "Afgesloten", "initial": false, "terminal": true, "outcomes": ["borgen"], "field": [
                    { "key": "evaluatie-proces", "name": "Proces", "description": "Hoe?", "type": "text", "required": true, "options": [] },
                ] },
            ],
            "transition": [{ "from": "plan", "to": "afgesloten", "kind": "close" }],
        }))
    }

    /// `json` as text with its members in the order written above (serde_json's own maps
    /// sort them): the order the engine writes a definition in.
    fn json_text(json: &Value) -> String {
        let def: Definition = serde_json::from_value(json.clone()).expect("a definition");
        serde_json::to_string(&def).expect("text")
    }

    fn versions(definition: String) -> Vec<StoredVersion> {
        let hash = hex::encode(Sha256::digest(definition.as_bytes()));
        vec![StoredVersion { id: 7, key: "pdca".to_owned(), definition, hash }]
    }

    #[test]
    fn keys_become_camel_case_and_back() {
        for (old, new) in [
            ("evaluatie-proces", "evaluatieProces"),
            ("leerlingen-met-extra-aandacht", "leerlingenMetExtraAandacht"),
            ("koersplan_doel", "koersplanDoel"),
            ("doelen", "doelen"),
            ("ronde-2", "ronde2"),
        ] {
            assert_eq!(camel_case(old).as_deref(), Some(new), "{old}");
        }
        for key in ["2e-ronde", "a--b", "a-", "-a", "a.b", ""] {
            assert_eq!(camel_case(key), None, "{key}");
        }
        for key in ["evaluatie-proces", "leerlingen-met-extra-aandacht", "doelen", "individuele-doelen"] {
            let camel = camel_case(key).expect("camel");
            assert_eq!(kebab_case(&camel).as_deref(), Some(key));
        }
        assert_eq!(kebab_case("a.b"), None);
    }

    #[test]
    fn a_definition_is_renamed_with_the_hash_of_its_text() {
        let plan = Plan::up(&versions(old_definition()));
        let (definition, hash) = plan.definition(7).expect("renamed");
        assert_eq!(hash, hex::encode(Sha256::digest(definition.as_bytes())));
        let expected = old_definition()
            .replace("koersplan-doel\"", "koersplanDoel\"")
            .replace("evaluatie-proces", "evaluatieProces");
        assert_eq!(definition, expected, "only the field keys change, and the order stays");
        assert!(definition.contains(r#""name":"Koersplan-doel""#), "names stay");

        let back = Plan::down(&versions(definition.to_owned()));
        assert_eq!(back.definition(7).map(|(d, _)| d.to_owned()), Some(old_definition()));
    }

    #[test]
    fn fields_and_events_follow_their_phase() {
        let plan = Plan::up(&versions(old_definition()));
        let fields = r#"{"1":{"plan":{"doelen":["a"],"koersplan-doel":3}},"2":{"afgesloten":{"evaluatie-proces":"Goed"},"plan":{"koersplan-doel":3}},"10":{"plan":{"doelen":["b"]}}}"#;
        let renamed = plan.fields(7, fields).expect("changed");
        assert_eq!(
            renamed,
            r#"{"1":{"plan":{"doelen":["a"],"koersplanDoel":3}},"2":{"afgesloten":{"evaluatieProces":"Goed"},"plan":{"koersplanDoel":3}},"10":{"plan":{"doelen":["b"]}}}"#,
            "iterations stay in numeric order, as the engine writes them"
        );
        assert_eq!(plan.fields(7, &renamed), None, "renamed once");
        assert_eq!(plan.fields(8, fields), None, "another version");

        let advanced = r#"{"kind":"advanced","from":"plan","to":"do","values":{"koersplan-doel":3}}"#;
        let event: Value = serde_json::from_str(&plan.event(7, advanced).expect("changed")).expect("json");
        assert_eq!(event, json!({ "kind": "advanced", "from": "plan", "to": "do", "values": { "koersplanDoel": 3 } }));
        let closed = r#"{"kind":"closed","from":"act","to":"afgesloten","outcome":"borgen","values":{"evaluatie-proces":"Goed"}}"#;
        let event: Value = serde_json::from_str(&plan.event(7, closed).expect("changed")).expect("json");
        assert_eq!(event["values"], json!({ "evaluatieProces": "Goed" }));
        // A phase of the same name elsewhere, or a started event's due dates, keep their keys.
        let started =
            r#"{"kind":"started","phase":"plan","due_dates":{"plan":"2026-10-01"},"values":{"koersplan-doel":3}}"#;
        assert_eq!(plan.event(7, started), None);
        let other_phase = r#"{"kind":"fields_updated","phase":"do","values":{"koersplan-doel":3}}"#;
        assert_eq!(plan.event(7, other_phase), None);
    }

    #[test]
    fn a_version_that_cannot_be_renamed_entirely_keeps_its_keys() {
        let digit = old_definition().replace("koersplan-doel\"", "2e-doel\"");
        assert!(Plan::up(&versions(digit)).definition(7).is_none());
        let twice = old_definition().replace("\"doelen\"", "\"koersplan_doel\"");
        assert!(Plan::up(&versions(twice)).definition(7).is_none(), "two keys would become one");
        let unknown = old_definition().replace("\"pitches\":false", "\"pitches\":false,\"later\":1");
        assert!(Plan::up(&versions(unknown)).definition(7).is_none(), "not in the format of its time");
        let camel = Plan::up(&versions(old_definition())).definition(7).expect("renamed").0.to_owned();
        assert!(Plan::up(&versions(camel.clone())).definition(7).is_none(), "nothing to rename");

        // A version whose renamed content another version of the workflow already has.
        let mut both = versions(old_definition());
        both.extend(versions(camel).into_iter().map(|version| StoredVersion { id: 8, ..version }));
        let plan = Plan::up(&both);
        assert!(plan.definition(7).is_none() && plan.definition(8).is_none());
    }
}
