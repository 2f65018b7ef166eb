//! The national roll-up: per bestuur exactly the sums of its board's view, only what the
//! caller reaches, and a number of statements that does not grow with the kindcentra.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{NaiveDate, TimeZone, Utc};
use koers::bench::generate::{self, GenerateOptions};
use koers_engine::Engine;
use koers_engine::access::token::AccessScope;
use koers_engine::clock::ManualClock;
use koers_engine::domain::AccessRole;
use koers_engine::plan::board::BoardProgress;
use koers_engine::plan::progress::{Depth, Signal, SignalSubject};
use koers_engine::plan::rollup::Totals;
use koers_engine::store::entity::{ambitie, bestuur, doel, koersplan};
use koers_testing::{count_statements, database};
use sea_orm::{EntityTrait, QueryOrder};

fn peildatum() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 1).expect("date")
}

/// The generated dataset of `kindcentra`, and a counter of the statements run on it.
async fn generated(kindcentra: usize) -> (Engine, Arc<AtomicUsize>) {
    let mut db = database().await;
    let statements = count_statements(&mut db);
    let engine = koers_testing::engine(db);
    engine.register_workflows(koers_engine::workflow::load(None).expect("workflows")).await.expect("register");
    generate::dataset(&engine, GenerateOptions { kindcentra, seed: 3 }).await.expect("generate");
    (engine, statements)
}

/// The totals of some kindcentra of board views, added up by hand.
fn added_up<'a>(kindcentra: impl IntoIterator<Item = &'a koers_engine::plan::board::KindcentrumProgress>) -> Totals {
    let mut totals = Totals::default();
    let mut progress = Vec::new();
    for kc in kindcentra {
        totals.kindcentra += 1;
        totals.overdue_cycles += kc.overdue_cycles.len();
        for plan in &kc.koersplannen {
            totals.koersplannen += 1;
            progress.extend(plan.progress);
            if let Some(signal) = plan.signal {
                *totals.signals.entry(signal).or_default() += 1;
            }
        }
    }
    totals.progress = (!progress.is_empty()).then(|| progress.iter().sum::<f64>() / progress.len() as f64);
    totals
}

/// Equal, the mean progress up to rounding.
fn assert_same(actual: &Totals, expected: &Totals, what: &str) {
    let (mut a, mut e) = (actual.clone(), expected.clone());
    match (a.progress.take(), e.progress.take()) {
        (Some(x), Some(y)) => assert!((x - y).abs() < 1e-9, "{what}: progress {x} against {y}"),
        (x, y) => assert_eq!(x, y, "{what}: progress"),
    }
    assert_eq!(a, e, "{what}");
}

async fn boards(engine: &Engine, besturen: &[bestuur::Model]) -> Vec<BoardProgress> {
    let mut out = Vec::new();
    for b in besturen {
        out.push(engine.board_progress(b.id, peildatum(), Depth::Succescriteria).await.expect("board"));
    }
    out
}

#[tokio::test]
async fn the_rollup_adds_up_the_board_views_of_every_bestuur() {
    let (engine, _) = generated(70).await;
    // Signals set by hand: the koersplan's counts, an ambitie's or doel's does not move
    // the plan's signal; a lifted override no longer counts.
    let plans = koersplan::Entity::find().order_by_asc(koersplan::Column::Id).all(engine.db()).await.expect("plans");
    engine
        .override_signal("test", SignalSubject::Koersplan(plans[0].id), Some(Signal::NietOpKoers), "inspectie")
        .await
        .expect("override");
    engine
        .override_signal("test", SignalSubject::Koersplan(plans[1].id), Some(Signal::Afgerond), "klaar")
        .await
        .expect("override");
    engine.override_signal("test", SignalSubject::Koersplan(plans[1].id), None, "toch niet").await.expect("lift");
    let doel = doel::Entity::find().order_by_asc(doel::Column::Id).one(engine.db()).await.expect("q").expect("doel");
    engine
        .override_signal("test", SignalSubject::Doel(doel.id), Some(Signal::Afgerond), "gehaald")
        .await
        .expect("override");
    let ambitie =
        ambitie::Entity::find().order_by_asc(ambitie::Column::Id).one(engine.db()).await.expect("q").expect("ambitie");
    engine
        .override_signal("test", SignalSubject::Ambitie(ambitie.id), Some(Signal::Afgerond), "gehaald")
        .await
        .expect("override");

    let rollup = engine.progress_rollup(peildatum()).await.expect("rollup");
    let besturen = engine.besturen().await.expect("besturen");
    assert_eq!(
        rollup.besturen.iter().map(|(b, _)| b.id).collect::<Vec<_>>(),
        besturen.iter().map(|b| b.id).collect::<Vec<_>>()
    );
    let boards = boards(&engine, &besturen).await;
    for ((bestuur, totals), board) in rollup.besturen.iter().zip(&boards) {
        assert_same(totals, &added_up(&board.kindcentra), &bestuur.name);
    }

    // Every kindcentrum belongs to a school bestuur and a houder: in the total it counts once.
    let mut seen = HashSet::new();
    let distinct = boards.iter().flat_map(|b| &b.kindcentra).filter(|kc| seen.insert(kc.kindcentrum.id));
    let expected = added_up(distinct);
    assert_same(&rollup.total, &expected, "total");
    assert_eq!(rollup.total.kindcentra, 70);
    assert_eq!(rollup.total.koersplannen, 70, "a koersplan in every kindcentrum");
    assert!(rollup.total.signals.get(&Signal::NietOpKoers).copied().unwrap_or(0) >= 1);
    assert!(rollup.total.overdue_cycles > 0, "the dataset has overdue cycles: {:?}", rollup.total);
    assert!(rollup.total.signals.len() >= 2, "more than one signal: {:?}", rollup.total.signals);

    // The same data gives the same answer, to the last digit of every mean.
    for _ in 0..4 {
        assert_eq!(engine.progress_rollup(peildatum()).await.expect("rollup"), rollup, "asked again");
    }
}

#[tokio::test]
async fn a_board_down_to_its_doelen_has_the_figures_of_one_down_to_its_succescriteria() {
    let (engine, _) = generated(40).await;
    let doel = doel::Entity::find().order_by_asc(doel::Column::Id).one(engine.db()).await.expect("q").expect("doel");
    engine
        .override_signal("test", SignalSubject::Doel(doel.id), Some(Signal::Afgerond), "gehaald")
        .await
        .expect("override");
    for bestuur in engine.besturen().await.expect("besturen") {
        let mut full =
            engine.board_progress(bestuur.id, peildatum(), Depth::Succescriteria).await.expect("board").kindcentra;
        let counted = engine.board_progress(bestuur.id, peildatum(), Depth::Doelen).await.expect("board").kindcentra;
        let doelen = full.iter_mut().flat_map(|kc| &mut kc.koersplannen).flat_map(|p| &mut p.ambities);
        let mut criteria = 0;
        for doel in doelen.flat_map(|a| &mut a.doelen) {
            criteria += doel.succescriteria.len();
            doel.succescriteria.clear();
        }
        assert!(criteria > 0, "{}", bestuur.name);
        assert_eq!(format!("{counted:?}"), format!("{full:?}"), "{}", bestuur.name);
    }
}

#[tokio::test]
async fn a_bestuur_token_rolls_up_its_own_bestuur_only() {
    let (engine, _) = generated(40).await;
    let besturen = engine.besturen().await.expect("besturen");
    let own = &besturen[0];
    let token = engine.create_token("test", AccessRole::Bestuur, AccessScope::Bestuur(own.id), None).await.expect("t");
    let caller = engine.authenticate(&token.token).await.expect("q").expect("caller");
    let scoped = engine.scoped(engine.access(&caller).await.expect("access"));

    let rollup = scoped.progress_rollup(peildatum()).await.expect("rollup");
    assert_eq!(rollup.besturen.len(), 1, "{:?}", rollup.besturen);
    let (bestuur, totals) = &rollup.besturen[0];
    assert_eq!(bestuur.id, own.id);
    let board = engine.board_progress(own.id, peildatum(), Depth::Succescriteria).await.expect("board");
    let expected = added_up(&board.kindcentra);
    assert_same(totals, &expected, "own bestuur");
    assert_same(&rollup.total, &expected, "total of one bestuur");
    assert!(totals.kindcentra > 0 && totals.kindcentra < 40, "{totals:?}");

    // An admin token reaches every bestuur.
    let admin = engine.create_token("admin", AccessRole::Admin, AccessScope::All, None).await.expect("t");
    let caller = engine.authenticate(&admin.token).await.expect("q").expect("caller");
    let rollup = engine.scoped(engine.access(&caller).await.expect("access")).progress_rollup(peildatum()).await;
    let rollup = rollup.expect("rollup");
    assert_eq!(rollup.besturen.len(), besturen.len());
    assert_eq!(rollup.total.kindcentra, 40);

    // A kindcentrum's directeur reaches no bestuur whole: nothing to roll up.
    let kc = board.kindcentra[0].kindcentrum.id;
    let token =
        engine.create_token("kc", AccessRole::Directeur, AccessScope::Kindcentrum(kc), None).await.expect("t").token;
    let caller = engine.authenticate(&token).await.expect("q").expect("caller");
    let rollup = engine.scoped(engine.access(&caller).await.expect("access")).progress_rollup(peildatum()).await;
    let rollup = rollup.expect("rollup");
    assert!(rollup.besturen.is_empty(), "{:?}", rollup.besturen);
    assert_eq!(rollup.total, Totals::default());
}

#[tokio::test]
async fn the_rollup_takes_as_many_statements_for_more_kindcentra() {
    let mut used = BTreeMap::new();
    for n in [35, 95] {
        let (engine, statements) = generated(n).await;
        let before = statements.load(Ordering::SeqCst);
        let rollup = engine.progress_rollup(peildatum()).await.expect("rollup");
        assert_eq!(rollup.total.kindcentra, n);
        used.insert(n, statements.load(Ordering::SeqCst) - before);
    }
    let counts: Vec<usize> = used.values().copied().collect();
    assert_eq!(counts[0], counts[1], "statements grew with the kindcentra: {used:?}");
    assert!(counts[0] <= 6, "{used:?}");
}

#[tokio::test]
async fn the_board_and_the_rollup_read_the_same_from_the_read_pool() {
    use koers_engine::store::{self, StoreConfig};
    use sea_orm::{ConnectionTrait, DbBackend};
    let dir = tempfile::tempdir().expect("dir");
    let config = StoreConfig::new(koers_testing::database_url(dir.path(), "koers.db").await);
    // The overrides below are set a month before the peildatum, whatever the day the test runs.
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).single().expect("time"));
    let engine = Engine::with_clock(store::open(&config).await.expect("open"), Arc::new(clock));
    engine.register_workflows(koers_engine::workflow::load(None).expect("workflows")).await.expect("register");
    generate::dataset(&engine, GenerateOptions { kindcentra: 40, seed: 3 }).await.expect("generate");

    // A SQLite file gets a pool of readers; PostgreSQL's own pool already has several.
    let mut reads = store::read_pool(&config).await.expect("read pool");
    assert_eq!(reads.is_some(), engine.db().get_database_backend() == DbBackend::Sqlite);
    let read = reads.as_mut().map(count_statements);
    let reading = match reads.clone() {
        Some(reads) => engine.clone().reading_from(reads),
        None => engine.clone(),
    };
    let besturen = engine.besturen().await.expect("besturen");
    for b in &besturen {
        let from_store = engine.board_progress(b.id, peildatum(), Depth::Doelen).await.expect("board");
        let from_readers = reading.board_progress(b.id, peildatum(), Depth::Doelen).await.expect("board");
        assert_eq!(format!("{from_readers:?}"), format!("{from_store:?}"), "{}", b.name);
    }
    let before = reading.progress_rollup(peildatum()).await.expect("rollup");
    assert_eq!(before, engine.progress_rollup(peildatum()).await.expect("rollup"));
    if let Some(read) = &read {
        assert!(read.load(Ordering::SeqCst) > besturen.len() * 20, "the readers read the views");
    }

    // What the engine writes, its readers see at once.
    let plans = koersplan::Entity::find().order_by_asc(koersplan::Column::Id).all(engine.db()).await.expect("plans");
    for plan in &plans[..3] {
        reading
            .override_signal("test", SignalSubject::Koersplan(plan.id), Some(Signal::Afgerond), "gehaald")
            .await
            .expect("override");
    }
    let after = reading.progress_rollup(peildatum()).await.expect("rollup");
    assert_ne!(after.total.signals, before.total.signals);
    assert!(after.total.signals.get(&Signal::Afgerond).copied().unwrap_or(0) >= 3, "{:?}", after.total.signals);

    // The readers cannot write.
    if let Some(reads) = reads {
        let refused = reads.execute_unprepared("DELETE FROM signal_override").await.expect_err("read-only");
        assert!(refused.to_string().contains("readonly"), "{refused}");
    }
}
