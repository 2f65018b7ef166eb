//! Workflows and cycles: queries, mutations and the `cycleEvents` subscription.

use std::collections::BTreeMap;

use async_graphql::types::Json;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject, Subscription};
use chrono::{DateTime, NaiveDate, Utc};
use futures::{Stream, StreamExt};
use koers_engine::access::Visible as _;
use koers_engine::access::token::Caller;
use koers_engine::cycle::machine::Values;
use koers_engine::cycle::{CycleFilter, NewPitch, Owner, StartCycle, state_of};
use koers_engine::store::entity::{cycle, cycle_event, pitch};
use koers_engine::workflow::registry::WorkflowVersion;
use koers_engine::workflow::{self as wf};
use serde_json::Value;

use crate::error::{IntoGraphql, not_found, validation};
use crate::loader::*;
use crate::query::{actor, engine, parse_id};
use crate::types::{
    Date, Doel, Groep, Kindcentrum, List, Professional, Team, connection, list, optional, page, page_complexity,
};

/// What a field holds.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::workflow::FieldType")]
pub enum FieldType {
    Text,
    Number,
    Date,
    Choice,
    List,
    Doel,
    Indicator,
}

/// How a transition moves a cycle.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::workflow::TransitionKind")]
pub enum TransitionKind {
    Advance,
    Iterate,
    Close,
    Reopen,
}

/// Whether a cycle runs.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::cycle::machine::Status")]
pub enum CycleStatus {
    Open,
    Closed,
}

/// What one recorded change of a cycle was.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::domain::CycleEventKind")]
pub enum CycleEventKind {
    Started,
    FieldsUpdated,
    Advanced,
    Iterated,
    Closed,
    Reopened,
    PitchAdded,
}

/// A workflow definition in the version a cycle runs on (or new cycles start on).
#[derive(Debug)]
pub struct Workflow(pub WorkflowVersion);

#[Object]
impl Workflow {
    async fn key(&self) -> &str {
        &self.0.def.key
    }
    async fn name(&self) -> &str {
        &self.0.def.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.def.description.as_deref()
    }
    /// The version number; a new one is made when the definition's content changes.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Whether professionals attach pitches to cycles of this workflow.
    async fn pitches(&self) -> bool {
        self.0.def.pitches
    }
    async fn phases(&self) -> Vec<Phase> {
        self.0.def.phases.iter().cloned().map(Phase).collect()
    }
    async fn transitions(&self) -> Vec<Transition> {
        self.0.def.transitions.iter().map(Transition::of).collect()
    }
}

/// A phase of a workflow.
#[derive(Debug)]
pub struct Phase(pub wf::PhaseDef);

#[Object]
impl Phase {
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn initial(&self) -> bool {
        self.0.initial
    }
    async fn terminal(&self) -> bool {
        self.0.terminal
    }
    /// The outcomes a cycle may close with in this (terminal) phase.
    async fn outcomes(&self) -> &[String] {
        &self.0.outcomes
    }
    async fn fields(&self) -> Vec<Field> {
        self.0.fields.iter().cloned().map(Field).collect()
    }
}

/// A field a team fills in during a phase.
#[derive(Debug)]
pub struct Field(pub wf::FieldDef);

#[Object]
impl Field {
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    #[graphql(name = "type")]
    async fn kind(&self) -> FieldType {
        self.0.kind.into()
    }
    /// The phase cannot be left while a required field is empty.
    async fn required(&self) -> bool {
        self.0.required
    }
    /// The choices of a CHOICE field.
    async fn options(&self) -> &[String] {
        &self.0.options
    }
}

/// A declared move between phases.
#[derive(SimpleObject, Debug)]
pub struct Transition {
    pub from: String,
    pub to: String,
    pub kind: TransitionKind,
    /// For an ITERATE transition: the phase it goes to starts the new iteration with a copy
    /// of its values of the iteration left, to adjust (PDCA: the next plan starts as the
    /// last one).
    pub copy_fields: bool,
}

impl Transition {
    fn of(t: &wf::TransitionDef) -> Transition {
        Transition { from: t.from.clone(), to: t.to.clone(), kind: t.kind.into(), copy_fields: t.copy_fields }
    }
}

/// A cycle: one run of a workflow by a team or a professional.
#[derive(Debug)]
pub struct Cycle(pub cycle::Model);

/// The values of one phase in one iteration.
#[derive(SimpleObject, Debug)]
pub struct PhaseValues {
    pub phase: String,
    pub fields: Json<Values>,
}

/// One turn through the workflow.
#[derive(SimpleObject, Debug)]
pub struct Iteration {
    pub number: i32,
    pub phases: Vec<PhaseValues>,
}

impl Cycle {
    async fn workflow_version(&self, ctx: &Context<'_>) -> Result<WorkflowVersion> {
        engine(ctx).workflow_version(self.0.workflow_version_id).await.gql()
    }
}

#[Object]
impl Cycle {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The workflow in the version this cycle started on.
    async fn workflow(&self, ctx: &Context<'_>) -> Result<Workflow> {
        self.workflow_version(ctx).await.map(Workflow)
    }
    async fn status(&self) -> Result<CycleStatus> {
        Ok(state_of(&self.0).gql()?.status.into())
    }
    /// The current phase.
    async fn phase(&self, ctx: &Context<'_>) -> Result<Phase> {
        let workflow = self.workflow_version(ctx).await?;
        let phase = workflow.def.phase(&self.0.phase).cloned();
        phase.map(Phase).ok_or_else(|| not_found("phase", &self.0.phase))
    }
    /// 1 for the first turn through the workflow; each `iterate` adds one.
    async fn iteration(&self) -> i32 {
        self.0.iteration
    }
    async fn outcome(&self) -> Option<&str> {
        self.0.outcome.as_deref()
    }
    /// Pass this as `expectedVersion` to change the cycle.
    async fn version(&self) -> i64 {
        self.0.version
    }
    /// The due date of the current phase, if one was set.
    async fn due_date(&self) -> Option<NaiveDate> {
        self.0.current_due
    }
    /// Open and past the due date of the current phase.
    async fn overdue(&self, ctx: &Context<'_>) -> bool {
        engine(ctx).is_overdue(&self.0)
    }
    async fn team(&self, ctx: &Context<'_>) -> Result<Option<Team>> {
        optional(ctx, self.0.team_id.map(TeamById)).await.map(|t| t.map(Team))
    }
    async fn professional(&self, ctx: &Context<'_>) -> Result<Option<Professional>> {
        optional(ctx, self.0.professional_id.map(ProfessionalById)).await.map(|p| p.map(Professional))
    }
    /// The owning groep, for a groep's cycle such as its pedagogische kwaliteitscyclus.
    async fn groep(&self, ctx: &Context<'_>) -> Result<Option<Groep>> {
        optional(ctx, self.0.groep_id.map(GroepById)).await.map(|g| g.map(Groep))
    }
    /// The owning kindcentrum, for a cycle of the kindcentrum as a whole.
    async fn kindcentrum(&self, ctx: &Context<'_>) -> Result<Option<Kindcentrum>> {
        optional(ctx, self.0.kindcentrum_id.map(KindcentrumById)).await.map(|k| k.map(Kindcentrum))
    }
    /// The doelen of the koersplan this cycle serves.
    async fn doelen(&self, ctx: &Context<'_>) -> Result<Vec<Doel>> {
        Ok(list(ctx, DoelenOfCycle(self.0.id)).await?.into_iter().map(Doel).collect())
    }
    /// The values of the current phase in the current iteration.
    async fn fields(&self) -> Result<Json<Values>> {
        let state = state_of(&self.0).gql()?;
        Ok(Json(state.values(&state.phase).cloned().unwrap_or_default()))
    }
    /// Every iteration with the values of each phase, the phases in the order of the
    /// workflow (plan, do, check, act), not of their names.
    async fn iterations(&self, ctx: &Context<'_>) -> Result<Vec<Iteration>> {
        let state = state_of(&self.0).gql()?;
        let def = self.workflow_version(ctx).await?.def;
        Ok((1..=state.iteration)
            .map(|number| {
                let mut phases: Vec<PhaseValues> = state
                    .fields
                    .get(&number)
                    .into_iter()
                    .flatten()
                    .map(|(phase, values)| PhaseValues { phase: phase.clone(), fields: Json(values.clone()) })
                    .collect();
                phases.sort_by_key(|p| def.phase_rank(&p.phase));
                Iteration { number, phases }
            })
            .collect())
    }
    /// The transitions the cycle may take now.
    async fn allowed_transitions(&self, ctx: &Context<'_>) -> Result<Vec<Transition>> {
        Ok(engine(ctx).allowed_transitions(&self.0).await.gql()?.iter().map(Transition::of).collect())
    }
    /// The full history, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<CycleEvent>> {
        Ok(list(ctx, EventsOf(self.0.id)).await?.into_iter().map(CycleEvent).collect())
    }
    /// Pitches of the Evaluatie & Planningsdagen, by date.
    async fn pitches(&self, ctx: &Context<'_>) -> Result<Vec<Pitch>> {
        Ok(list(ctx, PitchesOf(self.0.id)).await?.into_iter().map(Pitch).collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One entry of a cycle's history.
#[derive(Debug)]
pub struct CycleEvent(pub cycle_event::Model);

#[Object]
impl CycleEvent {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn cycle_id(&self) -> ID {
        self.0.cycle_id.into()
    }
    /// The cycle's version after this event.
    async fn sequence(&self) -> i64 {
        self.0.sequence
    }
    async fn kind(&self) -> CycleEventKind {
        self.0.kind.into()
    }
    /// Who caused the event, as recorded: `token:ID` for a change through the API, else
    /// what made it, such as `scheduler` (the calendar) or `cli` (an import).
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// The name of the API token the actor stands for, read for all events of a response
    /// at once; null for an actor that is no token, or a token this database does not hold.
    async fn actor_name(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        optional(ctx, Caller::token_of(&self.0.actor).map(TokenName)).await
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    async fn from(&self) -> Option<&str> {
        self.0.from_phase.as_deref()
    }
    async fn to(&self) -> Option<&str> {
        self.0.to_phase.as_deref()
    }
    /// The iteration after the event.
    async fn iteration(&self) -> i32 {
        self.0.iteration
    }
    /// The event as recorded.
    async fn data(&self) -> Json<Value> {
        Json(serde_json::from_str(&self.0.data).unwrap_or(Value::Null))
    }
    /// The cycle as it is now.
    async fn cycle(&self, ctx: &Context<'_>) -> Result<Cycle> {
        let id = self.0.cycle_id;
        engine(ctx).cycle(id).await.gql()?.map(Cycle).ok_or_else(|| not_found("cycle", id))
    }
}

/// What a professional did and what it yielded, told on an Evaluatie & Planningsdag.
#[derive(Debug)]
pub struct Pitch(pub pitch::Model);

#[Object]
impl Pitch {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn professional(&self, ctx: &Context<'_>) -> Result<Professional> {
        let id = self.0.professional_id;
        optional(ctx, Some(ProfessionalById(id))).await?.map(Professional).ok_or_else(|| not_found("professional", id))
    }
    async fn date(&self) -> NaiveDate {
        self.0.date
    }
    async fn did(&self) -> &str {
        &self.0.did
    }
    async fn yielded(&self) -> &str {
        &self.0.yielded
    }
}

/// Which cycles to list; all conditions hold together.
#[derive(InputObject, Debug, Default)]
pub struct CycleFilterInput {
    pub team_id: Option<ID>,
    pub professional_id: Option<ID>,
    pub doel_id: Option<ID>,
    pub workflow: Option<String>,
    pub phase: Option<String>,
    pub status: Option<CycleStatus>,
    /// true: only open cycles past the due date of their phase; false: only the others.
    pub overdue: Option<bool>,
}

impl CycleFilterInput {
    fn parse(self) -> Result<CycleFilter> {
        let id = |id: Option<ID>, what| id.map(|id| parse_id(&id, what)).transpose();
        Ok(CycleFilter {
            team_id: id(self.team_id, "team")?,
            professional_id: id(self.professional_id, "professional")?,
            doel_id: id(self.doel_id, "doel")?,
            workflow: self.workflow,
            phase: self.phase,
            status: self.status.map(Into::into),
            overdue: self.overdue,
        })
    }
}

/// Workflows and cycles.
#[derive(Default, Debug)]
pub struct CycleQuery;

#[Object]
impl CycleQuery {
    /// The workflows new cycles start on, by key.
    async fn workflows(&self, ctx: &Context<'_>) -> Vec<Workflow> {
        engine(ctx).workflows().into_iter().map(Workflow).collect()
    }

    async fn workflow(&self, ctx: &Context<'_>, key: String) -> Result<Workflow> {
        engine(ctx).workflow(&key).map(Workflow).ok_or_else(|| not_found("workflow", key))
    }

    /// Cycles matching the filter, newest first.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn cycles(
        &self,
        ctx: &Context<'_>,
        filter: Option<CycleFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Cycle>> {
        let page = page(first, after)?;
        let filter = filter.unwrap_or_default().parse()?;
        Ok(connection(page, engine(ctx).cycles(&filter, page).await.gql()?, Cycle))
    }

    async fn cycle(&self, ctx: &Context<'_>, id: ID) -> Result<Cycle> {
        let key = parse_id(&id, "cycle")?;
        engine(ctx).cycle(key).await.gql()?.map(Cycle).ok_or_else(|| not_found("cycle", key))
    }
}

/// A due date for one phase.
#[derive(InputObject, Debug)]
pub struct PhaseDueDate {
    pub phase: String,
    pub date: Date,
}

#[derive(InputObject, Debug)]
pub struct StartCycleInput {
    /// The workflow key, such as `pdca`.
    pub workflow: String,
    pub title: String,
    /// The owner: give exactly one of `teamId`, `professionalId`, `groepId` (such as the
    /// pedagogische kwaliteitscyclus of a groep) and `kindcentrumId`.
    pub team_id: Option<ID>,
    pub professional_id: Option<ID>,
    pub groep_id: Option<ID>,
    pub kindcentrum_id: Option<ID>,
    /// The doelen of the koersplan the cycle serves.
    #[graphql(default)]
    pub doel_ids: Vec<ID>,
    #[graphql(default)]
    pub due_dates: Vec<PhaseDueDate>,
}

#[derive(InputObject, Debug)]
pub struct UpdateCycleFieldsInput {
    pub cycle_id: ID,
    /// Field key -> value for the current phase; null clears a field.
    pub fields: Json<Values>,
    pub expected_version: i64,
}

#[derive(InputObject, Debug)]
pub struct AdvanceCycleInput {
    pub cycle_id: ID,
    /// The phase to move to, along a declared `advance` or `iterate` transition.
    pub to: String,
    /// Values set on the current phase before it is left.
    #[graphql(default)]
    pub fields: Option<Json<Values>>,
    pub expected_version: i64,
}

#[derive(InputObject, Debug)]
pub struct CloseCycleInput {
    pub cycle_id: ID,
    pub outcome: String,
    /// Values of the terminal phase: the closing evaluation.
    #[graphql(default)]
    pub fields: Option<Json<Values>>,
    pub expected_version: i64,
}

#[derive(InputObject, Debug)]
pub struct ReopenCycleInput {
    pub cycle_id: ID,
    pub to: String,
    pub reason: Option<String>,
    pub expected_version: i64,
}

#[derive(InputObject, Debug)]
pub struct AddPitchInput {
    pub cycle_id: ID,
    pub professional_id: ID,
    /// The Evaluatie & Planningsdag.
    pub date: Date,
    /// What the professional did.
    pub did: String,
    /// What it yielded.
    pub yielded: String,
    pub expected_version: i64,
}

/// Changes to cycles. Each takes the version the caller read and fails with
/// VERSION_CONFLICT when the cycle changed since.
#[derive(Default, Debug)]
pub struct CycleMutation;

#[Object]
impl CycleMutation {
    async fn start_cycle(&self, ctx: &Context<'_>, input: StartCycleInput) -> Result<Cycle> {
        let owner = match (&input.team_id, &input.professional_id, &input.groep_id, &input.kindcentrum_id) {
            (Some(team), None, None, None) => Owner::Team(parse_id(team, "team")?),
            (None, Some(professional), None, None) => Owner::Professional(parse_id(professional, "professional")?),
            (None, None, Some(groep), None) => Owner::Groep(parse_id(groep, "groep")?),
            (None, None, None, Some(kindcentrum)) => Owner::Kindcentrum(parse_id(kindcentrum, "kindcentrum")?),
            _ => {
                return Err(validation(
                    "give exactly one of `teamId`, `professionalId`, `groepId` and `kindcentrumId`",
                ));
            }
        };
        let doelen = input.doel_ids.iter().map(|id| parse_id(id, "doel")).collect::<Result<Vec<_>>>()?;
        let mut due_dates = BTreeMap::new();
        for due in input.due_dates {
            if due_dates.insert(due.phase.clone(), due.date.0).is_some() {
                return Err(validation(&format!("two due dates for phase `{}`", due.phase)));
            }
        }
        let start =
            StartCycle { workflow: input.workflow, title: input.title, owner, doelen, due_dates, occurrence_id: None };
        engine(ctx).start_cycle(&actor(ctx), start).await.gql().map(Cycle)
    }

    async fn update_cycle_fields(&self, ctx: &Context<'_>, input: UpdateCycleFieldsInput) -> Result<Cycle> {
        let id = parse_id(&input.cycle_id, "cycle")?;
        engine(ctx).update_cycle_fields(&actor(ctx), id, input.expected_version, input.fields.0).await.gql().map(Cycle)
    }

    async fn advance_cycle(&self, ctx: &Context<'_>, input: AdvanceCycleInput) -> Result<Cycle> {
        let id = parse_id(&input.cycle_id, "cycle")?;
        let values = input.fields.map(|f| f.0).unwrap_or_default();
        engine(ctx).advance_cycle(&actor(ctx), id, input.expected_version, &input.to, values).await.gql().map(Cycle)
    }

    async fn close_cycle(&self, ctx: &Context<'_>, input: CloseCycleInput) -> Result<Cycle> {
        let id = parse_id(&input.cycle_id, "cycle")?;
        let values = input.fields.map(|f| f.0).unwrap_or_default();
        engine(ctx).close_cycle(&actor(ctx), id, input.expected_version, &input.outcome, values).await.gql().map(Cycle)
    }

    async fn reopen_cycle(&self, ctx: &Context<'_>, input: ReopenCycleInput) -> Result<Cycle> {
        let id = parse_id(&input.cycle_id, "cycle")?;
        engine(ctx)
            .reopen_cycle(&actor(ctx), id, input.expected_version, &input.to, input.reason)
            .await
            .gql()
            .map(Cycle)
    }

    async fn add_pitch(&self, ctx: &Context<'_>, input: AddPitchInput) -> Result<Cycle> {
        let id = parse_id(&input.cycle_id, "cycle")?;
        let professional = parse_id(&input.professional_id, "professional")?;
        engine(ctx)
            .add_pitch(
                &actor(ctx),
                id,
                input.expected_version,
                NewPitch { professional_id: professional, date: input.date.0, did: input.did, yielded: input.yielded },
            )
            .await
            .gql()
            .map(Cycle)
    }
}

/// Which events to receive; all given conditions hold together.
#[derive(InputObject, Debug, Default)]
pub struct CycleEventFilter {
    pub cycle_id: Option<ID>,
    pub team_id: Option<ID>,
    pub workflow: Option<String>,
}

/// Live events.
#[derive(Default, Debug)]
pub struct CycleSubscription;

#[Subscription]
impl CycleSubscription {
    /// Every cycle event as it is committed.
    async fn cycle_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<CycleEventFilter>,
    ) -> Result<impl Stream<Item = CycleEvent>> {
        let filter = filter.unwrap_or_default();
        let cycle = filter.cycle_id.as_ref().map(|id| parse_id(id, "cycle")).transpose()?;
        let team = filter.team_id.as_ref().map(|id| parse_id(id, "team")).transpose()?;
        let workflow = filter.workflow;
        let receiver = engine(ctx).subscribe();
        let access = engine(ctx).access_of().clone();
        let events = tokio_stream_from(receiver);
        Ok(events.filter_map(move |record| {
            let keep = record.visible(&access)
                && cycle.is_none_or(|c| c == record.event.cycle_id)
                && team.is_none_or(|t| record.team_id == Some(t))
                && workflow.as_ref().is_none_or(|w| w == &record.workflow_key);
            async move { keep.then_some(CycleEvent(record.event)) }
        }))
    }
}

/// The broadcast receiver as a stream; a subscriber too slow to keep up skips what it
/// missed rather than ending.
fn tokio_stream_from(
    receiver: tokio::sync::broadcast::Receiver<koers_engine::cycle::CycleEventRecord>,
) -> impl Stream<Item = koers_engine::cycle::CycleEventRecord> {
    use tokio::sync::broadcast::error::RecvError;
    futures::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(record) => return Some((record, receiver)),
                Err(RecvError::Lagged(skipped)) => tracing::warn!(skipped, "subscriber lagged behind; events skipped"),
                Err(RecvError::Closed) => return None,
            }
        }
    })
}
