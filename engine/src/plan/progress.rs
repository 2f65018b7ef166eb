//! Progress toward the koersplan: which succescriteria are met, the progress of doelen,
//! ambities and the plan, and the OGSM signal at a peildatum.
//!
//! A succescriterium is met when the latest measurement of its indicator up to the
//! peildatum meets the indicator's target, or when it was marked met by hand with evidence
//! (a closed cycle, a measurement or a note) on or before the peildatum. Progress of a doel is the share of its criteria
//! met; an ambitie and the koersplan take the mean of their parts (parts without criteria
//! do not count). With p the progress and t the elapsed share of the plan period:
//! Afgerond if p = 1; Op koers if p >= t - 0.10; Op koers met aandacht if p >= t - 0.25;
//! otherwise Niet op koers. A signal set by hand, with a reason, takes the place of the
//! computed one from the day it was set until it is lifted; every mark and override is
//! kept, so the history can be audited.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use futures::TryStreamExt;
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Func, IntoColumnRef, JoinType, Order, Query, SelectStatement,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseTransaction, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, StatementBuilder,
};

use crate::Engine;
use crate::access::Change;
use crate::calendar::rule::day_start;
use crate::clock::end_of_day;
use crate::domain::{Direction, SchoolYear};
use crate::error::{Error, Result};
use crate::store::entity::{
    ambitie, criterium_mark, cycle, doel, indicator, koersplan, measurement, signal_override, succescriterium,
};
use crate::store::query::{LATER, group, latest_of, latest_of_each};

pub use crate::domain::Signal;

/// Rounding noise of shares such as 0.3 - 0.1 must not move a signal across a boundary.
const EPSILON: f64 = 1e-9;

/// The signal for progress `p` when a share `t` of the plan period has elapsed.
pub fn signal(p: f64, t: f64) -> Signal {
    if p >= 1.0 - EPSILON {
        Signal::Afgerond
    } else if p >= t - 0.10 - EPSILON {
        Signal::OpKoers
    } else if p >= t - 0.25 - EPSILON {
        Signal::OpKoersMetAandacht
    } else {
        Signal::NietOpKoers
    }
}

/// The share of the plan period (1 August of the first school year to 31 July of the
/// last) that has elapsed at the end of `peildatum`, between 0 and 1.
pub fn elapsed(first: SchoolYear, last: SchoolYear, peildatum: NaiveDate) -> f64 {
    let start = first.first_day();
    let days = (last.last_day() - start).num_days() + 1;
    let done = (peildatum - start).num_days() + 1;
    (done as f64 / days as f64).clamp(0.0, 1.0)
}

/// The mean of the parts that have a progress: of an ambitie's doelen, of a plan's
/// ambities, and of the koersplannen in a roll-up.
pub(crate) fn mean(parts: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let known: Vec<f64> = parts.into_iter().flatten().collect();
    (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
}

/// Whether a succescriterium is met: the latest value of its indicator meets the target
/// (`indicator_met`), or its latest mark by hand says met.
pub(crate) fn criterium_met(indicator_met: Option<bool>, mark_met: Option<bool>) -> bool {
    indicator_met == Some(true) || mark_met == Some(true)
}

/// [`criterium_met`] as SQL: `indicator_met` is [`crate::domain::Direction::meets_in_sql`]
/// on the latest value, `mark_met` the `met` of the latest mark (NULL without one).
pub(crate) fn criterium_met_in_sql(indicator_met: Condition, mark_met: Expr) -> Condition {
    Condition::any().add(indicator_met).add(mark_met.eq(true))
}

/// The progress of a doel: the share of its criteria met; None without criteria.
pub(crate) fn doel_progress(criteria: usize, met: usize) -> Option<f64> {
    (criteria > 0).then(|| met as f64 / criteria as f64)
}

/// Whether one succescriterium is met at the peildatum, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct CriteriumProgress {
    pub criterium: succescriterium::Model,
    pub met: bool,
    /// The latest value of the linked indicator up to the peildatum.
    pub latest_value: Option<f64>,
    /// Whether that value meets the indicator's target; None without indicator or value.
    pub indicator_met: Option<bool>,
    /// The latest mark by hand up to the peildatum, if any.
    pub mark: Option<criterium_mark::Model>,
}

/// Progress of one doel.
#[derive(Clone, Debug, PartialEq)]
pub struct DoelProgress {
    pub doel: doel::Model,
    pub criteria: usize,
    pub met: usize,
    /// None for a doel without criteria.
    pub progress: Option<f64>,
    /// The signal that counts: the override's if one is in force, else the computed one.
    pub signal: Option<Signal>,
    pub computed_signal: Option<Signal>,
    /// The override in force at the peildatum.
    pub signal_override: Option<signal_override::Model>,
    pub succescriteria: Vec<CriteriumProgress>,
}

/// Progress of one ambitie.
#[derive(Clone, Debug, PartialEq)]
pub struct AmbitieProgress {
    pub ambitie: ambitie::Model,
    pub progress: Option<f64>,
    pub signal: Option<Signal>,
    pub computed_signal: Option<Signal>,
    pub signal_override: Option<signal_override::Model>,
    pub doelen: Vec<DoelProgress>,
}

/// Progress of a koersplan at a peildatum.
#[derive(Clone, Debug, PartialEq)]
pub struct KoersplanProgress {
    pub koersplan: koersplan::Model,
    pub peildatum: NaiveDate,
    /// The elapsed share of the plan period.
    pub elapsed: f64,
    pub progress: Option<f64>,
    pub signal: Option<Signal>,
    pub computed_signal: Option<Signal>,
    pub signal_override: Option<signal_override::Model>,
    pub ambities: Vec<AmbitieProgress>,
}

/// How far down [`Engine::koersplannen_progress`] reads a koersplan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    /// Down to each succescriterium, with its latest value and mark.
    Succescriteria,
    /// Down to each doel: its criteria are counted in SQL and not read, so every
    /// [`DoelProgress::succescriteria`] is empty. The figures are the same.
    Doelen,
}

/// What a signal is set on by hand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignalSubject {
    Koersplan(i64),
    Ambitie(i64),
    Doel(i64),
}

impl SignalSubject {
    fn describe(self) -> (&'static str, i64) {
        match self {
            SignalSubject::Koersplan(id) => ("koersplan", id),
            SignalSubject::Ambitie(id) => ("ambitie", id),
            SignalSubject::Doel(id) => ("doel", id),
        }
    }
}

/// The evidence for marking a succescriterium met; at least one part is required.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evidence {
    /// A closed cycle that realised the criterion.
    pub cycle_id: Option<i64>,
    /// A measurement that shows it.
    pub measurement_id: Option<i64>,
    /// A note that says where the evidence is.
    pub note: Option<String>,
    /// The day the criterion was met, when that is before today: the mark counts from that
    /// day (within the plan period), and keeps the moment it was recorded beside it.
    pub on: Option<NaiveDate>,
}

/// A mark to append.
struct Mark {
    met: bool,
    cycle_id: Option<i64>,
    measurement_id: Option<i64>,
    note: Option<String>,
    /// The day it counts from, if not from now.
    from: Option<NaiveDate>,
}

/// The criteria and met criteria of one doel.
#[derive(Debug, FromQueryResult)]
pub(crate) struct DoelCount {
    pub(crate) koersplan: i64,
    pub(crate) ambitie: i64,
    pub(crate) criteria: i64,
    pub(crate) met: i64,
}

impl DoelCount {
    /// The criteria and those met.
    pub(crate) fn counted(&self) -> (usize, usize) {
        (count(self.criteria), count(self.met))
    }
}

/// The latest override per subject, and the signal that follows from it.
pub(crate) struct Overrides(HashMap<SignalSubject, signal_override::Model>);

impl Overrides {
    /// The overrides set up to `cutoff` on the koersplannen that pass `plans` (a condition
    /// on `signal_override`), the latest per subject: one statement.
    pub(crate) async fn load<C: sea_orm::ConnectionTrait>(
        db: &C,
        plans: Condition,
        cutoff: DateTime<Utc>,
    ) -> Result<Overrides> {
        Ok(Overrides(
            signal_override::Entity::find()
                .filter(plans)
                .filter(signal_override::Column::At.lt(cutoff))
                .order_by_asc(signal_override::Column::At)
                .order_by_asc(signal_override::Column::Id)
                .all(db)
                .await?
                .into_iter()
                .map(|o| (subject_of(&o), o))
                .collect(),
        ))
    }

    /// The signal that counts for `subject`: the override's if one is in force, else
    /// `computed`.
    pub(crate) fn apply(
        &self,
        subject: SignalSubject,
        computed: Option<Signal>,
    ) -> (Option<Signal>, Option<signal_override::Model>) {
        match self.0.get(&subject) {
            Some(o) if o.signal.is_some() => (o.signal, Some(o.clone())),
            _ => (computed, None),
        }
    }
}

fn subject_of(o: &signal_override::Model) -> SignalSubject {
    match (o.doel_id, o.ambitie_id) {
        (Some(doel), _) => SignalSubject::Doel(doel),
        (None, Some(ambitie)) => SignalSubject::Ambitie(ambitie),
        (None, None) => SignalSubject::Koersplan(o.koersplan_id),
    }
}

/// `column` (the id, or the value) of the latest measurement up to the peildatum (latest
/// period end, then latest written) of the indicator in `indicator`: picked in SQL by the
/// index on (indicator, period end, id, value), which also answers the value. The one rule
/// for the board and the roll-up.
pub(crate) fn latest_measurement(
    peildatum: NaiveDate,
    column: measurement::Column,
    indicator: impl IntoColumnRef,
) -> SelectStatement {
    use measurement::Column as C;
    let within = Condition::all().add(Expr::col((Alias::new(LATER), C::PeriodEnd)).lte(peildatum));
    latest_of(measurement::Entity, column, C::IndicatorId, &[C::PeriodEnd, C::Id], within, indicator)
}

/// `column` (the id, or whether it is met) of the latest mark by hand before `cutoff` of
/// the succescriterium in `criterium`: the one that counts. The index on (criterium, at,
/// id, met) answers both.
pub(crate) fn latest_mark(
    cutoff: DateTime<Utc>,
    column: criterium_mark::Column,
    criterium: impl IntoColumnRef,
) -> SelectStatement {
    use criterium_mark::Column as C;
    let within = Condition::all().add(Expr::col((Alias::new(LATER), C::At)).lt(cutoff));
    latest_of(criterium_mark::Entity, column, C::SuccescriteriumId, &[C::At, C::Id], within, criterium)
}

/// The statement of [`Engine::doel_counts`]: per doel with criteria (of the koersplannen
/// that pass `plans`, a condition on `koersplan`), its koersplan, ambitie, criteria and
/// those met at the peildatum.
fn doel_counts(peildatum: NaiveDate, plans: Option<Condition>) -> SelectStatement {
    use succescriterium::Column as S;
    // The latest value and mark are read where the rule needs them, each from its
    // index alone (no join to the measurement or mark row); the value only for the
    // criterion's direction, as the comparison short-circuits.
    let met = criterium_met_in_sql(
        Direction::meets_in_sql(
            Expr::col((indicator::Entity, indicator::Column::Direction)),
            Expr::from(latest_measurement(
                peildatum,
                measurement::Column::Value,
                (succescriterium::Entity, S::IndicatorId),
            )),
            Expr::col((indicator::Entity, indicator::Column::Target)),
        ),
        Expr::from(latest_mark(end_of_day(peildatum), criterium_mark::Column::Met, (succescriterium::Entity, S::Id))),
    );
    let mut query = Query::select();
    query
        // One koersplan and ambitie per doel: MIN only names them without grouping by
        // them, so SQLite groups in the order of the criteria's (doel, key) index
        // instead of sorting.
        .expr_as(Func::min(Expr::col((ambitie::Entity, ambitie::Column::KoersplanId))), Alias::new("koersplan"))
        .expr_as(Func::min(Expr::col((doel::Entity, doel::Column::AmbitieId))), Alias::new("ambitie"))
        .expr_as(Expr::col((succescriterium::Entity, S::DoelId)), Alias::new("doel"))
        .expr_as(Func::count(Expr::col((succescriterium::Entity, S::Id))), Alias::new("criteria"))
        .expr_as(Func::sum(Expr::case(met, Expr::val(1)).finally(Expr::val(0))), Alias::new("met"))
        .from(succescriterium::Entity)
        .inner_join(
            doel::Entity,
            Expr::col((doel::Entity, doel::Column::Id)).equals((succescriterium::Entity, S::DoelId)),
        )
        .inner_join(
            ambitie::Entity,
            Expr::col((ambitie::Entity, ambitie::Column::Id)).equals((doel::Entity, doel::Column::AmbitieId)),
        );
    if let Some(plans) = plans {
        query
            .inner_join(
                koersplan::Entity,
                Expr::col((koersplan::Entity, koersplan::Column::Id))
                    .equals((ambitie::Entity, ambitie::Column::KoersplanId)),
            )
            .cond_where(plans);
    }
    query
        .left_join(
            indicator::Entity,
            Expr::col((indicator::Entity, indicator::Column::Id)).equals((succescriterium::Entity, S::IndicatorId)),
        )
        .group_by_col((succescriterium::Entity, S::DoelId));
    query
}

/// The doelen of the koersplannen `plans`, without columns yet: the caller picks them.
pub(crate) fn doelen_in(plans: &[i64]) -> SelectStatement {
    Query::select()
        .from(doel::Entity)
        .inner_join(
            ambitie::Entity,
            Expr::col((ambitie::Entity, ambitie::Column::Id)).equals((doel::Entity, doel::Column::AmbitieId)),
        )
        .and_where(Expr::col((ambitie::Entity, ambitie::Column::KoersplanId)).is_in(plans.iter().copied()))
        .to_owned()
}

/// A count as SQL gives it (a 64-bit integer), as a number of criteria.
fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// A doel with the count of its criteria and of those met, read in one row; a doel
/// without criteria has none of either.
struct CountedDoel {
    doel: doel::Model,
    criteria: usize,
    met: usize,
}

impl FromQueryResult for CountedDoel {
    fn from_query_result(row: &sea_orm::QueryResult, pre: &str) -> std::result::Result<Self, sea_orm::DbErr> {
        let counted = |column: &str| row.try_get::<Option<i64>>(pre, column).map(|n| n.map_or(0, count));
        Ok(CountedDoel {
            doel: doel::Model::from_query_result(row, pre)?,
            criteria: counted("criteria")?,
            met: counted("met")?,
        })
    }
}

/// A required reason or note: trimmed, not empty.
fn required_text(text: &str, what: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::Validation(format!("{what} is required")));
    }
    Ok(text.to_owned())
}

impl Engine {
    /// The progress of a koersplan at a peildatum, in a fixed number of statements.
    pub async fn koersplan_progress(&self, id: i64, peildatum: NaiveDate) -> Result<KoersplanProgress> {
        let plan =
            self.koersplan(id).await?.ok_or_else(|| Error::NotFound { what: "koersplan", id: id.to_string() })?;
        let mut all = self.koersplannen_progress(vec![plan], peildatum, Depth::Succescriteria).await?;
        all.pop().ok_or_else(|| Error::NotFound { what: "koersplan", id: id.to_string() })
    }

    /// The progress of several koersplannen at one peildatum, in the same fixed number of
    /// statements whatever their number.
    pub async fn koersplannen_progress(
        &self,
        plans: Vec<koersplan::Model>,
        peildatum: NaiveDate,
        depth: Depth,
    ) -> Result<Vec<KoersplanProgress>> {
        let cutoff = end_of_day(peildatum);
        let plan_ids: Vec<i64> = plans.iter().map(|p| p.id).collect();
        // The ambities, the doelen (counted down to them when that is deep enough) and the
        // overrides need nothing of each other: read side by side.
        let counted_at = (depth == Depth::Doelen).then_some(peildatum);
        let overrides = Overrides::load(
            self.db(),
            Condition::all().add(signal_override::Column::KoersplanId.is_in(plan_ids.clone())),
            cutoff,
        );
        let (mut ambities, (mut doelen, counted), overrides) =
            futures::try_join!(self.ambities_of(&plan_ids), self.doelen_of_plans(&plan_ids, counted_at), overrides)?;
        let (mut criteria, counts) = match counted {
            Some(counts) => (HashMap::new(), counts),
            None => {
                let doel_ids: Vec<i64> = doelen.values().flatten().map(|d| d.id).collect();
                let criteria = self.criteria_progress(&doel_ids, peildatum).await?;
                let counts = criteria
                    .iter()
                    .map(|(&doel, own)| (doel, (own.len(), own.iter().filter(|c| c.met).count())))
                    .collect();
                (criteria, counts)
            }
        };

        Ok(plans
            .into_iter()
            .map(|koersplan| {
                let t = elapsed(koersplan.first_school_year, koersplan.last_school_year, peildatum);
                let computed = |p: Option<f64>| p.map(|p| signal(p, t));
                let ambities: Vec<AmbitieProgress> = ambities
                    .remove(&koersplan.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|ambitie| {
                        let doelen: Vec<DoelProgress> = doelen
                            .remove(&ambitie.id)
                            .unwrap_or_default()
                            .into_iter()
                            .map(|doel| {
                                let (total, met) = counts.get(&doel.id).copied().unwrap_or((0, 0));
                                let progress = doel_progress(total, met);
                                let computed_signal = computed(progress);
                                let (signal, signal_override) =
                                    overrides.apply(SignalSubject::Doel(doel.id), computed_signal);
                                DoelProgress {
                                    succescriteria: criteria.remove(&doel.id).unwrap_or_default(),
                                    doel,
                                    criteria: total,
                                    met,
                                    progress,
                                    signal,
                                    computed_signal,
                                    signal_override,
                                }
                            })
                            .collect();
                        let progress = mean(doelen.iter().map(|d| d.progress));
                        let computed_signal = computed(progress);
                        let (signal, signal_override) =
                            overrides.apply(SignalSubject::Ambitie(ambitie.id), computed_signal);
                        AmbitieProgress { ambitie, progress, signal, computed_signal, signal_override, doelen }
                    })
                    .collect();
                let progress = mean(ambities.iter().map(|a| a.progress));
                let computed_signal = computed(progress);
                let (signal, signal_override) =
                    overrides.apply(SignalSubject::Koersplan(koersplan.id), computed_signal);
                KoersplanProgress {
                    koersplan,
                    peildatum,
                    elapsed: t,
                    progress,
                    signal,
                    computed_signal,
                    signal_override,
                    ambities,
                }
            })
            .collect())
    }

    /// Per doel with criteria, how many there are and how many are met at the peildatum,
    /// counted in SQL by the rules of `progress` (latest measurement against the target,
    /// or the latest mark): one row per doel rather than one per criterion, as the
    /// national figures need no more.
    ///
    /// The rows are handed to `each` as they are read: the roll-up counts every doel of
    /// the country, and holding all its rows at once would set the server's peak memory.
    pub(crate) async fn doel_counts(
        &self,
        peildatum: NaiveDate,
        plans: Option<Condition>,
        mut each: impl FnMut(DoelCount),
    ) -> Result<()> {
        let query = doel_counts(peildatum, plans);
        let mut rows = DoelCount::find_by_statement(StatementBuilder::build(&query, &self.db().get_database_backend()))
            .stream(self.db())
            .await?;
        while let Some(row) = rows.try_next().await? {
            each(row);
        }
        Ok(())
    }

    /// The doelen of koersplannen per ambitie, in their order. With `counted_at`, also the
    /// criteria of each doel and those met at that peildatum, counted in SQL by
    /// [`Engine::doel_counts`]'s statement, joined in: one row per doel.
    async fn doelen_of_plans(
        &self,
        plans: &[i64],
        counted_at: Option<NaiveDate>,
    ) -> Result<(HashMap<i64, Vec<doel::Model>>, Option<HashMap<i64, (usize, usize)>>)> {
        let counts = Alias::new("counts");
        let (criteria, met) = (Alias::new("criteria"), Alias::new("met"));
        let mut query = doelen_in(plans);
        query
            .column((doel::Entity, Asterisk))
            .order_by((doel::Entity, doel::Column::Position), Order::Asc)
            .order_by((doel::Entity, doel::Column::Id), Order::Asc);
        match counted_at {
            Some(peildatum) => {
                let within = Condition::all().add(koersplan::Column::Id.is_in(plans.iter().copied()));
                query
                    .expr_as(Expr::col((counts.clone(), criteria.clone())), criteria)
                    .expr_as(Expr::col((counts.clone(), met.clone())), met)
                    .join_subquery(
                        JoinType::LeftJoin,
                        doel_counts(peildatum, Some(within)),
                        counts.clone(),
                        Expr::col((counts, Alias::new("doel"))).equals((doel::Entity, doel::Column::Id)),
                    );
            }
            None => {
                query.expr_as(Expr::value(None::<i64>), criteria).expr_as(Expr::value(None::<i64>), met);
            }
        }
        let rows = CountedDoel::find_by_statement(StatementBuilder::build(&query, &self.db().get_database_backend()))
            .all(self.db())
            .await?;
        let counts = counted_at.map(|_| rows.iter().map(|r| (r.doel.id, (r.criteria, r.met))).collect());
        Ok((group(rows.into_iter().map(|r| r.doel).collect(), |d| d.ambitie_id), counts))
    }

    /// The succescriteria of doelen, each with whether it is met at the peildatum and why.
    async fn criteria_progress(
        &self,
        doelen: &[i64],
        peildatum: NaiveDate,
    ) -> Result<HashMap<i64, Vec<CriteriumProgress>>> {
        let criteria = self.succescriteria_of(doelen).await?;
        let latest =
            self.latest_values(criteria.values().flatten().filter_map(|c| c.indicator_id).collect(), peildatum).await?;
        let criterium_ids: Vec<i64> = criteria.values().flatten().map(|c| c.id).collect();
        let marks: HashMap<i64, criterium_mark::Model> = {
            use criterium_mark::Column as C;
            criterium_mark::Entity::find()
                .filter(latest_of_each(
                    (criterium_mark::Entity, C::Id),
                    succescriterium::Entity,
                    succescriterium::Column::Id,
                    criterium_ids,
                    |criterium| latest_mark(end_of_day(peildatum), criterium_mark::Column::Id, criterium),
                ))
                .all(self.db())
                .await?
                .into_iter()
                .map(|m| (m.succescriterium_id, m))
                .collect()
        };
        let criterium = |c: succescriterium::Model| {
            let latest = c.indicator_id.and_then(|i| latest.get(&i));
            let indicator_met = latest.map(|(indicator, value)| indicator.direction.meets(*value, indicator.target));
            let mark = marks.get(&c.id).cloned();
            let met = criterium_met(indicator_met, mark.as_ref().map(|m| m.met));
            CriteriumProgress { criterium: c, met, latest_value: latest.map(|(_, v)| *v), indicator_met, mark }
        };
        Ok(criteria.into_iter().map(|(doel, own)| (doel, own.into_iter().map(criterium).collect())).collect())
    }

    /// Each indicator with its latest measured value up to the peildatum, if it has one.
    async fn latest_values(
        &self,
        ids: Vec<i64>,
        peildatum: NaiveDate,
    ) -> Result<HashMap<i64, (indicator::Model, f64)>> {
        let indicators =
            indicator::Entity::find().filter(indicator::Column::Id.is_in(ids.clone())).all(self.db()).await?;
        let measurements = measurement::Entity::find()
            .filter(latest_of_each(
                (measurement::Entity, measurement::Column::Id),
                indicator::Entity,
                indicator::Column::Id,
                ids,
                |indicator| latest_measurement(peildatum, measurement::Column::Id, indicator),
            ))
            .all(self.db())
            .await?;
        let mut latest: HashMap<i64, f64> = measurements.into_iter().map(|m| (m.indicator_id, m.value)).collect();
        Ok(indicators.into_iter().filter_map(|i| latest.remove(&i.id).map(|v| (i.id, (i, v)))).collect())
    }

    /// Marks a succescriterium met by hand. Refused without evidence: a closed cycle, a
    /// measurement or a note.
    #[tracing::instrument(skip(self, evidence))]
    pub async fn mark_succescriterium_met(
        &self,
        actor: &str,
        succescriterium_id: i64,
        evidence: Evidence,
    ) -> Result<criterium_mark::Model> {
        let note = evidence.note.as_deref().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
        if evidence.cycle_id.is_none() && evidence.measurement_id.is_none() && note.is_none() {
            return Err(Error::Validation(
                "a succescriterium is marked met only with evidence: a closed cycle, a measurement or a note".into(),
            ));
        }
        let txn = crate::store::begin_write(self.db()).await?;
        let plan = self.criterium_for_change(&txn, succescriterium_id).await?;
        if let Some(on) = evidence.on {
            let today = self.clock().today();
            let (first, last) = (plan.first_school_year.first_day(), plan.last_school_year.last_day());
            if on > today {
                return Err(Error::Validation(format!(
                    "the mark is dated {on}, after today ({today}): mark a succescriterium met once it is"
                )));
            }
            if on < first || on > last {
                return Err(Error::Validation(format!(
                    "the mark is dated {on}, outside the period of koersplan `{}` ({first} to {last})",
                    plan.key
                )));
            }
        }
        if let Some(id) = evidence.cycle_id {
            let cycle = self.access_of().found(cycle::Entity::find_by_id(id).one(&txn).await?, "cycle", id)?;
            if cycle.status != crate::cycle::machine::Status::Closed {
                return Err(Error::Validation(format!(
                    "cycle {id} is still open: only a closed cycle is evidence that a succescriterium is met"
                )));
            }
        }
        if let Some(id) = evidence.measurement_id {
            let measurement = measurement::Entity::find_by_id(id)
                .one(&txn)
                .await?
                .ok_or_else(|| Error::NotFound { what: "measurement", id: id.to_string() })?;
            // A measurement is within reach when its indicator is.
            let indicator = indicator::Entity::find_by_id(measurement.indicator_id).one(&txn).await?;
            self.access_of().found(indicator, "measurement", id)?;
        }
        let mark = Mark {
            met: true,
            cycle_id: evidence.cycle_id,
            measurement_id: evidence.measurement_id,
            note,
            from: evidence.on,
        };
        self.insert_mark(txn, actor, succescriterium_id, mark).await
    }

    /// Withdraws a mark by hand: from now on only the indicator decides. Needs a reason.
    #[tracing::instrument(skip(self, reason))]
    pub async fn withdraw_succescriterium_mark(
        &self,
        actor: &str,
        succescriterium_id: i64,
        reason: &str,
    ) -> Result<criterium_mark::Model> {
        let reason = required_text(reason, "a reason for withdrawing the mark")?;
        let txn = crate::store::begin_write(self.db()).await?;
        self.criterium_for_change(&txn, succescriterium_id).await?;
        let mark = Mark { met: false, cycle_id: None, measurement_id: None, note: Some(reason), from: None };
        self.insert_mark(txn, actor, succescriterium_id, mark).await
    }

    /// Appends a mark and commits.
    async fn insert_mark(
        &self,
        txn: DatabaseTransaction,
        actor: &str,
        succescriterium_id: i64,
        mark: Mark,
    ) -> Result<criterium_mark::Model> {
        let row = criterium_mark::ActiveModel {
            succescriterium_id: Set(succescriterium_id),
            met: Set(mark.met),
            cycle_id: Set(mark.cycle_id),
            measurement_id: Set(mark.measurement_id),
            note: Set(mark.note),
            actor: Set(actor.to_owned()),
            at: Set(mark.from.map_or_else(|| self.clock().now(), day_start)),
            recorded_at: Set(self.clock().now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// A succescriterium the caller may mark, within a kindcentrum it reaches in full: the
    /// koersplan it belongs to.
    async fn criterium_for_change(&self, txn: &DatabaseTransaction, id: i64) -> Result<koersplan::Model> {
        let not_found = || Error::NotFound { what: "succescriterium", id: id.to_string() };
        let criterium = succescriterium::Entity::find_by_id(id).one(txn).await?.ok_or_else(not_found)?;
        let kindcentra = crate::access::kindcentra_of_doelen(txn, &[criterium.doel_id]).await?;
        match kindcentra.get(&criterium.doel_id) {
            Some(&kc) if self.access_of().reaches_kindcentrum(kc) => self.access_of().may(Change::Evidence)?,
            _ => return Err(not_found()),
        }
        let plan = koersplan::Entity::find()
            .filter(
                koersplan::Column::Id.in_subquery(
                    Query::select()
                        .column(ambitie::Column::KoersplanId)
                        .from(ambitie::Entity)
                        .inner_join(
                            doel::Entity,
                            Expr::col((doel::Entity, doel::Column::AmbitieId))
                                .equals((ambitie::Entity, ambitie::Column::Id)),
                        )
                        .and_where(Expr::col((doel::Entity, doel::Column::Id)).eq(criterium.doel_id))
                        .to_owned(),
                ),
            )
            .one(txn)
            .await?;
        plan.ok_or_else(not_found)
    }

    /// The marks of succescriteria, oldest first: their full history.
    pub async fn marks_of(&self, criteria: &[i64]) -> Result<HashMap<i64, Vec<criterium_mark::Model>>> {
        use criterium_mark::Column as C;
        self.children::<criterium_mark::Entity, _>(C::SuccescriteriumId, criteria, &[C::At, C::Id], |m| {
            m.succescriterium_id
        })
        .await
    }

    /// Sets the signal of a koersplan, ambitie or doel by hand, or lifts an earlier
    /// override with `None`. The reason is required and kept with the event.
    #[tracing::instrument(skip(self, reason))]
    pub async fn override_signal(
        &self,
        actor: &str,
        subject: SignalSubject,
        signal: Option<Signal>,
        reason: &str,
    ) -> Result<signal_override::Model> {
        let reason = required_text(reason, "a reason for the signal")?;
        let txn = crate::store::begin_write(self.db()).await?;
        let (koersplan_id, ambitie_id, doel_id) = match subject {
            SignalSubject::Koersplan(id) => match koersplan::Entity::find_by_id(id).one(&txn).await? {
                Some(_) => (id, None, None),
                None => return Err(Error::NotFound { what: "koersplan", id: id.to_string() }),
            },
            SignalSubject::Ambitie(id) => match ambitie::Entity::find_by_id(id).one(&txn).await? {
                Some(a) => (a.koersplan_id, Some(id), None),
                None => return Err(Error::NotFound { what: "ambitie", id: id.to_string() }),
            },
            SignalSubject::Doel(id) => {
                let doel = doel::Entity::find_by_id(id)
                    .one(&txn)
                    .await?
                    .ok_or_else(|| Error::NotFound { what: "doel", id: id.to_string() })?;
                let ambitie = ambitie::Entity::find_by_id(doel.ambitie_id)
                    .one(&txn)
                    .await?
                    .ok_or_else(|| Error::NotFound { what: "ambitie", id: doel.ambitie_id.to_string() })?;
                (ambitie.koersplan_id, Some(ambitie.id), Some(id))
            }
        };
        let plan = koersplan::Entity::find_by_id(koersplan_id).one(&txn).await?;
        let (what, id) = subject.describe();
        self.for_change(plan, what, id, Change::Signals)?;
        let row = signal_override::ActiveModel {
            koersplan_id: Set(koersplan_id),
            ambitie_id: Set(ambitie_id),
            doel_id: Set(doel_id),
            signal: Set(signal),
            reason: Set(reason),
            actor: Set(actor.to_owned()),
            at: Set(self.clock().now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Every signal override of the koersplannen, oldest first: the history of signals set
    /// by hand, with their reasons.
    pub async fn signal_overrides_of(&self, koersplannen: &[i64]) -> Result<HashMap<i64, Vec<signal_override::Model>>> {
        use signal_override::Column as C;
        self.children::<signal_override::Entity, _>(C::KoersplanId, koersplannen, &[C::At, C::Id], |o| o.koersplan_id)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signal_at_its_boundaries() {
        assert_eq!(signal(1.0, 0.3), Signal::Afgerond);
        assert_eq!(signal(0.999, 1.0), Signal::OpKoers);
        // p >= t - 0.10: Op koers, exactly at the boundary too.
        assert_eq!(signal(0.4, 0.5), Signal::OpKoers);
        assert_eq!(signal(0.2, 0.3), Signal::OpKoers);
        assert_eq!(signal(0.399, 0.5), Signal::OpKoersMetAandacht);
        // p >= t - 0.25: Op koers met aandacht, exactly at the boundary too.
        assert_eq!(signal(0.25, 0.5), Signal::OpKoersMetAandacht);
        assert_eq!(signal(0.5, 0.75), Signal::OpKoersMetAandacht);
        assert_eq!(signal(0.249, 0.5), Signal::NietOpKoers);
        assert_eq!(signal(0.0, 0.0), Signal::OpKoers);
        assert_eq!(signal(0.0, 1.0), Signal::NietOpKoers);
    }

    #[test]
    fn elapsed_share_of_the_plan_period() {
        let (first, last) = (SchoolYear::starting(2019), SchoolYear::starting(2022));
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        assert_eq!(elapsed(first, last, date(2019, 7, 31)), 0.0);
        assert_eq!(elapsed(first, last, date(2023, 7, 31)), 1.0);
        assert_eq!(elapsed(first, last, date(2030, 1, 1)), 1.0);
        let half = elapsed(first, last, date(2021, 7, 31));
        assert!((half - 0.5).abs() < 0.001, "{half}");
    }
}
