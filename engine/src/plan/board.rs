//! The board's view: for every kindcentrum of a bestuur at a peildatum, the progress of
//! its koersplannen, the cycles and planned activities that are late, the latest scan of
//! each groep and the coaching norm of each opvang locatie.
//!
//! Everything is loaded per kind of row for all kindcentra at once, so the number of
//! statements does not grow with the kindcentra of the bestuur.

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, StatementBuilder};

use crate::Engine;
use crate::access::owners::OwnersIn;
use crate::cycle::machine::Status;
use crate::domain::{PlanningStatus, SchoolYear};
use crate::error::{Error, Result};
use crate::evidence::coaching::{CoachingNorm, LocatieCoaching};
use crate::evidence::scan::ScanMeans;
use crate::plan::progress::{Depth, KoersplanProgress};
use crate::store::entity::{bestuur, cycle, doel, groep, kindcentrum, planning_item, scan};
use crate::store::query::group;

/// A bestuur's kindcentra at a peildatum.
#[derive(Clone, Debug)]
pub struct BoardProgress {
    pub bestuur: bestuur::Model,
    pub peildatum: NaiveDate,
    pub kindcentra: Vec<KindcentrumProgress>,
}

/// One kindcentrum in the board's view.
#[derive(Clone, Debug)]
pub struct KindcentrumProgress {
    pub kindcentrum: kindcentrum::Model,
    pub koersplannen: Vec<KoersplanProgress>,
    /// Open cycles whose current phase was due before the peildatum, most overdue first.
    pub overdue_cycles: Vec<cycle::Model>,
    /// Activities of the meerjarenplanning planned for a school year that ended before the
    /// peildatum and neither done (afgerond) nor dropped (vervallen).
    pub overdue_planning: Vec<planning_item::Model>,
    /// The latest scan up to the peildatum of each groep that has one.
    pub scans: Vec<GroepScan>,
    /// The opvang locaties with the coaching norm of their houder in the peildatum's year.
    pub coaching: Vec<LocatieNorm>,
}

/// The latest scan of a groep with its means; the rest of its summary is
/// [`Engine::scan_summaries`].
#[derive(Clone, Debug)]
pub struct GroepScan {
    pub groep: groep::Model,
    pub scan: scan::Model,
    pub means: ScanMeans,
}

/// An opvang locatie beside the norm of its houder, which binds the houder as a whole.
#[derive(Clone, Debug)]
pub struct LocatieNorm {
    pub locatie: LocatieCoaching,
    pub houder: CoachingNorm,
}

/// The cycles that are overdue at the peildatum: open, and the current phase was due
/// before it. The one rule for the board's view and the roll-up.
pub(crate) fn overdue(peildatum: NaiveDate) -> Condition {
    Condition::all().add(cycle::Column::Status.eq(Status::Open)).add(cycle::Column::CurrentDue.lt(peildatum))
}

impl Engine {
    /// The board's view of a bestuur at a peildatum, in a number of statements that does
    /// not depend on the number of its kindcentra; `depth` says whether the koersplannen
    /// go down to their succescriteria. The koersplannen, the places with their overdue
    /// cycles and scans, and the coaching norms are read side by side.
    #[tracing::instrument(skip(self))]
    pub async fn board_progress(&self, bestuur_id: i64, peildatum: NaiveDate, depth: Depth) -> Result<BoardProgress> {
        let reader = self.reader();
        let bestuur = reader
            .bestuur(bestuur_id)
            .await?
            .ok_or_else(|| Error::NotFound { what: "bestuur", id: bestuur_id.to_string() })?;
        let kindcentra = reader.kindcentra_of(&[bestuur_id]).await?.remove(&bestuur_id).unwrap_or_default();
        let ids: Vec<i64> = kindcentra.iter().map(|k| k.id).collect();

        // Three parts that need nothing of each other, read side by side, and within each
        // part the reads that need nothing of each other.
        let plans_part = async {
            let plans = reader.koersplannen_of(&ids).await?;
            let plan_ids: Vec<i64> = plans.values().flatten().map(|p| p.id).collect();
            let (progress, late_planning) = futures::try_join!(
                reader.koersplannen_progress(plans.values().flatten().cloned().collect(), peildatum, depth),
                reader.overdue_planning(&plan_ids, peildatum),
            )?;
            let progress: HashMap<i64, KoersplanProgress> = progress.into_iter().map(|p| (p.koersplan.id, p)).collect();
            Ok::<_, Error>((plans, progress, late_planning))
        };
        let places_part = async {
            let places = async {
                let locaties = reader.locaties_of(&ids).await?;
                let locatie_ids: Vec<i64> = locaties.values().flatten().map(|l| l.id).collect();
                let groepen = reader.groepen_of(&locatie_ids).await?;
                Ok::<_, Error>((locaties, groepen))
            };
            let (teams, (locaties, groepen)) = futures::try_join!(reader.teams_of(&ids), places)?;
            let overdue = async {
                let owners = OwnersIn::with(
                    reader.db(),
                    &ids,
                    teams.values().flatten().map(|t| (t.id, t.kindcentrum_id)),
                    locaties.values().flatten().map(|l| (l.id, l.kindcentrum_id)),
                    groepen.values().flatten().map(|g| (g.id, g.locatie_id)),
                )
                .await?;
                reader.overdue_cycles_of(&owners, peildatum).await
            };
            let scans = async {
                let groep_ids: Vec<i64> = groepen.values().flatten().map(|g| g.id).collect();
                let latest = reader.latest_scans(&groep_ids, peildatum).await?;
                let means = reader.scan_means(&latest.values().cloned().collect::<Vec<_>>()).await?;
                Ok::<_, Error>((latest, means))
            };
            let (overdue, (latest, means)) = futures::try_join!(overdue, scans)?;
            Ok::<_, Error>((locaties, groepen, overdue, latest, means))
        };
        let coaching_part = async {
            let houders: HashSet<i64> = reader
                .onderdelen_of(&ids)
                .await?
                .into_values()
                .flatten()
                .filter(|o| o.kind.is_opvang())
                .map(|o| o.bestuur_id)
                .collect();
            let houders: Vec<i64> = houders.into_iter().collect();
            reader.coaching_norms(&houders, peildatum.year()).await
        };
        let ((mut plans, mut progress, mut late_planning), (locaties, groepen, mut overdue, latest, mut means), norms) =
            futures::try_join!(plans_part, places_part, coaching_part)?;

        let kindcentra = kindcentra
            .into_iter()
            .map(|kindcentrum| {
                let koersplannen: Vec<KoersplanProgress> = plans
                    .remove(&kindcentrum.id)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|plan| progress.remove(&plan.id))
                    .collect();
                let overdue_planning = koersplannen
                    .iter()
                    .flat_map(|p| p.ambities.iter().flat_map(|a| a.doelen.iter()))
                    .flat_map(|d| late_planning.remove(&d.doel.id).unwrap_or_default())
                    .collect();
                let own_locaties = locaties.get(&kindcentrum.id).map_or(&[][..], Vec::as_slice);
                let scans = own_locaties
                    .iter()
                    .flat_map(|l| groepen.get(&l.id).into_iter().flatten())
                    .filter_map(|groep| {
                        let scan = latest.get(&groep.id)?.clone();
                        let means = means.remove(&scan.id)?;
                        Some(GroepScan { groep: groep.clone(), scan, means })
                    })
                    .collect();
                let coaching = norms
                    .values()
                    .flat_map(|norm| {
                        norm.locaties
                            .iter()
                            .filter(|l| l.locatie.kindcentrum_id == kindcentrum.id)
                            .map(|l| LocatieNorm { locatie: l.clone(), houder: norm.clone() })
                    })
                    .collect();
                KindcentrumProgress {
                    overdue_cycles: overdue.remove(&kindcentrum.id).unwrap_or_default(),
                    kindcentrum,
                    koersplannen,
                    overdue_planning,
                    scans,
                    coaching,
                }
            })
            .collect();
        Ok(BoardProgress { bestuur, peildatum, kindcentra })
    }

    /// Planned activities of the koersplannen that are late at the peildatum, per doel.
    async fn overdue_planning(
        &self,
        koersplannen: &[i64],
        peildatum: NaiveDate,
    ) -> Result<HashMap<i64, Vec<planning_item::Model>>> {
        use planning_item::Column as C;
        let doelen = crate::plan::progress::doelen_in(koersplannen).column((doel::Entity, doel::Column::Id)).to_owned();
        let rows = planning_item::Entity::find()
            .filter(C::DoelId.in_subquery(doelen))
            .filter(C::SchoolYear.lt(SchoolYear::containing(peildatum)))
            .filter(C::Status.is_in([PlanningStatus::Gepland, PlanningStatus::Gestart]))
            .order_by_asc(C::SchoolYear)
            .order_by_asc(C::Position)
            .all(self.db())
            .await?;
        Ok(group(rows, |p| p.doel_id))
    }

    /// Open cycles due before the peildatum, per kindcentrum: those of the kindcentrum
    /// itself, of its teams and groepen, and of the professionals who work there.
    async fn overdue_cycles_of(
        &self,
        owners: &OwnersIn,
        peildatum: NaiveDate,
    ) -> Result<HashMap<i64, Vec<cycle::Model>>> {
        use cycle::Column as C;
        // The owners' cycles first, by the owner indexes, then the overdue ones among
        // them. SQLite would otherwise start from the index on (status, due) and read the
        // overdue cycles of the whole country; CROSS JOIN makes it keep this order (on
        // PostgreSQL it is an ordinary join).
        let owned = Alias::new("owned");
        let query = Query::select()
            .column((cycle::Entity, Asterisk))
            .from_subquery(
                Query::select().column(C::Id).from(cycle::Entity).cond_where(owners.condition()).to_owned(),
                owned.clone(),
            )
            .cross_join(cycle::Entity)
            .and_where(Expr::col((cycle::Entity, C::Id)).equals((owned, C::Id)))
            .cond_where(overdue(peildatum))
            .order_by((cycle::Entity, C::CurrentDue), Order::Asc)
            .order_by((cycle::Entity, C::Id), Order::Asc)
            .to_owned();
        let statement = StatementBuilder::build(&query, &self.db().get_database_backend());
        let rows = cycle::Model::find_by_statement(statement).all(self.db()).await?;
        let mut by: HashMap<i64, Vec<cycle::Model>> = HashMap::new();
        for row in self.visible(rows) {
            for kc in owners.kindcentra_of(&row) {
                by.entry(kc).or_default().push(row.clone());
            }
        }
        Ok(by)
    }
}
