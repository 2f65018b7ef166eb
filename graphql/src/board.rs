//! The board's view of a bestuur: every kindcentrum with its koersplannen' progress, what
//! is late, the latest scans and the coaching norm, computed by the engine in one go.

use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::NaiveDate;
use koers_engine::evidence::scan::Scale;
use koers_engine::plan::board as engine_board;

use crate::coaching::{CoachingLocatie, CoachingNorm};
use crate::cycle::Cycle;
use crate::error::IntoGraphql;
use crate::progress::{KoersplanVoortgang, Signal};
use crate::scan::{ScaleSummary, Scan};
use crate::types::{Bestuur, Date, Groep, Kindcentrum, PlanningItem};

/// A bestuur's kindcentra at a peildatum.
#[derive(SimpleObject, Debug)]
pub struct BestuurVoortgang {
    pub bestuur: Bestuur,
    pub peildatum: NaiveDate,
    pub kindcentra: Vec<KindcentrumVoortgang>,
}

/// One kindcentrum in the board's view.
#[derive(SimpleObject, Debug)]
pub struct KindcentrumVoortgang {
    pub kindcentrum: Kindcentrum,
    /// Each koersplan's progress and signal, per ambitie and doel.
    pub koersplannen: Vec<KoersplanVoortgang>,
    /// Open cycles whose current phase was due before the peildatum, most overdue first.
    pub overdue_cycles: Vec<Cycle>,
    /// Planned activities of a school year that ended before the peildatum, neither done
    /// (afgerond) nor dropped (vervallen).
    pub overdue_planning: Vec<PlanningItem>,
    /// The latest scan up to the peildatum of each groep that has one.
    pub scans: Vec<GroepScanSummary>,
    /// Each opvang locatie beside the wet IKK norm of its houder in the peildatum's year;
    /// the norm binds the houder as a whole, the locatie figures are information.
    pub coaching: Vec<LocatieCoachingNorm>,
}

/// The latest scan of a groep, summarised per scale.
#[derive(SimpleObject, Debug)]
pub struct GroepScanSummary {
    pub groep: Groep,
    pub scan: Scan,
    pub welbevinden: ScaleSummary,
    pub betrokkenheid: ScaleSummary,
}

/// An opvang locatie and the norm of its houder.
#[derive(SimpleObject, Debug)]
pub struct LocatieCoachingNorm {
    pub locatie: CoachingLocatie,
    pub houder: CoachingNorm,
}

impl From<engine_board::BoardProgress> for BestuurVoortgang {
    fn from(board: engine_board::BoardProgress) -> Self {
        BestuurVoortgang {
            bestuur: Bestuur(board.bestuur),
            peildatum: board.peildatum,
            kindcentra: board
                .kindcentra
                .into_iter()
                .map(|kc| KindcentrumVoortgang {
                    kindcentrum: Kindcentrum(kc.kindcentrum),
                    koersplannen: kc.koersplannen.into_iter().map(Into::into).collect(),
                    overdue_cycles: kc.overdue_cycles.into_iter().map(Cycle).collect(),
                    overdue_planning: kc.overdue_planning.into_iter().map(PlanningItem).collect(),
                    scans: kc
                        .scans
                        .into_iter()
                        .map(|s| GroepScanSummary {
                            welbevinden: ScaleSummary::of_means(&s.means, Scale::Welbevinden),
                            betrokkenheid: ScaleSummary::of_means(&s.means, Scale::Betrokkenheid),
                            groep: Groep(s.groep),
                            scan: Scan(s.scan),
                        })
                        .collect(),
                    coaching: kc
                        .coaching
                        .into_iter()
                        .map(|c| LocatieCoachingNorm {
                            locatie: CoachingLocatie(c.locatie),
                            houder: CoachingNorm(c.houder),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// The national roll-up at a peildatum: every bestuur the caller reaches whole, and all of
/// them together.
#[derive(SimpleObject, Debug)]
pub struct Voortgang {
    pub peildatum: NaiveDate,
    /// All besturen of the list together; a kindcentrum of two besturen counts once.
    pub total: VoortgangTotals,
    /// Per bestuur, by name: the sums of its board's view (`bestuur { voortgang }`).
    pub besturen: Vec<BestuurTotals>,
}

/// One bestuur in the roll-up.
#[derive(SimpleObject, Debug)]
pub struct BestuurTotals {
    pub bestuur: Bestuur,
    pub totals: VoortgangTotals,
}

/// The figures of a set of kindcentra.
#[derive(SimpleObject, Debug)]
pub struct VoortgangTotals {
    pub kindcentra: u64,
    pub koersplannen: u64,
    /// The mean progress of the koersplannen that have one, 0 to 1; null when none has.
    pub progress: Option<f64>,
    /// Per signal, how many koersplannen carry it (set by hand or computed); signals no
    /// koersplan carries are left out.
    pub signals: Vec<SignalCount>,
    /// Open cycles whose current phase was due before the peildatum, counted per
    /// kindcentrum as the board's view lists them.
    pub overdue_cycles: u64,
}

/// How many koersplannen carry a signal.
#[derive(SimpleObject, Debug)]
pub struct SignalCount {
    pub signal: Signal,
    pub koersplannen: u64,
}

impl From<koers_engine::plan::rollup::Totals> for VoortgangTotals {
    fn from(totals: koers_engine::plan::rollup::Totals) -> Self {
        VoortgangTotals {
            kindcentra: totals.kindcentra as u64,
            koersplannen: totals.koersplannen as u64,
            progress: totals.progress,
            signals: totals
                .signals
                .into_iter()
                .map(|(signal, n)| SignalCount { signal: signal.into(), koersplannen: n as u64 })
                .collect(),
            overdue_cycles: totals.overdue_cycles as u64,
        }
    }
}

impl From<koers_engine::plan::rollup::ProgressRollup> for Voortgang {
    fn from(rollup: koers_engine::plan::rollup::ProgressRollup) -> Self {
        Voortgang {
            peildatum: rollup.peildatum,
            total: rollup.total.into(),
            besturen: rollup
                .besturen
                .into_iter()
                .map(|(bestuur, totals)| BestuurTotals { bestuur: Bestuur(bestuur), totals: totals.into() })
                .collect(),
        }
    }
}

/// The national roll-up.
#[derive(Default, Debug)]
pub struct RollupQuery;

#[Object]
impl RollupQuery {
    /// The roll-up at a peildatum (default: today) over every bestuur the caller reaches
    /// whole (all of them for an admin token): per bestuur and in total, the kindcentra,
    /// the koersplannen, their mean progress, how many carry each signal, and the overdue
    /// cycles. The same rules as `bestuur { voortgang }`, in a fixed number of statements.
    async fn voortgang(&self, ctx: &Context<'_>, peildatum: Option<Date>) -> Result<Voortgang> {
        let engine = crate::query::engine(ctx);
        let peildatum = peildatum.map_or_else(|| engine.clock().today(), |d| d.0);
        engine.progress_rollup(peildatum).await.gql().map(Into::into)
    }
}
