//! A `koers serve` killed with SIGKILL while it fires an occurrence, and restarted: no
//! occurrence fired twice, none lost. The kill lands inside the firing transaction every
//! time: the process is stopped there by a fail point (`FAILPOINTS`), says so in its log,
//! and is killed while it waits.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use koers_engine::store::entity::{cycle, groep, occurrence};
use koers_engine::store::{StoreConfig, open};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::{koers, run};

const GROEPEN: usize = 400;

/// A kindcentrum with `groepen` BSO groepen and a locatieteam, so that opening a scan
/// cycle for each groep takes a while inside one transaction.
pub(crate) fn big_kindcentrum(groepen: usize) -> String {
    let mut file = String::from(
        "[[bestuur]]\nkey = \"b\"\nname = \"Opvang\"\nkind = \"kinderopvang\"\n\n\
         [[kindcentrum]]\nkey = \"groot\"\nname = \"Groot kindcentrum\"\nbesturen = [\"b\"]\n\n\
         [[kindcentrum.onderdeel]]\nkey = \"bso\"\nname = \"BSO\"\nkind = \"bso\"\nbestuur = \"b\"\n\n\
         [[kindcentrum.team]]\nkey = \"lt\"\nname = \"Locatieteam\"\nkind = \"locatieteam\"\n\n\
         [[kindcentrum.locatie]]\nkey = \"hoofd\"\nname = \"Hoofdgebouw\"\n",
    );
    for i in 0..groepen {
        file.push_str(&format!(
            "\n[[kindcentrum.locatie.groep]]\nkey = \"g{i}\"\nname = \"BSO {i}\"\nonderdeel = \"bso\"\n"
        ));
    }
    file
}

/// The first scan of 2027, just due.
const FIRST_SCAN_2027: &str = "2027-01-04T09:00:30+01:00";

/// The fail points to arm for a process that is to be killed with a batch of occurrences
/// written and not committed: it logs [`PAUSED`] there and waits.
pub(crate) const PAUSE_BEFORE_COMMIT: (&str, &str) = ("FAILPOINTS", "fire-before-commit=pause");
/// What a process logs when it reached a fail point.
pub(crate) const PAUSED: &str = "reached fail point";

/// Starts `koers serve` with the clock from `clock_start`; answers the process and a
/// channel of its log lines.
pub(crate) fn serve(url: &str, clock_start: &str) -> (Child, mpsc::Receiver<String>) {
    serve_with(url, clock_start, &[])
}

/// [`serve`] with more environment, such as [`PAUSE_BEFORE_COMMIT`].
pub(crate) fn serve_with(url: &str, clock_start: &str, envs: &[(&str, &str)]) -> (Child, mpsc::Receiver<String>) {
    let mut child = koers()
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", url, "--clock-start", clock_start])
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

pub(crate) fn wait_for(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    loop {
        let line = lines.recv_timeout(Duration::from_secs(120)).unwrap_or_else(|_| panic!("no `{needle}` in the log"));
        if line.contains(needle) {
            return line;
        }
    }
}

#[tokio::test]
async fn a_process_killed_mid_fire_fires_each_occurrence_exactly_once_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = koers_testing::database_url_blocking(dir.path(), "k.db");
    let file = dir.path().join("groot.toml");
    std::fs::write(&file, big_kindcentrum(GROEPEN)).expect("write");
    for args in [
        vec!["import", "--database-url", &url, file.to_str().expect("path")],
        vec![
            "schedule",
            "apply-template",
            "--database-url",
            &url,
            "--template",
            "welbevinden-scan",
            "--scope",
            "kindcentrum:1",
        ],
    ] {
        let output = run(&args);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }

    let (mut first, lines) = serve_with(&url, FIRST_SCAN_2027, &[PAUSE_BEFORE_COMMIT]);
    wait_for(&lines, "firing occurrence");
    // The batch is written, its transaction open: killed now, it never commits.
    wait_for(&lines, PAUSED);
    first.kill().expect("SIGKILL");
    first.wait().expect("wait");

    let db = open(&StoreConfig::new(url.clone())).await.expect("database");
    let fired_before =
        occurrence::Entity::find().filter(occurrence::Column::Status.eq("fired")).all(&db).await.expect("q").len();
    let cycles_before = cycle::Entity::find().all(&db).await.expect("q").len();
    assert_eq!(
        (fired_before, cycles_before),
        (0, 0),
        "the kill landed inside the transaction: nothing of the batch is left"
    );
    drop(db);

    let (mut second, lines) = serve(&url, FIRST_SCAN_2027);
    wait_for(&lines, "scheduler caught up");
    second.kill().expect("stop");
    second.wait().expect("wait");

    let db = open(&StoreConfig::new(url)).await.expect("database");
    let fired = occurrence::Entity::find().filter(occurrence::Column::Status.eq("fired")).all(&db).await.expect("q");
    assert_eq!(fired.len(), 1, "the 4 January scan fired once");
    let pending_due = occurrence::Entity::find()
        .filter(occurrence::Column::Status.eq("pending"))
        .filter(occurrence::Column::DueAt.lte(fired[0].due_at))
        .all(&db)
        .await
        .expect("q");
    assert!(pending_due.is_empty(), "nothing due is left behind");
    let cycles = cycle::Entity::find().filter(cycle::Column::OccurrenceId.eq(fired[0].id)).all(&db).await.expect("q");
    assert_eq!(cycles.len(), GROEPEN, "one scan cycle per groep");
    let mut owners: Vec<i64> = cycles.iter().filter_map(|c| c.groep_id).collect();
    owners.sort_unstable();
    owners.dedup();
    assert_eq!(owners.len(), groep::Entity::find().all(&db).await.expect("q").len(), "no groep got two");
}
