//! Welbevinden/betrokkenheid scans of Heidevlinder's BSO groep: the CEGO bands and the
//! change against the quarter before, refused scans that write nothing, the group
//! technique, and the scan as the `scan` phase of the groep's pedagogische
//! kwaliteitscyclus, with the goals set after it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{NaiveDate, TimeZone, Utc};
use koers_engine::cycle::machine::Values;
use koers_engine::cycle::{Owner, StartCycle, state_of};
use koers_engine::domain::CycleEventKind;
use koers_engine::evidence::scan::{BandCounts, NewScan, NewScore, ScanGoals, Technique};
use koers_engine::store::entity::{cycle, cycle_event, groep, scan, scan_score};
use koers_engine::{Engine, Error};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

struct Fixture {
    engine: Engine,
    groep: i64,
    statements: Arc<AtomicUsize>,
}

async fn fixture() -> Fixture {
    let mut db = koers_testing::database().await;
    koers_testing::import_examples(&db, &["heidevlinder.toml"]).await;
    let statements = koers_testing::count_statements(&mut db);
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).single().expect("time");
    let (engine, _) = koers_testing::engine_at(db, now).await;
    let groep = groep::Entity::find().one(engine.db()).await.expect("q").expect("BSO Borkel 1").id;
    Fixture { engine, groep, statements }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// Rows of (child code, welbevinden, betrokkenheid).
fn scores(rows: &[(&str, f64, f64)]) -> Vec<NewScore> {
    rows.iter()
        .enumerate()
        .map(|(i, (code, w, b))| NewScore::parse(i + 1, Some(code), *w, *b).expect("valid row"))
        .collect()
}

fn values(v: serde_json::Value) -> Values {
    serde_json::from_value(v).expect("values")
}

impl Fixture {
    fn scan(&self, on: NaiveDate, rows: &[(&str, f64, f64)]) -> NewScan {
        NewScan { groep_id: self.groep, scanned_on: on, technique: Technique::Kind, scores: scores(rows), note: None }
    }

    async fn record(&self, input: NewScan) -> scan::Model {
        self.engine.record_scan("coach", input).await.expect("recorded")
    }

    /// Rows of every table a scan writes to.
    async fn written(&self) -> (u64, u64, u64, u64) {
        let db = self.engine.db();
        (
            scan::Entity::find().count(db).await.expect("q"),
            scan_score::Entity::find().count(db).await.expect("q"),
            cycle::Entity::find().count(db).await.expect("q"),
            cycle_event::Entity::find().count(db).await.expect("q"),
        )
    }

    async fn cycle(&self, id: i64) -> cycle::Model {
        self.engine.cycle(id).await.expect("q").expect("cycle")
    }

    async fn advance(&self, cycle: i64, to: &str, fields: serde_json::Value) {
        let version = self.cycle(cycle).await.version;
        self.engine.advance_cycle("team", cycle, version, to, values(fields)).await.expect("advance");
    }
}

const Q4_2025: &[(&str, f64, f64)] = &[("k01", 3.0, 3.0), ("k02", 4.0, 3.5), ("k03", 4.0, 4.0)];
const Q1_2026: &[(&str, f64, f64)] = &[("k01", 2.0, 3.0), ("k02", 3.5, 4.0), ("k03", 4.5, 4.0), ("k04", 5.0, 1.5)];

#[tokio::test]
async fn a_scan_flags_urgent_and_attention_children_and_its_change() {
    let f = fixture().await;
    let q4 = f.record(f.scan(date(2025, 11, 10), Q4_2025)).await;
    let q1 = f.record(f.scan(date(2026, 1, 12), Q1_2026)).await;
    let q3 = f.record(f.scan(date(2026, 7, 6), &[("k01", 4.0, 4.0)])).await;
    assert_eq!((q4.year, q4.quarter, q1.year, q1.quarter, q3.quarter), (2025, 4, 2026, 1, 3));
    assert_eq!(q1.technique, Technique::Kind);

    let before = f.statements.load(Ordering::SeqCst);
    let summaries = f.engine.scan_summaries(&[q4.id, q1.id, q3.id]).await.expect("summaries");
    assert_eq!(f.statements.load(Ordering::SeqCst) - before, 3, "scans, previous quarters, scores");

    let s = &summaries[&q1.id];
    assert_eq!(s.previous_scan_id, Some(q4.id), "K1 follows K4 of the year before");
    // Welbevinden 2, 3+, 4+, 5: k01 is urgent, k02 needs attention.
    let w = &s.welbevinden;
    assert_eq!(w.mean, 3.75);
    assert_eq!(w.urgent_children, ["k01"]);
    assert_eq!(w.attention_children, ["k02"]);
    assert_eq!(w.bands, BandCounts { goed: 2, aandacht: 1, urgent: 1 });
    let counts: Vec<(String, u32)> = w.distribution.iter().map(|(p, n)| (p.to_string(), *n)).collect();
    let expected = [("1", 0), ("1+", 0), ("2", 1), ("2+", 0), ("3", 0), ("3+", 1), ("4", 0), ("4+", 1), ("5", 1)];
    assert_eq!(counts, expected.map(|(p, n)| (p.to_owned(), n)));
    // Mean 3.75 against 3.67 (3, 4, 4).
    assert_eq!(w.change, Some(0.08));
    // Betrokkenheid 3, 4, 4, 1+: a child is listed per scale.
    let b = &s.betrokkenheid;
    assert_eq!(b.urgent_children, ["k04"]);
    assert_eq!(b.attention_children, ["k01"]);
    assert_eq!(b.mean, 3.13);
    assert_eq!(b.change, Some(-0.38), "3.125 against 3.5");

    // The means alone, averaged in SQL, are those of the summaries.
    let rows = f.engine.scans_by_id(&[q4.id, q1.id, q3.id]).await.expect("scans");
    let before = f.statements.load(Ordering::SeqCst);
    let means = f.engine.scan_means(&rows).await.expect("means");
    assert_eq!(f.statements.load(Ordering::SeqCst) - before, 2, "previous quarters, means");
    assert_same_means(&means, &summaries);

    assert_eq!(summaries[&q4.id].welbevinden.change, None, "no scan in 2025 K3");
    assert_eq!(summaries[&q3.id].previous_scan_id, None, "no scan in 2026 K2");
    assert_eq!(summaries[&q3.id].betrokkenheid.change, None);

    let scans = f.engine.scans_of_groepen(&[f.groep]).await.expect("scans").remove(&f.groep).expect("groep");
    assert_eq!(scans.iter().map(|s| s.id).collect::<Vec<_>>(), [q3.id, q1.id, q4.id], "newest first");
    let latest = f.engine.latest_scans(&[f.groep, 999], date(2026, 6, 30)).await.expect("latest");
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[&f.groep].id, q1.id, "the latest on or before the peildatum");
    let scores = f.engine.scores_of(&[q1.id]).await.expect("scores").remove(&q1.id).expect("scores");
    let codes: Vec<_> = scores.iter().map(|s| s.child_code.clone().expect("code")).collect();
    assert_eq!(codes, ["k01", "k02", "k03", "k04"]);
    assert_eq!((scores[1].welbevinden, scores[3].betrokkenheid), (3.5, 1.5));
}

#[tokio::test]
async fn refused_scans_write_nothing() {
    let f = fixture().await;
    f.record(f.scan(date(2026, 7, 6), &[("k01", 4.0, 4.0)])).await;
    let written = f.written().await;

    let off_scale = NewScore::parse(3, Some("k03"), 5.5, 3.0).expect_err("5.5 is off the scale");
    assert!(matches!(&off_scale, Error::Validation(m) if m.contains("row 3 (child `k03`)") && m.contains("5.5")));
    let name = NewScore::parse(1, Some("Sanne"), 3.0, 3.0).expect_err("a name");
    assert!(matches!(&name, Error::Validation(m) if m.contains("never a child's name")), "{name}");

    let refusals: Vec<(NewScan, &str)> = vec![
        (
            f.scan(date(2026, 10, 5), &[("k01", 4.0, 4.0), ("k02", 3.0, 3.0), ("k01", 2.0, 2.0)]),
            "`k01` is scored twice",
        ),
        (f.scan(date(2026, 9, 28), &[("k09", 4.0, 4.0)]), "already has a scan for 2026 K3 (scanned on 2026-07-06)"),
        (f.scan(date(2026, 10, 5), &[]), "at least one score"),
        (
            NewScan { technique: Technique::Groep, ..f.scan(date(2026, 10, 5), &[("k01", 4.0, 4.0)]) },
            "without a child code (got `k01`)",
        ),
        (
            NewScan {
                scores: vec![
                    NewScore::parse(1, Some("k01"), 4.0, 4.0).expect("row"),
                    NewScore::parse(2, None, 4.0, 4.0).expect("row"),
                ],
                ..f.scan(date(2026, 10, 5), &[])
            },
            "score row 2: the technique `kind` needs a child code",
        ),
    ];
    for (input, expected) in refusals {
        match f.engine.record_scan("coach", input).await {
            Err(Error::Validation(message)) => assert!(message.contains(expected), "{message}"),
            other => panic!("expected a validation error containing {expected:?}, got {other:?}"),
        }
        assert_eq!(f.written().await, written, "nothing written when refused ({expected})");
    }
    let unknown = NewScan { groep_id: 999, ..f.scan(date(2026, 10, 5), &[("k01", 4.0, 4.0)]) };
    assert!(matches!(f.engine.record_scan("coach", unknown).await, Err(Error::NotFound { what: "groep", .. })));
    assert!(matches!(f.engine.scans(999).await, Err(Error::NotFound { what: "groep", .. })));
    assert_eq!(f.written().await, written);
}

#[tokio::test]
async fn the_group_technique_scores_the_groep_once() {
    let f = fixture().await;
    let input = NewScan {
        groep_id: f.groep,
        scanned_on: date(2026, 4, 6),
        technique: Technique::Groep,
        scores: vec![NewScore::parse(1, None, 2.0, 3.5).expect("row")],
        note: Some("  Drukke week na de vakantie ".into()),
    };
    let scan = f.record(input).await;
    assert_eq!((scan.technique.as_str(), scan.note.as_deref()), ("groep", Some("Drukke week na de vakantie")));
    let scores = f.engine.scores_of(&[scan.id]).await.expect("scores").remove(&scan.id).expect("one");
    assert_eq!(scores.len(), 1);
    assert_eq!(scores[0].child_code, None);
    let summary = f.engine.scan_summaries(&[scan.id]).await.expect("summary").remove(&scan.id).expect("summary");
    assert_eq!(summary.welbevinden.bands, BandCounts { goed: 0, aandacht: 0, urgent: 1 });
    assert!(summary.welbevinden.urgent_children.is_empty(), "no child codes in a group scan");
    assert_eq!(summary.betrokkenheid.bands, BandCounts { goed: 0, aandacht: 1, urgent: 0 });
    let cycle = f.cycle(scan.cycle_id.expect("cycle")).await;
    let fields = state_of(&cycle).expect("state").fields;
    assert_eq!(fields[&1]["scan"]["signalen"], json!("Welbevinden 1 tot 2 (hier moet men ter hulp snellen): de groep"));
}

#[tokio::test]
async fn a_scan_is_the_scan_phase_of_the_groeps_cycle() {
    let f = fixture().await;
    // The calendar opened the groep's cycle; the scan fills it rather than starting another.
    let opened = f
        .engine
        .start_cycle(
            "scheduler",
            StartCycle {
                workflow: "pedagogische-kwaliteitscyclus".into(),
                title: "Scan welbevinden en betrokkenheid BSO Borkel 1 2026-01-05".into(),
                owner: Owner::Groep(f.groep),
                doelen: Vec::new(),
                due_dates: BTreeMap::new(),
                occurrence_id: None,
            },
        )
        .await
        .expect("start");
    let mut events = f.engine.subscribe();
    let q1 = f.record(f.scan(date(2026, 1, 12), Q1_2026)).await;
    assert_eq!((q1.cycle_id, q1.iteration), (Some(opened.id), Some(1)));
    let published = events.try_recv().expect("published");
    assert_eq!((published.event.cycle_id, published.event.kind), (opened.id, CycleEventKind::FieldsUpdated));

    let cycle = f.cycle(opened.id).await;
    assert_eq!((cycle.phase.as_str(), cycle.groep_id), ("scan", Some(f.groep)));
    let state = state_of(&cycle).expect("state");
    assert_eq!(
        serde_json::to_value(&state.fields[&1]["scan"]).expect("json"),
        json!({
            "welbevinden": 3.75,
            "betrokkenheid": 3.13,
            "scandatum": "2026-01-12",
            "signalen": "Welbevinden 1 tot 2 (hier moet men ter hulp snellen): 1 kind\nBetrokkenheid 1 tot 2 (hier moet men ter hulp snellen): 1 kind",
        })
    );
    let history = f.engine.events_of(&[opened.id]).await.expect("events").remove(&opened.id).expect("events");
    let kinds: Vec<(CycleEventKind, &str)> = history.iter().map(|e| (e.kind, e.actor.as_str())).collect();
    assert_eq!(kinds, [(CycleEventKind::Started, "scheduler"), (CycleEventKind::FieldsUpdated, "coach")]);
    assert_eq!(f.engine.replay_cycle(opened.id).await.expect("replay").expect("started"), state);

    // No goals yet; the team analyses, sets goals and moves on to the next quarter.
    assert!(f.engine.scan_goals(&[q1.id]).await.expect("goals")[&q1.id].is_empty());
    f.advance(opened.id, "analyse", json!({})).await;
    f.advance(opened.id, "doelen", json!({ "analyse": "k01 zoekt weinig contact in de vrije speeltijd" })).await;
    f.advance(
        opened.id,
        "intervisie",
        json!({
            "locatiedoelen": ["Elk kind heeft een vast aanspreekpunt bij binnenkomst"],
            "teamdoelen": ["Wekelijks feedback op de groep"],
            "individueleDoelen": ["W.H.: observeren met de Leuvense schalen"],
        }),
    )
    .await;
    let goals = f.engine.scan_goals(&[q1.id]).await.expect("goals").remove(&q1.id).expect("goals");
    assert_eq!(
        goals,
        ScanGoals {
            locatiedoelen: vec!["Elk kind heeft een vast aanspreekpunt bij binnenkomst".into()],
            teamdoelen: vec!["Wekelijks feedback op de groep".into()],
            individuele_doelen: vec!["W.H.: observeren met de Leuvense schalen".into()],
        }
    );
    f.advance(opened.id, "evaluatie", json!({ "verslag": "Intervisie in het groepsoverleg" })).await;
    f.advance(opened.id, "scan", json!({ "evaluatie": "Doelen lopen", "vervolg": "bijstellen" })).await;

    // The next quarter's scan fills the iterated cycle.
    let q2 = f.record(f.scan(date(2026, 4, 6), &[("k01", 3.0, 3.0)])).await;
    assert_eq!((q2.cycle_id, q2.iteration), (Some(opened.id), Some(2)));
    let state = state_of(&f.cycle(opened.id).await).expect("state");
    assert_eq!(state.fields[&2]["scan"]["welbevinden"], json!(3.0));
    assert_eq!(state.fields[&2]["scan"]["signalen"], json!(""));
    assert!(f.engine.scan_goals(&[q2.id]).await.expect("goals")[&q2.id].is_empty(), "goals of iteration 2");
    assert_eq!(f.engine.scan_goals(&[q1.id]).await.expect("goals")[&q1.id], goals, "still linked to iteration 1");

    // The team did not move on after K2: K3's scan starts a cycle of its own.
    let q3 = f.record(f.scan(date(2026, 7, 6), &[("k01", 4.0, 4.0)])).await;
    let started = q3.cycle_id.expect("cycle");
    assert_ne!(started, opened.id);
    let new = f.cycle(started).await;
    assert_eq!(new.title, "Scan welbevinden en betrokkenheid BSO Borkel 1 2026 K3");
    assert_eq!(
        (new.workflow_key.as_str(), new.groep_id, new.phase.as_str()),
        ("pedagogische-kwaliteitscyclus", Some(f.groep), "scan")
    );
    assert_eq!(q3.iteration, Some(1));
    let kinds: Vec<CycleEventKind> =
        f.engine.events_of(&[started]).await.expect("events")[&started].iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [CycleEventKind::Started, CycleEventKind::FieldsUpdated]);
}

/// The means and changes of `means` are those of `summaries`, for the same scans.
fn assert_same_means(
    means: &std::collections::HashMap<i64, koers_engine::evidence::scan::ScanMeans>,
    summaries: &std::collections::HashMap<i64, koers_engine::evidence::scan::ScanSummary>,
) {
    assert_eq!(means.len(), summaries.len());
    for (id, s) in summaries {
        let m = &means[id];
        assert_eq!(m.previous_scan_id, s.previous_scan_id, "scan {id}");
        assert_eq!((m.welbevinden.mean, m.welbevinden.change), (s.welbevinden.mean, s.welbevinden.change), "scan {id}");
        assert_eq!(
            (m.betrokkenheid.mean, m.betrokkenheid.change),
            (s.betrokkenheid.mean, s.betrokkenheid.change),
            "scan {id}"
        );
    }
}

/// A scan goes into the iteration of its own quarter: the cycle the calendar opened for the
/// second quarter of 2027 waits for that quarter's scan, and a scan of March 2026 typed in
/// later gets a cycle of its own quarter.
#[tokio::test]
async fn a_scan_belongs_to_the_cycle_of_its_own_quarter() {
    use koers_engine::calendar::template::TemplateOptions;
    use koers_engine::domain::ScheduleScope;
    let now = Utc.with_ymd_and_hms(2027, 3, 1, 8, 0, 0).single().expect("time");
    let (engine, clock) = koers_testing::examples_at(now, &["heidevlinder.toml"]).await;
    let groep = groep::Entity::find().one(engine.db()).await.expect("q").expect("BSO Borkel 1");
    let locatie = ScheduleScope::Locatie(groep.locatie_id);
    engine.apply_template("welbevinden-scan", locatie, TemplateOptions::default()).await.expect("apply");
    clock.set(Utc.with_ymd_and_hms(2027, 4, 5, 8, 0, 0).single().expect("time"));
    engine.run_scheduler_once().await.expect("fire");
    let opened = cycle::Entity::find().all(engine.db()).await.expect("q");
    assert_eq!(opened.len(), 1, "the calendar opened the scan of 2027 K2");
    let calendar = &opened[0];

    let input = |on| NewScan {
        groep_id: groep.id,
        scanned_on: on,
        technique: Technique::Kind,
        scores: scores(Q1_2026),
        note: None,
    };
    let late = engine.record_scan("coach", input(date(2026, 3, 2))).await.expect("recorded");
    assert_ne!(late.cycle_id, Some(calendar.id), "a scan of 2026 K1 is not the scan of 2027 K2");
    let own = engine.cycle(late.cycle_id.expect("in a cycle")).await.expect("q").expect("cycle");
    assert!(own.title.ends_with("2026 K1"), "{}", own.title);

    let due = engine.record_scan("coach", input(date(2027, 4, 7))).await.expect("recorded");
    assert_eq!(due.cycle_id, Some(calendar.id), "the scan of 2027 K2 is the one the calendar waits for");
}
