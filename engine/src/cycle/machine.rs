//! The cycle state machine, free of storage: `decide` turns a command into an event or
//! refuses it, `apply` folds an event into the state. The store writes exactly what
//! `apply` computes, and replaying the stored events through `apply` gives the stored
//! state again.
//!
//! | command       | allowed when                                     | event        |
//! |---------------|--------------------------------------------------|--------------|
//! | update fields | open; fields belong to the current phase         | FieldsUpdated|
//! | advance to P  | open; `advance` declared; required fields filled | Advanced     |
//! | advance to P  | open; `iterate` declared; required fields filled | Iterated (1) |
//! | close with O  | open; `close` into a terminal allowing O; filled | Closed       |
//! | reopen to P   | closed; `reopen` declared                        | Reopened     |
//! | add pitch     | open; the workflow has pitches                   | PitchAdded   |
//!
//! (1) Where the `iterate` transition has `copy_fields`, the event also records the values
//! of P in the iteration it leaves, and the new iteration starts P with them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::CycleEventKind;
use crate::workflow::{FieldDef, FieldType, TransitionDef, TransitionKind, WorkflowDef};

/// Field values of one phase: field key -> value.
pub type Values = BTreeMap<String, Value>;
/// All field values of a cycle: iteration -> phase -> values.
pub type Fields = BTreeMap<i32, BTreeMap<String, Values>>;

/// Whether a cycle is running or closed; defined in `domain`, because the `cycle` table
/// stores it.
pub use crate::domain::CycleStatus as Status;

/// What a cycle is now.
#[derive(Clone, Debug, PartialEq)]
pub struct CycleState {
    pub phase: String,
    pub iteration: i32,
    pub status: Status,
    pub outcome: Option<String>,
    pub fields: Fields,
    /// The number of events so far.
    pub version: i64,
}

/// Something that happened to a cycle. Stored as JSON in the event log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Started {
        workflow: String,
        workflow_version: i32,
        title: String,
        phase: String,
        team_id: Option<i64>,
        professional_id: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        groep_id: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kindcentrum_id: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        occurrence_id: Option<i64>,
        doelen: Vec<i64>,
        due_dates: BTreeMap<String, NaiveDate>,
    },
    FieldsUpdated {
        phase: String,
        values: Values,
    },
    Advanced {
        from: String,
        to: String,
        values: Values,
    },
    Iterated {
        from: String,
        to: String,
        values: Values,
        /// The values `to` held in the iteration left, with which it starts the new one: a
        /// transition with `copy_fields` copies them. Recorded, so that the replay of the
        /// events gives the state without the definition; absent from the events of a
        /// transition without it.
        #[serde(default, skip_serializing_if = "Values::is_empty")]
        copied: Values,
    },
    Closed {
        from: String,
        to: String,
        outcome: String,
        values: Values,
    },
    Reopened {
        from: String,
        to: String,
        reason: Option<String>,
    },
    PitchAdded {
        professional_id: i64,
        date: NaiveDate,
        did: String,
        yielded: String,
    },
}

impl Event {
    /// What the `kind` column stores: the event's `kind` in its JSON.
    pub fn kind(&self) -> CycleEventKind {
        match self {
            Event::Started { .. } => CycleEventKind::Started,
            Event::FieldsUpdated { .. } => CycleEventKind::FieldsUpdated,
            Event::Advanced { .. } => CycleEventKind::Advanced,
            Event::Iterated { .. } => CycleEventKind::Iterated,
            Event::Closed { .. } => CycleEventKind::Closed,
            Event::Reopened { .. } => CycleEventKind::Reopened,
            Event::PitchAdded { .. } => CycleEventKind::PitchAdded,
        }
    }

    /// The command the state machine decides into this event; none for `Started`, which
    /// no command of a cycle makes.
    pub fn command(&self) -> Option<Command> {
        Some(match self.clone() {
            Event::Started { .. } => return None,
            Event::FieldsUpdated { values, .. } => Command::UpdateFields { values },
            Event::Advanced { to, values, .. } | Event::Iterated { to, values, .. } => Command::Advance { to, values },
            Event::Closed { outcome, values, .. } => Command::Close { outcome, values },
            Event::Reopened { to, reason, .. } => Command::Reopen { to, reason },
            Event::PitchAdded { professional_id, date, did, yielded } => {
                Command::AddPitch { professional_id, date, did, yielded }
            }
        })
    }

    /// The phases the event moved between, if it moved.
    pub fn phases(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Event::Started { phase, .. } => (None, Some(phase)),
            Event::Advanced { from, to, .. }
            | Event::Iterated { from, to, .. }
            | Event::Closed { from, to, .. }
            | Event::Reopened { from, to, .. } => (Some(from), Some(to)),
            Event::FieldsUpdated { .. } | Event::PitchAdded { .. } => (None, None),
        }
    }
}

/// What a caller asks of a cycle.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    UpdateFields { values: Values },
    Advance { to: String, values: Values },
    Close { outcome: String, values: Values },
    Reopen { to: String, reason: Option<String> },
    AddPitch { professional_id: i64, date: NaiveDate, did: String, yielded: String },
}

/// Why a command was refused.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Transition(String),
    #[error("phase `{phase}` cannot be left while these required fields are empty: {}", missing.join(", "))]
    Guard { phase: String, missing: Vec<String> },
}

impl CycleState {
    /// The state right after `Started`.
    pub fn started(phase: &str) -> CycleState {
        CycleState {
            phase: phase.to_owned(),
            iteration: 1,
            status: Status::Open,
            outcome: None,
            fields: Fields::new(),
            version: 1,
        }
    }

    /// The values filled in for `phase` in the current iteration.
    pub fn values(&self, phase: &str) -> Option<&Values> {
        self.fields.get(&self.iteration).and_then(|phases| phases.get(phase))
    }

    /// Replays a history: the first event must be `Started`.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Option<CycleState> {
        let mut events = events.into_iter();
        let Some(Event::Started { phase, .. }) = events.next() else { return None };
        let mut state = CycleState::started(phase);
        for event in events {
            state.apply(event);
        }
        Some(state)
    }

    /// Replays a history the way the state machine writes one, for a cycle of `def`: the
    /// first event starts the cycle in the initial phase and every later one is exactly
    /// what [`CycleState::decide`] makes of the command it records, in the state the events
    /// before it lead to. Answers the state after each event, or the position of the first
    /// event (from 0) that does not follow, with the reason. [`CycleState::replay`] trusts
    /// the history; this is for a history that comes from outside, such as an export.
    pub fn replay_decided<'a>(
        def: &WorkflowDef,
        events: impl IntoIterator<Item = &'a Event>,
    ) -> Result<Vec<CycleState>, (usize, String)> {
        let mut states: Vec<CycleState> = Vec::new();
        for (index, event) in events.into_iter().enumerate() {
            let next = match (states.last(), event) {
                (None, Event::Started { phase, .. }) => {
                    let initial = &def.initial().key;
                    if phase != initial {
                        return Err((index, format!("starts in phase `{phase}`; `{}` starts in `{initial}`", def.key)));
                    }
                    CycleState::started(phase)
                }
                (None, _) => return Err((index, format!("a history begins with `started`, not `{}`", event.kind()))),
                (Some(state), _) => {
                    let Some(command) = event.command() else {
                        return Err((index, "a cycle is started once, by its first event".to_owned()));
                    };
                    let decided = state
                        .decide(def, command)
                        .map_err(|refusal| (index, format!("`{}` is not allowed here: {refusal}", event.kind())))?;
                    if decided != *event {
                        return Err((
                            index,
                            format!(
                                "`{}` is not what `{}` records for this step, which is {}",
                                event.kind(),
                                def.key,
                                serde_json::to_string(&decided).unwrap_or_default()
                            ),
                        ));
                    }
                    let mut next = state.clone();
                    next.apply(event);
                    next
                }
            };
            states.push(next);
        }
        if states.is_empty() {
            return Err((0, "a cycle has at least the event that started it".to_owned()));
        }
        Ok(states)
    }

    /// Folds one event into the state.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Started { phase, .. } => *self = CycleState::started(phase),
            Event::FieldsUpdated { phase, values } => self.merge(phase, values),
            Event::Advanced { from, to, values } => {
                self.merge(from, values);
                self.phase.clone_from(to);
            }
            Event::Iterated { from, to, values, copied } => {
                self.merge(from, values);
                self.iteration += 1;
                self.phase.clone_from(to);
                self.merge(to, copied);
            }
            Event::Closed { to, outcome, values, .. } => {
                self.merge(to, values);
                self.phase.clone_from(to);
                self.status = Status::Closed;
                self.outcome = Some(outcome.clone());
            }
            Event::Reopened { to, .. } => {
                self.phase.clone_from(to);
                self.status = Status::Open;
                self.outcome = None;
            }
            Event::PitchAdded { .. } => {}
        }
        if !matches!(event, Event::Started { .. }) {
            self.version += 1;
        }
    }

    /// Sets values of `phase` in the current iteration; `null` clears a field.
    fn merge(&mut self, phase: &str, values: &Values) {
        if values.is_empty() {
            return;
        }
        let phases = self.fields.entry(self.iteration).or_default();
        let current = phases.entry(phase.to_owned()).or_default();
        for (key, value) in values {
            if value.is_null() {
                current.remove(key);
            } else {
                current.insert(key.clone(), value.clone());
            }
        }
        if current.is_empty() {
            phases.remove(phase);
        }
        if phases.is_empty() {
            self.fields.remove(&self.iteration);
        }
    }

    /// Decides what a command does to this state, or why it is refused.
    pub fn decide(&self, def: &WorkflowDef, command: Command) -> Result<Event, Refusal> {
        let open = |what: &str| {
            if self.status == Status::Closed {
                return Err(Refusal::Transition(format!("the cycle is closed; reopen it before you {what}")));
            }
            Ok(())
        };
        match command {
            Command::UpdateFields { values } => {
                open("change its fields")?;
                let values = check_values(def, &self.phase, values)?;
                Ok(Event::FieldsUpdated { phase: self.phase.clone(), values })
            }
            Command::Advance { to, values } => {
                open("advance it")?;
                let Some(transition) = def.transition(&self.phase, &to) else {
                    return Err(self.undeclared(def, &to));
                };
                let kind = transition.kind;
                if kind == TransitionKind::Close {
                    return Err(Refusal::Transition(format!(
                        "`{}` -> `{to}` closes the cycle: close it with an outcome instead",
                        self.phase
                    )));
                }
                let values = check_values(def, &self.phase, values)?;
                self.guard(def, &self.phase, self.with(&self.phase, &values))?;
                let from = self.phase.clone();
                Ok(match kind {
                    TransitionKind::Iterate => {
                        let copied = if transition.copy_fields {
                            // `to` as this iteration leaves it: with `values` set, should
                            // it be the phase being left.
                            let mut left = self.clone();
                            left.merge(&from, &values);
                            left.values(&to).cloned().unwrap_or_default()
                        } else {
                            Values::new()
                        };
                        Event::Iterated { from, to, values, copied }
                    }
                    _ => Event::Advanced { from, to, values },
                })
            }
            Command::Close { outcome, values } => {
                open("close it")?;
                let closing: Vec<_> = def
                    .transitions_from(&self.phase)
                    .filter(|t| t.kind == TransitionKind::Close)
                    .filter_map(|t| def.phase(&t.to))
                    .collect();
                if closing.is_empty() {
                    return Err(Refusal::Transition(format!("a cycle cannot be closed from phase `{}`", self.phase)));
                }
                let Some(terminal) = closing.iter().find(|p| p.outcomes.contains(&outcome)) else {
                    let allowed: Vec<_> = closing.iter().flat_map(|p| p.outcomes.iter().map(String::as_str)).collect();
                    return Err(Refusal::Invalid(format!("outcome `{outcome}` is not one of: {}", allowed.join(", "))));
                };
                self.guard(def, &self.phase, self.values(&self.phase).cloned().unwrap_or_default())?;
                let values = check_values(def, &terminal.key, values)?;
                self.guard(def, &terminal.key, values.clone())?;
                Ok(Event::Closed { from: self.phase.clone(), to: terminal.key.clone(), outcome, values })
            }
            Command::Reopen { to, reason } => {
                if self.status == Status::Open {
                    return Err(Refusal::Transition("the cycle is open; only a closed cycle can be reopened".into()));
                }
                match def.transition(&self.phase, &to) {
                    Some(t) if t.kind == TransitionKind::Reopen => {}
                    _ => return Err(self.undeclared(def, &to)),
                }
                let reason = reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty());
                Ok(Event::Reopened { from: self.phase.clone(), to, reason })
            }
            Command::AddPitch { professional_id, date, did, yielded } => {
                open("add a pitch")?;
                if !def.pitches {
                    return Err(Refusal::Invalid(format!("workflow `{}` has no pitches", def.key)));
                }
                let (did, yielded) = (did.trim().to_owned(), yielded.trim().to_owned());
                if did.is_empty() || yielded.is_empty() {
                    return Err(Refusal::Invalid(
                        "a pitch says what was done (`did`) and what it yielded (`yielded`)".into(),
                    ));
                }
                Ok(Event::PitchAdded { professional_id, date, did, yielded })
            }
        }
    }

    /// The values of `phase` with `update` merged in, as the guard sees them.
    fn with(&self, phase: &str, update: &Values) -> Values {
        let mut merged = self.values(phase).cloned().unwrap_or_default();
        for (key, value) in update {
            merged.insert(key.clone(), value.clone());
        }
        merged
    }

    /// Refuses to leave (or, for a terminal phase, to enter) `phase` with required fields
    /// empty.
    fn guard(&self, def: &WorkflowDef, phase: &str, values: Values) -> Result<(), Refusal> {
        let Some(phase_def) = def.phase(phase) else { return Ok(()) };
        let missing: Vec<String> = phase_def
            .fields
            .iter()
            .filter(|f| f.required && values.get(&f.key).is_none_or(is_empty))
            .map(|f| f.key.clone())
            .collect();
        if missing.is_empty() { Ok(()) } else { Err(Refusal::Guard { phase: phase.to_owned(), missing }) }
    }

    fn undeclared(&self, def: &WorkflowDef, to: &str) -> Refusal {
        let allowed: Vec<String> =
            allowed_transitions(def, self).into_iter().map(|(to, _)| format!("`{to}`")).collect();
        let known =
            if def.phase(to).is_some() { String::new() } else { format!(" (`{to}` is not a phase of `{}`)", def.key) };
        Refusal::Transition(format!(
            "no transition from `{}` to `{to}`{known}; allowed: {}",
            self.phase,
            if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") }
        ))
    }
}

/// The transitions a cycle in `state` may take now: advance, iterate and close while open,
/// reopen once closed.
pub fn allowed<'a>(def: &'a WorkflowDef, state: &'a CycleState) -> impl Iterator<Item = &'a TransitionDef> + 'a {
    def.transitions_from(&state.phase)
        .filter(|t| (t.kind == TransitionKind::Reopen) == (state.status == Status::Closed))
}

/// [`allowed`], as the phase each goes to and how.
pub fn allowed_transitions(def: &WorkflowDef, state: &CycleState) -> Vec<(String, TransitionKind)> {
    allowed(def, state).map(|t| (t.to.clone(), t.kind)).collect()
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// Checks values against the fields of `phase` and normalises them (ids become numbers,
/// texts are trimmed).
pub fn check_values(def: &WorkflowDef, phase: &str, values: Values) -> Result<Values, Refusal> {
    let Some(phase_def) = def.phase(phase) else {
        return Err(Refusal::Invalid(format!("`{phase}` is not a phase of `{}`", def.key)));
    };
    values
        .into_iter()
        .map(|(key, value)| {
            let Some(field) = phase_def.fields.iter().find(|f| f.key == key) else {
                let known: Vec<_> = phase_def.fields.iter().map(|f| f.key.as_str()).collect();
                return Err(Refusal::Invalid(format!(
                    "phase `{phase}` has no field `{key}`; its fields: {}",
                    if known.is_empty() { "none".to_owned() } else { known.join(", ") }
                )));
            };
            let value = check_value(field, value).map_err(|why| Refusal::Invalid(format!("field `{key}`: {why}")))?;
            Ok((key, value))
        })
        .collect()
}

fn check_value(field: &FieldDef, value: Value) -> Result<Value, String> {
    if value.is_null() {
        return Ok(value);
    }
    match field.kind {
        FieldType::Text => match value {
            Value::String(s) => Ok(Value::String(s.trim().to_owned())),
            _ => Err("expected a text".into()),
        },
        FieldType::Number => match value.as_f64() {
            Some(n) if n.is_finite() => Ok(value),
            _ => Err("expected a number".into()),
        },
        FieldType::Date => match value.as_str().map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d")) {
            Some(Ok(date)) => Ok(Value::String(date.to_string())),
            _ => Err("expected a date such as 2026-01-31".into()),
        },
        FieldType::Choice => match value.as_str() {
            Some(s) if field.options.iter().any(|o| o == s) => Ok(value),
            _ => Err(format!("expected one of: {}", field.options.join(", "))),
        },
        FieldType::List => match value {
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Ok(Value::String(s.trim().to_owned())),
                    _ => Err("expected a list of texts".to_owned()),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            _ => Err("expected a list of texts".into()),
        },
        FieldType::Doel | FieldType::Indicator => {
            let id = match &value {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.parse::<i64>().ok(),
                _ => None,
            };
            match id {
                Some(id) if id > 0 => Ok(Value::from(id)),
                _ => Err(format!(
                    "expected the id of {}",
                    if field.kind == FieldType::Doel { "a doel" } else { "an indicator" }
                )),
            }
        }
    }
}

/// The ids a set of values refers to, by field type, for the store to check.
pub fn references(def: &WorkflowDef, phase: &str, values: &Values) -> Vec<(FieldType, i64)> {
    let Some(phase_def) = def.phase(phase) else { return Vec::new() };
    values
        .iter()
        .filter_map(|(key, value)| {
            let field = phase_def.fields.iter().find(|f| &f.key == key)?;
            matches!(field.kind, FieldType::Doel | FieldType::Indicator)
                .then(|| value.as_i64().map(|id| (field.kind, id)))?
        })
        .collect()
}

/// `decide`, row by row of the table at the top of this file: what each command gives in
/// which state, and each refusal. The expected version of a command is not the machine's
/// to check: the store compares it before it lets the machine decide (`execute_in`).
#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A workflow small enough to read at a glance, with every kind of transition: plan
    /// advances to doen, doen iterates back to plan (copying it) or closes into one of two
    /// terminal phases, one of which reopens.
    const PROEF: &str = r#"
key = "proef"
name = "Proef"
pitches = true

[[phase]]
key = "plan"
name = "Plan"
initial = true

[[phase.field]]
key = "doel"
name = "Doel"
type = "text"
required = true

[[phase.field]]
key = "start"
name = "Start"
type = "date"

[[phase]]
key = "doen"
name = "Doen"

[[phase.field]]
key = "besluit"
name = "Besluit"
type = "choice"
required = true
options = ["bijstellen", "borgen", "stoppen"]

[[phase]]
key = "geborgd"
name = "Geborgd"
terminal = true
outcomes = ["borgen"]

[[phase.field]]
key = "evaluatie"
name = "Evaluatie"
type = "text"
required = true

[[phase]]
key = "gestopt"
name = "Gestopt"
terminal = true
outcomes = ["stoppen"]

[[transition]]
from = "plan"
to = "doen"
kind = "advance"

[[transition]]
from = "doen"
to = "plan"
kind = "iterate"
copy_fields = true

[[transition]]
from = "doen"
to = "geborgd"
kind = "close"

[[transition]]
from = "doen"
to = "gestopt"
kind = "close"

[[transition]]
from = "geborgd"
to = "doen"
kind = "reopen"
"#;

    fn proef() -> WorkflowDef {
        WorkflowDef::parse("proef.toml", PROEF).expect("a valid definition")
    }

    fn values(json: Value) -> Values {
        serde_json::from_value(json).expect("values")
    }

    /// An open cycle in `phase` of its first iteration, with `fields` as phase -> values.
    fn open(phase: &str, fields: Value) -> CycleState {
        CycleState {
            phase: phase.to_owned(),
            iteration: 1,
            status: Status::Open,
            outcome: None,
            fields: serde_json::from_value(json!({ "1": fields })).expect("fields"),
            version: 4,
        }
    }

    /// A cycle closed into `phase` with `outcome`.
    fn closed(phase: &str, outcome: &str, fields: Value) -> CycleState {
        CycleState { status: Status::Closed, outcome: Some(outcome.to_owned()), ..open(phase, fields) }
    }

    fn transition(message: &str) -> Refusal {
        Refusal::Transition(message.to_owned())
    }

    fn invalid(message: &str) -> Refusal {
        Refusal::Invalid(message.to_owned())
    }

    fn guard(phase: &str, missing: &[&str]) -> Refusal {
        Refusal::Guard { phase: phase.to_owned(), missing: missing.iter().map(|m| (*m).to_owned()).collect() }
    }

    type Case = (&'static str, CycleState, Command, Result<Event, Refusal>);

    /// Decides each case in `def`; an event decided must also be what the command it
    /// records decides again, as `CycleState::replay_decided` relies on.
    fn check(def: &WorkflowDef, cases: Vec<Case>) {
        for (case, state, command, expected) in cases {
            let decided = state.decide(def, command);
            assert_eq!(decided, expected, "{case}");
            if let Ok(event) = decided {
                let again = event.command().expect("the command of the event");
                assert_eq!(state.decide(def, again), Ok(event), "{case}: decided again from the event");
            }
        }
    }

    #[test]
    fn update_fields_sets_fields_of_the_current_phase_while_open() {
        let update = |v: Value| Command::UpdateFields { values: values(v) };
        check(
            &proef(),
            vec![
                (
                    "texts are trimmed and dates written in full",
                    open("plan", json!({})),
                    update(json!({"doel": "  Lezen ", "start": "2026-9-1"})),
                    Ok(Event::FieldsUpdated {
                        phase: "plan".into(),
                        values: values(json!({"doel": "Lezen", "start": "2026-09-01"})),
                    }),
                ),
                (
                    "null clears a field, and is recorded",
                    open("plan", json!({"plan": {"doel": "Lezen", "start": "2026-09-01"}})),
                    update(json!({"start": null})),
                    Ok(Event::FieldsUpdated { phase: "plan".into(), values: values(json!({"start": null})) }),
                ),
                (
                    "a field of another phase",
                    open("plan", json!({})),
                    update(json!({"besluit": "borgen"})),
                    Err(invalid("phase `plan` has no field `besluit`; its fields: doel, start")),
                ),
                (
                    "a value the field does not take",
                    open("doen", json!({})),
                    update(json!({"besluit": "misschien"})),
                    Err(invalid("field `besluit`: expected one of: bijstellen, borgen, stoppen")),
                ),
                (
                    "a closed cycle",
                    closed("geborgd", "borgen", json!({})),
                    update(json!({"evaluatie": "Later"})),
                    Err(transition("the cycle is closed; reopen it before you change its fields")),
                ),
            ],
        );
    }

    #[test]
    fn advance_moves_along_an_advance_transition_once_the_phase_left_is_filled() {
        let advance = |to: &str, v: Value| Command::Advance { to: to.into(), values: values(v) };
        check(
            &proef(),
            vec![
                (
                    "filled before",
                    open("plan", json!({"plan": {"doel": "Lezen"}})),
                    advance("doen", json!({})),
                    Ok(Event::Advanced { from: "plan".into(), to: "doen".into(), values: Values::new() }),
                ),
                (
                    "filled by the command, on the phase left",
                    open("plan", json!({})),
                    advance("doen", json!({"doel": " Lezen"})),
                    Ok(Event::Advanced {
                        from: "plan".into(),
                        to: "doen".into(),
                        values: values(json!({"doel": "Lezen"})),
                    }),
                ),
                (
                    "a required field empty",
                    open("plan", json!({"plan": {"start": "2026-09-01"}})),
                    advance("doen", json!({})),
                    Err(guard("plan", &["doel"])),
                ),
                (
                    "a required field blank",
                    open("plan", json!({})),
                    advance("doen", json!({"doel": "   "})),
                    Err(guard("plan", &["doel"])),
                ),
                (
                    "a required field cleared by the command",
                    open("plan", json!({"plan": {"doel": "Lezen"}})),
                    advance("doen", json!({"doel": null})),
                    Err(guard("plan", &["doel"])),
                ),
                (
                    "values of the phase entered",
                    open("plan", json!({"plan": {"doel": "Lezen"}})),
                    advance("doen", json!({"besluit": "borgen"})),
                    Err(invalid("phase `plan` has no field `besluit`; its fields: doel, start")),
                ),
                (
                    "a transition the phase does not declare",
                    open("plan", json!({"plan": {"doel": "Lezen"}})),
                    advance("geborgd", json!({})),
                    Err(transition("no transition from `plan` to `geborgd`; allowed: `doen`")),
                ),
                (
                    "a phase the workflow does not have",
                    open("plan", json!({"plan": {"doel": "Lezen"}})),
                    advance("nergens", json!({})),
                    Err(transition(
                        "no transition from `plan` to `nergens` (`nergens` is not a phase of `proef`); allowed: `doen`",
                    )),
                ),
                (
                    "a close transition",
                    open("doen", json!({"doen": {"besluit": "borgen"}})),
                    advance("geborgd", json!({})),
                    Err(transition("`doen` -> `geborgd` closes the cycle: close it with an outcome instead")),
                ),
                (
                    "a closed cycle",
                    closed("geborgd", "borgen", json!({})),
                    advance("doen", json!({})),
                    Err(transition("the cycle is closed; reopen it before you advance it")),
                ),
            ],
        );
    }

    #[test]
    fn advance_along_an_iterate_transition_starts_the_next_iteration() {
        let advance = |to: &str, v: Value| Command::Advance { to: to.into(), values: values(v) };
        let round = json!({"plan": {"doel": "Lezen", "start": "2026-09-01"}, "doen": {"besluit": "bijstellen"}});
        let mut without_copy = proef();
        for t in &mut without_copy.transitions {
            t.copy_fields = false;
        }
        check(
            &proef(),
            vec![
                (
                    "copy_fields: the event records the values it copies",
                    open("doen", round.clone()),
                    advance("plan", json!({})),
                    Ok(Event::Iterated {
                        from: "doen".into(),
                        to: "plan".into(),
                        values: Values::new(),
                        copied: values(json!({"doel": "Lezen", "start": "2026-09-01"})),
                    }),
                ),
                (
                    "filled by the command",
                    open("doen", json!({"plan": {"doel": "Lezen"}})),
                    advance("plan", json!({"besluit": "bijstellen"})),
                    Ok(Event::Iterated {
                        from: "doen".into(),
                        to: "plan".into(),
                        values: values(json!({"besluit": "bijstellen"})),
                        copied: values(json!({"doel": "Lezen"})),
                    }),
                ),
                (
                    "nothing to copy",
                    open("doen", json!({"doen": {"besluit": "bijstellen"}})),
                    advance("plan", json!({})),
                    Ok(Event::Iterated {
                        from: "doen".into(),
                        to: "plan".into(),
                        values: Values::new(),
                        copied: Values::new(),
                    }),
                ),
                (
                    "a required field empty",
                    open("doen", json!({"plan": {"doel": "Lezen"}})),
                    advance("plan", json!({})),
                    Err(guard("doen", &["besluit"])),
                ),
                (
                    "a transition the phase does not declare",
                    open("doen", round.clone()),
                    advance("doen", json!({})),
                    Err(transition("no transition from `doen` to `doen`; allowed: `plan`, `geborgd`, `gestopt`")),
                ),
            ],
        );
        check(
            &without_copy,
            vec![(
                "without copy_fields: no values copied",
                open("doen", round),
                advance("plan", json!({})),
                Ok(Event::Iterated {
                    from: "doen".into(),
                    to: "plan".into(),
                    values: Values::new(),
                    copied: Values::new(),
                }),
            )],
        );
    }

    #[test]
    fn close_enters_the_terminal_phase_of_its_outcome() {
        let close = |outcome: &str, v: Value| Command::Close { outcome: outcome.into(), values: values(v) };
        let decided = json!({"doen": {"besluit": "borgen"}});
        check(
            &proef(),
            vec![
                (
                    "the values fill the terminal phase",
                    open("doen", decided.clone()),
                    close("borgen", json!({"evaluatie": " Goed verlopen "})),
                    Ok(Event::Closed {
                        from: "doen".into(),
                        to: "geborgd".into(),
                        outcome: "borgen".into(),
                        values: values(json!({"evaluatie": "Goed verlopen"})),
                    }),
                ),
                (
                    "the outcome chooses the terminal phase",
                    open("doen", decided.clone()),
                    close("stoppen", json!({})),
                    Ok(Event::Closed {
                        from: "doen".into(),
                        to: "gestopt".into(),
                        outcome: "stoppen".into(),
                        values: Values::new(),
                    }),
                ),
                (
                    "an outcome no terminal phase allows",
                    open("doen", decided.clone()),
                    close("misschien", json!({})),
                    Err(invalid("outcome `misschien` is not one of: borgen, stoppen")),
                ),
                (
                    "the phase left has a required field empty",
                    open("doen", json!({})),
                    close("stoppen", json!({})),
                    Err(guard("doen", &["besluit"])),
                ),
                (
                    "the terminal phase has a required field empty",
                    open("doen", decided.clone()),
                    close("borgen", json!({})),
                    Err(guard("geborgd", &["evaluatie"])),
                ),
                (
                    "values of another phase",
                    open("doen", decided),
                    close("borgen", json!({"besluit": "borgen"})),
                    Err(invalid("phase `geborgd` has no field `besluit`; its fields: evaluatie")),
                ),
                (
                    "a phase without a close transition",
                    open("plan", json!({"plan": {"doel": "Lezen"}})),
                    close("borgen", json!({"evaluatie": "Goed"})),
                    Err(transition("a cycle cannot be closed from phase `plan`")),
                ),
                (
                    "a closed cycle",
                    closed("geborgd", "borgen", json!({"geborgd": {"evaluatie": "Goed"}})),
                    close("borgen", json!({"evaluatie": "Nog eens"})),
                    Err(transition("the cycle is closed; reopen it before you close it")),
                ),
            ],
        );
    }

    #[test]
    fn reopen_leaves_a_closed_cycle_where_its_terminal_phase_declares() {
        let reopen = |to: &str, reason: Option<&str>| Command::Reopen { to: to.into(), reason: reason.map(Into::into) };
        let done = json!({"geborgd": {"evaluatie": "Goed"}});
        check(
            &proef(),
            vec![
                (
                    "with a reason, trimmed",
                    closed("geborgd", "borgen", done.clone()),
                    reopen("doen", Some("  Toch niet af ")),
                    Ok(Event::Reopened {
                        from: "geborgd".into(),
                        to: "doen".into(),
                        reason: Some("Toch niet af".into()),
                    }),
                ),
                (
                    "a blank reason is none",
                    closed("geborgd", "borgen", done.clone()),
                    reopen("doen", Some("   ")),
                    Ok(Event::Reopened { from: "geborgd".into(), to: "doen".into(), reason: None }),
                ),
                (
                    "without a reason",
                    closed("geborgd", "borgen", done.clone()),
                    reopen("doen", None),
                    Ok(Event::Reopened { from: "geborgd".into(), to: "doen".into(), reason: None }),
                ),
                (
                    "a phase the terminal phase does not reopen into",
                    closed("geborgd", "borgen", done),
                    reopen("plan", None),
                    Err(transition("no transition from `geborgd` to `plan`; allowed: `doen`")),
                ),
                (
                    "a terminal phase that does not reopen",
                    closed("gestopt", "stoppen", json!({})),
                    reopen("doen", None),
                    Err(transition("no transition from `gestopt` to `doen`; allowed: none")),
                ),
                (
                    "an open cycle",
                    open("doen", json!({})),
                    reopen("plan", None),
                    Err(transition("the cycle is open; only a closed cycle can be reopened")),
                ),
            ],
        );
    }

    #[test]
    fn add_pitch_records_what_was_done_and_what_it_yielded() {
        let date = NaiveDate::from_ymd_opt(2026, 10, 9).expect("date");
        let pitch = |did: &str, yielded: &str| Command::AddPitch {
            professional_id: 12,
            date,
            did: did.into(),
            yielded: yielded.into(),
        };
        let mut without_pitches = proef();
        without_pitches.pitches = false;
        check(
            &proef(),
            vec![
                (
                    "trimmed",
                    open("doen", json!({})),
                    pitch(" Extra instructie ", "Minder fouten "),
                    Ok(Event::PitchAdded {
                        professional_id: 12,
                        date,
                        did: "Extra instructie".into(),
                        yielded: "Minder fouten".into(),
                    }),
                ),
                (
                    "nothing said of what it yielded",
                    open("doen", json!({})),
                    pitch("Extra instructie", "  "),
                    Err(invalid("a pitch says what was done (`did`) and what it yielded (`yielded`)")),
                ),
                (
                    "a closed cycle",
                    closed("geborgd", "borgen", json!({})),
                    pitch("Extra instructie", "Minder fouten"),
                    Err(transition("the cycle is closed; reopen it before you add a pitch")),
                ),
            ],
        );
        check(
            &without_pitches,
            vec![(
                "a workflow without pitches",
                open("doen", json!({})),
                pitch("Extra instructie", "Minder fouten"),
                Err(invalid("workflow `proef` has no pitches")),
            )],
        );
    }

    /// A closed cycle ignores every late command but the one that reopens it; none of
    /// them changes what it holds.
    #[test]
    fn a_closed_cycle_takes_nothing_but_a_reopen() {
        let def = proef();
        let state = closed("geborgd", "borgen", json!({"geborgd": {"evaluatie": "Goed"}}));
        let date = NaiveDate::from_ymd_opt(2026, 10, 9).expect("date");
        let late = [
            Command::UpdateFields { values: values(json!({"evaluatie": "Later"})) },
            Command::Advance { to: "doen".into(), values: Values::new() },
            Command::Close { outcome: "borgen".into(), values: values(json!({"evaluatie": "Later"})) },
            Command::AddPitch { professional_id: 12, date, did: "Iets".into(), yielded: "Iets".into() },
        ];
        for command in late {
            let refusal = state.decide(&def, command.clone()).expect_err("refused");
            assert!(matches!(refusal, Refusal::Transition(_)), "{command:?}: {refusal}");
            assert!(refusal.to_string().starts_with("the cycle is closed; reopen it"), "{command:?}: {refusal}");
        }
        assert!(state.decide(&def, Command::Reopen { to: "doen".into(), reason: None }).is_ok());
    }

    /// The version a command expects is the store's to check: the machine decides the same
    /// whatever the number of events before.
    #[test]
    fn decide_leaves_the_expected_version_to_the_store() {
        let def = proef();
        let command = Command::UpdateFields { values: values(json!({"doel": "Lezen"})) };
        let now = open("plan", json!({}));
        let older = CycleState { version: 1, ..now.clone() };
        assert_eq!(now.decide(&def, command.clone()), older.decide(&def, command));
    }
}
