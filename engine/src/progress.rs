//! Progress toward the koersplan: which succescriteria are met, the progress of doelen,
//! ambities and the plan, and the OGSM signal at a peildatum.
//!
//! A succescriterium linked to an indicator is met when the latest measurement up to the
//! peildatum meets the indicator's target. Progress of a doel is the share of its criteria
//! met; an ambitie and the koersplan take the mean of their parts (parts without criteria
//! do not count). With p the progress and t the elapsed share of the plan period:
//! Afgerond if p = 1; Op koers if p >= t - 0.10; Op koers met aandacht if p >= t - 0.25;
//! otherwise Niet op koers.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::Engine;
use crate::domain::SchoolYear;
use crate::entity::{ambitie, doel, indicator, koersplan, measurement, succescriterium};
use crate::error::{Error, Result};

/// The OGSM status signal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Signal {
    Afgerond,
    OpKoers,
    OpKoersMetAandacht,
    NietOpKoers,
}

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

/// The mean of the parts that have a progress.
fn mean(parts: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let known: Vec<f64> = parts.into_iter().flatten().collect();
    (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
}

/// Progress of one doel.
#[derive(Clone, Debug, PartialEq)]
pub struct DoelProgress {
    pub doel: doel::Model,
    pub criteria: usize,
    pub met: usize,
    /// None for a doel without criteria.
    pub progress: Option<f64>,
    pub signal: Option<Signal>,
}

/// Progress of one ambitie.
#[derive(Clone, Debug, PartialEq)]
pub struct AmbitieProgress {
    pub ambitie: ambitie::Model,
    pub progress: Option<f64>,
    pub signal: Option<Signal>,
    pub doelen: Vec<DoelProgress>,
}

/// Progress of a koersplan at a peildatum.
#[derive(Clone, Debug, PartialEq)]
pub struct KoersplanProgress {
    pub peildatum: NaiveDate,
    /// The elapsed share of the plan period.
    pub elapsed: f64,
    pub progress: Option<f64>,
    pub signal: Option<Signal>,
    pub ambities: Vec<AmbitieProgress>,
}

impl Engine {
    /// The progress of a koersplan at a peildatum, in a fixed number of statements.
    pub async fn koersplan_progress(&self, id: i64, peildatum: NaiveDate) -> Result<KoersplanProgress> {
        let plan = koersplan::Entity::find_by_id(id)
            .one(self.db())
            .await?
            .ok_or_else(|| Error::NotFound { what: "koersplan", id: id.to_string() })?;
        let t = elapsed(plan.first_school_year, plan.last_school_year, peildatum);
        let ambities = self.ambities_of(&[id]).await?.remove(&id).unwrap_or_default();
        let ambitie_ids: Vec<i64> = ambities.iter().map(|a| a.id).collect();
        let mut doelen = self.doelen_of(&ambitie_ids).await?;
        let doel_ids: Vec<i64> = doelen.values().flatten().map(|d| d.id).collect();
        let criteria = self.succescriteria_of(&doel_ids).await?;
        let met = self.met_indicators(criteria.values().flatten().filter_map(|c| c.indicator_id), peildatum).await?;

        let with_signal = |p: Option<f64>| (p, p.map(|p| signal(p, t)));
        let ambities: Vec<AmbitieProgress> = ambities
            .into_iter()
            .map(|ambitie| {
                let doelen: Vec<DoelProgress> = doelen
                    .remove(&ambitie.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|doel| {
                        let own: &[succescriterium::Model] = criteria.get(&doel.id).map_or(&[], Vec::as_slice);
                        let hit =
                            own.iter().filter(|c| c.indicator_id.is_some_and(|i| met.get(&i) == Some(&true))).count();
                        let progress = (!own.is_empty()).then(|| hit as f64 / own.len() as f64);
                        let (progress, signal) = with_signal(progress);
                        DoelProgress { doel, criteria: own.len(), met: hit, progress, signal }
                    })
                    .collect();
                let (progress, signal) = with_signal(mean(doelen.iter().map(|d| d.progress)));
                AmbitieProgress { ambitie, progress, signal, doelen }
            })
            .collect();
        let (progress, signal) = with_signal(mean(ambities.iter().map(|a| a.progress)));
        Ok(KoersplanProgress { peildatum, elapsed: t, progress, signal, ambities })
    }

    /// Whether each indicator's latest measurement up to the peildatum meets its target.
    async fn met_indicators(&self, ids: impl Iterator<Item = i64>, peildatum: NaiveDate) -> Result<HashMap<i64, bool>> {
        let ids: Vec<i64> = ids.collect();
        let indicators =
            indicator::Entity::find().filter(indicator::Column::Id.is_in(ids.clone())).all(self.db()).await?;
        let measurements = measurement::Entity::find()
            .filter(measurement::Column::IndicatorId.is_in(ids))
            .filter(measurement::Column::PeriodEnd.lte(peildatum))
            .order_by_asc(measurement::Column::PeriodEnd)
            .order_by_asc(measurement::Column::Id)
            .all(self.db())
            .await?;
        // Ordered oldest first, so the last one written per indicator is the latest.
        let latest: BTreeMap<i64, f64> = measurements.into_iter().map(|m| (m.indicator_id, m.value)).collect();
        Ok(indicators
            .into_iter()
            .map(|i| (i.id, latest.get(&i.id).is_some_and(|v| i.direction.meets(*v, i.target))))
            .collect())
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
