//! Import of organisation data and koersplannen from TOML files (format: `workflows/README.md`).
//!
//! A file is parsed completely, then written in one transaction; any error rolls the whole
//! file back, so a bad file never leaves half its rows behind. Every row is found again by
//! the stable keys in the file, which makes importing idempotent and lets a changed file
//! update in place.
//!
//! A file may restate a stored record in part (a kindcentrum, only to add a team to it): an
//! optional field the file leaves out keeps its stored value. Only a field the file writes
//! empty clears it: `""` for a single value, `[]` for a list. TOML has no null, and no real
//! value of these fields is an empty string, so `""` cannot be mistaken for one.
//!
//! Every error names the record and the field it is about (``doel `d1`, field `title` ``),
//! found from the place in the file the error points at (see `Place`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    IntoActiveModel, Iterable, PrimaryKeyToColumn, PrimaryKeyTrait, QueryFilter,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::Engine;
use crate::audit::{self, Changed, Identified};
use crate::domain::{Actor, Front, check_fte};
use crate::domain::{
    BestuurKind, Direction, Key, OnderdeelKind, PlanningStatus, Role, SchoolYear, TeamKind, VacationRegion,
};
use crate::error::{ImportError, Result};
use crate::plan::measurement::{Period, check_value};
use crate::store::entity::*;

/// What an import changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub removed: usize,
    pub unchanged: usize,
}

impl ImportReport {
    /// Whether the import left the database as it was.
    pub fn is_unchanged(&self) -> bool {
        self.created == 0 && self.updated == 0 && self.removed == 0
    }
}

/// Reads and imports one file.
pub async fn import_file(db: &DatabaseConnection, path: &Path) -> Result<ImportReport> {
    Engine::new(db.clone()).import_file(path).await
}

/// Imports the text of a file; `file` names it in errors. The changes are recorded at the
/// time of the system clock: [`Engine::import_str`] takes the engine's.
pub async fn import_str(db: &DatabaseConnection, file: &str, source: &str) -> Result<ImportReport> {
    Engine::new(db.clone()).import_str(file, source).await
}

impl Engine {
    /// Imports a file; its name is used in errors.
    pub async fn import_file(&self, path: &Path) -> Result<ImportReport> {
        let source =
            std::fs::read_to_string(path).map_err(|source| ImportError::Read { path: path.to_owned(), source })?;
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        self.import_str(&name, &source).await
    }

    /// Imports the text of a file; `file` names it in errors. Every row it creates, changes
    /// or removes is recorded in the trail, as a change of the front `import`.
    #[tracing::instrument(skip(self, source), fields(file = file))]
    pub async fn import_str(&self, file: &str, source: &str) -> Result<ImportReport> {
        import(self.db(), file, source, self.clock().now()).await
    }
}

async fn import(db: &DatabaseConnection, file: &str, source: &str, now: DateTime<Utc>) -> Result<ImportReport> {
    let at = Locator { file, source };
    // No store keeps a NUL in text (PostgreSQL refuses it).
    if let Some(offset) = ["\\u0000", "\\U00000000"].iter().filter_map(|escape| source.find(escape)).min() {
        return Err(at.error(offset..offset, "a NUL character (\\u0000) cannot be stored in text".to_owned()).into());
    }
    let parsed: ImportFile =
        toml::from_str(source).map_err(|e| at.error(e.span().unwrap_or(0..0), e.message().trim_end().to_owned()))?;
    let txn = crate::store::begin_write(db).await?;
    let mut import = Import {
        txn: &txn,
        at,
        report: ImportReport::default(),
        besturen: HashMap::new(),
        kindcentra: HashMap::new(),
        professionals: HashMap::new(),
        indicators: HashMap::new(),
        within: (None, None),
        changes: Vec::new(),
    };
    import.run(&parsed).await?;
    let Import { report, changes, .. } = import;
    audit::record(&txn, &Actor::of(Front::Import), now, changes).await?;
    txn.commit().await?;
    tracing::info!(?report, "imported");
    Ok(report)
}

// ---------------------------------------------------------------------------------------
// The file format. Everything that an error may have to point at is `Spanned`.
//
// An optional field is an `Option`: `None` when the file leaves it out, which keeps what is
// stored. A single value that may be cleared is a `Clearable`; a list is cleared by `[]`.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportFile {
    #[serde(default)]
    bestuur: Vec<BestuurIn>,
    #[serde(default)]
    kindcentrum: Vec<Spanned<KindcentrumIn>>,
    #[serde(default)]
    professional: Vec<ProfessionalIn>,
    #[serde(default)]
    indicator: Vec<Spanned<IndicatorIn>>,
    koersplan: Option<KoersplanIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BestuurIn {
    key: Spanned<Key>,
    name: Text,
    kind: Spanned<BestuurKind>,
    /// For a houder that offers voorschoolse educatie: the VE-indicated children per year.
    voorschoolse_educatie: Option<Vec<Spanned<VeIn>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VeIn {
    /// The calendar year; the children are counted on 1 January.
    year: i32,
    /// VE-indicated children aged 2.5 to 4.
    children: i32,
}

/// Onderdelen, locaties and teams are only added or updated: a file may name just some.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KindcentrumIn {
    key: Spanned<Key>,
    name: Text,
    plaats: Option<Clearable<Text>>,
    /// Required for a new kindcentrum; a stored one keeps its besturen when left out.
    besturen: Option<Spanned<Vec<Spanned<Key>>>>,
    #[serde(default)]
    onderdeel: Vec<OnderdeelIn>,
    #[serde(default)]
    locatie: Vec<LocatieIn>,
    #[serde(default)]
    team: Vec<TeamIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OnderdeelIn {
    key: Spanned<Key>,
    name: Text,
    kind: OnderdeelKind,
    bestuur: Spanned<Key>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LocatieIn {
    key: Spanned<Key>,
    name: Text,
    address: Option<Clearable<Text>>,
    vacation_region: Option<Clearable<VacationRegion>>,
    lrk: Option<Vec<LrkIn>>,
    #[serde(default)]
    groep: Vec<GroepIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LrkIn {
    number: Spanned<LrkNumber>,
    onderdeel: Spanned<Key>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroepIn {
    key: Spanned<Key>,
    name: Text,
    onderdeel: Spanned<Key>,
    max_children: Option<Spanned<Clearable<i32>>>,
    age_from: Option<Spanned<Clearable<i32>>>,
    age_until: Option<Spanned<Clearable<i32>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamIn {
    key: Spanned<Key>,
    name: Text,
    kind: TeamKind,
    members: Option<Vec<Spanned<Key>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfessionalIn {
    key: Spanned<Key>,
    name: Text,
    employer: Spanned<Key>,
    kindcentra: Option<Vec<Spanned<Key>>>,
    roles: Option<Vec<Role>>,
    fte: Option<Vec<Spanned<FteIn>>>,
    /// `false` for a new professional that leaves it out.
    flexible: Option<bool>,
    /// The last day they worked for their employer; `""` clears it (they came back).
    left_on: Option<Spanned<Clearable<Date>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FteIn {
    from: Date,
    fte: f64,
}

/// Measurements are only added or updated: those recorded elsewhere (the API, a CSV file)
/// stay.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorIn {
    key: Spanned<Key>,
    name: Text,
    unit: Text,
    direction: Direction,
    target: Spanned<f64>,
    baseline: Option<Spanned<Clearable<f64>>>,
    bestuur: Option<Spanned<Key>>,
    kindcentrum: Option<Spanned<Key>>,
    locatie: Option<Spanned<Clearable<Key>>>,
    groep: Option<Spanned<Clearable<Key>>>,
    #[serde(default)]
    measurements: Vec<Spanned<MeasurementIn>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeasurementIn {
    date: Option<Date>,
    from: Option<Date>,
    until: Option<Date>,
    value: f64,
    source: Text,
    note: Option<Clearable<Text>>,
}

/// Within a koersplan the file is authoritative for each list it writes: an ambitie, doel,
/// succescriterium or planning item no longer in a written list is removed. A list left out
/// keeps what is stored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KoersplanIn {
    key: Spanned<Key>,
    kindcentrum: Spanned<Key>,
    title: Text,
    first_school_year: Spanned<SchoolYear>,
    last_school_year: Spanned<SchoolYear>,
    visie: Text,
    pijlers: Option<Vec<Text>>,
    ambitie: Option<Vec<AmbitieIn>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AmbitieIn {
    key: Spanned<Key>,
    title: Text,
    description: Option<Clearable<Text>>,
    doel: Option<Vec<DoelIn>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DoelIn {
    key: Spanned<Key>,
    title: Text,
    description: Option<Clearable<Text>>,
    indicators: Option<Vec<Spanned<Key>>>,
    succescriteria: Option<Vec<Spanned<CriteriumIn>>>,
    planning: Option<Vec<Spanned<PlanningIn>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CriteriumIn {
    key: Option<Spanned<Key>>,
    description: Text,
    indicator: Option<Spanned<Clearable<Key>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanningIn {
    key: Option<Spanned<Key>>,
    school_year: Spanned<SchoolYear>,
    text: Text,
    /// `gepland` for a new planning item that leaves it out.
    status: Option<PlanningStatus>,
    /// Left out, the stored note stays; written empty, it is cleared.
    note: Option<String>,
}

/// A text that is not blank, trimmed.
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(serde::de::Error::custom("must not be empty"));
        }
        Ok(Text(trimmed.to_owned()))
    }
}

/// The value of an optional field that the file writes: a blank string clears the stored
/// value (TOML has no null), anything else is read as `T`.
enum Clearable<T> {
    Clear,
    Set(T),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Clearable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        // Whether the value is blank decides how to read it, so it is read whole first.
        let value = toml::Value::deserialize(deserializer)?;
        if value.as_str().is_some_and(|text| text.trim().is_empty()) {
            return Ok(Clearable::Clear);
        }
        // The error carries no place of its own; the deserializer gives it the field's.
        T::deserialize(value).map(Clearable::Set).map_err(|e| serde::de::Error::custom(e.message()))
    }
}

/// The value an optional field has after the import: the one the file writes, none when the
/// file clears it, and `stored` when the file leaves it out.
fn merge<T, S>(written: Option<&Clearable<T>>, stored: Option<S>, value: impl FnOnce(&T) -> S) -> Option<S> {
    match written {
        None => stored,
        Some(Clearable::Clear) => None,
        Some(Clearable::Set(v)) => Some(value(v)),
    }
}

/// The value a field sets, with the field to point errors at; none when the file leaves the
/// field out or clears it.
fn set<T>(field: &Option<Spanned<Clearable<T>>>) -> Option<(&Spanned<Clearable<T>>, &T)> {
    match field.as_ref().map(|f| (f, f.get_ref())) {
        Some((field, Clearable::Set(value))) => Some((field, value)),
        _ => None,
    }
}

/// A TOML date without time, such as `2026-01-01`.
#[derive(Clone, Copy)]
struct Date(NaiveDate);

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let invalid = || serde::de::Error::custom("expected a date such as 2026-01-01 (without quotes or time)");
        let value = toml::value::Datetime::deserialize(deserializer)?;
        let (Some(date), None, None) = (value.date, value.time, value.offset) else {
            return Err(invalid());
        };
        NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into()).map(Date).ok_or_else(invalid)
    }
}

/// A registration number of the Landelijk Register Kinderopvang: nine digits.
struct LrkNumber(String);

impl<'de> Deserialize<'de> for LrkNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.len() != 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(serde::de::Error::custom(format!(
                "`{text}` is not an LRK number: write its nine digits as a string"
            )));
        }
        Ok(LrkNumber(text))
    }
}

// ---------------------------------------------------------------------------------------
// Naming the place of an error.

/// Where in the file an error lies: the records around it, outermost first, and the field
/// of the innermost one.
///
/// Errors point at bytes of the file (the parser's, or a `Spanned` value's); a user needs
/// the doel and the field instead. The place is found in the document tree of the file,
/// where the span of an inline table covers the whole table but the span of a table that a
/// header opens (`[[koersplan.ambitie.doel]]`) covers only the header. So an offset belongs
/// to the innermost table whose span holds it, or else to the table of the last header
/// before it: TOML puts every line below a header into that header's table.
struct Place {
    records: Vec<Record>,
    field: Option<String>,
}

/// A record of the file (a table: a kindcentrum, a doel, an inline succescriterium, ...) on
/// the way from the top of the file down to an error.
#[derive(Clone)]
struct Record {
    /// What the record is, in the singular: `doel`, `succescriterium`.
    noun: String,
    /// Its `key`, when it has one.
    key: Option<String>,
    /// Its 1-based position among its siblings, when it is one of a list.
    position: Option<usize>,
    /// Written inline (`{ ... }`) in a field of the record around it.
    inline: bool,
}

/// A table of the document, with the records on the way to it.
struct Table<'t, 'i> {
    records: Vec<Record>,
    span: Range<usize>,
    table: &'t DeTable<'i>,
    /// Opened by a header (`[...]`), rather than written inline or implied by a dotted key.
    header: bool,
}

impl Place {
    /// The place of the bytes `span` of `source`. A file that does not parse yields what the
    /// parser could recover of it.
    fn of(source: &str, span: Range<usize>) -> Place {
        let offset = span.start;
        let (root, _) = DeTable::parse_recoverable(source);
        let mut tables = Vec::new();
        Self::tables(source, root.get_ref(), &[], &mut tables);
        let holds = |span: &Range<usize>| span.contains(&offset);
        let innermost = tables
            .iter()
            .filter(|t| (t.header || t.records.last().is_some_and(|r| r.inline)) && holds(&t.span))
            .min_by_key(|t| t.span.len())
            .or_else(|| tables.iter().filter(|t| t.header && t.span.start <= offset).max_by_key(|t| t.span.start));
        let (records, table) = match innermost {
            Some(found) => (found.records.clone(), found.table),
            None => (Vec::new(), root.get_ref()),
        };
        let field = match table.iter().find(|(name, value)| holds(&name.span()) || holds(&value.span())) {
            Some((name, _)) => Some(name.get_ref().to_string()),
            // A key the table has twice: the parser keeps the first and points at the second.
            None => source.get(span.clone()).filter(|name| table.get(*name).is_some()).map(str::to_owned),
        };
        Place { records, field }
    }

    /// Every table below `table`, after the records on the way to it (`outer`).
    fn tables<'t, 'i>(source: &str, table: &'t DeTable<'i>, outer: &[Record], out: &mut Vec<Table<'t, 'i>>) {
        for (name, value) in table {
            let children: Vec<(&Spanned<DeValue<'i>>, Option<usize>)> = match value.get_ref() {
                DeValue::Table(_) => vec![(value, None)],
                DeValue::Array(items) => (1..).zip(items.iter()).map(|(n, item)| (item, Some(n))).collect(),
                _ => Vec::new(),
            };
            for (child, position) in children {
                let DeValue::Table(inner) = child.get_ref() else { continue };
                let span = child.span();
                let opens = |c: char| source.get(span.start..).is_some_and(|s| s.starts_with(c));
                let key = inner.get("key").and_then(|key| key.get_ref().as_str()).filter(|key| !key.trim().is_empty());
                let (header, inline) = (opens('['), opens('{'));
                let mut records = outer.to_vec();
                records.push(Record {
                    noun: noun(name.get_ref()).to_owned(),
                    key: key.map(str::to_owned),
                    position,
                    inline,
                });
                Self::tables(source, inner, &records, out);
                out.push(Table { records, span, table: inner, header });
            }
        }
    }

    /// `message`, preceded by the record and field it is about. A field the message already
    /// names (``unknown field `titel` ``) is not named twice.
    fn explain(&self, message: &str) -> String {
        let field = self.field.as_deref().filter(|field| !message.contains(&format!("`{field}`")));
        match (describe(&self.records), field) {
            (Some(record), Some(field)) => format!("{record}, field `{field}`: {message}"),
            (Some(record), None) => format!("{record}: {message}"),
            (None, Some(field)) => format!("field `{field}`: {message}"),
            (None, None) => message.to_owned(),
        }
    }
}

/// The innermost of `records`: by its key (``doel `d1` ``), or without one by its position
/// (`the 3rd doel`). A record without a key, or one written inline in a field of the record
/// around it (a succescriterium, whose key is often its position), is named together with
/// that record (``the 3rd doel of ambitie `a1` ``, ``succescriterium `2` of doel `d1` ``).
fn describe(records: &[Record]) -> Option<String> {
    let (record, outer) = records.split_last()?;
    let own = match (&record.key, record.position) {
        (Some(key), _) if !record.inline => return Some(format!("{} `{key}`", record.noun)),
        (Some(key), _) => format!("{} `{key}`", record.noun),
        (None, Some(position)) => format!("the {} {}", ordinal(position), record.noun),
        (None, None) => format!("the {}", record.noun),
    };
    Some(match describe(outer) {
        Some(outer) => format!("{own} of {outer}"),
        None => own,
    })
}

/// The singular of a list whose name in the file is a plural or an abbreviation.
fn noun(list: &str) -> &str {
    match list {
        "succescriteria" => "succescriterium",
        "planning" => "planning item",
        "measurements" => "measurement",
        "lrk" => "LRK registration",
        "fte" => "fte entry",
        "voorschoolse_educatie" => "voorschoolse_educatie entry",
        other => other,
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, ..., `11th`, ..., `21st`.
fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

// ---------------------------------------------------------------------------------------
// Writing.

/// Turns byte offsets into `file:line:column: record, field: message` errors.
#[derive(Clone, Copy)]
struct Locator<'a> {
    file: &'a str,
    source: &'a str,
}

impl Locator<'_> {
    /// The 1-based line and column of a byte offset.
    fn position(&self, offset: usize) -> (usize, usize) {
        crate::error::position(self.source, offset)
    }

    fn error(&self, span: Range<usize>, message: String) -> ImportError {
        let (line, column) = self.position(span.start);
        let message = Place::of(self.source, span).explain(&message);
        ImportError::At { file: self.file.to_owned(), line, column, message }
    }

    fn at<T>(&self, spanned: &Spanned<T>, message: String) -> crate::Error {
        self.error(spanned.span(), message).into()
    }
}

/// Refuses a key that the file already used for a sibling.
fn check_unique<'k>(
    seen: &mut HashMap<&'k Key, usize>,
    key: &'k Spanned<Key>,
    what: &str,
    at: Locator<'_>,
) -> Result<()> {
    let (line, _) = at.position(key.span().start);
    if let Some(first) = seen.insert(key.get_ref(), line) {
        return Err(at.at(key, format!("the {what} on line {first} already has the key `{}`", key.get_ref())));
    }
    Ok(())
}

struct Import<'a> {
    txn: &'a DatabaseTransaction,
    at: Locator<'a>,
    report: ImportReport,
    besturen: HashMap<Key, i64>,
    kindcentra: HashMap<Key, i64>,
    professionals: HashMap<Key, i64>,
    indicators: HashMap<Key, i64>,
    /// The kindcentrum and bestuur the rows being written belong to, for the trail.
    within: (Option<i64>, Option<i64>),
    /// What was written, for the trail.
    changes: Vec<Changed>,
}

impl Import<'_> {
    async fn run(&mut self, file: &ImportFile) -> Result<()> {
        let mut seen = HashMap::new();
        for bestuur in &file.bestuur {
            check_unique(&mut seen, &bestuur.key, "bestuur", self.at)?;
            self.bestuur(bestuur).await?;
        }
        let mut seen = HashMap::new();
        for kindcentrum in &file.kindcentrum {
            check_unique(&mut seen, &kindcentrum.get_ref().key, "kindcentrum", self.at)?;
            self.kindcentrum(kindcentrum).await?;
        }
        let mut seen = HashMap::new();
        for professional in &file.professional {
            check_unique(&mut seen, &professional.key, "professional", self.at)?;
            self.professional(professional).await?;
        }
        // Teams come after professionals: their members may be defined further down.
        for kindcentrum in &file.kindcentrum {
            let kindcentrum = kindcentrum.get_ref();
            let kc = self.kindcentra[kindcentrum.key.get_ref()];
            let mut seen = HashMap::new();
            for team in &kindcentrum.team {
                check_unique(&mut seen, &team.key, "team", self.at)?;
                self.team(kc, team).await?;
            }
        }
        let mut seen = HashMap::new();
        for indicator in &file.indicator {
            check_unique(&mut seen, &indicator.get_ref().key, "indicator", self.at)?;
            self.indicator(indicator).await?;
        }
        if let Some(koersplan) = &file.koersplan {
            self.koersplan(koersplan).await?;
        }
        Ok(())
    }

    /// Inserts `wanted` or updates `existing` to it; `wanted` carries `existing`'s id.
    async fn put<E>(&mut self, existing: Option<E::Model>, wanted: E::Model) -> Result<E::Model>
    where
        E: EntityTrait,
        E::Model: IntoActiveModel<E::ActiveModel> + PartialEq + Serialize + Identified,
        E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    {
        let saved = match &existing {
            Some(existing) if *existing == wanted => {
                self.report.unchanged += 1;
                return Ok(wanted);
            }
            Some(_) => {
                self.report.updated += 1;
                wanted.into_active_model().reset_all().update(self.txn).await?
            }
            None => {
                self.report.created += 1;
                let mut active = wanted.into_active_model().reset_all();
                for key in E::PrimaryKey::iter() {
                    active.not_set(key.into_column());
                }
                active.insert(self.txn).await?
            }
        };
        let table = E::default().table_name();
        let within = match table {
            "bestuur" => (None, Some(saved.id())),
            "kindcentrum" => (Some(saved.id()), None),
            _ => self.within,
        };
        self.changes.push(Changed::of(table, saved.id(), existing.as_ref(), Some(&saved)).within(within.0, within.1));
        Ok(saved)
    }

    /// Makes the link rows of one owner exactly `wanted`, by their full primary key.
    async fn sync_links<E>(&mut self, current: Vec<E::Model>, wanted: Vec<E::Model>) -> Result<()>
    where
        E: EntityTrait,
        E::Model: IntoActiveModel<E::ActiveModel> + PartialEq,
        E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    {
        for row in &current {
            if !wanted.contains(row) {
                self.report.removed += 1;
                row.clone().into_active_model().delete(self.txn).await?;
            }
        }
        for row in wanted {
            if current.contains(&row) {
                self.report.unchanged += 1;
            } else {
                self.report.created += 1;
                row.into_active_model().reset_all().insert(self.txn).await?;
            }
        }
        Ok(())
    }

    /// Removes rows of `E` the file no longer lists.
    async fn remove<E: EntityTrait>(&mut self, rows: impl IntoIterator<Item = E::Model>) -> Result<()>
    where
        E::Model: Serialize + Identified,
        i64: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    {
        for row in rows {
            self.report.removed += 1;
            E::delete_by_id(row.id()).exec(self.txn).await?;
            let (kindcentrum, bestuur) = self.within;
            let table = E::default().table_name();
            self.changes.push(Changed::of(table, row.id(), Some(&row), None).within(kindcentrum, bestuur));
        }
        Ok(())
    }

    async fn bestuur_id(&self, key: &Spanned<Key>) -> Result<i64> {
        if let Some(id) = self.besturen.get(key.get_ref()) {
            return Ok(*id);
        }
        bestuur::Entity::find()
            .filter(bestuur::Column::Key.eq(key.get_ref().as_str()))
            .one(self.txn)
            .await?
            .map(|b| b.id)
            .ok_or_else(|| self.unknown("bestuur", key))
    }

    async fn kindcentrum_id(&self, key: &Spanned<Key>) -> Result<i64> {
        if let Some(id) = self.kindcentra.get(key.get_ref()) {
            return Ok(*id);
        }
        kindcentrum::Entity::find()
            .filter(kindcentrum::Column::Key.eq(key.get_ref().as_str()))
            .one(self.txn)
            .await?
            .map(|k| k.id)
            .ok_or_else(|| self.unknown("kindcentrum", key))
    }

    async fn professional_id(&self, key: &Spanned<Key>) -> Result<i64> {
        if let Some(id) = self.professionals.get(key.get_ref()) {
            return Ok(*id);
        }
        professional::Entity::find()
            .filter(professional::Column::Key.eq(key.get_ref().as_str()))
            .one(self.txn)
            .await?
            .map(|p| p.id)
            .ok_or_else(|| self.unknown("professional", key))
    }

    async fn indicator_id(&self, key: &Spanned<Key>) -> Result<i64> {
        if let Some(id) = self.indicators.get(key.get_ref()) {
            return Ok(*id);
        }
        indicator::Entity::find()
            .filter(indicator::Column::Key.eq(key.get_ref().as_str()))
            .one(self.txn)
            .await?
            .map(|i| i.id)
            .ok_or_else(|| self.unknown("indicator", key))
    }

    /// The refusal of a reference to a record that neither this file nor the database has.
    fn unknown(&self, what: &str, key: &Spanned<Key>) -> crate::Error {
        self.at
            .at(key, format!("unknown {what} `{}`: no {what} with this key is in this file or stored", key.get_ref()))
    }

    /// Looks up a child of a kindcentrum (onderdeel, locatie, team) by its key.
    async fn child<E>(
        &self,
        key_col: E::Column,
        parent_col: E::Column,
        parent: i64,
        key: &Key,
    ) -> Result<Option<E::Model>>
    where
        E: EntityTrait,
    {
        Ok(E::find().filter(parent_col.eq(parent)).filter(key_col.eq(key.as_str())).one(self.txn).await?)
    }

    async fn bestuur(&mut self, input: &BestuurIn) -> Result<()> {
        let key = input.key.get_ref();
        let kind = *input.kind.get_ref();
        let existing = bestuur::Entity::find().filter(bestuur::Column::Key.eq(key.as_str())).one(self.txn).await?;
        let wanted = bestuur::Model {
            id: existing.as_ref().map_or(0, |e| e.id),
            key: key.to_string(),
            name: input.name.0.clone(),
            kind,
        };
        self.within = (None, None);
        let id = self.put::<bestuur::Entity>(existing, wanted).await?.id;
        self.besturen.insert(key.clone(), id);

        let current =
            ve_indication::Entity::find().filter(ve_indication::Column::BestuurId.eq(id)).all(self.txn).await?;
        let Some(written) = &input.voorschoolse_educatie else {
            if kind != BestuurKind::Kinderopvang && !current.is_empty() {
                return Err(self.at.at(
                    &input.kind,
                    "only a kinderopvang bestuur offers voorschoolse educatie: write `voorschoolse_educatie = []` \
                     to remove the stored counts"
                        .to_owned(),
                ));
            }
            return Ok(());
        };
        let mut rows: Vec<ve_indication::Model> = Vec::new();
        for ve in written {
            let VeIn { year, children } = *ve.get_ref();
            if kind != BestuurKind::Kinderopvang {
                return Err(self.at.at(ve, "only a kinderopvang bestuur offers voorschoolse educatie".to_owned()));
            }
            if children < 0 {
                return Err(self.at.at(ve, format!("{children} VE-indicated children: cannot be negative")));
            }
            if rows.iter().any(|r| r.year == year) {
                return Err(self.at.at(ve, format!("two counts of VE-indicated children for {year}")));
            }
            rows.push(ve_indication::Model { bestuur_id: id, year, children });
        }
        self.sync_links::<ve_indication::Entity>(current, rows).await
    }

    async fn kindcentrum(&mut self, record: &Spanned<KindcentrumIn>) -> Result<()> {
        let input = record.get_ref();
        let key = input.key.get_ref();
        let written_besturen = match &input.besturen {
            Some(list) => {
                if list.get_ref().is_empty() {
                    return Err(self.at.at(list, "needs at least one bestuur key".to_owned()));
                }
                let mut ids = BTreeSet::new();
                for bestuur in list.get_ref() {
                    ids.insert(self.bestuur_id(bestuur).await?);
                }
                Some(ids)
            }
            None => None,
        };
        let existing =
            kindcentrum::Entity::find().filter(kindcentrum::Column::Key.eq(key.as_str())).one(self.txn).await?;
        if existing.is_none() && written_besturen.is_none() {
            return Err(self.at.at(
                record,
                "is not stored yet, so it needs `besturen`: the keys of the besturen it belongs to".to_owned(),
            ));
        }
        let wanted = kindcentrum::Model {
            id: existing.as_ref().map_or(0, |e| e.id),
            key: key.to_string(),
            name: input.name.0.clone(),
            plaats: merge(input.plaats.as_ref(), existing.as_ref().and_then(|e| e.plaats.clone()), |p| p.0.clone()),
        };
        let kc = self.put::<kindcentrum::Entity>(existing, wanted).await?.id;
        self.within = (Some(kc), None);
        let current = kindcentrum_bestuur::Entity::find()
            .filter(kindcentrum_bestuur::Column::KindcentrumId.eq(kc))
            .all(self.txn)
            .await?;
        let besturen = match written_besturen {
            Some(besturen) => {
                let links = besturen
                    .iter()
                    .map(|&bestuur_id| kindcentrum_bestuur::Model { kindcentrum_id: kc, bestuur_id })
                    .collect();
                self.sync_links::<kindcentrum_bestuur::Entity>(current, links).await?;
                besturen
            }
            None => current.into_iter().map(|link| link.bestuur_id).collect(),
        };
        self.kindcentra.insert(key.clone(), kc);

        let mut seen = HashMap::new();
        let mut onderdelen = HashMap::new();
        for onderdeel in &input.onderdeel {
            check_unique(&mut seen, &onderdeel.key, "onderdeel", self.at)?;
            let bestuur_id = self.bestuur_id(&onderdeel.bestuur).await?;
            if !besturen.contains(&bestuur_id) {
                return Err(self.at.at(
                    &onderdeel.bestuur,
                    format!(
                        "bestuur `{}` is not one of the besturen of kindcentrum `{key}`",
                        onderdeel.bestuur.get_ref()
                    ),
                ));
            }
            let existing = self
                .child::<onderdeel::Entity>(
                    onderdeel::Column::Key,
                    onderdeel::Column::KindcentrumId,
                    kc,
                    onderdeel.key.get_ref(),
                )
                .await?;
            let wanted = onderdeel::Model {
                id: existing.as_ref().map_or(0, |e| e.id),
                kindcentrum_id: kc,
                key: onderdeel.key.get_ref().to_string(),
                name: onderdeel.name.0.clone(),
                kind: onderdeel.kind,
                bestuur_id,
            };
            let saved = self.put::<onderdeel::Entity>(existing, wanted).await?;
            onderdelen.insert(onderdeel.key.get_ref().clone(), saved.id);
        }

        let mut seen = HashMap::new();
        for locatie in &input.locatie {
            check_unique(&mut seen, &locatie.key, "locatie", self.at)?;
            let existing = self
                .child::<locatie::Entity>(
                    locatie::Column::Key,
                    locatie::Column::KindcentrumId,
                    kc,
                    locatie.key.get_ref(),
                )
                .await?;
            let (stored, region) = (existing.as_ref(), locatie.vacation_region.as_ref());
            let wanted = locatie::Model {
                id: stored.map_or(0, |e| e.id),
                kindcentrum_id: kc,
                key: locatie.key.get_ref().to_string(),
                name: locatie.name.0.clone(),
                address: merge(locatie.address.as_ref(), stored.and_then(|e| e.address.clone()), |a| a.0.clone()),
                vacation_region: merge(region, stored.and_then(|e| e.vacation_region), |r| *r),
            };
            let loc = self.put::<locatie::Entity>(existing, wanted).await?.id;
            if let Some(lrk) = &locatie.lrk {
                self.lrk_registrations(kc, loc, lrk, &mut onderdelen).await?;
            }
            let mut seen = HashMap::new();
            for groep in &locatie.groep {
                check_unique(&mut seen, &groep.key, "groep", self.at)?;
                self.groep(kc, loc, groep, &mut onderdelen).await?;
            }
        }
        Ok(())
    }

    async fn onderdeel_id(&self, kc: i64, key: &Spanned<Key>, known: &mut HashMap<Key, i64>) -> Result<i64> {
        if let Some(id) = known.get(key.get_ref()) {
            return Ok(*id);
        }
        let found = self
            .child::<onderdeel::Entity>(onderdeel::Column::Key, onderdeel::Column::KindcentrumId, kc, key.get_ref())
            .await?;
        let id = found.map(|o| o.id).ok_or_else(|| {
            self.at.at(
                key,
                format!("unknown onderdeel `{}`: this kindcentrum has no onderdeel with this key", key.get_ref()),
            )
        })?;
        known.insert(key.get_ref().clone(), id);
        Ok(id)
    }

    /// The registrations of a locatie are an attribute of it: a file that writes `lrk` lists
    /// them all.
    async fn lrk_registrations(
        &mut self,
        kc: i64,
        loc: i64,
        input: &[LrkIn],
        onderdelen: &mut HashMap<Key, i64>,
    ) -> Result<()> {
        let mut current: HashMap<String, lrk_registration::Model> = lrk_registration::Entity::find()
            .filter(lrk_registration::Column::LocatieId.eq(loc))
            .all(self.txn)
            .await?
            .into_iter()
            .map(|r| (r.number.clone(), r))
            .collect();
        let mut seen = HashSet::new();
        for lrk in input {
            let number = &lrk.number.get_ref().0;
            if !seen.insert(number.clone()) {
                return Err(self.at.at(&lrk.number, format!("LRK number {number} is listed twice")));
            }
            let onderdeel_id = self.onderdeel_id(kc, &lrk.onderdeel, onderdelen).await?;
            let existing = match current.remove(number) {
                Some(mine) => Some(mine),
                None => {
                    let elsewhere = lrk_registration::Entity::find()
                        .filter(lrk_registration::Column::Number.eq(number.as_str()))
                        .one(self.txn)
                        .await?;
                    if elsewhere.is_some() {
                        return Err(self.at.at(
                            &lrk.number,
                            format!("LRK number {number} is already registered for another locatie"),
                        ));
                    }
                    None
                }
            };
            let wanted = lrk_registration::Model {
                id: existing.as_ref().map_or(0, |e| e.id),
                locatie_id: loc,
                number: number.clone(),
                onderdeel_id,
            };
            self.put::<lrk_registration::Entity>(existing, wanted).await?;
        }
        self.remove::<lrk_registration::Entity>(current.into_values()).await
    }

    async fn groep(&mut self, kc: i64, loc: i64, input: &GroepIn, onderdelen: &mut HashMap<Key, i64>) -> Result<()> {
        let onderdeel_id = self.onderdeel_id(kc, &input.onderdeel, onderdelen).await?;
        if let Some((field, max)) = set(&input.max_children)
            && *max < 1
        {
            return Err(self.at.at(field, format!("must be at least 1, not {max}")));
        }
        for (field, age) in [&input.age_from, &input.age_until].into_iter().filter_map(set) {
            if !(0..=18).contains(age) {
                return Err(self.at.at(field, format!("must be between 0 and 18 (years), not {age}")));
            }
        }
        let existing =
            self.child::<groep::Entity>(groep::Column::Key, groep::Column::LocatieId, loc, input.key.get_ref()).await?;
        let stored = existing.as_ref();
        let number = |field: &Option<Spanned<Clearable<i32>>>, stored: Option<i32>| {
            merge(field.as_ref().map(Spanned::get_ref), stored, |v| *v)
        };
        let age_from = number(&input.age_from, stored.and_then(|g| g.age_from));
        let age_until = number(&input.age_until, stored.and_then(|g| g.age_until));
        // The ages are checked as they will be stored, one of them perhaps from an earlier file.
        if let (Some(from), Some(until)) = (age_from, age_until)
            && from > until
            && let Some(field) = input.age_until.as_ref().or(input.age_from.as_ref())
        {
            return Err(self.at.at(field, format!("age_until {until} lies below age_from {from}")));
        }
        let wanted = groep::Model {
            id: stored.map_or(0, |e| e.id),
            locatie_id: loc,
            onderdeel_id,
            key: input.key.get_ref().to_string(),
            name: input.name.0.clone(),
            max_children: number(&input.max_children, stored.and_then(|g| g.max_children)),
            age_from,
            age_until,
        };
        self.put::<groep::Entity>(existing, wanted).await?;
        Ok(())
    }

    async fn professional(&mut self, input: &ProfessionalIn) -> Result<()> {
        let key = input.key.get_ref();
        let employer_bestuur_id = self.bestuur_id(&input.employer).await?;
        self.within = (None, Some(employer_bestuur_id));
        let existing =
            professional::Entity::find().filter(professional::Column::Key.eq(key.as_str())).one(self.txn).await?;
        let wanted = professional::Model {
            id: existing.as_ref().map_or(0, |e| e.id),
            key: key.to_string(),
            name: input.name.0.clone(),
            employer_bestuur_id,
            flexible: input.flexible.or(existing.as_ref().map(|e| e.flexible)).unwrap_or(false),
            left_on: merge(
                input.left_on.as_ref().map(Spanned::get_ref),
                existing.as_ref().and_then(|e| e.left_on),
                |d| d.0,
            ),
        };
        if let (Some(left_on), Some(written)) = (wanted.left_on, &input.fte) {
            let first = written.iter().map(|f| f.get_ref().from.0).min();
            if let Some(first) = first.filter(|first| left_on < *first) {
                let span = input.left_on.as_ref().map_or_else(|| input.key.span(), Spanned::span);
                let message = format!("left_on {left_on} lies before their first fte (from {first})");
                return Err(self.at.error(span, message).into());
            }
        }
        let id = self.put::<professional::Entity>(existing, wanted).await?.id;
        self.professionals.insert(key.clone(), id);

        if let Some(written) = &input.kindcentra {
            let mut kindcentra = BTreeSet::new();
            for kc in written {
                kindcentra.insert(self.kindcentrum_id(kc).await?);
            }
            let current = professional_kindcentrum::Entity::find()
                .filter(professional_kindcentrum::Column::ProfessionalId.eq(id))
                .all(self.txn)
                .await?;
            let wanted = kindcentra
                .into_iter()
                .map(|kindcentrum_id| professional_kindcentrum::Model { professional_id: id, kindcentrum_id })
                .collect();
            self.sync_links::<professional_kindcentrum::Entity>(current, wanted).await?;
        }

        if let Some(written) = &input.roles {
            let roles: BTreeSet<Role> = written.iter().copied().collect();
            let current = professional_role::Entity::find()
                .filter(professional_role::Column::ProfessionalId.eq(id))
                .all(self.txn)
                .await?;
            let wanted = roles.into_iter().map(|role| professional_role::Model { professional_id: id, role }).collect();
            self.sync_links::<professional_role::Entity>(current, wanted).await?;
        }

        let Some(written) = &input.fte else { return Ok(()) };
        let mut fte_rows: Vec<professional_fte::Model> = Vec::new();
        for fte in written {
            let FteIn { from, fte: value } = fte.get_ref();
            check_fte(*value).map_err(|e| self.at.at(fte, e))?;
            if fte_rows.iter().any(|r| r.valid_from == from.0) {
                return Err(self.at.at(fte, format!("two fte values from {}", from.0)));
            }
            fte_rows.push(professional_fte::Model { professional_id: id, valid_from: from.0, fte: *value });
        }
        let current = professional_fte::Entity::find()
            .filter(professional_fte::Column::ProfessionalId.eq(id))
            .all(self.txn)
            .await?;
        self.sync_links::<professional_fte::Entity>(current, fte_rows).await
    }

    async fn team(&mut self, kc: i64, input: &TeamIn) -> Result<()> {
        let existing =
            self.child::<team::Entity>(team::Column::Key, team::Column::KindcentrumId, kc, input.key.get_ref()).await?;
        let wanted = team::Model {
            id: existing.as_ref().map_or(0, |e| e.id),
            kindcentrum_id: kc,
            key: input.key.get_ref().to_string(),
            name: input.name.0.clone(),
            kind: input.kind,
        };
        let team_id = self.put::<team::Entity>(existing, wanted).await?.id;
        let Some(written) = &input.members else { return Ok(()) };
        let mut members = BTreeSet::new();
        for member in written {
            members.insert(self.professional_id(member).await?);
        }
        let current = team_member::Entity::find().filter(team_member::Column::TeamId.eq(team_id)).all(self.txn).await?;
        let wanted =
            members.into_iter().map(|professional_id| team_member::Model { team_id, professional_id }).collect();
        self.sync_links::<team_member::Entity>(current, wanted).await
    }

    async fn indicator(&mut self, record: &Spanned<IndicatorIn>) -> Result<()> {
        let input = record.get_ref();
        let key = input.key.get_ref();
        if !input.target.get_ref().is_finite() {
            return Err(self.at.at(&input.target, "must be a finite number".to_owned()));
        }
        if let Some((field, baseline)) = set(&input.baseline)
            && !baseline.is_finite()
        {
            return Err(self.at.at(field, "must be a finite number".to_owned()));
        }
        let existing = indicator::Entity::find().filter(indicator::Column::Key.eq(key.as_str())).one(self.txn).await?;
        let (bestuur_id, kindcentrum_id, locatie_id, groep_id) = self.scope(record, existing.as_ref()).await?;
        self.within = (kindcentrum_id, bestuur_id);
        let wanted = indicator::Model {
            id: existing.as_ref().map_or(0, |e| e.id),
            key: key.to_string(),
            name: input.name.0.clone(),
            unit: input.unit.0.clone(),
            direction: input.direction,
            target: *input.target.get_ref(),
            baseline: merge(
                input.baseline.as_ref().map(Spanned::get_ref),
                existing.as_ref().and_then(|e| e.baseline),
                |b| *b,
            ),
            bestuur_id,
            kindcentrum_id,
            locatie_id,
            groep_id,
        };
        let saved = self.put::<indicator::Entity>(existing, wanted).await?;
        let id = saved.id;
        self.indicators.insert(key.clone(), id);

        let mut current: HashMap<(NaiveDate, NaiveDate), measurement::Model> = measurement::Entity::find()
            .filter(measurement::Column::IndicatorId.eq(id))
            .all(self.txn)
            .await?
            .into_iter()
            .map(|m| ((m.period_start, m.period_end), m))
            .collect();
        let mut seen = HashSet::new();
        for spanned in &input.measurements {
            let m = spanned.get_ref();
            let period = Period::parse(m.date.map(|d| d.0), m.from.map(|d| d.0), m.until.map(|d| d.0))
                .map_err(|message| self.at.at(spanned, message))?;
            let (start, end) = (period.start(), period.end());
            check_value(&saved, m.value).map_err(|message| self.at.at(spanned, message))?;
            if !seen.insert((start, end)) {
                return Err(self.at.at(spanned, "an earlier measurement in this file has the same period".to_owned()));
            }
            let existing = current.remove(&(start, end));
            let wanted = measurement::Model {
                id: existing.as_ref().map_or(0, |e| e.id),
                indicator_id: id,
                period_start: start,
                period_end: end,
                value: m.value,
                source: m.source.0.clone(),
                note: merge(m.note.as_ref(), existing.as_ref().and_then(|e| e.note.clone()), |n| n.0.clone()),
            };
            self.put::<measurement::Entity>(existing, wanted).await?;
        }
        // Measurements recorded outside this file (through the API) are kept.
        Ok(())
    }

    /// The scope of an indicator as `(bestuur, kindcentrum, locatie, groep)` ids: `bestuur`,
    /// or `kindcentrum` narrowed to a `locatie` and perhaps a `groep` of it. What the file
    /// leaves out stays as stored, as far as it lies within the scope the file gives: a
    /// stored locatie stays while the kindcentrum does, a stored groep while its locatie
    /// does.
    async fn scope(
        &mut self,
        record: &Spanned<IndicatorIn>,
        stored: Option<&indicator::Model>,
    ) -> Result<(Option<i64>, Option<i64>, Option<i64>, Option<i64>)> {
        let input = record.get_ref();
        let narrowed = set(&input.locatie).or(set(&input.groep)).map(|(field, _)| field);
        let not_narrowed = "an indicator of a bestuur cannot be narrowed to a locatie or groep".to_owned();
        let kc = match (&input.bestuur, &input.kindcentrum, stored) {
            (Some(_), Some(kc), _) => {
                return Err(self
                    .at
                    .at(kc, "an indicator has one scope: write `bestuur` or `kindcentrum`, not both".to_owned()));
            }
            (Some(bestuur), None, _) => {
                if let Some(field) = narrowed {
                    return Err(self.at.at(field, not_narrowed));
                }
                return Ok((Some(self.bestuur_id(bestuur).await?), None, None, None));
            }
            (None, Some(kc), _) => self.kindcentrum_id(kc).await?,
            (None, None, Some(stored)) => match stored.kindcentrum_id {
                Some(kc) => kc,
                None => {
                    if let Some(field) = narrowed {
                        return Err(self.at.at(field, not_narrowed));
                    }
                    return Ok((stored.bestuur_id, None, None, None));
                }
            },
            (None, None, None) => {
                return Err(self.at.at(
                    record,
                    "is not stored yet, so it needs a scope: `bestuur = \"...\"` or `kindcentrum = \"...\"`".to_owned(),
                ));
            }
        };
        let stored = stored.filter(|s| s.kindcentrum_id == Some(kc));
        let locatie = match input.locatie.as_ref().map(|field| (field, field.get_ref())) {
            None => stored.and_then(|s| s.locatie_id),
            Some((_, Clearable::Clear)) => None,
            Some((field, Clearable::Set(key))) => Some(
                self.child::<locatie::Entity>(locatie::Column::Key, locatie::Column::KindcentrumId, kc, key)
                    .await?
                    .ok_or_else(|| {
                        self.at
                            .at(field, format!("unknown locatie `{key}`: the kindcentrum has no locatie with this key"))
                    })?
                    .id,
            ),
        };
        let groep = match input.groep.as_ref().map(|field| (field, field.get_ref())) {
            None => stored.filter(|s| s.locatie_id == locatie).and_then(|s| s.groep_id),
            Some((_, Clearable::Clear)) => None,
            Some((field, Clearable::Set(key))) => {
                let Some(loc) = locatie else {
                    return Err(self.at.at(field, "an indicator of a groep also names its locatie".to_owned()));
                };
                Some(
                    self.child::<groep::Entity>(groep::Column::Key, groep::Column::LocatieId, loc, key)
                        .await?
                        .ok_or_else(|| {
                            self.at.at(field, format!("unknown groep `{key}`: the locatie has no groep with this key"))
                        })?
                        .id,
                )
            }
        };
        Ok((None, Some(kc), locatie, groep))
    }

    async fn koersplan(&mut self, input: &KoersplanIn) -> Result<()> {
        let key = input.key.get_ref();
        let kc = self.kindcentrum_id(&input.kindcentrum).await?;
        self.within = (Some(kc), None);
        let (first, last) = (*input.first_school_year.get_ref(), *input.last_school_year.get_ref());
        if last < first {
            return Err(self.at.at(&input.last_school_year, format!("{last} lies before first_school_year {first}")));
        }
        let existing = koersplan::Entity::find().filter(koersplan::Column::Key.eq(key.as_str())).one(self.txn).await?;
        let pijlers = match &input.pijlers {
            Some(pijlers) => serde_json::Value::from(pijlers.iter().map(|p| p.0.clone()).collect::<Vec<_>>()),
            None => existing.as_ref().map_or_else(|| serde_json::Value::Array(Vec::new()), |e| e.pijlers.clone()),
        };
        let wanted = koersplan::Model {
            id: existing.as_ref().map_or(0, |e| e.id),
            key: key.to_string(),
            kindcentrum_id: kc,
            title: input.title.0.clone(),
            first_school_year: first,
            last_school_year: last,
            visie: input.visie.0.clone(),
            pijlers,
        };
        let plan = self.put::<koersplan::Entity>(existing, wanted).await?.id;

        let Some(ambities) = &input.ambitie else { return Ok(()) };
        let mut current =
            keyed(ambitie::Entity::find().filter(ambitie::Column::KoersplanId.eq(plan)).all(self.txn).await?, |a| {
                &a.key
            });
        let mut seen = HashMap::new();
        for (position, input) in (1..).zip(ambities) {
            check_unique(&mut seen, &input.key, "ambitie", self.at)?;
            let existing = current.remove(input.key.get_ref().as_str());
            let wanted = ambitie::Model {
                id: existing.as_ref().map_or(0, |e| e.id),
                koersplan_id: plan,
                key: input.key.get_ref().to_string(),
                position,
                title: input.title.0.clone(),
                description: merge(
                    input.description.as_ref(),
                    existing.as_ref().and_then(|e| e.description.clone()),
                    |d| d.0.clone(),
                ),
            };
            let ambitie = self.put::<ambitie::Entity>(existing, wanted).await?.id;
            if let Some(doelen) = &input.doel {
                self.doelen(ambitie, doelen, (first, last)).await?;
            }
        }
        self.remove::<ambitie::Entity>(current.into_values()).await
    }

    async fn doelen(&mut self, ambitie: i64, input: &[DoelIn], period: (SchoolYear, SchoolYear)) -> Result<()> {
        let mut current =
            keyed(doel::Entity::find().filter(doel::Column::AmbitieId.eq(ambitie)).all(self.txn).await?, |d| &d.key);
        let mut seen = HashMap::new();
        for (position, input) in (1..).zip(input) {
            check_unique(&mut seen, &input.key, "doel", self.at)?;
            let existing = current.remove(input.key.get_ref().as_str());
            let wanted = doel::Model {
                id: existing.as_ref().map_or(0, |e| e.id),
                ambitie_id: ambitie,
                key: input.key.get_ref().to_string(),
                position,
                title: input.title.0.clone(),
                description: merge(
                    input.description.as_ref(),
                    existing.as_ref().and_then(|e| e.description.clone()),
                    |d| d.0.clone(),
                ),
            };
            let doel = self.put::<doel::Entity>(existing, wanted).await?.id;

            if let Some(written) = &input.indicators {
                let mut indicators = BTreeSet::new();
                for key in written {
                    if !indicators.insert(self.indicator_id(key).await?) {
                        return Err(self.at.at(key, format!("indicator `{}` is listed twice", key.get_ref())));
                    }
                }
                let current_links = doel_indicator::Entity::find()
                    .filter(doel_indicator::Column::DoelId.eq(doel))
                    .all(self.txn)
                    .await?;
                let wanted_links = indicators
                    .into_iter()
                    .map(|indicator_id| doel_indicator::Model { doel_id: doel, indicator_id })
                    .collect();
                self.sync_links::<doel_indicator::Entity>(current_links, wanted_links).await?;
            }
            if let Some(succescriteria) = &input.succescriteria {
                self.succescriteria(doel, succescriteria).await?;
            }
            if let Some(planning) = &input.planning {
                self.planning(doel, planning, period).await?;
            }
        }
        self.remove::<doel::Entity>(current.into_values()).await
    }

    async fn succescriteria(&mut self, doel: i64, input: &[Spanned<CriteriumIn>]) -> Result<()> {
        let mut current = keyed(
            succescriterium::Entity::find().filter(succescriterium::Column::DoelId.eq(doel)).all(self.txn).await?,
            |c| &c.key,
        );
        let mut seen = HashSet::new();
        for (position, spanned) in (1..).zip(input) {
            let input = spanned.get_ref();
            let key = item_key(&input.key, position);
            if !seen.insert(key.clone()) {
                return Err(self.duplicate_item(spanned, &input.key, &key, "succescriterium"));
            }
            let existing = current.remove(key.as_str());
            let indicator_id = match input.indicator.as_ref().map(|field| (field, field.get_ref())) {
                None => existing.as_ref().and_then(|e| e.indicator_id),
                Some((_, Clearable::Clear)) => None,
                Some((field, Clearable::Set(key))) => {
                    Some(self.indicator_id(&Spanned::new(field.span(), key.clone())).await?)
                }
            };
            let wanted = succescriterium::Model {
                id: existing.as_ref().map_or(0, |e| e.id),
                doel_id: doel,
                key,
                position,
                description: input.description.0.clone(),
                indicator_id,
            };
            self.put::<succescriterium::Entity>(existing, wanted).await?;
        }
        self.remove::<succescriterium::Entity>(current.into_values()).await
    }

    async fn planning(
        &mut self,
        doel: i64,
        input: &[Spanned<PlanningIn>],
        (first, last): (SchoolYear, SchoolYear),
    ) -> Result<()> {
        let mut current = keyed(
            planning_item::Entity::find().filter(planning_item::Column::DoelId.eq(doel)).all(self.txn).await?,
            |p| &p.key,
        );
        let mut seen = HashSet::new();
        for (position, spanned) in (1..).zip(input) {
            let input = spanned.get_ref();
            let year = *input.school_year.get_ref();
            if year < first || year > last {
                return Err(self
                    .at
                    .at(&input.school_year, format!("{year} lies outside the plan period {first} .. {last}")));
            }
            let key = item_key(&input.key, position);
            if !seen.insert(key.clone()) {
                return Err(self.duplicate_item(spanned, &input.key, &key, "planning item"));
            }
            let existing = current.remove(key.as_str());
            let wanted = planning_item::Model {
                id: existing.as_ref().map_or(0, |e| e.id),
                doel_id: doel,
                key,
                position,
                school_year: year,
                text: input.text.0.clone(),
                status: input.status.or(existing.as_ref().map(|e| e.status)).unwrap_or(PlanningStatus::Gepland),
                note: match &input.note {
                    Some(note) => Some(note.trim().to_owned()).filter(|n| !n.is_empty()),
                    None => existing.as_ref().and_then(|e| e.note.clone()),
                },
            };
            self.put::<planning_item::Entity>(existing, wanted).await?;
        }
        self.remove::<planning_item::Entity>(current.into_values()).await
    }

    /// A succescriterium or planning item whose key an earlier one of the doel has: at its
    /// key, or at the item when it is keyed by its position.
    fn duplicate_item<T>(
        &self,
        item: &Spanned<T>,
        written: &Option<Spanned<Key>>,
        key: &str,
        what: &str,
    ) -> crate::Error {
        let message = format!(
            "an earlier {what} of this doel has the key `{key}` (one without a `key` is keyed by its position)"
        );
        match written {
            Some(written) => self.at.at(written, message),
            None => self.at.at(item, message),
        }
    }
}

/// The key of a succescriterium or planning item: its own, or its position.
fn item_key(key: &Option<Spanned<Key>>, position: i32) -> String {
    key.as_ref().map_or_else(|| position.to_string(), |k| k.get_ref().to_string())
}

/// Rows by their key, to find again what the file names and remove what it no longer does.
fn keyed<M>(rows: Vec<M>, key: impl Fn(&M) -> &String) -> HashMap<String, M> {
    rows.into_iter().map(|row| (key(&row).clone(), row)).collect()
}
