//! The quality calendar: schedules, templates, the calendar, occurrences and reminders.

use async_graphql::types::Json;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use koers_engine::calendar::rule::dutch;
use koers_engine::calendar::template::{TemplateOptions, templates};
use koers_engine::calendar::{Planned, Schedule as EngineSchedule, ScheduleSpec};
use koers_engine::domain::ScheduleScope;
use koers_engine::store::entity::{occurrence, reminder};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{IntoGraphql, not_found, validation};
use crate::loader::{GroepById, ProfessionalById, TeamById};
use crate::query::{engine, parse_id};
use crate::types::{
    Date, DateOrDateTime, Groep, List, LocalDateTime, Professional, Team, connection, optional, page, page_complexity,
};

/// What a schedule is attached to.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::domain::ScheduleScopeKind")]
pub enum ScopeKind {
    Bestuur,
    Kindcentrum,
    Locatie,
    Groep,
    Team,
}

/// A scope: a bestuur, kindcentrum, locatie, groep or team.
#[derive(InputObject, Debug, Clone)]
pub struct ScopeInput {
    pub kind: ScopeKind,
    pub id: ID,
}

impl ScopeInput {
    fn parse(&self) -> Result<ScheduleScope> {
        Ok(ScheduleScope::new(self.kind.into(), parse_id(&self.id, "scope")?))
    }
}

/// A scope as answered.
#[derive(SimpleObject, Debug)]
pub struct ScopeRef {
    pub kind: ScopeKind,
    pub id: ID,
}

impl From<ScheduleScope> for ScopeRef {
    fn from(scope: ScheduleScope) -> Self {
        ScopeRef { kind: scope.kind().into(), id: scope.id().into() }
    }
}

/// Where an occurrence stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::domain::OccurrenceStatus")]
pub enum OccurrenceStatus {
    /// Waiting to fire.
    Pending,
    Fired,
    /// Missed while koers was down.
    Missed,
    /// On a holiday or a skip date, or due while the schedule was paused.
    Skipped,
    /// Could not fire; the note says why.
    Failed,
}

/// A rule and an action attached to a scope.
#[derive(Debug)]
pub struct Schedule {
    schedule: EngineSchedule,
    /// Read only when the selection asks for them.
    warnings: Vec<String>,
}

/// The schedules a field answers, with their warnings when its selection asks for them:
/// read for all of them at once.
async fn answer(ctx: &Context<'_>, schedules: Vec<EngineSchedule>) -> Result<Vec<Schedule>> {
    let warnings = if ctx.look_ahead().field("warnings").exists() {
        engine(ctx).schedule_warnings(&schedules).await.gql()?
    } else {
        vec![Vec::new(); schedules.len()]
    };
    Ok(schedules.into_iter().zip(warnings).map(|(schedule, warnings)| Schedule { schedule, warnings }).collect())
}

/// One schedule a field answers, as [`answer`] does.
async fn answer_one(ctx: &Context<'_>, schedule: EngineSchedule) -> Result<Schedule> {
    let id = schedule.row.id;
    answer(ctx, vec![schedule]).await?.pop().ok_or_else(|| not_found("schedule", id))
}

#[Object]
impl Schedule {
    async fn id(&self) -> ID {
        self.schedule.row.id.into()
    }
    /// Unique within the scope; the template key for an applied template.
    async fn key(&self) -> &str {
        &self.schedule.spec.key
    }
    async fn name(&self) -> &str {
        &self.schedule.spec.name
    }
    async fn template(&self) -> Option<&str> {
        self.schedule.spec.template.as_deref()
    }
    async fn scope(&self) -> ScopeRef {
        self.schedule.spec.scope.into()
    }
    /// The rule, as given to `createSchedule`.
    async fn rule(&self) -> Json<Value> {
        Json(serde_json::to_value(&self.schedule.spec.rule).unwrap_or(Value::Null))
    }
    async fn action(&self) -> Json<Value> {
        Json(serde_json::to_value(&self.schedule.spec.action).unwrap_or(Value::Null))
    }
    /// Overlap, catch-up, holidays, active window and skip dates.
    async fn policy(&self) -> Json<Value> {
        Json(serde_json::to_value(&self.schedule.spec.policy).unwrap_or(Value::Null))
    }
    /// What the schedule would not do as its scope stands now: targets that match nothing,
    /// reminders nobody can be assigned to ("KC Signaal: no professional with role
    /// `directeur` to assign the reminder to"). Such a schedule is created all the same,
    /// since professionals, groepen and teams may be added before it fires; firing notes
    /// what is still missing then in the occurrence's `result.skipped`.
    async fn warnings(&self) -> &[String] {
        &self.warnings
    }
    async fn paused(&self) -> bool {
        self.schedule.row.paused
    }
    /// Stored occurrences of this schedule, newest due first.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn occurrences(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Occurrence>> {
        let page = page(first, after)?;
        Ok(connection(page, engine(ctx).occurrences(Some(self.schedule.row.id), None, page).await.gql()?, Occurrence))
    }
}

/// A template of the quality calendar.
#[derive(SimpleObject, Debug)]
pub struct ScheduleTemplate {
    pub key: String,
    pub name: String,
    pub description: String,
    pub rule: Json<Value>,
    pub action: Json<Value>,
}

/// One occurrence on the calendar, as the rules plan it.
#[derive(Debug)]
pub struct PlannedOccurrence(pub Planned);

#[Object]
impl PlannedOccurrence {
    /// The template or schedule key.
    async fn schedule(&self) -> &str {
        &self.0.schedule
    }
    async fn schedule_id(&self) -> ID {
        self.0.schedule_id.into()
    }
    /// When it fires, with the Dutch offset of that moment: `2026-12-07T08:30:00+01:00`.
    async fn due_at(&self) -> DateTime<FixedOffset> {
        dutch(self.0.due_at)
    }
    async fn scope(&self) -> &str {
        &self.0.scope
    }
    /// The groepen, teams or kindcentra the action applies to.
    async fn target(&self) -> &[String] {
        &self.0.target
    }
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// Why it moved (a school holiday) or is skipped.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    async fn skipped(&self) -> bool {
        self.0.skipped
    }
}

/// A stored occurrence and what firing it created.
#[derive(Debug)]
pub struct Occurrence(pub occurrence::Model);

#[Object]
impl Occurrence {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn schedule_id(&self) -> ID {
        self.0.schedule_id.into()
    }
    /// When it is due, with the Dutch offset of that moment: `2026-12-07T08:30:00+01:00`.
    async fn due_at(&self) -> DateTime<FixedOffset> {
        dutch(self.0.due_at)
    }
    /// The Dutch wall-clock time the rule asked for.
    async fn local_at(&self) -> NaiveDateTime {
        self.0.local_at
    }
    /// Where it stands; the note says why one was skipped or failed.
    async fn status(&self) -> OccurrenceStatus {
        self.0.status.into()
    }
    /// When it fired (or failed), with the Dutch offset of that moment.
    async fn fired_at(&self) -> Option<DateTime<FixedOffset>> {
        self.0.fired_at.map(dutch)
    }
    /// What firing created: `cycles_opened`, `cycles_iterated`, `reminders`, `skipped`.
    async fn result(&self) -> Option<Json<Value>> {
        self.0.result.as_deref().and_then(|r| serde_json::from_str(r).ok()).map(Json)
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

/// Something to do by a date.
#[derive(Debug)]
pub struct Reminder(pub reminder::Model);

#[Object]
impl Reminder {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn due_date(&self) -> NaiveDate {
        self.0.due_date
    }
    async fn done(&self) -> bool {
        self.0.done_at.is_some()
    }
    async fn overdue(&self, ctx: &Context<'_>) -> bool {
        engine(ctx).is_reminder_overdue(&self.0)
    }
    async fn occurrence_id(&self) -> Option<ID> {
        self.0.occurrence_id.map(Into::into)
    }
    async fn team(&self, ctx: &Context<'_>) -> Result<Option<Team>> {
        optional(ctx, self.0.team_id.map(TeamById)).await.map(|t| t.map(Team))
    }
    async fn professional(&self, ctx: &Context<'_>) -> Result<Option<Professional>> {
        optional(ctx, self.0.professional_id.map(ProfessionalById)).await.map(|p| p.map(Professional))
    }
    /// The groep it is about, if any.
    async fn groep(&self, ctx: &Context<'_>) -> Result<Option<Groep>> {
        optional(ctx, self.0.groep_id.map(GroepById)).await.map(|g| g.map(Groep))
    }
}

/// The calendar.
#[derive(Default, Debug)]
pub struct ScheduleQuery;

#[Object]
impl ScheduleQuery {
    /// Schedules, optionally of one scope.
    async fn schedules(&self, ctx: &Context<'_>, scope: Option<ScopeInput>) -> Result<Vec<Schedule>> {
        let scope = scope.map(|s| s.parse()).transpose()?;
        answer(ctx, engine(ctx).schedules(scope).await.gql()?).await
    }

    async fn schedule(&self, ctx: &Context<'_>, id: ID) -> Result<Schedule> {
        let key = parse_id(&id, "schedule")?;
        let schedule = engine(ctx).schedule(key).await.gql()?.ok_or_else(|| not_found("schedule", key))?;
        answer_one(ctx, schedule).await
    }

    /// The templates a scope can be given (`applyScheduleTemplate`).
    async fn schedule_templates(&self) -> Result<Vec<ScheduleTemplate>> {
        Ok(templates()
            .gql()?
            .into_iter()
            .map(|t| ScheduleTemplate {
                rule: Json(serde_json::to_value(&t.rule).unwrap_or(Value::Null)),
                action: Json(serde_json::to_value(&t.action).unwrap_or(Value::Null)),
                key: t.key,
                name: t.name,
                description: t.description,
            })
            .collect())
    }

    /// What the calendar holds from `from` through `to` (both included), for every schedule
    /// covering the scope (a bestuur: all its kindcentra), by due time. A date stands for
    /// the whole Dutch day: `from: "2026-12-07", to: "2026-12-07"` is that Monday.
    async fn calendar(
        &self,
        ctx: &Context<'_>,
        from: DateOrDateTime,
        to: DateOrDateTime,
        scope: Option<ScopeInput>,
    ) -> Result<Vec<PlannedOccurrence>> {
        let (from, to) = (from.0.first(), to.0.last());
        // A request limit, not a rule of the calendar: the CLI preview has none.
        if to - from > chrono::Duration::days(5 * 366) {
            return Err(validation("ask for at most five years at a time"));
        }
        let scope = scope.map(|s| s.parse()).transpose()?;
        Ok(engine(ctx).preview(from, to, scope).await.gql()?.into_iter().map(PlannedOccurrence).collect())
    }

    /// Stored occurrences, newest due first; with `status`, only those of that status.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn occurrences(
        &self,
        ctx: &Context<'_>,
        schedule_id: Option<ID>,
        status: Option<OccurrenceStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Occurrence>> {
        let page = page(first, after)?;
        let schedule = schedule_id.map(|id| parse_id(&id, "schedule")).transpose()?;
        Ok(connection(page, engine(ctx).occurrences(schedule, status.map(Into::into), page).await.gql()?, Occurrence))
    }

    /// Reminders by due date; `overdue: true` only those not done and past due.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn reminders(
        &self,
        ctx: &Context<'_>,
        overdue: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Reminder>> {
        let page = page(first, after)?;
        Ok(connection(page, engine(ctx).reminders(overdue, page).await.gql()?, Reminder))
    }
}

/// A schedule to create or replace.
#[derive(InputObject, Debug)]
pub struct ScheduleInput {
    pub key: String,
    pub name: String,
    pub scope: ScopeInput,
    /// `{ "kind": "cron", "expression": "0 0 9 * * Mon *" }`, `{ "kind": "nth-weekday", "n": 1,
    /// "weekday": "monday", "months": [1, 4, 7, 10], "time": "09:00:00" }`, `{ "kind":
    /// "dates", "at": ["2026-09-21T08:30:00"] }` or `{ "kind": "interval", "anchor":
    /// "2026-10-05T09:00:00", "every": 2, "unit": "years" }`.
    pub rule: Json<Value>,
    /// `open-cycle`, `iterate` or `reminder`; see workflows/README.md.
    pub action: Json<Value>,
    #[graphql(default)]
    pub policy: Option<Json<Value>>,
}

fn parse_json<T: DeserializeOwned>(what: &str, value: Value) -> Result<T> {
    serde_json::from_value(value).map_err(|e| validation(&format!("{what}: {e}")))
}

impl ScheduleInput {
    fn parse(self) -> Result<ScheduleSpec> {
        Ok(ScheduleSpec {
            key: self.key,
            name: self.name,
            template: None,
            scope: self.scope.parse()?,
            rule: parse_json("rule", self.rule.0)?,
            action: parse_json("action", self.action.0)?,
            policy: parse_json("policy", self.policy.map_or(Value::Object(Default::default()), |p| p.0))?,
        })
    }
}

#[derive(InputObject, Debug)]
pub struct ApplyTemplateInput {
    pub template: String,
    pub scope: ScopeInput,
    /// The dates of a template whose dates the team chooses (ep-dag), Dutch wall-clock time.
    #[graphql(default)]
    pub dates: Vec<LocalDateTime>,
    pub active_from: Option<Date>,
    pub active_until: Option<Date>,
}

/// Changes to the calendar.
#[derive(Default, Debug)]
pub struct ScheduleMutation;

#[Object]
impl ScheduleMutation {
    /// Marks a reminder done, or with `done: false` not done again.
    async fn complete_reminder(&self, ctx: &Context<'_>, id: ID, done: Option<bool>) -> Result<Reminder> {
        let id = parse_id(&id, "reminder")?;
        engine(ctx).complete_reminder(id, done.unwrap_or(true)).await.gql().map(Reminder)
    }

    /// Creates a schedule; its `warnings` say what it would not do as its scope stands now.
    async fn create_schedule(&self, ctx: &Context<'_>, input: ScheduleInput) -> Result<Schedule> {
        answer_one(ctx, engine(ctx).create_schedule(input.parse()?).await.gql()?).await
    }

    /// Replaces a schedule's rule, action and policy; its pending occurrences are planned anew.
    async fn update_schedule(&self, ctx: &Context<'_>, id: ID, input: ScheduleInput) -> Result<Schedule> {
        let id = parse_id(&id, "schedule")?;
        answer_one(ctx, engine(ctx).update_schedule(id, input.parse()?).await.gql()?).await
    }

    /// Pauses (or, with `paused: false`, resumes) a schedule.
    async fn pause_schedule(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(default = true)] paused: bool,
    ) -> Result<Schedule> {
        let id = parse_id(&id, "schedule")?;
        answer_one(ctx, engine(ctx).pause_schedule(id, paused).await.gql()?).await
    }

    /// Gives a scope the schedule of a template; applying it again updates that schedule.
    /// Its `warnings` say what it would not do as the scope stands now.
    async fn apply_schedule_template(&self, ctx: &Context<'_>, input: ApplyTemplateInput) -> Result<Schedule> {
        let options = TemplateOptions {
            dates: input.dates.into_iter().map(|d| d.0).collect(),
            active_from: input.active_from.map(|d| d.0),
            active_until: input.active_until.map(|d| d.0),
        };
        let schedule = engine(ctx).apply_template(&input.template, input.scope.parse()?, options).await.gql()?;
        answer_one(ctx, schedule).await
    }
}
