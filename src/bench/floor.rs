//! The floors: the same work as koers does, in plain SQL statements with no engine logic
//! (SQLite, the store the suite runs on).

use std::time::Instant;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait, Value as SqlValue};

use super::{OpenCycle, cutoff, query};
use koers_engine::domain::SchoolYear;
use koers_engine::workflow::WorkflowDef;

/// A bestuur of 30 kindcentra and the largest one if it has more: (id, kindcentra).
pub async fn board_sizes(db: &DatabaseConnection) -> anyhow::Result<Vec<(i64, i64)>> {
    let rows = query(
        db,
        "SELECT bestuur_id, COUNT(*) FROM kindcentrum_bestuur GROUP BY bestuur_id ORDER BY COUNT(*) DESC, bestuur_id",
        vec![],
    )
    .await?;
    let sizes: Vec<(i64, i64)> =
        rows.iter().map(|r| Ok((r.try_get_by_index(0)?, r.try_get_by_index(1)?))).collect::<anyhow::Result<_>>()?;
    let mut out: Vec<(i64, i64)> = sizes.iter().copied().filter(|(_, n)| *n == 30).take(1).collect();
    if let Some(largest) = sizes.first().filter(|(_, n)| *n > 30) {
        out.push(*largest);
    }
    Ok(out)
}

/// The progress of every koersplan of a bestuur's kindcentra (or of all kindcentra), per
/// doel, ambitie and koersplan, in one aggregate: a succescriterium is met when the latest
/// measurement of its indicator meets the target or its latest mark says so.
pub async fn progress(db: &DatabaseConnection, bestuur: Option<i64>, peildatum: NaiveDate) -> anyhow::Result<()> {
    let sql = format!(
        "WITH plans AS MATERIALIZED (
            SELECT k.id, kb.bestuur_id FROM koersplan k
            JOIN kindcentrum_bestuur kb ON kb.kindcentrum_id = k.kindcentrum_id {}
        ),
        criteria AS MATERIALIZED (
            SELECT s.id, s.doel_id, s.indicator_id, a.id AS ambitie_id, a.koersplan_id, p.bestuur_id
            FROM plans p JOIN ambitie a ON a.koersplan_id = p.id JOIN doel d ON d.ambitie_id = a.id
            JOIN succescriterium s ON s.doel_id = d.id
        ),
        scored AS (
            SELECT c.bestuur_id, c.koersplan_id, c.ambitie_id, c.doel_id,
                CASE WHEN (
                    SELECT CASE i.direction WHEN 'at-least' THEN m.value >= i.target ELSE m.value <= i.target END
                    FROM measurement m JOIN indicator i ON i.id = m.indicator_id
                    WHERE m.indicator_id = c.indicator_id AND m.period_end <= ?
                    ORDER BY m.period_end DESC, m.id DESC LIMIT 1
                ) OR (
                    SELECT mk.met FROM criterium_mark mk
                    WHERE mk.succescriterium_id = c.id AND mk.at < ?
                    ORDER BY mk.at DESC, mk.id DESC LIMIT 1
                ) THEN 1.0 ELSE 0.0 END AS met
            FROM criteria c
        ),
        doelen AS (
            SELECT bestuur_id, koersplan_id, ambitie_id, AVG(met) AS progress FROM scored
            GROUP BY bestuur_id, koersplan_id, ambitie_id, doel_id
        ),
        ambities AS (
            SELECT bestuur_id, koersplan_id, AVG(progress) AS progress FROM doelen
            GROUP BY bestuur_id, koersplan_id, ambitie_id
        )
        SELECT bestuur_id, koersplan_id, AVG(progress) FROM ambities GROUP BY bestuur_id, koersplan_id",
        if bestuur.is_some() { "WHERE kb.bestuur_id = ?" } else { "" }
    );
    let mut values: Vec<SqlValue> = bestuur.map(SqlValue::from).into_iter().collect();
    values.push(peildatum.into());
    values.push(cutoff(peildatum).into());
    let rows = query(db, &sql, values).await?;
    anyhow::ensure!(!rows.is_empty(), "no koersplannen for bestuur {bestuur:?}");
    Ok(())
}

/// What the board query of a bestuur answers, in five statements: the progress of its
/// koersplannen ([`progress`]), the overdue cycles and planned activities, the means of
/// the latest scan of each groep, and the realised coaching hours per opvang locatie with
/// the kindercentra of its houder. `counted_until` is the server's today, up to which
/// coaching hours count.
pub async fn board(
    db: &DatabaseConnection,
    bestuur: i64,
    peildatum: NaiveDate,
    counted_until: NaiveDate,
) -> anyhow::Result<()> {
    progress(db, Some(bestuur), peildatum).await?;
    // Open cycles due before the peildatum, of a kindcentrum, its teams, its groepen and
    // the professionals working there. The unary + keeps SQLite from starting at the
    // index on (status, due), which holds the overdue cycles of the whole country.
    let owned = |join: &str| {
        format!(
            "SELECT kb.kindcentrum_id, c.id, c.title, c.current_due FROM kindcentrum_bestuur kb {join}
             WHERE kb.bestuur_id = ? AND +c.status = 'open' AND +c.current_due < ?"
        )
    };
    let sql = [
        owned("JOIN cycle c ON c.kindcentrum_id = kb.kindcentrum_id"),
        owned("JOIN team t ON t.kindcentrum_id = kb.kindcentrum_id JOIN cycle c ON c.team_id = t.id"),
        owned(
            "JOIN locatie l ON l.kindcentrum_id = kb.kindcentrum_id JOIN groep g ON g.locatie_id = l.id
             JOIN cycle c ON c.groep_id = g.id",
        ),
        owned(
            "JOIN professional_kindcentrum pk ON pk.kindcentrum_id = kb.kindcentrum_id
             JOIN cycle c ON c.professional_id = pk.professional_id",
        ),
    ]
    .join(" UNION ALL ")
        + " ORDER BY 1, 4, 2";
    let values = (0..4).flat_map(|_| [SqlValue::from(bestuur), peildatum.into()]).collect();
    query(db, &sql, values).await?;
    // Planned activities of a school year before the peildatum's, neither done nor dropped.
    query(
        db,
        "SELECT k.kindcentrum_id, p.id, p.text FROM kindcentrum_bestuur kb
         JOIN koersplan k ON k.kindcentrum_id = kb.kindcentrum_id JOIN ambitie a ON a.koersplan_id = k.id
         JOIN doel d ON d.ambitie_id = a.id JOIN planning_item p ON p.doel_id = d.id
         WHERE kb.bestuur_id = ? AND p.school_year < ? AND p.status IN ('gepland', 'gestart')
         ORDER BY k.kindcentrum_id, p.school_year, p.position",
        vec![bestuur.into(), SchoolYear::containing(peildatum).start_year().into()],
    )
    .await?;
    // The means of the latest scan up to the peildatum of each groep.
    query(
        db,
        "SELECT l.kindcentrum_id, g.name, AVG(ss.welbevinden), AVG(ss.betrokkenheid) FROM kindcentrum_bestuur kb
         JOIN locatie l ON l.kindcentrum_id = kb.kindcentrum_id JOIN groep g ON g.locatie_id = l.id
         JOIN scan s ON s.id = (SELECT id FROM scan WHERE groep_id = g.id AND scanned_on <= ?
                                ORDER BY scanned_on DESC, id DESC LIMIT 1)
         JOIN scan_score ss ON ss.scan_id = s.id
         WHERE kb.bestuur_id = ? GROUP BY l.kindcentrum_id, g.id",
        vec![peildatum.into(), bestuur.into()],
    )
    .await?;
    // Per opvang locatie of the kindcentra, its houder's hours of the peildatum's year up
    // to today, and the houder's kindercentra (LRK registrations).
    query(
        db,
        "WITH houders AS MATERIALIZED (
            SELECT DISTINCT o.bestuur_id AS id FROM kindcentrum_bestuur kb
            JOIN onderdeel o ON o.kindcentrum_id = kb.kindcentrum_id JOIN bestuur b ON b.id = o.bestuur_id
            WHERE kb.bestuur_id = ? AND o.kind IN ('dagopvang', 'peuteropvang', 'bso') AND b.kind = 'kinderopvang'
        ),
        registered AS (
            SELECT o.bestuur_id AS houder, r.locatie_id, COUNT(*) AS registrations FROM houders h
            JOIN onderdeel o ON o.bestuur_id = h.id JOIN lrk_registration r ON r.onderdeel_id = o.id
            GROUP BY o.bestuur_id, r.locatie_id
        ),
        logged AS (
            SELECT e.bestuur_id AS houder, e.locatie_id,
                SUM(CASE WHEN e.kind = 'beleid' THEN 0 ELSE e.hours END) AS coaching,
                SUM(CASE WHEN e.kind = 'beleid' THEN e.hours ELSE 0 END) AS beleid
            FROM houders h JOIN coaching_entry e ON e.bestuur_id = h.id
            WHERE e.date BETWEEN ? AND ? AND e.locatie_id IS NOT NULL AND e.withdrawn_at IS NULL GROUP BY e.bestuur_id, e.locatie_id
        ),
        locaties AS (SELECT houder, locatie_id FROM registered UNION SELECT houder, locatie_id FROM logged)
        SELECT l.kindcentrum_id, l.name, x.houder, COALESCE(g.coaching, 0), COALESCE(g.beleid, 0),
            (SELECT SUM(registrations) FROM registered r WHERE r.houder = x.houder)
        FROM locaties x JOIN locatie l ON l.id = x.locatie_id
        LEFT JOIN logged g ON g.houder = x.houder AND g.locatie_id = x.locatie_id
        WHERE l.kindcentrum_id IN (SELECT kindcentrum_id FROM kindcentrum_bestuur WHERE bestuur_id = ?)
        ORDER BY l.kindcentrum_id, l.name",
        vec![
            bestuur.into(),
            NaiveDate::from_ymd_opt(peildatum.year(), 1, 1).unwrap_or_default().into(),
            counted_until.into(),
            bestuur.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Inserts the occurrence rows of `[start, end)` again, into a table shaped like
/// `occurrence`, 500 rows a statement in one transaction: the seconds it took.
pub async fn occurrences(db: &DatabaseConnection, start: DateTime<Utc>, end: DateTime<Utc>) -> anyhow::Result<f64> {
    let rows = query(
        db,
        "SELECT schedule_id, due_at, local_at, status, note FROM occurrence WHERE due_at >= ? AND due_at < ?",
        vec![start.into(), end.into()],
    )
    .await?;
    let mut values: Vec<[SqlValue; 5]> = Vec::with_capacity(rows.len());
    for r in &rows {
        values.push([
            r.try_get_by_index::<i64>(0)?.into(),
            r.try_get_by_index::<DateTime<Utc>>(1)?.into(),
            r.try_get_by_index::<chrono::NaiveDateTime>(2)?.into(),
            r.try_get_by_index::<String>(3)?.into(),
            r.try_get_by_index::<Option<String>>(4)?.into(),
        ]);
    }
    db.execute_unprepared(
        "CREATE TABLE occurrence_floor (id INTEGER PRIMARY KEY, schedule_id BIGINT NOT NULL, due_at TEXT NOT NULL,
            local_at TEXT NOT NULL, status TEXT NOT NULL, fired_at TEXT, result TEXT, note TEXT);
         CREATE UNIQUE INDEX idx_occurrence_floor ON occurrence_floor (schedule_id, due_at);",
    )
    .await?;
    let started = Instant::now();
    let txn = db.begin().await?;
    for chunk in values.chunks(500) {
        let sql = format!(
            "INSERT INTO occurrence_floor (schedule_id, due_at, local_at, status, note) VALUES {}",
            vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ")
        );
        let flat: Vec<SqlValue> = chunk.iter().flat_map(|row| row.iter().cloned()).collect();
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(txn.get_database_backend(), sql, flat)).await?;
    }
    txn.commit().await?;
    let took = started.elapsed().as_secs_f64();
    db.execute_unprepared("DROP TABLE occurrence_floor").await?;
    Ok(took)
}

/// The open cycles of a workflow dealt out to `clients` clients, twice: for the HTTP run
/// and for the floor, so neither works on the other's cycles.
pub async fn open_cycles(
    db: &DatabaseConnection,
    workflow: &str,
    clients: usize,
) -> anyhow::Result<(Vec<Vec<OpenCycle>>, Vec<Vec<OpenCycle>>)> {
    let rows = query(
        db,
        "SELECT id, version, phase FROM cycle WHERE workflow_key = ? AND status = 'open' ORDER BY id",
        vec![workflow.into()],
    )
    .await?;
    let cycles: Vec<OpenCycle> = rows
        .iter()
        .map(|r| {
            Ok(OpenCycle { id: r.try_get_by_index(0)?, version: r.try_get_by_index(1)?, phase: r.try_get_by_index(2)? })
        })
        .collect::<anyhow::Result<_>>()?;
    anyhow::ensure!(cycles.len() >= 2 * clients, "too few open {workflow} cycles for {clients} clients");
    let mut deal = vec![Vec::new(); 2 * clients];
    for (n, cycle) in cycles.into_iter().enumerate() {
        deal[n % (2 * clients)].push(cycle);
    }
    let floor = deal.split_off(clients);
    Ok((deal, floor))
}

/// Per transition: read the cycle, update it where its version still holds, append its
/// event; one transaction each, from as many concurrent tasks as clients.
pub async fn transitions(
    db: &DatabaseConnection,
    def: &WorkflowDef,
    cycles: Vec<Vec<OpenCycle>>,
    per_client: usize,
) -> anyhow::Result<f64> {
    let clients = cycles.len();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mine in cycles {
        let db = db.clone();
        let def = def.clone();
        tasks.push(async move {
            let mut mine = mine;
            for n in 0..per_client {
                let len = mine.len();
                let cycle = &mut mine[n % len];
                let (to, fields) = super::next_transition(&def, &cycle.phase).ok_or_else(|| anyhow::anyhow!("stuck"))?;
                let data = serde_json::json!({ "kind": "advanced", "from": cycle.phase, "to": to, "values": fields });
                let txn = db.begin().await?;
                let row = query(&txn, "SELECT version, fields FROM cycle WHERE id = ?", vec![cycle.id.into()]).await?;
                let version: i64 = row.first().ok_or_else(|| anyhow::anyhow!("cycle"))?.try_get_by_index(0)?;
                let now = Utc::now();
                txn.execute_raw(sea_orm::Statement::from_sql_and_values(
                    txn.get_database_backend(),
                    "UPDATE cycle SET phase = ?, fields = ?, current_due = NULL, version = ?, updated_at = ?
                     WHERE id = ? AND version = ?",
                    vec![
                        to.clone().into(),
                        data.to_string().into(),
                        (version + 1).into(),
                        now.into(),
                        cycle.id.into(),
                        version.into(),
                    ],
                ))
                .await?;
                txn.execute_raw(sea_orm::Statement::from_sql_and_values(
                    txn.get_database_backend(),
                    "INSERT INTO cycle_event (cycle_id, sequence, kind, actor, at, from_phase, to_phase, iteration, data)
                     VALUES (?, ?, 'advanced', 'floor', ?, ?, ?, 1, ?)",
                    vec![
                        cycle.id.into(),
                        (version + 1).into(),
                        now.into(),
                        cycle.phase.clone().into(),
                        to.clone().into(),
                        data.to_string().into(),
                    ],
                ))
                .await?;
                txn.commit().await?;
                cycle.version = version + 1;
                cycle.phase = to;
            }
            anyhow::Ok(())
        });
    }
    futures::future::try_join_all(tasks).await?;
    Ok((clients * per_client) as f64 / started.elapsed().as_secs_f64())
}

/// The columns the school year of the scheduler writes, with their kind: `i` integer, `t`
/// text (dates and timestamps are text in SQLite).
const CYCLE_COLUMNS: &[(&str, char)] = &[
    ("workflow_version_id", 'i'),
    ("workflow_key", 't'),
    ("title", 't'),
    ("team_id", 'i'),
    ("professional_id", 'i'),
    ("groep_id", 'i'),
    ("kindcentrum_id", 'i'),
    ("status", 't'),
    ("phase", 't'),
    ("iteration", 'i'),
    ("outcome", 't'),
    ("fields", 't'),
    ("due_dates", 't'),
    ("current_due", 't'),
    ("version", 'i'),
    ("created_at", 't'),
    ("updated_at", 't'),
    ("occurrence_id", 'i'),
];
const EVENT_COLUMNS: &[(&str, char)] = &[
    ("sequence", 'i'),
    ("kind", 't'),
    ("actor", 't'),
    ("at", 't'),
    ("from_phase", 't'),
    ("to_phase", 't'),
    ("iteration", 'i'),
    ("data", 't'),
];
const REMINDER_COLUMNS: &[(&str, char)] = &[
    ("occurrence_id", 'i'),
    ("title", 't'),
    ("due_date", 't'),
    ("team_id", 'i'),
    ("professional_id", 'i'),
    ("groep_id", 'i'),
    ("kindcentrum_id", 'i'),
    ("done_at", 't'),
    ("created_at", 't'),
];
const RESULT_COLUMNS: &[(&str, char)] = &[("id", 'i'), ("status", 't'), ("fired_at", 't'), ("result", 't')];

/// Rows per INSERT of [`scheduler_writes`], as koers writes them.
const ROWS_PER_STATEMENT: usize = 1000;

/// Writes again, in plain SQL, what the scheduler's school year wrote: its cycles with
/// their first events, its reminders and the results of its occurrences, into the same
/// tables with the same indexes, spread over `transactions` transactions as koers's
/// batches are. The copies are removed afterwards, not timed. The seconds the writing
/// took; the occurrence rows themselves are [`occurrences`].
pub async fn scheduler_writes(db: &DatabaseConnection, transactions: usize) -> anyhow::Result<f64> {
    let names = |columns: &[(&str, char)]| columns.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ");
    let cycles = values(
        db,
        &format!("SELECT {}, id FROM cycle WHERE occurrence_id IS NOT NULL ORDER BY id", names(CYCLE_COLUMNS)),
        &[CYCLE_COLUMNS, &[("id", 'i')]].concat(),
    )
    .await?;
    let first_events: std::collections::HashMap<i64, Vec<SqlValue>> = values(
        db,
        &format!(
            "SELECT {}, cycle_id FROM cycle_event WHERE sequence = 1 AND cycle_id IN
                (SELECT id FROM cycle WHERE occurrence_id IS NOT NULL)",
            names(EVENT_COLUMNS)
        ),
        &[EVENT_COLUMNS, &[("cycle_id", 'i')]].concat(),
    )
    .await?
    .into_iter()
    .filter_map(|mut row| match row.pop() {
        Some(SqlValue::BigInt(Some(cycle))) => Some((cycle, row)),
        _ => None,
    })
    .collect();
    let reminders = values(
        db,
        &format!("SELECT {} FROM reminder WHERE occurrence_id IS NOT NULL ORDER BY id", names(REMINDER_COLUMNS)),
        REMINDER_COLUMNS,
    )
    .await?;
    let results = values(
        db,
        &format!("SELECT {} FROM occurrence WHERE status = 'fired' ORDER BY due_at, id", names(RESULT_COLUMNS)),
        RESULT_COLUMNS,
    )
    .await?;
    let max = |table: &'static str| async move {
        let rows = query(db, &format!("SELECT COALESCE(MAX(id), 0) FROM {table}"), vec![]).await?;
        anyhow::Ok(rows.first().map(|r| r.try_get_by_index::<i64>(0)).transpose()?.unwrap_or_default())
    };
    let (cycles_before, reminders_before) = (max("cycle").await?, max("reminder").await?);

    let part = |len: usize, n: usize| len * n / transactions..len * (n + 1) / transactions;
    let insert = |table: &str, columns: &str, width: usize, rows: usize, returning: &str| {
        let row = format!("({})", vec!["?"; width].join(", "));
        format!("INSERT INTO {table} ({columns}) VALUES {}{returning}", vec![row; rows].join(", "))
    };
    let started = Instant::now();
    for n in 0..transactions {
        let txn = db.begin().await?;
        for chunk in cycles[part(cycles.len(), n)].chunks(ROWS_PER_STATEMENT) {
            let sql = insert("cycle", &names(CYCLE_COLUMNS), CYCLE_COLUMNS.len(), chunk.len(), " RETURNING id");
            let flat = chunk.iter().flat_map(|row| row[..CYCLE_COLUMNS.len()].iter().cloned()).collect();
            let mut ids: Vec<i64> =
                query(&txn, &sql, flat).await?.iter().map(|r| r.try_get_by_index(0)).collect::<Result<_, _>>()?;
            ids.sort_unstable();
            let mut events = Vec::with_capacity(chunk.len() * (EVENT_COLUMNS.len() + 1));
            for (row, id) in chunk.iter().zip(ids) {
                let Some(SqlValue::BigInt(Some(old))) = row.last() else { continue };
                if let Some(event) = first_events.get(old) {
                    events.push(SqlValue::from(id));
                    events.extend(event.iter().cloned());
                }
            }
            let rows = events.len() / (EVENT_COLUMNS.len() + 1);
            let sql = insert(
                "cycle_event",
                &format!("cycle_id, {}", names(EVENT_COLUMNS)),
                EVENT_COLUMNS.len() + 1,
                rows,
                "",
            );
            if rows > 0 {
                query(&txn, &sql, events).await?;
            }
        }
        for chunk in reminders[part(reminders.len(), n)].chunks(ROWS_PER_STATEMENT) {
            let sql = insert("reminder", &names(REMINDER_COLUMNS), REMINDER_COLUMNS.len(), chunk.len(), "");
            query(&txn, &sql, chunk.iter().flatten().cloned().collect()).await?;
        }
        for chunk in results[part(results.len(), n)].chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "UPDATE occurrence SET status = r.column2, fired_at = r.column3, result = r.column4
                 FROM (VALUES {}) AS r WHERE occurrence.id = r.column1",
                vec!["(?, ?, ?, ?)"; chunk.len()].join(", ")
            );
            query(&txn, &sql, chunk.iter().flatten().cloned().collect()).await?;
        }
        txn.commit().await?;
    }
    let took = started.elapsed().as_secs_f64();
    for (sql, before) in [
        ("DELETE FROM cycle_event WHERE cycle_id > ?", cycles_before),
        ("DELETE FROM cycle WHERE id > ?", cycles_before),
        ("DELETE FROM reminder WHERE id > ?", reminders_before),
    ] {
        query(db, sql, vec![before.into()]).await?;
    }
    Ok(took)
}

/// The rows of `sql` as values of the kinds of `columns`.
async fn values(db: &DatabaseConnection, sql: &str, columns: &[(&str, char)]) -> anyhow::Result<Vec<Vec<SqlValue>>> {
    query(db, sql, vec![])
        .await?
        .iter()
        .map(|r| {
            columns
                .iter()
                .enumerate()
                .map(|(n, (_, kind))| {
                    Ok(match kind {
                        'i' => SqlValue::from(r.try_get_by_index::<Option<i64>>(n)?),
                        _ => SqlValue::from(r.try_get_by_index::<Option<String>>(n)?),
                    })
                })
                .collect()
        })
        .collect()
}
