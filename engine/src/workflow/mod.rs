//! Workflow definitions: the phases, transitions and fields of a kind of cycle, read from
//! TOML (format: `workflows/README.md`) and checked before anything runs on them.
//!
//! The definitions in `workflows/*.toml` are compiled into the binary; a directory given
//! with `--workflows` overrides them by key or adds to them. Each definition is stored with
//! the hash of its content, so a cycle keeps running on the version it started with however
//! the files change later.

pub mod registry;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::Key;
use crate::error::DefinitionError;

/// The definitions shipped with koers.
pub const BUILTIN: [(&str, &str); 5] = [
    ("pdca.toml", include_str!("../../../workflows/pdca.toml")),
    ("pdsa.toml", include_str!("../../../workflows/pdsa.toml")),
    ("vierxd.toml", include_str!("../../../workflows/vierxd.toml")),
    ("pedagogische-kwaliteitscyclus.toml", include_str!("../../../workflows/pedagogische-kwaliteitscyclus.toml")),
    ("hgw-groepsbespreking.toml", include_str!("../../../workflows/hgw-groepsbespreking.toml")),
];

/// A kind of cycle: its phases and the transitions between them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkflowDef {
    pub key: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether professionals attach pitches to the cycle (4xD on the E&P-dagen).
    #[serde(default)]
    pub pitches: bool,
    #[serde(rename = "phase")]
    pub phases: Vec<PhaseDef>,
    #[serde(rename = "transition")]
    pub transitions: Vec<TransitionDef>,
}

/// One phase of a workflow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseDef {
    pub key: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The phase a new cycle starts in; exactly one per workflow.
    #[serde(default)]
    pub initial: bool,
    /// A phase that ends the cycle, with one of its `outcomes`.
    #[serde(default)]
    pub terminal: bool,
    #[serde(default)]
    pub outcomes: Vec<String>,
    #[serde(default, rename = "field")]
    pub fields: Vec<FieldDef>,
}

/// A field a team fills in during a phase.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub key: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub required: bool,
    /// The choices of a `choice` field.
    #[serde(default)]
    pub options: Vec<String>,
}

/// What a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldType {
    /// Free text.
    Text,
    /// A number.
    Number,
    /// A date, `2026-01-31`.
    Date,
    /// One of the field's `options`.
    Choice,
    /// A list of texts.
    List,
    /// The id of a doel.
    Doel,
    /// The id of an indicator.
    Indicator,
}

/// A declared move from one phase to another.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionDef {
    pub from: String,
    pub to: String,
    pub kind: TransitionKind,
    /// For an `iterate` transition: the phase it goes to starts the new iteration with a
    /// copy of the values it had in the iteration being left, to adjust rather than to
    /// write again (PDCA: the plan of the next round is the last one, bijgesteld). Left out
    /// of the stored definition when false, so that a definition without it keeps its hash.
    #[serde(default, skip_serializing_if = "is_false")]
    pub copy_fields: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// How a transition moves a cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransitionKind {
    /// To the next phase of the same iteration.
    Advance,
    /// Back to an earlier phase, starting the next iteration.
    Iterate,
    /// Into a terminal phase, with an outcome.
    Close,
    /// Out of a terminal phase, back into the cycle.
    Reopen,
}

impl WorkflowDef {
    pub fn phase(&self, key: &str) -> Option<&PhaseDef> {
        self.phases.iter().find(|p| p.key == key)
    }

    pub fn initial(&self) -> &PhaseDef {
        // `validate` guarantees exactly one.
        self.phases.iter().find(|p| p.initial).unwrap_or(&self.phases[0])
    }

    /// The transitions that leave `phase`.
    pub fn transitions_from<'a>(&'a self, phase: &'a str) -> impl Iterator<Item = &'a TransitionDef> + 'a {
        self.transitions.iter().filter(move |t| t.from == phase)
    }

    pub fn transition(&self, from: &str, to: &str) -> Option<&TransitionDef> {
        self.transitions.iter().find(|t| t.from == from && t.to == to)
    }

    /// Where `phase` comes in the definition, for listing phases in the order a cycle goes
    /// through them rather than by name; a phase the definition lacks comes after all.
    pub fn phase_rank(&self, phase: &str) -> usize {
        self.phases.iter().position(|p| p.key == phase).unwrap_or(self.phases.len())
    }

    /// The content hash that identifies this version of the definition.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_json().as_bytes()))
    }

    /// The definition as stored: JSON with a fixed field order.
    pub fn canonical_json(&self) -> String {
        // A definition is structs, lists, texts, numbers and flags, with no map whose keys
        // are not text: serde_json cannot fail on it, and an empty text in its place would
        // give every definition the same hash.
        serde_json::to_string(self).expect("a workflow definition serializes to JSON")
    }

    /// Parses and checks one TOML definition; `file` names it in errors.
    pub fn parse(file: &str, source: &str) -> Result<WorkflowDef, DefinitionError> {
        let def: WorkflowDef = toml::from_str(source).map_err(|e| {
            // Without a span (the whole document is wrong, say) the place is its start.
            let (line, column) = crate::error::position(source, e.span().map_or(0, |s| s.start));
            DefinitionError { file: format!("{file}:{line}:{column}"), message: e.message().trim_end().to_owned() }
        })?;
        def.validate().map_err(|message| DefinitionError { file: file.to_owned(), message })?;
        Ok(def)
    }

    /// Checks the rules every definition must keep; the message names the offending key.
    pub fn validate(&self) -> Result<(), String> {
        self.key.parse::<Key>().map_err(|e| format!("key: {e}"))?;
        let mut phases = BTreeSet::new();
        for phase in &self.phases {
            phase.key.parse::<Key>().map_err(|e| format!("phase `{}`: {e}", phase.key))?;
            if !phases.insert(phase.key.as_str()) {
                return Err(format!("phase `{}` is defined twice", phase.key));
            }
            if phase.initial && phase.terminal {
                return Err(format!("phase `{}` cannot be both initial and terminal", phase.key));
            }
            if phase.terminal && phase.outcomes.is_empty() {
                return Err(format!("terminal phase `{}` needs at least one outcome", phase.key));
            }
            if !phase.terminal && !phase.outcomes.is_empty() {
                return Err(format!("phase `{}` has outcomes but is not terminal", phase.key));
            }
            let mut fields = BTreeSet::new();
            for field in &phase.fields {
                let at = format!("phase `{}` field `{}`", phase.key, field.key);
                check_field_key(&field.key).map_err(|e| format!("{at}: {e}"))?;
                if !fields.insert(field.key.as_str()) {
                    return Err(format!("{at} is defined twice"));
                }
                match (field.kind, field.options.is_empty()) {
                    (FieldType::Choice, true) => return Err(format!("{at}: a choice needs `options`")),
                    (FieldType::Choice, false) => {}
                    (_, false) => return Err(format!("{at}: only a choice has `options`")),
                    (_, true) => {}
                }
            }
        }
        match self.phases.iter().filter(|p| p.initial).count() {
            1 => {}
            0 => return Err("no initial phase: mark exactly one phase `initial = true`".to_owned()),
            n => return Err(format!("{n} initial phases: mark exactly one phase `initial = true`")),
        }
        if !self.phases.iter().any(|p| p.terminal) {
            return Err("no terminal phase: mark at least one phase `terminal = true`".to_owned());
        }
        let mut declared = BTreeSet::new();
        for t in &self.transitions {
            let at = format!("transition `{}` -> `{}`", t.from, t.to);
            let (Some(from), Some(to)) = (self.phase(&t.from), self.phase(&t.to)) else {
                let unknown = if self.phase(&t.from).is_none() { &t.from } else { &t.to };
                return Err(format!("{at}: unknown phase `{unknown}`"));
            };
            if !declared.insert((t.from.as_str(), t.to.as_str())) {
                return Err(format!("{at} is declared twice"));
            }
            if t.copy_fields && t.kind != TransitionKind::Iterate {
                return Err(format!(
                    "{at}: only an iterate transition has `copy_fields`: it copies values into the next iteration"
                ));
            }
            let fits = match t.kind {
                TransitionKind::Advance | TransitionKind::Iterate => !from.terminal && !to.terminal,
                TransitionKind::Close => !from.terminal && to.terminal,
                TransitionKind::Reopen => from.terminal && !to.terminal,
            };
            if !fits {
                return Err(format!(
                    "{at}: a {:?} transition goes {}",
                    t.kind,
                    match t.kind {
                        TransitionKind::Advance | TransitionKind::Iterate => "between phases that are not terminal",
                        TransitionKind::Close => "from a phase that is not terminal into a terminal one",
                        TransitionKind::Reopen => "from a terminal phase into one that is not",
                    }
                ));
            }
        }
        // Every phase is reachable from the initial one, and none but the terminal ones is
        // a dead end.
        let mut reached = BTreeSet::from([self.initial().key.as_str()]);
        let mut queue = VecDeque::from([self.initial().key.as_str()]);
        while let Some(phase) = queue.pop_front() {
            for t in self.transitions_from(phase) {
                if reached.insert(t.to.as_str()) {
                    queue.push_back(t.to.as_str());
                }
            }
        }
        if let Some(lost) = self.phases.iter().find(|p| !reached.contains(p.key.as_str())) {
            return Err(format!("phase `{}` cannot be reached from the initial phase", lost.key));
        }
        if let Some(stuck) = self.phases.iter().find(|p| !p.terminal && self.transitions_from(&p.key).next().is_none())
        {
            return Err(format!("phase `{}` has no way out: declare a transition from it", stuck.key));
        }
        Ok(())
    }
}

/// The longest field key.
const FIELD_KEY_MAX: usize = 64;

/// Refuses a field key that is not camelCase: letters and digits, starting with a
/// lower-case letter. A client fills in a phase as `fields: { evaluatieProces: "..." }`, and
/// a key there is a GraphQL name, which holds no `-`: a kebab-case key could only be sent
/// in a variable. Phase and workflow keys stay kebab-case keys: the API only ever takes them
/// as strings (`to: "plan"`, `workflow: "pdca"`).
///
/// The suggested spelling is the one the migration gave the keys stored before this rule,
/// so that a definition renamed as suggested is the same content as its migrated versions.
fn check_field_key(key: &str) -> Result<(), String> {
    let starts_well = key.starts_with(|c: char| c.is_ascii_lowercase());
    if starts_well && key.len() <= FIELD_KEY_MAX && key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Ok(());
    }
    let rule = format!(
        "a field key is camelCase, up to {FIELD_KEY_MAX} letters and digits starting with a lower-case letter, so that \
         GraphQL can name it in `fields: {{ ... }}`"
    );
    Err(match koers_migrations::field_keys::camel_case(key).filter(|k| k.len() <= FIELD_KEY_MAX) {
        Some(camel) => format!("`{key}` is not a field key: {rule}; write `{camel}`"),
        None => format!("`{key}` is not a field key: {rule}"),
    })
}

/// The built-in definitions, overridden and extended by the `*.toml` files of `dir`.
pub fn load(dir: Option<&Path>) -> Result<Vec<WorkflowDef>, DefinitionError> {
    // Per key: the definition and the file of `dir` it came from, if any.
    let mut defs: BTreeMap<String, (WorkflowDef, Option<String>)> = BTreeMap::new();
    for (file, source) in BUILTIN {
        let def = WorkflowDef::parse(file, source)?;
        defs.insert(def.key.clone(), (def, None));
    }
    let Some(dir) = dir else { return Ok(defs.into_values().map(|(def, _)| def).collect()) };
    let error = |file: &str, message: String| DefinitionError { file: file.to_owned(), message };
    let entries = std::fs::read_dir(dir)
        .map_err(|e| error(&dir.display().to_string(), format!("cannot read the directory: {e}")))?;
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for path in files {
        let file = path.display().to_string();
        let source = std::fs::read_to_string(&path).map_err(|e| error(&file, format!("cannot read: {e}")))?;
        let def = WorkflowDef::parse(&file, &source)?;
        if let Some((_, Some(other))) = defs.get(&def.key) {
            return Err(error(&file, format!("key `{}` is also defined in {other}", def.key)));
        }
        defs.insert(def.key.clone(), (def, Some(file)));
    }
    Ok(defs.into_values().map(|(def, _)| def).collect())
}
