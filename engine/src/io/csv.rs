//! Import of the evidence people keep in spreadsheets: measurements, scan scores and
//! coaching hours, from CSV (format: `workflows/README.md`, examples in
//! `workflows/examples/`).
//!
//! A file is checked completely before anything counts: every bad row is reported with
//! its line, its column and why, and when any row is bad nothing of the file is written.
//! Comma- and semicolon-separated files are both read (Dutch spreadsheets write `;`),
//! dates as `2026-03-01` or `1-3-2026`, and decimals with a point or a comma.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityName, EntityTrait, IdenStatic, QueryFilter};

use crate::Engine;
use crate::domain::CoachingKind;
use crate::error::{CsvRejected, RowError};
use crate::error::{Error, Result};
use crate::evidence::coaching::{Hours, Logged, NewCoachingEntry};
use crate::evidence::scan::{
    ChildCode, LeuvenScore, NewScan, NewScore, Quarter, Technique, check_scores, scanned_quarters,
};
use crate::plan::measurement::{NewMeasurement, Period, insert_measurements, taken_message};
use crate::store::entity::{
    coaching_coachee, coaching_entry, groep, indicator, kindcentrum, locatie, measurement, professional,
};

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

/// What an import wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvReport {
    /// Data rows read.
    pub rows: usize,
    /// Measurements, scans or coaching entries written.
    pub created: usize,
    /// Measurements or coaching entries of the file that were stored already, as they are
    /// in the file: importing a file again changes nothing.
    pub unchanged: usize,
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

/// Rows an import writes per transaction. Each transaction holds SQLite's write lock for
/// milliseconds, so that the server's writers beside a long import wait their turn briefly
/// instead of for the whole file.
const ROWS_PER_TRANSACTION: usize = 1_000;

/// Coaching entries written per transaction: each is checked against the store as it is
/// written (coach, houder, coachees), a few statements each.
const ENTRIES_PER_TRANSACTION: usize = 100;

/// Scans written per transaction: each moves its groep's cycle as well.
const SCANS_PER_TRANSACTION: usize = 20;

/// What an import came to: what it wrote, or every bad row.
type Outcome = std::result::Result<Written, Vec<RowError>>;

/// The records an import wrote, and those of its rows that were stored already.
struct Written {
    created: usize,
    unchanged: usize,
}

impl Engine {
    /// Imports one CSV file of `kind`, all or nothing; `file` names it in errors.
    ///
    /// The whole file is checked before anything is written, reading without the write
    /// lock, and then written in transactions of bounded size, so that a server working
    /// on the same database keeps answering while a large file goes in. When the store
    /// refuses a row while writing (another writer got there between the check and the
    /// write), what the import already wrote is removed again.
    #[tracing::instrument(skip(self, source), fields(file = file))]
    pub async fn import_csv(&self, actor: &str, kind: CsvKind, file: &str, source: &str) -> Result<CsvReport> {
        let reject = |errors: Vec<RowError>| Error::Csv(CsvRejected { file: file.to_owned(), errors });
        let table = read(kind, source).map_err(reject)?;
        let rows: Vec<Row<'_>> =
            table.rows.iter().map(|(line, record)| Row { line: *line, record, header: &table.header }).collect();
        if rows.is_empty() {
            return Err(reject(vec![RowError { line: 2, column: None, message: "the file has no rows".into() }]));
        }
        let outcome = match kind {
            CsvKind::Measurements => self.csv_measurements(&rows).await?,
            CsvKind::Scans => self.csv_scans(actor, &rows).await?,
            CsvKind::Coaching => self.csv_coaching(actor, &rows).await?,
        };
        let Written { created, unchanged } = outcome.map_err(|mut errors| {
            errors.sort_by_key(|e| e.line);
            reject(errors)
        })?;
        let report = CsvReport { rows: rows.len(), created, unchanged };
        tracing::info!(?report, "csv imported");
        Ok(report)
    }

    async fn csv_measurements(&self, rows: &[Row<'_>]) -> Result<Outcome> {
        let keys: HashSet<&str> = rows.iter().filter_map(|r| r.get("indicator")).collect();
        let indicators: HashMap<String, indicator::Model> = indicator::Entity::find()
            .filter(indicator::Column::Key.is_in(keys))
            .all(self.db())
            .await?
            .into_iter()
            .map(|i| (i.key.clone(), i))
            .collect();
        let mut parsed = Vec::new();
        let mut errors = Vec::new();
        let mut seen = HashMap::new();
        for row in rows {
            let mut bad = Vec::new();
            let indicator = keep(
                &mut bad,
                row.required("indicator").and_then(|key| {
                    indicators.get(key).ok_or_else(|| row.error("indicator", format!("unknown indicator `{key}`")))
                }),
            );
            let dates =
                (keep(&mut bad, row.date("date")), keep(&mut bad, row.date("from")), keep(&mut bad, row.date("until")));
            let period = match dates {
                (Some(date), Some(from), Some(until)) => keep(
                    &mut bad,
                    Period::parse(date, from, until)
                        .map_err(|m| row.error(if date.is_some() { "date" } else { "until" }, m)),
                ),
                _ => None,
            };
            let value = keep(&mut bad, row.number("value"));
            let source = keep(&mut bad, row.required("source"));
            let measurement = match (indicator, period, value, source) {
                (Some(indicator), Some(period), Some(value), Some(source)) if bad.is_empty() => {
                    let note = row.get("note").map(str::to_owned);
                    let new =
                        NewMeasurement { indicator_id: indicator.id, period, value, source: source.to_owned(), note };
                    Ok((indicator, new))
                }
                _ => Err(bad),
            };
            let checked = match measurement {
                Ok((indicator, new)) => new.checked(indicator).map(|new| (indicator, new)),
                Err(bad) => {
                    errors.extend(bad);
                    continue;
                }
            };
            match checked {
                Ok((indicator, new)) => {
                    if let Some(first) = seen.insert(new.key(), row.line) {
                        errors.push(RowError {
                            line: row.line,
                            column: None,
                            message: format!(
                                "{} (on line {first} of this file)",
                                taken_message(&indicator.key, new.period)
                            ),
                        });
                    } else {
                        parsed.push((row.line, indicator, new));
                    }
                }
                Err(e) => errors.push(refusal(row.line, e)?),
            }
        }
        let news: Vec<NewMeasurement> = parsed.iter().map(|(_, _, new)| new.clone()).collect();
        let taken = crate::plan::measurement::taken(self.db(), &news).await?;
        let mut unchanged = 0;
        parsed.retain(|(line, indicator, new)| match taken.get(&new.key()) {
            None => true,
            Some(stored) if new.is_stored_as(stored) => {
                unchanged += 1;
                false
            }
            Some(_) => {
                errors.push(RowError { line: *line, column: None, message: taken_message(&indicator.key, new.period) });
                false
            }
        });
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let news: Vec<NewMeasurement> = parsed.iter().map(|(_, _, new)| new.clone()).collect();
        let mut written = Vec::new();
        for (chunk, news) in parsed.chunks(ROWS_PER_TRANSACTION).zip(news.chunks(ROWS_PER_TRANSACTION)) {
            let attempt = async {
                let txn = crate::store::begin_write(self.db()).await?;
                let ids = insert_measurements(&txn, news).await?;
                if ids.is_ok() {
                    txn.commit().await?;
                }
                Ok::<_, Error>(ids)
            };
            match attempt.await {
                Ok(Ok(ids)) => written.extend(ids),
                outcome => {
                    self.undo_import(&written, &[(measurement::Entity.table_name(), measurement::Column::Id.as_str())])
                        .await;
                    let index = outcome?.err().unwrap_or_default();
                    let (line, indicator, new) = &chunk[index];
                    return Ok(Err(vec![RowError {
                        line: *line,
                        column: None,
                        message: taken_message(&indicator.key, new.period),
                    }]));
                }
            }
        }
        Ok(Ok(Written { created: written.len(), unchanged }))
    }

    /// Removes what an import wrote before the store refused a later part of it: the rows
    /// with these ids, from each (table, id column) in turn. A failure is logged: the
    /// import's own error is what its caller needs to read.
    async fn undo_import(&self, ids: &[i64], tables: &[(&str, &str)]) {
        if ids.is_empty() {
            return;
        }
        let undo = async {
            let txn = crate::store::begin_write(self.db()).await?;
            for chunk in ids.chunks(ROWS_PER_TRANSACTION) {
                for (table, column) in tables {
                    let delete = Query::delete()
                        .from_table(Alias::new(*table))
                        .and_where(sea_orm::sea_query::ExprTrait::is_in(
                            Expr::col(Alias::new(*column)),
                            chunk.iter().copied(),
                        ))
                        .to_owned();
                    txn.execute(&delete).await?;
                }
            }
            txn.commit().await?;
            Ok::<_, Error>(())
        };
        match undo.await {
            Ok(()) => tracing::warn!(rows = ids.len(), "import refused while writing; what it wrote was removed"),
            Err(error) => {
                tracing::error!(%error, ids = ?ids, "import refused while writing; removing what it wrote failed")
            }
        }
    }

    /// Locaties by (kindcentrum key, locatie key), for the kindcentra named in the rows.
    async fn csv_locaties(
        &self,
        rows: &[Row<'_>],
    ) -> Result<(HashSet<String>, HashMap<(String, String), locatie::Model>)> {
        let keys: HashSet<&str> = rows.iter().filter_map(|r| r.get("kindcentrum")).collect();
        let kindcentra =
            kindcentrum::Entity::find().filter(kindcentrum::Column::Key.is_in(keys)).all(self.db()).await?;
        let key_of: HashMap<i64, String> = kindcentra.iter().map(|k| (k.id, k.key.clone())).collect();
        let locaties = locatie::Entity::find()
            .filter(locatie::Column::KindcentrumId.is_in(key_of.keys().copied()))
            .all(self.db())
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

    async fn csv_scans(&self, actor: &str, rows: &[Row<'_>]) -> Result<Outcome> {
        let (kindcentra, locaties) = self.csv_locaties(rows).await?;
        let groepen: HashMap<(i64, String), groep::Model> = groep::Entity::find()
            .filter(groep::Column::LocatieId.is_in(locaties.values().map(|l| l.id)))
            .all(self.db())
            .await?
            .into_iter()
            .map(|g| ((g.locatie_id, g.key.clone()), g))
            .collect();
        // The rows of one groep and quarter are one scan, written at its first line.
        let mut scans: BTreeMap<(i64, Quarter), PendingScan> = BTreeMap::new();
        let mut errors = Vec::new();
        for row in rows {
            let mut bad = Vec::new();
            let locatie = keep(
                &mut bad,
                Self::csv_locatie(row, &kindcentra, &locaties, true)
                    .and_then(|l| l.ok_or_else(|| row.error("locatie", "is empty"))),
            );
            let groep = locatie.and_then(|locatie| {
                keep(
                    &mut bad,
                    row.required("groep").and_then(|key| {
                        groepen.get(&(locatie.id, key.to_owned())).ok_or_else(|| {
                            row.error("groep", format!("locatie `{}` has no groep `{key}`", locatie.key))
                        })
                    }),
                )
            });
            let date = keep(&mut bad, row.date("date").and_then(|d| d.ok_or_else(|| row.error("date", "is empty"))));
            let child = keep(
                &mut bad,
                row.get("child")
                    .map(|c| c.parse::<ChildCode>().map_err(|e| row.error("child", e.to_string())))
                    .transpose(),
            );
            let welbevinden = keep(&mut bad, row.parse::<LeuvenScore, _>("welbevinden"));
            let betrokkenheid = keep(&mut bad, row.parse::<LeuvenScore, _>("betrokkenheid"));
            let (groep_id, date, score) = match (groep, date, child, welbevinden, betrokkenheid) {
                (Some(groep), Some(date), Some(child_code), Some(welbevinden), Some(betrokkenheid))
                    if bad.is_empty() =>
                {
                    (groep.id, date, NewScore { child_code, welbevinden, betrokkenheid })
                }
                _ => {
                    errors.extend(bad);
                    continue;
                }
            };
            let PendingScan { scan, children, .. } =
                scans.entry((groep_id, Quarter::containing(date))).or_insert_with(|| {
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
        let scans: Vec<PendingScan> = scans.into_values().collect();
        for pending in &scans {
            if let Err(e) = check_scores(pending.scan.technique, &pending.scan.scores) {
                errors.push(refusal(pending.line, e)?);
            }
        }
        let recorded = scanned_quarters(self.db(), scans.iter().map(|p| p.scan.groep_id)).await?;
        for pending in &scans {
            let quarter = Quarter::containing(pending.scan.scanned_on);
            if recorded.contains(&(pending.scan.groep_id, quarter)) {
                errors.push(RowError {
                    line: pending.line,
                    column: None,
                    message: format!("the groep already has a scan for {quarter}; one scan per groep per quarter"),
                });
            }
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        // A scan moves its groep's cycle, which another writer may move too: what was
        // recorded stays recorded (its events are out), and the error says so.
        let mut created = 0;
        for chunk in scans.chunks(SCANS_PER_TRANSACTION) {
            let txn = crate::store::begin_write(self.db()).await?;
            let mut events = Vec::new();
            for PendingScan { line, scan, .. } in chunk {
                match self.record_scan_in(&txn, actor, scan.clone()).await {
                    Ok((_, records)) => events.extend(records),
                    Err(e) => {
                        let mut error = refusal(*line, e)?;
                        if created > 0 {
                            error.message.push_str(&format!(
                                "; the {created} scan(s) of the lines before were recorded: remove them from the file before importing the rest"
                            ));
                        }
                        return Ok(Err(vec![error]));
                    }
                }
            }
            txn.commit().await?;
            created += chunk.len();
            for event in events {
                self.publish(event);
            }
        }
        Ok(Ok(Written { created, unchanged: 0 }))
    }

    async fn csv_coaching(&self, actor: &str, rows: &[Row<'_>]) -> Result<Outcome> {
        let (kindcentra, locaties) = self.csv_locaties(rows).await?;
        let mut keys: HashSet<&str> = rows.iter().filter_map(|r| r.get("coach")).collect();
        keys.extend(rows.iter().filter_map(|r| r.get("coachees")).flat_map(split_keys));
        let professionals: HashMap<String, i64> = professional::Entity::find()
            .filter(professional::Column::Key.is_in(keys))
            .all(self.db())
            .await?
            .into_iter()
            .map(|p| (p.key, p.id))
            .collect();
        let mut parsed = Vec::new();
        let mut errors = Vec::new();
        // Each entry by what makes two the same, with its line.
        let mut entries: HashMap<SameEntry, u64> = HashMap::new();
        for row in rows {
            let professional = |column: &str, key: &str| {
                professionals
                    .get(key)
                    .copied()
                    .ok_or_else(|| row.error(column, format!("unknown professional `{key}`")))
            };
            let mut bad = Vec::new();
            let coach = keep(&mut bad, row.required("coach").and_then(|key| professional("coach", key)));
            let coachees = match row.get("coachees") {
                Some(cell) => split_keys(cell).map(|key| keep(&mut bad, professional("coachees", key))).collect(),
                None => Some(Vec::new()),
            };
            let kind = keep(
                &mut bad,
                row.required("kind").and_then(|kind| {
                    coaching_kind(kind).ok_or_else(|| {
                        row.error(
                            "kind",
                            format!("`{kind}` is not a kind: coaching-individueel, coaching-team or beleid"),
                        )
                    })
                }),
            );
            let date = keep(&mut bad, row.date("date").and_then(|d| d.ok_or_else(|| row.error("date", "is empty"))));
            let hours = keep(&mut bad, row.parse::<Hours, _>("hours"));
            let locatie = keep(&mut bad, Self::csv_locatie(row, &kindcentra, &locaties, false));
            match (coach, coachees, kind, date, hours, locatie) {
                (Some(coach_id), Some(coachees), Some(kind), Some(date), Some(hours), Some(locatie))
                    if bad.is_empty() =>
                {
                    let locatie_id = locatie.map(|l| l.id);
                    let same =
                        (coach_id, date, kind, hours.get().to_bits(), locatie_id, coachees.iter().copied().collect());
                    if let Some(first) = entries.insert(same, row.line) {
                        errors.push(RowError {
                            line: row.line,
                            column: None,
                            message: format!("the same hours as on line {first} (coach, date, kind, hours, locatie and coachees): log them once"),
                        });
                        continue;
                    }
                    let note = row.get("note").map(str::to_owned);
                    parsed
                        .push((row.line, NewCoachingEntry { coach_id, date, hours, kind, coachees, locatie_id, note }));
                }
                _ => errors.extend(bad),
            }
        }
        // The store's checks of each entry (coach, houder, coachees) run as it is written:
        // every chunk is tried, so that all refusals are reported, and committed only while
        // nothing was refused; a refusal removes what earlier chunks wrote.
        let mut written = Vec::new();
        let mut unchanged = 0;
        let attempt = async {
            for chunk in parsed.chunks(ENTRIES_PER_TRANSACTION) {
                let txn = crate::store::begin_write(self.db()).await?;
                let mut ids = Vec::new();
                for (line, entry) in chunk {
                    match self.log_coaching_in(&txn, actor, entry.clone()).await {
                        Ok(Logged::New(row)) => ids.push(row.id),
                        Ok(Logged::Already(_)) => unchanged += 1,
                        Err(e) => errors.push(refusal(*line, e)?),
                    }
                }
                if errors.is_empty() {
                    txn.commit().await?;
                    written.extend(ids);
                }
            }
            Ok::<_, Error>(())
        };
        let attempt = attempt.await;
        if attempt.is_err() || !errors.is_empty() {
            self.undo_import(
                &written,
                &[
                    (coaching_coachee::Entity.table_name(), coaching_coachee::Column::CoachingEntryId.as_str()),
                    (coaching_entry::Entity.table_name(), coaching_entry::Column::Id.as_str()),
                ],
            )
            .await;
        }
        attempt?;
        Ok(if errors.is_empty() { Ok(Written { created: written.len(), unchanged }) } else { Err(errors) })
    }
}

/// What makes two coaching entries the same hours: coach, date, kind, hours (as bits),
/// locatie and coachees.
type SameEntry = (i64, NaiveDate, CoachingKind, u64, Option<i64>, BTreeSet<i64>);

/// The value of a cell read, or None with its error kept: a row reports every bad cell.
fn keep<T>(errors: &mut Vec<RowError>, cell: Result<T, RowError>) -> Option<T> {
    cell.map_err(|e| errors.push(e)).ok()
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
