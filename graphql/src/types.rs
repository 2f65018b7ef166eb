//! GraphQL object types. Each wraps an engine row; nested fields go through the
//! request's [`AppLoader`] so that siblings are fetched together.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{
    Context, Enum, ID, InputValueError, InputValueResult, Object, Result, Scalar, ScalarType, SimpleObject, Value,
};
use chrono::{NaiveDate, NaiveDateTime};
use koers_engine::org::fte_on;
use koers_engine::plan::progress::Depth;
use koers_engine::store::entity::*;
use koers_engine::store::query::{Page, Slice};

use crate::error::{IntoGraphql, not_found};
use crate::loader::*;
use crate::progress::{CriteriumMark, KoersplanVoortgang, SignalOverride};

/// The largest page a client may ask for.
pub const MAX_PAGE: i32 = 500;
/// The page size when a client does not say.
pub const DEFAULT_PAGE: i32 = 50;

pub(crate) fn loader<'a>(ctx: &Context<'a>) -> &'a AppLoader {
    ctx.data_unchecked::<AppLoader>()
}

pub(crate) async fn list<K>(
    ctx: &Context<'_>,
    key: K,
) -> Result<<Loaders as async_graphql::dataloader::Loader<K>>::Value>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    Loaders: async_graphql::dataloader::Loader<K, Error = crate::error::LoadError>,
    <Loaders as async_graphql::dataloader::Loader<K>>::Value: Default,
{
    Ok(loader(ctx).load_one(key).await.gql()?.unwrap_or_default())
}

pub(crate) async fn one<K, V>(ctx: &Context<'_>, key: K, what: &'static str, id: i64) -> Result<V>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    Loaders: async_graphql::dataloader::Loader<K, Value = V, Error = crate::error::LoadError>,
    V: Send + Sync + Clone + 'static,
{
    loader(ctx).load_one(key).await.gql()?.ok_or_else(|| not_found(what, id))
}

/// Follows an optional reference.
pub(crate) async fn optional<K, V>(ctx: &Context<'_>, key: Option<K>) -> Result<Option<V>>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    Loaders: async_graphql::dataloader::Loader<K, Value = V, Error = crate::error::LoadError>,
    V: Send + Sync + Clone + 'static,
{
    match key {
        Some(key) => loader(ctx).load_one(key).await.gql(),
        None => Ok(None),
    }
}

/// Parses the forward-pagination arguments `first` and `after`.
pub fn page(first: Option<i32>, after: Option<String>) -> Result<Page> {
    let limit = first.unwrap_or(DEFAULT_PAGE);
    if !(0..=MAX_PAGE).contains(&limit) {
        return Err(async_graphql::Error::new(format!("`first` must be between 0 and {MAX_PAGE}, not {limit}")));
    }
    let offset = match after {
        None => 0,
        Some(cursor) => cursor.parse::<u64>().ok().filter(|offset| *offset <= Page::MAX).ok_or_else(|| {
            crate::error::validation(&format!(
                "`after` is not a cursor of this list: `{cursor}`; pass the `cursor` of an edge, or leave `after` out \
                 for the first page"
            ))
        })?,
    };
    Page::new(offset, limit as u64).gql()
}

/// What a connection costs toward the complexity limit: itself, plus its selection once per
/// item of the page it may answer. An out-of-range `first` is refused by [`page`] anyway; it
/// costs no more than the largest page here.
pub fn page_complexity(first: Option<i32>, child_complexity: usize) -> usize {
    let items = first.unwrap_or(DEFAULT_PAGE).clamp(0, MAX_PAGE) as usize;
    items.saturating_mul(child_complexity).saturating_add(1)
}

/// A date an input takes, `2026-12-01`: the scalar `NaiveDate`, read by the engine so that
/// a date in another form (`1-12-2026`) is answered with the form that is read instead of
/// "trailing input". Answers keep chrono's `NaiveDate`, which writes the same text under
/// the same scalar name, so the schema does not change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// A calendar date, year-month-day: `2026-12-01`.
#[Scalar(name = "NaiveDate")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        read(value, koers_engine::calendar::dates::date).map(Date)
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// A Dutch wall-clock date-time an input takes, `2026-12-01T08:30:00` (the seconds may be
/// left out): the scalar `NaiveDateTime`, read by the engine for the reason [`Date`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalDateTime(pub NaiveDateTime);

/// A date and a time of day without an offset, in Dutch wall-clock time:
/// `2026-12-01T08:30:00`.
#[Scalar(name = "NaiveDateTime")]
impl ScalarType for LocalDateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        read(value, koers_engine::calendar::dates::date_time).map(LocalDateTime)
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
    }
}

/// One end of a period a client asks for, as the engine reads it: a whole Dutch day or a
/// moment. A scalar of its own, since `DateTime` takes no plain date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateOrDateTime(pub koers_engine::calendar::dates::Moment);

/// One end of a period of Dutch time: a date, `2026-12-07`, for the whole Dutch day (from
/// its start, or to its end), or a moment: `2026-12-07T08:30:00+01:00` (RFC 3339) or
/// `2026-12-07T08:30:00` (Dutch wall-clock time).
#[Scalar(name = "DateOrDateTime")]
impl ScalarType for DateOrDateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        read(value, str::parse).map(DateOrDateTime)
    }

    fn to_value(&self) -> Value {
        use koers_engine::calendar::dates::Moment;
        Value::String(match self.0 {
            Moment::Day(date) => date.to_string(),
            Moment::At(at) => koers_engine::calendar::rule::dutch(at).to_rfc3339(),
        })
    }
}

/// Reads a string input with `parse`; its message becomes a VALIDATION error, like the
/// engine's refusals.
fn read<S: async_graphql::InputType, T>(
    value: Value,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> std::result::Result<T, InputValueError<S>> {
    let Value::String(text) = &value else { return Err(InputValueError::expected_type(value)) };
    parse(text).map_err(|message| InputValueError::custom(message).with_extension("code", "VALIDATION"))
}

/// Extra fields of every connection.
#[derive(SimpleObject, Debug)]
pub struct ListInfo {
    /// How many items the whole list has.
    pub total_count: u64,
}

pub type List<T> = Connection<String, T, ListInfo>;

/// Turns one page of a list into a connection; a cursor is the item's position.
pub(crate) fn connection<M, T>(page: Page, slice: Slice<M>, wrap: impl Fn(M) -> T) -> List<T>
where
    T: async_graphql::OutputType,
{
    let mut conn =
        Connection::with_additional_fields(page.offset() > 0, slice.has_next, ListInfo { total_count: slice.total });
    conn.edges.extend(
        slice
            .items
            .into_iter()
            .enumerate()
            .map(|(i, item)| Edge::new((page.offset() + i as u64 + 1).to_string(), wrap(item))),
    );
    conn
}

/// What kind of board a bestuur is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::domain::BestuurKind")]
pub enum BestuurKind {
    Onderwijs,
    Kinderopvang,
    Samenwerkingsverband,
}

/// The part of a kindcentrum an onderdeel provides.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::domain::OnderdeelKind")]
pub enum OnderdeelKind {
    Onderwijs,
    Dagopvang,
    Peuteropvang,
    Bso,
}

/// The kinds of team.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::domain::TeamKind")]
pub enum TeamKind {
    Kenniskring,
    Plg,
    Werkgroep,
    Unit,
    Locatieteam,
}

/// A role of a professional.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::domain::Role")]
pub enum Role {
    Leerkracht,
    PedagogischMedewerker,
    InternBegeleider,
    PedagogischCoach,
    PedagogischBeleidsmedewerker,
    Directeur,
    AdjunctDirecteur,
    Locatiemanager,
    Clustermanager,
    Onderwijsassistent,
    Onderwijsondersteuner,
    AmbulantLeerkracht,
}

/// Whether an indicator's target is a floor (AT_LEAST) or a ceiling (AT_MOST).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::domain::Direction")]
pub enum Direction {
    AtLeast,
    AtMost,
}

/// Progress of a planned activity.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::domain::PlanningStatus")]
pub enum PlanningStatus {
    Gepland,
    Gestart,
    Afgerond,
    Vervallen,
}

/// A board: onderwijs, kinderopvang or samenwerkingsverband.
#[derive(Debug)]
pub struct Bestuur(pub bestuur::Model);

#[Object]
impl Bestuur {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// The stable key from the import file.
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> BestuurKind {
        self.0.kind.into()
    }
    /// The kindcentra this bestuur is one of the besturen of.
    async fn kindcentra(&self, ctx: &Context<'_>) -> Result<Vec<Kindcentrum>> {
        Ok(list(ctx, KindcentraOf(self.0.id)).await?.into_iter().map(Kindcentrum).collect())
    }
    /// The wet IKK norm of a calendar year; null for a bestuur that is not kinderopvang (see
    /// `kind`). For a kinderopvang houder out of the token's reach the field answers a
    /// NOT_FOUND error, as `coachingNorm(bestuurId)` does. Fetched for all besturen of a query
    /// at once.
    async fn coaching_norm(&self, ctx: &Context<'_>, year: i32) -> Result<Option<crate::coaching::CoachingNorm>> {
        if !crate::query::engine(ctx).has_coaching_norm(&self.0).gql()? {
            return Ok(None);
        }
        one(ctx, CoachingNormOf(self.0.id, year), "bestuur", self.0.id)
            .await
            .map(|n| Some(crate::coaching::CoachingNorm(n)))
    }
    /// The board's view at a peildatum (default: today): every kindcentrum of this bestuur
    /// with each koersplan's progress and signal, overdue cycles and planning items, the
    /// latest scan per groep and the coaching norm per opvang locatie.
    async fn voortgang(&self, ctx: &Context<'_>, peildatum: Option<Date>) -> Result<crate::board::BestuurVoortgang> {
        let engine = crate::query::engine(ctx);
        let peildatum = peildatum.map_or_else(|| engine.clock().today(), |d| d.0);
        // The succescriteria are read only when they are asked; without them each doel's
        // criteria are counted in SQL.
        let criteria = ctx
            .look_ahead()
            .field("kindcentra")
            .field("koersplannen")
            .field("ambities")
            .field("doelen")
            .field("succescriteria")
            .exists();
        let depth = if criteria { Depth::Succescriteria } else { Depth::Doelen };
        engine.board_progress(self.0.id, peildatum, depth).await.gql().map(Into::into)
    }
}

/// A kindcentrum: onderwijs and opvang under one roof, possibly of several besturen.
#[derive(Debug)]
pub struct Kindcentrum(pub kindcentrum::Model);

#[Object]
impl Kindcentrum {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn plaats(&self) -> Option<&str> {
        self.0.plaats.as_deref()
    }
    async fn besturen(&self, ctx: &Context<'_>) -> Result<Vec<Bestuur>> {
        Ok(list(ctx, BesturenOf(self.0.id)).await?.into_iter().map(Bestuur).collect())
    }
    async fn onderdelen(&self, ctx: &Context<'_>) -> Result<Vec<Onderdeel>> {
        Ok(list(ctx, OnderdelenOf(self.0.id)).await?.into_iter().map(Onderdeel).collect())
    }
    async fn locaties(&self, ctx: &Context<'_>) -> Result<Vec<Locatie>> {
        Ok(list(ctx, LocatiesOf(self.0.id)).await?.into_iter().map(Locatie).collect())
    }
    async fn teams(&self, ctx: &Context<'_>) -> Result<Vec<Team>> {
        Ok(list(ctx, TeamsOf(self.0.id)).await?.into_iter().map(Team).collect())
    }
    async fn koersplannen(&self, ctx: &Context<'_>) -> Result<Vec<Koersplan>> {
        Ok(list(ctx, KoersplannenOf(self.0.id)).await?.into_iter().map(Koersplan).collect())
    }
    /// The kengetallen of this kindcentrum (and of its locaties and groepen), by key.
    async fn indicators(&self, ctx: &Context<'_>) -> Result<Vec<Indicator>> {
        Ok(list(ctx, IndicatorsOfKindcentrum(self.0.id)).await?.into_iter().map(Indicator).collect())
    }
    /// The professionals working here, by name.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn professionals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Professional>> {
        let page = page(first, after)?;
        Ok(connection(page, list(ctx, ProfessionalsOf(self.0.id, page)).await?, Professional))
    }
}

/// The part of a kindcentrum one bestuur provides: onderwijs, dagopvang, peuteropvang or BSO.
#[derive(Debug)]
pub struct Onderdeel(pub onderdeel::Model);

#[Object]
impl Onderdeel {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> OnderdeelKind {
        self.0.kind.into()
    }
    async fn bestuur(&self, ctx: &Context<'_>) -> Result<Bestuur> {
        one(ctx, BestuurById(self.0.bestuur_id), "bestuur", self.0.bestuur_id).await.map(Bestuur)
    }
}

/// A building or site of a kindcentrum.
#[derive(Debug)]
pub struct Locatie(pub locatie::Model);

#[Object]
impl Locatie {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }
    /// Registrations in the Landelijk Register Kinderopvang; each is one kindercentrum in
    /// the sense of the wet IKK.
    async fn lrk_registrations(&self, ctx: &Context<'_>) -> Result<Vec<LrkRegistration>> {
        Ok(list(ctx, LrkRegistrationsOf(self.0.id)).await?.into_iter().map(LrkRegistration).collect())
    }
    async fn groepen(&self, ctx: &Context<'_>) -> Result<Vec<Groep>> {
        Ok(list(ctx, GroepenOf(self.0.id)).await?.into_iter().map(Groep).collect())
    }
}

/// A registration in the Landelijk Register Kinderopvang.
#[derive(Debug)]
pub struct LrkRegistration(pub lrk_registration::Model);

#[Object]
impl LrkRegistration {
    async fn number(&self) -> &str {
        &self.0.number
    }
    async fn onderdeel(&self, ctx: &Context<'_>) -> Result<Onderdeel> {
        one(ctx, OnderdeelById(self.0.onderdeel_id), "onderdeel", self.0.onderdeel_id).await.map(Onderdeel)
    }
}

/// A groep (class, stamgroep or basisgroep) of an onderdeel at a locatie.
#[derive(Debug)]
pub struct Groep(pub groep::Model);

#[Object]
impl Groep {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn max_children(&self) -> Option<i32> {
        self.0.max_children
    }
    async fn age_from(&self) -> Option<i32> {
        self.0.age_from
    }
    async fn age_until(&self) -> Option<i32> {
        self.0.age_until
    }
    async fn onderdeel(&self, ctx: &Context<'_>) -> Result<Onderdeel> {
        one(ctx, OnderdeelById(self.0.onderdeel_id), "onderdeel", self.0.onderdeel_id).await.map(Onderdeel)
    }
    /// Welbevinden/betrokkenheid scans of this groep, newest first.
    async fn scans(&self, ctx: &Context<'_>) -> Result<Vec<crate::scan::Scan>> {
        Ok(list(ctx, ScansOf(self.0.id)).await?.into_iter().map(crate::scan::Scan).collect())
    }
}

/// Someone working at one or more kindcentra.
#[derive(Debug)]
pub struct Professional(pub professional::Model);

/// The FTE of a professional from a date on.
#[derive(SimpleObject, Debug)]
pub struct FteEntry {
    pub valid_from: NaiveDate,
    pub fte: f64,
}

#[Object]
impl Professional {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// The number of recorded changes: pass it back as `expectedVersion` to edit.
    async fn version(&self, ctx: &Context<'_>) -> Result<i32> {
        crate::audit::version(ctx, "professional", self.0.id).await
    }
    /// Every recorded change, oldest first: who, when, before and after.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<crate::audit::Change>> {
        crate::audit::history(ctx, "professional", self.0.id).await
    }
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn roles(&self, ctx: &Context<'_>) -> Result<Vec<Role>> {
        Ok(list(ctx, RolesOf(self.0.id)).await?.into_iter().map(Role::from).collect())
    }
    /// Deployed flexibly (on call); still coached every year under the wet IKK.
    async fn flexible(&self) -> bool {
        self.0.flexible
    }
    /// The last day they worked for their employer; null while they work there. Someone
    /// who left stays, with their history, and no longer counts from the next year on.
    async fn left_on(&self) -> Option<NaiveDate> {
        self.0.left_on
    }
    /// The bestuur that employs this professional.
    async fn employer(&self, ctx: &Context<'_>) -> Result<Bestuur> {
        one(ctx, BestuurById(self.0.employer_bestuur_id), "bestuur", self.0.employer_bestuur_id).await.map(Bestuur)
    }
    /// The FTE on a date (the peildatum); null before the first known value.
    async fn fte(&self, ctx: &Context<'_>, on: Date) -> Result<Option<f64>> {
        Ok(fte_on(&list(ctx, FteOf(self.0.id)).await?, on.0))
    }
    /// Every FTE change, oldest first.
    async fn fte_history(&self, ctx: &Context<'_>) -> Result<Vec<FteEntry>> {
        Ok(list(ctx, FteOf(self.0.id))
            .await?
            .into_iter()
            .map(|f| FteEntry { valid_from: f.valid_from, fte: f.fte })
            .collect())
    }
}

/// A kenniskring, PLG, werkgroep, unit or locatieteam.
#[derive(Debug)]
pub struct Team(pub team::Model);

#[Object]
impl Team {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> TeamKind {
        self.0.kind.into()
    }
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<Professional>> {
        Ok(list(ctx, MembersOf(self.0.id)).await?.into_iter().map(Professional).collect())
    }
}

/// A koersplan: the ambities of a kindcentrum for a period of school years.
#[derive(Debug)]
pub struct Koersplan(pub koersplan::Model);

#[Object]
impl Koersplan {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// The number of recorded changes: pass it back as `expectedVersion` to edit.
    async fn version(&self, ctx: &Context<'_>) -> Result<i32> {
        crate::audit::version(ctx, "koersplan", self.0.id).await
    }
    /// Every recorded change, oldest first: who, when, before and after.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<crate::audit::Change>> {
        crate::audit::history(ctx, "koersplan", self.0.id).await
    }
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The first school year of the plan, such as `2019-2020`.
    async fn first_school_year(&self) -> String {
        self.0.first_school_year.to_string()
    }
    /// The last school year of the plan, such as `2022-2023`.
    async fn last_school_year(&self) -> String {
        self.0.last_school_year.to_string()
    }
    async fn visie(&self) -> &str {
        &self.0.visie
    }
    async fn pijlers(&self) -> Result<Vec<String>> {
        koers_engine::org::pijlers(&self.0).gql()
    }
    async fn kindcentrum(&self, ctx: &Context<'_>) -> Result<Kindcentrum> {
        one(ctx, KindcentrumById(self.0.kindcentrum_id), "kindcentrum", self.0.kindcentrum_id).await.map(Kindcentrum)
    }
    async fn ambities(&self, ctx: &Context<'_>) -> Result<Vec<Ambitie>> {
        Ok(list(ctx, AmbitiesOf(self.0.id)).await?.into_iter().map(Ambitie).collect())
    }
    /// Progress toward the succescriteria at a peildatum (default: today), with the signal.
    async fn voortgang(&self, ctx: &Context<'_>, peildatum: Option<Date>) -> Result<KoersplanVoortgang> {
        let engine = crate::query::engine(ctx);
        let peildatum = peildatum.map_or_else(|| engine.clock().today(), |d| d.0);
        engine.koersplan_progress(self.0.id, peildatum).await.gql().map(Into::into)
    }
    /// Every signal set by hand on this koersplan, its ambities and doelen, oldest first.
    async fn signal_overrides(&self, ctx: &Context<'_>) -> Result<Vec<SignalOverride>> {
        Ok(list(ctx, SignalOverridesOf(self.0.id)).await?.into_iter().map(SignalOverride).collect())
    }
}

/// An ambitie of a koersplan.
#[derive(Debug)]
pub struct Ambitie(pub ambitie::Model);

#[Object]
impl Ambitie {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// The number of recorded changes: pass it back as `expectedVersion` to edit.
    async fn version(&self, ctx: &Context<'_>) -> Result<i32> {
        crate::audit::version(ctx, "ambitie", self.0.id).await
    }
    /// Every recorded change, oldest first: who, when, before and after.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<crate::audit::Change>> {
        crate::audit::history(ctx, "ambitie", self.0.id).await
    }
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn doelen(&self, ctx: &Context<'_>) -> Result<Vec<Doel>> {
        Ok(list(ctx, DoelenOf(self.0.id)).await?.into_iter().map(Doel).collect())
    }
}

/// A doel of an ambitie ("Wat willen we?").
#[derive(Debug)]
pub struct Doel(pub doel::Model);

#[Object]
impl Doel {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// The number of recorded changes: pass it back as `expectedVersion` to edit.
    async fn version(&self, ctx: &Context<'_>) -> Result<i32> {
        crate::audit::version(ctx, "doel", self.0.id).await
    }
    /// Every recorded change, oldest first: who, when, before and after.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<crate::audit::Change>> {
        crate::audit::history(ctx, "doel", self.0.id).await
    }
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// When the doel is reached ("Wanneer zijn we tevreden?").
    async fn succescriteria(&self, ctx: &Context<'_>) -> Result<Vec<Succescriterium>> {
        Ok(list(ctx, SuccescriteriaOf(self.0.id)).await?.into_iter().map(Succescriterium).collect())
    }
    /// The meerjarenplanning of this doel, by school year.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn planning(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<PlanningItem>> {
        let page = page(first, after)?;
        Ok(connection(page, list(ctx, PlanningOf(self.0.id, page)).await?, PlanningItem))
    }
    /// The cycles that serve this doel: the evidence of the koersplan.
    async fn cycles(&self, ctx: &Context<'_>) -> Result<Vec<crate::cycle::Cycle>> {
        Ok(list(ctx, CyclesOfDoel(self.0.id)).await?.into_iter().map(crate::cycle::Cycle).collect())
    }
    /// The kengetallen that show progress on this doel.
    async fn indicators(&self, ctx: &Context<'_>) -> Result<Vec<Indicator>> {
        Ok(list(ctx, IndicatorsOf(self.0.id)).await?.into_iter().map(Indicator).collect())
    }
}

/// A succescriterium of a doel.
#[derive(Debug)]
pub struct Succescriterium(pub succescriterium::Model);

#[Object]
impl Succescriterium {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// The number of recorded changes: pass it back as `expectedVersion` to edit.
    async fn version(&self, ctx: &Context<'_>) -> Result<i32> {
        crate::audit::version(ctx, "succescriterium", self.0.id).await
    }
    /// Every recorded change, oldest first: who, when, before and after.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<crate::audit::Change>> {
        crate::audit::history(ctx, "succescriterium", self.0.id).await
    }
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Every mark by hand, oldest first; the latest counts.
    async fn marks(&self, ctx: &Context<'_>) -> Result<Vec<CriteriumMark>> {
        Ok(list(ctx, MarksOf(self.0.id)).await?.into_iter().map(CriteriumMark).collect())
    }
    /// The indicator whose measurements show whether this criterion is met, if any.
    async fn indicator(&self, ctx: &Context<'_>) -> Result<Option<Indicator>> {
        optional(ctx, self.0.indicator_id.map(IndicatorById)).await.map(|i| i.map(Indicator))
    }
}

/// A planned activity of the meerjarenplanning.
#[derive(Debug)]
pub struct PlanningItem(pub planning_item::Model);

#[Object]
impl PlanningItem {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// The number of recorded changes: pass it back as `expectedVersion` to edit.
    async fn version(&self, ctx: &Context<'_>) -> Result<i32> {
        crate::audit::version(ctx, "planning_item", self.0.id).await
    }
    /// Every recorded change, oldest first: who, when, before and after.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<crate::audit::Change>> {
        crate::audit::history(ctx, "planning_item", self.0.id).await
    }
    async fn key(&self) -> &str {
        &self.0.key
    }
    /// The school year, such as `2020-2021`.
    async fn school_year(&self) -> String {
        self.0.school_year.to_string()
    }
    async fn text(&self) -> &str {
        &self.0.text
    }
    async fn status(&self) -> PlanningStatus {
        self.0.status.into()
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

/// A kengetal with a target.
#[derive(Debug)]
pub struct Indicator(pub indicator::Model);

#[Object]
impl Indicator {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn key(&self) -> &str {
        &self.0.key
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn unit(&self) -> &str {
        &self.0.unit
    }
    async fn direction(&self) -> Direction {
        self.0.direction.into()
    }
    async fn target(&self) -> f64 {
        self.0.target
    }
    async fn baseline(&self) -> Option<f64> {
        self.0.baseline
    }
    /// The bestuur this indicator measures, when its scope is a bestuur.
    async fn bestuur(&self, ctx: &Context<'_>) -> Result<Option<Bestuur>> {
        optional(ctx, self.0.bestuur_id.map(BestuurById)).await.map(|b| b.map(Bestuur))
    }
    /// The kindcentrum this indicator measures, when its scope is (part of) a kindcentrum.
    async fn kindcentrum(&self, ctx: &Context<'_>) -> Result<Option<Kindcentrum>> {
        optional(ctx, self.0.kindcentrum_id.map(KindcentrumById)).await.map(|k| k.map(Kindcentrum))
    }
    /// The locatie the scope is narrowed to, if any.
    async fn locatie(&self, ctx: &Context<'_>) -> Result<Option<Locatie>> {
        optional(ctx, self.0.locatie_id.map(LocatieById)).await.map(|l| l.map(Locatie))
    }
    /// The groep the scope is narrowed to, if any.
    async fn groep(&self, ctx: &Context<'_>) -> Result<Option<Groep>> {
        optional(ctx, self.0.groep_id.map(GroepById)).await.map(|g| g.map(Groep))
    }
    /// Measurements, newest first.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn measurements(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<List<Measurement>> {
        let page = page(first, after)?;
        Ok(connection(page, list(ctx, MeasurementsOf(self.0.id, page)).await?, Measurement))
    }
}

/// A measured value of an indicator for a date or a period.
#[derive(Debug)]
pub struct Measurement(pub measurement::Model);

#[Object]
impl Measurement {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// First day of the period (the date itself for a single date).
    async fn period_start(&self) -> NaiveDate {
        self.0.period_start
    }
    /// Last day of the period, included.
    async fn period_end(&self) -> NaiveDate {
        self.0.period_end
    }
    async fn value(&self) -> f64 {
        self.0.value
    }
    async fn source(&self) -> &str {
        &self.0.source
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}
