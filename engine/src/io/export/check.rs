//! What a restore checks of the rows of an export before it writes any: each row as the
//! service that writes such rows checks it (the importers, the scheduler, the scans, the
//! state machine), with their own parse functions, and every cycle against the replay of
//! its events. The database then answers every question about the restored rows as the one
//! exported did; without these checks a file edited by hand or damaged on the way would
//! restore, and its cycles, schedules and scans would fail only when read.
//!
//! The checks need nothing but the rows: they run before the restore's transaction begins.
//! A refusal names the table, the row (from 1), the column where one is to blame, what is
//! wrong and what would be right.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use sea_orm::{ActiveEnum, Iterable};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{Rows, refused};
use crate::calendar::{Fired, ScheduleSpec};
use crate::cycle::machine::{CycleState, Event};
use crate::cycle::{current_due, event_row, read_state};
use crate::domain::{
    ChangeAction, CycleEventKind, CycleStatus, Front, OccurrenceStatus, ScanTechnique, ScheduleScope,
    ScheduleScopeKind, VacationRegion,
};
use crate::error::Result;
use crate::evidence::coaching::Hours;
use crate::evidence::scan::{ChildCode, LeuvenScore, NewScore, check_scores};
use crate::plan::measurement::{Period, check_value};
use crate::store::entity::{cycle, cycle_event, workflow_version};
use crate::workflow::WorkflowDef;

/// Checks every row that a service would have checked before writing it.
pub(super) fn rows(rows: &Rows) -> Result<()> {
    let workflows = workflow_versions(&rows.workflow_version)?;
    schedules(rows)?;
    occurrences(rows)?;
    cycles(rows, &workflows)?;
    scans(rows)?;
    coaching(rows)?;
    measurements(rows)?;
    holidays(rows)?;
    Ok(())
}

/// The column of `row` (of `table`, as the document holds it) that holds one of a fixed set
/// of texts, if it holds another: checked before the row is read as its table's model, so
/// that the refusal says what the column may hold.
pub(super) fn fixed_sets(table: &str, row: &Map<String, Value>) -> std::result::Result<(), String> {
    match table {
        "cycle" => one_of::<CycleStatus>(row, "status", "the status of a cycle"),
        "cycle_event" => one_of::<CycleEventKind>(row, "kind", "the kind of an event of a cycle"),
        "occurrence" => one_of::<OccurrenceStatus>(row, "status", "the status of an occurrence"),
        "scan" => one_of::<ScanTechnique>(row, "technique", "a scan technique"),
        "schedule" => one_of::<ScheduleScopeKind>(row, "scope_kind", "a scope"),
        "change" => one_of::<ChangeAction>(row, "action", "a kind of change")
            .and_then(|()| one_of::<Front>(row, "front", "a front of koers")),
        _ => Ok(()),
    }
}

/// Whether `column` of `row`, when it is a text, is one of `T`; `what` names the set.
fn one_of<T: ActiveEnum<Value = String> + Iterable>(
    row: &Map<String, Value>,
    column: &str,
    what: &str,
) -> std::result::Result<(), String> {
    let Some(Value::String(held)) = row.get(column) else { return Ok(()) };
    if T::try_from_value(held).is_ok() {
        return Ok(());
    }
    let mut allowed: Vec<String> = T::iter().map(|v| format!("`{}`", v.to_value())).collect();
    let last = allowed.pop().unwrap_or_default();
    let allowed = match allowed.len() {
        0 => last,
        1 => format!("{} or {last}", allowed[0]),
        _ => format!("one of {} or {last}", allowed.join(", ")),
    };
    Err(format!("column `{column}`: `{held}` is not {what}: it is {allowed}"))
}

/// A JSON text column read as `T`, or why it cannot be: `what` says what it should hold.
fn json<T: DeserializeOwned>(column: &str, text: &str, what: &str) -> std::result::Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("column `{column}` is not {what}: {e}"))
}

/// The definitions of the workflow versions, by id. Each is what `koers serve` registers: a
/// definition that passes its checks, under its own key and the hash of its content, so
/// that a server which registers the same definition finds the restored version.
fn workflow_versions(
    rows: &[workflow_version::Model],
) -> Result<HashMap<i64, (&workflow_version::Model, WorkflowDef)>> {
    let mut out = HashMap::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let refuse = |reason: String| refused("workflow_version", index, reason);
        let def: WorkflowDef =
            json("definition", &row.definition, "a workflow definition (canonical JSON)").map_err(refuse)?;
        def.validate().map_err(|e| refuse(format!("column `definition`: {e}")))?;
        if def.key != row.key {
            return Err(refuse(format!("column `key` is `{}`, but the definition is of `{}`", row.key, def.key)));
        }
        let hash = def.hash();
        if hash != row.hash {
            return Err(refuse(format!("column `hash` is not the hash of the definition, which is {hash}")));
        }
        if row.version < 1 {
            return Err(refuse(format!("column `version` is {}; versions count from 1", row.version)));
        }
        out.insert(row.id, (row, def));
    }
    Ok(out)
}

/// Each schedule as it is created: a scope, and a rule, action and policy that pass the
/// checks of [`ScheduleSpec::validate`].
fn schedules(rows: &Rows) -> Result<()> {
    for (index, row) in rows.schedule.iter().enumerate() {
        let refuse = |reason: String| refused("schedule", index, reason);
        let scope = ScheduleScope::new(row.scope_kind, row.scope_id);
        let spec = ScheduleSpec {
            key: row.key.clone(),
            name: row.name.clone(),
            template: row.template.clone(),
            scope,
            rule: json("rule", &row.rule, "the rule of a schedule").map_err(refuse)?,
            action: json("action", &row.action, "the action of a schedule").map_err(refuse)?,
            policy: json("policy", &row.policy, "the policy of a schedule").map_err(refuse)?,
        };
        spec.validate().map_err(|e| refuse(e.to_string()))?;
    }
    Ok(())
}

/// Each occurrence with a result the scheduler can read (its status is checked as the row
/// is read: [`fixed_sets`]).
fn occurrences(rows: &Rows) -> Result<()> {
    for (index, row) in rows.occurrence.iter().enumerate() {
        let refuse = |reason: String| refused("occurrence", index, reason);
        if let Some(result) = &row.result {
            json::<Fired>("result", result, "what firing the occurrence created").map_err(refuse)?;
        }
    }
    Ok(())
}

/// Each cycle as the state machine leaves it: its history is what the state machine
/// decides for the commands the events record, in the workflow version the cycle runs on;
/// each event row holds what that event makes of it; and the cycle holds the state its
/// events replay to.
fn cycles(rows: &Rows, workflows: &HashMap<i64, (&workflow_version::Model, WorkflowDef)>) -> Result<()> {
    let cycles: HashMap<i64, usize> = rows.cycle.iter().enumerate().map(|(index, row)| (row.id, index)).collect();
    // The events of each cycle with their rows, by sequence.
    let mut histories: HashMap<i64, Vec<(usize, &cycle_event::Model, Event)>> = HashMap::new();
    for (index, row) in rows.cycle_event.iter().enumerate() {
        let refuse = |reason: String| refused("cycle_event", index, reason);
        if !cycles.contains_key(&row.cycle_id) {
            return Err(refuse(format!("column `cycle_id`: cycle {} is not in the export", row.cycle_id)));
        }
        let event: Event = json("data", &row.data, "an event of a cycle").map_err(refuse)?;
        histories.entry(row.cycle_id).or_default().push((index, row, event));
    }
    for history in histories.values_mut() {
        history.sort_by_key(|(_, row, _)| row.sequence);
    }
    for (index, row) in rows.cycle.iter().enumerate() {
        let history = histories.remove(&row.id).unwrap_or_default();
        cycle(index, row, &history, workflows)?;
    }
    Ok(())
}

/// Checks the cycle `row`, row `index` of its table, against its `history`.
fn cycle(
    index: usize,
    row: &cycle::Model,
    history: &[(usize, &cycle_event::Model, Event)],
    workflows: &HashMap<i64, (&workflow_version::Model, WorkflowDef)>,
) -> Result<()> {
    let refuse = |reason: String| refused("cycle", index, reason);
    let state = read_state(row).map_err(|(column, why)| refuse(format!("column `{column}`: {why}")))?;
    let Some((version, def)) = workflows.get(&row.workflow_version_id) else {
        return Err(refuse(format!(
            "column `workflow_version_id`: workflow version {} is not in the export",
            row.workflow_version_id
        )));
    };
    if row.workflow_key != def.key {
        return Err(refuse(format!(
            "column `workflow_key` is `{}`, but workflow version {} is of `{}`",
            row.workflow_key, version.id, def.key
        )));
    }
    let due_dates: BTreeMap<String, NaiveDate> =
        json("due_dates", &row.due_dates, "the due dates of a cycle, a JSON object of phase -> date")
            .map_err(refuse)?;
    if let Some(phase) = due_dates.keys().find(|p| def.phase(p).is_none()) {
        return Err(refuse(format!("column `due_dates`: `{phase}` is not a phase of `{}`", def.key)));
    }

    let states =
        CycleState::replay_decided(def, history.iter().map(|(_, _, event)| event)).map_err(
            |(at, why)| match history.get(at) {
                Some((event_index, ..)) => refused("cycle_event", *event_index, format!("cycle {}: {why}", row.id)),
                None => refuse(format!("its history: {why}")),
            },
        )?;
    if let Some((event_index, _, Event::Started { workflow, workflow_version, .. })) = history.first()
        && (workflow != &def.key || *workflow_version != version.version)
    {
        return Err(refused(
            "cycle_event",
            *event_index,
            format!(
                "column `data`: cycle {} starts on `{workflow}` version {workflow_version}, but runs on `{}` version {}",
                row.id, def.key, version.version
            ),
        ));
    }
    for ((event_index, stored, event), after) in history.iter().zip(&states) {
        let expected = event_row(&stored.actor, row.id, after, event, stored.at)?;
        let columns = [
            ("sequence", stored.sequence.to_string(), expected.sequence.to_string()),
            ("kind", stored.kind.to_string(), expected.kind.to_string()),
            ("from_phase", format!("{:?}", stored.from_phase), format!("{:?}", expected.from_phase)),
            ("to_phase", format!("{:?}", stored.to_phase), format!("{:?}", expected.to_phase)),
            ("iteration", stored.iteration.to_string(), expected.iteration.to_string()),
        ];
        if let Some((column, held, right)) = columns.into_iter().find(|(_, held, right)| held != right) {
            return Err(refused(
                "cycle_event",
                *event_index,
                format!("column `{column}` holds {held}; the `{}` event it records makes it {right}", event.kind()),
            ));
        }
    }

    let replayed = states.last().unwrap_or(&state);
    if let Some(difference) = difference(&state, replayed) {
        return Err(refuse(format!("the cycle is not the replay of its {} events: {difference}", history.len())));
    }
    let due = current_due(&state, &due_dates);
    if row.current_due != due {
        return Err(refuse(format!(
            "column `current_due` holds {:?}; the due date of phase `{}` makes it {due:?}",
            row.current_due, state.phase
        )));
    }
    Ok(())
}

/// The first part in which the state a cycle holds differs from the replay of its events.
fn difference(held: &CycleState, replayed: &CycleState) -> Option<String> {
    let fields = |state: &CycleState| serde_json::to_string(&state.fields).unwrap_or_default();
    let parts = [
        ("phase", held.phase.clone(), replayed.phase.clone()),
        ("iteration", held.iteration.to_string(), replayed.iteration.to_string()),
        ("status", held.status.as_str().to_owned(), replayed.status.as_str().to_owned()),
        ("outcome", format!("{:?}", held.outcome), format!("{:?}", replayed.outcome)),
        ("fields", fields(held), fields(replayed)),
        ("version", held.version.to_string(), replayed.version.to_string()),
    ];
    parts
        .into_iter()
        .find(|(_, held, replayed)| held != replayed)
        .map(|(column, held, replayed)| format!("column `{column}` holds {held}, the events lead to {replayed}"))
}

/// Each score as a scan records it (a pseudonymous child code, points of the Leuven
/// scales), each scan with a technique and scores that fit it, or with the distribution
/// its scores were folded into.
fn scans(rows: &Rows) -> Result<()> {
    let mut scores: HashMap<i64, Vec<NewScore>> = HashMap::new();
    for (index, row) in rows.scan_score.iter().enumerate() {
        let refuse = |reason: String| refused("scan_score", index, reason);
        let child_code = match row.child_code.as_deref() {
            None => None,
            Some(code) => {
                let parsed = code.parse::<ChildCode>().map_err(|why| refuse(format!("column `child_code`: {why}")))?;
                if parsed.as_str() != code {
                    return Err(refuse(format!("column `child_code`: write `{code}` as `{parsed}`")));
                }
                Some(parsed)
            }
        };
        let score = |column: &str, value: f64| {
            LeuvenScore::from_f64(value).map_err(|why| refuse(format!("column `{column}`: {why}")))
        };
        let score = NewScore {
            child_code,
            welbevinden: score("welbevinden", row.welbevinden)?,
            betrokkenheid: score("betrokkenheid", row.betrokkenheid)?,
        };
        scores.entry(row.scan_id).or_default().push(score);
    }
    for (index, row) in rows.scan.iter().enumerate() {
        let refuse = |reason: String| refused("scan", index, reason);
        let technique = row.technique;
        match crate::evidence::retention::folded_scores(row) {
            Err(_) => {
                return Err(refuse(
                    "column `distribution` is not the scores of a folded scan: a JSON object of `welbevinden` and \
                     `betrokkenheid`, each a point of the scale (`3.5`) -> a count"
                        .into(),
                ));
            }
            Ok(Some(folded)) => {
                for score in folded {
                    for value in [score.welbevinden, score.betrokkenheid] {
                        LeuvenScore::from_f64(value).map_err(|why| refuse(format!("column `distribution`: {why}")))?;
                    }
                }
            }
            Ok(None) => {
                let scores = scores.remove(&row.id).unwrap_or_default();
                check_scores(technique, &scores).map_err(|why| refuse(format!("its scores: {why}")))?;
            }
        }
    }
    Ok(())
}

/// Each entry of the coaching log with hours the log accepts.
fn coaching(rows: &Rows) -> Result<()> {
    for (index, row) in rows.coaching_entry.iter().enumerate() {
        Hours::new(row.hours).map_err(|why| refused("coaching_entry", index, format!("column `hours`: {why}")))?;
    }
    Ok(())
}

/// Each measurement with a period and a value its indicator accepts.
fn measurements(rows: &Rows) -> Result<()> {
    let indicators: HashMap<i64, _> = rows.indicator.iter().map(|i| (i.id, i)).collect();
    for (index, row) in rows.measurement.iter().enumerate() {
        let refuse = |reason: String| refused("measurement", index, reason);
        Period::parse(None, Some(row.period_start), Some(row.period_end)).map_err(refuse)?;
        // A measurement of an indicator outside the export is refused when it is written.
        if let Some(indicator) = indicators.get(&row.indicator_id) {
            check_value(indicator, row.value).map_err(|why| refuse(format!("column `value`: {why}")))?;
        }
    }
    Ok(())
}

/// Each school holiday in a vacation region.
fn holidays(rows: &Rows) -> Result<()> {
    for (index, row) in rows.school_holiday.iter().enumerate() {
        if VacationRegion::try_from_value(&row.region).is_err() {
            let regions: Vec<String> = VacationRegion::iter().map(|r| r.to_value()).collect();
            return Err(refused(
                "school_holiday",
                index,
                format!(
                    "column `region`: `{}` is not a vacation region: it is one of {}",
                    row.region,
                    regions.join(", ")
                ),
            ));
        }
    }
    Ok(())
}
