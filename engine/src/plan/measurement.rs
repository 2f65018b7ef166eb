//! Recording measurements of indicators (kengetallen): a value for a date or a period,
//! with its source and an optional note.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use crate::Engine;
use crate::error::{Error, Result};
use crate::store::entity::{indicator, measurement};

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

impl NewMeasurement {
    /// The measurement as it is stored, after the checks that need only its indicator:
    /// a value the indicator's unit allows and a source; the note trimmed, empty as none.
    pub(crate) fn checked(self, indicator: &indicator::Model) -> Result<NewMeasurement> {
        check_value(indicator, self.value).map_err(Error::Validation)?;
        let source = self.source.trim();
        if source.is_empty() {
            return Err(Error::Validation("a measurement needs its source (a toets, a survey, a count)".into()));
        }
        Ok(NewMeasurement {
            source: source.to_owned(),
            note: self.note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()),
            ..self
        })
    }

    /// What makes two measurements the same: one value per indicator and period.
    pub(crate) fn key(&self) -> (i64, NaiveDate, NaiveDate) {
        (self.indicator_id, self.period.start, self.period.end)
    }
}

/// The measurements the store already holds for the (indicator, period) keys of `new`, by
/// key: one query for any number of measurements.
pub(crate) async fn taken<C: ConnectionTrait>(
    db: &C,
    new: &[NewMeasurement],
) -> Result<HashMap<(i64, NaiveDate, NaiveDate), measurement::Model>> {
    let (Some(first), Some(last)) =
        (new.iter().map(|m| m.period.start).min(), new.iter().map(|m| m.period.start).max())
    else {
        return Ok(HashMap::new());
    };
    let indicators: BTreeSet<i64> = new.iter().map(|m| m.indicator_id).collect();
    let wanted: HashSet<_> = new.iter().map(NewMeasurement::key).collect();
    let stored = measurement::Entity::find()
        .filter(measurement::Column::IndicatorId.is_in(indicators))
        .filter(measurement::Column::PeriodStart.between(first, last))
        .all(db)
        .await?;
    Ok(stored
        .into_iter()
        .map(|m| ((m.indicator_id, m.period_start, m.period_end), m))
        .filter(|(key, _)| wanted.contains(key))
        .collect())
}

impl NewMeasurement {
    /// Whether `stored` is this measurement: an import of the same file again changes nothing.
    pub(crate) fn is_stored_as(&self, stored: &measurement::Model) -> bool {
        self.key() == (stored.indicator_id, stored.period_start, stored.period_end)
            && self.value == stored.value
            && self.source == stored.source
            && self.note == stored.note
    }
}

/// Why a measurement is refused when its indicator and period already have one.
pub(crate) fn taken_message(indicator_key: &str, period: Period) -> String {
    format!("indicator `{indicator_key}` already has a measurement for {} to {}", period.start, period.end)
}

impl Engine {
    /// Records one measurement. A second value for the same indicator and period is refused:
    /// a correction is a change of the import file or a new period.
    #[tracing::instrument(skip(self, input), fields(indicator = input.indicator_id))]
    pub async fn record_measurement(&self, input: NewMeasurement) -> Result<measurement::Model> {
        let txn = crate::store::begin_write(self.db()).await?;
        let indicator = indicator::Entity::find_by_id(input.indicator_id).one(&txn).await?;
        let indicator = self.for_change(indicator, "indicator", input.indicator_id, crate::access::Change::Evidence)?;
        let new = input.checked(&indicator)?;
        let id = insert_measurements(&txn, std::slice::from_ref(&new))
            .await?
            .map_err(|_| Error::Validation(taken_message(&indicator.key, new.period)))?[0];
        txn.commit().await?;
        Ok(measurement::Model {
            id,
            indicator_id: new.indicator_id,
            period_start: new.period.start,
            period_end: new.period.end,
            value: new.value,
            source: new.source,
            note: new.note,
        })
    }
}

/// Writes checked measurements with one statement and answers their ids in order; or,
/// when the store already holds one of their indicator and period, writes nothing and
/// answers the index of the first such measurement.
pub(crate) async fn insert_measurements(
    txn: &DatabaseTransaction,
    new: &[NewMeasurement],
) -> Result<std::result::Result<Vec<i64>, usize>> {
    let taken = taken(txn, new).await?;
    if let Some(index) = new.iter().position(|m| taken.contains_key(&m.key())) {
        return Ok(Err(index));
    }
    let rows = new
        .iter()
        .map(|m| measurement::ActiveModel {
            indicator_id: Set(m.indicator_id),
            period_start: Set(m.period.start),
            period_end: Set(m.period.end),
            value: Set(m.value),
            source: Set(m.source.clone()),
            note: Set(m.note.clone()),
            ..Default::default()
        })
        .collect();
    Ok(Ok(crate::store::insert_ids(txn, rows).await?))
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
