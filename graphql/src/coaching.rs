//! The coaching log and the wet IKK norm: `coachingNorm`, `coachingEntries`,
//! `Bestuur.coachingNorm` and the mutations `logCoachingHours`, `correctCoachingEntry` and
//! `withdrawCoachingEntry`.

use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, NaiveDate, Utc};
use koers_engine::evidence::coaching::{self as engine_coaching, CoachingCorrection, Hours, NewCoachingEntry};
use koers_engine::store::entity::coaching_entry;

use crate::error::{IntoGraphql, validation};
use crate::loader::{BestuurById, CoacheesOf, LocatieById, ProfessionalById};
use crate::query::{actor, engine, parse_id};
use crate::types::{
    Bestuur, Date, List, Locatie, LrkRegistration, Professional, connection, list, one, optional, page, page_complexity,
};

/// What coaching-log hours are spent on.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::domain::CoachingKind")]
pub enum CoachingKind {
    /// Coaching of one pedagogisch medewerker.
    CoachingIndividueel,
    /// Coaching of a team of pedagogisch medewerkers.
    CoachingTeam,
    /// Work on pedagogisch beleid: implementing, evaluating, writing.
    Beleid,
}

/// One entry of the coaching log: hours a pedagogisch coach or beleidsmedewerker spent. A
/// coach corrects or withdraws it with a reason; its `history` keeps every change.
#[derive(Debug)]
pub struct CoachingEntry(pub coaching_entry::Model);

#[Object]
impl CoachingEntry {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn date(&self) -> NaiveDate {
        self.0.date
    }
    async fn hours(&self) -> f64 {
        self.0.hours
    }
    async fn kind(&self) -> CoachingKind {
        self.0.kind.into()
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// The houder whose norm the hours count toward.
    async fn bestuur(&self, ctx: &Context<'_>) -> Result<Bestuur> {
        one(ctx, BestuurById(self.0.bestuur_id), "bestuur", self.0.bestuur_id).await.map(Bestuur)
    }
    async fn coach(&self, ctx: &Context<'_>) -> Result<Professional> {
        one(ctx, ProfessionalById(self.0.coach_id), "professional", self.0.coach_id).await.map(Professional)
    }
    /// The professionals coached, by name; none for beleid.
    async fn coachees(&self, ctx: &Context<'_>) -> Result<Vec<Professional>> {
        Ok(list(ctx, CoacheesOf(self.0.id)).await?.into_iter().map(Professional).collect())
    }
    async fn locatie(&self, ctx: &Context<'_>) -> Result<Option<Locatie>> {
        optional(ctx, self.0.locatie_id.map(LocatieById)).await.map(|l| l.map(Locatie))
    }
    /// Who logged it.
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The number of recorded changes: pass it back as `expectedVersion` to correct or
    /// withdraw the entry.
    async fn version(&self, ctx: &Context<'_>) -> Result<i32> {
        crate::audit::version(ctx, "coaching_entry", self.0.id).await
    }
    /// When the entry was withdrawn; null while it counts. A withdrawn entry stays in the
    /// log, and neither its hours nor its coachees count toward the norm.
    async fn withdrawn_at(&self) -> Option<DateTime<Utc>> {
        self.0.withdrawn_at
    }
    /// Why the entry was withdrawn; null while it counts.
    async fn withdrawn_reason(&self) -> Option<&str> {
        self.0.withdrawn_reason.as_deref()
    }
    /// Every recorded change, oldest first: logged, corrected, withdrawn; who, when, the
    /// entry before and after (its columns and `coachees`, the ids coached) and why.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<crate::audit::Change>> {
        crate::audit::history(ctx, "coaching_entry", self.0.id).await
    }
}

/// The wet IKK norm of a houder for a calendar year: at least 50 hours beleid per
/// kindercentrum (LRK registration) and 10 hours coaching per FTE pedagogisch medewerker
/// (peildatum 1 January), plus 10 hours per VE-indicated child; every pedagogisch
/// medewerker, flexible ones included, is coached. Realised hours count up to today.
#[derive(Debug)]
pub struct CoachingNorm(pub engine_coaching::CoachingNorm);

#[Object]
impl CoachingNorm {
    /// The houder.
    async fn bestuur(&self) -> Bestuur {
        Bestuur(self.0.bestuur.clone())
    }
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// 1 January of the year: FTE and VE children are counted on this day.
    async fn peildatum(&self) -> NaiveDate {
        self.0.peildatum
    }
    /// The last day whose hours count: today within the year, 31 December after it; null
    /// before the year starts.
    async fn counted_until(&self) -> Option<NaiveDate> {
        self.0.counted_until
    }
    /// Kindercentra in the sense of the wet IKK: the houder's LRK registrations.
    async fn kindercentra(&self) -> u32 {
        self.0.kindercentra
    }
    /// FTE of the houder's pedagogisch medewerkers on the peildatum (1 FTE = 36 hours a week).
    async fn fte(&self) -> f64 {
        self.0.fte
    }
    /// VE-indicated children on the peildatum; null when the houder offers no voorschoolse
    /// educatie this year.
    async fn ve_children(&self) -> Option<u32> {
        self.0.ve_children
    }
    /// The number of the houder's pedagogisch medewerkers, flexible ones included, employed
    /// in the year up to `countedUntil` (on the peildatum, before the year starts): those to
    /// be coached so far. Employment starts on the first date of a medewerker's FTE.
    async fn pedagogisch_medewerkers(&self) -> u32 {
        self.0.pedagogisch_medewerkers
    }
    /// 10 hours x FTE, plus 10 hours per VE-indicated child.
    async fn coaching_required_hours(&self) -> f64 {
        self.0.coaching.required
    }
    /// Coaching individueel and coaching team up to `countedUntil`.
    async fn coaching_realised_hours(&self) -> f64 {
        self.0.coaching.realised
    }
    /// The realised coaching at the pace so far, extended to 31 December.
    async fn coaching_projected_hours(&self) -> Option<f64> {
        self.0.coaching.projected
    }
    async fn coaching_remaining_hours(&self) -> f64 {
        self.0.coaching.remaining()
    }
    /// Whether the projected coaching reaches the norm; null before the year starts.
    async fn coaching_on_track(&self) -> Option<bool> {
        self.0.coaching.on_track()
    }
    /// 50 hours x kindercentra.
    async fn beleid_required_hours(&self) -> f64 {
        self.0.beleid.required
    }
    async fn beleid_realised_hours(&self) -> f64 {
        self.0.beleid.realised
    }
    async fn beleid_projected_hours(&self) -> Option<f64> {
        self.0.beleid.projected
    }
    async fn beleid_remaining_hours(&self) -> f64 {
        self.0.beleid.remaining()
    }
    async fn beleid_on_track(&self) -> Option<bool> {
        self.0.beleid.on_track()
    }
    /// Of `pedagogischMedewerkers`, those not coached yet this year, by name.
    async fn uncoached(&self) -> Vec<Professional> {
        self.0.uncoached.iter().cloned().map(Professional).collect()
    }
    /// The houder's opvang locaties: information beside the norm, which binds the houder.
    async fn locaties(&self) -> Vec<CoachingLocatie> {
        self.0.locaties.iter().cloned().map(CoachingLocatie).collect()
    }
    /// Coaching hours logged without a locatie.
    async fn coaching_hours_without_locatie(&self) -> f64 {
        self.0.without_locatie.coaching
    }
    /// Beleid hours logged without a locatie.
    async fn beleid_hours_without_locatie(&self) -> f64 {
        self.0.without_locatie.beleid
    }
}

/// One opvang locatie of a houder in the wet IKK norm, as information.
#[derive(Debug)]
pub struct CoachingLocatie(pub engine_coaching::LocatieCoaching);

#[Object]
impl CoachingLocatie {
    async fn locatie(&self) -> Locatie {
        Locatie(self.0.locatie.clone())
    }
    /// The houder's LRK registrations here.
    async fn lrk_registrations(&self) -> Vec<LrkRegistration> {
        self.0.lrk_registrations.iter().cloned().map(LrkRegistration).collect()
    }
    async fn coaching_realised_hours(&self) -> f64 {
        self.0.realised.coaching
    }
    async fn beleid_realised_hours(&self) -> f64 {
        self.0.realised.beleid
    }
    /// 10 hours x the FTE of the pedagogisch medewerkers working here, split evenly over
    /// the kindcentra and locaties they work at; indicative.
    async fn coaching_share_hours(&self) -> f64 {
        self.0.coaching_share
    }
    /// 50 hours x the LRK registrations here; indicative.
    async fn beleid_share_hours(&self) -> f64 {
        self.0.beleid_share
    }
}

/// The coaching log and the norm.
#[derive(Default, Debug)]
pub struct CoachingQuery;

#[Object]
impl CoachingQuery {
    /// The wet IKK norm of a kinderopvang bestuur (houder) for a calendar year: VALIDATION
    /// for a bestuur that is not kinderopvang, NOT_FOUND for one out of the token's reach. A
    /// coach token reads the norm of the houders of the locaties it coaches.
    async fn coaching_norm(&self, ctx: &Context<'_>, bestuur_id: ID, year: i32) -> Result<CoachingNorm> {
        let id = parse_id(&bestuur_id, "bestuur")?;
        engine(ctx).coaching_norm(id, year).await.gql().map(CoachingNorm)
    }

    /// The coaching log of a houder, newest first; `from` and `to` are included. A coach
    /// token reads the whole log of the houders of the locaties it coaches.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn coaching_entries(
        &self,
        ctx: &Context<'_>,
        bestuur_id: ID,
        from: Option<Date>,
        to: Option<Date>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<CoachingEntry>> {
        let id = parse_id(&bestuur_id, "bestuur")?;
        let page = page(first, after)?;
        let (from, to) = (from.map(|d| d.0), to.map(|d| d.0));
        Ok(connection(page, engine(ctx).coaching_entries(id, from, to, page).await.gql()?, CoachingEntry))
    }
}

/// Hours to log.
#[derive(InputObject, Debug)]
pub struct LogCoachingHoursInput {
    /// The pedagogisch coach or beleidsmedewerker.
    pub coach_id: ID,
    pub date: Date,
    /// More than 0 and at most 24.
    pub hours: f64,
    pub kind: CoachingKind,
    /// The professionals coached: at least one for coaching, none for beleid.
    #[graphql(default)]
    pub coachee_ids: Vec<ID>,
    /// Where the hours were spent; it decides the houder. Without it, the coach's employer.
    pub locatie_id: Option<ID>,
    pub note: Option<String>,
}

/// A correction of a coaching-log entry: each value given replaces the stored one, what is
/// left out stays. The coach stays the same.
#[derive(InputObject, Debug)]
pub struct CorrectCoachingEntryInput {
    pub coaching_entry_id: ID,
    /// The `version` of the entry as it was read.
    pub expected_version: i32,
    /// Why the entry is corrected; kept in its history. Not blank.
    pub reason: String,
    pub date: Option<Date>,
    /// More than 0 and at most 24.
    pub hours: Option<f64>,
    /// A change between coaching and beleid gives `coacheeIds` as well.
    pub kind: Option<CoachingKind>,
    /// All the professionals coached, replacing those named before: at least one for
    /// coaching, `[]` for beleid.
    pub coachee_ids: Option<Vec<ID>>,
    /// Where the hours were spent; it decides the houder. Null: at no locatie, so the hours
    /// count toward the coach's employer.
    pub locatie_id: MaybeUndefined<ID>,
    /// An empty note clears it.
    pub note: Option<String>,
}

/// Changes to the coaching log.
#[derive(Default, Debug)]
pub struct CoachingMutation;

#[Object]
impl CoachingMutation {
    /// Logs hours of coaching or beleid toward the norm of the houder of the locatie.
    async fn log_coaching_hours(&self, ctx: &Context<'_>, input: LogCoachingHoursInput) -> Result<CoachingEntry> {
        let hours = Hours::new(input.hours).map_err(|e| validation(&e.to_string()))?;
        let coachees = input.coachee_ids.iter().map(|id| parse_id(id, "professional")).collect::<Result<Vec<_>>>()?;
        let entry = NewCoachingEntry {
            coach_id: parse_id(&input.coach_id, "professional")?,
            date: input.date.0,
            hours,
            kind: input.kind.into(),
            coachees,
            locatie_id: input.locatie_id.as_ref().map(|id| parse_id(id, "locatie")).transpose()?,
            note: input.note,
        };
        engine(ctx).log_coaching(&actor(ctx), entry).await.gql().map(CoachingEntry)
    }

    /// Corrects an entry of the coaching log with a reason: the corrected entry is checked
    /// as logged hours are, and the norm counts it as corrected. VERSION_CONFLICT when the
    /// entry changed since `expectedVersion`; VALIDATION for a withdrawn entry or a blank
    /// reason.
    async fn correct_coaching_entry(
        &self,
        ctx: &Context<'_>,
        input: CorrectCoachingEntryInput,
    ) -> Result<CoachingEntry> {
        let id = parse_id(&input.coaching_entry_id, "coaching entry")?;
        let hours = input.hours.map(|h| Hours::new(h).map_err(|e| validation(&e.to_string()))).transpose()?;
        let coachees = input
            .coachee_ids
            .map(|ids| ids.iter().map(|id| parse_id(id, "professional")).collect::<Result<Vec<_>>>())
            .transpose()?;
        let locatie_id = match input.locatie_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(id) => Some(Some(parse_id(&id, "locatie")?)),
        };
        let correction = CoachingCorrection {
            date: input.date.map(|d| d.0),
            hours,
            kind: input.kind.map(Into::into),
            coachees,
            locatie_id,
            note: input.note.map(Some),
        };
        engine(ctx)
            .correct_coaching(id, input.expected_version, correction, input.reason)
            .await
            .gql()
            .map(CoachingEntry)
    }

    /// Withdraws an entry of the coaching log with a reason: it stays in the log, marked
    /// withdrawn, and its hours and coachees no longer count toward the norm.
    /// VERSION_CONFLICT when the entry changed since `expectedVersion`; VALIDATION when it
    /// was withdrawn already or the reason is blank.
    async fn withdraw_coaching_entry(
        &self,
        ctx: &Context<'_>,
        coaching_entry_id: ID,
        expected_version: i32,
        reason: String,
    ) -> Result<CoachingEntry> {
        let id = parse_id(&coaching_entry_id, "coaching entry")?;
        engine(ctx).withdraw_coaching(id, expected_version, reason).await.gql().map(CoachingEntry)
    }
}
