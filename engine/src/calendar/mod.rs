//! The quality calendar: schedules attached to a scope, their stored occurrences, and what
//! firing them creates (cycles, iterations of cycles, reminders).
//!
//! Occurrences are materialised ahead over a horizon, each stored once per (schedule, due
//! time). Firing one marks it and creates its results in the same transaction, so a crash
//! mid-fire leaves it pending and it fires once after restart; a fired occurrence is never
//! fired again.

pub mod dates;
mod fire;
pub mod rule;
pub mod template;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::access::Change;
use crate::domain::{
    OccurrenceStatus, OnderdeelKind, Role, ScheduleScope, ScheduleScopeKind, SchoolYear, TeamKind, VacationRegion,
};
use crate::error::{Error, Result};
use crate::store::entity::{
    groep, kindcentrum, kindcentrum_bestuur, locatie, occurrence, reminder, schedule, school_holiday, team,
};
use crate::store::query::{Page, Slice};
use rule::{Rule, instant, local};

/// Who the calendar acts as in cycle events.
const ACTOR: &str = "scheduler";
/// How far ahead occurrences are stored at least. They are stored through the end of the
/// school year this reaches, so that the calendar is extended once a school year, for
/// every schedule in one sweep in the order of the schedules (rows that lie together are
/// written together), and every other wake-up of the scheduler stores nothing and costs
/// one indexed statement.
pub const HORIZON_DAYS: i64 = 400;
/// Schedules materialised per transaction: large enough that commits do not dominate,
/// small enough that neither the write lock nor memory is held long.
const MATERIALIZE_BATCH: u64 = 2000;
/// Times of a plan one statement stores (four values each).
const PLAN_TIMES_CHUNK: usize = 500;
/// Due occurrences fired per transaction. A commit writes every page the batch touched,
/// and the pages at the end of tables and indexes are touched by every batch: at national
/// scale 4,000 fired a school year in about 80% of the time 1,000 took, holding the write
/// lock for a few tenths of a second.
pub const FIRE_BATCH: u64 = 4000;
/// Rows per INSERT statement (well within the bind limits of both stores).
const INSERT_CHUNK: usize = 1000;
/// The most days a catch-up window or a due date of a schedule may span: five years.
pub const MAX_DAYS: u32 = 5 * 366;
/// An occurrence this late still counts as on time.
const GRACE_MINUTES: i64 = 10;

/// What an occurrence does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    /// Opens a cycle of `workflow` for every target.
    OpenCycle {
        workflow: String,
        title: String,
        #[serde(default)]
        targets: Targets,
        /// The initial phase is due this many days after the occurrence.
        #[serde(default)]
        due_in_days: Option<u32>,
    },
    /// Moves every open cycle of `workflow` in the scope from phase `from` to `to` (the
    /// next iteration).
    Iterate { workflow: String, from: String, to: String },
    /// Creates a reminder for every target, due `due_in_days` after the occurrence.
    Reminder {
        title: String,
        due_in_days: u32,
        #[serde(default)]
        targets: Targets,
        assignee: Assignee,
    },
}

/// Whom an action is for, within the schedule's scope.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "select", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Targets {
    /// The scope itself (a kindcentrum, groep or team; each kindcentrum of a bestuur).
    #[default]
    Scope,
    /// Every groep of the given onderdelen (all when empty).
    Groepen {
        #[serde(default)]
        onderdelen: Vec<OnderdeelKind>,
    },
    /// Every team of the given kinds (all when empty).
    Teams {
        #[serde(default)]
        kinds: Vec<TeamKind>,
    },
}

/// Who a reminder is assigned to, found in the target's kindcentrum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "select", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Assignee {
    /// The first team of this kind.
    Team { kind: TeamKind },
    /// Every professional with this role.
    Role { role: Role },
}

impl Targets {
    /// What the targets look for in a scope, as a schedule's JSON or TOML spells it:
    /// "groep of onderdeel `bso` or `dagopvang`".
    fn wanted(&self, scope: ScheduleScope) -> String {
        fn of<T: ActiveEnum<Value = String>>(noun: &str, how: &str, values: &[T]) -> String {
            if values.is_empty() {
                return noun.to_owned();
            }
            let values: Vec<String> = values.iter().map(|v| format!("`{}`", v.to_value())).collect();
            format!("{noun} {how} {}", values.join(" or "))
        }
        match self {
            Targets::Scope => scope.kind().to_string(),
            Targets::Groepen { onderdelen } => of("groep", "of onderdeel", onderdelen),
            Targets::Teams { kinds } => of("team", "of kind", kinds),
        }
    }
}

impl Assignee {
    /// Whom the rule looks for, as a schedule's JSON or TOML spells it: "professional with
    /// role `directeur`", "team of kind `plg`".
    fn wanted(&self) -> String {
        match self {
            Assignee::Team { kind } => format!("team of kind `{}`", kind.to_value()),
            Assignee::Role { role } => format!("professional with role `{}`", role.to_value()),
        }
    }
}

/// When the previous occurrence's cycle is still open.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Overlap {
    /// Open the new one anyway; the old one shows as overdue.
    #[default]
    Open,
    /// Skip the target.
    Skip,
}

/// What happens to occurrences missed while koers was down.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "policy", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CatchUp {
    /// Fire the latest missed occurrence once; mark the older ones missed.
    #[default]
    Latest,
    /// Fire every missed occurrence of the last `window_days`; mark older ones missed.
    All { window_days: u32 },
    /// Mark every missed occurrence missed.
    None,
}

/// What happens to an occurrence in a school holiday of its region.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Holidays {
    /// Holidays do not matter.
    #[default]
    Ignore,
    /// Move to the first school day after the holiday.
    Move,
    /// Skip the occurrence.
    Skip,
}

/// How a schedule behaves around its rule.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    pub overlap: Overlap,
    pub catch_up: CatchUp,
    pub holidays: Holidays,
    /// First and last local date the schedule is active (included).
    #[serde(deserialize_with = "dates::optional")]
    pub active_from: Option<NaiveDate>,
    #[serde(deserialize_with = "dates::optional")]
    pub active_until: Option<NaiveDate>,
    /// Dates on which nothing fires (studiedagen).
    #[serde(deserialize_with = "dates::list")]
    pub skip_dates: Vec<NaiveDate>,
}

/// Everything that defines a schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleSpec {
    pub key: String,
    pub name: String,
    pub template: Option<String>,
    pub scope: ScheduleScope,
    pub rule: Rule,
    pub action: Action,
    pub policy: Policy,
}

/// A schedule as stored, parsed.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub row: schedule::Model,
    pub spec: ScheduleSpec,
}

/// One occurrence a schedule would fire, for the preview and the calendar.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Planned {
    pub schedule: String,
    pub schedule_id: i64,
    #[serde(serialize_with = "amsterdam")]
    pub due_at: DateTime<Utc>,
    pub scope: String,
    pub target: Vec<String>,
    pub action: String,
    /// Why it moved or is skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub skipped: bool,
}

fn amsterdam<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&rule::dutch(*at).to_rfc3339())
}

/// What firing an occurrence created.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Fired {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cycles_opened: Vec<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cycles_iterated: Vec<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reminders: Vec<i64>,
    /// Targets left alone, with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
}

/// What one run of the scheduler did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    pub fired: usize,
    pub missed: usize,
    /// Occurrences that could not fire, marked failed with the reason.
    pub failed: usize,
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(Error::stored_json)
}

impl ScheduleSpec {
    /// The row of a new schedule created at `now`, whose occurrences are stored from then on.
    pub fn new_row(&self, now: DateTime<Utc>) -> Result<schedule::ActiveModel> {
        Ok(schedule::ActiveModel {
            key: Set(self.key.clone()),
            name: Set(self.name.trim().to_owned()),
            template: Set(self.template.clone()),
            scope_kind: Set(self.scope.kind()),
            scope_id: Set(self.scope.id()),
            rule: Set(to_json(&self.rule)?),
            action: Set(to_json(&self.action)?),
            policy: Set(to_json(&self.policy)?),
            paused: Set(false),
            materialized_until: Set(local(now)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
    }
}

impl Schedule {
    pub fn parse(row: schedule::Model) -> Result<Schedule> {
        let spec = ScheduleSpec {
            key: row.key.clone(),
            name: row.name.clone(),
            template: row.template.clone(),
            scope: ScheduleScope::new(row.scope_kind, row.scope_id),
            rule: serde_json::from_str(&row.rule).map_err(Error::stored_json)?,
            action: serde_json::from_str(&row.action).map_err(Error::stored_json)?,
            policy: serde_json::from_str(&row.policy).map_err(Error::stored_json)?,
        };
        Ok(Schedule { row, spec })
    }
}

impl ScheduleSpec {
    /// Checks rule, action and policy; messages say what is wrong.
    pub fn validate(&self) -> Result<()> {
        self.key.parse::<crate::domain::Key>().map_err(Error::Validation)?;
        if self.name.trim().is_empty() {
            return Err(Error::Validation("a schedule needs a name".into()));
        }
        self.rule.validate().map_err(Error::Validation)?;
        let days = |what: &str, days: u32| {
            if days > MAX_DAYS {
                Err(Error::Validation(format!("{what} is {days} days; at most {MAX_DAYS} (five years) is allowed")))
            } else {
                Ok(())
            }
        };
        match &self.action {
            Action::OpenCycle { due_in_days: Some(due), .. } => days("due_in_days", *due)?,
            Action::Reminder { due_in_days, .. } => days("due_in_days", *due_in_days)?,
            Action::OpenCycle { .. } | Action::Iterate { .. } => {}
        }
        let policy = &self.policy;
        if let CatchUp::All { window_days } = policy.catch_up {
            days("the catch-up window_days", window_days)?;
        }
        if policy.skip_dates.len() > rule::MAX_DATES {
            return Err(Error::Validation(format!(
                "skip_dates holds {} dates; at most {} are allowed",
                policy.skip_dates.len(),
                rule::MAX_DATES
            )));
        }
        let named = [("active_from", policy.active_from), ("active_until", policy.active_until)];
        for (what, date) in named.into_iter().filter_map(|(what, date)| Some((what, date?))) {
            rule::check_year(what, date).map_err(Error::Validation)?;
        }
        for date in &policy.skip_dates {
            rule::check_year("the skip date", *date).map_err(Error::Validation)?;
        }
        if let (Some(from), Some(until)) = (policy.active_from, policy.active_until)
            && until < from
        {
            return Err(Error::Validation(format!("active_until {until} lies before active_from {from}")));
        }
        Ok(())
    }
}

/// What the placed times of a schedule depend on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PlanKey {
    rule: String,
    policy: String,
    after: NaiveDateTime,
    region: Option<VacationRegion>,
}

/// What storing a schedule from a moment on comes to.
#[derive(Clone, Debug)]
struct Plan {
    times: std::sync::Arc<Vec<PlannedRow>>,
    /// How far the schedule is then stored: through the end of the school year the
    /// horizon reaches, or of the school year before its next time if that is later.
    stored_through: NaiveDateTime,
}

/// The last moment of the school year `at` falls in: 31 July, 23:59:59.
fn school_year_end(at: NaiveDateTime) -> NaiveDateTime {
    let last_second = NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN);
    SchoolYear::containing(at.date()).last_day().and_time(last_second)
}

/// Stored through for a schedule that fires never again: the end of the year 9999, a
/// moment both stores can hold.
fn far_future() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(9999, 12, 31).and_then(|d| d.and_hms_opt(23, 59, 59)).unwrap_or_default()
}

/// Stores the times of `plan` for each of the schedules `ids`: the store pairs them, in
/// the order of schedule and time, so that a statement carries a few hundred times and
/// up to a thousand ids instead of a row per occurrence. Times already stored for a
/// schedule are left as they are.
async fn store_plan(txn: &DatabaseTransaction, plan: &Plan, ids: &[i64]) -> Result<()> {
    use occurrence::Column as C;
    use sea_orm::sea_query::{Alias, Order, Query, ValueTuple};
    let (s, t) = (Alias::new("s"), Alias::new("t"));
    for times in plan.times.chunks(PLAN_TIMES_CHUNK) {
        for ids in ids.chunks(INSERT_CHUNK) {
            let values = times.iter().map(|row| {
                ValueTuple::Many(vec![
                    row.due_at.into(),
                    row.local_at.into(),
                    row.status.into(),
                    row.note.clone().into(),
                ])
            });
            let pairs = Query::select()
                .column((s.clone(), schedule::Column::Id))
                .columns(["column1", "column2", "column3", "column4"].map(|c| (t.clone(), Alias::new(c))))
                .from_as(schedule::Entity, s.clone())
                .from_values(values, t.clone())
                .and_where(Expr::col((s.clone(), schedule::Column::Id)).is_in(ids.iter().copied()))
                .order_by((s.clone(), schedule::Column::Id), Order::Asc)
                .order_by((t.clone(), Alias::new("column1")), Order::Asc)
                .to_owned();
            let insert = Query::insert()
                .into_table(occurrence::Entity)
                .columns([C::ScheduleId, C::DueAt, C::LocalAt, C::Status, C::Note])
                .select_from(pairs)
                .map_err(|err| Error::Database(sea_orm::DbErr::Custom(err.to_string())))?
                .on_conflict(OnConflict::columns([C::ScheduleId, C::DueAt]).do_nothing().to_owned())
                .to_owned();
            txn.execute(&insert).await?;
        }
    }
    Ok(())
}

/// One occurrence to store, before it belongs to a schedule.
#[derive(Clone, Debug)]
struct PlannedRow {
    local_at: NaiveDateTime,
    due_at: DateTime<Utc>,
    status: OccurrenceStatus,
    note: Option<String>,
}

/// A school holiday's dates.
#[derive(Clone, Copy, Debug)]
struct Holiday {
    start: NaiveDate,
    end: NaiveDate,
}

/// The first weekday after `date` that is not in a holiday.
fn first_school_day_after(mut date: NaiveDate, holidays: &[Holiday]) -> NaiveDate {
    loop {
        date = date.succ_opt().unwrap_or(date);
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        if !weekend && !holidays.iter().any(|h| h.start <= date && date <= h.end) {
            return date;
        }
    }
}

/// Applies window, skip dates and holidays to a local time: the time to fire at (moved or
/// not), or why it is skipped.
fn place(
    local_at: NaiveDateTime,
    policy: &Policy,
    holidays: &[Holiday],
) -> std::result::Result<(NaiveDateTime, Option<String>), String> {
    let date = local_at.date();
    if policy.skip_dates.contains(&date) {
        return Err(format!("{date} is a skip date"));
    }
    let Some(holiday) = holidays.iter().find(|h| h.start <= date && date <= h.end) else {
        return Ok((local_at, None));
    };
    match policy.holidays {
        Holidays::Ignore => Ok((local_at, None)),
        Holidays::Skip => Err(format!("{date} falls in the school holiday {} .. {}", holiday.start, holiday.end)),
        Holidays::Move => {
            let moved = first_school_day_after(holiday.end, holidays).and_time(local_at.time());
            Ok((moved, Some(format!("moved from {date}: school holiday {} .. {}", holiday.start, holiday.end))))
        }
    }
}

fn in_window(local_at: NaiveDateTime, policy: &Policy) -> bool {
    let date = local_at.date();
    policy.active_from.is_none_or(|from| date >= from) && policy.active_until.is_none_or(|until| date <= until)
}

impl Engine {
    /// Wakes the scheduler loop: schedules changed.
    pub(crate) fn schedules_changed(&self) {
        self.inner.schedules_changed.notify_one();
    }

    /// Completes when schedules change.
    pub async fn schedules_changed_notified(&self) {
        self.inner.schedules_changed.notified().await;
    }

    /// Creates a schedule; its occurrences are stored from now on. A schedule that would
    /// reach nobody yet is created all the same: [`Engine::schedule_warnings`] tells.
    #[tracing::instrument(skip(self, spec), fields(key = %spec.key, scope = %spec.scope))]
    pub async fn create_schedule(&self, spec: ScheduleSpec) -> Result<Schedule> {
        spec.validate()?;
        self.check_workflow(&spec.action)?;
        let txn = crate::store::begin_write(self.db()).await?;
        self.check_scope(&txn, spec.scope).await?;
        let existing = schedule::Entity::find()
            .filter(schedule::Column::ScopeKind.eq(spec.scope.kind()))
            .filter(schedule::Column::ScopeId.eq(spec.scope.id()))
            .filter(schedule::Column::Key.eq(&spec.key))
            .one(&txn)
            .await?;
        if existing.is_some() {
            return Err(Error::Validation(format!(
                "scope {} already has a schedule `{}`: choose another key, or change that schedule",
                spec.scope, spec.key
            )));
        }
        let row = spec.new_row(self.clock().now())?.insert(&txn).await?;
        txn.commit().await?;
        self.schedules_changed();
        Schedule::parse(row)
    }

    /// Refuses an action on a workflow this engine does not know, or an iteration its
    /// workflow does not declare: else the schedule would be stored and fail each time it
    /// fires.
    fn check_workflow(&self, action: &Action) -> Result<()> {
        let (key, iterate) = match action {
            Action::OpenCycle { workflow, .. } => (workflow, None),
            Action::Iterate { workflow, from, to } => (workflow, Some((from, to))),
            Action::Reminder { .. } => return Ok(()),
        };
        let Some(workflow) = self.workflow(key) else {
            let mut known: Vec<String> = self.workflows().into_iter().map(|w| w.def.key.clone()).collect();
            known.sort();
            return Err(Error::Validation(format!(
                "there is no workflow `{key}`; the workflows are: {}",
                known.join(", ")
            )));
        };
        if let Some((from, to)) = iterate {
            let declared = workflow
                .def
                .transitions
                .iter()
                .any(|t| &t.from == from && &t.to == to && t.kind == crate::workflow::TransitionKind::Iterate);
            if !declared {
                let iterations: Vec<String> = workflow
                    .def
                    .transitions
                    .iter()
                    .filter(|t| t.kind == crate::workflow::TransitionKind::Iterate)
                    .map(|t| format!("{} -> {}", t.from, t.to))
                    .collect();
                return Err(Error::Validation(format!(
                    "workflow `{key}` does not iterate from `{from}` to `{to}`; it iterates {}",
                    if iterations.is_empty() { "nowhere".to_owned() } else { iterations.join(", ") }
                )));
            }
        }
        Ok(())
    }

    /// Replaces rule, action, policy and name; pending occurrences are stored anew.
    pub async fn update_schedule(&self, id: i64, spec: ScheduleSpec) -> Result<Schedule> {
        spec.validate()?;
        self.check_workflow(&spec.action)?;
        let txn = crate::store::begin_write(self.db()).await?;
        let row =
            self.for_change(schedule::Entity::find_by_id(id).one(&txn).await?, "schedule", id, Change::Schedules)?;
        if (row.scope_kind, row.scope_id) != (spec.scope.kind(), spec.scope.id()) {
            return Err(Error::Validation("a schedule keeps its scope; create a new one for another scope".into()));
        }
        occurrence::Entity::delete_many()
            .filter(occurrence::Column::ScheduleId.eq(id))
            .filter(occurrence::Column::Status.eq(OccurrenceStatus::Pending))
            .exec(&txn)
            .await?;
        let now = self.clock().now();
        let mut active: schedule::ActiveModel = row.into();
        active.key = Set(spec.key.clone());
        active.name = Set(spec.name.trim().to_owned());
        active.template = Set(spec.template.clone());
        active.rule = Set(to_json(&spec.rule)?);
        active.action = Set(to_json(&spec.action)?);
        active.policy = Set(to_json(&spec.policy)?);
        active.materialized_until = Set(local(now));
        active.updated_at = Set(now);
        let row = active.update(&txn).await?;
        txn.commit().await?;
        self.schedules_changed();
        Schedule::parse(row)
    }

    /// Pauses or resumes a schedule. A paused schedule stores and fires nothing; on resume
    /// it continues from now, without catching up the pause.
    pub async fn pause_schedule(&self, id: i64, paused: bool) -> Result<Schedule> {
        let txn = crate::store::begin_write(self.db()).await?;
        let row =
            self.for_change(schedule::Entity::find_by_id(id).one(&txn).await?, "schedule", id, Change::Schedules)?;
        let now = self.clock().now();
        if paused {
            occurrence::Entity::update_many()
                .col_expr(occurrence::Column::Status, Expr::value(OccurrenceStatus::Skipped))
                .col_expr(occurrence::Column::Note, Expr::value("schedule paused"))
                .filter(occurrence::Column::ScheduleId.eq(id))
                .filter(occurrence::Column::Status.eq(OccurrenceStatus::Pending))
                .exec(&txn)
                .await?;
        }
        let mut active: schedule::ActiveModel = row.into();
        active.paused = Set(paused);
        active.materialized_until = Set(local(now));
        active.updated_at = Set(now);
        let row = active.update(&txn).await?;
        txn.commit().await?;
        self.schedules_changed();
        Schedule::parse(row)
    }

    /// Schedules, optionally of one scope.
    pub async fn schedules(&self, scope: Option<ScheduleScope>) -> Result<Vec<Schedule>> {
        let mut select = schedule::Entity::find().order_by_asc(schedule::Column::Id);
        if let Some(scope) = scope {
            select = select
                .filter(schedule::Column::ScopeKind.eq(scope.kind()))
                .filter(schedule::Column::ScopeId.eq(scope.id()));
        }
        self.visible(select.all(self.db()).await?).into_iter().map(Schedule::parse).collect()
    }

    pub async fn schedule(&self, id: i64) -> Result<Option<Schedule>> {
        self.visible_one(schedule::Entity::find_by_id(id).one(self.db()).await?).map(Schedule::parse).transpose()
    }

    async fn check_scope(&self, txn: &DatabaseTransaction, scope: ScheduleScope) -> Result<()> {
        let exists = match scope {
            ScheduleScope::Bestuur(id) => {
                crate::store::entity::bestuur::Entity::find_by_id(id).one(txn).await?.is_some()
            }
            ScheduleScope::Kindcentrum(id) => kindcentrum::Entity::find_by_id(id).one(txn).await?.is_some(),
            ScheduleScope::Locatie(id) => locatie::Entity::find_by_id(id).one(txn).await?.is_some(),
            ScheduleScope::Groep(id) => groep::Entity::find_by_id(id).one(txn).await?.is_some(),
            ScheduleScope::Team(id) => team::Entity::find_by_id(id).one(txn).await?.is_some(),
        };
        if !exists || !self.access_of().reaches_scope(scope) {
            return Err(Error::NotFound { what: scope.kind().as_str(), id: scope.id().to_string() });
        }
        self.access_of().may(Change::Schedules)
    }

    /// The school holidays of the vacation region of a scope (none without one).
    async fn holidays_for<C: ConnectionTrait>(&self, db: &C, scope: ScheduleScope) -> Result<Vec<Holiday>> {
        let Some(region) = single_region(self.regions_in(db, scope).await?) else { return Ok(Vec::new()) };
        Ok(school_holiday::Entity::find()
            .filter(school_holiday::Column::Region.eq(region.to_value()))
            .order_by_asc(school_holiday::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|h| Holiday { start: h.start_date, end: h.end_date })
            .collect())
    }

    /// The kindcentra a scope covers.
    async fn kindcentra_in<C: ConnectionTrait>(&self, db: &C, scope: ScheduleScope) -> Result<Vec<i64>> {
        Ok(match scope {
            ScheduleScope::Bestuur(id) => kindcentrum_bestuur::Entity::find()
                .filter(kindcentrum_bestuur::Column::BestuurId.eq(id))
                .all(db)
                .await?
                .into_iter()
                .map(|l| l.kindcentrum_id)
                .collect(),
            ScheduleScope::Kindcentrum(id) => vec![id],
            ScheduleScope::Locatie(id) => {
                locatie::Entity::find_by_id(id).one(db).await?.map(|l| l.kindcentrum_id).into_iter().collect()
            }
            ScheduleScope::Groep(id) => {
                let Some(g) = groep::Entity::find_by_id(id).one(db).await? else { return Ok(Vec::new()) };
                locatie::Entity::find_by_id(g.locatie_id).one(db).await?.map(|l| l.kindcentrum_id).into_iter().collect()
            }
            ScheduleScope::Team(id) => {
                team::Entity::find_by_id(id).one(db).await?.map(|t| t.kindcentrum_id).into_iter().collect()
            }
        })
    }

    /// The local times a schedule fires in `(after, until]`, placed around holidays.
    fn planned_times(
        rule: &Rule,
        policy: &Policy,
        after: NaiveDateTime,
        until: NaiveDateTime,
        holidays: &[Holiday],
    ) -> Vec<(NaiveDateTime, std::result::Result<Option<String>, String>)> {
        rule.local_times(after, until)
            .into_iter()
            .filter(|t| in_window(*t, policy))
            .map(|t| match place(t, policy, holidays) {
                Ok((moved, note)) => (moved, Ok(note)),
                Err(why) => (t, Err(why)),
            })
            .collect()
    }

    /// Stores the occurrences of every active schedule whose stored occurrences end within
    /// the horizon, through the end of the school year the horizon reaches. A schedule
    /// whose next time lies in a later school year (every two years, say) is stored
    /// through the end of the school year before it, since there is nothing to store in
    /// between. Schedules are taken in batches of [`MATERIALIZE_BATCH`], each
    /// in one transaction; on PostgreSQL a batch claims its schedules with row locks and
    /// skips those another process is storing, so two processes never store the same
    /// schedule at once.
    #[tracing::instrument(skip(self))]
    pub async fn materialize(&self) -> Result<usize> {
        let now = self.clock().now();
        let needed = local(now + Duration::days(HORIZON_DAYS));
        let until = school_year_end(needed);
        let behind = || {
            schedule::Entity::find()
                .filter(schedule::Column::Paused.eq(false))
                .filter(schedule::Column::MaterializedUntil.lt(needed))
        };
        // The idle case: one statement on the horizon index.
        if behind().one(self.db()).await?.is_none() {
            return Ok(0);
        }
        let holidays = self.holidays_by_region().await?;
        // The placed times depend only on rule, policy, start and the holidays of the
        // region, which thousands of schedules from the same template share.
        let mut planned: HashMap<PlanKey, Plan> = HashMap::new();
        let mut stored = 0;
        loop {
            let txn = crate::store::begin_write(self.db()).await?;
            // Each batch moves its schedules out of the range it was read from, so the
            // next batch starts at the front of the horizon index again: no offset, and no
            // sort of all the schedules that are behind for every batch.
            let mut select = behind()
                .select_only()
                .column(schedule::Column::Id)
                .column(schedule::Column::ScopeKind)
                .column(schedule::Column::ScopeId)
                .column(schedule::Column::Rule)
                .column(schedule::Column::Policy)
                .column(schedule::Column::MaterializedUntil)
                .order_by_asc(schedule::Column::MaterializedUntil)
                .order_by_asc(schedule::Column::Id)
                .limit(MATERIALIZE_BATCH);
            if txn.get_database_backend() == DbBackend::Postgres {
                select = select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
            }
            let rows: Vec<(i64, ScheduleScopeKind, i64, String, String, NaiveDateTime)> =
                select.into_tuple().all(&txn).await?;
            if rows.is_empty() {
                txn.commit().await?;
                break;
            }
            let full = rows.len() as u64 == MATERIALIZE_BATCH;
            let scopes: BTreeSet<ScheduleScope> =
                rows.iter().map(|(_, kind, id, ..)| ScheduleScope::new(*kind, *id)).collect();
            let regions = self.regions_of(&txn, &scopes).await?;
            // The schedules of a batch that share a plan get the same times: each such
            // group is stored with statements that pair its schedules with its times in
            // the store, so the rows are not sent one by one.
            let mut sharing: HashMap<PlanKey, (Plan, Vec<i64>)> = HashMap::new();
            let mut through: BTreeMap<NaiveDateTime, Vec<i64>> = BTreeMap::new();
            for (id, scope_kind, scope_id, rule, policy, materialized_until) in rows {
                let scope = ScheduleScope::new(scope_kind, scope_id);
                let region = regions.get(&scope).copied().flatten();
                let key = PlanKey { rule, policy, after: materialized_until, region };
                let plan = match planned.get(&key) {
                    Some(plan) => plan.clone(),
                    None => {
                        let rule: Rule = serde_json::from_str(&key.rule).map_err(Error::stored_json)?;
                        let policy: Policy = serde_json::from_str(&key.policy).map_err(Error::stored_json)?;
                        let none = Vec::new();
                        let region_holidays = region.and_then(|r| holidays.get(&r)).unwrap_or(&none);
                        // A rule stored before its bounds were checked (an every-second
                        // cron, dates past the year 2199) stores nothing: it would flood
                        // the calendar or overflow the date arithmetic.
                        let bounded = rule.validate();
                        if let Err(why) = &bounded {
                            tracing::error!(schedule = id, reason = %why, "a stored schedule is out of bounds; nothing of it is stored");
                        }
                        let times: Vec<PlannedRow> = if bounded.is_err() {
                            Vec::new()
                        } else {
                            Self::planned_times(&rule, &policy, materialized_until, until, region_holidays)
                                .into_iter()
                                .map(|(at, placed)| {
                                    let (status, note) = match placed {
                                        Ok(note) => (OccurrenceStatus::Pending, note),
                                        Err(why) => (OccurrenceStatus::Skipped, Some(why)),
                                    };
                                    PlannedRow { local_at: at, due_at: instant(at), status, note }
                                })
                                .collect()
                        };
                        let stored_through = match rule.next_after(until).filter(|_| bounded.is_ok()) {
                            Some(next) => {
                                // The last day of the school year before the one of `next`.
                                let first = SchoolYear::containing(next.date()).first_day();
                                let before = first.pred_opt().unwrap_or(first);
                                Ord::max(until, school_year_end(before.and_time(NaiveTime::MIN)))
                            }
                            None => far_future(),
                        };
                        let plan = Plan { times: std::sync::Arc::new(times), stored_through };
                        planned.insert(key.clone(), plan.clone());
                        plan
                    }
                };
                through.entry(plan.stored_through).or_default().push(id);
                sharing.entry(key).or_insert_with(|| (plan, Vec::new())).1.push(id);
            }
            for (plan, ids) in sharing.values() {
                stored += plan.times.len() * ids.len();
                store_plan(&txn, plan, ids).await?;
            }
            let mut schedules = 0;
            for (stored_through, ids) in through {
                schedules += ids.len();
                schedule::Entity::update_many()
                    .col_expr(schedule::Column::MaterializedUntil, Expr::value(stored_through))
                    .filter(schedule::Column::Id.is_in(ids))
                    .exec(&txn)
                    .await?;
            }
            txn.commit().await?;
            tracing::debug!(schedules, "schedules materialised");
            if !full {
                break;
            }
        }
        Ok(stored)
    }

    /// Every school holiday, per region.
    async fn holidays_by_region(&self) -> Result<HashMap<VacationRegion, Vec<Holiday>>> {
        let mut out: HashMap<VacationRegion, Vec<Holiday>> = HashMap::new();
        for h in school_holiday::Entity::find().order_by_asc(school_holiday::Column::Id).all(self.db()).await? {
            let Ok(region) = VacationRegion::try_from_value(&h.region) else { continue };
            out.entry(region).or_default().push(Holiday { start: h.start_date, end: h.end_date });
        }
        Ok(out)
    }

    /// The vacation region of each scope, as [`Engine::holidays_for`] decides it: the one
    /// region of its locaties, or none. Kindcentra, the scope of nearly every schedule,
    /// are read together.
    async fn regions_of<C: ConnectionTrait>(
        &self,
        db: &C,
        scopes: &BTreeSet<ScheduleScope>,
    ) -> Result<HashMap<ScheduleScope, Option<VacationRegion>>> {
        let kindcentra: Vec<i64> = scopes
            .iter()
            .filter_map(|s| if let ScheduleScope::Kindcentrum(id) = s { Some(*id) } else { None })
            .collect();
        let mut by_kindcentrum: HashMap<i64, BTreeSet<VacationRegion>> = HashMap::new();
        for chunk in kindcentra.chunks(INSERT_CHUNK) {
            for l in locatie::Entity::find()
                .filter(locatie::Column::KindcentrumId.is_in(chunk.iter().copied()))
                .all(db)
                .await?
            {
                let regions = by_kindcentrum.entry(l.kindcentrum_id).or_default();
                regions.extend(l.vacation_region);
            }
        }
        let mut out = HashMap::new();
        for &scope in scopes {
            let region = match scope {
                ScheduleScope::Kindcentrum(id) => single_region(by_kindcentrum.remove(&id).unwrap_or_default()),
                other => single_region(self.regions_in(db, other).await?),
            };
            out.insert(scope, region);
        }
        Ok(out)
    }

    /// The vacation regions of the locaties of a scope.
    async fn regions_in<C: ConnectionTrait>(&self, db: &C, scope: ScheduleScope) -> Result<BTreeSet<VacationRegion>> {
        let locatie_ids: Vec<i64> = match scope {
            ScheduleScope::Locatie(id) => vec![id],
            ScheduleScope::Groep(id) => {
                groep::Entity::find_by_id(id).one(db).await?.map(|g| g.locatie_id).into_iter().collect()
            }
            other => {
                let kindcentra = self.kindcentra_in(db, other).await?;
                locatie::Entity::find()
                    .filter(locatie::Column::KindcentrumId.is_in(kindcentra))
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|l| l.id)
                    .collect()
            }
        };
        Ok(locatie::Entity::find()
            .filter(locatie::Column::Id.is_in(locatie_ids))
            .all(db)
            .await?
            .into_iter()
            .filter_map(|l| l.vacation_region)
            .collect())
    }

    /// The next time a pending occurrence is due.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(occurrence::Entity::find()
            .filter(occurrence::Column::Status.eq(OccurrenceStatus::Pending))
            .order_by_asc(occurrence::Column::DueAt)
            .one(self.db())
            .await?
            .map(|o| o.due_at))
    }

    /// Stores what is ahead and fires what is due.
    pub async fn run_scheduler_once(&self) -> Result<RunReport> {
        // What is stored fires even when storing more failed.
        let stored = self.materialize().await;
        let report = self.fire_due().await?;
        stored.map(|_| report)
    }

    /// The occurrences the schedules would fire from `from` through `to` (both included),
    /// without storing or firing anything: the preview and the calendar.
    pub async fn preview(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        scope: Option<ScheduleScope>,
    ) -> Result<Vec<Planned>> {
        if to < from {
            let dutch = |at: DateTime<Utc>| rule::dutch(at).format("%Y-%m-%d %H:%M");
            return Err(Error::Validation(format!(
                "the end {} lies before the start {} (Dutch time): swap them",
                dutch(to),
                dutch(from)
            )));
        }
        // The rules answer the times after a moment: the one just before `from` lets a time
        // at `from` itself in.
        let before_from = local(from).checked_sub_signed(Duration::nanoseconds(1)).unwrap_or(NaiveDateTime::MIN);
        let wanted: Option<BTreeSet<i64>> = match scope {
            Some(scope) => Some(self.kindcentra_in(self.db(), scope).await?.into_iter().collect()),
            None => None,
        };
        let mut out = Vec::new();
        for schedule in self.schedules(None).await? {
            if schedule.row.paused {
                continue;
            }
            let spec = &schedule.spec;
            if let Some(wanted) = &wanted {
                let covers = self.kindcentra_in(self.db(), spec.scope).await?;
                if !covers.iter().any(|k| wanted.contains(k)) {
                    continue;
                }
            }
            let holidays = self.holidays_for(self.db(), spec.scope).await?;
            let targets = match &spec.action {
                Action::OpenCycle { targets, .. } | Action::Reminder { targets, .. } => {
                    let kindcentra = self.kindcentra_in(self.db(), spec.scope).await?;
                    let mut needs = fire::Needs::default();
                    needs.add(spec.scope, &spec.action);
                    let roster = fire::Roster::load(self.db(), &kindcentra.iter().copied().collect(), &needs).await?;
                    roster.targets(spec.scope, &kindcentra, targets).into_iter().map(|t| t.name).collect()
                }
                Action::Iterate { workflow, from, .. } => vec![format!("open {workflow} cycles in `{from}`")],
            };
            let action = match &spec.action {
                Action::OpenCycle { workflow, .. } => format!("open-cycle {workflow}"),
                Action::Iterate { workflow, from, to } => format!("iterate {workflow} {from} -> {to}"),
                Action::Reminder { title, .. } => format!("reminder {title}"),
            };
            // A schedule fires nothing from before it existed.
            let after = Ord::max(before_from, local(schedule.row.created_at));
            for (at, placed) in Self::planned_times(&spec.rule, &spec.policy, after, local(to), &holidays) {
                let (note, skipped) = match placed {
                    Ok(note) => (note, false),
                    Err(why) => (Some(why), true),
                };
                out.push(Planned {
                    schedule: spec.template.clone().unwrap_or_else(|| spec.key.clone()),
                    schedule_id: schedule.row.id,
                    due_at: instant(at),
                    scope: spec.scope.to_string(),
                    target: targets.clone(),
                    action: action.clone(),
                    note,
                    skipped,
                });
            }
        }
        out.sort_by(|a, b| a.due_at.cmp(&b.due_at).then(a.schedule_id.cmp(&b.schedule_id)));
        Ok(out)
    }

    /// Stored occurrences, newest due first.
    pub async fn occurrences(
        &self,
        schedule_id: Option<i64>,
        status: Option<OccurrenceStatus>,
        page: Page,
    ) -> Result<Slice<occurrence::Model>> {
        let mut select = occurrence::Entity::find();
        if !self.access_of().reaches_everything() {
            // Occurrences of the schedules within reach.
            let visible = self.schedules(None).await?.into_iter().map(|s| s.row.id);
            select = select.filter(occurrence::Column::ScheduleId.is_in(visible));
        }
        if let Some(id) = schedule_id {
            select = select.filter(occurrence::Column::ScheduleId.eq(id));
        }
        if let Some(status) = status {
            select = select.filter(occurrence::Column::Status.eq(status));
        }
        self.page_of(select.order_by_desc(occurrence::Column::DueAt).order_by_desc(occurrence::Column::Id), page).await
    }

    /// Whether a reminder is not done and past its due date.
    pub fn is_reminder_overdue(&self, row: &reminder::Model) -> bool {
        row.done_at.is_none() && row.due_date < self.clock().today()
    }

    /// Reminders by due date; `overdue` keeps only those not done and past due (or, with
    /// false, the others).
    pub async fn reminders(&self, overdue: Option<bool>, page: Page) -> Result<Slice<reminder::Model>> {
        let mut select = reminder::Entity::find().filter(self.access_of().reminder_condition());
        if let Some(overdue) = overdue {
            let late = reminder::Column::DoneAt.is_null().and(reminder::Column::DueDate.lt(self.clock().today()));
            select = select.filter(if overdue { late } else { late.not() });
        }
        self.page_of(select.order_by_asc(reminder::Column::DueDate).order_by_asc(reminder::Column::Id), page).await
    }

    /// Marks a reminder done (or, with `done` false, not done again); marking twice keeps
    /// the first moment.
    pub async fn complete_reminder(&self, id: i64, done: bool) -> Result<reminder::Model> {
        let row =
            self.for_change(reminder::Entity::find_by_id(id).one(self.db()).await?, "reminder", id, Change::Reminders)?;
        if row.done_at.is_some() == done {
            return Ok(row);
        }
        let mut active: reminder::ActiveModel = row.into();
        active.done_at = Set(done.then(|| self.clock().now()));
        Ok(active.update(self.db()).await?)
    }

    /// Reads the school-holiday JSON the Rijksoverheid publishes as open data
    /// (`schoolholidays`, one document per school year) and stores its holidays per region.
    pub async fn import_holidays(&self, json: &str) -> Result<usize> {
        let holidays = parse_holidays(json)?;
        let txn = crate::store::begin_write(self.db()).await?;
        for h in &holidays {
            school_holiday::Entity::insert(school_holiday::ActiveModel {
                region: Set(h.region.clone()),
                school_year: Set(h.school_year),
                name: Set(h.name.clone()),
                start_date: Set(h.start),
                end_date: Set(h.end),
                ..Default::default()
            })
            .on_conflict(
                OnConflict::columns([
                    school_holiday::Column::Region,
                    school_holiday::Column::SchoolYear,
                    school_holiday::Column::Name,
                ])
                .update_columns([school_holiday::Column::StartDate, school_holiday::Column::EndDate])
                .to_owned(),
            )
            .exec(&txn)
            .await?;
        }
        // Holidays change where occurrences land: store them anew.
        occurrence::Entity::delete_many()
            .filter(occurrence::Column::Status.eq(OccurrenceStatus::Pending))
            .exec(&txn)
            .await?;
        schedule::Entity::update_many()
            .col_expr(schedule::Column::MaterializedUntil, Expr::value(local(self.clock().now())))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        self.schedules_changed();
        Ok(holidays.len())
    }
}

/// One holiday read from the open-data JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedHoliday {
    pub region: String,
    pub school_year: i32,
    pub name: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// Parses the Rijksoverheid's `schoolholidays` JSON: `content[].schoolyear` ("2026-2027")
/// and `content[].vacations[]` with `type` and `regions[]` of `region` (noord, midden,
/// zuid or "heel Nederland"), `startdate` and `enddate` (ISO timestamps; the end date is
/// the last day of the holiday).
pub fn parse_holidays(json: &str) -> Result<Vec<ParsedHoliday>> {
    #[derive(Deserialize)]
    struct Document {
        content: Vec<Content>,
    }
    #[derive(Deserialize)]
    struct Content {
        schoolyear: String,
        vacations: Vec<Vacation>,
    }
    #[derive(Deserialize)]
    struct Vacation {
        #[serde(rename = "type")]
        name: String,
        regions: Vec<Region>,
    }
    #[derive(Deserialize)]
    struct Region {
        region: String,
        startdate: String,
        enddate: String,
    }
    let document: Document =
        serde_json::from_str(json).map_err(|e| Error::Validation(format!("school-holiday JSON: {e}")))?;
    let date = |text: &str| -> Result<NaiveDate> {
        let day = text.get(..10).unwrap_or(text);
        NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map_err(|_| Error::Validation(format!("school-holiday JSON: `{text}` is not a date")))
    };
    let mut out = Vec::new();
    for content in document.content {
        let school_year: SchoolYear =
            content.schoolyear.trim().parse().map_err(|e| Error::Validation(format!("school-holiday JSON: {e}")))?;
        for vacation in content.vacations {
            for region in vacation.regions {
                let name = region.region.trim().to_lowercase();
                let regions: Vec<&str> = match name.as_str() {
                    "noord" | "midden" | "zuid" => vec![name.as_str()],
                    "heel nederland" => vec!["noord", "midden", "zuid"],
                    other => return Err(Error::Validation(format!("school-holiday JSON: unknown region `{other}`"))),
                };
                let (start, end) = (date(&region.startdate)?, date(&region.enddate)?);
                for r in regions {
                    out.push(ParsedHoliday {
                        region: r.to_owned(),
                        school_year: school_year.start_year(),
                        name: vacation.name.trim().to_owned(),
                        start,
                        end,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// How long the scheduler may be in one run, or behind with a due occurrence, before the
/// health check calls it stuck.
pub const STUCK_AFTER_MINUTES: i64 = 15;

/// What the scheduler loop of this process last did.
#[derive(Clone, Debug, Default)]
pub struct Heartbeat {
    /// When the loop started; `None` when this process runs no scheduler.
    started: Option<DateTime<Utc>>,
    /// When the run in progress began.
    running_since: Option<DateTime<Utc>>,
    /// When a run last succeeded.
    last_ok: Option<DateTime<Utc>>,
    /// Why the last run failed, when it did.
    last_error: Option<String>,
    /// Whether the loop has ended (stopped, cancelled or panicked).
    stopped: bool,
}

/// The scheduler's health, as `/healthz` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchedulerHealth {
    /// This process runs no scheduler.
    Off,
    Running,
    /// The loop has ended: nothing fires any more.
    Stopped,
    /// A run has lasted longer than [`STUCK_AFTER_MINUTES`].
    Stuck {
        since: DateTime<Utc>,
    },
    /// Runs have failed for longer than [`STUCK_AFTER_MINUTES`].
    Failing {
        error: String,
    },
    /// An occurrence is pending longer than [`STUCK_AFTER_MINUTES`] after it was due.
    Behind {
        due_at: DateTime<Utc>,
    },
}

impl SchedulerHealth {
    pub fn is_healthy(&self) -> bool {
        matches!(self, SchedulerHealth::Off | SchedulerHealth::Running)
    }

    /// One word for the health check.
    pub fn status(&self) -> &'static str {
        match self {
            SchedulerHealth::Off => "off",
            SchedulerHealth::Running => "running",
            SchedulerHealth::Stopped => "stopped",
            SchedulerHealth::Stuck { .. } => "stuck",
            SchedulerHealth::Failing { .. } => "failing",
            SchedulerHealth::Behind { .. } => "behind",
        }
    }
}

/// Marks the loop stopped however it ends: returned, cancelled or unwound by a panic.
struct StoppedOnDrop<'a>(&'a Engine);

impl Drop for StoppedOnDrop<'_> {
    fn drop(&mut self) {
        self.0.heartbeat(|beat| {
            beat.stopped = true;
            beat.running_since = None;
        });
    }
}

impl Engine {
    fn heartbeat(&self, change: impl FnOnce(&mut Heartbeat)) {
        // A poisoned lock still holds the last beat, which is what the check needs.
        let mut beat = self.inner.scheduler.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        change(&mut beat);
    }

    /// Whether the scheduler of this process is running and keeping up.
    pub async fn scheduler_health(&self) -> Result<SchedulerHealth> {
        let beat = self.inner.scheduler.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let Some(started) = beat.started else { return Ok(SchedulerHealth::Off) };
        if beat.stopped {
            return Ok(SchedulerHealth::Stopped);
        }
        let now = self.clock().now();
        let limit = Duration::minutes(STUCK_AFTER_MINUTES);
        let late = |since: DateTime<Utc>| now.signed_duration_since(since) > limit;
        if let Some(since) = beat.running_since.filter(|since| late(*since)) {
            return Ok(SchedulerHealth::Stuck { since });
        }
        if let Some(error) = beat.last_error.filter(|_| late(beat.last_ok.unwrap_or(started))) {
            return Ok(SchedulerHealth::Failing { error });
        }
        if late(started)
            && let Some(due_at) = self.next_due().await?.filter(|due| late(*due))
        {
            return Ok(SchedulerHealth::Behind { due_at });
        }
        Ok(SchedulerHealth::Running)
    }

    /// Runs the calendar until `shutdown` completes: stores what is ahead, fires what is
    /// due, then sleeps until the next due time (at most an hour, to keep the horizon
    /// filled) or until schedules change. A run that fails or panics is logged and
    /// retried; the health check reports it ([`Engine::scheduler_health`]).
    pub async fn run_scheduler(&self, shutdown: impl Future<Output = ()>) {
        use futures::FutureExt as _;
        tokio::pin!(shutdown);
        self.heartbeat(|beat| *beat = Heartbeat { started: Some(self.clock().now()), ..Heartbeat::default() });
        let _stopped = StoppedOnDrop(self);
        let mut first = true;
        loop {
            self.heartbeat(|beat| beat.running_since = Some(self.clock().now()));
            let outcome =
                std::panic::AssertUnwindSafe(self.run_scheduler_once()).catch_unwind().await.unwrap_or_else(|panic| {
                    Err(Error::Validation(format!("the scheduler panicked: {}", fire::panic_reason(panic))))
                });
            let now = self.clock().now();
            self.heartbeat(|beat| {
                beat.running_since = None;
                match &outcome {
                    Ok(_) => {
                        beat.last_ok = Some(now);
                        beat.last_error = None;
                    }
                    Err(err) => beat.last_error = Some(err.to_string()),
                }
            });
            // Something still due after a run that fired nothing is being fired by another
            // replica (or the run failed): look again in a moment rather than at once.
            let stalled = !matches!(&outcome, Ok(report) if report.fired + report.missed + report.failed > 0);
            match outcome {
                Ok(report) if first => {
                    tracing::info!(
                        fired = report.fired,
                        missed = report.missed,
                        failed = report.failed,
                        "scheduler caught up"
                    );
                }
                Ok(report) if report.fired + report.missed + report.failed > 0 => {
                    tracing::info!(
                        fired = report.fired,
                        missed = report.missed,
                        failed = report.failed,
                        "scheduler ran"
                    );
                }
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "scheduler run failed; retrying at the next wake-up"),
            }
            first = false;
            let next = match self.next_due().await {
                Ok(next) => next,
                Err(err) => {
                    tracing::error!(error = %err, "cannot read the next due time");
                    None
                }
            };
            let in_a_while = |d: Duration| now.checked_add_signed(d).unwrap_or(now);
            let wake = match next {
                Some(next) if next <= now && stalled => in_a_while(Duration::seconds(1)),
                Some(next) => Ord::min(next, in_a_while(Duration::hours(1))),
                None => in_a_while(Duration::hours(1)),
            };
            tracing::debug!(?next, "scheduler idle");
            tokio::select! {
                () = self.clock().sleep_until(wake) => {}
                () = self.schedules_changed_notified() => {}
                () = &mut shutdown => break,
            }
        }
        tracing::info!("scheduler stopped");
    }
}

/// The vacation region whose holidays a scope follows: its one region, or none to go by
/// when its locaties lie in several (they have no common holidays) or in none.
fn single_region(regions: BTreeSet<VacationRegion>) -> Option<VacationRegion> {
    match regions.into_iter().collect::<Vec<_>>()[..] {
        [region] => Some(region),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::TimeZone as _;

    use super::*;
    use crate::clock::{Clock as _, ManualClock};

    #[tokio::test]
    async fn the_health_check_tells_a_stopped_stuck_failing_or_behind_scheduler() {
        let start = Utc.with_ymd_and_hms(2026, 9, 1, 6, 0, 0).single().expect("time");
        let clock = ManualClock::new(start);
        let engine = Engine::with_clock(koers_testing::database().await, Arc::new(clock.clone()));
        let health = || async { engine.scheduler_health().await.expect("health") };
        assert_eq!(health().await, SchedulerHealth::Off, "this process runs no scheduler");

        engine.heartbeat(|beat| *beat = Heartbeat { started: Some(start), ..Heartbeat::default() });
        engine.heartbeat(|beat| beat.running_since = Some(start));
        assert_eq!(health().await, SchedulerHealth::Running);
        clock.advance(Duration::minutes(STUCK_AFTER_MINUTES + 1));
        assert_eq!(health().await, SchedulerHealth::Stuck { since: start });

        engine.heartbeat(|beat| {
            beat.running_since = None;
            beat.last_error = Some("database error: disk full".into());
        });
        assert_eq!(health().await, SchedulerHealth::Failing { error: "database error: disk full".into() });
        engine.heartbeat(|beat| {
            beat.last_error = None;
            beat.last_ok = Some(clock.now());
        });
        assert_eq!(health().await, SchedulerHealth::Running);

        // An occurrence pending long after it was due: the loop no longer fires.
        let spec = ScheduleSpec {
            key: "x".into(),
            name: "x".into(),
            template: None,
            scope: ScheduleScope::Kindcentrum(1),
            rule: Rule::Dates { at: vec![local(start)] },
            action: Action::Iterate { workflow: "vierxd".into(), from: "doen".into(), to: "data".into() },
            policy: Policy::default(),
        };
        let schedule = spec.new_row(start).expect("row").insert(engine.db()).await.expect("schedule");
        occurrence::ActiveModel {
            schedule_id: Set(schedule.id),
            due_at: Set(start),
            local_at: Set(local(start)),
            status: Set(OccurrenceStatus::Pending),
            ..Default::default()
        }
        .insert(engine.db())
        .await
        .expect("occurrence");
        assert_eq!(health().await, SchedulerHealth::Behind { due_at: start });

        // A loop that ends, however it ends, is reported stopped.
        let scheduler = tokio::spawn({
            let engine = engine.clone();
            async move { engine.run_scheduler(std::future::pending()).await }
        });
        // On the test's one thread, the loop starts when the test yields.
        tokio::task::yield_now().await;
        scheduler.abort();
        assert!(scheduler.await.expect_err("aborted").is_cancelled());
        assert_eq!(health().await, SchedulerHealth::Stopped);
        assert!(!SchedulerHealth::Stopped.is_healthy());
    }
}
