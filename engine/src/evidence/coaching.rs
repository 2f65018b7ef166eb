//! The coaching log and the wet IKK norm (Besluit kwaliteit kinderopvang).
//!
//! A pedagogisch coach / beleidsmedewerker logs hours: coaching of pedagogisch medewerkers
//! (individueel or as a team) or work on pedagogisch beleid. Every entry counts toward one
//! houder, the kinderopvang bestuur of its locatie (or, without a locatie, the coach's
//! employer).
//!
//! The norm per houder and calendar year, with peildatum 1 January, is 50 hours beleid per
//! kindercentrum and 10 hours coaching per FTE of its pedagogisch medewerkers (plus 10 per
//! VE-indicated child), and every pedagogisch medewerker coached. The rule is the pure
//! function `norm`, whose doc cites its sources; `Engine::coaching_norms` reads the facts
//! it needs (`NormFacts`) for many houders at once and applies it to each.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use chrono_tz::Europe::Amsterdam;
use futures::TryFutureExt;
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, Order, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::Serialize;

use crate::Engine;
use crate::access::Change;
use crate::access::owners::opvang_besturen_at;
use crate::audit::Changed;
use crate::domain::COACH_ROLES;
use crate::domain::{BestuurKind, ChangeAction, CoachingKind, Role};
use crate::error::{Error, Result};
use crate::org::fte_on;
use crate::store::entity::{
    bestuur, coaching_coachee, coaching_entry, locatie, lrk_registration, onderdeel, professional, professional_fte,
    professional_kindcentrum, professional_role, ve_indication,
};
use crate::store::query::{Page, Slice, through};

/// Hours of beleid per kindercentrum (LRK registration) per year.
pub const BELEID_HOURS_PER_KINDERCENTRUM: f64 = 50.0;
/// Hours of coaching per FTE of pedagogisch medewerkers per year.
pub const COACHING_HOURS_PER_FTE: f64 = 10.0;
/// Extra hours of coaching per VE-indicated child per year.
pub const COACHING_HOURS_PER_VE_CHILD: f64 = 10.0;
/// The working week of 1 FTE in the kinderopvang (cao), in hours: the FTE recorded for a
/// professional is their contract hours divided by this.
pub const FTE_HOURS_PER_WEEK: f64 = 36.0;
/// The first calendar year of the norm: the wet IKK applies from 1 January 2019.
pub const FIRST_YEAR: i32 = 2019;

/// Hours of one coaching-log entry: more than 0 and at most 24 (one day).
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Hours(f64);

/// Why a number or text is not a number of hours.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HoursError {
    #[error("`{0}` is not a number of hours; write it as `1.5` or `1,5`")]
    Format(String),
    #[error("{0} hours: an entry has more than 0 and at most 24 hours")]
    Range(f64),
}

impl Hours {
    pub fn new(value: f64) -> Result<Hours, HoursError> {
        if value.is_finite() && value > 0.0 && value <= 24.0 { Ok(Hours(value)) } else { Err(HoursError::Range(value)) }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Hours {
    type Error = HoursError;

    fn try_from(value: f64) -> Result<Self, Self::Error> {
        Hours::new(value)
    }
}

impl fmt::Display for Hours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Hours {
    type Err = HoursError;

    /// Digits with at most one decimal point or comma (Dutch spreadsheets write `1,5`);
    /// no sign, exponent, `inf` or `NaN`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let format = || HoursError::Format(s.to_owned());
        let (whole, fraction) = match text.split_once(['.', ',']) {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (text, None),
        };
        let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
            return Err(format());
        }
        let value: f64 = match fraction {
            Some(fraction) => format!("{whole}.{fraction}").parse(),
            None => whole.parse(),
        }
        .map_err(|_| format())?;
        Hours::new(value)
    }
}

/// What `log_coaching` needs.
#[derive(Clone, Debug)]
pub struct NewCoachingEntry {
    /// The pedagogisch coach or beleidsmedewerker who spent the hours.
    pub coach_id: i64,
    pub date: NaiveDate,
    pub hours: Hours,
    pub kind: CoachingKind,
    /// The professionals coached; none for beleid.
    pub coachees: Vec<i64>,
    /// Where the hours were spent; decides the houder.
    pub locatie_id: Option<i64>,
    pub note: Option<String>,
}

/// What `correct_coaching` changes in an entry: each value given replaces the stored one,
/// each left `None` keeps it. The coach stays: hours of another coach are theirs to log.
#[derive(Clone, Debug, Default)]
pub struct CoachingCorrection {
    pub date: Option<NaiveDate>,
    pub hours: Option<Hours>,
    pub kind: Option<CoachingKind>,
    /// All the professionals coached, replacing those named before; none for beleid.
    pub coachees: Option<Vec<i64>>,
    /// `Some(None)`: the hours were spent at no locatie, and count toward the coach's
    /// employer.
    pub locatie_id: Option<Option<i64>>,
    /// `Some(None)` (or a blank note) removes the note.
    pub note: Option<Option<String>>,
}

/// The norm of one kind of hours and how far the houder is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NormHours {
    pub required: f64,
    /// Hours dated from 1 January up to today (or the whole year once it is over).
    pub realised: f64,
    /// The realised hours at the pace so far, extended to 31 December; None before the
    /// year starts, the realised hours once it is over.
    pub projected: Option<f64>,
}

impl NormHours {
    /// Hours still to spend this year, never negative.
    pub fn remaining(&self) -> f64 {
        tidy((self.required - self.realised).max(0.0))
    }

    /// Whether the realised hours reach the norm.
    pub fn met(&self) -> bool {
        self.realised >= self.required
    }

    /// Whether the projection reaches the norm; None before the year starts.
    pub fn on_track(&self) -> Option<bool> {
        self.projected.map(|p| p >= self.required)
    }
}

/// Realised hours per kind.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Realised {
    /// Coaching individueel and coaching team together.
    pub coaching: f64,
    pub beleid: f64,
}

impl Realised {
    fn add(&mut self, kind: CoachingKind, hours: f64) {
        if kind.is_coaching() {
            self.coaching += hours;
        } else {
            self.beleid += hours;
        }
    }

    fn tidy(self) -> Realised {
        Realised { coaching: tidy(self.coaching), beleid: tidy(self.beleid) }
    }
}

/// One opvang locatie of a houder: information beside the norm, which binds the houder
/// as a whole.
#[derive(Clone, Debug, PartialEq)]
pub struct LocatieCoaching {
    pub locatie: locatie::Model,
    /// The houder's LRK registrations at this locatie, by number.
    pub lrk_registrations: Vec<lrk_registration::Model>,
    /// Hours logged at this locatie this year.
    pub realised: Realised,
    /// 50 hours x the registrations here.
    pub beleid_share: f64,
    /// 10 hours x the FTE of the houder's pedagogisch medewerkers working here: the FTE of
    /// one who works at several kindcentra is split evenly over them, and within a
    /// kindcentrum over the houder's locaties there. Hours for VE children are not split.
    pub coaching_share: f64,
}

/// The wet IKK norm of one houder for one calendar year.
#[derive(Clone, Debug, PartialEq)]
pub struct CoachingNorm {
    pub bestuur: bestuur::Model,
    pub year: i32,
    /// 1 January: FTE and VE children are counted on this day.
    pub peildatum: NaiveDate,
    /// The last day whose hours count: today, within the year; None before it starts.
    pub counted_until: Option<NaiveDate>,
    /// LRK registrations of the houder's onderdelen.
    pub kindercentra: u32,
    /// FTE of the houder's pedagogisch medewerkers on the peildatum.
    pub fte: f64,
    /// VE-indicated children, when the houder offers voorschoolse educatie this year.
    pub ve_children: Option<u32>,
    /// The houder's pedagogisch medewerkers, flexible ones included, employed in the year
    /// up to `counted_until` (on the peildatum, before the year starts): those to be coached
    /// so far.
    pub pedagogisch_medewerkers: u32,
    pub coaching: NormHours,
    pub beleid: NormHours,
    /// Of `pedagogisch_medewerkers`, those not coached yet this year, by name.
    pub uncoached: Vec<professional::Model>,
    /// The houder's opvang locaties (and any other locatie it logged hours at), by name.
    pub locaties: Vec<LocatieCoaching>,
    /// Hours logged without a locatie.
    pub without_locatie: Realised,
}

/// A calendar year of the norm as far as it has run on a day.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct NormYear {
    pub year: i32,
    /// 1 January: FTE and VE children are counted on this day.
    pub peildatum: NaiveDate,
    /// 31 December.
    pub last: NaiveDate,
    /// The last day whose hours count: the day asked, within the year; None before it
    /// starts.
    pub counted_until: Option<NaiveDate>,
}

impl NormYear {
    /// `year` as it stands on `today`.
    pub fn on(year: i32, today: NaiveDate) -> Result<NormYear> {
        if year < FIRST_YEAR {
            return Err(Error::Validation(format!("{year}: the wet IKK norm applies from {FIRST_YEAR}")));
        }
        let peildatum = day(year, 1, 1)?;
        let last = day(year, 12, 31)?;
        let counted_until = (today >= peildatum).then(|| Ord::min(today, last));
        Ok(NormYear { year, peildatum, last, counted_until })
    }

    /// Who counts: those employed by this day (see [`counts_for_year`]).
    fn employed_by(&self) -> NaiveDate {
        self.counted_until.unwrap_or(self.peildatum)
    }

    /// `realised` hours at the pace so far, extended to 31 December.
    fn projected(&self, realised: f64) -> Option<f64> {
        let days = (self.last - self.peildatum).num_days() + 1;
        self.counted_until.map(|until| project(realised, (until - self.peildatum).num_days() + 1, days))
    }
}

/// What the wet IKK norm of one houder for one year is worked out from: [`norm`] turns
/// these into the [`CoachingNorm`], `Engine::norm_facts` reads them.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NormFacts {
    pub houder: bestuur::Model,
    pub year: NormYear,
    /// The locaties where the houder has LRK registrations, and those it logged hours at
    /// without one, by name.
    pub locaties: Vec<LocatieFacts>,
    /// The houder's pedagogisch medewerkers, flexible ones included, by name: all its
    /// employees with the role, whether they count for the year or not.
    pub medewerkers: Vec<MedewerkerFacts>,
    /// VE-indicated children on the peildatum, when the houder offers voorschoolse
    /// educatie this year.
    pub ve_children: Option<u32>,
    /// The hours logged from the peildatum up to `counted_until`, summed per locatie and
    /// kind.
    pub logged: Vec<LoggedHours>,
}

/// One locatie of a houder's norm.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LocatieFacts {
    pub locatie: locatie::Model,
    /// The houder's LRK registrations here, by number; none at a locatie that only has
    /// hours logged.
    pub lrk_registrations: Vec<lrk_registration::Model>,
}

/// One pedagogisch medewerker of a houder.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MedewerkerFacts {
    pub professional: professional::Model,
    /// Oldest first; none for a flexible medewerker on call or a contract not recorded.
    pub fte_history: Vec<professional_fte::Model>,
    /// The kindcentra they work at.
    pub kindcentra: Vec<i64>,
    /// Named in a coaching entry dated from the peildatum up to `counted_until`.
    pub coached: bool,
}

impl MedewerkerFacts {
    /// Whether they are the houder's in `year` (see [`counts_for_year`]).
    fn counts_for(&self, year: &NormYear) -> bool {
        counts_for_year(&self.fte_history, self.professional.left_on, year.peildatum, year.employed_by())
    }
}

/// The hours a houder logged at one locatie (or without one) of one kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LoggedHours {
    pub locatie_id: Option<i64>,
    pub kind: CoachingKind,
    pub hours: f64,
}

/// [`LoggedHours`] as summed in SQL for several houders.
#[derive(Debug, FromQueryResult)]
struct LoggedHoursRow {
    bestuur_id: i64,
    locatie_id: Option<i64>,
    kind: CoachingKind,
    hours: f64,
}

/// Sums of FTE and hours to four decimals: 0.4 + 0.4 + 0.4 FTE is 1.2, not
/// 1.2000000000000002, and a minute (0.0167 hours) still shows.
fn tidy(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

fn day(year: i32, month: u32, day: u32) -> Result<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| Error::Validation(format!("{year} is not a calendar year koers can count")))
}

/// `realised` hours in `elapsed` of `days` days, extended to the whole year.
fn project(realised: f64, elapsed: i64, days: i64) -> f64 {
    tidy(realised / elapsed as f64 * days as f64)
}

/// What logging hours came to.
pub(crate) enum Logged {
    New(coaching_entry::Model),
    /// The same hours are logged already, as this entry.
    Already(i64),
}

/// The table name of coaching-log entries in the trail of changes.
const ENTITY: &str = "coaching_entry";

/// An entry as its checks found it: the coach, the houder its hours count toward, the
/// coachees and the note, trimmed (none when blank).
struct CheckedEntry {
    coach: professional::Model,
    houder: bestuur::Model,
    coachees: BTreeSet<i64>,
    note: Option<String>,
}

/// An entry as its history records it before and after a change: its columns and the ids
/// of its coachees.
#[derive(Serialize)]
struct EntryState<'a> {
    #[serde(flatten)]
    entry: &'a coaching_entry::Model,
    coachees: Vec<i64>,
}

impl<'a> EntryState<'a> {
    fn of(entry: &'a coaching_entry::Model, coachees: &BTreeSet<i64>) -> EntryState<'a> {
        EntryState { entry, coachees: coachees.iter().copied().collect() }
    }
}

/// The ids of the professionals an entry names as coached.
async fn coachees_of_entry(txn: &DatabaseTransaction, entry_id: i64) -> Result<BTreeSet<i64>> {
    let ids: Vec<i64> = coaching_coachee::Entity::find()
        .select_only()
        .column(coaching_coachee::Column::ProfessionalId)
        .filter(coaching_coachee::Column::CoachingEntryId.eq(entry_id))
        .into_tuple()
        .all(txn)
        .await?;
    Ok(ids.into_iter().collect())
}

/// Names `coachees` as coached in an entry, in one statement.
async fn link_coachees(txn: &DatabaseTransaction, entry_id: i64, coachees: &BTreeSet<i64>) -> Result<()> {
    if !coachees.is_empty() {
        coaching_coachee::Entity::insert_many(coachees.iter().map(|&professional_id| coaching_coachee::ActiveModel {
            coaching_entry_id: Set(entry_id),
            professional_id: Set(professional_id),
        }))
        .exec(txn)
        .await?;
    }
    Ok(())
}

impl Engine {
    /// Logs hours of coaching or beleid; nothing is written when they are refused.
    #[tracing::instrument(skip(self, input), fields(coach = input.coach_id, kind = ?input.kind, date = %input.date))]
    pub async fn log_coaching(&self, actor: &str, input: NewCoachingEntry) -> Result<coaching_entry::Model> {
        let txn = crate::store::begin_write(self.db()).await?;
        let row = match self.log_coaching_in(&txn, actor, input).await? {
            Logged::New(row) => row,
            Logged::Already(same) => {
                return Err(Error::Validation(format!(
                    "these hours are logged already (entry {same}: same coach, date, kind, hours, locatie and \
                     coachees); log other hours, or leave this entry as it is"
                )));
            }
        };
        txn.commit().await?;
        Ok(row)
    }

    /// Logs hours within the caller's transaction, so that an import writes all its
    /// entries or none; hours logged already are not logged twice. A new entry's history
    /// starts with its creation.
    pub(crate) async fn log_coaching_in(
        &self,
        txn: &DatabaseTransaction,
        actor: &str,
        input: NewCoachingEntry,
    ) -> Result<Logged> {
        let checked = self.check_coaching(txn, &input).await?;
        if let Some(same) = self.same_coaching_entry(txn, &input, checked.houder.id, None).await? {
            return Ok(Logged::Already(same));
        }
        let row = coaching_entry::ActiveModel {
            bestuur_id: Set(checked.houder.id),
            coach_id: Set(checked.coach.id),
            date: Set(input.date),
            hours: Set(input.hours.get()),
            kind: Set(input.kind),
            locatie_id: Set(input.locatie_id),
            note: Set(checked.note),
            actor: Set(actor.to_owned()),
            created_at: Set(self.clock().now()),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        link_coachees(txn, row.id, &checked.coachees).await?;
        let created = EntryState::of(&row, &checked.coachees);
        self.record_changes(
            txn,
            vec![Changed::of(ENTITY, row.id, None, Some(&created)).within(None, Some(row.bestuur_id))],
        )
        .await?;
        Ok(Logged::New(row))
    }

    /// Checks an entry as logging it and correcting it check it: the coachees (each once,
    /// at least one for coaching, none for beleid, pedagogisch medewerkers of the houder),
    /// the date (not after today), the coach (a pedagogisch coach or beleidsmedewerker
    /// within reach, whose role may log hours) and the houder the hours count toward.
    async fn check_coaching(&self, txn: &DatabaseTransaction, input: &NewCoachingEntry) -> Result<CheckedEntry> {
        let coachees: BTreeSet<i64> = input.coachees.iter().copied().collect();
        if coachees.len() < input.coachees.len() {
            let twice: BTreeSet<i64> = input
                .coachees
                .iter()
                .enumerate()
                .filter(|(i, id)| input.coachees[..*i].contains(id))
                .map(|(_, id)| *id)
                .collect();
            return Err(Error::Validation(format!(
                "coachees name professionals {} more than once; name each professional coached once",
                joined(&twice)
            )));
        }
        if input.kind.is_coaching() && coachees.is_empty() {
            return Err(Error::Validation(format!(
                "{} hours name at least one coachee: the pedagogisch medewerkers coached",
                kind_name(input.kind)
            )));
        }
        if !input.kind.is_coaching() && !coachees.is_empty() {
            return Err(Error::Validation(format!(
                "beleid hours name no coachees, but professionals {} were given; log coaching for them separately",
                joined(&coachees)
            )));
        }
        let today = self.clock().today();
        if input.date > today {
            return Err(Error::Validation(format!(
                "the hours are dated {}, after today ({today}): log hours once they are spent",
                input.date
            )));
        }
        let coach = professional::Entity::find_by_id(input.coach_id).one(txn).await?;
        let coach = self.for_change(coach, "professional", input.coach_id, Change::Coaching)?;
        let coaches = professional_role::Entity::find()
            .filter(professional_role::Column::ProfessionalId.eq(coach.id))
            .filter(professional_role::Column::Role.is_in(COACH_ROLES))
            .count(txn)
            .await?;
        if coaches == 0 {
            return Err(Error::Validation(format!(
                "professional {} ({}) is not a pedagogisch coach or pedagogisch beleidsmedewerker: only they log \
                 coaching and beleid hours under the wet IKK; give the coach's id, or give the professional that role",
                coach.id, coach.name
            )));
        }
        let access = self.access_of();
        if let Some(locatie) = input.locatie_id.filter(|&l| !access.sees_locatie(l)) {
            return Err(Error::NotFound { what: "locatie", id: locatie.to_string() });
        }
        let houder = match input.locatie_id {
            Some(locatie_id) => self.houder_of_locatie(txn, locatie_id, &coach).await?,
            None => {
                let employer = bestuur::Entity::find_by_id(coach.employer_bestuur_id)
                    .one(txn)
                    .await?
                    .ok_or_else(|| Error::NotFound { what: "bestuur", id: coach.employer_bestuur_id.to_string() })?;
                if employer.kind != BestuurKind::Kinderopvang {
                    return Err(Error::Validation(format!(
                        "coach {} ({}) is employed by bestuur {} ({}), which is not a kinderopvang houder: give the locatie the hours were spent at",
                        coach.id, coach.name, employer.id, employer.name
                    )));
                }
                // Hours without a locatie count toward the coach's employer: logged by
                // those reaching that bestuur, or by the coach.
                if !access.reaches_bestuur(employer.id) && !access.reaches_owner(None, None, None, Some(coach.id)) {
                    return Err(Error::NotFound { what: "professional", id: coach.id.to_string() });
                }
                employer
            }
        };
        let found = professional::Entity::find()
            .filter(professional::Column::Id.is_in(coachees.iter().copied()))
            .all(txn)
            .await?;
        let found = self.visible(found);
        let known: HashSet<i64> = found.iter().map(|p| p.id).collect();
        let missing: BTreeSet<i64> = coachees.iter().copied().filter(|id| !known.contains(id)).collect();
        if !missing.is_empty() {
            return Err(Error::NotFound { what: "professional", id: joined(&missing) });
        }
        if let Some(other) = found.iter().find(|p| p.employer_bestuur_id != houder.id) {
            return Err(Error::Validation(format!(
                "coachee {} ({}) is not employed by houder {} ({}), whose norm these hours count toward",
                other.id, other.name, houder.id, houder.name
            )));
        }
        let medewerkers: HashSet<i64> = professional_role::Entity::find()
            .select_only()
            .column(professional_role::Column::ProfessionalId)
            .filter(professional_role::Column::ProfessionalId.is_in(coachees.iter().copied()))
            .filter(professional_role::Column::Role.eq(Role::PedagogischMedewerker))
            .into_tuple()
            .all(txn)
            .await?
            .into_iter()
            .collect();
        if let Some(other) = found.iter().find(|p| !medewerkers.contains(&p.id)) {
            return Err(Error::Validation(format!(
                "coachee {} ({}) is not a pedagogisch medewerker: the wet IKK's coaching hours are for pedagogisch \
                 medewerkers (flexible ones included); give the professional that role, or leave them out",
                other.id, other.name
            )));
        }
        let note = input.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
        Ok(CheckedEntry { coach, houder, coachees, note })
    }

    /// The entry of the houder's log that is `input` (same coach, date, kind, hours, locatie
    /// and coachees), if one is stored and counts: logging it again would count its hours
    /// twice. `except` is the entry being corrected, which is not its own double.
    pub(crate) async fn same_coaching_entry(
        &self,
        txn: &DatabaseTransaction,
        input: &NewCoachingEntry,
        houder_id: i64,
        except: Option<i64>,
    ) -> Result<Option<i64>> {
        let mut candidates = coaching_entry::Entity::find()
            .filter(coaching_entry::Column::BestuurId.eq(houder_id))
            .filter(coaching_entry::Column::CoachId.eq(input.coach_id))
            .filter(coaching_entry::Column::Date.eq(input.date))
            .filter(coaching_entry::Column::Kind.eq(input.kind))
            .filter(coaching_entry::Column::Hours.eq(input.hours.get()))
            .filter(coaching_entry::Column::WithdrawnAt.is_null())
            .filter(match input.locatie_id {
                Some(locatie) => coaching_entry::Column::LocatieId.eq(locatie),
                None => coaching_entry::Column::LocatieId.is_null(),
            });
        if let Some(except) = except {
            candidates = candidates.filter(coaching_entry::Column::Id.ne(except));
        }
        let candidates = candidates.all(txn).await?;
        if candidates.is_empty() {
            return Ok(None);
        }
        let mut coachees: HashMap<i64, BTreeSet<i64>> = candidates.iter().map(|c| (c.id, BTreeSet::new())).collect();
        for link in coaching_coachee::Entity::find()
            .filter(coaching_coachee::Column::CoachingEntryId.is_in(coachees.keys().copied()))
            .all(txn)
            .await?
        {
            coachees.entry(link.coaching_entry_id).or_default().insert(link.professional_id);
        }
        let wanted: BTreeSet<i64> = input.coachees.iter().copied().collect();
        Ok(candidates.iter().map(|c| c.id).find(|id| coachees.get(id) == Some(&wanted)))
    }

    /// Corrects an entry of the coaching log: the values `correction` gives replace the
    /// stored ones, the corrected entry is checked as logging checks it, and its history
    /// keeps the change with `reason`. `expected_version` is the entry's version as its
    /// editor read it. A withdrawn entry is not corrected: its hours are logged anew.
    #[tracing::instrument(skip(self, entry_id, correction, reason), fields(entry = entry_id))]
    pub async fn correct_coaching(
        &self,
        entry_id: i64,
        expected_version: i32,
        correction: CoachingCorrection,
        reason: String,
    ) -> Result<coaching_entry::Model> {
        let txn = crate::store::begin_write(self.db()).await?;
        let (before, reason) = self.entry_to_change(&txn, entry_id, expected_version, &reason, false).await?;
        let stored = coachees_of_entry(&txn, entry_id).await?;
        let hours = match correction.hours {
            Some(hours) => hours,
            None => Hours::new(before.hours).map_err(|why| {
                Error::Validation(format!("entry {entry_id} holds {why}; give the hours it should hold"))
            })?,
        };
        let input = NewCoachingEntry {
            coach_id: before.coach_id,
            date: correction.date.unwrap_or(before.date),
            hours,
            kind: correction.kind.unwrap_or(before.kind),
            coachees: correction.coachees.unwrap_or_else(|| stored.iter().copied().collect()),
            locatie_id: correction.locatie_id.unwrap_or(before.locatie_id),
            note: correction.note.unwrap_or_else(|| before.note.clone()),
        };
        let checked = self.check_coaching(&txn, &input).await?;
        if let Some(same) = self.same_coaching_entry(&txn, &input, checked.houder.id, Some(entry_id)).await? {
            return Err(Error::Validation(format!(
                "entry {same} holds these hours already (same coach, date, kind, hours, locatie and coachees): \
                 corrected like this, entry {entry_id} would count them twice; withdraw it instead"
            )));
        }
        let after = coaching_entry::Model {
            bestuur_id: checked.houder.id,
            date: input.date,
            hours: input.hours.get(),
            kind: input.kind,
            locatie_id: input.locatie_id,
            note: checked.note,
            ..before.clone()
        };
        if after == before && checked.coachees == stored {
            return Err(Error::Validation(format!(
                "the correction changes nothing in entry {entry_id}: give the values that are to change"
            )));
        }
        let mut row: coaching_entry::ActiveModel = before.clone().into();
        row.bestuur_id = Set(after.bestuur_id);
        row.date = Set(after.date);
        row.hours = Set(after.hours);
        row.kind = Set(after.kind);
        row.locatie_id = Set(after.locatie_id);
        row.note = Set(after.note);
        let row = row.update(&txn).await?;
        let gone: Vec<i64> = stored.difference(&checked.coachees).copied().collect();
        if !gone.is_empty() {
            coaching_coachee::Entity::delete_many()
                .filter(coaching_coachee::Column::CoachingEntryId.eq(entry_id))
                .filter(coaching_coachee::Column::ProfessionalId.is_in(gone))
                .exec(&txn)
                .await?;
        }
        let added: BTreeSet<i64> = checked.coachees.difference(&stored).copied().collect();
        link_coachees(&txn, entry_id, &added).await?;
        let change = Changed::of(
            ENTITY,
            entry_id,
            Some(&EntryState::of(&before, &stored)),
            Some(&EntryState::of(&row, &checked.coachees)),
        )
        .within(None, Some(row.bestuur_id))
        .because(Some(reason));
        self.record_changes(&txn, vec![change]).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Withdraws an entry of the coaching log: it stays in the log, marked withdrawn with
    /// `reason`, and its hours and coachees no longer count toward the norm.
    /// `expected_version` is the entry's version as its editor read it.
    #[tracing::instrument(skip(self, entry_id, reason), fields(entry = entry_id))]
    pub async fn withdraw_coaching(
        &self,
        entry_id: i64,
        expected_version: i32,
        reason: String,
    ) -> Result<coaching_entry::Model> {
        let txn = crate::store::begin_write(self.db()).await?;
        let (before, reason) = self.entry_to_change(&txn, entry_id, expected_version, &reason, true).await?;
        let coachees = coachees_of_entry(&txn, entry_id).await?;
        let mut row: coaching_entry::ActiveModel = before.clone().into();
        row.withdrawn_at = Set(Some(self.clock().now()));
        row.withdrawn_reason = Set(Some(reason.clone()));
        let row = row.update(&txn).await?;
        let change = Changed::of(
            ENTITY,
            entry_id,
            Some(&EntryState::of(&before, &coachees)),
            Some(&EntryState::of(&row, &coachees)),
        )
        .within(None, Some(row.bestuur_id))
        .action(ChangeAction::Withdrawn)
        .because(Some(reason));
        self.record_changes(&txn, vec![change]).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// An entry about to be corrected or withdrawn, with the reason trimmed: NotFound when
    /// it does not exist or lies out of reach, Forbidden when the role logs no hours,
    /// Validation when it was withdrawn or the reason is blank, VersionConflict when it
    /// changed since its editor read it at `expected_version`.
    async fn entry_to_change(
        &self,
        txn: &DatabaseTransaction,
        entry_id: i64,
        expected_version: i32,
        reason: &str,
        withdrawing: bool,
    ) -> Result<(coaching_entry::Model, String)> {
        let row = coaching_entry::Entity::find_by_id(entry_id).one(txn).await?;
        let row = self.for_change(row, "coaching entry", entry_id, Change::Coaching)?;
        if let Some(at) = row.withdrawn_at {
            let on = at.with_timezone(&Amsterdam).date_naive();
            return Err(Error::Validation(if withdrawing {
                format!("entry {entry_id} was withdrawn on {on} already")
            } else {
                format!("entry {entry_id} was withdrawn on {on}; log the hours anew")
            }));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::Validation(format!(
                "reason is blank: say why entry {entry_id} is {}; its history keeps the reason",
                if withdrawing { "withdrawn" } else { "corrected" }
            )));
        }
        self.expect_version(txn, ENTITY, entry_id, Some(expected_version)).await?;
        Ok((row, reason.to_owned()))
    }

    /// The kinderopvang bestuur whose norm hours at a locatie count toward: the owner of
    /// the onderdelen of its LRK registrations, else of the kindcentrum's opvang. When
    /// several houders run opvang there, the coach's employer must be one of them.
    async fn houder_of_locatie(
        &self,
        txn: &DatabaseTransaction,
        locatie_id: i64,
        coach: &professional::Model,
    ) -> Result<bestuur::Model> {
        let locatie = locatie::Entity::find_by_id(locatie_id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::NotFound { what: "locatie", id: locatie_id.to_string() })?;
        let candidates =
            opvang_besturen_at(txn, std::slice::from_ref(&locatie)).await?.remove(&locatie.id).unwrap_or_default();
        let houder_id = match candidates.len() {
            0 => {
                return Err(Error::Validation(format!(
                    "locatie {} ({}) has no opvang (no LRK registration and no dagopvang, peuteropvang or BSO): its hours count toward no houder",
                    locatie.id, locatie.name
                )));
            }
            1 => candidates.first().copied().unwrap_or_default(),
            _ if candidates.contains(&coach.employer_bestuur_id) => coach.employer_bestuur_id,
            _ => {
                return Err(Error::Validation(format!(
                    "locatie {} ({}) has opvang of several houders (besturen {}) and coach {} is employed by none of them",
                    locatie.id,
                    locatie.name,
                    joined(&candidates),
                    coach.id
                )));
            }
        };
        let houder = bestuur::Entity::find_by_id(houder_id)
            .one(txn)
            .await?
            .ok_or_else(|| Error::NotFound { what: "bestuur", id: houder_id.to_string() })?;
        if houder.kind != BestuurKind::Kinderopvang {
            return Err(Error::Validation(format!(
                "the opvang of locatie {} ({}) belongs to bestuur {} ({}), which is not a kinderopvang houder",
                locatie.id, locatie.name, houder.id, houder.name
            )));
        }
        Ok(houder)
    }

    /// Whether a bestuur the caller sees has a wet IKK norm: only a kinderopvang houder has
    /// one. A houder whose norm is out of the caller's reach answers NotFound, as an id that
    /// does not exist does, so that "no norm" and "not yours to read" stay apart; whether a
    /// bestuur is kinderopvang is no secret, its kind is shown with its name.
    pub fn has_coaching_norm(&self, bestuur: &bestuur::Model) -> Result<bool> {
        if bestuur.kind != BestuurKind::Kinderopvang {
            return Ok(false);
        }
        if !self.access_of().reaches_coaching_of(bestuur.id) {
            return Err(Error::NotFound { what: "bestuur", id: bestuur.id.to_string() });
        }
        Ok(true)
    }

    /// The wet IKK norm of a kinderopvang bestuur for a calendar year.
    #[tracing::instrument(skip(self))]
    pub async fn coaching_norm(&self, bestuur_id: i64, year: i32) -> Result<CoachingNorm> {
        let bestuur = self
            .bestuur(bestuur_id)
            .await?
            .ok_or_else(|| Error::NotFound { what: "bestuur", id: bestuur_id.to_string() })?;
        if !self.has_coaching_norm(&bestuur)? {
            return Err(Error::Validation(format!(
                "bestuur {} ({}) is not a kinderopvang houder: the wet IKK norm applies to kinderopvang",
                bestuur.id, bestuur.name
            )));
        }
        self.coaching_norms(&[bestuur_id], year)
            .await?
            .remove(&bestuur_id)
            .ok_or_else(|| Error::NotFound { what: "bestuur", id: bestuur_id.to_string() })
    }

    /// The wet IKK norms of besturen for a calendar year, in a fixed number of statements
    /// however many besturen are asked. Besturen that do not exist, are not kinderopvang or
    /// whose norm is out of the caller's reach are left out.
    pub async fn coaching_norms(&self, besturen: &[i64], year: i32) -> Result<HashMap<i64, CoachingNorm>> {
        let facts = self.norm_facts(besturen, year).await?;
        Ok(facts.iter().map(|f| (f.houder.id, norm(f))).collect())
    }

    /// What the wet IKK norms of besturen for a calendar year are worked out from, as the
    /// year stands today: one [`NormFacts`] per kinderopvang houder among `besturen` whose
    /// norm the caller reaches, read in a fixed number of statements.
    async fn norm_facts(&self, besturen: &[i64], year: i32) -> Result<Vec<NormFacts>> {
        let year = NormYear::on(year, self.clock().today())?;
        let NormYear { peildatum, counted_until, .. } = year;
        let db = self.db();

        // The norm covers a whole houder: only for those reaching it whole, or coaching at
        // one of its locaties.
        let besturen = besturen.iter().copied().filter(|&b| self.access_of().reaches_coaching_of(b));
        let houders = bestuur::Entity::find()
            .filter(bestuur::Column::Id.is_in(besturen))
            .filter(bestuur::Column::Kind.eq(BestuurKind::Kinderopvang))
            .all(db)
            .await?;
        if houders.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = houders.iter().map(|b| b.id).collect();

        // Four groups of reads that need only the houders, side by side.
        // Kindercentra: the LRK registrations of the houders' onderdelen.
        let kindercentra = async {
            let onderdelen =
                onderdeel::Entity::find().filter(onderdeel::Column::BestuurId.is_in(ids.clone())).all(db).await?;
            let houder_of_onderdeel: HashMap<i64, i64> = onderdelen.iter().map(|o| (o.id, o.bestuur_id)).collect();
            let registrations = lrk_registration::Entity::find()
                .filter(lrk_registration::Column::OnderdeelId.is_in(houder_of_onderdeel.keys().copied()))
                .order_by_asc(lrk_registration::Column::Number)
                .all(db)
                .await?;
            Ok::<_, Error>((houder_of_onderdeel, registrations))
        };

        // Pedagogisch medewerkers, with their FTE, the kindcentra they work at and whether
        // they have been coached.
        let staff = async {
            let medewerkers = professional::Entity::find()
                .filter(professional::Column::EmployerBestuurId.is_in(ids.clone()))
                .filter(
                    // Correlated, so each of the houders' own professionals is looked up by
                    // the role's key; an uncorrelated IN would collect every pedagogisch
                    // medewerker of the country first.
                    Expr::exists(
                        Query::select()
                            .expr(Expr::val(1))
                            .from(professional_role::Entity)
                            .and_where(
                                Expr::col((professional_role::Entity, professional_role::Column::ProfessionalId))
                                    .equals((professional::Entity, professional::Column::Id)),
                            )
                            .and_where(
                                Expr::col((professional_role::Entity, professional_role::Column::Role))
                                    .eq(Role::PedagogischMedewerker),
                            )
                            .to_owned(),
                    ),
                )
                .order_by_asc(professional::Column::Name)
                .order_by_asc(professional::Column::Id)
                .all(db)
                .await?;
            let medewerker_ids: Vec<i64> = medewerkers.iter().map(|p| p.id).collect();
            let workplaces = professional_kindcentrum::Entity::find()
                .filter(professional_kindcentrum::Column::ProfessionalId.is_in(medewerker_ids.clone()))
                .all(db)
                .err_into::<Error>();
            // Who has been coached up to today, by any entry not withdrawn: the coachees of
            // an entry are employees of its houder.
            let coached = async {
                let Some(until) = counted_until else { return Ok(HashSet::new()) };
                // Per medewerker: is there one coaching entry naming them? Looked up from
                // each medewerker's own coachee rows (index on professional), stopping at
                // the first; joining the houders' entries to their coachees instead reads
                // every entry of the year.
                let coached: Vec<i64> = professional::Entity::find()
                    .select_only()
                    .column(professional::Column::Id)
                    .filter(professional::Column::Id.is_in(medewerker_ids.clone()))
                    .filter(Expr::exists(
                        Query::select()
                            .expr(Expr::val(1))
                            .from(coaching_coachee::Entity)
                            .inner_join(
                                coaching_entry::Entity,
                                Expr::col((coaching_entry::Entity, coaching_entry::Column::Id))
                                    .equals((coaching_coachee::Entity, coaching_coachee::Column::CoachingEntryId)),
                            )
                            .and_where(
                                Expr::col((coaching_coachee::Entity, coaching_coachee::Column::ProfessionalId))
                                    .equals((professional::Entity, professional::Column::Id)),
                            )
                            .and_where(
                                Expr::col((coaching_entry::Entity, coaching_entry::Column::Kind))
                                    .is_in(CoachingKind::COACHING),
                            )
                            .and_where(
                                Expr::col((coaching_entry::Entity, coaching_entry::Column::Date))
                                    .between(peildatum, until),
                            )
                            .and_where(
                                Expr::col((coaching_entry::Entity, coaching_entry::Column::WithdrawnAt)).is_null(),
                            )
                            .to_owned(),
                    ))
                    .into_tuple::<i64>()
                    .all(db)
                    .await?;
                Ok::<_, Error>(coached.into_iter().collect::<HashSet<i64>>())
            };
            let (fte, workplaces, coached) = futures::try_join!(self.fte_of(&medewerker_ids), workplaces, coached)?;
            Ok::<_, Error>((medewerkers, fte, workplaces, coached))
        };

        let ve = async {
            Ok::<_, Error>(
                ve_indication::Entity::find()
                    .filter(ve_indication::Column::BestuurId.is_in(ids.clone()))
                    .filter(ve_indication::Column::Year.eq(year.year))
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|v| (v.bestuur_id, v.children))
                    .collect::<HashMap<i64, i32>>(),
            )
        };

        // Hours up to today of the entries not withdrawn, summed in SQL per houder, locatie
        // and kind: a houder logs thousands of entries a year, and the norm needs only their
        // totals.
        let entries = async {
            let Some(until) = counted_until else { return Ok(Vec::new()) };
            use coaching_entry::Column as E;
            Ok::<_, Error>(
                coaching_entry::Entity::find()
                    .select_only()
                    .columns([E::BestuurId, E::LocatieId, E::Kind])
                    .column_as(E::Hours.sum(), "hours")
                    .filter(E::BestuurId.is_in(ids.clone()))
                    .filter(E::Date.between(peildatum, until))
                    .filter(E::WithdrawnAt.is_null())
                    .group_by(E::BestuurId)
                    .group_by(E::LocatieId)
                    .group_by(E::Kind)
                    .into_model::<LoggedHoursRow>()
                    .all(db)
                    .await?,
            )
        };

        let ((houder_of_onderdeel, registrations), (medewerkers, mut fte, workplaces, coached), ve, entries) =
            futures::try_join!(kindercentra, staff, ve, entries)?;

        let locatie_ids: BTreeSet<i64> =
            registrations.iter().map(|r| r.locatie_id).chain(entries.iter().filter_map(|e| e.locatie_id)).collect();
        let locaties = locatie::Entity::find()
            .filter(locatie::Column::Id.is_in(locatie_ids))
            .order_by_asc(locatie::Column::Name)
            .order_by_asc(locatie::Column::Id)
            .all(db)
            .await?;

        // Everything is read; what remains is sorting it by houder.
        let mut registrations_of: HashMap<(i64, i64), Vec<lrk_registration::Model>> = HashMap::new();
        for r in registrations {
            if let Some(&houder) = houder_of_onderdeel.get(&r.onderdeel_id) {
                registrations_of.entry((houder, r.locatie_id)).or_default().push(r);
            }
        }
        let mut kindcentra_of: HashMap<i64, Vec<i64>> = HashMap::new();
        for w in workplaces {
            kindcentra_of.entry(w.professional_id).or_default().push(w.kindcentrum_id);
        }
        let mut medewerkers_of: HashMap<i64, Vec<MedewerkerFacts>> = HashMap::new();
        for p in medewerkers {
            medewerkers_of.entry(p.employer_bestuur_id).or_default().push(MedewerkerFacts {
                fte_history: fte.remove(&p.id).unwrap_or_default(),
                kindcentra: kindcentra_of.remove(&p.id).unwrap_or_default(),
                coached: coached.contains(&p.id),
                professional: p,
            });
        }
        let mut logged_of: HashMap<i64, Vec<LoggedHours>> = HashMap::new();
        for e in entries {
            logged_of.entry(e.bestuur_id).or_default().push(LoggedHours {
                locatie_id: e.locatie_id,
                kind: e.kind,
                hours: e.hours,
            });
        }

        let mut facts = Vec::with_capacity(houders.len());
        for houder in houders {
            let id = houder.id;
            let logged = logged_of.remove(&id).unwrap_or_default();
            let logged_at: HashSet<i64> = logged.iter().filter_map(|e| e.locatie_id).collect();
            let mut locaties_here = Vec::new();
            for l in &locaties {
                let lrk_registrations = registrations_of.remove(&(id, l.id)).unwrap_or_default();
                if !lrk_registrations.is_empty() || logged_at.contains(&l.id) {
                    locaties_here.push(LocatieFacts { locatie: l.clone(), lrk_registrations });
                }
            }
            facts.push(NormFacts {
                year,
                locaties: locaties_here,
                medewerkers: medewerkers_of.remove(&id).unwrap_or_default(),
                ve_children: ve.get(&id).map(|&c| u32::try_from(c).unwrap_or(0)),
                logged,
                houder,
            });
        }
        Ok(facts)
    }

    /// A page of the coaching log of a houder from `from` to `to` (both included, either
    /// open), newest first; withdrawn entries are listed too, marked by their
    /// `withdrawn_at`.
    pub async fn coaching_entries(
        &self,
        bestuur_id: i64,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        page: Page,
    ) -> Result<Slice<coaching_entry::Model>> {
        if self.bestuur(bestuur_id).await?.is_none() {
            return Err(Error::NotFound { what: "bestuur", id: bestuur_id.to_string() });
        }
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err(Error::Validation(format!("from {from} is after to {to}")));
        }
        use coaching_entry::Column as C;
        let mut select = coaching_entry::Entity::find()
            .filter(C::BestuurId.eq(bestuur_id))
            .filter(self.access_of().coaching_condition());
        if let Some(from) = from {
            select = select.filter(C::Date.gte(from));
        }
        if let Some(to) = to {
            select = select.filter(C::Date.lte(to));
        }
        self.page_of(select.order_by_desc(C::Date).order_by_desc(C::Id), page).await
    }

    /// The professionals coached in coaching-log entries, by name.
    pub async fn coachees_of(&self, entries: &[i64]) -> Result<HashMap<i64, Vec<professional::Model>>> {
        use coaching_coachee::Column as L;
        let query =
            through::<professional::Entity, coaching_coachee::Entity>(L::CoachingEntryId, L::ProfessionalId, entries)
                .order_by((professional::Entity, professional::Column::Name), Order::Asc)
                .to_owned();
        self.linked::<professional::Entity>(query, (coaching_coachee::Entity, L::CoachingEntryId).into_column_ref())
            .await
    }
}

/// The kind as written in messages.
fn kind_name(kind: CoachingKind) -> &'static str {
    match kind {
        CoachingKind::CoachingIndividueel => "coaching-individueel",
        CoachingKind::CoachingTeam => "coaching-team",
        CoachingKind::Beleid => "beleid",
    }
}

/// The wet IKK norm of one houder for one year, worked out from its facts as they stand
/// on a day.
///
/// Besluit kwaliteit kinderopvang art. 4 with bijlage 2, per houder and calendar year, with
/// peildatum 1 January:
///
/// - beleid: at least 50 hours x the number of kindercentra, i.e. LRK registrations of the
///   houder's onderdelen (a locatie with two registrations counts twice);
/// - coaching: at least 10 hours x the FTE of its pedagogisch medewerkers on the peildatum
///   (those who count for the year, see [`counts_for_year`]);
/// - every pedagogisch medewerker, flexible ones included, is coached during the year: the
///   ones not coached yet are listed.
///
/// Besluit basisvoorwaarden kwaliteit voorschoolse educatie art. 2a adds, for a houder
/// offering voorschoolse educatie, 10 hours coaching per VE-indicated child on the
/// peildatum.
///
/// Heidevlinder in the locatiejaarplan 2026: 10 x 1,2 = 12 hours coaching and 50 x 2 = 100
/// hours beleid. The norm binds the houder as a whole; its split over the locaties is
/// information only: beleid by the registrations at each, coaching by where the
/// medewerkers work (the FTE of one at several kindcentra split evenly over them, and
/// within a kindcentrum over the houder's registered locaties there); the VE hours are not
/// split.
pub(crate) fn norm(facts: &NormFacts) -> CoachingNorm {
    let NormFacts { houder, year, locaties, medewerkers, ve_children, logged } = facts;
    let own: Vec<&MedewerkerFacts> = medewerkers.iter().filter(|m| m.counts_for(year)).collect();
    let fte_of = |m: &MedewerkerFacts| fte_on(&m.fte_history, year.peildatum).unwrap_or(0.0);
    let total_fte = tidy(own.iter().map(|m| fte_of(m)).sum());

    // The houder's opvang locaties per kindcentrum, to split FTE over them.
    let mut opvang_locaties: HashMap<i64, Vec<i64>> = HashMap::new();
    for l in locaties.iter().filter(|l| !l.lrk_registrations.is_empty()) {
        opvang_locaties.entry(l.locatie.kindcentrum_id).or_default().push(l.locatie.id);
    }
    let mut fte_share: HashMap<i64, f64> = HashMap::new();
    for m in &own {
        let places: Vec<&Vec<i64>> = m.kindcentra.iter().filter_map(|kc| opvang_locaties.get(kc)).collect();
        for locaties_here in &places {
            let share = fte_of(m) / places.len() as f64 / locaties_here.len() as f64;
            for &l in *locaties_here {
                *fte_share.entry(l).or_default() += share;
            }
        }
    }

    let mut realised = Realised::default();
    let mut without_locatie = Realised::default();
    let mut at_locatie: HashMap<i64, Realised> = HashMap::new();
    for e in logged {
        realised.add(e.kind, e.hours);
        match e.locatie_id {
            Some(l) => at_locatie.entry(l).or_default().add(e.kind, e.hours),
            None => without_locatie.add(e.kind, e.hours),
        }
    }
    let realised = realised.tidy();

    let kindercentra: usize = locaties.iter().map(|l| l.lrk_registrations.len()).sum();
    let kindercentra = u32::try_from(kindercentra).unwrap_or(u32::MAX);
    let coaching_required = tidy(
        COACHING_HOURS_PER_FTE * total_fte + COACHING_HOURS_PER_VE_CHILD * f64::from(ve_children.unwrap_or_default()),
    );
    let beleid_required = BELEID_HOURS_PER_KINDERCENTRUM * f64::from(kindercentra);

    CoachingNorm {
        bestuur: houder.clone(),
        year: year.year,
        peildatum: year.peildatum,
        counted_until: year.counted_until,
        kindercentra,
        fte: total_fte,
        ve_children: *ve_children,
        pedagogisch_medewerkers: u32::try_from(own.len()).unwrap_or(u32::MAX),
        coaching: NormHours {
            required: coaching_required,
            realised: realised.coaching,
            projected: year.projected(realised.coaching),
        },
        beleid: NormHours {
            required: beleid_required,
            realised: realised.beleid,
            projected: year.projected(realised.beleid),
        },
        uncoached: own.iter().filter(|m| !m.coached).map(|m| m.professional.clone()).collect(),
        locaties: locaties
            .iter()
            .map(|l| LocatieCoaching {
                locatie: l.locatie.clone(),
                lrk_registrations: l.lrk_registrations.clone(),
                realised: at_locatie.get(&l.locatie.id).copied().unwrap_or_default().tidy(),
                beleid_share: BELEID_HOURS_PER_KINDERCENTRUM * l.lrk_registrations.len() as f64,
                coaching_share: tidy(
                    COACHING_HOURS_PER_FTE * fte_share.get(&l.locatie.id).copied().unwrap_or_default(),
                ),
            })
            .collect(),
        without_locatie: without_locatie.tidy(),
    }
}

/// Whether a pedagogisch medewerker is one of the houder's for the norm of a year: employed
/// on some day from 1 January up to `until`, the last day of the year that counts so far
/// (today within the year, 31 December after it, 1 January before the year starts).
///
/// Besluit kwaliteit kinderopvang art. 4 has every beroepskracht coached each year, flexible
/// ones included (the seeds' locatiejaarplan Heidevlinder 2026, "Inzet pedagogisch coach");
/// a beroepskracht is the houder's in the years they work for it, so someone starting in
/// September is to be coached from September on, and someone starting next year not this
/// year. The hours are counted on the FTE at the peildatum 1 January (art. 4 with bijlage
/// 2), which [`fte_on`] gives: nothing for someone employed later.
///
/// Employment starts on the first day of the FTE history. Without FTE rows (a flexible
/// medewerker on call, or a contract not recorded) the data names no start, and the
/// medewerker counts in every year rather than drop off the list unseen. It ends on
/// `left_on`: someone who left before 1 January (`peildatum`) is no longer the houder's
/// that year, while the years they worked keep counting them.
pub fn counts_for_year(
    fte_history: &[professional_fte::Model],
    left_on: Option<NaiveDate>,
    peildatum: NaiveDate,
    until: NaiveDate,
) -> bool {
    let started = fte_history.iter().map(|f| f.valid_from).min().is_none_or(|start| start <= until);
    started && left_on.is_none_or(|left| left >= peildatum)
}

fn joined(ids: &BTreeSet<i64>) -> String {
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hours_in_range() {
        assert_eq!(Hours::new(1.5).map(Hours::get), Ok(1.5));
        assert_eq!(Hours::new(24.0).map(Hours::get), Ok(24.0));
        assert_eq!(Hours::new(0.25).map(Hours::get), Ok(0.25));
        for bad in [0.0, -1.0, 24.01, 25.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0] {
            assert!(Hours::new(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn hours_parse_with_a_decimal_point_or_comma() {
        assert_eq!("1,5".parse::<Hours>(), Ok(Hours(1.5)));
        assert_eq!("1.5".parse::<Hours>(), Ok(Hours(1.5)));
        assert_eq!(" 2 ".parse::<Hours>(), Ok(Hours(2.0)));
        assert_eq!("24".parse::<Hours>(), Ok(Hours(24.0)));
        assert_eq!("0,25".parse::<Hours>(), Ok(Hours(0.25)));
        assert_eq!("0".parse::<Hours>(), Err(HoursError::Range(0.0)));
        assert_eq!("25".parse::<Hours>(), Err(HoursError::Range(25.0)));
        for bad in ["", "-1", "+1", "1,5,0", "1.", ",5", "1e1", "inf", "NaN", "1 5", "een", "1,5u"] {
            assert!(matches!(bad.parse::<Hours>(), Err(HoursError::Format(_))), "{bad} should be refused");
        }
    }

    #[test]
    fn messages_say_what_is_wrong() {
        assert_eq!(
            "25".parse::<Hours>().err().map(|e| e.to_string()).as_deref(),
            Some("25 hours: an entry has more than 0 and at most 24 hours")
        );
    }

    #[test]
    fn projection_at_the_pace_so_far() {
        // 2 hours in the first 73 days of a 365-day year: 10 hours by 31 December.
        assert_eq!(project(2.0, 73, 365), 10.0);
        assert_eq!(project(0.0, 1, 365), 0.0);
        assert_eq!(project(12.0, 365, 365), 12.0);
    }

    #[test]
    fn norm_hours_remaining_and_on_track() {
        let hours = NormHours { required: 12.0, realised: 3.0, projected: Some(12.0) };
        assert_eq!(hours.remaining(), 9.0);
        assert!(!hours.met());
        assert_eq!(hours.on_track(), Some(true));
        let done = NormHours { required: 12.0, realised: 14.0, projected: Some(14.0) };
        assert_eq!(done.remaining(), 0.0);
        assert!(done.met());
        assert_eq!(NormHours { required: 1.0, realised: 0.0, projected: None }.on_track(), None);
    }

    #[test]
    fn a_medewerker_counts_from_the_first_date_of_their_fte() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        let from = |valid_from| professional_fte::Model { professional_id: 1, valid_from, fte: 0.5 };
        let history = [from(date(2027, 3, 1)), from(date(2026, 9, 1))];
        let jan = date(2026, 1, 1);
        assert!(!counts_for_year(&history, None, jan, date(2026, 8, 31)));
        assert!(counts_for_year(&history, None, jan, date(2026, 9, 1)), "the first row counts, not the first listed");
        assert!(counts_for_year(&history, None, date(2027, 1, 1), date(2027, 12, 31)));
        assert!(counts_for_year(&[], None, date(2019, 1, 1), date(2019, 1, 1)), "no FTE: no known start, so always");
    }

    #[test]
    fn a_medewerker_who_left_counts_in_the_years_they_worked_and_not_after() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        let history = [professional_fte::Model { professional_id: 1, valid_from: date(2020, 8, 1), fte: 0.8 }];
        let left = Some(date(2026, 3, 31));
        let year = |y| (date(y, 1, 1), date(y, 12, 31));
        let (jan, dec) = year(2025);
        assert!(counts_for_year(&history, left, jan, dec), "a year they worked whole");
        let (jan, dec) = year(2026);
        assert!(counts_for_year(&history, left, jan, dec), "the year they left: employed on the peildatum");
        let (jan, dec) = year(2027);
        assert!(!counts_for_year(&history, left, jan, dec), "the year after they left");
        assert!(!counts_for_year(&history, Some(date(2026, 12, 31)), date(2027, 1, 1), date(2027, 6, 1)));
        assert!(
            counts_for_year(&history, Some(date(2027, 1, 1)), date(2027, 1, 1), date(2027, 6, 1)),
            "left on the peildatum"
        );
    }

    #[test]
    fn sums_are_tidy() {
        assert_eq!(tidy(0.4 + 0.4 + 0.4), 1.2);
        assert_eq!(tidy(10.0 * (0.4 + 0.4 + 0.4)), 12.0);
    }

    // The norm worked out by hand from the facts: houder 1 in 2026 (365 days), unless a
    // test says otherwise.

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    fn locatie(id: i64, kindcentrum_id: i64, name: &str, lrk: &[&str]) -> LocatieFacts {
        LocatieFacts {
            locatie: locatie::Model {
                id,
                kindcentrum_id,
                key: name.to_lowercase(),
                name: name.to_owned(),
                address: None,
                vacation_region: None,
            },
            lrk_registrations: lrk
                .iter()
                .zip(1..)
                .map(|(number, i)| lrk_registration::Model {
                    id: id * 100 + i,
                    locatie_id: id,
                    number: (*number).to_owned(),
                    onderdeel_id: 1,
                })
                .collect(),
        }
    }

    /// A pedagogisch medewerker of houder 1 with their FTE history, working at kindcentra.
    fn medewerker(id: i64, name: &str, fte: &[(NaiveDate, f64)], kindcentra: &[i64]) -> MedewerkerFacts {
        MedewerkerFacts {
            professional: professional::Model {
                id,
                key: name.to_lowercase(),
                name: name.to_owned(),
                employer_bestuur_id: 1,
                flexible: fte.is_empty(),
                left_on: None,
            },
            fte_history: fte
                .iter()
                .map(|&(valid_from, fte)| professional_fte::Model { professional_id: id, valid_from, fte })
                .collect(),
            kindcentra: kindcentra.to_vec(),
            coached: false,
        }
    }

    fn coached(medewerker: MedewerkerFacts) -> MedewerkerFacts {
        MedewerkerFacts { coached: true, ..medewerker }
    }

    /// Employed since 2020 at `fte`.
    fn employed(id: i64, name: &str, fte: f64, kindcentrum: i64) -> MedewerkerFacts {
        medewerker(id, name, &[(date(2020, 1, 1), fte)], &[kindcentrum])
    }

    fn facts(today: NaiveDate, locaties: Vec<LocatieFacts>, medewerkers: Vec<MedewerkerFacts>) -> NormFacts {
        facts_of(2026, today, locaties, medewerkers)
    }

    fn facts_of(
        year: i32,
        today: NaiveDate,
        locaties: Vec<LocatieFacts>,
        medewerkers: Vec<MedewerkerFacts>,
    ) -> NormFacts {
        NormFacts {
            houder: bestuur::Model {
                id: 1,
                key: "houder".to_owned(),
                name: "Houder".to_owned(),
                kind: BestuurKind::Kinderopvang,
            },
            year: NormYear::on(year, today).expect("a year of the norm"),
            locaties,
            medewerkers,
            ve_children: None,
            logged: Vec::new(),
        }
    }

    fn logged(locatie_id: Option<i64>, kind: CoachingKind, hours: f64) -> LoggedHours {
        LoggedHours { locatie_id, kind, hours }
    }

    fn names(professionals: &[professional::Model]) -> Vec<&str> {
        professionals.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn the_year_runs_from_the_peildatum_up_to_today() {
        let year = NormYear::on(2026, date(2026, 3, 14)).expect("2026");
        assert_eq!(year.peildatum, date(2026, 1, 1));
        assert_eq!(year.last, date(2026, 12, 31));
        assert_eq!(year.counted_until, Some(date(2026, 3, 14)));
        assert_eq!(NormYear::on(2026, date(2025, 12, 31)).expect("2026").counted_until, None);
        assert_eq!(NormYear::on(2026, date(2027, 6, 1)).expect("2026").counted_until, Some(date(2026, 12, 31)));
        assert!(matches!(NormYear::on(2018, date(2026, 1, 1)), Err(Error::Validation(_))), "before the wet IKK");
    }

    #[test]
    fn two_locaties_and_10_fte_need_100_hours_beleid_and_100_hours_coaching() {
        let medewerkers = (1..=10).map(|i| employed(i, &format!("Medewerker {i:02}"), 1.0, i % 2 + 1)).collect();
        let norm = norm(&facts(
            date(2026, 3, 14),
            vec![locatie(1, 1, "De Eik", &["111"]), locatie(2, 2, "De Linde", &["222"])],
            medewerkers,
        ));
        assert_eq!(norm.year, 2026);
        assert_eq!(norm.peildatum, date(2026, 1, 1));
        assert_eq!(norm.counted_until, Some(date(2026, 3, 14)));
        assert_eq!(norm.kindercentra, 2);
        assert_eq!(norm.fte, 10.0);
        assert_eq!(norm.ve_children, None);
        assert_eq!(norm.pedagogisch_medewerkers, 10);
        assert_eq!(norm.beleid, NormHours { required: 100.0, realised: 0.0, projected: Some(0.0) });
        assert_eq!(norm.coaching, NormHours { required: 100.0, realised: 0.0, projected: Some(0.0) });
        let shares: Vec<(&str, f64, f64)> =
            norm.locaties.iter().map(|l| (l.locatie.name.as_str(), l.beleid_share, l.coaching_share)).collect();
        assert_eq!(shares, [("De Eik", 50.0, 50.0), ("De Linde", 50.0, 50.0)]);
        assert_eq!(norm.uncoached.len(), 10);
    }

    #[test]
    fn heidevlinder_three_medewerkers_at_0_4_fte_need_12_hours_coaching() {
        let medewerkers = vec![employed(1, "Anna", 0.4, 1), employed(2, "Bram", 0.4, 1), employed(3, "Cees", 0.4, 1)];
        let norm = norm(&facts(date(2026, 3, 14), vec![locatie(1, 1, "Heidevlinder", &["111", "112"])], medewerkers));
        assert_eq!(norm.fte, 1.2, "0.4 + 0.4 + 0.4 is tidied");
        assert_eq!(norm.coaching.required, 12.0);
        assert_eq!(norm.kindercentra, 2, "a locatie with two LRK registrations counts twice");
        assert_eq!(norm.beleid.required, 100.0);
        assert_eq!(norm.locaties[0].beleid_share, 100.0);
        assert_eq!(norm.locaties[0].coaching_share, 12.0);
    }

    #[test]
    fn the_fte_is_the_one_valid_on_1_january() {
        let fte = [(date(2024, 1, 1), 0.5), (date(2025, 6, 1), 0.8), (date(2026, 3, 1), 1.0)];
        let norm = norm(&facts(
            date(2026, 12, 31),
            vec![locatie(1, 1, "De Eik", &["111"])],
            vec![medewerker(1, "Anna", &fte, &[1])],
        ));
        assert_eq!(norm.fte, 0.8, "the raise in March counts next year");
        assert_eq!(norm.coaching.required, 8.0);
    }

    #[test]
    fn a_medewerker_starting_in_september_is_coached_from_september_without_adding_hours() {
        let locaties = || vec![locatie(1, 1, "De Eik", &["111"])];
        let medewerkers = || vec![employed(1, "Anna", 1.0, 1), medewerker(2, "Bram", &[(date(2026, 9, 1), 0.8)], &[1])];
        let august = norm(&facts(date(2026, 8, 31), locaties(), medewerkers()));
        assert_eq!(august.pedagogisch_medewerkers, 1);
        assert_eq!(names(&august.uncoached), ["Anna"]);
        let september = norm(&facts(date(2026, 9, 1), locaties(), medewerkers()));
        assert_eq!(september.pedagogisch_medewerkers, 2);
        assert_eq!(names(&september.uncoached), ["Anna", "Bram"]);
        assert_eq!(september.fte, 1.0, "no FTE of Bram's on the peildatum");
        assert_eq!(september.coaching.required, 10.0);
        assert_eq!(september.locaties[0].coaching_share, 10.0);
        let after = norm(&facts(date(2027, 2, 1), locaties(), medewerkers()));
        assert_eq!(after.pedagogisch_medewerkers, 2);
        assert_eq!(after.fte, 1.0);
    }

    #[test]
    fn a_medewerker_starting_next_year_does_not_count_this_year() {
        let locaties = || vec![locatie(1, 1, "De Eik", &["111"])];
        let medewerkers = || vec![employed(1, "Anna", 1.0, 1), medewerker(2, "Bram", &[(date(2027, 1, 1), 0.5)], &[1])];
        let this_year = norm(&facts(date(2026, 12, 31), locaties(), medewerkers()));
        assert_eq!(this_year.pedagogisch_medewerkers, 1);
        assert_eq!(this_year.fte, 1.0);
        assert_eq!(this_year.coaching.required, 10.0);
        assert_eq!(names(&this_year.uncoached), ["Anna"]);
        let next_year = norm(&facts_of(2027, date(2027, 1, 1), locaties(), medewerkers()));
        assert_eq!(next_year.pedagogisch_medewerkers, 2);
        assert_eq!(next_year.fte, 1.5, "on the peildatum 1 January 2027");
        assert_eq!(next_year.coaching.required, 15.0);
    }

    #[test]
    fn a_medewerker_who_left_last_year_no_longer_counts_and_the_years_before_stay() {
        let locaties = || vec![locatie(1, 1, "De Eik", &["111"])];
        let medewerkers = || {
            let mut cas = medewerker(2, "Cas", &[(date(2020, 8, 1), 0.5)], &[1]);
            cas.professional.left_on = Some(date(2025, 12, 31));
            vec![employed(1, "Anna", 1.0, 1), cas]
        };
        let this_year = norm(&facts(date(2026, 6, 30), locaties(), medewerkers()));
        assert_eq!(this_year.pedagogisch_medewerkers, 1);
        assert_eq!(this_year.fte, 1.0, "Cas's FTE is no longer the houder's on 1 January 2026");
        assert_eq!(names(&this_year.uncoached), ["Anna"]);
        let last_year = norm(&facts_of(2025, date(2025, 12, 31), locaties(), medewerkers()));
        assert_eq!(last_year.pedagogisch_medewerkers, 2);
        assert_eq!(last_year.fte, 1.5, "the year Cas worked keeps its norm");
    }

    #[test]
    fn before_the_year_starts_those_employed_on_the_peildatum_count() {
        let medewerkers = vec![employed(1, "Anna", 1.0, 1), medewerker(2, "Bram", &[(date(2026, 1, 2), 1.0)], &[1])];
        let norm = norm(&facts(date(2025, 11, 1), vec![locatie(1, 1, "De Eik", &["111"])], medewerkers));
        assert_eq!(norm.counted_until, None);
        assert_eq!(norm.pedagogisch_medewerkers, 1);
        assert_eq!(norm.coaching, NormHours { required: 10.0, realised: 0.0, projected: None });
        assert_eq!(norm.beleid, NormHours { required: 50.0, realised: 0.0, projected: None });
    }

    #[test]
    fn a_flexible_medewerker_without_fte_is_to_be_coached_but_adds_no_hours() {
        let medewerkers = vec![employed(1, "Anna", 1.0, 1), medewerker(2, "Flex", &[], &[1])];
        let norm = norm(&facts(date(2026, 3, 14), vec![locatie(1, 1, "De Eik", &["111"])], medewerkers));
        assert!(norm.uncoached.iter().any(|p| p.flexible && p.name == "Flex"));
        assert_eq!(norm.pedagogisch_medewerkers, 2);
        assert_eq!(names(&norm.uncoached), ["Anna", "Flex"]);
        assert_eq!(norm.fte, 1.0);
        assert_eq!(norm.coaching.required, 10.0);
        assert_eq!(norm.locaties[0].coaching_share, 10.0);
    }

    #[test]
    fn every_ve_indicated_child_adds_10_hours_coaching_not_split_over_locaties() {
        let medewerkers = vec![employed(1, "Anna", 1.0, 1), employed(2, "Bram", 1.0, 1)];
        let mut facts = facts(date(2026, 3, 14), vec![locatie(1, 1, "De Eik", &["111"])], medewerkers);
        facts.ve_children = Some(7);
        let ve = norm(&facts);
        assert_eq!(ve.ve_children, Some(7));
        assert_eq!(ve.coaching.required, 90.0, "10 x 2 FTE + 10 x 7 children");
        assert_eq!(ve.locaties[0].coaching_share, 20.0);
        assert_eq!(ve.beleid.required, 50.0);
        facts.ve_children = Some(0);
        assert_eq!(norm(&facts).coaching.required, 20.0);
        facts.ve_children = None;
        assert_eq!(norm(&facts).coaching.required, 20.0);
    }

    #[test]
    fn the_fte_of_a_medewerker_is_split_over_where_they_work() {
        // Kindcentrum 1 has two of the houder's locaties, kindcentrum 2 one; kindcentrum 3
        // has no opvang of the houder.
        let locaties = vec![
            locatie(1, 1, "A", &["111"]),
            locatie(2, 1, "B", &["222"]),
            locatie(3, 2, "C", &["333"]),
            locatie(4, 3, "D", &[]),
        ];
        let medewerkers = vec![
            medewerker(1, "Anna", &[(date(2020, 1, 1), 1.0)], &[1, 2]),
            medewerker(2, "Bram", &[(date(2020, 1, 1), 0.6)], &[2, 3]),
        ];
        let mut facts = facts(date(2026, 3, 14), locaties, medewerkers);
        facts.logged = vec![logged(Some(4), CoachingKind::Beleid, 2.0)];
        let norm = norm(&facts);
        let shares: Vec<(&str, f64, f64)> =
            norm.locaties.iter().map(|l| (l.locatie.name.as_str(), l.beleid_share, l.coaching_share)).collect();
        // Anna: 0.5 to kindcentrum 1 (0.25 each to A and B), 0.5 to C; Bram: all 0.6 to C.
        assert_eq!(shares, [("A", 50.0, 2.5), ("B", 50.0, 2.5), ("C", 50.0, 11.0), ("D", 0.0, 0.0)]);
        assert_eq!(norm.kindercentra, 3);
        assert_eq!(norm.fte, 1.6);
        assert_eq!(norm.coaching.required, 16.0);
    }

    #[test]
    fn realised_hours_are_projected_at_the_pace_so_far() {
        let locaties = || vec![locatie(1, 1, "De Eik", &["111"]), locatie(2, 1, "Elders", &[])];
        let hours = vec![
            logged(Some(1), CoachingKind::CoachingIndividueel, 1.5),
            logged(Some(1), CoachingKind::CoachingTeam, 0.5),
            logged(Some(1), CoachingKind::Beleid, 3.0),
            logged(Some(2), CoachingKind::Beleid, 1.0),
            logged(None, CoachingKind::Beleid, 1.0),
        ];
        // 14 March is day 73 of 365: the hours so far x 5.
        let mut facts = facts(date(2026, 3, 14), locaties(), vec![employed(1, "Anna", 1.0, 1)]);
        facts.logged = hours.clone();
        let norm = norm(&facts);
        assert_eq!(norm.coaching, NormHours { required: 10.0, realised: 2.0, projected: Some(10.0) });
        assert_eq!(norm.beleid, NormHours { required: 50.0, realised: 5.0, projected: Some(25.0) });
        assert_eq!(norm.coaching.on_track(), Some(true));
        assert_eq!(norm.beleid.on_track(), Some(false));
        assert_eq!(norm.beleid.remaining(), 45.0);
        let at: Vec<(&str, Realised)> = norm.locaties.iter().map(|l| (l.locatie.name.as_str(), l.realised)).collect();
        assert_eq!(
            at,
            [("De Eik", Realised { coaching: 2.0, beleid: 3.0 }), ("Elders", Realised { coaching: 0.0, beleid: 1.0 })]
        );
        assert_eq!(norm.without_locatie, Realised { coaching: 0.0, beleid: 1.0 });

        // Once the year is over the projection is what was realised.
        let mut over = facts_of(2026, date(2027, 1, 15), locaties(), vec![employed(1, "Anna", 1.0, 1)]);
        over.logged = hours;
        let over = super::norm(&over);
        assert_eq!(over.counted_until, Some(date(2026, 12, 31)));
        assert_eq!(over.coaching, NormHours { required: 10.0, realised: 2.0, projected: Some(2.0) });
        assert_eq!(over.beleid, NormHours { required: 50.0, realised: 5.0, projected: Some(5.0) });
    }

    #[test]
    fn the_medewerkers_not_coached_yet_are_listed_in_order() {
        let medewerkers = vec![
            coached(employed(1, "Anna", 0.5, 1)),
            employed(2, "Bram", 0.5, 1),
            coached(employed(3, "Cees", 0.5, 1)),
            employed(4, "Dirk", 0.5, 1),
        ];
        let norm = norm(&facts(date(2026, 3, 14), vec![locatie(1, 1, "De Eik", &["111"])], medewerkers));
        assert_eq!(norm.pedagogisch_medewerkers, 4);
        assert_eq!(names(&norm.uncoached), ["Bram", "Dirk"]);
        assert_eq!(norm.fte, 2.0, "coached or not, all count for the hours");
    }

    proptest! {
        #[test]
        fn hours_in_range_print_and_parse_back(value in 0.0001f64..=24.0) {
            let hours = Hours::new(value).expect("in range");
            prop_assert_eq!(hours.to_string().parse::<Hours>(), Ok(hours));
            prop_assert_eq!(hours.to_string().replace('.', ",").parse::<Hours>(), Ok(hours));
        }

        #[test]
        fn hours_outside_the_range_are_refused(value in prop_oneof![-1e6f64..=0.0, 24.000001f64..1e6]) {
            prop_assert!(Hours::new(value).is_err());
        }
    }
}
