//! Retention of child-level scan scores: after the retention period a scan keeps its
//! summary but no longer knows which child scored what.

use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};
use koers_engine::Engine;
use koers_engine::evidence::scan::{NewScan, NewScore, Technique};
use koers_engine::store::entity::{groep, scan, scan_score};
use sea_orm::{EntityTrait, PaginatorTrait};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn scan(groep_id: i64, on: NaiveDate, rows: &[(Option<&str>, f64, f64)]) -> NewScan {
    let scores: Vec<NewScore> = rows
        .iter()
        .enumerate()
        .map(|(i, (code, w, b))| NewScore::parse(i + 1, *code, *w, *b).expect("valid row"))
        .collect();
    let technique = if rows[0].0.is_some() { Technique::Kind } else { Technique::Groep };
    NewScan { groep_id, scanned_on: on, technique, scores, note: None }
}

#[tokio::test]
async fn child_scores_are_folded_into_the_distribution_after_the_retention_period() {
    let now = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).single().expect("time");
    let (engine, clock) = koers_testing::examples_at(now, &["heidevlinder.toml"]).await;
    let groep = groep::Entity::find().one(engine.db()).await.expect("q").expect("groep").id;

    let q4 = engine
        .record_scan("test", scan(groep, date(2025, 11, 3), &[(Some("k1"), 3.0, 3.0), (Some("k2"), 4.0, 4.0)]))
        .await
        .expect("q4");
    let q1 = engine
        .record_scan(
            "test",
            scan(groep, date(2026, 2, 2), &[(Some("k1"), 2.0, 3.5), (Some("k2"), 3.5, 4.5), (Some("k3"), 5.0, 4.0)]),
        )
        .await
        .expect("q1");
    let group = engine.record_scan("test", scan(groep, date(2026, 3, 2), &[(None, 2.5, 3.0)])).await;
    assert!(group.is_err(), "one scan per quarter: the group scan goes in the next quarter");
    clock.advance(TimeDelta::days(30));
    engine.record_scan("test", scan(groep, date(2026, 4, 6), &[(None, 2.5, 3.0)])).await.expect("group scan");

    let before = engine.scan_summaries(&[q4.id, q1.id]).await.expect("summaries");
    assert_eq!(before[&q1.id].welbevinden.urgent_children, ["k1"]);
    // Within the retention period nothing is folded.
    assert_eq!(engine.fold_child_scores(730).await.expect("fold"), 0);
    assert_eq!(scan_score::Entity::find().count(engine.db()).await.expect("count"), 6);

    // Two years on, both child-level scans are folded; the group scan has no children.
    clock.advance(TimeDelta::days(730));
    assert_eq!(engine.fold_child_scores(730).await.expect("fold"), 2);
    assert_eq!(scan_score::Entity::find().count(engine.db()).await.expect("count"), 1, "only the group score");
    let folded = scan::Entity::find_by_id(q1.id).one(engine.db()).await.expect("q").expect("scan");
    assert!(folded.folded_at.is_some() && folded.distribution.is_some());
    assert!(engine.scores_of(&[q1.id]).await.expect("scores").is_empty(), "no child-level scores remain");

    let after = engine.scan_summaries(&[q4.id, q1.id]).await.expect("summaries");
    // The means of folded scans come from their distribution, also as the quarter before
    // of the group scan.
    let scans = scan::Entity::find().all(engine.db()).await.expect("scans");
    let means = engine.scan_means(&scans).await.expect("means");
    let all = engine.scan_summaries(&scans.iter().map(|s| s.id).collect::<Vec<_>>()).await.expect("summaries");
    assert_eq!(means.len(), 3);
    for (id, s) in &all {
        let m = &means[id];
        assert_eq!(m.previous_scan_id, s.previous_scan_id);
        assert_eq!((m.welbevinden.mean, m.welbevinden.change), (s.welbevinden.mean, s.welbevinden.change));
        assert_eq!((m.betrokkenheid.mean, m.betrokkenheid.change), (s.betrokkenheid.mean, s.betrokkenheid.change));
    }
    assert!(all.values().any(|s| s.welbevinden.change.is_some() && s.previous_scan_id == Some(q1.id)));
    for id in [q4.id, q1.id] {
        let (b, a) = (&before[&id], &after[&id]);
        for (b, a) in [(&b.welbevinden, &a.welbevinden), (&b.betrokkenheid, &a.betrokkenheid)] {
            assert_eq!((a.mean, a.change, a.bands, &a.distribution), (b.mean, b.change, b.bands, &b.distribution));
            assert!(a.urgent_children.is_empty() && a.attention_children.is_empty(), "no child codes");
        }
    }
    assert_eq!(engine.fold_child_scores(730).await.expect("fold again"), 0, "folding is done once");
}

/// Whether the scan's child-level scores have been folded.
async fn folded(engine: &Engine, id: i64) -> bool {
    scan::Entity::find_by_id(id).one(engine.db()).await.expect("q").expect("scan").folded_at.is_some()
}

/// Waits, without sleeping, until the scan is folded by a job running on another task.
async fn until_folded(engine: &Engine, id: i64) {
    tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while !folded(engine, id).await {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the retention job folded the scan");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_retention_job_wakes_when_the_engines_clock_has_moved_a_day() {
    let now = Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).single().expect("time");
    let (engine, clock) = koers_testing::examples_at(now, &["heidevlinder.toml"]).await;
    let groep = groep::Entity::find().one(engine.db()).await.expect("q").expect("groep").id;
    let older =
        engine.record_scan("test", scan(groep, date(2025, 11, 3), &[(Some("k1"), 3.0, 3.0)])).await.expect("q4");
    let newer = engine.record_scan("test", scan(groep, date(2026, 2, 2), &[(Some("k1"), 2.0, 3.5)])).await.expect("q1");

    // On 15 January 2028 the older scan is past two years, the newer one is not.
    clock.set(Utc.with_ymd_and_hms(2028, 1, 15, 12, 0, 0).single().expect("time"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let job = tokio::spawn({
        let engine = engine.clone();
        async move { engine.run_retention(730, async { stopped.await.unwrap_or(()) }).await }
    });
    until_folded(&engine, older.id).await;
    assert!(!folded(&engine, newer.id).await, "within the retention period");

    // The job now sleeps until the next day by the engine's clock: moving the clock on wakes
    // it, with no real time passing.
    clock.advance(TimeDelta::days(20));
    until_folded(&engine, newer.id).await;
    let _ = stop.send(());
    job.await.expect("the job stops");
}
