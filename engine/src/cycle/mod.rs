//! Cycles: instances of a workflow, run as durable state machines.
//!
//! Every command runs in one transaction: read the cycle, check the caller's expected
//! version, let [`machine`] decide, write the new state (guarded by the version again, so
//! a concurrent writer in another process cannot slip in between) and append the event.
//! The state written is exactly `apply(state, event)`, so replaying the events gives it back.

pub mod machine;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, Order};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, IntoActiveModel, Iterable,
    PaginatorTrait, PrimaryKeyToColumn, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::Engine;
use crate::access::{Change, Visible};
use crate::error::{Error, Result};
use crate::store::entity::{
    cycle, cycle_doel, cycle_event, doel, groep, indicator, kindcentrum, pitch, professional, team,
};
use crate::store::query::{Page, Slice, through};
use crate::workflow::registry::WorkflowVersion;
use crate::workflow::{FieldType, TransitionDef, WorkflowDef};
use machine::{Command, CycleState, Event, Refusal, Status, Values};

/// An event as written, with the cycle it belongs to; published to subscribers after commit.
#[derive(Clone, Debug)]
pub struct CycleEventRecord {
    pub event: cycle_event::Model,
    pub team_id: Option<i64>,
    pub professional_id: Option<i64>,
    pub groep_id: Option<i64>,
    pub kindcentrum_id: Option<i64>,
    pub workflow_key: String,
}

impl CycleEventRecord {
    fn of(event: cycle_event::Model, row: &cycle::Model) -> CycleEventRecord {
        CycleEventRecord {
            event,
            team_id: row.team_id,
            professional_id: row.professional_id,
            groep_id: row.groep_id,
            kindcentrum_id: row.kindcentrum_id,
            workflow_key: row.workflow_key.clone(),
        }
    }
}

impl Visible for CycleEventRecord {
    fn visible(&self, access: &crate::access::Access) -> bool {
        access.reaches_owner(self.kindcentrum_id, self.team_id, self.groep_id, self.professional_id)
    }
}

/// `model` to insert as a new row: every column but the id, which the store assigns.
fn new_row<M: IntoActiveModel<A>, A: ActiveModelTrait>(model: M) -> A {
    let mut row = model.into_active_model().reset_all();
    for key in <A::Entity as EntityTrait>::PrimaryKey::iter() {
        row.not_set(key.into_column());
    }
    row
}

/// Cycles started per INSERT statement: their columns stay well within the bind limits
/// of both stores.
const START_CHUNK: usize = 1000;

/// Who owns a cycle: a team or professional runs it; a cycle of a groep (its
/// pedagogische kwaliteitscyclus) or of a whole kindcentrum is opened by the calendar.
/// Not to be confused with `domain::ScheduleScope`, the unit a schedule acts on (whose
/// occurrences may open cycles for owners within it), nor with
/// `access::token::AccessScope`, the part of the data a token reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    Team(i64),
    Professional(i64),
    Groep(i64),
    Kindcentrum(i64),
}

impl Owner {
    fn describe(self) -> (&'static str, i64) {
        match self {
            Owner::Team(id) => ("team", id),
            Owner::Professional(id) => ("professional", id),
            Owner::Groep(id) => ("groep", id),
            Owner::Kindcentrum(id) => ("kindcentrum", id),
        }
    }
}

/// An owner as the four owner columns of a cycle row.
#[derive(Clone, Copy, Debug, Default)]
struct OwnerIds {
    team: Option<i64>,
    professional: Option<i64>,
    groep: Option<i64>,
    kindcentrum: Option<i64>,
}

impl OwnerIds {
    fn of(owner: Owner) -> OwnerIds {
        match owner {
            Owner::Team(id) => OwnerIds { team: Some(id), ..Default::default() },
            Owner::Professional(id) => OwnerIds { professional: Some(id), ..Default::default() },
            Owner::Groep(id) => OwnerIds { groep: Some(id), ..Default::default() },
            Owner::Kindcentrum(id) => OwnerIds { kindcentrum: Some(id), ..Default::default() },
        }
    }
}

/// Those of `owners` that exist: one statement per kind of owner among them.
async fn existing_owners<C: ConnectionTrait>(
    db: &C,
    owners: impl IntoIterator<Item = Owner>,
) -> Result<std::collections::HashSet<Owner>> {
    async fn ids<E: EntityTrait, C: ConnectionTrait>(db: &C, column: E::Column, wanted: Vec<i64>) -> Result<Vec<i64>> {
        if wanted.is_empty() {
            return Ok(wanted);
        }
        Ok(E::find().select_only().column(column).filter(column.is_in(wanted)).into_tuple().all(db).await?)
    }
    let (mut teams, mut professionals, mut groepen, mut kindcentra) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for owner in owners {
        match owner {
            Owner::Team(id) => teams.push(id),
            Owner::Professional(id) => professionals.push(id),
            Owner::Groep(id) => groepen.push(id),
            Owner::Kindcentrum(id) => kindcentra.push(id),
        }
    }
    let mut out = std::collections::HashSet::new();
    out.extend(ids::<team::Entity, _>(db, team::Column::Id, teams).await?.into_iter().map(Owner::Team));
    out.extend(
        ids::<professional::Entity, _>(db, professional::Column::Id, professionals)
            .await?
            .into_iter()
            .map(Owner::Professional),
    );
    out.extend(ids::<groep::Entity, _>(db, groep::Column::Id, groepen).await?.into_iter().map(Owner::Groep));
    out.extend(
        ids::<kindcentrum::Entity, _>(db, kindcentrum::Column::Id, kindcentra)
            .await?
            .into_iter()
            .map(Owner::Kindcentrum),
    );
    Ok(out)
}

/// What `start_cycle` needs.
#[derive(Clone, Debug)]
pub struct StartCycle {
    pub workflow: String,
    pub title: String,
    pub owner: Owner,
    pub doelen: Vec<i64>,
    pub due_dates: BTreeMap<String, NaiveDate>,
    /// The occurrence of a schedule that opens the cycle, if any.
    pub occurrence_id: Option<i64>,
}

/// A pitch: what a professional did and what it yielded, told on an E&P-dag.
#[derive(Clone, Debug)]
pub struct NewPitch {
    pub professional_id: i64,
    pub date: NaiveDate,
    pub did: String,
    pub yielded: String,
}

/// Which cycles to list.
#[derive(Clone, Debug, Default)]
pub struct CycleFilter {
    pub team_id: Option<i64>,
    pub professional_id: Option<i64>,
    pub doel_id: Option<i64>,
    pub workflow: Option<String>,
    pub phase: Option<String>,
    pub status: Option<Status>,
    /// Open cycles whose current phase is past its due date (or, with `false`, the others).
    pub overdue: Option<bool>,
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid(message) => Error::Validation(message),
            Refusal::Transition(message) => Error::InvalidTransition(message),
            Refusal::Guard { phase, missing } => Error::GuardFailed { phase, missing },
        }
    }
}

/// The state a cycle row holds.
pub fn state_of(row: &cycle::Model) -> Result<CycleState> {
    read_state(row).map_err(|(column, why)| {
        Error::Database(sea_orm::DbErr::Custom(format!("cycle {}, column `{column}`: {why}", row.id)))
    })
}

/// The state a cycle row holds, or the column that holds none and why: [`state_of`] for a
/// row that may come from outside, as in a restore.
pub(crate) fn read_state(row: &cycle::Model) -> std::result::Result<CycleState, (&'static str, String)> {
    Ok(CycleState {
        phase: row.phase.clone(),
        iteration: row.iteration,
        status: row.status,
        outcome: row.outcome.clone(),
        fields: serde_json::from_str(&row.fields).map_err(|e| {
            ("fields", format!("not the fields of a cycle, a JSON object of iteration -> phase -> field -> value: {e}"))
        })?,
        version: row.version,
    })
}

/// The due date of the phase a cycle is in while it is open: what `current_due` holds.
pub(crate) fn current_due(state: &CycleState, due_dates: &BTreeMap<String, NaiveDate>) -> Option<NaiveDate> {
    (state.status == Status::Open).then(|| due_dates.get(&state.phase).copied()).flatten()
}

/// The row of `event`, which `actor` caused at `at` in the cycle `cycle_id` and which
/// brought it to `state`; without its id.
pub(crate) fn event_row(
    actor: &str,
    cycle_id: i64,
    state: &CycleState,
    event: &Event,
    at: DateTime<Utc>,
) -> Result<cycle_event::Model> {
    let (from, to) = event.phases();
    Ok(cycle_event::Model {
        id: 0,
        cycle_id,
        sequence: state.version,
        kind: event.kind(),
        actor: actor.to_owned(),
        at,
        from_phase: from.map(str::to_owned),
        to_phase: to.map(str::to_owned),
        iteration: state.iteration,
        data: serde_json::to_string(event).map_err(Error::stored_json)?,
    })
}

/// The due dates of a cycle row, per phase; an error when the stored JSON cannot be read
/// (a cycle whose due dates were lost must not silently become a cycle without any).
pub fn due_dates_of(row: &cycle::Model) -> Result<BTreeMap<String, NaiveDate>> {
    serde_json::from_str(&row.due_dates).map_err(Error::stored_json)
}

impl Engine {
    /// New events, as they are committed.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<CycleEventRecord> {
        self.inner.events.subscribe()
    }

    /// Starts a cycle in the initial phase of the current version of its workflow.
    #[tracing::instrument(skip(self, input), fields(workflow = %input.workflow))]
    pub async fn start_cycle(&self, actor: &str, input: StartCycle) -> Result<cycle::Model> {
        self.access_of().may(Change::Cycles)?;
        let txn = crate::store::begin_write(self.db()).await?;
        let (row, record) = self.start_cycle_in(&txn, actor, input).await?;
        txn.commit().await?;
        self.publish(record);
        Ok(row)
    }

    /// Publishes a committed event to the subscribers.
    pub(crate) fn publish(&self, record: CycleEventRecord) {
        // No subscriber is not an error.
        let _ = self.inner.events.send(record);
    }

    /// Starts a cycle within the caller's transaction; the caller publishes the event
    /// after commit.
    pub(crate) async fn start_cycle_in(
        &self,
        txn: &DatabaseTransaction,
        actor: &str,
        input: StartCycle,
    ) -> Result<(cycle::Model, CycleEventRecord)> {
        let mut started = self.start_cycles_in(txn, actor, vec![input]).await?;
        started.pop().ok_or_else(|| Error::Database(sea_orm::DbErr::RecordNotInserted))
    }

    /// Starts cycles within the caller's transaction, in the order given, with a few
    /// statements per [`START_CHUNK`] of them whatever their number (the calendar opens
    /// thousands at once); the caller publishes the events after commit. The first input
    /// that is refused refuses them all.
    pub(crate) async fn start_cycles_in(
        &self,
        txn: &DatabaseTransaction,
        actor: &str,
        inputs: Vec<StartCycle>,
    ) -> Result<Vec<(cycle::Model, CycleEventRecord)>> {
        let mut out = Vec::with_capacity(inputs.len());
        for chunk in inputs.chunks(START_CHUNK) {
            out.extend(self.start_chunk_in(txn, actor, chunk).await?);
        }
        Ok(out)
    }

    async fn start_chunk_in(
        &self,
        txn: &DatabaseTransaction,
        actor: &str,
        inputs: &[StartCycle],
    ) -> Result<Vec<(cycle::Model, CycleEventRecord)>> {
        let mut workflows: HashMap<&str, WorkflowVersion> = HashMap::new();
        let mut checked = Vec::with_capacity(inputs.len());
        for input in inputs {
            let workflow = match workflows.get(input.workflow.as_str()) {
                Some(workflow) => workflow.clone(),
                None => {
                    let workflow = self
                        .workflow(&input.workflow)
                        .ok_or_else(|| Error::Validation(format!("unknown workflow `{}`", input.workflow)))?;
                    workflows.insert(&input.workflow, workflow.clone());
                    workflow
                }
            };
            let title = input.title.trim().to_owned();
            if title.is_empty() {
                return Err(Error::Validation("a cycle needs a title".into()));
            }
            if let Some(phase) = input.due_dates.keys().find(|p| workflow.def.phase(p).is_none()) {
                return Err(Error::Validation(format!(
                    "due date for `{phase}`, which is not a phase of `{}`",
                    workflow.def.key
                )));
            }
            let mut doelen = input.doelen.clone();
            doelen.sort_unstable();
            doelen.dedup();
            checked.push((input, workflow, title, doelen));
        }
        let existing = existing_owners(txn, inputs.iter().map(|i| i.owner)).await?;
        let all_doelen: Vec<i64> = checked.iter().flat_map(|(_, _, _, doelen)| doelen.iter().copied()).collect();
        // Doelen of the koersplannen of kindcentra the caller sees.
        let found = crate::access::kindcentra_of_doelen(txn, &all_doelen).await?;
        // Whole microseconds (see `clock`): the rows below are what is stored, without
        // reading them back.
        let now = self.clock().now();
        let mut rows = Vec::with_capacity(checked.len());
        for (input, workflow, title, doelen) in &checked {
            let ids = OwnerIds::of(input.owner);
            if !existing.contains(&input.owner)
                || !self.access_of().reaches_owner(ids.kindcentrum, ids.team, ids.groep, ids.professional)
            {
                let (what, id) = input.owner.describe();
                return Err(Error::NotFound { what, id: id.to_string() });
            }
            if let Some(missing) =
                doelen.iter().find(|d| !found.get(d).is_some_and(|&kc| self.access_of().sees_kindcentrum(kc)))
            {
                return Err(Error::NotFound { what: "doel", id: missing.to_string() });
            }
            let phase = &workflow.def.initial().key;
            let state = CycleState::started(phase);
            rows.push(cycle::Model {
                id: 0,
                workflow_version_id: workflow.id,
                workflow_key: workflow.def.key.clone(),
                title: title.clone(),
                team_id: ids.team,
                professional_id: ids.professional,
                groep_id: ids.groep,
                kindcentrum_id: ids.kindcentrum,
                occurrence_id: input.occurrence_id,
                status: state.status,
                phase: state.phase.clone(),
                iteration: state.iteration,
                outcome: None,
                fields: serde_json::to_string(&state.fields).map_err(Error::stored_json)?,
                due_dates: serde_json::to_string(&input.due_dates).map_err(Error::stored_json)?,
                current_due: current_due(&state, &input.due_dates),
                version: state.version,
                created_at: now,
                updated_at: now,
            });
        }
        let ids = crate::store::insert_ids(txn, rows.iter().cloned().map(new_row).collect()).await?;
        for (row, id) in rows.iter_mut().zip(ids) {
            row.id = id;
        }
        let links: Vec<cycle_doel::ActiveModel> = rows
            .iter()
            .zip(&checked)
            .flat_map(|(row, (_, _, _, doelen))| {
                doelen.iter().map(|d| cycle_doel::ActiveModel { cycle_id: Set(row.id), doel_id: Set(*d) })
            })
            .collect();
        if !links.is_empty() {
            cycle_doel::Entity::insert_many(links).exec(txn).await?;
        }
        let mut events = Vec::with_capacity(rows.len());
        for (row, (input, workflow, title, doelen)) in rows.iter().zip(&checked) {
            let state = state_of(row)?;
            let event = Event::Started {
                workflow: workflow.def.key.clone(),
                workflow_version: workflow.version,
                title: title.clone(),
                phase: state.phase.clone(),
                team_id: row.team_id,
                professional_id: row.professional_id,
                groep_id: row.groep_id,
                kindcentrum_id: row.kindcentrum_id,
                occurrence_id: input.occurrence_id,
                doelen: doelen.clone(),
                due_dates: input.due_dates.clone(),
            };
            events.push(event_row(actor, row.id, &state, &event, now)?);
        }
        let ids = crate::store::insert_ids(txn, events.iter().cloned().map(new_row).collect()).await?;
        for (event, id) in events.iter_mut().zip(ids) {
            event.id = id;
        }
        Ok(rows.into_iter().zip(events).map(|(row, event)| (row.clone(), CycleEventRecord::of(event, &row))).collect())
    }

    /// Sets fields of the current phase.
    pub async fn update_cycle_fields(
        &self,
        actor: &str,
        cycle_id: i64,
        expected: i64,
        values: Values,
    ) -> Result<cycle::Model> {
        self.execute(actor, cycle_id, expected, Command::UpdateFields { values }).await
    }

    /// Moves along an `advance` or `iterate` transition, after setting `values` on the
    /// phase being left.
    pub async fn advance_cycle(
        &self,
        actor: &str,
        cycle_id: i64,
        expected: i64,
        to: &str,
        values: Values,
    ) -> Result<cycle::Model> {
        self.execute(actor, cycle_id, expected, Command::Advance { to: to.to_owned(), values }).await
    }

    /// Closes with an outcome; `values` fill the terminal phase (the closing evaluation).
    pub async fn close_cycle(
        &self,
        actor: &str,
        cycle_id: i64,
        expected: i64,
        outcome: &str,
        values: Values,
    ) -> Result<cycle::Model> {
        self.execute(actor, cycle_id, expected, Command::Close { outcome: outcome.to_owned(), values }).await
    }

    /// Reopens a closed cycle where the definition declares it.
    pub async fn reopen_cycle(
        &self,
        actor: &str,
        cycle_id: i64,
        expected: i64,
        to: &str,
        reason: Option<String>,
    ) -> Result<cycle::Model> {
        self.execute(actor, cycle_id, expected, Command::Reopen { to: to.to_owned(), reason }).await
    }

    /// Attaches a pitch of an Evaluatie & Planningsdag.
    pub async fn add_pitch(&self, actor: &str, cycle_id: i64, expected: i64, pitch: NewPitch) -> Result<cycle::Model> {
        let NewPitch { professional_id, date, did, yielded } = pitch;
        self.execute(actor, cycle_id, expected, Command::AddPitch { professional_id, date, did, yielded }).await
    }

    #[tracing::instrument(skip(self, command), fields(cycle = cycle_id, expected))]
    async fn execute(&self, actor: &str, cycle_id: i64, expected: i64, command: Command) -> Result<cycle::Model> {
        self.access_of().may(Change::Cycles)?;
        let txn = crate::store::begin_write(self.db()).await?;
        let (row, record) = self.execute_in(&txn, actor, cycle_id, expected, command).await?;
        txn.commit().await?;
        self.publish(record);
        Ok(row)
    }

    /// Runs a command within the caller's transaction; the caller publishes after commit.
    pub(crate) async fn execute_in(
        &self,
        txn: &DatabaseTransaction,
        actor: &str,
        cycle_id: i64,
        expected: i64,
        command: Command,
    ) -> Result<(cycle::Model, CycleEventRecord)> {
        let row = self.access_of().found(cycle::Entity::find_by_id(cycle_id).one(txn).await?, "cycle", cycle_id)?;
        if row.version != expected {
            return Err(Error::VersionConflict { what: format!("cycle {}", row.id), expected, actual: row.version });
        }
        let workflow = self.workflow_version_on(txn, row.workflow_version_id).await?;
        let state = state_of(&row)?;
        let event = state.decide(&workflow.def, command)?;
        self.check_references(txn, &workflow.def, &event).await?;
        if let Event::PitchAdded { professional_id, date, did, yielded } = &event {
            self.insert_pitch(txn, cycle_id, *professional_id, *date, did, yielded).await?;
        }
        let mut next = state.clone();
        next.apply(&event);
        let due = current_due(&next, &due_dates_of(&row)?);
        let updated = cycle::Entity::update_many()
            .col_expr(cycle::Column::Phase, Expr::value(next.phase.clone()))
            .col_expr(cycle::Column::Iteration, Expr::value(next.iteration))
            .col_expr(cycle::Column::Status, Expr::value(next.status))
            .col_expr(cycle::Column::Outcome, Expr::value(next.outcome.clone()))
            .col_expr(
                cycle::Column::Fields,
                Expr::value(serde_json::to_string(&next.fields).map_err(Error::stored_json)?),
            )
            .col_expr(cycle::Column::CurrentDue, Expr::value(due))
            .col_expr(cycle::Column::Version, Expr::value(next.version))
            .col_expr(cycle::Column::UpdatedAt, Expr::value(self.clock().now()))
            .filter(cycle::Column::Id.eq(cycle_id))
            .filter(cycle::Column::Version.eq(expected))
            .exec(txn)
            .await?;
        if updated.rows_affected != 1 {
            // Another process committed between our read and our write.
            return Err(Error::VersionConflict { what: format!("cycle {cycle_id}"), expected, actual: expected + 1 });
        }
        let record = self.append(txn, actor, &row, &next, &event).await?;
        let row = cycle::Entity::find_by_id(cycle_id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::NotFound { what: "cycle", id: cycle_id.to_string() })?;
        Ok((row, record))
    }

    /// Appends `event`, which brought the cycle to `state`.
    async fn append(
        &self,
        txn: &DatabaseTransaction,
        actor: &str,
        row: &cycle::Model,
        state: &CycleState,
        event: &Event,
    ) -> Result<CycleEventRecord> {
        let model = new_row(event_row(actor, row.id, state, event, self.clock().now())?).insert(txn).await?;
        Ok(CycleEventRecord::of(model, row))
    }

    /// Refuses values that name a doel or indicator that does not exist or that the caller
    /// cannot see: both answer NOT_FOUND alike, so the answer tells nothing of what lies
    /// beyond the caller's reach.
    async fn check_references(&self, txn: &DatabaseTransaction, def: &WorkflowDef, event: &Event) -> Result<()> {
        let (phase, values) = match event {
            Event::FieldsUpdated { phase, values } => (phase, values),
            Event::Advanced { from, values, .. } | Event::Iterated { from, values, .. } => (from, values),
            Event::Closed { to, values, .. } => (to, values),
            _ => return Ok(()),
        };
        for (kind, id) in machine::references(def, phase, values) {
            let seen = match kind {
                FieldType::Doel => crate::access::kindcentra_of_doelen(txn, &[id])
                    .await?
                    .get(&id)
                    .is_some_and(|&kindcentrum| self.access_of().sees_kindcentrum(kindcentrum)),
                _ => indicator::Entity::find_by_id(id).one(txn).await?.is_some_and(|i| i.visible(self.access_of())),
            };
            if !seen {
                let what = if kind == FieldType::Doel { "doel" } else { "indicator" };
                return Err(Error::NotFound { what, id: id.to_string() });
            }
        }
        Ok(())
    }

    async fn insert_pitch(
        &self,
        txn: &DatabaseTransaction,
        cycle_id: i64,
        professional_id: i64,
        date: NaiveDate,
        did: &str,
        yielded: &str,
    ) -> Result<()> {
        professional::Entity::find_by_id(professional_id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::NotFound { what: "professional", id: professional_id.to_string() })?;
        let twice = pitch::Entity::find()
            .filter(pitch::Column::CycleId.eq(cycle_id))
            .filter(pitch::Column::ProfessionalId.eq(professional_id))
            .filter(pitch::Column::Date.eq(date))
            .count(txn)
            .await?;
        if twice > 0 {
            return Err(Error::Validation(format!(
                "professional {professional_id} already pitched on {date} in this cycle"
            )));
        }
        pitch::ActiveModel {
            cycle_id: Set(cycle_id),
            professional_id: Set(professional_id),
            date: Set(date),
            did: Set(did.to_owned()),
            yielded: Set(yielded.to_owned()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        Ok(())
    }

    pub async fn cycle(&self, id: i64) -> Result<Option<cycle::Model>> {
        Ok(self.visible_one(cycle::Entity::find_by_id(id).one(self.db()).await?))
    }

    /// The state replayed from a cycle's events.
    pub async fn replay_cycle(&self, id: i64) -> Result<Option<CycleState>> {
        let events = self.events_of(&[id]).await?.remove(&id).unwrap_or_default();
        let events: Vec<Event> = events
            .iter()
            .map(|e| serde_json::from_str(&e.data))
            .collect::<Result<_, _>>()
            .map_err(Error::stored_json)?;
        Ok(CycleState::replay(&events))
    }

    /// The transitions a cycle may take now.
    pub async fn allowed_transitions(&self, row: &cycle::Model) -> Result<Vec<TransitionDef>> {
        let workflow = self.workflow_version(row.workflow_version_id).await?;
        let state = state_of(row)?;
        Ok(machine::allowed(&workflow.def, &state).cloned().collect())
    }

    /// A page of the cycles that match `filter`, newest first.
    pub async fn cycles(&self, filter: &CycleFilter, page: Page) -> Result<Slice<cycle::Model>> {
        use cycle::Column as C;
        let mut select = cycle::Entity::find().filter(self.access_of().owner_condition(
            C::KindcentrumId,
            C::TeamId,
            C::GroepId,
            C::ProfessionalId,
        ));
        if let Some(team) = filter.team_id {
            select = select.filter(C::TeamId.eq(team));
        }
        if let Some(professional) = filter.professional_id {
            select = select.filter(C::ProfessionalId.eq(professional));
        }
        if let Some(workflow) = &filter.workflow {
            select = select.filter(C::WorkflowKey.eq(workflow));
        }
        if let Some(phase) = &filter.phase {
            select = select.filter(C::Phase.eq(phase));
        }
        if let Some(status) = filter.status {
            select = select.filter(C::Status.eq(status));
        }
        if let Some(doel) = filter.doel_id {
            select = select.filter(
                C::Id.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(cycle_doel::Column::CycleId)
                        .from(cycle_doel::Entity)
                        .and_where(Expr::col(cycle_doel::Column::DoelId).eq(doel))
                        .to_owned(),
                ),
            );
        }
        if let Some(overdue) = filter.overdue {
            let late = C::Status.eq(Status::Open).and(C::CurrentDue.lt(self.clock().today()));
            select = select.filter(if overdue { late } else { late.not() });
        }
        self.page_of(select.order_by_desc(C::Id), page).await
    }

    /// Whether a cycle is open and past the due date of its current phase.
    pub fn is_overdue(&self, row: &cycle::Model) -> bool {
        row.status == Status::Open && row.current_due.is_some_and(|due| due < self.clock().today())
    }

    /// The events of cycles, oldest first.
    pub async fn events_of(&self, cycles: &[i64]) -> Result<HashMap<i64, Vec<cycle_event::Model>>> {
        use cycle_event::Column as C;
        self.children::<cycle_event::Entity, _>(C::CycleId, cycles, &[C::Sequence], |e| e.cycle_id).await
    }

    /// The pitches of cycles, by date.
    pub async fn pitches_of(&self, cycles: &[i64]) -> Result<HashMap<i64, Vec<pitch::Model>>> {
        use pitch::Column as C;
        self.children::<pitch::Entity, _>(C::CycleId, cycles, &[C::Date, C::Id], |p| p.cycle_id).await
    }

    /// The doelen cycles serve.
    pub async fn doelen_of_cycles(&self, cycles: &[i64]) -> Result<HashMap<i64, Vec<doel::Model>>> {
        use cycle_doel::Column as L;
        let query = through::<doel::Entity, cycle_doel::Entity>(L::CycleId, L::DoelId, cycles)
            .order_by((doel::Entity, doel::Column::Id), Order::Asc)
            .to_owned();
        self.linked::<doel::Entity>(query, (cycle_doel::Entity, L::CycleId).into_column_ref()).await
    }

    /// The cycles serving doelen, oldest first: the evidence of the koersplan.
    pub async fn cycles_of_doelen(&self, doelen: &[i64]) -> Result<HashMap<i64, Vec<cycle::Model>>> {
        use cycle_doel::Column as L;
        let query = through::<cycle::Entity, cycle_doel::Entity>(L::DoelId, L::CycleId, doelen)
            .order_by((cycle::Entity, cycle::Column::Id), Order::Asc)
            .to_owned();
        self.linked::<cycle::Entity>(query, (cycle_doel::Entity, L::DoelId).into_column_ref()).await
    }
}
