//! Welbevinden/betrokkenheid scans on the Leuven scales: the `scans` query, the
//! `recordScan` mutation and the summary of each scale (mean, distribution, CEGO bands,
//! change against the quarter before).

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use koers_engine::evidence::scan::{self as engine_scan, NewScan, NewScore};
use koers_engine::store::entity::{scan, scan_score};

use crate::cycle::Cycle;
use crate::error::IntoGraphql;
use crate::loader::{CycleById, GroepById, ScanSummaryOf, ScoresOf};
use crate::query::{actor, engine, parse_id};
use crate::types::{Date, Groep, list, one, optional};

/// How a groep was scanned.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::evidence::scan::Technique")]
pub enum ScanTechnique {
    /// A score per child, under a pseudonymous child code.
    Kind,
    /// The group scanning technique: one score for the whole groep.
    Groep,
}

/// A welbevinden/betrokkenheid scan of a groep in a calendar quarter.
#[derive(Debug)]
pub struct Scan(pub scan::Model);

/// The scores of one child, or of the whole groep, in a scan.
#[derive(Debug)]
pub struct ScanScore(pub scan_score::Model);

#[Object]
impl ScanScore {
    /// The pseudonymous code of the child; null for the group scanning technique.
    async fn child_code(&self) -> Option<&str> {
        self.0.child_code.as_deref()
    }
    /// Leuven scale of welbevinden, 1 to 5 (1.5 is 1+, ..., 4.5 is 4+).
    async fn welbevinden(&self) -> f64 {
        self.0.welbevinden
    }
    /// Leuven scale of betrokkenheid, 1 to 5 (1.5 is 1+, ..., 4.5 is 4+).
    async fn betrokkenheid(&self) -> f64 {
        self.0.betrokkenheid
    }
}

/// How many scores lie on one point of the scale.
#[derive(SimpleObject, Debug)]
pub struct ScorePoint {
    /// The point as a number: 1, 1.5, ..., 5.
    pub score: f64,
    /// The point as the scale writes it: 1, 1+, ..., 5.
    pub label: String,
    pub count: u32,
}

/// How many scores lie in each CEGO band.
#[derive(SimpleObject, Debug)]
pub struct Bands {
    /// 4 to 5: alles gaat goed.
    pub goed: u32,
    /// 2+ to 3+: vraagt onze aandacht.
    pub aandacht: u32,
    /// 1 to 2: hier moet men ter hulp snellen.
    pub urgent: u32,
}

/// One scale of a scan, summarised.
///
/// The mean and its change come with it; the distribution, bands and children are read
/// from the scan's scores (for all scans of a query at once) only when they are asked,
/// so the board's view of means reads no scores.
#[derive(Debug)]
pub struct ScaleSummary {
    scan_id: i64,
    scale: engine_scan::Scale,
    mean: engine_scan::ScaleMean,
    summary: Option<engine_scan::ScaleSummary>,
}

impl ScaleSummary {
    /// A scale of a scan's whole summary.
    pub fn of(summary: &engine_scan::ScanSummary, scale: engine_scan::Scale) -> Self {
        let full = scale_in(summary, scale);
        ScaleSummary {
            scan_id: summary.scan_id,
            scale,
            mean: engine_scan::ScaleMean { mean: full.mean, change: full.change },
            summary: Some(full.clone()),
        }
    }

    /// A scale of a scan of which only the means are at hand.
    pub fn of_means(means: &engine_scan::ScanMeans, scale: engine_scan::Scale) -> Self {
        let mean = match scale {
            engine_scan::Scale::Welbevinden => means.welbevinden,
            engine_scan::Scale::Betrokkenheid => means.betrokkenheid,
        };
        ScaleSummary { scan_id: means.scan_id, scale, mean, summary: None }
    }

    /// The whole summary of the scale: at hand, or loaded with those of the other scans.
    async fn summary(&self, ctx: &Context<'_>) -> Result<engine_scan::ScaleSummary> {
        if let Some(summary) = &self.summary {
            return Ok(summary.clone());
        }
        let scan: engine_scan::ScanSummary =
            one(ctx, ScanSummaryOf(self.scan_id), "scan summary", self.scan_id).await?;
        Ok(scale_in(&scan, self.scale).clone())
    }
}

fn scale_in(summary: &engine_scan::ScanSummary, scale: engine_scan::Scale) -> &engine_scan::ScaleSummary {
    match scale {
        engine_scan::Scale::Welbevinden => &summary.welbevinden,
        engine_scan::Scale::Betrokkenheid => &summary.betrokkenheid,
    }
}

/// One scale of a scan, summarised.
#[Object]
impl ScaleSummary {
    /// The mean score, rounded to two decimals.
    async fn mean(&self) -> f64 {
        self.mean.mean
    }
    /// Every point of the scale, low to high, with its count (zeros included).
    async fn distribution(&self, ctx: &Context<'_>) -> Result<Vec<ScorePoint>> {
        Ok(self
            .summary(ctx)
            .await?
            .distribution
            .into_iter()
            .map(|(point, count)| ScorePoint { score: point.as_f64(), label: point.to_string(), count })
            .collect())
    }
    async fn bands(&self, ctx: &Context<'_>) -> Result<Bands> {
        let bands = self.summary(ctx).await?.bands;
        Ok(Bands { goed: bands.goed, aandacht: bands.aandacht, urgent: bands.urgent })
    }
    /// The children scoring 1 to 2: a signal for the mentor.
    async fn urgent_children(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(self.summary(ctx).await?.urgent_children)
    }
    /// The children scoring 2+ to 3+.
    async fn attention_children(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        Ok(self.summary(ctx).await?.attention_children)
    }
    /// The mean minus that of the groep's scan in the quarter before; null without one.
    async fn change(&self) -> Option<f64> {
        self.mean.change
    }
}

/// The goals set after a scan, in the `doelen` phase of the cycle iteration it opened.
#[derive(SimpleObject, Debug)]
pub struct ScanGoals {
    pub locatiedoelen: Vec<String>,
    pub teamdoelen: Vec<String>,
    pub individuele_doelen: Vec<String>,
}

impl From<engine_scan::ScanGoals> for ScanGoals {
    fn from(g: engine_scan::ScanGoals) -> Self {
        ScanGoals { locatiedoelen: g.locatiedoelen, teamdoelen: g.teamdoelen, individuele_doelen: g.individuele_doelen }
    }
}

impl Scan {
    async fn summary(&self, ctx: &Context<'_>) -> Result<engine_scan::ScanSummary> {
        one(ctx, ScanSummaryOf(self.0.id), "scan summary", self.0.id).await
    }
}

#[Object]
impl Scan {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    async fn groep(&self, ctx: &Context<'_>) -> Result<Groep> {
        one(ctx, GroepById(self.0.groep_id), "groep", self.0.groep_id).await.map(Groep)
    }
    /// The calendar year of the scan.
    async fn year(&self) -> i32 {
        self.0.year
    }
    /// The calendar quarter of the scan, 1 to 4.
    async fn quarter(&self) -> i32 {
        self.0.quarter
    }
    async fn scanned_on(&self) -> NaiveDate {
        self.0.scanned_on
    }
    async fn technique(&self) -> ScanTechnique {
        self.0.technique.into()
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// The groep's pedagogische kwaliteitscyclus whose `scan` phase this scan is.
    async fn cycle(&self, ctx: &Context<'_>) -> Result<Option<Cycle>> {
        optional(ctx, self.0.cycle_id.map(CycleById)).await.map(|c| c.map(Cycle))
    }
    /// The iteration of that cycle.
    async fn iteration(&self) -> Option<i32> {
        self.0.iteration
    }
    /// The goals set after this scan: the `doelen` phase of its cycle iteration.
    async fn goals(&self, ctx: &Context<'_>) -> Result<ScanGoals> {
        let cycle = optional(ctx, self.0.cycle_id.map(CycleById)).await?;
        let goals = match (cycle, self.0.iteration) {
            (Some(cycle), Some(iteration)) => engine_scan::goals_in(&cycle, iteration).gql()?,
            _ => engine_scan::ScanGoals::default(),
        };
        Ok(goals.into())
    }
    /// When the children's scores were folded into the summary and deleted, after the
    /// retention period; the summary stays, without child codes.
    async fn folded_at(&self) -> Option<DateTime<Utc>> {
        self.0.folded_at
    }
    /// The scores: one per child by code, or the groep's one score; none once folded.
    async fn scores(&self, ctx: &Context<'_>) -> Result<Vec<ScanScore>> {
        Ok(list(ctx, ScoresOf(self.0.id)).await?.into_iter().map(ScanScore).collect())
    }
    /// The Leuven scale of welbevinden (LWS), summarised.
    async fn welbevinden(&self, ctx: &Context<'_>) -> Result<ScaleSummary> {
        Ok(ScaleSummary::of(&self.summary(ctx).await?, engine_scan::Scale::Welbevinden))
    }
    /// The Leuven scale of betrokkenheid (LBS), summarised.
    async fn betrokkenheid(&self, ctx: &Context<'_>) -> Result<ScaleSummary> {
        Ok(ScaleSummary::of(&self.summary(ctx).await?, engine_scan::Scale::Betrokkenheid))
    }
    async fn recorded_by(&self) -> &str {
        &self.0.actor
    }
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Scans of groepen.
#[derive(Default, Debug)]
pub struct ScanQuery;

#[Object]
impl ScanQuery {
    /// The scans of a groep, newest first.
    async fn scans(&self, ctx: &Context<'_>, groep_id: ID) -> Result<Vec<Scan>> {
        let groep = parse_id(&groep_id, "groep")?;
        Ok(engine(ctx).scans(groep).await.gql()?.into_iter().map(Scan).collect())
    }
}

/// The scores of one child, or (without a child code) of the whole groep.
#[derive(InputObject, Debug)]
pub struct ScanScoreInput {
    /// A pseudonymous code such as `k07`, never a name; leave out for the group technique.
    pub child_code: Option<String>,
    /// 1 to 5; 1.5, 2.5, 3.5 and 4.5 are 1+, 2+, 3+ and 4+.
    pub welbevinden: f64,
    /// 1 to 5; 1.5, 2.5, 3.5 and 4.5 are 1+, 2+, 3+ and 4+.
    pub betrokkenheid: f64,
}

/// A scan of a groep: a score per child (technique KIND) or one for the groep (GROEP).
#[derive(InputObject, Debug)]
pub struct RecordScanInput {
    pub groep_id: ID,
    /// The day of the scan; its calendar quarter is the scan's quarter.
    pub scanned_on: Date,
    pub technique: ScanTechnique,
    pub scores: Vec<ScanScoreInput>,
    pub note: Option<String>,
}

/// Recording scans.
#[derive(Default, Debug)]
pub struct ScanMutation;

#[Object]
impl ScanMutation {
    /// Records a scan (one per groep per quarter) and fills the `scan` phase of the
    /// groep's pedagogische kwaliteitscyclus with it.
    async fn record_scan(&self, ctx: &Context<'_>, input: RecordScanInput) -> Result<Scan> {
        let groep_id = parse_id(&input.groep_id, "groep")?;
        let scores = input
            .scores
            .iter()
            .enumerate()
            .map(|(i, s)| NewScore::parse(i + 1, s.child_code.as_deref(), s.welbevinden, s.betrokkenheid))
            .collect::<koers_engine::Result<Vec<_>>>()
            .gql()?;
        let scan = NewScan {
            groep_id,
            scanned_on: input.scanned_on.0,
            technique: input.technique.into(),
            scores,
            note: input.note,
        };
        engine(ctx).record_scan(&actor(ctx), scan).await.gql().map(Scan)
    }
}
