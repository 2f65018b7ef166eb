//! The benchmark dataset at small scale (N = 200): its shape, its validity and its
//! determinism. Timings are the benchmark suite's business, not these tests'.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use koers::bench::generate::{self, GenerateOptions, bestuur_sizes, moment};
use koers_engine::cycle::machine::{CycleState, Event, Status};
use koers_engine::cycle::state_of;
use koers_engine::plan::progress::Depth;
use koers_engine::store::entity::*;
use koers_engine::{Engine, Error};
use koers_testing::{database, snapshot};
use sea_orm::{EntityTrait, PaginatorTrait, QueryOrder};

async fn generated(kindcentra: usize, seed: u64) -> Engine {
    let engine = koers_testing::engine(database().await);
    engine.register_workflows(koers_engine::workflow::load(None).expect("workflows")).await.expect("register");
    let report = generate::dataset(&engine, GenerateOptions { kindcentra, seed }).await.expect("generate");
    assert_eq!(report.kindcentra, kindcentra);
    engine
}

/// How many rows of `rows` belong to each parent.
fn per<T>(rows: &[T], parent: impl Fn(&T) -> i64) -> BTreeMap<i64, usize> {
    let mut counts = BTreeMap::new();
    for row in rows {
        *counts.entry(parent(row)).or_default() += 1;
    }
    counts
}

fn all_equal(counts: &BTreeMap<i64, usize>, expected: usize, parents: usize, what: &str) {
    assert_eq!(counts.len(), parents, "{what}: parents with rows");
    assert!(counts.values().all(|n| *n == expected), "{what}: not {expected} each: {counts:?}");
}

#[tokio::test]
async fn two_hundred_kindcentra_have_the_national_shape() {
    const N: usize = 200;
    let engine = generated(N, 7).await;
    let db = engine.db();

    // Besturen of 30 (and the last one of what is left), each with its kinderopvang houder.
    let besturen = bestuur::Entity::find().all(db).await.expect("besturen");
    assert_eq!(besturen.len(), 14);
    assert_eq!(bestuur_sizes(N), vec![30, 30, 30, 30, 30, 30, 20]);
    assert_eq!(bestuur_sizes(10_000)[0], 300, "a national dataset has one bestuur of 300");
    assert_eq!(bestuur_sizes(10_000).iter().sum::<usize>(), 10_000);
    let links = kindcentrum_bestuur::Entity::find().all(db).await.expect("links");
    let sizes: Vec<usize> = per(&links, |l| l.bestuur_id).into_values().collect();
    assert_eq!(sizes, bestuur_sizes(N).iter().flat_map(|n| [*n, *n]).collect::<Vec<_>>());
    assert_eq!(kindcentrum::Entity::find().count(db).await.expect("count"), N as u64);

    // The koersplan of KC Balans in every kindcentrum: 5 ambities, 19 doelen, 56
    // succescriteria, 47 planning items.
    let plans = koersplan::Entity::find().all(db).await.expect("koersplannen");
    all_equal(&per(&plans, |p| p.kindcentrum_id), 1, N, "koersplannen per kindcentrum");
    assert!(plans.iter().all(|p| p.first_school_year.start_year() == 2023 && p.last_school_year.start_year() == 2026));
    let ambities = ambitie::Entity::find().all(db).await.expect("ambities");
    all_equal(&per(&ambities, |a| a.koersplan_id), 5, N, "ambities per koersplan");
    let ambitie_plan: HashMap<i64, i64> = ambities.iter().map(|a| (a.id, a.koersplan_id)).collect();
    let doelen = doel::Entity::find().all(db).await.expect("doelen");
    let doel_plan: HashMap<i64, i64> = doelen.iter().map(|d| (d.id, ambitie_plan[&d.ambitie_id])).collect();
    all_equal(&per(&doelen, |d| doel_plan[&d.id]), 19, N, "doelen per koersplan");
    let criteria = succescriterium::Entity::find().all(db).await.expect("criteria");
    all_equal(&per(&criteria, |c| doel_plan[&c.doel_id]), 56, N, "succescriteria per koersplan");
    let planning = planning_item::Entity::find().all(db).await.expect("planning");
    all_equal(&per(&planning, |p| doel_plan[&p.doel_id]), 47, N, "planning items per koersplan");
    let years: BTreeSet<i32> = planning.iter().map(|p| p.school_year.start_year()).collect();
    assert_eq!(years, BTreeSet::from([2023, 2024, 2025, 2026]), "planning for four school years");

    // 20 indicators per kindcentrum, 12 measurements each, each backing a succescriterium
    // of its own kindcentrum's koersplan.
    let indicators = indicator::Entity::find().all(db).await.expect("indicators");
    all_equal(&per(&indicators, |i| i.kindcentrum_id.expect("kindcentrum indicator")), 20, N, "indicators");
    let measurements = measurement::Entity::find().all(db).await.expect("measurements");
    all_equal(&per(&measurements, |m| m.indicator_id), 12, N * 20, "measurements per indicator");
    let plan_kc: HashMap<i64, i64> = plans.iter().map(|p| (p.id, p.kindcentrum_id)).collect();
    let indicator_kc: HashMap<i64, i64> = indicators.iter().map(|i| (i.id, i.kindcentrum_id.unwrap_or(0))).collect();
    let linked: Vec<&succescriterium::Model> = criteria.iter().filter(|c| c.indicator_id.is_some()).collect();
    assert_eq!(linked.len(), N * 20);
    for c in linked {
        assert_eq!(indicator_kc[&c.indicator_id.unwrap_or(0)], plan_kc[&doel_plan[&c.doel_id]], "criterium {}", c.id);
    }

    // 3 groepen of 20 children, scanned in 4 quarters.
    let groepen = groep::Entity::find().all(db).await.expect("groepen");
    assert_eq!(groepen.len(), N * 3);
    let scans = scan::Entity::find().all(db).await.expect("scans");
    all_equal(&per(&scans, |s| s.groep_id), 4, N * 3, "scans per groep");
    let scores = scan_score::Entity::find().all(db).await.expect("scores");
    all_equal(&per(&scores, |s| s.scan_id), 20, N * 12, "scores per scan");
    assert!(scores.iter().all(|s| (1.0..=5.0).contains(&s.welbevinden) && (s.welbevinden * 2.0).fract() == 0.0));

    // 10 professionals and 2 teams per kindcentrum.
    let working = professional_kindcentrum::Entity::find().all(db).await.expect("professionals");
    all_equal(&per(&working, |p| p.kindcentrum_id), 10, N, "professionals per kindcentrum");
    let teams = team::Entity::find().all(db).await.expect("teams");
    all_equal(&per(&teams, |t| t.kindcentrum_id), 2, N, "teams per kindcentrum");

    // 10 cycles per team of about 20 events, each equal to the replay of its events.
    let cycles = cycle::Entity::find().all(db).await.expect("cycles");
    all_equal(&per(&cycles, |c| c.team_id.expect("team cycle")), 10, N * 2, "cycles per team");
    let events = cycle_event::Entity::find()
        .order_by_asc(cycle_event::Column::CycleId)
        .order_by_asc(cycle_event::Column::Sequence)
        .all(db)
        .await
        .expect("events");
    let mut histories: HashMap<i64, Vec<cycle_event::Model>> = HashMap::new();
    for e in events {
        histories.entry(e.cycle_id).or_default().push(e);
    }
    let mean = histories.values().map(Vec::len).sum::<usize>() as f64 / cycles.len() as f64;
    assert!((17.0..=23.0).contains(&mean), "about 20 events per cycle, got {mean}");
    let mut statuses = BTreeSet::new();
    for row in &cycles {
        let history = &histories[&row.id];
        let sequences: Vec<i64> = history.iter().map(|e| e.sequence).collect();
        assert_eq!(sequences, (1..=history.len() as i64).collect::<Vec<_>>(), "cycle {} has gaps", row.id);
        let parsed: Vec<Event> = history.iter().map(|e| serde_json::from_str(&e.data).expect("event")).collect();
        let replayed = CycleState::replay(&parsed).expect("starts with Started");
        assert_eq!(state_of(row).expect("state"), replayed, "cycle {}", row.id);
        for (e, event) in history.iter().zip(&parsed) {
            assert_eq!(e.kind, event.kind());
            let so_far = CycleState::replay(&parsed[..e.sequence as usize]).expect("replay");
            assert_eq!(e.iteration, so_far.iteration, "iteration of event {}", e.id);
        }
        statuses.insert(row.status);
    }
    assert_eq!(statuses, BTreeSet::from([Status::Closed, Status::Open]));
    assert!(cycles.iter().any(|c| c.iteration > 1), "cycles go round");

    // 100 coaching entries a year, and every template applied to every kindcentrum.
    let entries = coaching_entry::Entity::find().all(db).await.expect("coaching");
    all_equal(&per(&entries, |e| e.locatie_id.expect("locatie")), 100, N, "coaching entries per locatie");
    let schedules = engine.schedules(None).await.expect("schedules parse");
    let templates = koers_engine::calendar::template::templates().expect("templates").len();
    all_equal(&per(&schedules, |s| s.spec.scope.id()), templates, N, "schedules per kindcentrum");

    // The board sees progress, with more than one signal across the kindcentra, the
    // latest scans and the coaching norm.
    let peildatum = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
    let board = engine.board_progress(besturen[1].id, peildatum, Depth::Doelen).await.expect("board of the houder");
    assert_eq!(board.kindcentra.len(), 30);
    let mut signals = BTreeSet::new();
    for kc in &board.kindcentra {
        let plan = &kc.koersplannen[0];
        assert!(plan.progress.is_some_and(|p| p > 0.0 && p <= 1.0), "{:?}", plan.progress);
        signals.insert(format!("{:?}", plan.signal));
        assert_eq!(kc.scans.len(), 3);
        assert!(!kc.coaching.is_empty());
        assert!(!kc.overdue_cycles.is_empty(), "the open cycles are late at the peildatum");
    }
    assert!(signals.len() > 1, "one signal for all: {signals:?}");
    assert!(moment() < peildatum);

    // Ids continue after the generated ones, on either store.
    let next = engine
        .start_cycle(
            "test",
            koers_engine::cycle::StartCycle {
                workflow: "pdca".into(),
                title: "Na de dataset".into(),
                owner: koers_engine::cycle::Owner::Team(teams[0].id),
                doelen: vec![],
                due_dates: BTreeMap::new(),
                occurrence_id: None,
            },
        )
        .await
        .expect("a new cycle");
    assert_eq!(next.id, cycles.iter().map(|c| c.id).max().unwrap_or(0) + 1);
}

#[tokio::test]
async fn the_same_seed_gives_the_same_rows() {
    // Registering the workflows stamps the time; everything generated is the same.
    let except = ["workflow_version"];
    let a = snapshot(generated(35, 3).await.db(), &except).await;
    let b = snapshot(generated(35, 3).await.db(), &except).await;
    let c = snapshot(generated(35, 4).await.db(), &except).await;
    assert!(a["cycle_event"].len() > 10_000);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[tokio::test]
async fn an_empty_database_is_required() {
    let engine = generated(2, 1).await;
    let before = snapshot(engine.db(), &[]).await;
    let err = generate::dataset(&engine, GenerateOptions { kindcentra: 2, seed: 1 }).await.expect_err("refused");
    assert!(matches!(&err, Error::Validation(m) if m.contains("empty database")), "{err}");
    assert_eq!(snapshot(engine.db(), &[]).await, before);
}
