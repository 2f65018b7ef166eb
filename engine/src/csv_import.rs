//! Import of the evidence people keep in spreadsheets: measurements, scan scores and
//! coaching hours, from CSV (format: `workflows/README.md`, examples in
//! `workflows/examples/`).
//!
//! A file is checked completely before anything counts: every bad row is reported with
//! its line, its column and why, and when any row is bad nothing of the file is written.
//! Comma- and semicolon-separated files are both read (Dutch spreadsheets write `;`),
//! dates as `2026-03-01` or `1-3-2026`, and decimals with a point or a comma.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use crate::Engine;
use crate::coaching::{Hours, NewCoachingEntry};
use crate::cycle::CycleEventRecord;
use crate::domain::CoachingKind;
use crate::entity::{groep, indicator, kindcentrum, locatie, professional};
use crate::error::{Error, Result};
use crate::measurement::{NewMeasurement, Period};
use crate::scan::{ChildCode, LeuvenScore, NewScan, NewScore, Technique};

/// What a CSV file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvKind {
    Measurements,
    Scans,
    Coaching,
}

impl CsvKind {
    /// The columns a file of this kind may have; the required ones first.
    fn columns(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            CsvKind::Measurements => (&["indicator", "value", "source"], &["date", "from", "until", "note"]),
            CsvKind::Scans => {
                (&["kindcentrum", "locatie", "groep", "date", "welbevinden", "betrokkenheid"], &["child", "note"])
            }
            CsvKind::Coaching => (&["coach", "date", "hours", "kind"], &["coachees", "kindcentrum", "locatie", "note"]),
        }
    }
}

impl FromStr for CsvKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "measurements" => Ok(CsvKind::Measurements),
            "scans" => Ok(CsvKind::Scans),
            "coaching" => Ok(CsvKind::Coaching),
            other => Err(format!("`{other}` is not a kind of CSV file: measurements, scans or coaching")),
        }
    }
}

/// One bad row: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    /// The column, when one is to blame.
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "line {}, column `{column}`: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// A rejected CSV file; nothing of it was written.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {} bad row(s), nothing imported\n{}", errors.len(), errors.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
pub struct CsvRejected {
    pub file: String,
    pub errors: Vec<RowError>,
}

/// What an import wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvReport {
    /// Data rows read.
    pub rows: usize,
    /// Measurements, scans or coaching entries written.
    pub created: usize,
}

/// One data row with its header, for reading cells by column name.
struct Row<'a> {
    line: u64,
    record: &'a csv::StringRecord,
    header: &'a HashMap<String, usize>,
}

impl Row<'_> {
    fn error(&self, column: &str, message: impl Into<String>) -> RowError {
        RowError { line: self.line, column: Some(column.to_owned()), message: message.into() }
    }

    /// The trimmed cell; None when the column is absent or the cell empty.
    fn get(&self, column: &str) -> Option<&str> {
        let cell = self.record.get(*self.header.get(column)?)?.trim();
        (!cell.is_empty()).then_some(cell)
    }

    fn required(&self, column: &str) -> Result<&str, RowError> {
        self.get(column).ok_or_else(|| self.error(column, "is empty"))
    }

    /// A date as `2026-03-01` or `1-3-2026`. The year has at most four digits, as in an
    /// import file: chrono also reads `+262142-12-31`, which PostgreSQL cannot store.
    fn date(&self, column: &str) -> Result<Option<NaiveDate>, RowError> {
        self.get(column)
            .map(|cell| {
                NaiveDate::parse_from_str(cell, "%Y-%m-%d")
                    .or_else(|_| NaiveDate::parse_from_str(cell, "%d-%m-%Y"))
                    .ok()
                    .filter(|date| (0..=9999).contains(&date.year()))
                    .ok_or_else(|| self.error(column, format!("`{cell}` is not a date; write 2026-03-01 or 1-3-2026")))
            })
            .transpose()
    }

    fn number(&self, column: &str) -> Result<f64, RowError> {
        let cell = self.required(column)?;
        decimal(cell).filter(|v| v.is_finite()).ok_or_else(|| self.error(column, format!("`{cell}` is not a number")))
    }

    fn parse<T: FromStr<Err = E>, E: fmt::Display>(&self, column: &str) -> Result<T, RowError> {
        let cell = self.required(column)?;
        cell.parse().map_err(|e: E| self.error(column, e.to_string()))
    }
}

/// A number with a decimal point or a decimal comma.
fn decimal(cell: &str) -> Option<f64> {
    cell.parse().ok().or_else(|| cell.replace(',', ".").parse().ok())
}

/// Dutch spreadsheets separate with `;`: take it when the header has no comma.
fn delimiter(source: &str) -> u8 {
    let header = source.lines().next().unwrap_or_default();
    if header.contains(';') && !header.contains(',') { b';' } else { b',' }
}

/// A file read: the column of each name, and the non-empty data rows with their lines.
#[derive(Debug)]
struct Table {
    header: HashMap<String, usize>,
    rows: Vec<(u64, csv::StringRecord)>,
}

/// The rows of a file, after checking its header; or the errors of the header.
fn read(kind: CsvKind, source: &str) -> Result<Table, Vec<RowError>> {
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter(source)).trim(csv::Trim::All).from_reader(source.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| vec![RowError { line: 1, column: None, message: format!("cannot read the header: {e}") }])?
        .clone();
    let (required, optional) = kind.columns();
    let mut header = HashMap::new();
    let mut errors = Vec::new();
    for (i, name) in headers.iter().enumerate() {
        let name = name.trim().trim_start_matches('\u{feff}').to_lowercase();
        if !required.contains(&name.as_str()) && !optional.contains(&name.as_str()) {
            errors.push(RowError {
                line: 1,
                column: Some(name.clone()),
                message: format!("unknown column; the columns are: {}", [required, optional].concat().join(", ")),
            });
        } else if header.insert(name.clone(), i).is_some() {
            errors.push(RowError { line: 1, column: Some(name), message: "appears twice".into() });
        }
    }
    for name in required.iter().filter(|n| !header.contains_key(**n)) {
        errors.push(RowError {
            line: 1,
            column: Some((*name).to_owned()),
            message: "required column is missing".into(),
        });
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line());
                // No store keeps a NUL in text (PostgreSQL refuses it): say where it is.
                if let Some(i) = record.iter().position(|cell| cell.contains('\0')) {
                    let column = headers.get(i).map(|h| h.trim().to_lowercase());
                    errors.push(RowError { line, column, message: "holds a NUL character (\\0)".into() });
                } else if record.iter().any(|cell| !cell.trim().is_empty()) {
                    rows.push((line, record));
                }
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError { line, column: None, message: format!("cannot read the row: {e}") });
            }
        }
    }
    if errors.is_empty() { Ok(Table { header, rows }) } else { Err(errors) }
}

/// A refusal of the engine for the rows starting at `line`; other errors stop the import.
fn refusal(line: u64, error: Error) -> Result<RowError> {
    match error {
        Error::Validation(message) | Error::InvalidTransition(message) => Ok(RowError { line, column: None, message }),
        Error::NotFound { what, id } => Ok(RowError { line, column: None, message: format!("{what} {id} not found") }),
        other => Err(other),
    }
}

impl Engine {
    /// Imports one CSV file of `kind`, all or nothing; `file` names it in errors.
    #[tracing::instrument(skip(self, source), fields(file = file))]
    pub async fn import_csv(&self, actor: &str, kind: CsvKind, file: &str, source: &str) -> Result<CsvReport> {
        let reject = |errors: Vec<RowError>| Error::Csv(CsvRejected { file: file.to_owned(), errors });
        let table = read(kind, source).map_err(reject)?;
        let rows: Vec<Row<'_>> =
            table.rows.iter().map(|(line, record)| Row { line: *line, record, header: &table.header }).collect();
        if rows.is_empty() {
            return Err(reject(vec![RowError { line: 2, column: None, message: "the file has no rows".into() }]));
        }
        let txn = crate::store::begin_write(self.db()).await?;
        let mut events = Vec::new();
        let (created, mut errors) = match kind {
            CsvKind::Measurements => self.csv_measurements(&txn, &rows).await?,
            CsvKind::Scans => self.csv_scans(&txn, actor, &rows, &mut events).await?,
            CsvKind::Coaching => self.csv_coaching(&txn, actor, &rows).await?,
        };
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            // Dropping the transaction rolls back what was written before the bad row.
            return Err(reject(errors));
        }
        txn.commit().await?;
        for event in events {
            self.publish(event);
        }
        let report = CsvReport { rows: rows.len(), created };
        tracing::info!(?report, "csv imported");
        Ok(report)
    }

    async fn csv_measurements(&self, txn: &DatabaseTransaction, rows: &[Row<'_>]) -> Result<(usize, Vec<RowError>)> {
        let keys: HashSet<&str> = rows.iter().filter_map(|r| r.get("indicator")).collect();
        let indicators: HashMap<String, indicator::Model> = indicator::Entity::find()
            .filter(indicator::Column::Key.is_in(keys))
            .all(txn)
            .await?
            .into_iter()
            .map(|i| (i.key.clone(), i))
            .collect();
        let mut parsed = Vec::new();
        let mut errors = Vec::new();
        for row in rows {
            let measurement = (|| {
                let key = row.required("indicator")?;
                let indicator =
                    indicators.get(key).ok_or_else(|| row.error("indicator", format!("unknown indicator `{key}`")))?;
                let period = Period::parse(row.date("date")?, row.date("from")?, row.date("until")?)
                    .map_err(|m| row.error(if row.get("date").is_some() { "date" } else { "until" }, m))?;
                let new = NewMeasurement {
                    indicator_id: indicator.id,
                    period,
                    value: row.number("value")?,
                    source: row.required("source")?.to_owned(),
                    note: row.get("note").map(str::to_owned),
                };
                Ok::<_, RowError>((indicator, new))
            })();
            match measurement {
                Ok(m) => parsed.push((row.line, m)),
                Err(e) => errors.push(e),
            }
        }
        let mut created = 0;
        for (line, (indicator, new)) in parsed {
            match self.record_measurement_in(txn, indicator, new).await {
                Ok(_) => created += 1,
                Err(e) => errors.push(refusal(line, e)?),
            }
        }
        Ok((created, errors))
    }

    /// Locaties by (kindcentrum key, locatie key), for the kindcentra named in the rows.
    async fn csv_locaties(
        &self,
        txn: &DatabaseTransaction,
        rows: &[Row<'_>],
    ) -> Result<(HashSet<String>, HashMap<(String, String), locatie::Model>)> {
        let keys: HashSet<&str> = rows.iter().filter_map(|r| r.get("kindcentrum")).collect();
        let kindcentra = kindcentrum::Entity::find().filter(kindcentrum::Column::Key.is_in(keys)).all(txn).await?;
        let key_of: HashMap<i64, String> = kindcentra.iter().map(|k| (k.id, k.key.clone())).collect();
        let locaties = locatie::Entity::find()
            .filter(locatie::Column::KindcentrumId.is_in(key_of.keys().copied()))
            .all(txn)
            .await?
            .into_iter()
            .filter_map(|l| Some(((key_of.get(&l.kindcentrum_id)?.clone(), l.key.clone()), l)))
            .collect();
        Ok((key_of.into_values().collect(), locaties))
    }

    /// The locatie a row names with `kindcentrum` and `locatie`, if it names one.
    fn csv_locatie<'m>(
        row: &Row<'_>,
        kindcentra: &HashSet<String>,
        locaties: &'m HashMap<(String, String), locatie::Model>,
        required: bool,
    ) -> Result<Option<&'m locatie::Model>, RowError> {
        let (kc, loc) = match (row.get("kindcentrum"), row.get("locatie"), required) {
            (None, None, false) => return Ok(None),
            (Some(kc), Some(loc), _) => (kc, loc),
            (None, _, _) => return Err(row.error("kindcentrum", "is empty")),
            (Some(_), None, _) => return Err(row.error("locatie", "is empty")),
        };
        if !kindcentra.contains(kc) {
            return Err(row.error("kindcentrum", format!("unknown kindcentrum `{kc}`")));
        }
        locaties
            .get(&(kc.to_owned(), loc.to_owned()))
            .map(Some)
            .ok_or_else(|| row.error("locatie", format!("kindcentrum `{kc}` has no locatie `{loc}`")))
    }

    async fn csv_scans(
        &self,
        txn: &DatabaseTransaction,
        actor: &str,
        rows: &[Row<'_>],
        events: &mut Vec<CycleEventRecord>,
    ) -> Result<(usize, Vec<RowError>)> {
        let (kindcentra, locaties) = self.csv_locaties(txn, rows).await?;
        let groepen: HashMap<(i64, String), groep::Model> = groep::Entity::find()
            .filter(groep::Column::LocatieId.is_in(locaties.values().map(|l| l.id)))
            .all(txn)
            .await?
            .into_iter()
            .map(|g| ((g.locatie_id, g.key.clone()), g))
            .collect();
        // The rows of one groep and quarter are one scan, written at its first line.
        let mut scans: BTreeMap<(i64, i32, u32), PendingScan> = BTreeMap::new();
        let mut errors = Vec::new();
        for row in rows {
            let parsed = (|| {
                let locatie = Self::csv_locatie(row, &kindcentra, &locaties, true)?
                    .ok_or_else(|| row.error("locatie", "is empty"))?;
                let key = row.required("groep")?;
                let groep = groepen
                    .get(&(locatie.id, key.to_owned()))
                    .ok_or_else(|| row.error("groep", format!("locatie `{}` has no groep `{key}`", locatie.key)))?;
                let date = row.date("date")?.ok_or_else(|| row.error("date", "is empty"))?;
                let child = row
                    .get("child")
                    .map(|c| c.parse::<ChildCode>().map_err(|e| row.error("child", e.to_string())))
                    .transpose()?;
                let score = NewScore {
                    child_code: child,
                    welbevinden: row.parse::<LeuvenScore, _>("welbevinden")?,
                    betrokkenheid: row.parse::<LeuvenScore, _>("betrokkenheid")?,
                };
                Ok::<_, RowError>((groep.id, date, score))
            })();
            let (groep_id, date, score) = match parsed {
                Ok(parsed) => parsed,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let quarter = (date.month() - 1) / 3 + 1;
            let PendingScan { scan, children, .. } =
                scans.entry((groep_id, date.year(), quarter)).or_insert_with(|| {
                    let technique = if score.child_code.is_some() { Technique::Kind } else { Technique::Groep };
                    let scan = NewScan { groep_id, scanned_on: date, technique, scores: Vec::new(), note: None };
                    PendingScan { line: row.line, scan, children: HashMap::new() }
                });
            let expected = if scan.technique == Technique::Kind { score.child_code.is_some() } else { false };
            if !expected {
                errors.push(row.error(
                    "child",
                    "a scan has either a score per child (every row a child code) or one score for the whole groep",
                ));
                continue;
            }
            if let Some(code) = &score.child_code
                && let Some(first) = children.insert(code.to_string(), row.line)
            {
                errors.push(
                    row.error("child", format!("child `{code}` is scored twice in this scan (also on line {first})")),
                );
                continue;
            }
            scan.scanned_on = scan.scanned_on.min(date);
            if let Some(note) = row.get("note") {
                scan.note = Some(note.to_owned());
            }
            scan.scores.push(score);
        }
        let mut created = 0;
        for PendingScan { line, scan, .. } in scans.into_values() {
            match self.record_scan_in(txn, actor, scan).await {
                Ok((_, records)) => {
                    created += 1;
                    events.extend(records);
                }
                Err(e) => errors.push(refusal(line, e)?),
            }
        }
        Ok((created, errors))
    }

    async fn csv_coaching(
        &self,
        txn: &DatabaseTransaction,
        actor: &str,
        rows: &[Row<'_>],
    ) -> Result<(usize, Vec<RowError>)> {
        let (kindcentra, locaties) = self.csv_locaties(txn, rows).await?;
        let mut keys: HashSet<&str> = rows.iter().filter_map(|r| r.get("coach")).collect();
        keys.extend(rows.iter().filter_map(|r| r.get("coachees")).flat_map(split_keys));
        let professionals: HashMap<String, i64> = professional::Entity::find()
            .filter(professional::Column::Key.is_in(keys))
            .all(txn)
            .await?
            .into_iter()
            .map(|p| (p.key, p.id))
            .collect();
        let mut parsed = Vec::new();
        let mut errors = Vec::new();
        for row in rows {
            let entry = (|| {
                let professional = |column: &str, key: &str| {
                    professionals
                        .get(key)
                        .copied()
                        .ok_or_else(|| row.error(column, format!("unknown professional `{key}`")))
                };
                let coach = professional("coach", row.required("coach")?)?;
                let coachees = row
                    .get("coachees")
                    .map(|cell| {
                        split_keys(cell).map(|key| professional("coachees", key)).collect::<Result<Vec<_>, _>>()
                    })
                    .transpose()?
                    .unwrap_or_default();
                let kind = row.required("kind")?;
                let kind = coaching_kind(kind).ok_or_else(|| {
                    row.error("kind", format!("`{kind}` is not a kind: coaching-individueel, coaching-team or beleid"))
                })?;
                Ok::<_, RowError>(NewCoachingEntry {
                    coach_id: coach,
                    date: row.date("date")?.ok_or_else(|| row.error("date", "is empty"))?,
                    hours: row.parse::<Hours, _>("hours")?,
                    kind,
                    coachees,
                    locatie_id: Self::csv_locatie(row, &kindcentra, &locaties, false)?.map(|l| l.id),
                    note: row.get("note").map(str::to_owned),
                })
            })();
            match entry {
                Ok(entry) => parsed.push((row.line, entry)),
                Err(e) => errors.push(e),
            }
        }
        let mut created = 0;
        for (line, entry) in parsed {
            match self.log_coaching_in(txn, actor, entry).await {
                Ok(_) => created += 1,
                Err(e) => errors.push(refusal(line, e)?),
            }
        }
        Ok((created, errors))
    }
}

/// The rows of one groep and quarter: one scan, reported at its first line.
struct PendingScan {
    line: u64,
    scan: NewScan,
    /// The line of each child code seen.
    children: HashMap<String, u64>,
}

/// Professional keys in one cell, separated by spaces, commas, semicolons or bars.
fn split_keys(cell: &str) -> impl Iterator<Item = &str> {
    cell.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '|')).filter(|k| !k.is_empty())
}

/// A kind of coaching hours as written in a spreadsheet: `coaching-team`, `Coaching team`.
fn coaching_kind(cell: &str) -> Option<CoachingKind> {
    match cell.to_lowercase().replace([' ', '_'], "-").as_str() {
        "coaching-individueel" | "individueel" => Some(CoachingKind::CoachingIndividueel),
        "coaching-team" | "team" => Some(CoachingKind::CoachingTeam),
        "beleid" => Some(CoachingKind::Beleid),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_and_delimiters_as_spreadsheets_write_them() {
        assert_eq!(decimal("79,5"), Some(79.5));
        assert_eq!(decimal("79.5"), Some(79.5));
        assert_eq!(decimal("zeventig"), None);
        assert_eq!(delimiter("indicator;date;value\n"), b';');
        assert_eq!(delimiter("indicator,date,value\n"), b',');
        assert_eq!(split_keys("w-h; s-d |l-s").collect::<Vec<_>>(), ["w-h", "s-d", "l-s"]);
        assert_eq!(coaching_kind("Coaching team"), Some(CoachingKind::CoachingTeam));
    }

    #[test]
    fn an_unknown_or_missing_column_is_named() {
        let errors = read(CsvKind::Measurements, "indicator,waarde,source\nx,1,y\n").expect_err("bad header");
        let columns: Vec<_> = errors.iter().filter_map(|e| e.column.as_deref()).collect();
        assert_eq!(columns, ["waarde", "value"]);
    }
}
