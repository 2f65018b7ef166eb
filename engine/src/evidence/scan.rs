//! Welbevinden/betrokkenheid scans on the Leuven scales (LWS and LBS of Laevers, CEGO).
//!
//! Each quarter a groep is scanned: per child under a pseudonymous child code (technique
//! `kind`) or once for the whole groep (technique `groep`), always on both scales. A scan is
//! the `scan` phase of the groep's pedagogische kwaliteitscyclus: recording one fills that
//! phase (the means, the scan date and the signals) in the same transaction, so the goals
//! the team sets afterwards in the `doelen` phase of that iteration belong to the scan.
//!
//! The three CEGO bands read a score: 4 to 5 "alles gaat goed", 2+ to 3+ "vraagt onze
//! aandacht", 1 to 2 "hier moet men ter hulp snellen". A child in the last band is a signal
//! for the mentor.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
};
use serde_json::Value;

use crate::Engine;
use crate::cycle::machine::{Command, Status, Values};
use crate::cycle::{CycleEventRecord, Owner, StartCycle, state_of};
use crate::error::{Error, Result};
use crate::store::entity::{cycle, groep, occurrence, scan, scan_score};
use crate::store::query::{LATER, latest_of, latest_of_each};

/// The workflow a scan is the first phase of.
pub const WORKFLOW: &str = "pedagogische-kwaliteitscyclus";
/// The phase a scan fills.
pub const SCAN_PHASE: &str = "scan";
/// The phase whose fields are the goals set after a scan.
pub const DOELEN_PHASE: &str = "doelen";

// --- Leuven score ------------------------------------------------------------------------

/// A point on a Leuven scale: 1 to 5, with the half points 1+, 2+, 3+ and 4+ (stored as
/// 1.5 to 4.5). Held as twice the score, so that equality and ordering are exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LeuvenScore(u8);

/// Why a value is not a Leuven score.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("score {0} is not on the Leuven scale: 1, 1+, 2, 2+, 3, 3+, 4, 4+, 5")]
pub struct ScoreError(String);

impl LeuvenScore {
    /// Every point of the scale, low to high.
    pub fn all() -> impl Iterator<Item = LeuvenScore> {
        (2..=10).map(LeuvenScore)
    }

    /// A score from its number: 1, 1.5, 2, ..., 4.5, 5.
    pub fn from_f64(value: f64) -> Result<LeuvenScore, ScoreError> {
        let doubled = value * 2.0;
        if value.is_finite() && doubled.fract() == 0.0 && (2.0..=10.0).contains(&doubled) {
            Ok(LeuvenScore(doubled as u8))
        } else {
            Err(ScoreError(value.to_string()))
        }
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 2.0
    }

    /// The band this score lies in.
    pub fn band(self) -> Band {
        match self.0 {
            ..=4 => Band::Urgent,
            5..=7 => Band::Aandacht,
            _ => Band::Goed,
        }
    }
}

impl fmt::Display for LeuvenScore {
    /// `3` or `3+`, as the scale writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.0 / 2, if self.0 % 2 == 1 { "+" } else { "" })
    }
}

impl FromStr for LeuvenScore {
    type Err = ScoreError;

    /// Accepts `3`, `3+`, `3.5` and the Dutch `3,5`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let refuse = || ScoreError(text.to_owned());
        if let Some(base) = text.strip_suffix('+') {
            return match base.trim().parse::<u8>() {
                Ok(base @ 1..=4) => Ok(LeuvenScore(base * 2 + 1)),
                _ => Err(refuse()),
            };
        }
        let value: f64 = text.replace(',', ".").parse().map_err(|_| refuse())?;
        LeuvenScore::from_f64(value).map_err(|_| refuse())
    }
}

/// A CEGO band of the Leuven scales.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Band {
    /// 4 to 5: alles gaat goed.
    Goed,
    /// 2+ to 3+: vraagt onze aandacht.
    Aandacht,
    /// 1 to 2: hier moet men ter hulp snellen.
    Urgent,
}

impl Band {
    /// The band's name in CEGO's words.
    pub fn description(self) -> &'static str {
        match self {
            Band::Goed => "alles gaat goed",
            Band::Aandacht => "vraagt onze aandacht",
            Band::Urgent => "hier moet men ter hulp snellen",
        }
    }
}

// --- Child code --------------------------------------------------------------------------

/// A pseudonymous code for a child, never a name: 1 to 32 letters, digits, `-` or `_`,
/// with at least one digit (which a first name lacks).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChildCode(String);

impl ChildCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for ChildCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ChildCode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim();
        if code.is_empty() {
            return Err("a child code is empty".into());
        }
        if code.chars().count() > 32 {
            return Err(format!("child code `{code}` is longer than 32 characters"));
        }
        if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(format!("child code `{code}` may only hold letters, digits, `-` and `_`"));
        }
        if !code.chars().any(|c| c.is_ascii_digit()) {
            return Err(format!(
                "child code `{code}` has no digit: use a pseudonymous code such as `k07`, never a child's name"
            ));
        }
        Ok(ChildCode(code.to_owned()))
    }
}

// --- Quarter -----------------------------------------------------------------------------

/// A calendar quarter, written `2026 K3`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quarter {
    pub year: i32,
    /// 1 to 4.
    pub quarter: i32,
}

impl Quarter {
    /// The quarter a date falls in.
    pub fn containing(date: NaiveDate) -> Quarter {
        Quarter { year: date.year(), quarter: date.month0() as i32 / 3 + 1 }
    }

    /// The quarter of a stored scan.
    pub fn of(scan: &scan::Model) -> Quarter {
        Quarter { year: scan.year, quarter: scan.quarter }
    }

    /// The quarter before: K1 follows K4 of the year before.
    pub fn previous(self) -> Quarter {
        if self.quarter <= 1 {
            Quarter { year: self.year - 1, quarter: 4 }
        } else {
            Quarter { year: self.year, quarter: self.quarter - 1 }
        }
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} K{}", self.year, self.quarter)
    }
}

// --- Input -------------------------------------------------------------------------------

/// How a groep was scanned; defined in `domain`, because the `scan` table stores it.
pub use crate::domain::ScanTechnique as Technique;

/// The two Leuven scales.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scale {
    /// LWS: zit het kind lekker in zijn vel?
    Welbevinden,
    /// LBS: hoe geboeid en geconcentreerd is het kind bezig?
    Betrokkenheid,
}

impl Scale {
    /// The name of the scale as it is written in Dutch.
    pub fn name(self) -> &'static str {
        match self {
            Scale::Welbevinden => "Welbevinden",
            Scale::Betrokkenheid => "Betrokkenheid",
        }
    }
}

/// The scores of one child (or of the groep) in a scan.
#[derive(Clone, Debug, PartialEq)]
pub struct NewScore {
    /// None for the one score of the group scanning technique.
    pub child_code: Option<ChildCode>,
    pub welbevinden: LeuvenScore,
    pub betrokkenheid: LeuvenScore,
}

impl NewScore {
    /// Parses row `row` (counting from 1) of a scan as it arrives from outside; the error
    /// names the row and the child.
    pub fn parse(row: usize, child_code: Option<&str>, welbevinden: f64, betrokkenheid: f64) -> Result<NewScore> {
        let at = match child_code.map(str::trim).filter(|c| !c.is_empty()) {
            Some(code) => format!("score row {row} (child `{code}`)"),
            None => format!("score row {row}"),
        };
        let child_code = child_code
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::parse::<ChildCode>)
            .transpose()
            .map_err(|why| Error::Validation(format!("{at}: {why}")))?;
        let score = |scale: &str, value: f64| {
            LeuvenScore::from_f64(value).map_err(|why| Error::Validation(format!("{at}: {scale}: {why}")))
        };
        Ok(NewScore {
            child_code,
            welbevinden: score("welbevinden", welbevinden)?,
            betrokkenheid: score("betrokkenheid", betrokkenheid)?,
        })
    }

    fn score(&self, scale: Scale) -> LeuvenScore {
        match scale {
            Scale::Welbevinden => self.welbevinden,
            Scale::Betrokkenheid => self.betrokkenheid,
        }
    }
}

/// What `record_scan` needs.
#[derive(Clone, Debug)]
pub struct NewScan {
    pub groep_id: i64,
    pub scanned_on: NaiveDate,
    pub technique: Technique,
    pub scores: Vec<NewScore>,
    pub note: Option<String>,
}

// --- Summary -----------------------------------------------------------------------------

/// How many scores lie in each band.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BandCounts {
    pub goed: u32,
    pub aandacht: u32,
    pub urgent: u32,
}

/// One scale of a scan, summarised.
#[derive(Clone, Debug, PartialEq)]
pub struct ScaleSummary {
    /// The mean score, rounded to two decimals.
    pub mean: f64,
    /// The number of scores on each point of the scale, 1 to 5, zeros included.
    pub distribution: Vec<(LeuvenScore, u32)>,
    pub bands: BandCounts,
    /// The children scoring 2+ to 3+, by code.
    pub attention_children: Vec<String>,
    /// The children scoring 1 to 2, by code: a signal for the mentor.
    pub urgent_children: Vec<String>,
    /// The mean minus the mean of the groep's scan in the quarter before, rounded to two
    /// decimals; None without such a scan.
    pub change: Option<f64>,
}

/// The mean of one scale of a scan and its change: the part of the summary the board shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleMean {
    /// The mean score, rounded to two decimals.
    pub mean: f64,
    /// The mean minus the mean of the groep's scan in the quarter before, rounded to two
    /// decimals; None without such a scan.
    pub change: Option<f64>,
}

impl ScaleMean {
    /// From the unrounded means of the scan and of the groep's scan the quarter before.
    fn of(mean: f64, before: Option<f64>) -> ScaleMean {
        ScaleMean { mean: round2(mean), change: before.map(|before| round2(mean - before)) }
    }
}

/// The means of a scan per scale, averaged in SQL without reading its scores.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanMeans {
    pub scan_id: i64,
    /// The groep's scan in the quarter before, if there is one.
    pub previous_scan_id: Option<i64>,
    pub welbevinden: ScaleMean,
    pub betrokkenheid: ScaleMean,
}

/// The unrounded means of a scan's scores per scale.
#[derive(Debug, FromQueryResult)]
struct RawMeans {
    scan_id: i64,
    welbevinden: f64,
    betrokkenheid: f64,
}

/// A scan summarised per scale.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanSummary {
    pub scan_id: i64,
    /// The groep's scan in the quarter before, if there is one.
    pub previous_scan_id: Option<i64>,
    pub welbevinden: ScaleSummary,
    pub betrokkenheid: ScaleSummary,
}

/// The goals set after a scan: the `doelen` phase of the cycle iteration the scan opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanGoals {
    pub locatiedoelen: Vec<String>,
    pub teamdoelen: Vec<String>,
    pub individuele_doelen: Vec<String>,
}

impl ScanGoals {
    pub fn is_empty(&self) -> bool {
        self.locatiedoelen.is_empty() && self.teamdoelen.is_empty() && self.individuele_doelen.is_empty()
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The unrounded mean of scores; None without any.
fn raw_mean(scores: &[LeuvenScore]) -> Option<f64> {
    (!scores.is_empty()).then(|| scores.iter().map(|s| s.as_f64()).sum::<f64>() / scores.len() as f64)
}

impl ScaleSummary {
    /// Summarises one scale of a scan's scores (child code, score); `previous` are the
    /// scores of the quarter before, for the change of the mean. None without scores.
    pub fn of<'a>(
        scores: impl IntoIterator<Item = (Option<&'a str>, LeuvenScore)>,
        previous: Option<&[LeuvenScore]>,
    ) -> Option<ScaleSummary> {
        let scores: Vec<(Option<&str>, LeuvenScore)> = scores.into_iter().collect();
        let values: Vec<LeuvenScore> = scores.iter().map(|(_, s)| *s).collect();
        let mean = raw_mean(&values)?;
        let mut distribution: BTreeMap<LeuvenScore, u32> = LeuvenScore::all().map(|s| (s, 0)).collect();
        let mut bands = BandCounts::default();
        let (mut attention, mut urgent) = (BTreeSet::new(), BTreeSet::new());
        for (child, score) in &scores {
            *distribution.entry(*score).or_default() += 1;
            match score.band() {
                Band::Goed => bands.goed += 1,
                Band::Aandacht => {
                    bands.aandacht += 1;
                    attention.extend(child.map(str::to_owned));
                }
                Band::Urgent => {
                    bands.urgent += 1;
                    urgent.extend(child.map(str::to_owned));
                }
            }
        }
        let ScaleMean { mean, change } = ScaleMean::of(mean, previous.and_then(raw_mean));
        Some(ScaleSummary {
            mean,
            distribution: distribution.into_iter().collect(),
            bands,
            attention_children: attention.into_iter().collect(),
            urgent_children: urgent.into_iter().collect(),
            change,
        })
    }
}

/// A score as stored; the engine only ever writes valid ones.
fn stored(value: f64) -> Result<LeuvenScore> {
    LeuvenScore::from_f64(value).map_err(|e| Error::Database(DbErr::Custom(format!("stored scan score: {e}"))))
}

/// The scores of one scale of stored rows, with their child codes.
fn scale_of(rows: &[scan_score::Model], scale: Scale) -> Result<Vec<(Option<&str>, LeuvenScore)>> {
    rows.iter()
        .map(|r| {
            let value = match scale {
                Scale::Welbevinden => r.welbevinden,
                Scale::Betrokkenheid => r.betrokkenheid,
            };
            Ok((r.child_code.as_deref(), stored(value)?))
        })
        .collect()
}

/// The goals in the `doelen` phase of `iteration` of a pedagogische-kwaliteitscyclus.
pub fn goals_in(cycle: &cycle::Model, iteration: i32) -> Result<ScanGoals> {
    let state = state_of(cycle)?;
    let doelen = state.fields.get(&iteration).and_then(|phases| phases.get(DOELEN_PHASE));
    let list = |key: &str| -> Vec<String> {
        doelen
            .and_then(|values| values.get(key))
            .and_then(Value::as_array)
            .map(|items| items.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    Ok(ScanGoals {
        locatiedoelen: list("locatiedoelen"),
        teamdoelen: list("teamdoelen"),
        individuele_doelen: list("individueleDoelen"),
    })
}

/// Refuses a set of scores that does not fit the technique.
pub(crate) fn check_scores(technique: Technique, scores: &[NewScore]) -> Result<()> {
    if scores.is_empty() {
        return Err(Error::Validation("a scan needs at least one score".into()));
    }
    match technique {
        Technique::Groep => {
            if scores.len() != 1 {
                return Err(Error::Validation(format!(
                    "the group scanning technique has exactly one score for the whole groep, not {}",
                    scores.len()
                )));
            }
            if let Some(code) = &scores[0].child_code {
                return Err(Error::Validation(format!(
                    "the group scanning technique scores the whole groep, without a child code (got `{code}`)"
                )));
            }
        }
        Technique::Kind => {
            let mut seen = HashSet::new();
            for (i, score) in scores.iter().enumerate() {
                let Some(code) = &score.child_code else {
                    return Err(Error::Validation(format!(
                        "score row {}: the technique `kind` needs a child code for every score",
                        i + 1
                    )));
                };
                if !seen.insert(code.as_str()) {
                    return Err(Error::Validation(format!("child `{code}` is scored twice in this scan")));
                }
            }
        }
    }
    Ok(())
}

/// The quarters the store holds a scan for, of these groepen.
pub(crate) async fn scanned_quarters<C: ConnectionTrait>(
    db: &C,
    groepen: impl IntoIterator<Item = i64>,
) -> Result<HashSet<(i64, Quarter)>> {
    let groepen: BTreeSet<i64> = groepen.into_iter().collect();
    let stored: Vec<(i64, i32, i32)> = scan::Entity::find()
        .select_only()
        .columns([scan::Column::GroepId, scan::Column::Year, scan::Column::Quarter])
        .filter(scan::Column::GroepId.is_in(groepen))
        .into_tuple()
        .all(db)
        .await?;
    Ok(stored.into_iter().map(|(groep, year, quarter)| (groep, Quarter { year, quarter })).collect())
}

/// The `signalen` of the scan phase: per scale, how many children are in the urgent band
/// (or that the groep, scanned as a whole, is).
///
/// Which children they are is for the coach alone and stays with the scan's scores
/// (`Scan.urgentChildren`): the cycle, its events and their subscribers are seen by every
/// role that sees the groep, so no child code is ever written into them.
fn signalen(scores: &[NewScore]) -> String {
    [Scale::Welbevinden, Scale::Betrokkenheid]
        .into_iter()
        .filter_map(|scale| {
            let urgent: Vec<&NewScore> = scores.iter().filter(|s| s.score(scale).band() == Band::Urgent).collect();
            let who = match urgent.as_slice() {
                [] => return None,
                [whole] if whole.child_code.is_none() => "de groep".to_owned(),
                [_] => "1 kind".to_owned(),
                children => format!("{} kinderen", children.len()),
            };
            Some(format!("{} 1 tot 2 ({}): {who}", scale.name(), Band::Urgent.description()))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The id of the latest scan up to the peildatum (latest day, then latest written) of the
/// groep in `groep`: picked in SQL by the index on (groep, scanned on, id).
fn latest_scan(peildatum: NaiveDate, groep: sea_orm::sea_query::ColumnRef) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait};
    let within = sea_orm::Condition::all().add(Expr::col((Alias::new(LATER), scan::Column::ScannedOn)).lte(peildatum));
    latest_of(
        scan::Entity,
        scan::Column::Id,
        scan::Column::GroepId,
        &[scan::Column::ScannedOn, scan::Column::Id],
        within,
        groep,
    )
}

impl Engine {
    /// Records a scan and fills the `scan` phase of the groep's pedagogische
    /// kwaliteitscyclus with it (starting a cycle when none waits in that phase).
    #[tracing::instrument(skip(self, input), fields(groep = input.groep_id, scanned_on = %input.scanned_on))]
    pub async fn record_scan(&self, actor: &str, input: NewScan) -> Result<scan::Model> {
        let txn = crate::store::begin_write(self.db()).await?;
        let (row, records) = self.record_scan_in(&txn, actor, input).await?;
        txn.commit().await?;
        for record in records {
            self.publish(record);
        }
        Ok(row)
    }

    /// Records a scan within the caller's transaction; the caller publishes the cycle
    /// events after commit (a started cycle gives two: `started` and `fields_updated`).
    pub(crate) async fn record_scan_in(
        &self,
        txn: &DatabaseTransaction,
        actor: &str,
        input: NewScan,
    ) -> Result<(scan::Model, Vec<CycleEventRecord>)> {
        let groep = groep::Entity::find_by_id(input.groep_id).one(txn).await?;
        let groep = self.for_change(groep, "groep", input.groep_id, crate::access::Change::Scans)?;
        check_scores(input.technique, &input.scores)?;
        let quarter = Quarter::containing(input.scanned_on);
        let existing = scan::Entity::find()
            .filter(scan::Column::GroepId.eq(groep.id))
            .filter(scan::Column::Year.eq(quarter.year))
            .filter(scan::Column::Quarter.eq(quarter.quarter))
            .one(txn)
            .await?;
        if let Some(existing) = existing {
            return Err(Error::Validation(format!(
                "groep `{}` already has a scan for {quarter} (scanned on {}); one scan per groep per quarter",
                groep.name, existing.scanned_on
            )));
        }

        let mut records = Vec::new();
        let cycle = match self.waiting_cycle(txn, groep.id, quarter).await? {
            Some(cycle) => cycle,
            None => {
                let start = StartCycle {
                    workflow: WORKFLOW.to_owned(),
                    title: format!("Scan welbevinden en betrokkenheid {} {quarter}", groep.name),
                    owner: Owner::Groep(groep.id),
                    doelen: Vec::new(),
                    due_dates: BTreeMap::new(),
                    occurrence_id: None,
                };
                let (cycle, record) = self.start_cycle_in(txn, actor, start).await?;
                records.push(record);
                cycle
            }
        };
        let means = |scale| {
            let scores: Vec<LeuvenScore> = input.scores.iter().map(|s: &NewScore| s.score(scale)).collect();
            raw_mean(&scores).map_or(Value::Null, |m| Value::from(round2(m)))
        };
        // The scan owns these four fields of its iteration: `signalen` is written even when
        // empty, so the phase always says what this scan signalled.
        let values: Values = [
            ("welbevinden", means(Scale::Welbevinden)),
            ("betrokkenheid", means(Scale::Betrokkenheid)),
            ("signalen", Value::from(signalen(&input.scores))),
            ("scandatum", Value::from(input.scanned_on.to_string())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let (_, record) =
            self.execute_in(txn, actor, cycle.id, cycle.version, Command::UpdateFields { values }).await?;
        records.push(record);

        let note = input.note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        let row = scan::ActiveModel {
            groep_id: Set(groep.id),
            year: Set(quarter.year),
            quarter: Set(quarter.quarter),
            scanned_on: Set(input.scanned_on),
            technique: Set(input.technique),
            cycle_id: Set(Some(cycle.id)),
            iteration: Set(Some(cycle.iteration)),
            note: Set(note),
            actor: Set(actor.to_owned()),
            created_at: Set(self.clock().now()),
            ..Default::default()
        }
        .insert(txn)
        .await
        .map_err(|e| match e.sql_err() {
            // A concurrent writer recorded the quarter between our check and our insert.
            Some(SqlErr::UniqueConstraintViolation(_)) => {
                Error::Validation(format!("groep `{}` already has a scan for {quarter}", groep.name))
            }
            _ => Error::Database(e),
        })?;
        let scores = input.scores.iter().map(|s| scan_score::ActiveModel {
            scan_id: Set(row.id),
            child_code: Set(s.child_code.as_ref().map(|c| c.as_str().to_owned())),
            welbevinden: Set(s.welbevinden.as_f64()),
            betrokkenheid: Set(s.betrokkenheid.as_f64()),
            ..Default::default()
        });
        scan_score::Entity::insert_many(scores).exec(txn).await?;
        tracing::info!(scan = row.id, cycle = cycle.id, iteration = cycle.iteration, %quarter, "scan recorded");
        Ok((row, records))
    }

    /// The groep's open pedagogische kwaliteitscyclus whose current iteration waits in its
    /// `scan` phase for the scan of `quarter`: opened by the calendar for that quarter, or
    /// waiting for no quarter in particular (started by hand, or iterated from
    /// `evaluatie`) after scans of earlier quarters only. An iteration that already holds a
    /// scan does not wait for another one; a cycle the calendar opened for another quarter
    /// waits for that quarter's scan.
    async fn waiting_cycle(
        &self,
        txn: &DatabaseTransaction,
        groep_id: i64,
        quarter: Quarter,
    ) -> Result<Option<cycle::Model>> {
        let candidates = cycle::Entity::find()
            .filter(cycle::Column::GroepId.eq(groep_id))
            .filter(cycle::Column::WorkflowKey.eq(WORKFLOW))
            .filter(cycle::Column::Status.eq(Status::Open))
            .filter(cycle::Column::Phase.eq(SCAN_PHASE))
            .order_by_asc(cycle::Column::Id)
            .all(txn)
            .await?;
        if candidates.is_empty() {
            return Ok(None);
        }
        let scans =
            scan::Entity::find().filter(scan::Column::CycleId.is_in(candidates.iter().map(|c| c.id))).all(txn).await?;
        let occurrences: HashMap<i64, Quarter> = occurrence::Entity::find()
            .filter(occurrence::Column::Id.is_in(candidates.iter().filter_map(|c| c.occurrence_id)))
            .all(txn)
            .await?
            .into_iter()
            .map(|o| (o.id, Quarter::containing(o.local_at.date())))
            .collect();
        Ok(candidates.into_iter().find(|cycle| {
            let mut own = scans.iter().filter(|s| s.cycle_id == Some(cycle.id));
            if own.clone().any(|s| s.iteration == Some(cycle.iteration)) {
                return false;
            }
            // The calendar's moment decides the first iteration; a later one waits for the
            // quarter after its cycle's scans.
            match cycle.occurrence_id.and_then(|o| occurrences.get(&o)).filter(|_| cycle.iteration == 1) {
                Some(intended) => *intended == quarter,
                None => own.all(|s| Quarter::of(s) < quarter),
            }
        }))
    }

    /// The scans of a groep, newest first; NotFound for an unknown groep.
    pub async fn scans(&self, groep_id: i64) -> Result<Vec<scan::Model>> {
        self.access_of().found(groep::Entity::find_by_id(groep_id).one(self.db()).await?, "groep", groep_id)?;
        Ok(self.scans_of_groepen(&[groep_id]).await?.remove(&groep_id).unwrap_or_default())
    }

    pub async fn scans_by_id(&self, ids: &[i64]) -> Result<Vec<scan::Model>> {
        Ok(self.visible(scan::Entity::find().filter(scan::Column::Id.is_in(ids.iter().copied())).all(self.db()).await?))
    }

    /// The scans of groepen, newest first.
    pub async fn scans_of_groepen(&self, groepen: &[i64]) -> Result<HashMap<i64, Vec<scan::Model>>> {
        let rows = scan::Entity::find()
            .filter(scan::Column::GroepId.is_in(groepen.iter().copied()))
            .order_by_desc(scan::Column::ScannedOn)
            .order_by_desc(scan::Column::Id)
            .all(self.db())
            .await?;
        let mut grouped: HashMap<i64, Vec<scan::Model>> = HashMap::new();
        for row in self.visible(rows) {
            grouped.entry(row.groep_id).or_default().push(row);
        }
        Ok(grouped)
    }

    /// The latest scan of each groep on or before the peildatum; groepen without one are
    /// absent. Picked in SQL by the index on (groep, scanned on, id): older scans are
    /// never read.
    pub async fn latest_scans(&self, groepen: &[i64], peildatum: NaiveDate) -> Result<HashMap<i64, scan::Model>> {
        let rows = scan::Entity::find()
            .filter(latest_of_each(
                (scan::Entity, scan::Column::Id),
                groep::Entity,
                groep::Column::Id,
                groepen.iter().copied(),
                |groep| latest_scan(peildatum, groep),
            ))
            .all(self.db())
            .await?;
        Ok(self.visible(rows).into_iter().map(|row| (row.groep_id, row)).collect())
    }

    /// The scores of scans: the groep's one score, or the children's by code.
    pub async fn scores_of(&self, scans: &[i64]) -> Result<HashMap<i64, Vec<scan_score::Model>>> {
        use scan_score::Column as C;
        self.children::<scan_score::Entity, _>(C::ScanId, scans, &[C::ChildCode, C::Id], |s| s.scan_id).await
    }

    /// Summaries of scans, each with the change against the groep's scan of the quarter
    /// before, in three statements: the scans, their previous-quarter scans, and the scores
    /// of both.
    pub async fn scan_summaries(&self, scans: &[i64]) -> Result<HashMap<i64, ScanSummary>> {
        let rows = self.scans_by_id(scans).await?;
        if rows.is_empty() {
            return Ok(HashMap::new());
        }
        let previous = self.previous_scans(&rows).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).chain(previous.values().map(|p| p.id)).collect();
        // Every score counts in the aggregates, whoever asks; the child codes are left out
        // below for those who may not see them.
        let mut scores = self.scoped(crate::access::Access::system()).scores_of(&ids).await?;
        // A folded scan summarises from its distribution, without child codes.
        for scan in rows.iter().chain(previous.values()) {
            if let Some(folded) = crate::evidence::retention::folded_scores(scan)? {
                scores.insert(scan.id, folded);
            }
        }

        let mut summaries = HashMap::new();
        for row in rows {
            let Some(own) = scores.get(&row.id) else { continue };
            let before = previous.get(&(row.groep_id, Quarter::of(&row).previous()));
            let before_scores = before.and_then(|b| scores.get(&b.id));
            let summary = |scale| -> Result<Option<ScaleSummary>> {
                let earlier: Option<Vec<LeuvenScore>> = before_scores
                    .map(|rows| scale_of(rows, scale).map(|s| s.into_iter().map(|(_, v)| v).collect()))
                    .transpose()?;
                Ok(ScaleSummary::of(scale_of(own, scale)?, earlier.as_deref()))
            };
            let (Some(mut welbevinden), Some(mut betrokkenheid)) =
                (summary(Scale::Welbevinden)?, summary(Scale::Betrokkenheid)?)
            else {
                continue;
            };
            if !self.access_of().sees_child_scores() {
                for scale in [&mut welbevinden, &mut betrokkenheid] {
                    scale.attention_children.clear();
                    scale.urgent_children.clear();
                }
            }
            summaries.insert(
                row.id,
                ScanSummary { scan_id: row.id, previous_scan_id: before.map(|b| b.id), welbevinden, betrokkenheid },
            );
        }
        Ok(summaries)
    }

    /// The groep's scan in the quarter before each of `scans`, by groep and quarter.
    async fn previous_scans(&self, scans: &[scan::Model]) -> Result<HashMap<(i64, Quarter), scan::Model>> {
        let wanted: HashSet<(i64, Quarter)> = scans.iter().map(|r| (r.groep_id, Quarter::of(r).previous())).collect();
        let groepen: BTreeSet<i64> = wanted.iter().map(|(g, _)| *g).collect();
        let years: BTreeSet<i32> = wanted.iter().map(|(_, q)| q.year).collect();
        let quarters: BTreeSet<i32> = wanted.iter().map(|(_, q)| q.quarter).collect();
        // Narrowed by each part of (groep, year, quarter), then matched exactly here: one
        // statement however many scans, without a condition per scan.
        Ok(scan::Entity::find()
            .filter(scan::Column::GroepId.is_in(groepen))
            .filter(scan::Column::Year.is_in(years))
            .filter(scan::Column::Quarter.is_in(quarters))
            .all(self.db())
            .await?
            .into_iter()
            .map(|s| ((s.groep_id, Quarter::of(&s)), s))
            .filter(|(key, _)| wanted.contains(key))
            .collect())
    }

    /// The means per scale of scans (as [`Engine::scan_summaries`] has them), each with
    /// its change against the groep's scan of the quarter before, in two statements: the
    /// previous-quarter scans, and the means of both averaged in SQL. Scans without
    /// scores are left out.
    pub async fn scan_means(&self, scans: &[scan::Model]) -> Result<HashMap<i64, ScanMeans>> {
        if scans.is_empty() {
            return Ok(HashMap::new());
        }
        let previous = self.previous_scans(scans).await?;
        let all = || scans.iter().chain(previous.values());
        use scan_score::Column as C;
        let mut means: HashMap<i64, (f64, f64)> = scan_score::Entity::find()
            .select_only()
            .column(C::ScanId)
            .column_as(C::Welbevinden.avg(), "welbevinden")
            .column_as(C::Betrokkenheid.avg(), "betrokkenheid")
            .filter(C::ScanId.is_in(all().filter(|s| s.distribution.is_none()).map(|s| s.id)))
            .group_by(C::ScanId)
            .into_model::<RawMeans>()
            .all(self.db())
            .await?
            .into_iter()
            .map(|m| (m.scan_id, (m.welbevinden, m.betrokkenheid)))
            .collect();
        // A folded scan has its distribution instead of scores.
        for scan in all() {
            if let Some(folded) = crate::evidence::retention::folded_scores(scan)? {
                let scale = |scale| -> Result<Vec<LeuvenScore>> {
                    Ok(scale_of(&folded, scale)?.into_iter().map(|(_, v)| v).collect())
                };
                if let (Some(w), Some(b)) =
                    (raw_mean(&scale(Scale::Welbevinden)?), raw_mean(&scale(Scale::Betrokkenheid)?))
                {
                    means.insert(scan.id, (w, b));
                }
            }
        }
        Ok(scans
            .iter()
            .filter_map(|scan| {
                let &(welbevinden, betrokkenheid) = means.get(&scan.id)?;
                let before = previous.get(&(scan.groep_id, Quarter::of(scan).previous()));
                let earlier = before.and_then(|b| means.get(&b.id));
                let means = ScanMeans {
                    scan_id: scan.id,
                    previous_scan_id: before.map(|b| b.id),
                    welbevinden: ScaleMean::of(welbevinden, earlier.map(|e| e.0)),
                    betrokkenheid: ScaleMean::of(betrokkenheid, earlier.map(|e| e.1)),
                };
                Some((scan.id, means))
            })
            .collect())
    }

    /// The goals set after scans: the `doelen` phase of the cycle iteration each scan
    /// filled; empty for a scan without a cycle.
    pub async fn scan_goals(&self, scans: &[i64]) -> Result<HashMap<i64, ScanGoals>> {
        let rows = self.scans_by_id(scans).await?;
        let cycles: HashMap<i64, cycle::Model> = self
            .cycles_by_id(&rows.iter().filter_map(|s| s.cycle_id).collect::<Vec<_>>())
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        rows.into_iter()
            .map(|s| {
                let goals = match (s.cycle_id.and_then(|id| cycles.get(&id)), s.iteration) {
                    (Some(cycle), Some(iteration)) => goals_in(cycle, iteration)?,
                    _ => ScanGoals::default(),
                };
                Ok((s.id, goals))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(text: &str) -> LeuvenScore {
        text.parse().expect("score")
    }

    #[test]
    fn leuven_scores_from_numbers() {
        for (value, shown) in [(1.0, "1"), (1.5, "1+"), (3.0, "3"), (3.5, "3+"), (4.5, "4+"), (5.0, "5")] {
            let s = LeuvenScore::from_f64(value).expect("valid");
            assert_eq!(s.as_f64(), value);
            assert_eq!(s.to_string(), shown);
        }
        for bad in [5.5, 0.5, 4.7, 0.0, 6.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(LeuvenScore::from_f64(bad).is_err(), "{bad} should be refused");
        }
        assert_eq!(
            LeuvenScore::from_f64(5.5).expect_err("off the scale").to_string(),
            "score 5.5 is not on the Leuven scale: 1, 1+, 2, 2+, 3, 3+, 4, 4+, 5"
        );
    }

    #[test]
    fn leuven_scores_from_text() {
        assert_eq!(score("3").as_f64(), 3.0);
        assert_eq!(score("3+").as_f64(), 3.5);
        assert_eq!(score("3.5").as_f64(), 3.5);
        assert_eq!(score("3,5").as_f64(), 3.5);
        assert_eq!(score(" 1+ ").as_f64(), 1.5);
        for bad in ["5+", "0+", "0", "6", "5,5", "4.7", "", "+", "drie", "3++", "-1+"] {
            assert!(bad.parse::<LeuvenScore>().is_err(), "{bad} should be refused");
        }
        assert!("5+".parse::<LeuvenScore>().expect_err("no 5+").to_string().starts_with("score 5+ is not"));
    }

    proptest::proptest! {
        #[test]
        fn a_score_reads_back_as_it_prints(doubled in 2u8..=10) {
            let s = LeuvenScore(doubled);
            proptest::prop_assert_eq!(s.to_string().parse::<LeuvenScore>(), Ok(s));
            proptest::prop_assert_eq!(LeuvenScore::from_f64(s.as_f64()), Ok(s));
            proptest::prop_assert_eq!(s.as_f64().to_string().replace('.', ",").parse::<LeuvenScore>(), Ok(s));
        }

        #[test]
        fn only_whole_and_half_points_from_1_to_5_are_scores(value in -10.0f64..10.0) {
            let on_scale = (1.0..=5.0).contains(&value) && (value * 2.0).fract() == 0.0;
            proptest::prop_assert_eq!(LeuvenScore::from_f64(value).is_ok(), on_scale);
        }
    }

    #[test]
    fn every_point_has_its_band() {
        let bands: Vec<(String, Band)> = LeuvenScore::all().map(|s| (s.to_string(), s.band())).collect();
        let expected = [
            ("1", Band::Urgent),
            ("1+", Band::Urgent),
            ("2", Band::Urgent),
            ("2+", Band::Aandacht),
            ("3", Band::Aandacht),
            ("3+", Band::Aandacht),
            ("4", Band::Goed),
            ("4+", Band::Goed),
            ("5", Band::Goed),
        ];
        assert_eq!(bands, expected.map(|(s, b)| (s.to_owned(), b)));
    }

    #[test]
    fn child_codes_are_pseudonyms() {
        assert_eq!("k07".parse::<ChildCode>().expect("code").as_str(), "k07");
        assert_eq!("  BSO-1_a ".parse::<ChildCode>().expect("code").as_str(), "BSO-1_a");
        assert!("12".parse::<ChildCode>().is_ok());
        let refused = |text: &str| text.parse::<ChildCode>().expect_err(text);
        assert!(refused("Sanne").contains("never a child's name"));
        assert!(refused("").contains("empty"));
        assert!(refused("   ").contains("empty"));
        assert!(refused("k 7").contains("only hold"));
        assert!(refused("Zoë1").contains("only hold"));
        assert!(refused(&format!("k{}", "1".repeat(32))).contains("longer than 32"));
        assert!(format!("k{}", "1".repeat(31)).parse::<ChildCode>().is_ok());
    }

    #[test]
    fn quarters() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        assert_eq!(Quarter::containing(date(2026, 1, 1)), Quarter { year: 2026, quarter: 1 });
        assert_eq!(Quarter::containing(date(2026, 3, 31)), Quarter { year: 2026, quarter: 1 });
        assert_eq!(Quarter::containing(date(2026, 7, 6)), Quarter { year: 2026, quarter: 3 });
        assert_eq!(Quarter::containing(date(2026, 12, 31)), Quarter { year: 2026, quarter: 4 });
        assert_eq!(Quarter { year: 2026, quarter: 1 }.previous(), Quarter { year: 2025, quarter: 4 });
        assert_eq!(Quarter { year: 2026, quarter: 3 }.previous(), Quarter { year: 2026, quarter: 2 });
        assert_eq!(Quarter { year: 2026, quarter: 3 }.to_string(), "2026 K3");
    }

    #[test]
    fn a_scale_summarised() {
        let scores = [(Some("k1"), score("4")), (Some("k2"), score("2")), (Some("k3"), score("3+"))];
        let previous = [score("3"), score("3")];
        let summary = ScaleSummary::of(scores, Some(&previous)).expect("scores");
        assert_eq!(summary.mean, 3.17);
        assert_eq!(summary.change, Some(0.17));
        assert_eq!(summary.bands, BandCounts { goed: 1, aandacht: 1, urgent: 1 });
        assert_eq!(summary.urgent_children, ["k2"]);
        assert_eq!(summary.attention_children, ["k3"]);
        assert_eq!(summary.distribution.len(), 9);
        let counts: Vec<u32> = summary.distribution.iter().map(|(_, n)| *n).collect();
        assert_eq!(counts, [0, 0, 1, 0, 0, 1, 1, 0, 0]);
        assert!(ScaleSummary::of([], None).is_none());
        assert_eq!(ScaleSummary::of([(None, score("5"))], None).expect("one").change, None);
    }

    #[test]
    fn scores_must_fit_the_technique() {
        let row = |code: Option<&str>| NewScore::parse(1, code, 3.0, 3.0).expect("row");
        assert!(check_scores(Technique::Kind, &[]).is_err());
        assert!(check_scores(Technique::Kind, &[row(Some("k1")), row(Some("k2"))]).is_ok());
        let twice = check_scores(Technique::Kind, &[row(Some("k1")), row(Some("k1"))]).expect_err("twice");
        assert!(twice.to_string().contains("`k1` is scored twice"), "{twice}");
        let nameless = check_scores(Technique::Kind, &[row(Some("k1")), row(None)]).expect_err("no code");
        assert!(nameless.to_string().contains("score row 2"), "{nameless}");
        assert!(check_scores(Technique::Groep, &[row(None)]).is_ok());
        assert!(check_scores(Technique::Groep, &[row(None), row(None)]).is_err());
        let coded = check_scores(Technique::Groep, &[row(Some("k1"))]).expect_err("code");
        assert!(coded.to_string().contains("`k1`"), "{coded}");
    }

    #[test]
    fn parsed_rows_name_the_child() {
        let err = NewScore::parse(2, Some("k02"), 5.5, 3.0).expect_err("off the scale");
        assert_eq!(
            err.to_string(),
            "score row 2 (child `k02`): welbevinden: score 5.5 is not on the Leuven scale: 1, 1+, 2, 2+, 3, 3+, 4, 4+, 5"
        );
        let err = NewScore::parse(1, Some("Sanne"), 3.0, 3.0).expect_err("a name");
        assert!(err.to_string().starts_with("score row 1 (child `Sanne`): child code `Sanne` has no digit"), "{err}");
        assert_eq!(NewScore::parse(1, Some("  "), 3.0, 3.0).expect("blank is none").child_code, None);
    }

    #[test]
    fn signalen_count_the_urgent_children_without_naming_them() {
        let rows = [
            NewScore::parse(1, Some("k1"), 2.0, 4.0).expect("row"),
            NewScore::parse(2, Some("k2"), 1.5, 1.0).expect("row"),
            NewScore::parse(3, Some("k3"), 3.5, 3.0).expect("row"),
        ];
        assert_eq!(
            signalen(&rows),
            "Welbevinden 1 tot 2 (hier moet men ter hulp snellen): 2 kinderen\nBetrokkenheid 1 tot 2 (hier moet men ter hulp snellen): 1 kind"
        );
        assert_eq!(signalen(&rows[2..]), "");
        let groep = [NewScore::parse(1, None, 1.5, 3.0).expect("row")];
        assert_eq!(signalen(&groep), "Welbevinden 1 tot 2 (hier moet men ter hulp snellen): de groep");
    }
}
