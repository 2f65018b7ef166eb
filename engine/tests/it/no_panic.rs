//! No input makes the loaders panic, and every refusal says where the input is wrong.
//!
//! Arbitrary text and mutations of the real files (cut short, bytes replaced or inserted,
//! a value or a cell replaced, lines repeated or dropped) go to the workflow-definition
//! loader, the TOML importer (into an empty database and over the original file) and the
//! CSV importer. A TOML refusal starts with `file:line:col`, or (for a definition that
//! parses but breaks a rule) names the offending phase, field or transition; every error of
//! a refused CSV file names a line of it. `PROPTEST_CASES=5000 cargo test --test no_panic`
//! hunts longer.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use koers_engine::clock::ManualClock;
use koers_engine::error::ImportError;
use koers_engine::error::{CsvRejected, DefinitionError};
use koers_engine::io::csv::CsvKind;
use koers_engine::io::import::import_str;
use koers_engine::workflow::{BUILTIN, WorkflowDef, load};
use koers_engine::{Engine, Error};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::FileFailurePersistence;

const KC_BALANS: &str = include_str!("../../../workflows/examples/kc-balans.toml");
const HEIDEVLINDER: &str = include_str!("../../../workflows/examples/heidevlinder.toml");
const DE_KLINKERT: &str = include_str!("../../../workflows/examples/de-klinkert.toml");
const MEASUREMENTS: &str = include_str!("../../../workflows/examples/measurements.csv");
const SCANS: &str = include_str!("../../../workflows/examples/scans.csv");
const COACHING: &str = include_str!("../../../workflows/examples/coaching.csv");

/// Pieces of TOML and CSV syntax.
#[rustfmt::skip]
const TOML_NOISE: &[&str] = &[
    "[[", "]]", "[", "=", "\"\"\"", "'''", "\\u{0}", "\u{0}", "\\", "key = ", "= [", "{ ", " }",
    "\n[koersplan]\n", "\n[[kindcentrum]]\n", "\r\n", "\"\"", ",,,,", ";;;", "\"a\"\"b\"", "\u{feff}", "é", "🦀",
];

/// TOML values out of range, empty, of another type, or naming rows that exist.
#[rustfmt::skip]
const VALUES: &[&str] = &[
    "0", "-1", "1e999", "nan", "-inf", "9223372036854775807", "-9223372036854775808", "18446744073709551616",
    "0.0000001", "\"\"", "\" \"", "\"x\"", "\"2019-2020\"", "\"2023-2019\"", "\"9999-10000\"", "1979-05-27",
    "0001-01-01", "0000-01-01", "9999-12-31", "1979-05-27T07:32:00Z", "1e308", "-1e308", "07:32:00", "[]",
    "[\"a\", \"a\"]", "{}", "true", "\"kc-balans\"", "\"heidevlinder\"", "\"\\u0000\"",
];

/// Cells out of range, empty, in another notation, or naming rows that exist.
#[rustfmt::skip]
const CELLS: &[&str] = &[
    "", " ", "0", "-1", "-0", "1e999", "NaN", "inf", "1,5", "1.000,5", "0,0001", "99999999999999999999",
    "2026-02-30", "31-12-9999", "9999-12-31", "0001-01-01", "0000-01-01", "1-1-0", "262143-01-01", "+262142-12-31",
    "-262143-01-01", "-0001-12-31", "31-12--262143", "+10000-01-01", "1e308", "1+", "5+", "6", "0,5", "k01", "x",
    "coaching-team", "beleid", "heidevlinder", "c-maes", "w-h w-h",
];

/// One change to a text.
#[derive(Debug, Clone)]
enum Mutation {
    /// Cut the text here.
    Truncate(Index),
    /// Replace up to this many bytes from here with the string.
    Replace(Index, usize, String),
    /// Insert the string here.
    Insert(Index, String),
    /// Replace what follows one of the `= ` of a TOML file, up to the end of its line or
    /// (`true`) of its inline-table entry.
    Value(Index, bool, String),
    /// Replace one cell of a CSV file.
    Cell(Index, String),
    /// Repeat (`true`) or drop this many lines from here: a table, an array element, a row.
    Lines(Index, usize, bool),
}

/// Text that means something to TOML or CSV, and text that means nothing.
fn noise() -> impl Strategy<Value = String> {
    prop_oneof![
        "[\\[\\]{}=\"'#.,;:\n\r\t a-z0-9_+-]{0,16}",
        any::<String>().prop_map(|s| s.chars().take(12).collect()),
        select(TOML_NOISE).prop_map(str::to_owned),
    ]
}

/// Values that a loader has to refuse or take with care: out of range, empty, too long,
/// of another type.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        select(VALUES).prop_map(str::to_owned),
        "\"[a-z0-9 _-]{0,70}\"",
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| format!("{n:?}")),
    ]
}

/// Cells that a CSV importer has to refuse or take with care.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        select(CELLS).prop_map(str::to_owned),
        "[^,;\n\r\"]{0,12}",
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), 0..48usize, noise()).prop_map(|(at, len, text)| Mutation::Replace(at, len, text)),
        2 => (any::<Index>(), noise()).prop_map(|(at, text)| Mutation::Insert(at, text)),
        3 => (any::<Index>(), any::<bool>(), value()).prop_map(|(at, entry, text)| Mutation::Value(at, entry, text)),
        3 => (any::<Index>(), cell()).prop_map(|(at, text)| Mutation::Cell(at, text)),
        3 => (any::<Index>(), 1..12usize, any::<bool>()).prop_map(|(at, n, repeat)| Mutation::Lines(at, n, repeat)),
    ]
}

/// Applies the mutations on bytes, so that they may also split a character; the result is
/// read as UTF-8 the way a lossy reader would.
fn mutate(base: &str, mutations: &[Mutation]) -> String {
    let mut bytes = base.as_bytes().to_vec();
    for mutation in mutations {
        let (range, text) = match mutation {
            Mutation::Truncate(at) => (at.index(bytes.len() + 1)..bytes.len(), ""),
            Mutation::Replace(at, len, text) => {
                let start = at.index(bytes.len() + 1);
                (start..(start + len).min(bytes.len()), text.as_str())
            }
            Mutation::Insert(at, text) => {
                let at = at.index(bytes.len() + 1);
                (at..at, text.as_str())
            }
            Mutation::Value(at, entry, text) => {
                let values: Vec<usize> =
                    bytes.windows(2).enumerate().filter(|(_, w)| w == b"= ").map(|(i, _)| i + 2).collect();
                let Some(&start) = values.get(at.index(values.len().max(1))) else { continue };
                let stops: &[u8] = if *entry { b"\n,}" } else { b"\n" };
                (start..end_of(&bytes, start, stops), text.as_str())
            }
            Mutation::Cell(at, text) => {
                let mut cells = vec![0];
                cells.extend(bytes.iter().enumerate().filter(|(_, b)| b"\n,;".contains(b)).map(|(i, _)| i + 1));
                let start = cells[at.index(cells.len())];
                (start..end_of(&bytes, start, b"\r\n,;"), text.as_str())
            }
            Mutation::Lines(at, count, repeat) => {
                let mut starts = vec![0];
                starts.extend(bytes.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1));
                let first = at.index(starts.len());
                let lines = starts[first]..starts.get(first + count).copied().unwrap_or(bytes.len());
                let text = if *repeat { bytes[lines.clone()].to_vec() } else { Vec::new() };
                bytes.splice(if *repeat { lines.end..lines.end } else { lines }, text);
                continue;
            }
        };
        bytes.splice(range, text.bytes());
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Where the first of `stops` from `start` is, or the end.
fn end_of(bytes: &[u8], start: usize, stops: &[u8]) -> usize {
    bytes[start..].iter().position(|b| stops.contains(b)).map_or(bytes.len(), |i| start + i)
}

/// A text to feed a loader: one of `bases` mutated, or arbitrary text.
fn input(bases: Vec<&'static str>) -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (select(bases), prop::collection::vec(mutation(), 1..4)).prop_map(|(base, m)| mutate(base, &m)),
        1 => any::<String>(),
    ]
}

/// `cases` cases, unless `PROPTEST_CASES` asks for another number (for a longer hunt). A
/// failure is kept in `tests/it/no_panic.proptest-regressions` and tried first next time.
fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config.failure_persistence = Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions")));
    config
}

fn lines(source: &str) -> usize {
    source.split('\n').count()
}

/// A definition refusal names its place: `file:line:col` when the TOML does not parse into
/// a definition, otherwise the phase, field or transition (in backticks) that breaks a
/// rule, or the rule the definition as a whole breaks.
fn check_definition_error(error: &DefinitionError, source: &str) -> Result<(), TestCaseError> {
    let text = error.to_string();
    prop_assert!(text.starts_with("workflow x.toml"), "{text}");
    if let Some(at) = error.file.strip_prefix("x.toml:") {
        let numbers: Vec<usize> = at.split(':').filter_map(|n| n.parse().ok()).collect();
        prop_assert!(numbers.len() == 2, "line and column: {text}");
        prop_assert!((1..=lines(source)).contains(&numbers[0]) && numbers[1] >= 1, "{text}");
    } else {
        prop_assert_eq!(&error.file, "x.toml");
        let whole = ["no initial phase", "initial phases", "no terminal phase"];
        prop_assert!(error.message.contains('`') || whole.iter().any(|w| error.message.contains(w)), "{}", text);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn a_workflow_definition_never_panics_and_every_refusal_names_its_place(
        source in input(BUILTIN.iter().map(|(_, source)| *source).collect()),
    ) {
        if let Err(error) = WorkflowDef::parse("x.toml", &source) {
            check_definition_error(&error, &source)?;
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// An import refusal is `x.toml:line:col: message`, with a line of the file.
fn check_import_error(result: koers_engine::Result<impl std::fmt::Debug>, source: &str) -> Result<(), TestCaseError> {
    match result {
        Ok(_) => {}
        Err(Error::Import(ImportError::At { file, line, column, message })) => {
            prop_assert_eq!(file, "x.toml");
            prop_assert!((1..=lines(source)).contains(&line) && column >= 1, "{line}:{column}: {message}");
            prop_assert!(!message.is_empty());
        }
        Err(other) => prop_assert!(false, "an import refusal without a place: {other:?}"),
    }
    Ok(())
}

/// Into an empty database, or over the file it was made from: a changed file updates and
/// removes rows.
#[test]
fn an_import_file_never_panics_and_every_refusal_names_its_place() {
    let runtime = runtime();
    let case = (select(vec![KC_BALANS, HEIDEVLINDER]), any::<bool>())
        .prop_flat_map(|(base, over)| (Just(base), Just(over), input(vec![base])));
    proptest!(config(96), |((base, over, source) in case)| {
        let result = runtime.block_on(async {
            let db = koers_testing::database().await;
            if over {
                import_str(&db, "base.toml", base).await.expect("the example imports");
            }
            import_str(&db, "x.toml", &source).await
        });
        check_import_error(result, &source)?;
    });
}

/// The organisations the CSV examples name, on 1 December 2026, with the workflows a scan
/// needs.
async fn engine() -> Engine {
    let db = koers_testing::database().await;
    for (file, source) in [("heidevlinder.toml", HEIDEVLINDER), ("de-klinkert.toml", DE_KLINKERT)] {
        import_str(&db, file, source).await.expect("import");
    }
    let clock = Arc::new(ManualClock::new(Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).single().expect("time")));
    let engine = Engine::with_clock(db, clock);
    engine.register_workflows(load(None).expect("workflows")).await.expect("register");
    engine
}

#[test]
fn a_csv_file_never_panics_and_every_refusal_names_a_line() {
    let runtime = runtime();
    let kinds = vec![(CsvKind::Measurements, MEASUREMENTS), (CsvKind::Scans, SCANS), (CsvKind::Coaching, COACHING)];
    let case = (select(kinds), prop::bool::weighted(0.1)).prop_flat_map(|((kind, base), any_base)| {
        // Now and then a file of another kind, to meet the wrong header.
        let bases = if any_base { vec![MEASUREMENTS, SCANS, COACHING] } else { vec![base] };
        (Just(kind), input(bases))
    });
    proptest!(config(96), |((kind, source) in case)| {
        let result = runtime.block_on(async { engine().await.import_csv("test", kind, "x.csv", &source).await });
        match result {
            Ok(_) => {}
            Err(Error::Csv(CsvRejected { file, errors })) => {
                prop_assert_eq!(file, "x.csv");
                prop_assert!(!errors.is_empty());
                prop_assert!(
                    errors.iter().all(|e| e.line >= 1 && e.line as usize <= lines(&source) + 1),
                    "{:?}", errors
                );
            }
            Err(other) => prop_assert!(false, "a CSV refusal without a line: {other:?}"),
        }
    });
}
