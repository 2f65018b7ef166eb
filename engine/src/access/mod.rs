//! What one caller may read and change: the reach of its token's scope and the rights of
//! its role, enforced by the engine's own reads and writes.
//!
//! A request's engine is [`Engine::scoped`] to its caller's [`Access`]. Every row the
//! engine's readers return passes [`Visible`], every list the engine pages is narrowed in
//! SQL by the same reach, and every service that changes something first checks the target
//! is within reach (else NOT_FOUND, exactly as for an id that does not exist) and then that
//! the role may do it (else FORBIDDEN). The scheduler, the CLI and the importers run with
//! [`Access::system`], which reaches everything.
//!
//! Reach is computed once per request from the scope, in a handful of statements:
//! - `bestuur:ID` reaches the whole bestuur (its coaching norm and log, its schedules) and
//!   every kindcentrum it is linked to, in full;
//! - `kindcentrum:ID` reaches that kindcentrum in full: koersplannen, indicators,
//!   locaties, groepen, teams, the professionals who work there and their cycles;
//! - `locatie:ID` reaches the locatie and its groepen (scans, groep cycles, coaching at
//!   the locatie);
//! - `team:ID` reaches the team, its members and its cycles;
//! - `professional:ID` reaches the professional's own cycles and coaching; for a coach
//!   also the locaties of the kindcentra they work at, for others also their teams.
//!
//! A token of the coach role (`locatie:ID` or `professional:ID`) also reads the coaching
//! norm and log of the houders of the locaties it coaches, and the reminders assigned to
//! the pedagogisch coaches and beleidsmedewerkers of their kindcentra (the calendar's wet
//! IKK reminder); nothing else of those houders.
//!
//! The kindcentra and besturen above what is reached are visible as names (so a team's
//! kindcentrum can be shown), but their lists hold only what is reached.

pub mod owners;
pub mod token;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter};

use crate::Engine;
use crate::access::owners::OwnersIn;
use crate::access::token::{AccessScope, Caller};
use crate::domain::AccessRole;
use crate::domain::ScheduleScope;
use crate::error::{Error, Result};
use crate::store::entity::*;

/// What a caller may read and change.
#[derive(Clone, Debug)]
pub struct Access {
    /// None: the engine itself (scheduler, CLI, importers).
    role: Option<AccessRole>,
    /// None: everything.
    reach: Option<Arc<Reach>>,
}

/// The ids a scope reaches.
#[derive(Debug, Default)]
struct Reach {
    /// Besturen reached whole: their coaching norm and log, their schedules.
    besturen: HashSet<i64>,
    /// Kindcentra reached in full: koersplannen, indicators, their own cycles.
    kindcentra: HashSet<i64>,
    locaties: HashSet<i64>,
    groepen: HashSet<i64>,
    teams: HashSet<i64>,
    /// Professionals whose rows (names, roles, FTE) are visible.
    professionals: HashSet<i64>,
    /// Professionals whose own cycles, reminders and coaching are reached.
    owners: HashSet<i64>,
    /// Houders whose coaching norm and log are reached, and nothing else of them: for the
    /// coach role, the kinderopvang besturen of the locaties it coaches.
    houders: HashSet<i64>,
    /// For the coach role: the kindcentra of the locaties it coaches, and the pedagogisch
    /// coaches and beleidsmedewerkers who work there. The reminders assigned to those
    /// coaches in those kindcentra are reached: a reminder records its kindcentrum and
    /// assignee, not the scope of its schedule, and the calendar's wet IKK reminder goes to
    /// the pedagogisch coaches of each kindcentrum whether the houder or the kindcentrum
    /// holds the schedule.
    coached_kindcentra: HashSet<i64>,
    coaches: HashSet<i64>,
    /// Kindcentra and besturen visible by name, above what is reached.
    kindcentrum_names: HashSet<i64>,
    bestuur_names: HashSet<i64>,
}

/// The kinds of change a role may be allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Start, fill, advance, close and reopen cycles; pitches.
    Cycles,
    /// Mark reminders done.
    Reminders,
    /// Create, change and pause schedules; apply templates.
    Schedules,
    /// Record measurements; mark and withdraw succescriteria.
    Evidence,
    /// Override signals.
    Signals,
    /// Record scans.
    Scans,
    /// Log coaching and beleid hours.
    Coaching,
    /// Write the koersplan: ambities, doelen, succescriteria, the meerjarenplanning.
    Koersplan,
    /// Change the organisation: professionals, teams, locaties, groepen.
    Organisation,
}

impl Change {
    fn describe(self) -> &'static str {
        match self {
            Change::Cycles => "change cycles",
            Change::Reminders => "mark reminders",
            Change::Schedules => "change schedules",
            Change::Evidence => "record evidence",
            Change::Signals => "override signals",
            Change::Scans => "record scans",
            Change::Coaching => "log coaching hours",
            Change::Koersplan => "change the koersplan",
            Change::Organisation => "change the organisation",
        }
    }
}

impl AccessRole {
    /// The role table of the README.
    pub fn may(self, change: Change) -> bool {
        use Change as C;
        match self {
            AccessRole::Admin | AccessRole::Directeur => true,
            AccessRole::Bestuur => change == C::Signals,
            AccessRole::Coach => matches!(change, C::Scans | C::Coaching | C::Reminders),
            AccessRole::TeamMember => matches!(change, C::Cycles | C::Reminders),
            AccessRole::Reader => false,
        }
    }
}

fn contains(set: &HashSet<i64>, id: Option<i64>) -> bool {
    id.is_some_and(|id| set.contains(&id))
}

impl Access {
    /// The engine's own access: everything, child codes included.
    pub fn system() -> Access {
        Access { role: None, reach: None }
    }

    pub fn role(&self) -> Option<AccessRole> {
        self.role
    }

    /// Whether everything is within reach (the engine itself, or a token of scope `all`).
    pub fn reaches_everything(&self) -> bool {
        self.reach.is_none()
    }

    fn within(&self) -> Option<&Reach> {
        self.reach.as_deref()
    }

    /// A test on the reach; true when everything is reached.
    fn reaches(&self, test: impl FnOnce(&Reach) -> bool) -> bool {
        self.within().is_none_or(test)
    }

    pub fn sees_bestuur(&self, id: i64) -> bool {
        self.reaches(|r| r.bestuur_names.contains(&id) || r.besturen.contains(&id))
    }

    /// Whether the whole bestuur is reached: its coaching norm and log, its schedules.
    pub fn reaches_bestuur(&self, id: i64) -> bool {
        self.reaches(|r| r.besturen.contains(&id))
    }

    /// Whether the coaching norm and log of a houder are reached: with the whole bestuur,
    /// or by a coach of one of its locaties.
    pub fn reaches_coaching_of(&self, bestuur: i64) -> bool {
        self.reaches(|r| r.besturen.contains(&bestuur) || r.houders.contains(&bestuur))
    }

    pub fn sees_kindcentrum(&self, id: i64) -> bool {
        self.reaches(|r| r.kindcentrum_names.contains(&id))
    }

    /// Whether the kindcentrum is reached in full: its koersplannen and indicators.
    pub fn reaches_kindcentrum(&self, id: i64) -> bool {
        self.reaches(|r| r.kindcentra.contains(&id))
    }

    pub fn sees_locatie(&self, id: i64) -> bool {
        self.reaches(|r| r.locaties.contains(&id))
    }

    pub fn sees_groep(&self, id: i64) -> bool {
        self.reaches(|r| r.groepen.contains(&id))
    }

    pub fn sees_team(&self, id: i64) -> bool {
        self.reaches(|r| r.teams.contains(&id))
    }

    pub fn sees_professional(&self, id: i64) -> bool {
        self.reaches(|r| r.professionals.contains(&id))
    }

    /// Child-level scan scores: for the engine and for the coach role (the groep's
    /// mentor or pedagogisch coach); every other role sees the aggregates only.
    pub fn sees_child_scores(&self) -> bool {
        matches!(self.role, None | Some(AccessRole::Coach))
    }

    /// Whether something owned by a kindcentrum, team, groep or professional is reached
    /// (cycles and reminders).
    pub(crate) fn reaches_owner(
        &self,
        kindcentrum: Option<i64>,
        team: Option<i64>,
        groep: Option<i64>,
        professional: Option<i64>,
    ) -> bool {
        self.reaches(|r| {
            contains(&r.kindcentra, kindcentrum)
                || contains(&r.teams, team)
                || contains(&r.groepen, groep)
                || contains(&r.owners, professional)
        })
    }

    /// The rows owned by what is reached, for columns of a kindcentrum, team, groep and
    /// professional owner.
    pub(crate) fn owner_condition<C: ColumnTrait>(
        &self,
        kindcentrum: C,
        team: C,
        groep: C,
        professional: C,
    ) -> Condition {
        match self.within() {
            None => Condition::all(),
            Some(r) => Condition::any()
                .add(kindcentrum.is_in(r.kindcentra.iter().copied()))
                .add(team.is_in(r.teams.iter().copied()))
                .add(groep.is_in(r.groepen.iter().copied()))
                .add(professional.is_in(r.owners.iter().copied())),
        }
    }

    /// The rows of a kindcentrum or a bestuur within reach, as SQL: those of the kindcentra
    /// and besturen reached in full. Rows of neither are for those reaching everything.
    pub(crate) fn condition_on<C: ColumnTrait>(&self, kindcentrum: C, bestuur: C) -> Condition {
        match self.within() {
            None => Condition::all(),
            Some(r) => Condition::any()
                .add(kindcentrum.is_in(r.kindcentra.iter().copied()))
                .add(bestuur.is_in(r.besturen.iter().copied())),
        }
    }

    /// The coaching-log entries within reach, as SQL (see the [`Visible`] impl).
    pub(crate) fn coaching_condition(&self) -> Condition {
        use coaching_entry::Column as C;
        match self.within() {
            None => Condition::all(),
            Some(r) => Condition::any()
                .add(C::BestuurId.is_in(r.besturen.iter().chain(&r.houders).copied()))
                .add(C::LocatieId.is_in(r.locaties.iter().copied()))
                .add(C::CoachId.is_in(r.owners.iter().copied())),
        }
    }

    /// Whether a reminder is reached: by its owner, or for the coach role as one assigned
    /// to a coach of the kindcentra it coaches at.
    fn reaches_reminder(&self, row: &reminder::Model) -> bool {
        self.reaches_owner(row.kindcentrum_id, row.team_id, row.groep_id, row.professional_id)
            || self.reaches(|r| {
                contains(&r.coached_kindcentra, row.kindcentrum_id) && contains(&r.coaches, row.professional_id)
            })
    }

    /// The reminders within reach, as SQL: [`Access::reaches_reminder`].
    pub(crate) fn reminder_condition(&self) -> Condition {
        use reminder::Column as C;
        let owned = self.owner_condition(C::KindcentrumId, C::TeamId, C::GroepId, C::ProfessionalId);
        match self.within() {
            None => owned,
            Some(r) => owned.add(
                Condition::all()
                    .add(C::KindcentrumId.is_in(r.coached_kindcentra.iter().copied()))
                    .add(C::ProfessionalId.is_in(r.coaches.iter().copied())),
            ),
        }
    }

    /// Whether a schedule's scope is reached in full: only those reaching the whole of
    /// a scope see (and, by role, change) its calendar.
    pub fn reaches_scope(&self, scope: ScheduleScope) -> bool {
        match scope {
            ScheduleScope::Bestuur(id) => self.reaches_bestuur(id),
            ScheduleScope::Kindcentrum(id) => self.reaches_kindcentrum(id),
            ScheduleScope::Locatie(id) => self.sees_locatie(id),
            ScheduleScope::Groep(id) => self.sees_groep(id),
            ScheduleScope::Team(id) => self.sees_team(id),
        }
    }

    /// A row looked up by id: NotFound when it does not exist or lies outside the reach.
    pub fn found<T: Visible>(&self, row: Option<T>, what: &'static str, id: i64) -> Result<T> {
        row.filter(|row| row.visible(self)).ok_or_else(|| Error::NotFound { what, id: id.to_string() })
    }

    /// Refuses a change the role may not make.
    pub fn may(&self, change: Change) -> Result<()> {
        match self.role {
            Some(role) if !role.may(change) => {
                Err(Error::Forbidden(format!("a token of role {role} may not {}", change.describe())))
            }
            _ => Ok(()),
        }
    }

    /// Keeps the rows within reach.
    pub fn retain<T: Visible>(&self, rows: &mut Vec<T>) {
        rows.retain(|row| row.visible(self));
    }
}

/// Whether a row lies within an [`Access`]. Rows reached only through a parent (the
/// doelen of a koersplan, the events of a cycle) are visible when their parent is.
pub trait Visible {
    fn visible(&self, access: &Access) -> bool;
}

macro_rules! through_parent {
    ($($module:ident),* $(,)?) => {
        $(impl Visible for $module::Model {
            fn visible(&self, _: &Access) -> bool {
                true
            }
        })*
    };
}

through_parent!(
    ambitie,
    doel,
    succescriterium,
    planning_item,
    measurement,
    criterium_mark,
    signal_override,
    cycle_event,
    pitch,
    occurrence,
    lrk_registration,
    professional_fte,
    professional_role,
    ve_indication,
);

/// `Visible` for rows whose visibility is one test of the access.
macro_rules! visible_by {
    ($($module:ident => |$row:ident, $access:ident| $test:expr;)*) => {
        $(impl Visible for $module::Model {
            fn visible(&self, $access: &Access) -> bool {
                let $row = self;
                $test
            }
        })*
    };
}

visible_by! {
    bestuur => |row, access| access.sees_bestuur(row.id);
    kindcentrum => |row, access| access.sees_kindcentrum(row.id);
    onderdeel => |row, access| access.sees_kindcentrum(row.kindcentrum_id);
    locatie => |row, access| access.sees_locatie(row.id);
    groep => |row, access| access.sees_groep(row.id);
    team => |row, access| access.sees_team(row.id);
    professional => |row, access| access.sees_professional(row.id);
    koersplan => |row, access| access.reaches_kindcentrum(row.kindcentrum_id);
    cycle => |row, access| access.reaches_owner(row.kindcentrum_id, row.team_id, row.groep_id, row.professional_id);
    reminder => |row, access| access.reaches_reminder(row);
    scan => |row, access| access.sees_groep(row.groep_id);
    schedule => |row, access| access.reaches_scope(ScheduleScope::new(row.scope_kind, row.scope_id));
}

impl Visible for indicator::Model {
    /// By the narrowest part of its scope.
    fn visible(&self, access: &Access) -> bool {
        match (self.groep_id, self.locatie_id, self.kindcentrum_id, self.bestuur_id) {
            (Some(groep), ..) => access.sees_groep(groep),
            (_, Some(locatie), ..) => access.sees_locatie(locatie),
            (_, _, Some(kc), _) => access.reaches_kindcentrum(kc),
            (_, _, _, Some(bestuur)) => access.reaches_bestuur(bestuur),
            _ => access.within().is_none(),
        }
    }
}

impl Visible for scan_score::Model {
    /// The groep's own score is an aggregate; a child's score needs the coach role.
    fn visible(&self, access: &Access) -> bool {
        self.child_code.is_none() || access.sees_child_scores()
    }
}

impl Visible for coaching_entry::Model {
    fn visible(&self, access: &Access) -> bool {
        access.reaches(|r| {
            r.besturen.contains(&self.bestuur_id)
                || r.houders.contains(&self.bestuur_id)
                || contains(&r.locaties, self.locatie_id)
                || r.owners.contains(&self.coach_id)
        })
    }
}

impl Engine {
    /// The access of an authenticated caller, computed from its token's scope.
    #[tracing::instrument(skip(self), fields(token = caller.token_id, scope = %caller.scope))]
    pub async fn access(&self, caller: &Caller) -> Result<Access> {
        // The read pool: a caller's reach is known while another writer holds the lock.
        let db = &self.reads;
        let mut reach = Reach::default();
        match caller.scope {
            AccessScope::All => return Ok(Access { role: Some(caller.role), reach: None }),
            AccessScope::Bestuur(id) => {
                reach.besturen.insert(id);
                let kindcentra = kindcentrum_bestuur::Entity::find()
                    .filter(kindcentrum_bestuur::Column::BestuurId.eq(id))
                    .all(db)
                    .await?;
                let kindcentra: Vec<i64> = kindcentra.iter().map(|l| l.kindcentrum_id).collect();
                reach.whole_kindcentra(db, &kindcentra).await?;
                // The coaches the bestuur employs, whose entries it logs.
                let staff =
                    professional::Entity::find().filter(professional::Column::EmployerBestuurId.eq(id)).all(db).await?;
                reach.professionals.extend(staff.iter().map(|p| p.id));
            }
            AccessScope::Kindcentrum(id) => reach.whole_kindcentra(db, &[id]).await?,
            AccessScope::Locatie(id) => {
                if let Some(locatie) = locatie::Entity::find_by_id(id).one(db).await? {
                    let locaties = [locatie];
                    reach.locaties_of(db, &locaties).await?;
                    if caller.role == AccessRole::Coach {
                        reach.coached(db, &locaties).await?;
                    }
                }
            }
            AccessScope::Team(id) => {
                reach.teams.insert(id);
                reach.members_of_teams(db).await?;
            }
            AccessScope::Professional(id) => {
                reach.owners.insert(id);
                reach.professionals.insert(id);
                let works_at: Vec<i64> = professional_kindcentrum::Entity::find()
                    .filter(professional_kindcentrum::Column::ProfessionalId.eq(id))
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|l| l.kindcentrum_id)
                    .collect();
                reach.kindcentrum_names.extend(&works_at);
                if caller.role == AccessRole::Coach {
                    let locaties =
                        locatie::Entity::find().filter(locatie::Column::KindcentrumId.is_in(works_at)).all(db).await?;
                    reach.locaties_of(db, &locaties).await?;
                    reach.coached(db, &locaties).await?;
                } else {
                    let teams =
                        team_member::Entity::find().filter(team_member::Column::ProfessionalId.eq(id)).all(db).await?;
                    reach.teams.extend(teams.iter().map(|m| m.team_id));
                    reach.members_of_teams(db).await?;
                }
            }
        }
        reach.names(db).await?;
        Ok(Access { role: Some(caller.role), reach: Some(Arc::new(reach)) })
    }

    /// This engine, answering and changing only what `access` allows.
    pub fn scoped(&self, access: Access) -> Engine {
        Engine { access, ..self.clone() }
    }

    pub fn access_of(&self) -> &Access {
        &self.access
    }

    /// The rows within this engine's access.
    pub(crate) fn visible<T: Visible>(&self, mut rows: Vec<T>) -> Vec<T> {
        self.access.retain(&mut rows);
        rows
    }

    /// A row within this engine's access, or none.
    pub(crate) fn visible_one<T: Visible>(&self, row: Option<T>) -> Option<T> {
        row.filter(|row| row.visible(&self.access))
    }

    /// A row looked up for a change: NotFound when it does not exist or lies outside the
    /// access, Forbidden when the role may not make the change.
    pub(crate) fn for_change<T: Visible>(
        &self,
        row: Option<T>,
        what: &'static str,
        id: i64,
        change: Change,
    ) -> Result<T> {
        let row = self.access.found(row, what, id)?;
        self.access.may(change)?;
        Ok(row)
    }
}

/// The kindcentrum of each doel's koersplan, in three statements.
pub(crate) async fn kindcentra_of_doelen<C: ConnectionTrait>(db: &C, doelen: &[i64]) -> Result<HashMap<i64, i64>> {
    // Most cycles (all those the calendar opens) serve no doel: spare them three statements.
    if doelen.is_empty() {
        return Ok(HashMap::new());
    }
    let doelen = doel::Entity::find().filter(doel::Column::Id.is_in(doelen.iter().copied())).all(db).await?;
    let ambities =
        ambitie::Entity::find().filter(ambitie::Column::Id.is_in(doelen.iter().map(|d| d.ambitie_id))).all(db).await?;
    let plans = koersplan::Entity::find()
        .filter(koersplan::Column::Id.is_in(ambities.iter().map(|a| a.koersplan_id)))
        .all(db)
        .await?;
    let kindcentrum_of_plan: HashMap<i64, i64> = plans.iter().map(|p| (p.id, p.kindcentrum_id)).collect();
    let kindcentrum_of_ambitie: HashMap<i64, i64> =
        ambities.iter().filter_map(|a| Some((a.id, *kindcentrum_of_plan.get(&a.koersplan_id)?))).collect();
    Ok(doelen.iter().filter_map(|d| Some((d.id, *kindcentrum_of_ambitie.get(&d.ambitie_id)?))).collect())
}

impl Reach {
    /// Kindcentra in full, with everything in them.
    async fn whole_kindcentra<C: ConnectionTrait>(&mut self, db: &C, kindcentra: &[i64]) -> Result<()> {
        let owners = OwnersIn::load(db, kindcentra).await?;
        self.kindcentra.extend(kindcentra);
        self.kindcentrum_names.extend(kindcentra);
        self.locaties.extend(owners.locaties());
        self.groepen.extend(owners.groepen());
        self.teams.extend(owners.teams());
        self.professionals.extend(owners.professionals());
        self.owners.extend(owners.professionals());
        Ok(())
    }

    /// Locaties with their groepen; the professionals of their kindcentra, who are
    /// coached there, are visible by name.
    async fn locaties_of<C: ConnectionTrait>(&mut self, db: &C, locaties: &[locatie::Model]) -> Result<()> {
        let kindcentra: Vec<i64> = locaties.iter().map(|l| l.kindcentrum_id).collect();
        self.locaties.extend(locaties.iter().map(|l| l.id));
        self.kindcentrum_names.extend(&kindcentra);
        let groepen =
            groep::Entity::find().filter(groep::Column::LocatieId.is_in(locaties.iter().map(|l| l.id))).all(db).await?;
        self.groepen.extend(groepen.iter().map(|g| g.id));
        let staff = professional_kindcentrum::Entity::find()
            .filter(professional_kindcentrum::Column::KindcentrumId.is_in(kindcentra))
            .all(db)
            .await?;
        self.professionals.extend(staff.iter().map(|l| l.professional_id));
        Ok(())
    }

    /// What a coach of `locaties` reads beside them: the norm and log of their houders, and
    /// the reminders of the coaches of their kindcentra. Three statements.
    async fn coached<C: ConnectionTrait>(&mut self, db: &C, locaties: &[locatie::Model]) -> Result<()> {
        self.houders.extend(owners::opvang_besturen_at(db, locaties).await?.into_values().flatten());
        let kindcentra: HashSet<i64> = locaties.iter().map(|l| l.kindcentrum_id).collect();
        let coaches = professional_role::Entity::find()
            .filter(professional_role::Column::Role.is_in(crate::domain::COACH_ROLES))
            .filter(
                professional_role::Column::ProfessionalId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(professional_kindcentrum::Column::ProfessionalId)
                        .from(professional_kindcentrum::Entity)
                        .and_where(professional_kindcentrum::Column::KindcentrumId.is_in(kindcentra.iter().copied()))
                        .to_owned(),
                ),
            )
            .all(db)
            .await?;
        self.coaches.extend(coaches.iter().map(|c| c.professional_id));
        self.coached_kindcentra.extend(kindcentra);
        Ok(())
    }

    /// The members of the teams reached, and the kindcentra of those teams by name.
    async fn members_of_teams<C: ConnectionTrait>(&mut self, db: &C) -> Result<()> {
        let teams = team::Entity::find().filter(team::Column::Id.is_in(self.teams.iter().copied())).all(db).await?;
        self.kindcentrum_names.extend(teams.iter().map(|t| t.kindcentrum_id));
        let members = team_member::Entity::find()
            .filter(team_member::Column::TeamId.is_in(self.teams.iter().copied()))
            .all(db)
            .await?;
        self.professionals.extend(members.iter().map(|m| m.professional_id));
        Ok(())
    }

    /// The besturen of the kindcentra visible, by name.
    async fn names<C: ConnectionTrait>(&mut self, db: &C) -> Result<()> {
        let links = kindcentrum_bestuur::Entity::find()
            .filter(kindcentrum_bestuur::Column::KindcentrumId.is_in(self.kindcentrum_names.iter().copied()))
            .all(db)
            .await?;
        self.bestuur_names.extend(links.iter().map(|l| l.bestuur_id));
        self.bestuur_names.extend(self.besturen.iter().chain(&self.houders).copied());
        Ok(())
    }
}
