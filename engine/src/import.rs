//! Import of organisation data and koersplannen from TOML files (format: `workflows/README.md`).
//!
//! A file is parsed completely, then written in one transaction; any error rolls the whole
//! file back, so a bad file never leaves half its rows behind. Every row is found again by
//! the stable keys in the file, which makes importing idempotent and lets a changed file
//! update in place.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;
use std::path::Path;

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    IntoActiveModel, Iterable, PrimaryKeyToColumn, PrimaryKeyTrait, QueryFilter,
};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use crate::domain::{
    BestuurKind, Direction, Key, OnderdeelKind, PlanningStatus, Role, SchoolYear, TeamKind, VacationRegion,
};
use crate::entity::*;
use crate::error::{ImportError, Result};
use crate::measurement::{Period, check_value};

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
    let source = std::fs::read_to_string(path).map_err(|source| ImportError::Read { path: path.to_owned(), source })?;
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    import_str(db, &name, &source).await
}

/// Imports the text of a file; `file` names it in errors.
#[tracing::instrument(skip(db, source), fields(file = file))]
pub async fn import_str(db: &DatabaseConnection, file: &str, source: &str) -> Result<ImportReport> {
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
    };
    import.run(&parsed).await?;
    let report = import.report;
    txn.commit().await?;
    tracing::info!(?report, "imported");
    Ok(report)
}

// ---------------------------------------------------------------------------------------
// The file format. Everything that an error may have to point at is `Spanned`.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportFile {
    #[serde(default)]
    bestuur: Vec<BestuurIn>,
    #[serde(default)]
    kindcentrum: Vec<KindcentrumIn>,
    #[serde(default)]
    professional: Vec<ProfessionalIn>,
    #[serde(default)]
    indicator: Vec<IndicatorIn>,
    koersplan: Option<KoersplanIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BestuurIn {
    key: Spanned<Key>,
    name: Text,
    kind: BestuurKind,
    /// For a houder that offers voorschoolse educatie: the VE-indicated children per year.
    #[serde(default)]
    voorschoolse_educatie: Vec<Spanned<VeIn>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VeIn {
    /// The calendar year; the children are counted on 1 January.
    year: i32,
    /// VE-indicated children aged 2.5 to 4.
    children: i32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KindcentrumIn {
    key: Spanned<Key>,
    name: Text,
    plaats: Option<Text>,
    besturen: Spanned<Vec<Spanned<Key>>>,
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
    address: Option<Text>,
    vacation_region: Option<VacationRegion>,
    #[serde(default)]
    lrk: Vec<LrkIn>,
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
    max_children: Option<Spanned<i32>>,
    age_from: Option<Spanned<i32>>,
    age_until: Option<Spanned<i32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamIn {
    key: Spanned<Key>,
    name: Text,
    kind: TeamKind,
    #[serde(default)]
    members: Vec<Spanned<Key>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfessionalIn {
    key: Spanned<Key>,
    name: Text,
    employer: Spanned<Key>,
    #[serde(default)]
    kindcentra: Vec<Spanned<Key>>,
    #[serde(default)]
    roles: Vec<Role>,
    #[serde(default)]
    fte: Vec<Spanned<FteIn>>,
    #[serde(default)]
    flexible: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FteIn {
    from: Date,
    fte: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorIn {
    key: Spanned<Key>,
    name: Text,
    unit: Text,
    direction: Direction,
    target: Spanned<f64>,
    baseline: Option<Spanned<f64>>,
    bestuur: Option<Spanned<Key>>,
    kindcentrum: Option<Spanned<Key>>,
    locatie: Option<Spanned<Key>>,
    groep: Option<Spanned<Key>>,
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
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KoersplanIn {
    key: Spanned<Key>,
    kindcentrum: Spanned<Key>,
    title: Text,
    first_school_year: Spanned<SchoolYear>,
    last_school_year: Spanned<SchoolYear>,
    visie: Text,
    #[serde(default)]
    pijlers: Vec<Text>,
    #[serde(default)]
    ambitie: Vec<AmbitieIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AmbitieIn {
    key: Spanned<Key>,
    title: Text,
    description: Option<Text>,
    #[serde(default)]
    doel: Vec<DoelIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DoelIn {
    key: Spanned<Key>,
    title: Text,
    description: Option<Text>,
    #[serde(default)]
    indicators: Vec<Spanned<Key>>,
    #[serde(default)]
    succescriteria: Vec<Spanned<CriteriumIn>>,
    #[serde(default)]
    planning: Vec<Spanned<PlanningIn>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CriteriumIn {
    key: Option<Spanned<Key>>,
    description: Text,
    indicator: Option<Spanned<Key>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanningIn {
    key: Option<Spanned<Key>>,
    school_year: Spanned<SchoolYear>,
    text: Text,
    #[serde(default = "default_status")]
    status: PlanningStatus,
}

fn default_status() -> PlanningStatus {
    PlanningStatus::Gepland
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
// Writing.

/// Turns byte offsets into `file:line:column` errors.
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
        return Err(at.at(key, format!("duplicate {what} key `{}` (first used on line {first})", key.get_ref())));
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
            check_unique(&mut seen, &kindcentrum.key, "kindcentrum", self.at)?;
            self.kindcentrum(kindcentrum).await?;
        }
        let mut seen = HashMap::new();
        for professional in &file.professional {
            check_unique(&mut seen, &professional.key, "professional", self.at)?;
            self.professional(professional).await?;
        }
        // Teams come after professionals: their members may be defined further down.
        for kindcentrum in &file.kindcentrum {
            let kc = self.kindcentra[kindcentrum.key.get_ref()];
            let mut seen = HashMap::new();
            for team in &kindcentrum.team {
                check_unique(&mut seen, &team.key, "team", self.at)?;
                self.team(kc, team).await?;
            }
        }
        let mut seen = HashMap::new();
        for indicator in &file.indicator {
            check_unique(&mut seen, &indicator.key, "indicator", self.at)?;
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
        E::Model: IntoActiveModel<E::ActiveModel> + PartialEq,
        E::ActiveModel: ActiveModelTrait<Entity = E> + ActiveModelBehavior + Send,
    {
        match existing {
            Some(existing) if existing == wanted => {
                self.report.unchanged += 1;
                Ok(existing)
            }
            Some(_) => {
                self.report.updated += 1;
                Ok(wanted.into_active_model().reset_all().update(self.txn).await?)
            }
            None => {
                self.report.created += 1;
                let mut active = wanted.into_active_model().reset_all();
                for key in E::PrimaryKey::iter() {
                    active.not_set(key.into_column());
                }
                Ok(active.insert(self.txn).await?)
            }
        }
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

    /// Removes the rows of `E` with the given primary keys.
    async fn remove<E: EntityTrait>(&mut self, ids: impl IntoIterator<Item = i64>) -> Result<()>
    where
        i64: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    {
        for id in ids {
            self.report.removed += 1;
            E::delete_by_id(id).exec(self.txn).await?;
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
            .ok_or_else(|| self.at.at(key, format!("unknown bestuur `{}`", key.get_ref())))
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
            .ok_or_else(|| self.at.at(key, format!("unknown kindcentrum `{}`", key.get_ref())))
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
            .ok_or_else(|| self.at.at(key, format!("unknown professional `{}`", key.get_ref())))
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
            .ok_or_else(|| self.at.at(key, format!("unknown indicator `{}`", key.get_ref())))
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
        let existing = bestuur::Entity::find().filter(bestuur::Column::Key.eq(key.as_str())).one(self.txn).await?;
        let wanted = bestuur::Model {
            id: existing.as_ref().map_or(0, |e| e.id),
            key: key.to_string(),
            name: input.name.0.clone(),
            kind: input.kind,
        };
        let id = self.put::<bestuur::Entity>(existing, wanted).await?.id;
        self.besturen.insert(key.clone(), id);

        let mut rows: Vec<ve_indication::Model> = Vec::new();
        for ve in &input.voorschoolse_educatie {
            let VeIn { year, children } = *ve.get_ref();
            if input.kind != BestuurKind::Kinderopvang {
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
        let current =
            ve_indication::Entity::find().filter(ve_indication::Column::BestuurId.eq(id)).all(self.txn).await?;
        self.sync_links::<ve_indication::Entity>(current, rows).await
    }

    async fn kindcentrum(&mut self, input: &KindcentrumIn) -> Result<()> {
        let key = input.key.get_ref();
        if input.besturen.get_ref().is_empty() {
            return Err(self.at.at(&input.besturen, format!("kindcentrum `{key}` needs at least one bestuur")));
        }
        let mut besturen = BTreeSet::new();
        for bestuur in input.besturen.get_ref() {
            besturen.insert(self.bestuur_id(bestuur).await?);
        }
        let existing =
            kindcentrum::Entity::find().filter(kindcentrum::Column::Key.eq(key.as_str())).one(self.txn).await?;
        let wanted = kindcentrum::Model {
            id: existing.as_ref().map_or(0, |e| e.id),
            key: key.to_string(),
            name: input.name.0.clone(),
            plaats: input.plaats.as_ref().map(|p| p.0.clone()),
        };
        let kc = self.put::<kindcentrum::Entity>(existing, wanted).await?.id;
        let current = kindcentrum_bestuur::Entity::find()
            .filter(kindcentrum_bestuur::Column::KindcentrumId.eq(kc))
            .all(self.txn)
            .await?;
        let links =
            besturen.iter().map(|&bestuur_id| kindcentrum_bestuur::Model { kindcentrum_id: kc, bestuur_id }).collect();
        self.sync_links::<kindcentrum_bestuur::Entity>(current, links).await?;
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
            let wanted = locatie::Model {
                id: existing.as_ref().map_or(0, |e| e.id),
                kindcentrum_id: kc,
                key: locatie.key.get_ref().to_string(),
                name: locatie.name.0.clone(),
                address: locatie.address.as_ref().map(|a| a.0.clone()),
                vacation_region: locatie.vacation_region,
            };
            let loc = self.put::<locatie::Entity>(existing, wanted).await?.id;
            self.lrk_registrations(kc, loc, &locatie.lrk, &mut onderdelen).await?;
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
        let id =
            found.map(|o| o.id).ok_or_else(|| self.at.at(key, format!("unknown onderdeel `{}`", key.get_ref())))?;
        known.insert(key.get_ref().clone(), id);
        Ok(id)
    }

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
                return Err(self.at.at(&lrk.number, format!("duplicate LRK number {number}")));
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
        // The registrations of a locatie are an attribute of it: the file lists them all.
        self.remove::<lrk_registration::Entity>(current.into_values().map(|r| r.id)).await
    }

    async fn groep(&mut self, kc: i64, loc: i64, input: &GroepIn, onderdelen: &mut HashMap<Key, i64>) -> Result<()> {
        let onderdeel_id = self.onderdeel_id(kc, &input.onderdeel, onderdelen).await?;
        if let Some(max) = &input.max_children
            && *max.get_ref() < 1
        {
            return Err(self.at.at(max, "max_children must be at least 1".to_owned()));
        }
        for age in [&input.age_from, &input.age_until].into_iter().flatten() {
            if !(0..=18).contains(age.get_ref()) {
                return Err(self.at.at(age, "an age must be between 0 and 18 years".to_owned()));
            }
        }
        if let (Some(from), Some(until)) = (&input.age_from, &input.age_until)
            && from.get_ref() > until.get_ref()
        {
            return Err(self.at.at(until, "age_until must not be below age_from".to_owned()));
        }
        let existing =
            self.child::<groep::Entity>(groep::Column::Key, groep::Column::LocatieId, loc, input.key.get_ref()).await?;
        let wanted = groep::Model {
            id: existing.as_ref().map_or(0, |e| e.id),
            locatie_id: loc,
            onderdeel_id,
            key: input.key.get_ref().to_string(),
            name: input.name.0.clone(),
            max_children: input.max_children.as_ref().map(|v| *v.get_ref()),
            age_from: input.age_from.as_ref().map(|v| *v.get_ref()),
            age_until: input.age_until.as_ref().map(|v| *v.get_ref()),
        };
        self.put::<groep::Entity>(existing, wanted).await?;
        Ok(())
    }

    async fn professional(&mut self, input: &ProfessionalIn) -> Result<()> {
        let key = input.key.get_ref();
        let employer_bestuur_id = self.bestuur_id(&input.employer).await?;
        let existing =
            professional::Entity::find().filter(professional::Column::Key.eq(key.as_str())).one(self.txn).await?;
        let wanted = professional::Model {
            id: existing.as_ref().map_or(0, |e| e.id),
            key: key.to_string(),
            name: input.name.0.clone(),
            employer_bestuur_id,
            flexible: input.flexible,
        };
        let id = self.put::<professional::Entity>(existing, wanted).await?.id;
        self.professionals.insert(key.clone(), id);

        let mut kindcentra = BTreeSet::new();
        for kc in &input.kindcentra {
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

        let roles: BTreeSet<Role> = input.roles.iter().copied().collect();
        let current = professional_role::Entity::find()
            .filter(professional_role::Column::ProfessionalId.eq(id))
            .all(self.txn)
            .await?;
        let wanted = roles.into_iter().map(|role| professional_role::Model { professional_id: id, role }).collect();
        self.sync_links::<professional_role::Entity>(current, wanted).await?;

        let mut fte_rows: Vec<professional_fte::Model> = Vec::new();
        for fte in &input.fte {
            let FteIn { from, fte: value } = fte.get_ref();
            if !(0.0..=2.0).contains(value) {
                return Err(self.at.at(fte, format!("fte {value} must be between 0 and 2")));
            }
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
        let mut members = BTreeSet::new();
        for member in &input.members {
            members.insert(self.professional_id(member).await?);
        }
        let current = team_member::Entity::find().filter(team_member::Column::TeamId.eq(team_id)).all(self.txn).await?;
        let wanted =
            members.into_iter().map(|professional_id| team_member::Model { team_id, professional_id }).collect();
        self.sync_links::<team_member::Entity>(current, wanted).await
    }

    async fn indicator(&mut self, input: &IndicatorIn) -> Result<()> {
        let key = input.key.get_ref();
        let (bestuur_id, kindcentrum_id, locatie_id, groep_id) = self.scope(input).await?;
        for value in [Some(&input.target), input.baseline.as_ref()].into_iter().flatten() {
            if !value.get_ref().is_finite() {
                return Err(self.at.at(value, "must be a finite number".to_owned()));
            }
        }
        let existing = indicator::Entity::find().filter(indicator::Column::Key.eq(key.as_str())).one(self.txn).await?;
        let wanted = indicator::Model {
            id: existing.as_ref().map_or(0, |e| e.id),
            key: key.to_string(),
            name: input.name.0.clone(),
            unit: input.unit.0.clone(),
            direction: input.direction,
            target: *input.target.get_ref(),
            baseline: input.baseline.as_ref().map(|b| *b.get_ref()),
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
                return Err(self.at.at(spanned, format!("two measurements of indicator `{key}` for the same period")));
            }
            let existing = current.remove(&(start, end));
            let wanted = measurement::Model {
                id: existing.as_ref().map_or(0, |e| e.id),
                indicator_id: id,
                period_start: start,
                period_end: end,
                value: m.value,
                source: m.source.0.clone(),
                note: m.note.clone().filter(|n| !n.trim().is_empty()),
            };
            self.put::<measurement::Entity>(existing, wanted).await?;
        }
        // Measurements recorded outside this file (through the API) are kept.
        Ok(())
    }

    async fn scope(&mut self, input: &IndicatorIn) -> Result<(Option<i64>, Option<i64>, Option<i64>, Option<i64>)> {
        match (&input.bestuur, &input.kindcentrum) {
            (Some(bestuur), None) => {
                if let Some(extra) = input.locatie.as_ref().or(input.groep.as_ref()) {
                    return Err(self
                        .at
                        .at(extra, "an indicator of a bestuur cannot be narrowed to a locatie or groep".to_owned()));
                }
                Ok((Some(self.bestuur_id(bestuur).await?), None, None, None))
            }
            (None, Some(kc_key)) => {
                let kc = self.kindcentrum_id(kc_key).await?;
                let Some(locatie_key) = &input.locatie else {
                    if let Some(groep) = &input.groep {
                        return Err(self.at.at(groep, "an indicator of a groep also names its locatie".to_owned()));
                    }
                    return Ok((None, Some(kc), None, None));
                };
                let loc = self
                    .child::<locatie::Entity>(
                        locatie::Column::Key,
                        locatie::Column::KindcentrumId,
                        kc,
                        locatie_key.get_ref(),
                    )
                    .await?
                    .ok_or_else(|| self.at.at(locatie_key, format!("unknown locatie `{}`", locatie_key.get_ref())))?
                    .id;
                let Some(groep_key) = &input.groep else { return Ok((None, Some(kc), Some(loc), None)) };
                let groep = self
                    .child::<groep::Entity>(groep::Column::Key, groep::Column::LocatieId, loc, groep_key.get_ref())
                    .await?
                    .ok_or_else(|| self.at.at(groep_key, format!("unknown groep `{}`", groep_key.get_ref())))?
                    .id;
                Ok((None, Some(kc), Some(loc), Some(groep)))
            }
            _ => Err(self.at.at(
                &input.key,
                format!("indicator `{}` needs exactly one scope: `bestuur` or `kindcentrum`", input.key.get_ref()),
            )),
        }
    }

    async fn koersplan(&mut self, input: &KoersplanIn) -> Result<()> {
        let key = input.key.get_ref();
        let kc = self.kindcentrum_id(&input.kindcentrum).await?;
        let (first, last) = (*input.first_school_year.get_ref(), *input.last_school_year.get_ref());
        if last < first {
            return Err(self.at.at(
                &input.last_school_year,
                format!("last_school_year {last} lies before first_school_year {first}"),
            ));
        }
        let existing = koersplan::Entity::find().filter(koersplan::Column::Key.eq(key.as_str())).one(self.txn).await?;
        let wanted = koersplan::Model {
            id: existing.as_ref().map_or(0, |e| e.id),
            key: key.to_string(),
            kindcentrum_id: kc,
            title: input.title.0.clone(),
            first_school_year: first,
            last_school_year: last,
            visie: input.visie.0.clone(),
            pijlers: serde_json::Value::from(input.pijlers.iter().map(|p| p.0.clone()).collect::<Vec<_>>()),
        };
        let plan = self.put::<koersplan::Entity>(existing, wanted).await?.id;

        let mut current =
            keyed(ambitie::Entity::find().filter(ambitie::Column::KoersplanId.eq(plan)).all(self.txn).await?, |a| {
                &a.key
            });
        let mut seen = HashMap::new();
        for (position, input) in (1..).zip(&input.ambitie) {
            check_unique(&mut seen, &input.key, "ambitie", self.at)?;
            let existing = current.remove(input.key.get_ref().as_str());
            let wanted = ambitie::Model {
                id: existing.as_ref().map_or(0, |e| e.id),
                koersplan_id: plan,
                key: input.key.get_ref().to_string(),
                position,
                title: input.title.0.clone(),
                description: input.description.as_ref().map(|d| d.0.clone()),
            };
            let ambitie = self.put::<ambitie::Entity>(existing, wanted).await?.id;
            self.doelen(ambitie, &input.doel, (first, last)).await?;
        }
        self.remove::<ambitie::Entity>(current.into_values().map(|a| a.id)).await
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
                description: input.description.as_ref().map(|d| d.0.clone()),
            };
            let doel = self.put::<doel::Entity>(existing, wanted).await?.id;

            let mut indicators = BTreeSet::new();
            for key in &input.indicators {
                if !indicators.insert(self.indicator_id(key).await?) {
                    return Err(self.at.at(key, format!("indicator `{}` is listed twice", key.get_ref())));
                }
            }
            let current_links =
                doel_indicator::Entity::find().filter(doel_indicator::Column::DoelId.eq(doel)).all(self.txn).await?;
            let wanted_links = indicators
                .into_iter()
                .map(|indicator_id| doel_indicator::Model { doel_id: doel, indicator_id })
                .collect();
            self.sync_links::<doel_indicator::Entity>(current_links, wanted_links).await?;

            self.succescriteria(doel, &input.succescriteria).await?;
            self.planning(doel, &input.planning, period).await?;
        }
        self.remove::<doel::Entity>(current.into_values().map(|d| d.id)).await
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
                return Err(self.at.at(spanned, format!("duplicate succescriterium key `{key}`")));
            }
            let indicator_id = match &input.indicator {
                Some(key) => Some(self.indicator_id(key).await?),
                None => None,
            };
            let existing = current.remove(key.as_str());
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
        self.remove::<succescriterium::Entity>(current.into_values().map(|c| c.id)).await
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
                return Err(self.at.at(
                    &input.school_year,
                    format!("planning item `school_year` {year} lies outside the plan period {first} .. {last}"),
                ));
            }
            let key = item_key(&input.key, position);
            if !seen.insert(key.clone()) {
                return Err(self.at.at(spanned, format!("duplicate planning key `{key}`")));
            }
            let existing = current.remove(key.as_str());
            let wanted = planning_item::Model {
                id: existing.as_ref().map_or(0, |e| e.id),
                doel_id: doel,
                key,
                position,
                school_year: year,
                text: input.text.0.clone(),
                status: input.status,
            };
            self.put::<planning_item::Entity>(existing, wanted).await?;
        }
        self.remove::<planning_item::Entity>(current.into_values().map(|p| p.id)).await
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
