//! Firing due occurrences. A batch of them is decided and carried out together: the
//! kindcentra it touches are read once (the [`Roster`]), and what it creates is written
//! with multi-row statements. A wave of the calendar over the whole country then costs a
//! few statements per thousand occurrences instead of several per occurrence.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use std::panic::AssertUnwindSafe;

use chrono::{DateTime, Duration, Utc};
use futures::FutureExt as _;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, IntoIden, LockBehavior, LockType, Query, TableRef, ValueTuple};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set,
};

use super::{ACTOR, Action, Assignee, CatchUp, FIRE_BATCH, Fired, GRACE_MINUTES, INSERT_CHUNK, Overlap, RunReport};
use super::{Policy, Schedule, ScheduleScope, ScheduleSpec, Targets, to_json};
use crate::Engine;
use crate::access::owners::OwnersIn;
use crate::cycle::machine::{Command, Status};
use crate::cycle::{CycleEventRecord, Owner, StartCycle};
use crate::domain::{OccurrenceStatus, OnderdeelKind, Role, ScheduleScopeKind};
use crate::error::{Error, Result};
use crate::store::entity::{
    cycle, groep, kindcentrum, locatie, occurrence, onderdeel, professional_kindcentrum, professional_role, reminder,
    schedule, team,
};

/// The message of a panic, for the note of the occurrence that caused it.
pub(super) fn panic_reason(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}

/// What firing needs of a schedule.
#[derive(Clone, Debug)]
struct Firing {
    id: i64,
    scope: ScheduleScope,
    action: Action,
    policy: Policy,
}

/// Actions and policies by their stored text, parsed once: the thousands of schedules
/// applied from one template share them.
#[derive(Debug, Default)]
struct Parsed {
    actions: HashMap<String, Action>,
    policies: HashMap<String, Policy>,
}

impl Parsed {
    fn action(&mut self, text: &str) -> Result<Action> {
        cached(&mut self.actions, text)
    }

    fn policy(&mut self, text: &str) -> Result<Policy> {
        cached(&mut self.policies, text)
    }
}

fn cached<T: Clone + serde::de::DeserializeOwned>(parsed: &mut HashMap<String, T>, text: &str) -> Result<T> {
    if let Some(value) = parsed.get(text) {
        return Ok(value.clone());
    }
    let value: T = serde_json::from_str(text).map_err(Error::stored_json)?;
    parsed.insert(text.to_owned(), value.clone());
    Ok(value)
}

/// The day `days` after `date`, or why there is none.
fn due_after(date: chrono::NaiveDate, days: u32) -> Result<chrono::NaiveDate> {
    date.checked_add_days(chrono::Days::new(days.into()))
        .filter(|due| super::rule::YEARS.contains(&chrono::Datelike::year(due)))
        .ok_or_else(|| Error::Validation(format!("due_in_days {days} after {date} lies beyond the calendar")))
}

/// A due occurrence as firing reads it.
#[derive(Clone, Copy, Debug)]
struct Due {
    id: i64,
    schedule_id: i64,
    due_at: DateTime<Utc>,
    local_at: chrono::NaiveDateTime,
}

/// What iterating needs to know of a cycle.
#[derive(Clone, Debug)]
struct Candidate {
    workflow: String,
    phase: String,
    open: bool,
    version: i64,
}

/// id, workflow, phase, status and version of a cycle, and its owner as kindcentrum,
/// team, groep and professional.
type CandidateRow = (i64, String, String, Status, i64, Option<i64>, Option<i64>, Option<i64>, Option<i64>);

/// Whom a reminder is for: a team or a professional.
type Assigned = (Option<i64>, Option<i64>);

/// An owner an action applies to, with a name for titles and the kindcentrum it is in.
#[derive(Clone, Debug)]
pub(super) struct Target {
    pub owner: Owner,
    pub name: String,
    pub kindcentrum: i64,
}

/// The kindcentra of a set of scopes with their groepen, teams and the roles of the
/// professionals who work there, read in a fixed number of statements: what actions
/// resolve their targets and assignees from.
#[derive(Debug, Default)]
pub(super) struct Roster {
    kindcentra: BTreeMap<i64, Place>,
}

/// One kindcentrum of a [`Roster`].
#[derive(Debug, Default)]
struct Place {
    name: String,
    /// By id, with the kind of their onderdeel.
    groepen: Vec<(Groep, OnderdeelKind)>,
    /// By id.
    teams: Vec<team::Model>,
    /// (professional, role) of those who work here, by professional.
    roles: Vec<(i64, Role)>,
}

/// A groep of a [`Place`].
#[derive(Debug)]
struct Groep {
    id: i64,
    locatie_id: i64,
    name: String,
}

/// What the actions of a batch need to know of their kindcentra.
#[derive(Debug, Default)]
pub(super) struct Needs {
    names: bool,
    groepen: bool,
    teams: bool,
    /// The roles reminders are assigned by.
    roles: BTreeSet<Role>,
}

impl Needs {
    pub(super) fn add(&mut self, scope: ScheduleScope, action: &Action) {
        let targets = match action {
            Action::OpenCycle { targets, .. } => targets,
            Action::Reminder { targets, assignee, .. } => {
                // A reminder that finds nobody names the kindcentrum it looked in.
                self.names = true;
                match assignee {
                    Assignee::Team { .. } => self.teams = true,
                    Assignee::Role { role } => {
                        self.roles.insert(*role);
                    }
                }
                targets
            }
            Action::Iterate { .. } => return,
        };
        match (targets, scope) {
            (Targets::Scope, ScheduleScope::Groep(_)) | (Targets::Groepen { .. }, _) => self.groepen = true,
            (Targets::Scope, ScheduleScope::Team(_)) | (Targets::Teams { .. }, _) => self.teams = true,
            (Targets::Scope, _) => self.names = true,
        }
    }
}

impl Roster {
    /// Reads what `needs` of `kindcentra` (those that exist): one to seven statements.
    pub(super) async fn load<C: ConnectionTrait>(db: &C, kindcentra: &BTreeSet<i64>, needs: &Needs) -> Result<Roster> {
        let ids = || kindcentra.iter().copied();
        let mut places: BTreeMap<i64, Place> = kindcentrum::Entity::find()
            .select_only()
            .column(kindcentrum::Column::Id)
            .column(kindcentrum::Column::Name)
            .filter(kindcentrum::Column::Id.is_in(ids()))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .map(|(id, name)| {
                (id, Place { name: if needs.names { name } else { String::new() }, ..Default::default() })
            })
            .collect();
        if needs.groepen {
            // From the locaties of the kindcentra to their groepen: CROSS JOIN keeps SQLite
            // from scanning every groep in the country instead (on PostgreSQL it is an
            // ordinary join).
            let mut groepen = locatie::Entity::find()
                .select_only()
                .column(groep::Column::Id)
                .column(groep::Column::LocatieId)
                .column(groep::Column::Name)
                .column(locatie::Column::KindcentrumId)
                .column(onderdeel::Column::Kind)
                .filter(locatie::Column::KindcentrumId.is_in(ids()))
                .filter(
                    Expr::col((groep::Entity, groep::Column::LocatieId)).equals((locatie::Entity, locatie::Column::Id)),
                )
                .order_by_asc(groep::Column::Id);
            QueryTrait::query(&mut groepen).cross_join(groep::Entity).inner_join(
                onderdeel::Entity,
                Expr::col((onderdeel::Entity, onderdeel::Column::Id))
                    .equals((groep::Entity, groep::Column::OnderdeelId)),
            );
            for (id, locatie_id, name, kc, kind) in
                groepen.into_tuple::<(i64, i64, String, i64, OnderdeelKind)>().all(db).await?
            {
                if let Some(place) = places.get_mut(&kc) {
                    place.groepen.push((Groep { id, locatie_id, name }, kind));
                }
            }
        }
        if needs.teams {
            for t in team::Entity::find()
                .filter(team::Column::KindcentrumId.is_in(ids()))
                .order_by_asc(team::Column::Id)
                .all(db)
                .await?
            {
                if let Some(place) = places.get_mut(&t.kindcentrum_id) {
                    place.teams.push(t);
                }
            }
        }
        if !needs.roles.is_empty() {
            // Those who work in the kindcentra, then their roles by the primary key of
            // (professional, role): CROSS JOIN keeps SQLite from starting at every
            // professional in the country with one of the roles.
            let mut roles = professional_kindcentrum::Entity::find()
                .select_only()
                .column(professional_kindcentrum::Column::KindcentrumId)
                .column(professional_kindcentrum::Column::ProfessionalId)
                .column(professional_role::Column::Role)
                .filter(professional_kindcentrum::Column::KindcentrumId.is_in(ids()))
                .filter(
                    Expr::col((professional_role::Entity, professional_role::Column::ProfessionalId))
                        .equals((professional_kindcentrum::Entity, professional_kindcentrum::Column::ProfessionalId)),
                )
                .filter(professional_role::Column::Role.is_in(needs.roles.iter().copied()));
            QueryTrait::query(&mut roles).cross_join(professional_role::Entity);
            for (kc, professional, role) in roles.into_tuple::<(i64, i64, Role)>().all(db).await? {
                if let Some(place) = places.get_mut(&kc) {
                    place.roles.push((professional, role));
                }
            }
            for place in places.values_mut() {
                place.roles.sort_unstable();
            }
        }
        Ok(Roster { kindcentra: places })
    }

    /// The owners an action of a schedule on `scope`, which covers `kindcentra`, applies
    /// to.
    pub(super) fn targets(&self, scope: ScheduleScope, kindcentra: &[i64], targets: &Targets) -> Vec<Target> {
        let places = || kindcentra.iter().filter_map(|&kc| Some((kc, self.kindcentra.get(&kc)?)));
        let groep = |kc: i64, g: &Groep| Target { owner: Owner::Groep(g.id), name: g.name.clone(), kindcentrum: kc };
        let team =
            |kc: i64, t: &team::Model| Target { owner: Owner::Team(t.id), name: t.name.clone(), kindcentrum: kc };
        let mut out: Vec<Target> = match targets {
            Targets::Scope => match scope {
                ScheduleScope::Groep(id) => places()
                    .flat_map(|(kc, p)| p.groepen.iter().filter(|(g, _)| g.id == id).map(move |(g, _)| groep(kc, g)))
                    .collect(),
                ScheduleScope::Team(id) => places()
                    .flat_map(|(kc, p)| p.teams.iter().filter(|t| t.id == id).map(move |t| team(kc, t)))
                    .collect(),
                _ => places()
                    .map(|(kc, p)| Target { owner: Owner::Kindcentrum(kc), name: p.name.clone(), kindcentrum: kc })
                    .collect(),
            },
            Targets::Groepen { onderdelen } => places()
                .flat_map(|(kc, p)| {
                    p.groepen
                        .iter()
                        .filter(move |(g, _)| match scope {
                            ScheduleScope::Groep(id) => g.id == id,
                            ScheduleScope::Locatie(id) => g.locatie_id == id,
                            _ => true,
                        })
                        .filter(|(_, kind)| onderdelen.is_empty() || onderdelen.contains(kind))
                        .map(move |(g, _)| groep(kc, g))
                })
                .collect(),
            Targets::Teams { kinds } => places()
                .flat_map(|(kc, p)| {
                    p.teams
                        .iter()
                        .filter(move |t| !matches!(scope, ScheduleScope::Team(id) if t.id != id))
                        .filter(|t| kinds.is_empty() || kinds.contains(&t.kind))
                        .map(move |t| team(kc, t))
                })
                .collect(),
        };
        // In the order of their ids, across the kindcentra of the scope.
        out.sort_by_key(|t| match t.owner {
            Owner::Team(id) | Owner::Professional(id) | Owner::Groep(id) | Owner::Kindcentrum(id) => id,
        });
        out
    }

    /// Why a reminder for `target` goes to nobody: what firing notes in the occurrence's
    /// result and what the schedule warns of beforehand.
    fn unassigned(&self, target: &Target, assignee: &Assignee) -> String {
        let whom = match target.owner {
            Owner::Kindcentrum(_) => target.name.clone(),
            _ => {
                let place = self.kindcentra.get(&target.kindcentrum).map(|p| p.name.as_str()).unwrap_or_default();
                format!("{} ({place})", target.name)
            }
        };
        format!("{whom}: no {} to assign the reminder to", assignee.wanted())
    }

    /// What an action of `spec` on `kindcentra` (those its scope covers) would not do as
    /// they stand: its targets match nothing, or its reminders go to nobody.
    fn warnings(&self, spec: &ScheduleSpec, kindcentra: &[i64]) -> Vec<String> {
        let (targets, assignee, verb) = match &spec.action {
            Action::OpenCycle { targets, .. } => (targets, None, "open a cycle for"),
            Action::Reminder { targets, assignee, .. } => (targets, Some(assignee), "create a reminder for"),
            Action::Iterate { .. } => return Vec::new(),
        };
        let found = self.targets(spec.scope, kindcentra, targets);
        if found.is_empty() {
            let kind = spec.scope.kind();
            let place = match kindcentra {
                [] => {
                    return vec![format!(
                        "the {kind} holds no kindcentrum: the schedule creates nothing until it does"
                    )];
                }
                [one] => self.kindcentra.get(one).map(|p| p.name.clone()).unwrap_or_default(),
                many => format!("the {} kindcentra of the {kind}", many.len()),
            };
            return vec![format!("{place}: no {} to {verb}", targets.wanted(spec.scope))];
        }
        let Some(assignee) = assignee else { return Vec::new() };
        found
            .iter()
            .filter(|target| self.assignees(target.kindcentrum, assignee).is_empty())
            .map(|target| self.unassigned(target, assignee))
            .collect()
    }

    /// (team, professional) pairs a reminder in `kindcentrum` goes to.
    fn assignees(&self, kindcentrum: i64, assignee: &Assignee) -> Vec<Assigned> {
        let Some(place) = self.kindcentra.get(&kindcentrum) else { return Vec::new() };
        match assignee {
            Assignee::Team { kind } => {
                place.teams.iter().find(|t| t.kind == *kind).map(|t| (Some(t.id), None)).into_iter().collect()
            }
            Assignee::Role { role } => {
                place.roles.iter().filter(|(_, r)| r == role).map(|(p, _)| (None, Some(*p))).collect()
            }
        }
    }
}

impl Engine {
    /// What each of `schedules` would not do as its scope stands now: targets that match
    /// nothing, reminders nobody can be assigned to (in the words firing notes them with in
    /// the occurrence's result). A schedule like that is not refused: professionals,
    /// groepen and teams may be added before it fires. The kindcentra of all the schedules
    /// are read together, in a fixed number of statements beside one or two for each scope
    /// that is not a kindcentrum.
    pub async fn schedule_warnings(&self, schedules: &[Schedule]) -> Result<Vec<Vec<String>>> {
        let mut covers: HashMap<ScheduleScope, Vec<i64>> = HashMap::new();
        let mut needs = Needs { names: true, ..Needs::default() };
        for schedule in schedules {
            let scope = schedule.spec.scope;
            if let std::collections::hash_map::Entry::Vacant(entry) = covers.entry(scope) {
                entry.insert(self.kindcentra_in(self.db(), scope).await?);
            }
            needs.add(scope, &schedule.spec.action);
        }
        let roster = Roster::load(self.db(), &covers.values().flatten().copied().collect(), &needs).await?;
        Ok(schedules
            .iter()
            .map(|s| roster.warnings(&s.spec, covers.get(&s.spec.scope).map(Vec::as_slice).unwrap_or_default()))
            .collect())
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
                .filter(occurrence::Column::Status.eq(OccurrenceStatus::Pending))
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
        let mut parsed = Parsed::default();
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
            let batch: Vec<Due> = select
                .select_only()
                .column(occurrence::Column::Id)
                .column(occurrence::Column::ScheduleId)
                .column(occurrence::Column::DueAt)
                .column(occurrence::Column::LocalAt)
                .into_tuple()
                .all(&txn)
                .await?
                .into_iter()
                .map(|(id, schedule_id, due_at, local_at)| Due { id, schedule_id, due_at, local_at })
                .collect();
            let Some(end) = batch.last() else {
                txn.commit().await?;
                break;
            };
            last = Some((end.due_at, end.id));
            let full = batch.len() as u64 == FIRE_BATCH;
            // What a batch that is not full leaves pending lies before it (of schedules
            // that are gone), except on PostgreSQL, where other replicas may hold later
            // occurrences locked.
            let more = full || txn.get_database_backend() == DbBackend::Postgres;
            let attempt =
                AssertUnwindSafe(self.fire_batch(&txn, now, batch.clone(), more, &mut parsed)).catch_unwind().await;
            match attempt.map_err(panic_reason) {
                Ok(Ok((fired, missed, records))) => {
                    // The batch is written and not committed: a process killed here must
                    // leave every occurrence of it pending (the crash tests stop here).
                    crate::failpoint("fire-before-commit");
                    txn.commit().await?;
                    report.fired += fired;
                    report.missed += missed;
                    for record in records {
                        self.publish(record);
                    }
                }
                Ok(Err(err)) if err.is_transient() => return Err(err),
                Ok(Err(err)) => {
                    // One occurrence of the batch cannot fire (a schedule stored before its
                    // bounds were checked, a workflow that is gone): the batch is rolled
                    // back and its occurrences fired one by one, so the others fire and
                    // only the bad one is marked failed.
                    txn.rollback().await?;
                    tracing::warn!(error = %err, "a batch of occurrences failed; firing them one by one");
                    self.fire_one_by_one(now, batch, &mut parsed, &mut report).await?;
                }
                Err(reason) => {
                    txn.rollback().await?;
                    tracing::error!(%reason, "firing a batch of occurrences panicked; firing them one by one");
                    self.fire_one_by_one(now, batch, &mut parsed, &mut report).await?;
                }
            }
            if !full {
                break;
            }
        }
        Ok(report)
    }

    /// Fires each occurrence of `batch` in a transaction of its own. One that cannot fire
    /// is marked `failed` with the reason in its note, and the others fire. A failure of
    /// the store itself (a lost connection, a lock) stops the run instead, to be retried:
    /// the occurrences are not at fault.
    async fn fire_one_by_one(
        &self,
        now: DateTime<Utc>,
        batch: Vec<Due>,
        parsed: &mut Parsed,
        report: &mut RunReport,
    ) -> Result<()> {
        for o in batch {
            let txn = crate::store::begin_write(self.db()).await?;
            let attempt = AssertUnwindSafe(self.fire_batch(&txn, now, vec![o], true, parsed)).catch_unwind().await;
            let reason = match attempt.map_err(panic_reason) {
                Ok(Ok((fired, missed, records))) => {
                    txn.commit().await?;
                    report.fired += fired;
                    report.missed += missed;
                    for record in records {
                        self.publish(record);
                    }
                    continue;
                }
                Ok(Err(err)) if err.is_transient() => return Err(err),
                Ok(Err(err)) => err.to_string(),
                Err(reason) => format!("internal error: {reason}"),
            };
            txn.rollback().await?;
            tracing::error!(schedule = o.schedule_id, occurrence = o.id, due_at = %o.due_at, %reason, "occurrence failed");
            let txn = crate::store::begin_write(self.db()).await?;
            occurrence::Entity::update_many()
                .col_expr(occurrence::Column::Status, Expr::value(OccurrenceStatus::Failed))
                .col_expr(occurrence::Column::FiredAt, Expr::value(now))
                .col_expr(occurrence::Column::Note, Expr::value(format!("cannot fire: {reason}")))
                .filter(occurrence::Column::Id.eq(o.id))
                .filter(occurrence::Column::Status.eq(OccurrenceStatus::Pending))
                .exec(&txn)
                .await?;
            txn.commit().await?;
            report.failed += 1;
        }
        Ok(())
    }

    /// Decides and carries out one batch of claimed due occurrences within `txn`: answers
    /// how many fired and were missed, and the events to publish after commit. `more`:
    /// whether due occurrences may be pending beyond the batch.
    async fn fire_batch(
        &self,
        txn: &DatabaseTransaction,
        now: DateTime<Utc>,
        batch: Vec<Due>,
        more: bool,
        parsed: &mut Parsed,
    ) -> Result<(usize, usize, Vec<CycleEventRecord>)> {
        let schedule_ids: BTreeSet<i64> = batch.iter().map(|o| o.schedule_id).collect();
        let rows: Vec<(i64, ScheduleScopeKind, i64, String, String)> = schedule::Entity::find()
            .select_only()
            .column(schedule::Column::Id)
            .column(schedule::Column::ScopeKind)
            .column(schedule::Column::ScopeId)
            .column(schedule::Column::Action)
            .column(schedule::Column::Policy)
            .filter(schedule::Column::Id.is_in(schedule_ids.iter().copied()))
            .into_tuple()
            .all(txn)
            .await?;
        let schedules: HashMap<i64, Firing> = rows
            .into_iter()
            .map(|(id, scope_kind, scope_id, action, policy)| {
                let scope = ScheduleScope::new(scope_kind, scope_id);
                let (action, policy) = (parsed.action(&action)?, parsed.policy(&policy)?);
                Ok((id, Firing { id, scope, action, policy }))
            })
            .collect::<Result<_>>()?;
        // The latest due occurrence of each schedule: the one `CatchUp::Latest` fires.
        let mut latest: HashMap<i64, DateTime<Utc>> = HashMap::new();
        for o in &batch {
            let at = latest.entry(o.schedule_id).or_insert(o.due_at);
            *at = Ord::max(*at, o.due_at);
        }
        if let Some(end) = batch.last().filter(|_| more) {
            // Later due ones of the same schedules lie beyond the batch: after its end in
            // the order of due time and id. Asked per schedule (the unique index of
            // schedule and due time), so that the rest of a large wave of due occurrences
            // is not read for each batch; and only for the schedules that fire the latest.
            let latest_only: BTreeSet<i64> =
                schedules.values().filter(|s| s.policy.catch_up == CatchUp::Latest).map(|s| s.id).collect();
            if !latest_only.is_empty() {
                let beyond: Vec<(i64, DateTime<Utc>, OccurrenceStatus)> = occurrence::Entity::find()
                    .select_only()
                    .column(occurrence::Column::ScheduleId)
                    .column(occurrence::Column::DueAt)
                    .column(occurrence::Column::Status)
                    .filter(occurrence::Column::ScheduleId.is_in(latest_only))
                    .filter(occurrence::Column::DueAt.gte(end.due_at))
                    .filter(occurrence::Column::DueAt.lte(now))
                    .filter(
                        Condition::any()
                            .add(occurrence::Column::DueAt.gt(end.due_at))
                            .add(occurrence::Column::Id.gt(end.id)),
                    )
                    .into_tuple()
                    .all(txn)
                    .await?;
                for (schedule_id, due_at, status) in beyond {
                    if status == OccurrenceStatus::Pending {
                        let at = latest.entry(schedule_id).or_insert(due_at);
                        *at = Ord::max(*at, due_at);
                    }
                }
            }
        }
        // Windows reaching before the first instant the types hold reach back to it.
        let since = |window: Duration| now.checked_sub_signed(window).unwrap_or(DateTime::<Utc>::MIN_UTC);
        let on_time = |o: &Due| o.due_at >= since(Duration::minutes(GRACE_MINUTES));
        let mut fire = Vec::new();
        let mut miss = Vec::new();
        for o in batch {
            let Some(schedule) = schedules.get(&o.schedule_id) else { continue };
            let fires = match schedule.policy.catch_up {
                CatchUp::Latest => latest.get(&o.schedule_id) == Some(&o.due_at),
                CatchUp::All { window_days } => o.due_at >= since(Duration::days(window_days.into())),
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
                .col_expr(occurrence::Column::Status, Expr::value(OccurrenceStatus::Missed))
                .filter(occurrence::Column::Id.is_in(chunk.iter().copied()))
                .exec(txn)
                .await?
                .rows_affected as usize;
        }
        if fire.is_empty() {
            return Ok((0, missed, Vec::new()));
        }
        tracing::info!(count = fire.len(), "firing occurrences");
        let (results, records) = self.carry_out(txn, &fire).await?;
        // Each occurrence's result joined in from a list of (id, result) rows.
        let (list, id, result) = (Alias::new("results"), Alias::new("column1"), Alias::new("column2"));
        for chunk in fire.iter().zip(&results).collect::<Vec<_>>().chunks(INSERT_CHUNK) {
            let rows = chunk
                .iter()
                .map(|((_, o), fired)| Ok(ValueTuple::Two(o.id.into(), to_json(fired)?.into())))
                .collect::<Result<Vec<_>>>()?;
            let update = Query::update()
                .table(occurrence::Entity)
                .value(occurrence::Column::Status, OccurrenceStatus::Fired)
                .value(occurrence::Column::FiredAt, now)
                .value(occurrence::Column::Result, Expr::col((list.clone(), result.clone())))
                .from(TableRef::ValuesList(rows, list.clone().into_iden()))
                .and_where(Expr::col((occurrence::Entity, occurrence::Column::Id)).equals((list.clone(), id.clone())))
                .to_owned();
            txn.execute(&update).await?;
        }
        for ((schedule, o), fired) in fire.iter().zip(&results) {
            tracing::debug!(
                schedule = schedule.id,
                occurrence = o.id,
                due_at = %o.due_at,
                opened = fired.cycles_opened.len(),
                iterated = fired.cycles_iterated.len(),
                reminders = fired.reminders.len(),
                "fired occurrence"
            );
        }
        Ok((fire.len(), missed, records))
    }

    /// Carries out the actions of `fire` in order: what each one created, and the events
    /// to publish after commit. Within a batch, cycles are opened and reminders created
    /// before cycles are iterated.
    async fn carry_out(
        &self,
        txn: &DatabaseTransaction,
        fire: &[(&Firing, Due)],
    ) -> Result<(Vec<Fired>, Vec<CycleEventRecord>)> {
        let mut covers: HashMap<ScheduleScope, Vec<i64>> = HashMap::new();
        for (schedule, _) in fire {
            let scope = schedule.scope;
            if let std::collections::hash_map::Entry::Vacant(entry) = covers.entry(scope) {
                entry.insert(self.kindcentra_in(txn, scope).await?);
            }
        }
        let mut needs = Needs::default();
        for (schedule, _) in fire {
            needs.add(schedule.scope, &schedule.action);
        }
        let roster = Roster::load(txn, &covers.values().flatten().copied().collect(), &needs).await?;
        let mut open = self.opened_and_open(txn, fire).await?;
        let mut fired = vec![Fired::default(); fire.len()];
        let (mut starts, mut started_by) = (Vec::new(), Vec::new());
        let (mut reminders, mut reminded_by) = (Vec::new(), Vec::new());
        let mut initial_phases: HashMap<&str, String> = HashMap::new();
        for (n, (schedule, o)) in fire.iter().enumerate() {
            let scope = schedule.scope;
            let kindcentra = covers.get(&scope).map(Vec::as_slice).unwrap_or_default();
            let date = o.local_at.date();
            match &schedule.action {
                Action::OpenCycle { workflow, title, targets, due_in_days } => {
                    let initial = match initial_phases.get(workflow.as_str()) {
                        Some(initial) => initial.clone(),
                        None => {
                            let initial = self
                                .workflow(workflow)
                                .ok_or_else(|| Error::Validation(format!("unknown workflow `{workflow}`")))?
                                .def
                                .initial()
                                .key
                                .clone();
                            initial_phases.insert(workflow, initial.clone());
                            initial
                        }
                    };
                    for target in roster.targets(scope, kindcentra, targets) {
                        // A cycle opened earlier in the batch counts as still open.
                        if schedule.policy.overlap == Overlap::Skip && !open.insert((schedule.id, target.owner)) {
                            fired[n].skipped.push(format!("{}: the previous cycle is still open", target.name));
                            continue;
                        }
                        let due_dates = match due_in_days {
                            Some(days) => BTreeMap::from([(initial.clone(), due_after(date, *days)?)]),
                            None => BTreeMap::new(),
                        };
                        starts.push(StartCycle {
                            workflow: workflow.clone(),
                            title: format!("{title} {} {date}", target.name),
                            owner: target.owner,
                            doelen: Vec::new(),
                            due_dates,
                            occurrence_id: Some(o.id),
                        });
                        started_by.push(n);
                    }
                }
                Action::Reminder { title, due_in_days, targets, assignee } => {
                    let due_date = due_after(date, *due_in_days)?;
                    for target in roster.targets(scope, kindcentra, targets) {
                        let assignees = roster.assignees(target.kindcentrum, assignee);
                        if assignees.is_empty() {
                            fired[n].skipped.push(roster.unassigned(&target, assignee));
                        }
                        for (team_id, professional_id) in assignees {
                            reminders.push(reminder::ActiveModel {
                                occurrence_id: Set(Some(o.id)),
                                title: Set(format!("{title} {}", target.name)),
                                due_date: Set(due_date),
                                team_id: Set(team_id),
                                professional_id: Set(professional_id),
                                groep_id: Set(if let Owner::Groep(id) = target.owner { Some(id) } else { None }),
                                kindcentrum_id: Set(Some(target.kindcentrum)),
                                done_at: Set(None),
                                created_at: Set(self.clock().now()),
                                ..Default::default()
                            });
                            reminded_by.push(n);
                        }
                    }
                }
                Action::Iterate { .. } => {}
            }
        }
        let mut records = Vec::new();
        for ((row, record), n) in self.start_cycles_in(txn, ACTOR, starts).await?.into_iter().zip(started_by) {
            fired[n].cycles_opened.push(row.id);
            records.push(record);
        }
        let mut reminders = reminders.into_iter().peekable();
        let mut reminded_by = reminded_by.into_iter();
        while reminders.peek().is_some() {
            let chunk: Vec<_> = reminders.by_ref().take(INSERT_CHUNK).collect();
            for (id, n) in crate::store::insert_ids(txn, chunk).await?.into_iter().zip(reminded_by.by_ref()) {
                fired[n].reminders.push(id);
            }
        }
        self.iterate(txn, fire, &covers, &mut fired, &mut records).await?;
        Ok((fired, records))
    }

    /// The owners of cycles that the schedules of `fire` which skip an overlap opened and
    /// that are still open, as (schedule, owner).
    async fn opened_and_open(
        &self,
        txn: &DatabaseTransaction,
        fire: &[(&Firing, Due)],
    ) -> Result<HashSet<(i64, Owner)>> {
        let skipping: BTreeSet<i64> = fire
            .iter()
            .filter(|(s, _)| s.policy.overlap == Overlap::Skip && matches!(s.action, Action::OpenCycle { .. }))
            .map(|(s, _)| s.id)
            .collect();
        if skipping.is_empty() {
            return Ok(HashSet::new());
        }
        let theirs = occurrence::Entity::find()
            .select_only()
            .column(occurrence::Column::Id)
            .filter(occurrence::Column::ScheduleId.is_in(skipping))
            .into_query();
        let cycles = cycle::Entity::find()
            .filter(cycle::Column::OccurrenceId.in_subquery(theirs))
            .filter(cycle::Column::Status.eq(Status::Open))
            .all(txn)
            .await?;
        let schedule_of: HashMap<i64, i64> = occurrence::Entity::find()
            .select_only()
            .column(occurrence::Column::Id)
            .column(occurrence::Column::ScheduleId)
            .filter(
                occurrence::Column::Id.is_in(cycles.iter().filter_map(|c| c.occurrence_id).collect::<BTreeSet<_>>()),
            )
            .into_tuple()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        Ok(cycles
            .iter()
            .filter_map(|c| {
                let schedule = *schedule_of.get(&c.occurrence_id?)?;
                let owner = match (c.team_id, c.professional_id, c.groep_id, c.kindcentrum_id) {
                    (Some(id), ..) => Owner::Team(id),
                    (_, Some(id), ..) => Owner::Professional(id),
                    (_, _, Some(id), _) => Owner::Groep(id),
                    (.., Some(id)) => Owner::Kindcentrum(id),
                    _ => return None,
                };
                Some((schedule, owner))
            })
            .collect())
    }

    /// Moves the open cycles of the scopes of the iterating occurrences of `fire` on, in
    /// the order of the occurrences; the cycles are read once for the whole batch.
    async fn iterate(
        &self,
        txn: &DatabaseTransaction,
        fire: &[(&Firing, Due)],
        covers: &HashMap<ScheduleScope, Vec<i64>>,
        fired: &mut [Fired],
        records: &mut Vec<CycleEventRecord>,
    ) -> Result<()> {
        let iterating: Vec<usize> =
            (0..fire.len()).filter(|&n| matches!(fire[n].0.action, Action::Iterate { .. })).collect();
        if iterating.is_empty() {
            return Ok(());
        }
        let kindcentra: Vec<i64> = iterating
            .iter()
            .flat_map(|&n| covers.get(&fire[n].0.scope).into_iter().flatten().copied())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let owners = OwnersIn::load(txn, &kindcentra).await?;
        // SQLite walks the index of the phases, over every cycle in them in the country,
        // rather than the owners' indexes: once for the whole batch that is fewer rows
        // than every cycle of a thousand kindcentra, since a cycle stays in a phase for
        // weeks, not years. Workflow and status are sorted out here.
        let phases: BTreeSet<&str> = iterating
            .iter()
            .filter_map(|&n| match &fire[n].0.action {
                Action::Iterate { from, .. } => Some(from.as_str()),
                _ => None,
            })
            .collect();
        let mut cycles: BTreeMap<i64, Candidate> = BTreeMap::new();
        let mut of_kindcentrum: HashMap<i64, Vec<i64>> = HashMap::new();
        let rows: Vec<CandidateRow> = cycle::Entity::find()
            .select_only()
            .column(cycle::Column::Id)
            .column(cycle::Column::WorkflowKey)
            .column(cycle::Column::Phase)
            .column(cycle::Column::Status)
            .column(cycle::Column::Version)
            .column(cycle::Column::KindcentrumId)
            .column(cycle::Column::TeamId)
            .column(cycle::Column::GroepId)
            .column(cycle::Column::ProfessionalId)
            .filter(cycle::Column::Phase.is_in(phases))
            .filter(owners.condition())
            .into_tuple()
            .all(txn)
            .await?;
        for (id, workflow, phase, status, version, kindcentrum, team, groep, professional) in rows {
            for kc in owners.kindcentra_of_owner(kindcentrum, team, groep, professional) {
                of_kindcentrum.entry(kc).or_default().push(id);
            }
            cycles.insert(id, Candidate { workflow, phase, open: status == Status::Open, version });
        }
        for n in iterating {
            let (schedule, _) = &fire[n];
            let Action::Iterate { workflow, from, to } = &schedule.action else { continue };
            let candidates: BTreeSet<i64> = covers
                .get(&schedule.scope)
                .into_iter()
                .flatten()
                .flat_map(|kc| of_kindcentrum.get(kc).into_iter().flatten().copied())
                .collect();
            for id in candidates {
                let Some(candidate) = cycles.get(&id) else { continue };
                if !(candidate.open && candidate.workflow == *workflow && candidate.phase == *from) {
                    continue;
                }
                let command = Command::Advance { to: to.clone(), values: Default::default() };
                match self.execute_in(txn, ACTOR, id, candidate.version, command).await {
                    Ok((row, record)) => {
                        let open = row.status == Status::Open;
                        cycles.insert(
                            id,
                            Candidate { workflow: row.workflow_key, phase: row.phase, open, version: row.version },
                        );
                        fired[n].cycles_iterated.push(id);
                        records.push(record);
                    }
                    Err(err @ (Error::GuardFailed { .. } | Error::InvalidTransition(_) | Error::Validation(_))) => {
                        fired[n].skipped.push(format!("cycle {id}: {err}"));
                    }
                    Err(err) => return Err(err),
                }
            }
        }
        Ok(())
    }
}
