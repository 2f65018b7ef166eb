//! The demo data of `koers serve --demo`: the example files, compiled into the binary, and
//! the calendars of KC Balans and Heidevlinder.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Months, NaiveDate, Weekday};
use koers_engine::Engine;
use koers_engine::access::token::{AccessScope, NewToken};
use koers_engine::calendar::template::TemplateOptions;
use koers_engine::cycle::machine::Values;
use koers_engine::cycle::{Owner, StartCycle};
use koers_engine::domain::AccessRole;
use koers_engine::domain::ScheduleScope;
use koers_engine::domain::{CoachingKind, SchoolYear};
use koers_engine::evidence::coaching::{Hours, NewCoachingEntry};
use koers_engine::evidence::scan::{NewScan, NewScore, Technique};
use koers_engine::io::import::import_str;
use koers_engine::plan::measurement::{NewMeasurement, Period};
use koers_engine::plan::progress::Evidence;
use koers_engine::workflow::{FieldType, TransitionKind};

const EXAMPLES: [(&str, &str); 3] = [
    ("kc-balans.toml", include_str!("../workflows/examples/kc-balans.toml")),
    ("heidevlinder.toml", include_str!("../workflows/examples/heidevlinder.toml")),
    ("de-klinkert.toml", include_str!("../workflows/examples/de-klinkert.toml")),
];

/// The Evaluatie & Planningsdagen of KC Balans in a school year, as the n-th Monday of a
/// month at 08:30: in 2026-2027 they are 21 September, 16 November, 8 February, 12 April
/// and 21 June.
const EP_DAGEN: [(u32, u8); 5] = [(9, 3), (11, 3), (2, 2), (4, 2), (6, 3)];

/// The n-th Monday of a month of the school year that starts in `start_year`.
fn nth_monday(start_year: i32, (month, n): (u32, u8)) -> Option<NaiveDate> {
    let year = if month >= 8 { start_year } else { start_year + 1 };
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, n)
}

/// Imports the examples into an empty database, gives them the calendar of the school year
/// the clock is in (and of the next one), and the evidence a kindcentrum that works with
/// koers has gathered by then (see [`evidence`]); a database with data is left alone.
pub async fn load(engine: &Engine) -> koers_engine::Result<()> {
    if !engine.is_empty().await? {
        tracing::info!("database has data; demo data not loaded");
        return Ok(());
    }
    for (name, source) in EXAMPLES {
        import_str(engine.db(), name, source).await?;
    }
    let today = engine.clock().today();
    let school_year = SchoolYear::containing(today);
    let from_this_school_year =
        TemplateOptions { active_from: Some(school_year.first_day()), ..TemplateOptions::default() };
    if let Some(balans) = engine.kindcentrum_by_key("kc-balans").await? {
        let balans = ScheduleScope::Kindcentrum(balans.id);
        // The team sets the dates of its E&P-dagen a year ahead: this school year's and the next.
        let dates = [school_year.start_year(), school_year.start_year() + 1]
            .into_iter()
            .flat_map(|year| EP_DAGEN.into_iter().filter_map(move |day| nth_monday(year, day)))
            .filter_map(|day| day.and_hms_opt(8, 30, 0))
            .collect();
        engine.apply_template("ep-dag", balans, TemplateOptions { dates, ..from_this_school_year.clone() }).await?;
        engine.apply_template("groepsbespreking", balans, from_this_school_year.clone()).await?;
    }
    if let Some(heidevlinder) = engine.kindcentrum_by_key("heidevlinder").await? {
        let heidevlinder = ScheduleScope::Kindcentrum(heidevlinder.id);
        let from_january =
            TemplateOptions { active_from: NaiveDate::from_ymd_opt(today.year(), 1, 1), ..TemplateOptions::default() };
        for template in ["welbevinden-scan", "intervisie", "coaching-ikk"] {
            engine.apply_template(template, heidevlinder, from_january.clone()).await?;
        }
    }
    evidence(engine, today).await?;
    tracing::info!("demo data loaded: KC Balans, Heidevlinder and De Klinkert");
    Ok(())
}

/// Who records the demo's evidence.
const ACTOR: &str = "demo";

/// The evidence of the demo, dated on the days it would have been gathered (never after
/// `today`), so that the board shows a mix of signals: the Cito and eindtoets results of KC
/// Balans over its plan period, some meeting their target and some not; the
/// succescriteria its E&P-dagen judged met, marked on those days; a PDCA experiment of its
/// team run to the end; Heidevlinder's scans of the last three quarters and this year's
/// coaching hours; De Klinkert's parent figures of the last school year.
async fn evidence(engine: &Engine, today: NaiveDate) -> koers_engine::Result<()> {
    let Some(balans) = engine.kindcentrum_by_key("kc-balans").await? else { return Ok(()) };
    let indicators: HashMap<String, i64> =
        engine.indicators_of_kindcentra(&[balans.id]).await?.into_values().flatten().map(|i| (i.key, i.id)).collect();
    // Per indicator: its value at the end of each school year of the plan, 2019-2020 on.
    let results: [(&str, [f64; 4]); 6] = [
        ("balans-cito-lezen", [72.0, 76.0, 79.0, 83.0]),
        ("balans-cito-spelling", [70.0, 73.0, 75.0, 77.0]),
        ("balans-cito-rekenen", [75.0, 78.0, 81.0, 82.0]),
        ("balans-eindtoets-lezen-2f", [2.0, 3.5, 4.0, 6.0]),
        ("balans-eindtoets-taalverzorging-2f", [1.0, 1.5, 2.5, 3.0]),
        ("balans-eindtoets-rekenen-1s", [3.0, 5.0, 6.5, 7.0]),
    ];
    for (key, values) in results {
        let Some(&indicator_id) = indicators.get(key) else { continue };
        for (year, value) in (2019..).zip(values) {
            let Some(day) = NaiveDate::from_ymd_opt(year + 1, 6, 15).filter(|d| *d <= today) else { continue };
            let source = if key.contains("eindtoets") { "Centrale Eindtoets" } else { "Cito E-toets" };
            let new =
                NewMeasurement { indicator_id, period: Period::day(day), value, source: source.to_owned(), note: None };
            engine.record_measurement(new).await?;
        }
    }

    // The E&P-dagen of the plan judged two of every three succescriteria without a
    // kengetal met, spread over the plan's years.
    for plan in engine.koersplannen_of(&[balans.id]).await?.into_values().flatten() {
        let progress = engine.koersplan_progress(plan.id, plan.last_school_year.last_day()).await?;
        let criteria = progress.ambities.iter().flat_map(|a| &a.doelen).flat_map(|d| &d.succescriteria);
        for (n, criterium) in criteria.filter(|c| c.criterium.indicator_id.is_none()).enumerate() {
            if n % 3 == 2 {
                continue;
            }
            let year = plan.first_school_year.start_year() + (n % 4) as i32;
            let Some(on) = nth_monday(year, EP_DAGEN[4]).filter(|d| *d <= today) else { continue };
            let evidence = Evidence {
                note: Some(format!("Besproken op de Evaluatie & Planningsdag van {}", SchoolYear::containing(on))),
                on: Some(on),
                ..Evidence::default()
            };
            engine.mark_succescriterium_met(ACTOR, criterium.criterium.id, evidence).await?;
        }
    }

    if let Some(team) = engine.teams_of(&[balans.id]).await?.into_values().flatten().next() {
        run_to_the_end(engine, "pdca", "Samen lezen in de bovenbouw", Owner::Team(team.id)).await?;
    }

    heidevlinder(engine, today).await?;
    klinkert(engine, today).await
}

/// Starts a cycle and moves it along its workflow's forward transitions to its close,
/// filling each phase's required fields, as a team that finished its experiment would.
async fn run_to_the_end(engine: &Engine, workflow: &str, title: &str, owner: Owner) -> koers_engine::Result<()> {
    let Some(definition) = engine.workflow(workflow) else { return Ok(()) };
    let def = &definition.def;
    let start = StartCycle {
        workflow: workflow.to_owned(),
        title: title.to_owned(),
        owner,
        doelen: Vec::new(),
        due_dates: BTreeMap::new(),
        occurrence_id: None,
    };
    let mut cycle = engine.start_cycle(ACTOR, start).await?;
    for _ in 0..def.phases.len() {
        let Some(phase) = def.phases.iter().find(|p| p.key == cycle.phase) else { break };
        let values: Values = phase
            .fields
            .iter()
            .filter(|f| f.required)
            .map(|f| {
                let value = match f.kind {
                    FieldType::List => serde_json::json!([format!("{} van de bovenbouw", f.name)]),
                    FieldType::Number => serde_json::json!(1),
                    FieldType::Choice => serde_json::json!(f.options.first()),
                    _ => serde_json::json!(format!("{}: besproken in de kenniskring", f.name)),
                };
                (f.key.clone(), value)
            })
            .collect();
        let moves = def.transitions.iter().filter(|t| t.from == cycle.phase);
        let close = moves.clone().find(|t| t.kind == TransitionKind::Close);
        if let Some(close) = close {
            let terminal = def.phases.iter().find(|p| p.key == close.to);
            let outcome = terminal.and_then(|p| p.outcomes.first()).cloned().unwrap_or_default();
            let closing: Values = terminal
                .into_iter()
                .flat_map(|p| &p.fields)
                .filter(|f| f.required)
                .map(|f| (f.key.clone(), serde_json::json!(format!("{}: het lezen is geborgd", f.name))))
                .collect();
            let cycle = engine.update_cycle_fields(ACTOR, cycle.id, cycle.version, values).await?;
            engine.close_cycle(ACTOR, cycle.id, cycle.version, &outcome, closing).await?;
            return Ok(());
        }
        let Some(next) = moves.clone().find(|t| t.kind == TransitionKind::Advance) else { break };
        cycle = engine.advance_cycle(ACTOR, cycle.id, cycle.version, &next.to, values).await?;
    }
    Ok(())
}

/// Heidevlinder: the scans of BSO Borkel 1 of this quarter and the two before (on the
/// second Monday of each, when that has come), and this calendar year's coaching and beleid
/// hours of its pedagogisch coach, once a month.
async fn heidevlinder(engine: &Engine, today: NaiveDate) -> koers_engine::Result<()> {
    let (Ok(groep), Ok(locatie), Ok(coach)) = (
        engine.resolve("groep", "heidevlinder/heidevlinder/bso-borkel-1").await,
        engine.resolve("locatie", "heidevlinder/heidevlinder").await,
        engine.resolve("professional", "c-maes").await,
    ) else {
        return Ok(());
    };
    // Welbevinden and betrokkenheid of six children, a little better each quarter.
    let children: [(&str, f64, f64); 6] = [
        ("HV-01", 4.0, 3.5),
        ("HV-02", 3.5, 3.0),
        ("HV-03", 2.0, 2.5),
        ("HV-04", 4.5, 4.0),
        ("HV-05", 3.0, 3.5),
        ("HV-06", 4.0, 4.5),
    ];
    let this_quarter = NaiveDate::from_ymd_opt(today.year(), (today.month0() / 3) * 3 + 1, 1).unwrap_or(today);
    let starts = (0..3).rev().filter_map(|back| this_quarter.checked_sub_months(Months::new(3 * back)));
    for (step, start) in starts.enumerate() {
        let Some(on) = NaiveDate::from_weekday_of_month_opt(start.year(), start.month(), Weekday::Mon, 2)
            .filter(|on| *on <= today)
        else {
            continue;
        };
        let better = step as f64 * 0.5;
        let scores = children
            .iter()
            .enumerate()
            .map(|(i, (code, w, b))| NewScore::parse(i + 1, Some(code), (w + better).min(5.0), (b + better).min(5.0)))
            .collect::<koers_engine::Result<Vec<_>>>()?;
        let scan = NewScan { groep_id: groep, scanned_on: on, technique: Technique::Kind, scores, note: None };
        engine.record_scan(ACTOR, scan).await?;
    }
    // W.H. and S.D. take turns; L.S. is not coached yet this year, as the norm card shows.
    let medewerkers: Vec<i64> = futures::future::join_all(["w-h", "s-d"].map(|k| engine.resolve("professional", k)))
        .await
        .into_iter()
        .collect::<koers_engine::Result<_>>()?;
    for month in 1..today.month() {
        let Some(day) = NaiveDate::from_weekday_of_month_opt(today.year(), month, Weekday::Tue, 2) else { continue };
        let coached = medewerkers[(month as usize) % medewerkers.len()];
        for (kind, hours, coachees) in
            [(CoachingKind::CoachingIndividueel, 1.5, vec![coached]), (CoachingKind::Beleid, 8.0, Vec::new())]
        {
            let entry = NewCoachingEntry {
                coach_id: coach,
                date: day,
                hours: Hours::new(hours).map_err(|e| koers_engine::Error::Validation(e.to_string()))?,
                kind,
                coachees,
                locatie_id: Some(locatie),
                note: None,
            };
            engine.log_coaching(ACTOR, entry).await?;
        }
    }
    Ok(())
}

/// De Klinkert: the parent figures of the school year before this one.
async fn klinkert(engine: &Engine, today: NaiveDate) -> koers_engine::Result<()> {
    let Some(klinkert) = engine.kindcentrum_by_key("de-klinkert").await? else { return Ok(()) };
    let last_year = SchoolYear::starting(SchoolYear::containing(today).start_year() - 1);
    let figures = [
        ("klinkert-ouders-informatieavond", 84.0),
        ("klinkert-ouders-oudergesprekken", 96.0),
        ("klinkert-ouders-ouderhulp", 45.0),
        ("klinkert-ouders-koffieochtenden", 52.0),
        ("klinkert-ouders-themabrief", 81.0),
    ];
    let indicators = engine.indicators_of_kindcentra(&[klinkert.id]).await?.into_values().flatten();
    for indicator in indicators {
        let Some((_, value)) = figures.iter().find(|(key, _)| *key == indicator.key) else { continue };
        let new = NewMeasurement {
            indicator_id: indicator.id,
            period: Period::parse(None, Some(last_year.first_day()), Some(last_year.last_day()))
                .map_err(koers_engine::Error::Validation)?,
            value: *value,
            source: "Presentielijsten en telling".to_owned(),
            note: None,
        };
        engine.record_measurement(new).await?;
    }
    Ok(())
}

/// Fresh demo tokens, one per role, each within a scope of the demo data; the tokens of
/// an earlier start are revoked, and logged with their ids. Roles whose scope is not in
/// the database are skipped.
pub async fn tokens(engine: &Engine) -> koers_engine::Result<Vec<(AccessRole, AccessScope, NewToken)>> {
    let mut revoked = Vec::new();
    for old in engine.tokens().await? {
        if old.name.starts_with(DEMO) && old.revoked_at.is_none() {
            engine.revoke_token(old.id).await?;
            revoked.push(old.id.to_string());
        }
    }
    if !revoked.is_empty() {
        tracing::info!(ids = %revoked.join(", "), "revoked the demo tokens of the previous start");
    }
    let kindcentrum = |key: &'static str| async move {
        Ok::<_, koers_engine::Error>(engine.kindcentrum_by_key(key).await?.map(|k| k.id))
    };
    let heidevlinder: Vec<i64> = kindcentrum("heidevlinder").await?.into_iter().collect();
    let lucas = engine.bestuur_by_key("lucas-onderwijs").await?;
    let locatie = engine.locaties_of(&heidevlinder).await?.into_values().flatten().next();
    let team = engine.teams_of(&heidevlinder).await?.into_values().flatten().next();
    let scopes = [
        (AccessRole::Admin, Some(AccessScope::All)),
        (AccessRole::Bestuur, lucas.map(|b| AccessScope::Bestuur(b.id))),
        (AccessRole::Directeur, kindcentrum("kc-balans").await?.map(AccessScope::Kindcentrum)),
        (AccessRole::Coach, locatie.map(|l| AccessScope::Locatie(l.id))),
        (AccessRole::TeamMember, team.map(|t| AccessScope::Team(t.id))),
        (AccessRole::Reader, kindcentrum("de-klinkert").await?.map(AccessScope::Kindcentrum)),
    ];
    let mut tokens = Vec::new();
    for (role, scope) in scopes {
        let Some(scope) = scope else {
            tracing::info!(%role, "no demo data for this role's scope; no demo token");
            continue;
        };
        let new = engine.create_token(&format!("{DEMO} {role}"), role, scope, None).await?;
        tokens.push((role, scope, new));
    }
    Ok(tokens)
}

/// The name every demo token starts with.
const DEMO: &str = "demo";
