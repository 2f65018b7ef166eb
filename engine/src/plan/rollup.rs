//! The national roll-up: for every bestuur the caller reaches, and for all of them
//! together, how many kindcentra and koersplannen there are, the mean progress of the
//! koersplannen, how many carry each signal, and how many cycles are overdue.
//!
//! The numbers are those of the board's view ([`Engine::board_progress`]) added up, by the
//! same rules (`progress`: which criteria are met, progress, signals, overrides; `board`:
//! which cycles are overdue), but computed without building any koersplan's tree: six
//! statements whatever the number of kindcentra. The criteria are counted per doel in
//! SQL (with [`crate::domain::Direction::meets_in_sql`], the SQL twin of the rule that
//! decides a criterion), everything above the doel (means, signals, overrides) is the
//! Rust of `progress` itself.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, EntityTrait, FromQueryResult, QueryFilter, StatementBuilder};

use crate::Engine;
use crate::clock::end_of_day;
use crate::domain::SchoolYear;
use crate::error::{Error, Result};
use crate::plan::board::overdue;
use crate::plan::progress::{Overrides, Signal, SignalSubject, doel_progress, elapsed, mean, signal};
use crate::store::entity::{
    bestuur, cycle, groep, kindcentrum_bestuur, koersplan, locatie, professional_kindcentrum, signal_override, team,
};

/// The roll-up at a peildatum.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgressRollup {
    pub peildatum: NaiveDate,
    /// All reached besturen together; a kindcentrum of two besturen counts once.
    pub total: Totals,
    /// Per bestuur the caller reaches whole, by name: the sums of its board's view.
    pub besturen: Vec<(bestuur::Model, Totals)>,
}

/// The figures of a set of kindcentra.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    pub kindcentra: usize,
    pub koersplannen: usize,
    /// The mean progress of the koersplannen that have one; None when none has.
    pub progress: Option<f64>,
    /// Per signal that counts (set by hand or computed), the koersplannen carrying it;
    /// koersplannen without a signal are not counted.
    pub signals: BTreeMap<Signal, usize>,
    /// Overdue cycles, counted per kindcentrum as in the board's view.
    pub overdue_cycles: usize,
}

#[derive(Debug, FromQueryResult)]
struct PlanRow {
    id: i64,
    kindcentrum_id: i64,
    first_school_year: SchoolYear,
    last_school_year: SchoolYear,
}

#[derive(Debug, FromQueryResult)]
struct OverdueRow {
    /// None for a professional's cycle who works at no kindcentrum.
    kindcentrum_id: Option<i64>,
    cycles: i64,
}

/// What one koersplan adds to the totals.
#[derive(Clone, Copy, Debug)]
struct PlanFigures {
    progress: Option<f64>,
    signal: Option<Signal>,
}

impl Engine {
    /// The roll-up over the besturen the caller reaches whole (every bestuur for an admin
    /// token or the engine itself), in a number of statements that does not depend on the
    /// number of kindcentra.
    #[tracing::instrument(skip(self))]
    pub async fn progress_rollup(&self, peildatum: NaiveDate) -> Result<ProgressRollup> {
        let reader = self.reader();
        let db = reader.db();
        let access = self.access_of();
        let besturen: Vec<bestuur::Model> =
            reader.besturen().await?.into_iter().filter(|b| access.reaches_bestuur(b.id)).collect();
        // Narrowed in SQL to the reached besturen's kindcentra, unless everything is reached.
        let reached: Option<SelectStatement> = (!access.reaches_everything()).then(|| {
            Query::select()
                .column(kindcentrum_bestuur::Column::KindcentrumId)
                .from(kindcentrum_bestuur::Entity)
                .and_where(kindcentrum_bestuur::Column::BestuurId.is_in(besturen.iter().map(|b| b.id)))
                .to_owned()
        });
        // The koersplannen of those kindcentra.
        let within = match &reached {
            Some(kindcentra) => Condition::all()
                .add(Expr::col((koersplan::Entity, koersplan::Column::KindcentrumId)).in_subquery(kindcentra.clone())),
            None => Condition::all(),
        };

        // Five reads that need nothing of each other, side by side, the longest first.
        let counts = async {
            // Ordered, so the means add up in the same order on every call and the answer
            // does not change in its last digits.
            let mut ambities: HashMap<i64, BTreeMap<i64, Vec<Option<f64>>>> = HashMap::new();
            reader
                .doel_counts(peildatum, reached.as_ref().map(|_| within.clone()), |count| {
                    let (criteria, met) = count.counted();
                    ambities
                        .entry(count.koersplan)
                        .or_default()
                        .entry(count.ambitie)
                        .or_default()
                        .push(doel_progress(criteria, met));
                })
                .await?;
            Ok::<_, Error>(ambities)
        };
        let overdue = reader.overdue_counts(peildatum, reached.as_ref());
        let links = async {
            let mut links: HashMap<i64, Vec<i64>> = HashMap::new();
            for link in kindcentrum_bestuur::Entity::find()
                .filter(kindcentrum_bestuur::Column::BestuurId.is_in(besturen.iter().map(|b| b.id)))
                .all(db)
                .await?
            {
                links.entry(link.bestuur_id).or_default().push(link.kindcentrum_id);
            }
            Ok::<_, Error>(links)
        };
        let plans = async {
            let plans = Query::select()
                .columns([
                    koersplan::Column::Id,
                    koersplan::Column::KindcentrumId,
                    koersplan::Column::FirstSchoolYear,
                    koersplan::Column::LastSchoolYear,
                ])
                .from(koersplan::Entity)
                .cond_where(within.clone())
                .to_owned();
            Ok::<_, Error>(PlanRow::find_by_statement(self.statement(&plans)).all(db).await?)
        };
        // Only the koersplan's own signal counts here: overrides of its ambities and
        // doelen change their signals, not the plan's progress or signal.
        let overrides = Overrides::load(
            db,
            Condition::all()
                .add(signal_override::Column::AmbitieId.is_null())
                .add(signal_override::Column::DoelId.is_null())
                .add(match &reached {
                    Some(_) => Condition::all().add(
                        signal_override::Column::KoersplanId.in_subquery(
                            Query::select()
                                .column(koersplan::Column::Id)
                                .from(koersplan::Entity)
                                .cond_where(within.clone())
                                .to_owned(),
                        ),
                    ),
                    None => Condition::all(),
                }),
            end_of_day(peildatum),
        );
        let (mut ambities, overdue, links, plans, overrides) =
            futures::try_join!(counts, overdue, links, plans, overrides)?;

        // Everything is read; the rest is the rules of `progress`, per koersplan.
        let mut by_kindcentrum: HashMap<i64, Vec<PlanFigures>> = HashMap::new();
        for plan in plans {
            let progress = mean(ambities.remove(&plan.id).unwrap_or_default().into_values().map(mean));
            let t = elapsed(plan.first_school_year, plan.last_school_year, peildatum);
            let (signal, _) = overrides.apply(SignalSubject::Koersplan(plan.id), progress.map(|p| signal(p, t)));
            by_kindcentrum.entry(plan.kindcentrum_id).or_default().push(PlanFigures { progress, signal });
        }

        let totals = |kindcentra: &mut dyn Iterator<Item = i64>| {
            let mut totals = Totals::default();
            let mut progress = Vec::new();
            for kc in kindcentra {
                totals.kindcentra += 1;
                totals.overdue_cycles += overdue.get(&kc).copied().unwrap_or(0);
                for plan in by_kindcentrum.get(&kc).into_iter().flatten() {
                    totals.koersplannen += 1;
                    progress.push(plan.progress);
                    if let Some(signal) = plan.signal {
                        *totals.signals.entry(signal).or_default() += 1;
                    }
                }
            }
            totals.progress = mean(progress);
            totals
        };
        let all: BTreeSet<i64> = links.values().flatten().copied().collect();
        let total = totals(&mut all.into_iter());
        let besturen = besturen
            .into_iter()
            .map(|b| {
                let figures = totals(&mut links.get(&b.id).into_iter().flatten().copied());
                (b, figures)
            })
            .collect();
        Ok(ProgressRollup { peildatum, total, besturen })
    }

    fn statement(&self, query: &SelectStatement) -> sea_orm::Statement {
        StatementBuilder::build(query, &self.db().get_database_backend())
    }

    /// Overdue cycles per kindcentrum, each counted for every kindcentrum its owner
    /// belongs to (as the board's view lists them): the kindcentrum itself, else the
    /// team's, the groep's, or those where the professional works.
    async fn overdue_counts(
        &self,
        peildatum: NaiveDate,
        reached: Option<&SelectStatement>,
    ) -> Result<HashMap<i64, usize>> {
        use cycle::Column as C;
        // One pass over the overdue cycles; exactly one owner column is set, and the
        // kindcentrum is looked up through it. A professional's cycle joins one row per
        // kindcentrum they work at.
        let kc = Alias::new("kindcentrum_id");
        let owned = Query::select()
            .expr_as(
                Func::coalesce([
                    Expr::col((cycle::Entity, C::KindcentrumId)),
                    Expr::col((team::Entity, team::Column::KindcentrumId)),
                    Expr::col((locatie::Entity, locatie::Column::KindcentrumId)),
                    Expr::col((professional_kindcentrum::Entity, professional_kindcentrum::Column::KindcentrumId)),
                ]),
                kc.clone(),
            )
            .from(cycle::Entity)
            .left_join(team::Entity, Expr::col((team::Entity, team::Column::Id)).equals((cycle::Entity, C::TeamId)))
            .left_join(groep::Entity, Expr::col((groep::Entity, groep::Column::Id)).equals((cycle::Entity, C::GroepId)))
            .left_join(
                locatie::Entity,
                Expr::col((locatie::Entity, locatie::Column::Id)).equals((groep::Entity, groep::Column::LocatieId)),
            )
            .left_join(
                professional_kindcentrum::Entity,
                Expr::col((professional_kindcentrum::Entity, professional_kindcentrum::Column::ProfessionalId))
                    .equals((cycle::Entity, C::ProfessionalId)),
            )
            .cond_where(overdue(peildatum))
            .to_owned();
        let alias = Alias::new("owned");
        let mut query = Query::select()
            .column((alias.clone(), kc.clone()))
            .expr_as(Func::count(Expr::col((alias.clone(), kc.clone()))), Alias::new("cycles"))
            .from_subquery(owned, alias.clone())
            .group_by_col((alias.clone(), kc.clone()))
            .to_owned();
        if let Some(kindcentra) = reached {
            query.and_where(Expr::col((alias, kc)).in_subquery(kindcentra.clone()));
        }
        Ok(OverdueRow::find_by_statement(self.statement(&query))
            .all(self.db())
            .await?
            .into_iter()
            .filter_map(|r| Some((r.kindcentrum_id?, usize::try_from(r.cycles).unwrap_or(0))))
            .collect())
    }
}
