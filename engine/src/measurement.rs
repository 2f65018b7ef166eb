//! Recording measurements of indicators (kengetallen): a value for a date or a period,
//! with its source and an optional note.

use chrono::NaiveDate;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use crate::Engine;
use crate::entity::{indicator, measurement};
use crate::error::{Error, Result};

/// The period a measurement covers, first and last day included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Period {
    start: NaiveDate,
    end: NaiveDate,
}

impl Period {
    /// A single day.
    pub fn day(date: NaiveDate) -> Period {
        Period { start: date, end: date }
    }

    /// A period from its parts as people write them: a `date`, or `from` and `until`.
    pub fn parse(date: Option<NaiveDate>, from: Option<NaiveDate>, until: Option<NaiveDate>) -> Result<Period, String> {
        match (date, from, until) {
            (Some(date), None, None) => Ok(Period::day(date)),
            (None, Some(start), Some(end)) if start <= end => Ok(Period { start, end }),
            (None, Some(start), Some(end)) => Err(format!("the period ends ({end}) before it starts ({start})")),
            _ => Err("a measurement has either a date, or both a start (from) and an end (until)".to_owned()),
        }
    }

    pub fn start(self) -> NaiveDate {
        self.start
    }

    pub fn end(self) -> NaiveDate {
        self.end
    }
}

/// A measurement to record.
#[derive(Clone, Debug, PartialEq)]
pub struct NewMeasurement {
    pub indicator_id: i64,
    pub period: Period,
    pub value: f64,
    pub source: String,
    pub note: Option<String>,
}

/// Whether `value` can be a value of `indicator`; the message says why not.
pub fn check_value(indicator: &indicator::Model, value: f64) -> Result<(), String> {
    if !value.is_finite() {
        return Err(format!("{value} is not a number"));
    }
    if indicator.unit.trim() == "%" && !(0.0..=100.0).contains(&value) {
        return Err(format!("{value} is not a percentage between 0 and 100 (indicator `{}`)", indicator.key));
    }
    Ok(())
}

impl Engine {
    /// Records one measurement. A second value for the same indicator and period is refused:
    /// a correction is a change of the import file or a new period.
    #[tracing::instrument(skip(self, input), fields(indicator = input.indicator_id))]
    pub async fn record_measurement(&self, input: NewMeasurement) -> Result<measurement::Model> {
        let txn = crate::store::begin_write(self.db()).await?;
        let indicator = indicator::Entity::find_by_id(input.indicator_id).one(&txn).await?;
        let indicator = self.for_change(indicator, "indicator", input.indicator_id, crate::access::Change::Evidence)?;
        let row = self.record_measurement_in(&txn, &indicator, input).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// Records a measurement of `indicator` within the caller's transaction.
    pub(crate) async fn record_measurement_in(
        &self,
        txn: &DatabaseTransaction,
        indicator: &indicator::Model,
        input: NewMeasurement,
    ) -> Result<measurement::Model> {
        check_value(indicator, input.value).map_err(Error::Validation)?;
        let source = input.source.trim();
        if source.is_empty() {
            return Err(Error::Validation("a measurement needs its source (a toets, a survey, a count)".into()));
        }
        let taken = measurement::Entity::find()
            .filter(measurement::Column::IndicatorId.eq(indicator.id))
            .filter(measurement::Column::PeriodStart.eq(input.period.start))
            .filter(measurement::Column::PeriodEnd.eq(input.period.end))
            .one(txn)
            .await?;
        if taken.is_some() {
            return Err(Error::Validation(format!(
                "indicator `{}` already has a measurement for {} to {}",
                indicator.key, input.period.start, input.period.end
            )));
        }
        Ok(measurement::ActiveModel {
            indicator_id: Set(indicator.id),
            period_start: Set(input.period.start),
            period_end: Set(input.period.end),
            value: Set(input.value),
            source: Set(source.to_owned()),
            note: Set(input.note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty())),
            ..Default::default()
        }
        .insert(txn)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2022, 6, d).expect("date")
    }

    #[test]
    fn a_period_is_a_date_or_a_range() {
        assert_eq!(Period::parse(Some(date(1)), None, None), Ok(Period::day(date(1))));
        let range = Period::parse(None, Some(date(1)), Some(date(30))).expect("range");
        assert_eq!((range.start(), range.end()), (date(1), date(30)));
        assert!(Period::parse(None, Some(date(2)), Some(date(1))).expect_err("backwards").contains("before"));
        assert!(Period::parse(Some(date(1)), Some(date(1)), None).is_err());
        assert!(Period::parse(None, None, None).is_err());
    }
}
