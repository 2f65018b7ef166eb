//! Progress toward the koersplan: the voortgang at a peildatum, succescriteria marked met
//! with evidence, signals set by hand, and measurements recorded.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use koers_engine::plan::measurement::{NewMeasurement, Period};
use koers_engine::plan::progress::{self as engine_progress, Evidence, SignalSubject};
use koers_engine::store::entity::{criterium_mark, signal_override};

use crate::cycle::Cycle;
use crate::error::{IntoGraphql, validation};
use crate::loader::*;
use crate::query::{actor, engine, parse_id};
use crate::types::{Ambitie, Date, Doel, Koersplan, Measurement, Succescriterium, optional};

/// The OGSM status signal.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "koers_engine::plan::progress::Signal")]
pub enum Signal {
    Afgerond,
    OpKoers,
    OpKoersMetAandacht,
    NietOpKoers,
}

/// Progress of a koersplan at a peildatum.
#[derive(SimpleObject, Debug)]
pub struct KoersplanVoortgang {
    pub koersplan: Koersplan,
    pub peildatum: NaiveDate,
    /// The elapsed share of the plan period, 0 to 1.
    pub elapsed: f64,
    /// The mean progress of the ambities, 0 to 1; null without any succescriterium.
    pub progress: Option<f64>,
    /// The signal that counts: one set by hand if in force, else the computed one.
    pub signal: Option<Signal>,
    /// The signal that follows from progress and elapsed time.
    pub computed_signal: Option<Signal>,
    /// The signal set by hand in force at the peildatum, if any.
    pub signal_override: Option<SignalOverride>,
    pub ambities: Vec<AmbitieVoortgang>,
}

/// Progress of an ambitie: the mean of its doelen.
#[derive(SimpleObject, Debug)]
pub struct AmbitieVoortgang {
    pub ambitie: Ambitie,
    pub progress: Option<f64>,
    pub signal: Option<Signal>,
    pub computed_signal: Option<Signal>,
    pub signal_override: Option<SignalOverride>,
    pub doelen: Vec<DoelVoortgang>,
}

/// Progress of a doel: the share of its succescriteria met.
#[derive(SimpleObject, Debug)]
pub struct DoelVoortgang {
    pub doel: Doel,
    pub criteria: u32,
    pub met: u32,
    pub progress: Option<f64>,
    pub signal: Option<Signal>,
    pub computed_signal: Option<Signal>,
    pub signal_override: Option<SignalOverride>,
    pub succescriteria: Vec<SuccescriteriumVoortgang>,
}

/// Whether a succescriterium is met at the peildatum, and why.
#[derive(SimpleObject, Debug)]
pub struct SuccescriteriumVoortgang {
    pub succescriterium: Succescriterium,
    pub met: bool,
    /// The latest value of the linked indicator up to the peildatum.
    pub latest_value: Option<f64>,
    /// Whether that value meets the target; null without indicator or value.
    pub indicator_met: Option<bool>,
    /// The latest mark by hand up to the peildatum.
    pub mark: Option<CriteriumMark>,
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl From<engine_progress::KoersplanProgress> for KoersplanVoortgang {
    fn from(p: engine_progress::KoersplanProgress) -> Self {
        KoersplanVoortgang {
            koersplan: Koersplan(p.koersplan),
            peildatum: p.peildatum,
            elapsed: p.elapsed,
            progress: p.progress,
            signal: p.signal.map(Into::into),
            computed_signal: p.computed_signal.map(Into::into),
            signal_override: p.signal_override.map(SignalOverride),
            ambities: p.ambities.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<engine_progress::AmbitieProgress> for AmbitieVoortgang {
    fn from(a: engine_progress::AmbitieProgress) -> Self {
        AmbitieVoortgang {
            ambitie: Ambitie(a.ambitie),
            progress: a.progress,
            signal: a.signal.map(Into::into),
            computed_signal: a.computed_signal.map(Into::into),
            signal_override: a.signal_override.map(SignalOverride),
            doelen: a.doelen.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<engine_progress::DoelProgress> for DoelVoortgang {
    fn from(d: engine_progress::DoelProgress) -> Self {
        DoelVoortgang {
            doel: Doel(d.doel),
            criteria: count(d.criteria),
            met: count(d.met),
            progress: d.progress,
            signal: d.signal.map(Into::into),
            computed_signal: d.computed_signal.map(Into::into),
            signal_override: d.signal_override.map(SignalOverride),
            succescriteria: d
                .succescriteria
                .into_iter()
                .map(|c| SuccescriteriumVoortgang {
                    succescriterium: Succescriterium(c.criterium),
                    met: c.met,
                    latest_value: c.latest_value,
                    indicator_met: c.indicator_met,
                    mark: c.mark.map(CriteriumMark),
                })
                .collect(),
        }
    }
}

/// A succescriterium marked met by hand with its evidence, or a mark withdrawn.
#[derive(Debug)]
pub struct CriteriumMark(pub criterium_mark::Model);

#[Object]
impl CriteriumMark {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// True for a mark; false for a withdrawn mark, after which only the indicator counts.
    async fn met(&self) -> bool {
        self.0.met
    }
    /// The closed cycle given as evidence.
    async fn cycle(&self, ctx: &Context<'_>) -> Result<Option<Cycle>> {
        optional(ctx, self.0.cycle_id.map(CycleById)).await.map(|c| c.map(Cycle))
    }
    /// The measurement given as evidence.
    async fn measurement(&self, ctx: &Context<'_>) -> Result<Option<Measurement>> {
        optional(ctx, self.0.measurement_id.map(MeasurementById)).await.map(|m| m.map(Measurement))
    }
    /// The note given as evidence; for a withdrawn mark, the reason.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// The moment the mark counts from: when it was recorded, or the start of the day
    /// given as `evidence.on`.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The moment the mark was recorded.
    async fn recorded_at(&self) -> DateTime<Utc> {
        self.0.recorded_at
    }
}

/// A signal set by hand on a koersplan, ambitie or doel, with its reason.
#[derive(Debug)]
pub struct SignalOverride(pub signal_override::Model);

#[Object]
impl SignalOverride {
    async fn id(&self) -> ID {
        self.0.id.into()
    }
    /// The signal set; null when an earlier override was lifted.
    async fn signal(&self) -> Option<Signal> {
        self.0.signal.map(Into::into)
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// The ambitie the signal is set on, or the ambitie of the doel.
    async fn ambitie_id(&self) -> Option<ID> {
        self.0.ambitie_id.map(Into::into)
    }
    /// The doel the signal is set on, if it is set on a doel.
    async fn doel_id(&self) -> Option<ID> {
        self.0.doel_id.map(Into::into)
    }
}

/// A measurement of an indicator: for a single `date`, or a period `from` .. `until`.
#[derive(InputObject, Debug)]
pub struct RecordMeasurementInput {
    pub indicator_id: ID,
    pub date: Option<Date>,
    pub from: Option<Date>,
    pub until: Option<Date>,
    pub value: f64,
    /// Where the value comes from: a toets, a survey, a count.
    pub source: String,
    pub note: Option<String>,
}

/// The evidence for marking a succescriterium met; give at least one.
#[derive(InputObject, Debug, Default)]
pub struct EvidenceInput {
    /// A closed cycle that realised the criterion.
    pub cycle_id: Option<ID>,
    /// A measurement that shows it.
    pub measurement_id: Option<ID>,
    /// Where the evidence is, in words.
    pub note: Option<String>,
    /// The day the criterion was met, when that is before today (within the plan period):
    /// the mark counts from that day. Left out: from now.
    pub on: Option<Date>,
}

/// Sets (or with `signal: null` lifts) the signal of exactly one koersplan, ambitie or doel.
#[derive(InputObject, Debug)]
pub struct OverrideSignalInput {
    pub koersplan_id: Option<ID>,
    pub ambitie_id: Option<ID>,
    pub doel_id: Option<ID>,
    pub signal: Option<Signal>,
    pub reason: String,
}

/// Recording evidence and setting signals.
#[derive(Default, Debug)]
pub struct ProgressMutation;

#[Object]
impl ProgressMutation {
    async fn record_measurement(&self, ctx: &Context<'_>, input: RecordMeasurementInput) -> Result<Measurement> {
        let indicator_id = parse_id(&input.indicator_id, "indicator")?;
        let period = Period::parse(input.date.map(|d| d.0), input.from.map(|d| d.0), input.until.map(|d| d.0))
            .map_err(|m| validation(&m))?;
        let new = NewMeasurement { indicator_id, period, value: input.value, source: input.source, note: input.note };
        engine(ctx).record_measurement(new).await.gql().map(Measurement)
    }

    /// Marks a succescriterium met; refused without evidence.
    async fn mark_succescriterium_met(
        &self,
        ctx: &Context<'_>,
        id: ID,
        evidence: EvidenceInput,
    ) -> Result<CriteriumMark> {
        let criterium = parse_id(&id, "succescriterium")?;
        let evidence = Evidence {
            cycle_id: evidence.cycle_id.as_ref().map(|c| parse_id(c, "cycle")).transpose()?,
            measurement_id: evidence.measurement_id.as_ref().map(|m| parse_id(m, "measurement")).transpose()?,
            note: evidence.note,
            on: evidence.on.map(|d| d.0),
        };
        engine(ctx).mark_succescriterium_met(&actor(ctx), criterium, evidence).await.gql().map(CriteriumMark)
    }

    /// Withdraws a mark by hand; from then on only the indicator decides.
    async fn withdraw_succescriterium_mark(&self, ctx: &Context<'_>, id: ID, reason: String) -> Result<CriteriumMark> {
        let criterium = parse_id(&id, "succescriterium")?;
        engine(ctx).withdraw_succescriterium_mark(&actor(ctx), criterium, &reason).await.gql().map(CriteriumMark)
    }

    /// Sets a signal by hand, with a reason; `signal: null` lifts the earlier override.
    async fn override_signal(&self, ctx: &Context<'_>, input: OverrideSignalInput) -> Result<SignalOverride> {
        let subject = match (&input.koersplan_id, &input.ambitie_id, &input.doel_id) {
            (Some(id), None, None) => SignalSubject::Koersplan(parse_id(id, "koersplan")?),
            (None, Some(id), None) => SignalSubject::Ambitie(parse_id(id, "ambitie")?),
            (None, None, Some(id)) => SignalSubject::Doel(parse_id(id, "doel")?),
            _ => return Err(validation("give exactly one of koersplanId, ambitieId and doelId")),
        };
        engine(ctx)
            .override_signal(&actor(ctx), subject, input.signal.map(Into::into), &input.reason)
            .await
            .gql()
            .map(SignalOverride)
    }
}
