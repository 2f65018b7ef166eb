//! CSV import of measurements, scan scores and coaching hours: the example files import,
//! and a file with one bad row is rejected whole with that row named.

use std::path::Path;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use koers_engine::clock::ManualClock;
use koers_engine::error::CsvRejected;
use koers_engine::io::csv::CsvKind;
use koers_engine::io::import::import_file;
use koers_engine::store::entity::{coaching_entry, measurement, scan, scan_score};
use koers_engine::workflow::load;
use koers_engine::{Engine, Error};
use sea_orm::{EntityTrait, PaginatorTrait};

fn example(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../workflows/examples").join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(example(name)).expect("example")
}

/// The demo organisations, on 1 December 2026.
async fn engine() -> Engine {
    let db = koers_testing::database().await;
    for file in ["heidevlinder.toml", "de-klinkert.toml"] {
        import_file(&db, &example(file)).await.expect("import");
    }
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).single().expect("time")));
    let engine = Engine::with_clock(db, clock);
    engine.register_workflows(load(None).expect("workflows")).await.expect("register");
    engine
}

fn refused(result: koers_engine::Result<koers_engine::io::csv::CsvReport>) -> CsvRejected {
    match result {
        Err(Error::Csv(rejected)) => rejected,
        other => panic!("expected a rejected file, got {other:?}"),
    }
}

async fn count<E: EntityTrait>(engine: &Engine) -> u64
where
    E::Model: Sync,
{
    E::find().count(engine.db()).await.expect("count")
}

#[tokio::test]
async fn the_example_files_import() {
    let engine = engine().await;
    let report = engine
        .import_csv("test", CsvKind::Measurements, "measurements.csv", &read("measurements.csv"))
        .await
        .expect("measurements");
    assert_eq!((report.rows, report.created), (3, 3));
    let report = engine.import_csv("test", CsvKind::Scans, "scans.csv", &read("scans.csv")).await.expect("scans");
    assert_eq!((report.rows, report.created), (4, 1), "four children, one scan");
    assert_eq!(count::<scan_score::Entity>(&engine).await, 4);
    let scan = scan::Entity::find().one(engine.db()).await.expect("q").expect("scan");
    assert_eq!((scan.year, scan.quarter, scan.technique.as_str()), (2026, 1, "kind"));
    assert!(scan.cycle_id.is_some(), "the scan is the scan phase of the groep's cycle");
    let summary = engine.scan_summaries(&[scan.id]).await.expect("summary").remove(&scan.id).expect("summary");
    assert_eq!(summary.welbevinden.urgent_children, ["HV-03"]);

    let report =
        engine.import_csv("test", CsvKind::Coaching, "coaching.csv", &read("coaching.csv")).await.expect("coaching");
    assert_eq!(report.created, 3);
    let fluks = engine.kindcentrum_by_key("heidevlinder").await.expect("q").expect("kc");
    let houder = coaching_entry::Entity::find().one(engine.db()).await.expect("q").expect("entry").bestuur_id;
    let norm = engine.coaching_norm(houder, 2026).await.expect("norm");
    assert_eq!((norm.coaching.realised, norm.beleid.realised), (3.5, 4.5), "decimal comma read as 4,5");
    let uncoached: Vec<&str> = norm.uncoached.iter().map(|p| p.name.as_str()).collect();
    assert!(uncoached.is_empty(), "all three coached: {uncoached:?} at {}", fluks.name);
}

#[tokio::test]
async fn one_bad_row_rejects_the_whole_file_and_names_the_row() {
    let engine = engine().await;
    let csv = "indicator,date,value,source\n\
               klinkert-ouders-informatieavond,2026-09-10,84,Presentielijst\n\
               klinkert-ouders-ouderhulp,2026-10-01,veel,Telling\n\
               klinkert-ouders-themabrief,2026-10-31,79,Digiduif\n";
    let rejected = refused(engine.import_csv("test", CsvKind::Measurements, "ouders.csv", csv).await);
    assert_eq!(rejected.errors.len(), 1, "{rejected}");
    let error = &rejected.errors[0];
    assert_eq!((error.line, error.column.as_deref()), (3, Some("value")));
    assert!(error.message.contains("`veel` is not a number"), "{}", error.message);
    assert!(rejected.to_string().contains("ouders.csv: 1 bad row(s), nothing imported"), "{rejected}");
    assert_eq!(count::<measurement::Entity>(&engine).await, 0, "the good rows are not written either");

    // Every bad row is reported, also those the engine refuses after the parse.
    let csv = "indicator;date;value;source\n\
               onbekend;1-9-2026;80;x\n\
               klinkert-ouders-themabrief;31-10-2026;79;Digiduif\n\
               klinkert-ouders-themabrief;31-10-2026;81;Digiduif\n\
               klinkert-ouders-ouderhulp;2026-13-01;40;Telling\n";
    let rejected = refused(engine.import_csv("test", CsvKind::Measurements, "ouders.csv", csv).await);
    let lines: Vec<(u64, Option<&str>)> = rejected.errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
    assert_eq!(lines, [(2, Some("indicator")), (4, None), (5, Some("date"))], "{rejected}");
    assert!(rejected.errors[1].message.contains("already has a measurement"), "{rejected}");
    assert_eq!(count::<measurement::Entity>(&engine).await, 0);
}

/// Regression (found while fuzzing the CSV importer): chrono reads years of more than four digits and
/// with a sign; such a date was written on SQLite and was a database error without a line
/// on PostgreSQL. Now it is a bad row like any other date that is not a date.
#[tokio::test]
async fn a_date_beyond_four_digit_years_is_a_bad_row() {
    let engine = engine().await;
    for date in ["+262142-12-31", "-0001-12-31", "31-12--262143", "1-1-10000"] {
        let csv = format!("indicator,date,value,source\nklinkert-ouders-themabrief,{date},50,Digiduif\n");
        let rejected = refused(engine.import_csv("test", CsvKind::Measurements, "ouders.csv", &csv).await);
        let lines: Vec<(u64, Option<&str>)> = rejected.errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
        assert_eq!(lines, [(2, Some("date"))], "{date}: {rejected}");
    }
    assert_eq!(count::<measurement::Entity>(&engine).await, 0);
}

/// Regression (found running the fuzzing on PostgreSQL, which keeps no NUL in text): a
/// NUL in a cell is a bad row, named by line and column, on every store.
#[tokio::test]
async fn a_nul_character_is_a_bad_row() {
    let engine = engine().await;
    let csv = "indicator,date,value,source,note\nklinkert-ouders-themabrief,2026-09-10,50,Digiduif,a\0b\n";
    let rejected = refused(engine.import_csv("test", CsvKind::Measurements, "ouders.csv", csv).await);
    let lines: Vec<(u64, Option<&str>)> = rejected.errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
    assert_eq!(lines, [(2, Some("note"))], "{rejected}");
    assert_eq!(count::<measurement::Entity>(&engine).await, 0);
}

#[tokio::test]
async fn bad_scan_and_coaching_rows_are_named() {
    let engine = engine().await;
    let header = "kindcentrum,locatie,groep,date,child,welbevinden,betrokkenheid\n";
    let row = |child: &str, w: &str| format!("heidevlinder,heidevlinder,bso-borkel-1,2026-04-07,{child},{w},3\n");
    let csv = format!("{header}{}{}{}{}", row("HV-01", "4"), row("HV-02", "5+"), row("HV-01", "3"), row("Sanne", "3"));
    let rejected = refused(engine.import_csv("test", CsvKind::Scans, "scan.csv", &csv).await);
    let lines: Vec<(u64, Option<&str>)> = rejected.errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
    assert_eq!(lines, [(3, Some("welbevinden")), (4, Some("child")), (5, Some("child"))], "{rejected}");
    assert!(rejected.errors[1].message.contains("scored twice"), "{rejected}");
    assert_eq!(count::<scan::Entity>(&engine).await, 0);

    // A second scan of the same groep and quarter is refused at the first line of its rows.
    let good = format!("{header}{}{}", row("HV-01", "4"), row("HV-02", "3+"));
    engine.import_csv("test", CsvKind::Scans, "scan.csv", &good).await.expect("first scan");
    let rejected = refused(engine.import_csv("test", CsvKind::Scans, "scan.csv", &good).await);
    assert_eq!(rejected.errors.iter().map(|e| e.line).collect::<Vec<_>>(), [2], "{rejected}");

    let csv = "coach,date,hours,kind,coachees\n\
               c-maes,2026-05-01,25,coaching-team,w-h\n\
               c-maes,2026-05-02,1,intervisie,w-h\n\
               c-maes,2026-05-03,1,beleid,w-h\n\
               niemand,2026-05-04,1,coaching-individueel,s-d\n";
    let rejected = refused(engine.import_csv("test", CsvKind::Coaching, "uren.csv", csv).await);
    let lines: Vec<(u64, Option<&str>)> = rejected.errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
    assert_eq!(lines, [(2, Some("hours")), (3, Some("kind")), (4, None), (5, Some("coach"))], "{rejected}");
    assert_eq!(count::<coaching_entry::Entity>(&engine).await, 0);

    let rejected = refused(engine.import_csv("test", CsvKind::Coaching, "leeg.csv", "coach,date\n").await);
    let missing: Vec<&str> = rejected.errors.iter().filter_map(|e| e.column.as_deref()).collect();
    assert_eq!(missing, ["hours", "kind"]);
}

/// A row with several bad cells names each of them, in every kind of file.
#[tokio::test]
async fn every_bad_cell_of_a_row_is_named() {
    let engine = engine().await;
    let csv = "kindcentrum;locatie;groep;date;child;welbevinden;betrokkenheid\n\
               heidevlinder;heidevlinder;bso-borkel-1;2-3-2026;HV-01;5.5;0.5\n";
    let rejected = refused(engine.import_csv("test", CsvKind::Scans, "scans.csv", csv).await);
    let columns: Vec<(u64, Option<&str>)> = rejected.errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
    assert_eq!(columns, [(2, Some("welbevinden")), (2, Some("betrokkenheid"))], "{rejected}");

    let csv = "indicator,date,value,source\nonbekend,31-2-2026,veel,\n";
    let rejected = refused(engine.import_csv("test", CsvKind::Measurements, "m.csv", csv).await);
    let columns: Vec<Option<&str>> = rejected.errors.iter().map(|e| e.column.as_deref()).collect();
    assert_eq!(columns, [Some("indicator"), Some("date"), Some("value"), Some("source")], "{rejected}");

    let csv = "coach,date,hours,kind,coachees\nniemand,2026-13-01,veel,yoga,ook-niemand\n";
    let rejected = refused(engine.import_csv("test", CsvKind::Coaching, "c.csv", csv).await);
    let columns: Vec<Option<&str>> = rejected.errors.iter().map(|e| e.column.as_deref()).collect();
    assert_eq!(columns, [Some("coach"), Some("coachees"), Some("kind"), Some("date"), Some("hours")], "{rejected}");
    assert_eq!(count::<scan::Entity>(&engine).await + count::<measurement::Entity>(&engine).await, 0);
}

/// Importing the same files again changes nothing: the norm keeps its hours and the
/// indicators their measurements. A row given twice in one file is a bad row.
#[tokio::test]
async fn importing_a_file_again_changes_nothing() {
    let engine = engine().await;
    for _ in 0..2 {
        engine.import_csv("test", CsvKind::Coaching, "coaching.csv", &read("coaching.csv")).await.expect("coaching");
        engine
            .import_csv("test", CsvKind::Measurements, "measurements.csv", &read("measurements.csv"))
            .await
            .expect("measurements");
    }
    let again =
        engine.import_csv("test", CsvKind::Coaching, "coaching.csv", &read("coaching.csv")).await.expect("again");
    assert_eq!((again.created, again.unchanged), (0, 3));
    let again = engine
        .import_csv("test", CsvKind::Measurements, "measurements.csv", &read("measurements.csv"))
        .await
        .expect("again");
    assert_eq!((again.created, again.unchanged), (0, 3));
    assert_eq!(count::<coaching_entry::Entity>(&engine).await, 3);
    assert_eq!(count::<measurement::Entity>(&engine).await, 3);
    let houder = coaching_entry::Entity::find().one(engine.db()).await.expect("q").expect("entry").bestuur_id;
    let norm = engine.coaching_norm(houder, 2026).await.expect("norm");
    assert_eq!((norm.coaching.realised, norm.beleid.realised), (3.5, 4.5), "counted once");

    let source = read("coaching.csv");
    let first_row = source.lines().nth(1).expect("a row");
    let twice = format!("{source}{first_row}\n");
    let rejected = refused(engine.import_csv("test", CsvKind::Coaching, "twice.csv", &twice).await);
    assert_eq!(rejected.errors.len(), 1, "{rejected}");
    assert!(rejected.errors[0].message.contains("the same hours as on line 2"), "{rejected}");
}
