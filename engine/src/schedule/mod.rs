//! The quality calendar: schedules attached to a scope, their stored occurrences, and what
//! firing them creates (cycles, iterations of cycles, reminders).
//!
//! Occurrences are materialised ahead over a horizon, each stored once per (schedule, due
//! time). Firing one marks it and creates its results in the same transaction, so a crash
//! mid-fire leaves it pending and it fires once after restart; a fired occurrence is never
//! fired again.

pub mod rule;
pub mod template;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc, Weekday};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::access::Change;
use crate::cycle::machine::{Command, Status};
use crate::cycle::{Owner, OwnersIn, StartCycle};
use crate::domain::{OnderdeelKind, Role, TeamKind, VacationRegion};
use crate::entity::{
    cycle, groep, kindcentrum, kindcentrum_bestuur, locatie, occurrence, onderdeel, professional_kindcentrum,
    professional_role, reminder, schedule, school_holiday, team,
};
use crate::error::{Error, Result};
use crate::read::{Page, Slice};
use rule::{Rule, instant, local};

/// Who the calendar acts as in cycle events.
const ACTOR: &str = "scheduler";
/// How far ahead occurrences are stored.
pub const HORIZON_DAYS: i64 = 400;
/// How far beyond the horizon a schedule is stored when it is stored at all: a schedule
/// is looked at again only once its stored occurrences end less than [`HORIZON_DAYS`]
/// ahead, so that most wake-ups of the scheduler store nothing and cost one indexed
/// statement instead of a pass over every schedule.
pub const HORIZON_SLACK_DAYS: i64 = 28;
/// Schedules materialised per transaction: large enough that commits do not dominate,
/// small enough that neither the write lock nor memory is held long.
const MATERIALIZE_BATCH: u64 = 2000;
/// Due occurrences fired per transaction.
const FIRE_BATCH: u64 = 1000;
/// Rows per INSERT statement (well within the bind limits of both stores).
const INSERT_CHUNK: usize = 1000;
/// An occurrence this late still counts as on time.
const GRACE_MINUTES: i64 = 10;

/// What a schedule is attached to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "kebab-case")]
pub enum Scope {
    Bestuur(i64),
    Kindcentrum(i64),
    Locatie(i64),
    Groep(i64),
    Team(i64),
}

impl Scope {
    pub fn kind(self) -> &'static str {
        match self {
            Scope::Bestuur(_) => "bestuur",
            Scope::Kindcentrum(_) => "kindcentrum",
            Scope::Locatie(_) => "locatie",
            Scope::Groep(_) => "groep",
            Scope::Team(_) => "team",
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Scope::Bestuur(id) | Scope::Kindcentrum(id) | Scope::Locatie(id) | Scope::Groep(id) | Scope::Team(id) => id,
        }
    }

    pub fn new(kind: &str, id: i64) -> Result<Scope> {
        Ok(match kind {
            "bestuur" => Scope::Bestuur(id),
            "kindcentrum" => Scope::Kindcentrum(id),
            "locatie" => Scope::Locatie(id),
            "groep" => Scope::Groep(id),
            "team" => Scope::Team(id),
            other => {
                return Err(Error::Validation(format!(
                    "`{other}` is not a scope: use bestuur, kindcentrum, locatie, groep or team"
                )));
            }
        })
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.kind(), self.id())
    }
}

impl std::str::FromStr for Scope {
    type Err = Error;

    /// `kindcentrum:12`.
    fn from_str(text: &str) -> Result<Scope> {
        let (kind, id) = text
            .split_once(':')
            .ok_or_else(|| Error::Validation(format!("`{text}` is not a scope: write it as `kindcentrum:12`")))?;
        let id = id.parse().map_err(|_| Error::Validation(format!("`{id}` in `{text}` is not an id")))?;
        Scope::new(kind, id)
    }
}

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
    pub active_from: Option<NaiveDate>,
    pub active_until: Option<NaiveDate>,
    /// Dates on which nothing fires (studiedagen).
    pub skip_dates: Vec<NaiveDate>,
}

/// Everything that defines a schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleSpec {
    pub key: String,
    pub name: String,
    pub template: Option<String>,
    pub scope: Scope,
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
    s.serialize_str(&at.with_timezone(&chrono_tz::Europe::Amsterdam).to_rfc3339())
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
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(Error::stored_json)
}

impl ScheduleSpec {
    /// The row of a new schedule created at `now`, whose occurrences are stored from then on.
    pub(crate) fn new_row(&self, now: DateTime<Utc>) -> Result<schedule::ActiveModel> {
        Ok(schedule::ActiveModel {
            key: Set(self.key.clone()),
            name: Set(self.name.trim().to_owned()),
            template: Set(self.template.clone()),
            scope_kind: Set(self.scope.kind().to_owned()),
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
            scope: Scope::new(&row.scope_kind, row.scope_id)?,
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
        if let (Some(from), Some(until)) = (self.policy.active_from, self.policy.active_until)
            && until < from
        {
            return Err(Error::Validation(format!("active_until {until} lies before active_from {from}")));
        }
        Ok(())
    }
}

/// Whom a reminder is for: a team or a professional.
type Assigned = (Option<i64>, Option<i64>);

/// What the placed times of a schedule depend on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PlanKey {
    rule: String,
    policy: String,
    after: NaiveDateTime,
    region: Option<VacationRegion>,
}

/// One occurrence to store, before it belongs to a schedule.
#[derive(Clone, Debug)]
struct PlannedRow {
    local_at: NaiveDateTime,
    due_at: DateTime<Utc>,
    status: &'static str,
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

    /// Creates a schedule; its occurrences are stored from now on.
    #[tracing::instrument(skip(self, spec), fields(key = %spec.key, scope = %spec.scope))]
    pub async fn create_schedule(&self, spec: ScheduleSpec) -> Result<Schedule> {
        spec.validate()?;
        let txn = crate::store::begin_write(self.db()).await?;
        self.check_scope(&txn, spec.scope).await?;
        let existing = schedule::Entity::find()
            .filter(schedule::Column::ScopeKind.eq(spec.scope.kind()))
            .filter(schedule::Column::ScopeId.eq(spec.scope.id()))
            .filter(schedule::Column::Key.eq(&spec.key))
            .one(&txn)
            .await?;
        if existing.is_some() {
            return Err(Error::Validation(format!("scope {} already has a schedule `{}`", spec.scope, spec.key)));
        }
        let row = spec.new_row(self.clock().now())?.insert(&txn).await?;
        txn.commit().await?;
        self.schedules_changed();
        Schedule::parse(row)
    }

    /// Replaces rule, action, policy and name; pending occurrences are stored anew.
    pub async fn update_schedule(&self, id: i64, spec: ScheduleSpec) -> Result<Schedule> {
        spec.validate()?;
        let txn = crate::store::begin_write(self.db()).await?;
        let row =
            self.for_change(schedule::Entity::find_by_id(id).one(&txn).await?, "schedule", id, Change::Schedules)?;
        if (row.scope_kind.as_str(), row.scope_id) != (spec.scope.kind(), spec.scope.id()) {
            return Err(Error::Validation("a schedule keeps its scope; create a new one for another scope".into()));
        }
        occurrence::Entity::delete_many()
            .filter(occurrence::Column::ScheduleId.eq(id))
            .filter(occurrence::Column::Status.eq("pending"))
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
                .col_expr(occurrence::Column::Status, Expr::value("skipped"))
                .col_expr(occurrence::Column::Note, Expr::value("schedule paused"))
                .filter(occurrence::Column::ScheduleId.eq(id))
                .filter(occurrence::Column::Status.eq("pending"))
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
    pub async fn schedules(&self, scope: Option<Scope>) -> Result<Vec<Schedule>> {
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

    async fn check_scope(&self, txn: &DatabaseTransaction, scope: Scope) -> Result<()> {
        let exists = match scope {
            Scope::Bestuur(id) => crate::entity::bestuur::Entity::find_by_id(id).one(txn).await?.is_some(),
            Scope::Kindcentrum(id) => kindcentrum::Entity::find_by_id(id).one(txn).await?.is_some(),
            Scope::Locatie(id) => locatie::Entity::find_by_id(id).one(txn).await?.is_some(),
            Scope::Groep(id) => groep::Entity::find_by_id(id).one(txn).await?.is_some(),
            Scope::Team(id) => team::Entity::find_by_id(id).one(txn).await?.is_some(),
        };
        if !exists || !self.access_of().reaches_scope(scope) {
            return Err(Error::NotFound { what: scope.kind(), id: scope.id().to_string() });
        }
        self.access_of().may(Change::Schedules)
    }

    /// The school holidays of the vacation region of a scope (none without one).
    async fn holidays_for<C: ConnectionTrait>(&self, db: &C, scope: Scope) -> Result<Vec<Holiday>> {
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
    async fn kindcentra_in<C: ConnectionTrait>(&self, db: &C, scope: Scope) -> Result<Vec<i64>> {
        Ok(match scope {
            Scope::Bestuur(id) => kindcentrum_bestuur::Entity::find()
                .filter(kindcentrum_bestuur::Column::BestuurId.eq(id))
                .all(db)
                .await?
                .into_iter()
                .map(|l| l.kindcentrum_id)
                .collect(),
            Scope::Kindcentrum(id) => vec![id],
            Scope::Locatie(id) => {
                locatie::Entity::find_by_id(id).one(db).await?.map(|l| l.kindcentrum_id).into_iter().collect()
            }
            Scope::Groep(id) => {
                let Some(g) = groep::Entity::find_by_id(id).one(db).await? else { return Ok(Vec::new()) };
                locatie::Entity::find_by_id(g.locatie_id).one(db).await?.map(|l| l.kindcentrum_id).into_iter().collect()
            }
            Scope::Team(id) => {
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
    /// the horizon, up to the horizon and its slack. Schedules are taken in batches of
    /// [`MATERIALIZE_BATCH`], each in one transaction; on PostgreSQL a batch claims its
    /// schedules with row locks and skips those another process is storing, so two
    /// processes never store the same schedule at once.
    #[tracing::instrument(skip(self))]
    pub async fn materialize(&self) -> Result<usize> {
        let now = self.clock().now();
        let needed = local(now + Duration::days(HORIZON_DAYS));
        let until = local(now + Duration::days(HORIZON_DAYS + HORIZON_SLACK_DAYS));
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
        let mut planned: HashMap<PlanKey, std::sync::Arc<Vec<PlannedRow>>> = HashMap::new();
        let mut stored = 0;
        loop {
            let txn = crate::store::begin_write(self.db()).await?;
            // Each batch moves its schedules out of the range it was read from, so the
            // next batch starts at the front of the horizon index again: no offset, and no
            // sort of all the schedules that are behind for every batch.
            let mut select = behind()
                .order_by_asc(schedule::Column::MaterializedUntil)
                .order_by_asc(schedule::Column::Id)
                .limit(MATERIALIZE_BATCH);
            if txn.get_database_backend() == DbBackend::Postgres {
                select = select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
            }
            let rows = select.all(&txn).await?;
            if rows.is_empty() {
                txn.commit().await?;
                break;
            }
            let full = rows.len() as u64 == MATERIALIZE_BATCH;
            let scopes: BTreeSet<Scope> =
                rows.iter().map(|r| Scope::new(&r.scope_kind, r.scope_id)).collect::<Result<_>>()?;
            let regions = self.regions_of(&txn, &scopes).await?;
            let mut occurrences = Vec::new();
            for row in &rows {
                let scope = Scope::new(&row.scope_kind, row.scope_id)?;
                let region = regions.get(&scope).copied().flatten();
                let key = PlanKey {
                    rule: row.rule.clone(),
                    policy: row.policy.clone(),
                    after: row.materialized_until,
                    region,
                };
                let times = match planned.get(&key) {
                    Some(times) => times.clone(),
                    None => {
                        let rule: Rule = serde_json::from_str(&row.rule).map_err(Error::stored_json)?;
                        let policy: Policy = serde_json::from_str(&row.policy).map_err(Error::stored_json)?;
                        let none = Vec::new();
                        let region_holidays = region.and_then(|r| holidays.get(&r)).unwrap_or(&none);
                        let times: Vec<PlannedRow> =
                            Self::planned_times(&rule, &policy, row.materialized_until, until, region_holidays)
                                .into_iter()
                                .map(|(at, placed)| {
                                    let (status, note) = match placed {
                                        Ok(note) => ("pending", note),
                                        Err(why) => ("skipped", Some(why)),
                                    };
                                    PlannedRow { local_at: at, due_at: instant(at), status, note }
                                })
                                .collect();
                        let times = std::sync::Arc::new(times);
                        planned.insert(key, times.clone());
                        times
                    }
                };
                occurrences.extend(times.iter().map(|t| occurrence::ActiveModel {
                    schedule_id: Set(row.id),
                    due_at: Set(t.due_at),
                    local_at: Set(t.local_at),
                    status: Set(t.status.to_owned()),
                    note: Set(t.note.clone()),
                    ..Default::default()
                }));
            }
            stored += occurrences.len();
            let mut occurrences = occurrences.into_iter().peekable();
            while occurrences.peek().is_some() {
                let chunk: Vec<_> = occurrences.by_ref().take(INSERT_CHUNK).collect();
                occurrence::Entity::insert_many(chunk)
                    .on_conflict_do_nothing_on([occurrence::Column::ScheduleId, occurrence::Column::DueAt])
                    .exec(&txn)
                    .await?;
            }
            schedule::Entity::update_many()
                .col_expr(schedule::Column::MaterializedUntil, Expr::value(until))
                .filter(schedule::Column::Id.is_in(rows.iter().map(|r| r.id)))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            tracing::debug!(schedules = rows.len(), "schedules materialised");
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
        scopes: &BTreeSet<Scope>,
    ) -> Result<HashMap<Scope, Option<VacationRegion>>> {
        let kindcentra: Vec<i64> =
            scopes.iter().filter_map(|s| if let Scope::Kindcentrum(id) = s { Some(*id) } else { None }).collect();
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
                Scope::Kindcentrum(id) => single_region(by_kindcentrum.remove(&id).unwrap_or_default()),
                other => single_region(self.regions_in(db, other).await?),
            };
            out.insert(scope, region);
        }
        Ok(out)
    }

    /// The vacation regions of the locaties of a scope.
    async fn regions_in<C: ConnectionTrait>(&self, db: &C, scope: Scope) -> Result<BTreeSet<VacationRegion>> {
        let locatie_ids: Vec<i64> = match scope {
            Scope::Locatie(id) => vec![id],
            Scope::Groep(id) => {
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
            .filter(occurrence::Column::Status.eq("pending"))
            .order_by_asc(occurrence::Column::DueAt)
            .one(self.db())
            .await?
            .map(|o| o.due_at))
    }

    /// Stores what is ahead and fires what is due.
    pub async fn run_scheduler_once(&self) -> Result<RunReport> {
        self.materialize().await?;
        self.fire_due().await
    }

    /// Fires the due occurrences, after the catch-up policy of each schedule, in batches of
    /// [`FIRE_BATCH`] in due order. A batch is one transaction: it marks its occurrences
    /// fired or missed and creates their results, so a crash leaves the whole batch
    /// pending and it fires once after restart. On PostgreSQL the batch claims its
    /// occurrences with row locks and skips those another process holds.
    #[tracing::instrument(skip(self))]
    pub async fn fire_due(&self) -> Result<RunReport> {
        let now = self.clock().now();
        let due = || {
            occurrence::Entity::find()
                .filter(occurrence::Column::Status.eq("pending"))
                .filter(occurrence::Column::DueAt.lte(now))
        };
        let mut report = RunReport::default();
        // The idle case: one statement on the due index.
        if due().one(self.db()).await?.is_none() {
            return Ok(report);
        }
        // Where the previous batch ended: occurrences left pending (of a schedule that is
        // gone) are passed over instead of read again.
        let mut last: Option<(DateTime<Utc>, i64)> = None;
        loop {
            let txn = crate::store::begin_write(self.db()).await?;
            let mut select = due();
            if let Some((at, id)) = last {
                select = select
                    .filter(occurrence::Column::DueAt.gte(at))
                    .filter(Condition::any().add(occurrence::Column::DueAt.gt(at)).add(occurrence::Column::Id.gt(id)));
            }
            select =
                select.order_by_asc(occurrence::Column::DueAt).order_by_asc(occurrence::Column::Id).limit(FIRE_BATCH);
            if txn.get_database_backend() == DbBackend::Postgres {
                // Several replicas may share the database: the row locks claim the
                // occurrences, and those another replica holds are left to it (or, should
                // that one die, to whoever finds them pending next). SQLite has one writer
                // at a time.
                select = select.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
            }
            let batch = select.all(&txn).await?;
            let Some(end) = batch.last() else {
                txn.commit().await?;
                break;
            };
            last = Some((end.due_at, end.id));
            let full = batch.len() as u64 == FIRE_BATCH;
            let (fired, missed, records) = self.fire_batch(&txn, now, batch).await?;
            txn.commit().await?;
            report.fired += fired;
            report.missed += missed;
            for record in records {
                self.publish(record);
            }
            if !full {
                break;
            }
        }
        Ok(report)
    }

    /// Decides and carries out one batch of claimed due occurrences within `txn`: answers
    /// how many fired and were missed, and the events to publish after commit.
    async fn fire_batch(
        &self,
        txn: &DatabaseTransaction,
        now: DateTime<Utc>,
        batch: Vec<occurrence::Model>,
    ) -> Result<(usize, usize, Vec<crate::cycle::CycleEventRecord>)> {
        let schedule_ids: BTreeSet<i64> = batch.iter().map(|o| o.schedule_id).collect();
        let schedules: HashMap<i64, Schedule> = schedule::Entity::find()
            .filter(schedule::Column::Id.is_in(schedule_ids.iter().copied()))
            .all(txn)
            .await?
            .into_iter()
            .map(|row| Ok((row.id, Schedule::parse(row)?)))
            .collect::<Result<_>>()?;
        // The latest due occurrence of each schedule: the one `CatchUp::Latest` fires.
        let mut latest: HashMap<i64, DateTime<Utc>> = HashMap::new();
        for o in &batch {
            let at = latest.entry(o.schedule_id).or_insert(o.due_at);
            *at = Ord::max(*at, o.due_at);
        }
        if let Some(end) = batch.last() {
            // Later due ones of the same schedules lie beyond the batch, at or after its
            // end. Asked per schedule (the unique index of schedule and due time), so
            // that the rest of a large wave of due occurrences is not read for each batch.
            let in_batch: BTreeSet<i64> = batch.iter().map(|o| o.id).collect();
            let beyond: Vec<(i64, i64, DateTime<Utc>, String)> = occurrence::Entity::find()
                .select_only()
                .column(occurrence::Column::Id)
                .column(occurrence::Column::ScheduleId)
                .column(occurrence::Column::DueAt)
                .column(occurrence::Column::Status)
                .filter(occurrence::Column::ScheduleId.is_in(schedule_ids.iter().copied()))
                .filter(occurrence::Column::DueAt.gte(end.due_at))
                .filter(occurrence::Column::DueAt.lte(now))
                .into_tuple()
                .all(txn)
                .await?;
            for (id, schedule_id, due_at, status) in beyond {
                if status == "pending" && !in_batch.contains(&id) {
                    let at = latest.entry(schedule_id).or_insert(due_at);
                    *at = Ord::max(*at, due_at);
                }
            }
        }
        let on_time = |o: &occurrence::Model| o.due_at >= now - Duration::minutes(GRACE_MINUTES);
        let mut fire = Vec::new();
        let mut miss = Vec::new();
        for o in batch {
            let Some(schedule) = schedules.get(&o.schedule_id) else { continue };
            let fires = match schedule.spec.policy.catch_up {
                CatchUp::Latest => latest.get(&o.schedule_id) == Some(&o.due_at),
                CatchUp::All { window_days } => o.due_at >= now - Duration::days(window_days.into()),
                CatchUp::None => on_time(&o),
            };
            if fires { fire.push((schedule, o)) } else { miss.push(o.id) }
        }
        // The batch was read pending in this transaction, which holds the write lock
        // (SQLite) or the rows' locks (PostgreSQL): they are still pending. Asking again
        // for `status = 'pending'` beside the ids would not only be redundant: SQLite then
        // walks the status index over every pending occurrence in the country, for every
        // batch, instead of looking up the ids.
        let mut missed = 0;
        for chunk in miss.chunks(INSERT_CHUNK) {
            missed += occurrence::Entity::update_many()
                .col_expr(occurrence::Column::Status, Expr::value("missed"))
                .filter(occurrence::Column::Id.is_in(chunk.iter().copied()))
                .exec(txn)
                .await?
                .rows_affected as usize;
        }
        if fire.is_empty() {
            return Ok((0, missed, Vec::new()));
        }
        tracing::info!(count = fire.len(), "firing occurrences");
        occurrence::Entity::update_many()
            .col_expr(occurrence::Column::Status, Expr::value("fired"))
            .col_expr(occurrence::Column::FiredAt, Expr::value(now))
            .filter(occurrence::Column::Id.is_in(fire.iter().map(|(_, o)| o.id)))
            .exec(txn)
            .await?;
        let mut records = Vec::new();
        for (schedule, o) in &fire {
            let (fired, mut created) = self.act(txn, schedule, o).await?;
            occurrence::Entity::update_many()
                .col_expr(occurrence::Column::Result, Expr::value(to_json(&fired)?))
                .filter(occurrence::Column::Id.eq(o.id))
                .exec(txn)
                .await?;
            tracing::debug!(
                schedule = %schedule.spec.key,
                occurrence = o.id,
                due_at = %o.due_at,
                opened = fired.cycles_opened.len(),
                iterated = fired.cycles_iterated.len(),
                reminders = fired.reminders.len(),
                "fired occurrence"
            );
            records.append(&mut created);
        }
        Ok((fire.len(), missed, records))
    }

    /// Carries out a schedule's action for one occurrence.
    async fn act(
        &self,
        txn: &DatabaseTransaction,
        schedule: &Schedule,
        o: &occurrence::Model,
    ) -> Result<(Fired, Vec<crate::cycle::CycleEventRecord>)> {
        let mut fired = Fired::default();
        let mut records = Vec::new();
        let date = o.local_at.date();
        match &schedule.spec.action {
            Action::OpenCycle { workflow, title, targets, due_in_days } => {
                let initial = self
                    .workflow(workflow)
                    .ok_or_else(|| Error::Validation(format!("unknown workflow `{workflow}`")))?
                    .def
                    .initial()
                    .key
                    .clone();
                for (owner, name) in self.targets(txn, schedule.spec.scope, targets).await? {
                    if schedule.spec.policy.overlap == Overlap::Skip
                        && self.still_open(txn, schedule.row.id, owner).await?
                    {
                        fired.skipped.push(format!("{name}: the previous cycle is still open"));
                        continue;
                    }
                    let due_dates = due_in_days
                        .map(|days| BTreeMap::from([(initial.clone(), date + Duration::days(days.into()))]))
                        .unwrap_or_default();
                    let start = StartCycle {
                        workflow: workflow.clone(),
                        title: format!("{title} {name} {date}"),
                        owner,
                        doelen: Vec::new(),
                        due_dates,
                        occurrence_id: Some(o.id),
                    };
                    let (row, record) = self.start_cycle_in(txn, ACTOR, start).await?;
                    fired.cycles_opened.push(row.id);
                    records.push(record);
                }
            }
            Action::Iterate { workflow, from, to } => {
                for row in self.open_cycles_in(txn, schedule.spec.scope, workflow, from).await? {
                    let command = Command::Advance { to: to.clone(), values: Default::default() };
                    match self.execute_in(txn, ACTOR, row.id, row.version, command).await {
                        Ok((_, record)) => {
                            fired.cycles_iterated.push(row.id);
                            records.push(record);
                        }
                        Err(err @ (Error::GuardFailed { .. } | Error::InvalidTransition(_) | Error::Validation(_))) => {
                            fired.skipped.push(format!("cycle {}: {err}", row.id));
                        }
                        Err(err) => return Err(err),
                    }
                }
            }
            Action::Reminder { title, due_in_days, targets, assignee } => {
                let due_date = date + Duration::days((*due_in_days).into());
                // Every target lies within the scope's kindcentra: with one, that is each
                // target's kindcentrum, and the assignees are the same for all targets.
                let only = match &self.kindcentra_in(txn, schedule.spec.scope).await?[..] {
                    [kindcentrum] => Some(*kindcentrum),
                    _ => None,
                };
                let mut assignees_of: HashMap<Option<i64>, Vec<Assigned>> = HashMap::new();
                let mut rows = Vec::new();
                for (owner, name) in self.targets(txn, schedule.spec.scope, targets).await? {
                    let kindcentrum = match only {
                        Some(kindcentrum) => Some(kindcentrum),
                        None => self.kindcentrum_of_owner(txn, owner).await?,
                    };
                    let assignees = match assignees_of.get(&kindcentrum) {
                        Some(assignees) => assignees.clone(),
                        None => {
                            let found = self.assignees(txn, kindcentrum, assignee).await?;
                            assignees_of.insert(kindcentrum, found.clone());
                            found
                        }
                    };
                    if assignees.is_empty() {
                        fired.skipped.push(format!("{name}: nobody to assign ({assignee:?})"));
                    }
                    for (team_id, professional_id) in assignees {
                        rows.push(reminder::ActiveModel {
                            occurrence_id: Set(Some(o.id)),
                            title: Set(format!("{title} {name}")),
                            due_date: Set(due_date),
                            team_id: Set(team_id),
                            professional_id: Set(professional_id),
                            groep_id: Set(if let Owner::Groep(id) = owner { Some(id) } else { None }),
                            kindcentrum_id: Set(kindcentrum),
                            done_at: Set(None),
                            created_at: Set(self.clock().now()),
                            ..Default::default()
                        });
                    }
                }
                // One statement for all of them (a reminder per leerkracht adds up).
                let mut rows = rows.into_iter().peekable();
                while rows.peek().is_some() {
                    let chunk: Vec<_> = rows.by_ref().take(INSERT_CHUNK).collect();
                    let inserted = reminder::Entity::insert_many(chunk).exec_with_returning(txn).await?;
                    fired.reminders.extend(inserted.into_iter().map(|r| r.id));
                }
                // Ids follow the order of insertion.
                fired.reminders.sort_unstable();
            }
        }
        Ok((fired, records))
    }

    /// Whether a cycle this schedule opened for `owner` is still open.
    async fn still_open(&self, txn: &DatabaseTransaction, schedule_id: i64, owner: Owner) -> Result<bool> {
        let occurrences = occurrence::Entity::find()
            .select_only()
            .column(occurrence::Column::Id)
            .filter(occurrence::Column::ScheduleId.eq(schedule_id))
            .into_tuple::<i64>()
            .all(txn)
            .await?;
        let mut select = cycle::Entity::find()
            .filter(cycle::Column::OccurrenceId.is_in(occurrences))
            .filter(cycle::Column::Status.eq(Status::Open.as_str()));
        select = match owner {
            Owner::Team(id) => select.filter(cycle::Column::TeamId.eq(id)),
            Owner::Professional(id) => select.filter(cycle::Column::ProfessionalId.eq(id)),
            Owner::Groep(id) => select.filter(cycle::Column::GroepId.eq(id)),
            Owner::Kindcentrum(id) => select.filter(cycle::Column::KindcentrumId.eq(id)),
        };
        Ok(select.one(txn).await?.is_some())
    }

    /// The open cycles of a workflow in a phase, owned within a scope.
    async fn open_cycles_in(
        &self,
        txn: &DatabaseTransaction,
        scope: Scope,
        workflow: &str,
        phase: &str,
    ) -> Result<Vec<cycle::Model>> {
        let kindcentra = self.kindcentra_in(txn, scope).await?;
        let owners = OwnersIn::load(txn, &kindcentra).await?;
        // Only the owners in SQL: with the workflow or phase there as well, SQLite would
        // rather walk the index of that phase, over every such cycle in the country, than
        // the owners' indexes; the few cycles of the scope are sorted out here.
        Ok(cycle::Entity::find()
            .filter(owners.condition())
            .order_by_asc(cycle::Column::Id)
            .all(txn)
            .await?
            .into_iter()
            .filter(|c| c.workflow_key == workflow && c.phase == phase && c.status == Status::Open.as_str())
            .collect())
    }

    /// The owners an action applies to, with a name for titles.
    async fn targets<C: ConnectionTrait>(
        &self,
        db: &C,
        scope: Scope,
        targets: &Targets,
    ) -> Result<Vec<(Owner, String)>> {
        let kindcentra = self.kindcentra_in(db, scope).await?;
        Ok(match targets {
            Targets::Scope => match scope {
                Scope::Groep(id) => groep::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .map(|g| (Owner::Groep(g.id), g.name))
                    .into_iter()
                    .collect(),
                Scope::Team(id) => team::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .map(|t| (Owner::Team(t.id), t.name))
                    .into_iter()
                    .collect(),
                _ => kindcentrum::Entity::find()
                    .filter(kindcentrum::Column::Id.is_in(kindcentra))
                    .order_by_asc(kindcentrum::Column::Id)
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|k| (Owner::Kindcentrum(k.id), k.name))
                    .collect(),
            },
            Targets::Groepen { onderdelen } => {
                let mut select = groep::Entity::find().order_by_asc(groep::Column::Id);
                select = match scope {
                    Scope::Groep(id) => select.filter(groep::Column::Id.eq(id)),
                    Scope::Locatie(id) => select.filter(groep::Column::LocatieId.eq(id)),
                    _ => {
                        let locaties: Vec<i64> = locatie::Entity::find()
                            .filter(locatie::Column::KindcentrumId.is_in(kindcentra))
                            .all(db)
                            .await?
                            .into_iter()
                            .map(|l| l.id)
                            .collect();
                        select.filter(groep::Column::LocatieId.is_in(locaties))
                    }
                };
                let groepen = select.all(db).await?;
                let kinds: HashMap<i64, OnderdeelKind> = onderdeel::Entity::find()
                    .filter(onderdeel::Column::Id.is_in(groepen.iter().map(|g| g.onderdeel_id)))
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|o| (o.id, o.kind))
                    .collect();
                groepen
                    .into_iter()
                    .filter(|g| {
                        onderdelen.is_empty() || kinds.get(&g.onderdeel_id).is_some_and(|k| onderdelen.contains(k))
                    })
                    .map(|g| (Owner::Groep(g.id), g.name))
                    .collect()
            }
            Targets::Teams { kinds } => {
                let select = match scope {
                    Scope::Team(id) => team::Entity::find().filter(team::Column::Id.eq(id)),
                    _ => team::Entity::find().filter(team::Column::KindcentrumId.is_in(kindcentra)),
                };
                select
                    .order_by_asc(team::Column::Id)
                    .all(db)
                    .await?
                    .into_iter()
                    .filter(|t| kinds.is_empty() || kinds.contains(&t.kind))
                    .map(|t| (Owner::Team(t.id), t.name))
                    .collect()
            }
        })
    }

    async fn kindcentrum_of_owner(&self, txn: &DatabaseTransaction, owner: Owner) -> Result<Option<i64>> {
        let scope = match owner {
            Owner::Team(id) => Scope::Team(id),
            Owner::Groep(id) => Scope::Groep(id),
            Owner::Kindcentrum(id) => Scope::Kindcentrum(id),
            Owner::Professional(id) => {
                return Ok(professional_kindcentrum::Entity::find()
                    .filter(professional_kindcentrum::Column::ProfessionalId.eq(id))
                    .one(txn)
                    .await?
                    .map(|p| p.kindcentrum_id));
            }
        };
        Ok(self.kindcentra_in(txn, scope).await?.into_iter().next())
    }

    /// (team, professional) pairs a reminder goes to.
    async fn assignees(
        &self,
        txn: &DatabaseTransaction,
        kindcentrum: Option<i64>,
        assignee: &Assignee,
    ) -> Result<Vec<Assigned>> {
        let Some(kindcentrum) = kindcentrum else { return Ok(Vec::new()) };
        Ok(match assignee {
            Assignee::Team { kind } => team::Entity::find()
                .filter(team::Column::KindcentrumId.eq(kindcentrum))
                .filter(team::Column::Kind.eq(*kind))
                .order_by_asc(team::Column::Id)
                .one(txn)
                .await?
                .map(|t| (Some(t.id), None))
                .into_iter()
                .collect(),
            Assignee::Role { role } => {
                let working: Vec<i64> = professional_kindcentrum::Entity::find()
                    .filter(professional_kindcentrum::Column::KindcentrumId.eq(kindcentrum))
                    .all(txn)
                    .await?
                    .into_iter()
                    .map(|p| p.professional_id)
                    .collect();
                professional_role::Entity::find()
                    .filter(professional_role::Column::Role.eq(*role))
                    .filter(professional_role::Column::ProfessionalId.is_in(working))
                    .order_by_asc(professional_role::Column::ProfessionalId)
                    .all(txn)
                    .await?
                    .into_iter()
                    .map(|r| (None, Some(r.professional_id)))
                    .collect()
            }
        })
    }

    /// The occurrences the schedules would fire in `(from, to]`, without storing or firing
    /// anything: the preview and the calendar.
    pub async fn preview(&self, from: DateTime<Utc>, to: DateTime<Utc>, scope: Option<Scope>) -> Result<Vec<Planned>> {
        if to < from {
            return Err(Error::Validation(format!("the end {to} lies before the start {from}")));
        }
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
                    self.targets(self.db(), spec.scope, targets).await?.into_iter().map(|(_, name)| name).collect()
                }
                Action::Iterate { workflow, from, .. } => vec![format!("open {workflow} cycles in `{from}`")],
            };
            let action = match &spec.action {
                Action::OpenCycle { workflow, .. } => format!("open-cycle {workflow}"),
                Action::Iterate { workflow, from, to } => format!("iterate {workflow} {from} -> {to}"),
                Action::Reminder { title, .. } => format!("reminder {title}"),
            };
            // A schedule fires nothing from before it existed.
            let after = Ord::max(local(from), local(schedule.row.created_at));
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
        status: Option<&str>,
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
        use reminder::Column as C;
        let mut select = reminder::Entity::find().filter(self.access_of().owner_condition(
            C::KindcentrumId,
            C::TeamId,
            C::GroepId,
            C::ProfessionalId,
        ));
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
        occurrence::Entity::delete_many().filter(occurrence::Column::Status.eq("pending")).exec(&txn).await?;
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
        let school_year: crate::domain::SchoolYear =
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

impl Engine {
    /// Runs the calendar until `shutdown` completes: stores what is ahead, fires what is
    /// due, then sleeps until the next due time (at most an hour, to keep the horizon
    /// filled) or until schedules change.
    pub async fn run_scheduler(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut first = true;
        loop {
            let outcome = self.run_scheduler_once().await;
            // Something still due after a run that fired nothing is being fired by another
            // replica (or the run failed): look again in a moment rather than at once.
            let stalled = !matches!(&outcome, Ok(report) if report.fired + report.missed > 0);
            match outcome {
                Ok(report) if first => {
                    tracing::info!(fired = report.fired, missed = report.missed, "scheduler caught up");
                }
                Ok(report) if report.fired + report.missed > 0 => {
                    tracing::info!(fired = report.fired, missed = report.missed, "scheduler ran");
                }
                Ok(_) => {}
                Err(err) => tracing::error!(error = %err, "scheduler run failed; retrying at the next wake-up"),
            }
            first = false;
            let now = self.clock().now();
            let next = match self.next_due().await {
                Ok(next) => next,
                Err(err) => {
                    tracing::error!(error = %err, "cannot read the next due time");
                    None
                }
            };
            let wake = match next {
                Some(next) if next <= now && stalled => now + Duration::seconds(1),
                Some(next) => Ord::min(next, now + Duration::hours(1)),
                None => now + Duration::hours(1),
            };
            let sleep = (wake - now).to_std().unwrap_or_default();
            tracing::debug!(?next, "scheduler idle");
            tokio::select! {
                () = tokio::time::sleep(sleep) => {}
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
