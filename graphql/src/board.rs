//! The board's view of a bestuur: every kindcentrum with its koersplannen' progress, what
//! is late, the latest scans and the coaching norm, computed by the engine in one go.

use async_graphql::SimpleObject;
use chrono::NaiveDate;
use koers_engine::board as engine_board;

use crate::coaching::{CoachingLocatie, CoachingNorm};
use crate::cycle::Cycle;
use crate::progress::KoersplanVoortgang;
use crate::scan::{ScaleSummary, Scan};
use crate::types::{Bestuur, Groep, Kindcentrum, PlanningItem};

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
    /// (gereed) nor dropped (vervallen).
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
                            groep: Groep(s.groep),
                            scan: Scan(s.scan),
                            welbevinden: s.summary.welbevinden.into(),
                            betrokkenheid: s.summary.betrokkenheid.into(),
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
