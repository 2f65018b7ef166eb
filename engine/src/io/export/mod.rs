//! Export and restore of one kindcentrum: every row that belongs to it as one JSON
//! document, and the restore of such a document into an empty database, ids and all.
//!
//! The document is `{ "format": "koers-export", "version": 1, "kindcentrum": ID, "tables":
//! { TABLE: [ROW, ...], ... } }`, tables in the order of [`TABLES`] (parents before
//! children, the order restore inserts them in) and rows by primary key, so the same data
//! always gives the same bytes. Rows are the sea-orm models serialized with serde, so dates,
//! timestamps, enumerations and JSON columns keep their types and the same file restores
//! into SQLite or PostgreSQL.
//!
//! What belongs to a kindcentrum: its onderdelen, locaties (with LRK registrations), groepen,
//! teams and members, the professionals linked to it or referred to by an exported row
//! (members, coaches, coachees, pitches) with their roles and FTE, the besturen it is linked
//! to or an exported row refers to, the VE indications of its besturen, its koersplannen
//! down to marks and signal overrides, the indicators scoped to it or one of its locaties
//! or groepen or used by its doelen and succescriteria, with all their measurements, the
//! cycles its owners run (the same owners the scheduler and the board view use) with their
//! events, pitches and workflow versions, the schedules scoped to it or to its locaties,
//! groepen and teams with their occurrences, its reminders, the scans of its groepen and
//! the coaching log of its locaties. School holidays are public reference data, but
//! schedules move occurrences by them: the holidays of the vacation regions of its
//! locaties go along so the calendar lands on the same days after a restore.
//!
//! References that would leave the export are cut, so that the file restores on its own and
//! the restored database holds no ids of rows it lacks: a cycle of a professional who also
//! works elsewhere keeps only its links to this kindcentrum's doelen; a reminder or cycle
//! made by a bestuur's schedule (which is not exported) loses the link to its occurrence;
//! the evidence of a mark and the cycle of a scan become null when they are not exported.
//! Columns that hold JSON as text (a cycle's fields, a schedule's rule) stay text.
//!
//! A restore parses and checks every row before it writes any (see [`check`]): each as the
//! importer, the scheduler and the state machine check what they write, and every cycle
//! against the replay of its events. A file that was edited or damaged is refused, naming
//! the table, the row and what is wrong, and the database stays empty.
//!
//! Timestamps are written and restored in whole microseconds, the precision PostgreSQL
//! keeps and the clock hands out (see [`crate::clock`]). A SQLite database written before
//! the clock did may hold nanoseconds: its export cuts them, and so does a restore of a file
//! that still holds them, rather than refusing it. Export, restore and export again then
//! give the same bytes on either store.

mod check;

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use sea_orm::sea_query::IntoCondition;
use sea_orm::{
    AccessMode, ActiveModelTrait, ColumnTrait, Condition, DatabaseTransaction, DbBackend, EntityTrait, IdenStatic,
    IntoActiveModel, IsolationLevel, Iterable, PrimaryKeyToColumn, QueryFilter, QueryOrder, TransactionTrait,
    TryIntoModel,
};
use serde::de::DeserializeOwned;
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::Engine;
use crate::access::owners::OwnersIn;
use crate::clock::microseconds;
use crate::domain::Key;
use crate::error::ExportRefused;
use crate::error::{Error, Result};
use crate::store::entity::*;

/// What the `format` field of an export says.
pub const FORMAT: &str = "koers-export";

/// The version of the format this build writes and reads.
pub const VERSION: u64 = 1;

/// Tables that are never exported. A test fails when a table is in neither this list nor
/// [`TABLES`], so a new table is a decision, not an accident.
pub const NOT_EXPORTED: &[&str] = &[
    // Credentials: a token is for the database it was made in and never leaves it.
    "api_token",
    // sea-orm's record of the applied migrations: the target database keeps its own.
    "seaql_migrations",
];

/// Tables added after version 1 of the format was first written: a document without them
/// holds none of their rows.
const ADDED_LATER: &[&str] = &["change"];

/// Reference rows a target database may already hold before a restore: `koers serve`
/// registers the workflow definitions on start, `koers import-holidays` loads the school
/// holidays. A row that is already there under the same id with the same natural key (these
/// columns) is kept as it is; any other clash refuses the restore.
const SHARED: &[(&str, &[&str])] =
    &[("workflow_version", &["key", "version", "hash"]), ("school_holiday", &["region", "school_year", "name"])];

/// Declares the exported tables once: their order and how restore writes each one.
macro_rules! tables {
    ($($table:ident),+ $(,)?) => {
        /// The exported tables, parents before children: the order of the document and of
        /// the inserts of a restore.
        pub const TABLES: &[&str] = &[$(stringify!($table)),+];

        /// The rows of an export as the models of their tables, table by table: parsed and
        /// checked before a restore writes any of them.
        struct Rows {
            $($table: Vec<$table::Model>,)+
        }

        impl Rows {
            /// Parses the rows of every table (see [`parse`]).
            fn parse(export: &Export) -> Result<Rows> {
                Ok(Rows { $($table: parse::<$table::Entity>(export.rows(stringify!($table)))?,)+ })
            }

            /// Inserts the rows, parents before children.
            async fn insert(self, txn: &DatabaseTransaction) -> Result<RestoreReport> {
                let mut report = RestoreReport::default();
                $(
                    let (written, kept) = insert::<$table::Entity>(txn, self.$table).await?;
                    report.written += written;
                    report.kept += kept;
                )+
                Ok(report)
            }
        }

        #[cfg(test)]
        fn entity_table_names() -> Vec<&'static str> {
            vec![$(sea_orm::EntityName::table_name(&$table::Entity)),+]
        }
    };
}

tables!(
    bestuur,
    ve_indication,
    kindcentrum,
    kindcentrum_bestuur,
    onderdeel,
    locatie,
    lrk_registration,
    groep,
    professional,
    professional_role,
    professional_fte,
    professional_kindcentrum,
    team,
    team_member,
    indicator,
    measurement,
    koersplan,
    ambitie,
    doel,
    succescriterium,
    planning_item,
    doel_indicator,
    signal_override,
    workflow_version,
    schedule,
    occurrence,
    reminder,
    cycle,
    cycle_doel,
    cycle_event,
    pitch,
    criterium_mark,
    scan,
    scan_score,
    coaching_entry,
    coaching_coachee,
    school_holiday,
    change,
);

/// The rows of one kindcentrum, table by table in the order of [`TABLES`].
#[derive(Clone, Debug, PartialEq)]
pub struct Export {
    kindcentrum: i64,
    tables: Vec<(&'static str, Vec<Value>)>,
}

/// What a restore wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// Rows inserted.
    pub written: usize,
    /// Reference rows the database held already (see [`SHARED`]).
    pub kept: usize,
}

impl Export {
    /// The kindcentrum exported.
    pub fn kindcentrum(&self) -> i64 {
        self.kindcentrum
    }

    /// The tables with their rows, in the order of [`TABLES`].
    pub fn tables(&self) -> impl Iterator<Item = (&'static str, &[Value])> {
        self.tables.iter().map(|(table, rows)| (*table, rows.as_slice()))
    }

    /// The rows of one table (none for a table not exported).
    pub fn rows(&self, table: &str) -> &[Value] {
        self.tables.iter().find(|(t, _)| *t == table).map_or(&[], |(_, rows)| rows.as_slice())
    }

    /// Writes the document, indented, with a final newline.
    pub fn write(&self, mut out: impl io::Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut out, self)?;
        out.write_all(b"\n")
    }

    /// Reads a document written by [`Export::write`]: the format and version, every table
    /// of [`TABLES`] and no other, each a list of rows.
    pub fn parse(text: &str) -> Result<Export> {
        let format = |message: String| Error::from(ExportRefused::Format(message));
        let document: Value = serde_json::from_str(text).map_err(|e| format(e.to_string()))?;
        let Value::Object(mut document) = document else { return Err(format("not a JSON object".into())) };
        if document.get("format").and_then(Value::as_str) != Some(FORMAT) {
            return Err(format(format!("`format` must be `{FORMAT}`")));
        }
        match document.get("version").map(|v| (v.as_u64(), v)) {
            Some((Some(VERSION), _)) => {}
            Some((Some(other), _)) => return Err(ExportRefused::Version { found: other, supported: VERSION }.into()),
            _ => return Err(format("`version` must be a whole number".into())),
        }
        let kindcentrum = document
            .get("kindcentrum")
            .and_then(Value::as_i64)
            .ok_or_else(|| format("`kindcentrum` must be the id of the kindcentrum exported".into()))?;
        let Some(Value::Object(mut tables)) = document.remove("tables") else {
            return Err(format("`tables` must be an object of tables".into()));
        };
        if let Some(other) = document.keys().find(|k| !["format", "version", "kindcentrum"].contains(&k.as_str())) {
            return Err(format(format!("unknown field `{other}`")));
        }
        if let Some(unknown) = tables.keys().find(|t| !TABLES.contains(&t.as_str())) {
            return Err(ExportRefused::UnknownTable(unknown.clone()).into());
        }
        let mut ordered = Vec::with_capacity(TABLES.len());
        for table in TABLES {
            match tables.remove(*table) {
                Some(Value::Array(rows)) => ordered.push((*table, rows)),
                Some(_) => return Err(format(format!("table `{table}` must be a list of rows"))),
                // A document written before the trail existed has none to restore.
                None if ADDED_LATER.contains(table) => ordered.push((*table, Vec::new())),
                None => return Err(ExportRefused::MissingTable((*table).to_owned()).into()),
            }
        }
        let export = Export { kindcentrum, tables: ordered };
        let ids: Vec<Option<i64>> = export.rows("kindcentrum").iter().map(|r| r.get("id")?.as_i64()).collect();
        if ids != [Some(kindcentrum)] {
            return Err(format(format!("table `kindcentrum` must hold kindcentrum {kindcentrum} and nothing else")));
        }
        Ok(export)
    }
}

impl Serialize for Export {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        /// The tables as one JSON object that keeps their order.
        struct InOrder<'a>(&'a [(&'static str, Vec<Value>)]);

        impl Serialize for InOrder<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (table, rows) in self.0 {
                    map.serialize_entry(table, rows)?;
                }
                map.end()
            }
        }

        let mut document = serializer.serialize_struct("Export", 4)?;
        document.serialize_field("format", FORMAT)?;
        document.serialize_field("version", &VERSION)?;
        document.serialize_field("kindcentrum", &self.kindcentrum)?;
        document.serialize_field("tables", &InOrder(&self.tables))?;
        document.end()
    }
}

impl Engine {
    /// Every row that belongs to a kindcentrum (see the module documentation), read in one
    /// snapshot.
    #[tracing::instrument(skip(self))]
    pub async fn export_kindcentrum(&self, kindcentrum_id: i64) -> Result<Export> {
        self.unscoped()?;
        // A transaction so that every statement reads the same moment; PostgreSQL needs
        // REPEATABLE READ for that, SQLite's read transaction is one snapshot already.
        let txn = match self.db().get_database_backend() {
            DbBackend::Postgres => {
                self.db().begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?
            }
            _ => crate::store::begin_write(self.db()).await?,
        };
        let Tables(mut tables) = collect(&txn, kindcentrum_id).await?;
        txn.commit().await?;
        let tables = TABLES.iter().map(|table| (*table, tables.remove(table).unwrap_or_default())).collect();
        Ok(Export { kindcentrum: kindcentrum_id, tables })
    }

    /// Writes an export into this database in one transaction: all of it, or, when a row
    /// does not fit, nothing. Refused when the database holds any kindcentrum or bestuur.
    /// Every row is parsed and checked (see [`check`]) before the transaction begins, so a
    /// refused file costs the store nothing.
    #[tracing::instrument(skip(self, export), fields(kindcentrum = export.kindcentrum))]
    pub async fn restore_export(&self, export: &Export) -> Result<RestoreReport> {
        self.unscoped()?;
        if !self.is_empty().await? {
            return Err(ExportRefused::NotEmpty.into());
        }
        let mut rows = Rows::parse(export)?;
        upgrade_field_keys(&mut rows);
        check::rows(&rows)?;
        let txn = crate::store::begin_write(self.db()).await?;
        let report = rows.insert(&txn).await?;
        txn.commit().await?;
        self.schedules_changed();
        Ok(report)
    }
}

/// Renames the field keys of an export written before they were camelCase, as the migration
/// that made them so renamed those of a database: the definitions of the workflow versions
/// with their hashes, the fields of their cycles and the values their events record. The
/// restore then writes what the migrated database of the exporter holds, and the checks,
/// which refuse a field key in kebab-case, see the renamed rows. An export written since
/// has nothing to rename.
fn upgrade_field_keys(rows: &mut Rows) {
    use koers_migrations::field_keys::{Plan, StoredVersion};
    let versions: Vec<StoredVersion> = rows
        .workflow_version
        .iter()
        .map(|v| StoredVersion { id: v.id, key: v.key.clone(), definition: v.definition.clone(), hash: v.hash.clone() })
        .collect();
    let plan = Plan::up(&versions);
    for version in &mut rows.workflow_version {
        if let Some((definition, hash)) = plan.definition(version.id) {
            (version.definition, version.hash) = (definition.to_owned(), hash.to_owned());
        }
    }
    let mut version_of = std::collections::HashMap::new();
    for cycle in &mut rows.cycle {
        version_of.insert(cycle.id, cycle.workflow_version_id);
        if let Some(fields) = plan.fields(cycle.workflow_version_id, &cycle.fields) {
            cycle.fields = fields;
        }
    }
    for event in &mut rows.cycle_event {
        if let Some(data) = version_of.get(&event.cycle_id).and_then(|version| plan.event(*version, &event.data)) {
            event.data = data;
        }
    }
}

impl Engine {
    /// Export and restore read and write whole tables past the access checks of the other
    /// services, child codes included: they are for the engine's own access (the CLI), not
    /// for an engine scoped to a caller's token.
    fn unscoped(&self) -> Result<()> {
        match self.access_of().role() {
            None => Ok(()),
            Some(role) => Err(Error::Forbidden(format!(
                "a token of role {role} may not export or restore; use `koers export` and `koers import-export`"
            ))),
        }
    }
}

/// The exported rows by table, serialized.
#[derive(Default)]
struct Tables(BTreeMap<&'static str, Vec<Value>>);

impl Tables {
    /// Adds the rows of `E`, their timestamps in whole microseconds (see the module
    /// documentation).
    fn put<E>(&mut self, rows: &[E::Model]) -> Result<()>
    where
        E: EntityTrait,
        E::Model: Serialize + IntoActiveModel<E::ActiveModel>,
        E::ActiveModel: ActiveModelTrait<Entity = E> + TryIntoModel<E::Model>,
    {
        let table = E::default().table_name();
        let unserializable = |e: serde_json::Error| {
            Error::Database(sea_orm::DbErr::Custom(format!("cannot serialize a row of {table}: {e}")))
        };
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut active = row.clone().into_active_model();
            whole_microseconds(&mut active)?;
            out.push(serde_json::to_value(active.try_into_model()?).map_err(unserializable)?);
        }
        self.0.insert(table, out);
        Ok(())
    }
}

/// Cuts every timestamp of `row` to whole microseconds.
fn whole_microseconds<A: ActiveModelTrait>(row: &mut A) -> Result<()> {
    use sea_orm::Value as V;
    for column in <A::Entity as EntityTrait>::Column::iter() {
        let cut = match row.get(column).into_value() {
            Some(V::ChronoDateTimeUtc(Some(at))) => V::ChronoDateTimeUtc(Some(microseconds(at))),
            Some(V::ChronoDateTime(Some(at))) => V::ChronoDateTime(Some(microseconds(at))),
            _ => continue,
        };
        row.try_set(column, cut)?;
    }
    Ok(())
}

/// The refusal of row `index` (from 0) of `table`.
fn refused(table: &str, index: usize, reason: impl Into<String>) -> Error {
    ExportRefused::Row { table: table.to_owned(), row: index + 1, reason: reason.into() }.into()
}

/// The rows of `E` that meet `condition`, by primary key.
async fn rows<E: EntityTrait>(db: &DatabaseTransaction, condition: impl IntoCondition) -> Result<Vec<E::Model>> {
    let mut select = E::find().filter(condition);
    for key in E::PrimaryKey::iter() {
        select = select.order_by_asc(key.into_column());
    }
    Ok(select.all(db).await?)
}

fn ids<M>(rows: &[M], id: impl Fn(&M) -> i64) -> BTreeSet<i64> {
    rows.iter().map(id).collect()
}

/// Null when the reference leaves the export.
fn cut(reference: &mut Option<i64>, exported: &BTreeSet<i64>) {
    if reference.is_some_and(|id| !exported.contains(&id)) {
        *reference = None;
    }
}

/// Schedules attached to one of these scopes.
fn scoped(kind: &str, ids: &BTreeSet<i64>) -> Condition {
    Condition::all().add(schedule::Column::ScopeKind.eq(kind)).add(schedule::Column::ScopeId.is_in(ids.iter().copied()))
}

async fn collect(db: &DatabaseTransaction, id: i64) -> Result<Tables> {
    let mut out = Tables::default();
    let kindcentra = kindcentrum::Entity::find_by_id(id).all(db).await?;
    if kindcentra.is_empty() {
        return Err(Error::NotFound { what: "kindcentrum", id: id.to_string() });
    }
    out.put::<kindcentrum::Entity>(&kindcentra)?;

    // The organisation.
    let links = rows::<kindcentrum_bestuur::Entity>(db, kindcentrum_bestuur::Column::KindcentrumId.eq(id)).await?;
    let onderdelen = rows::<onderdeel::Entity>(db, onderdeel::Column::KindcentrumId.eq(id)).await?;
    let locaties = rows::<locatie::Entity>(db, locatie::Column::KindcentrumId.eq(id)).await?;
    let locatie_ids = ids(&locaties, |l| l.id);
    let groepen = rows::<groep::Entity>(db, groep::Column::LocatieId.is_in(locatie_ids.clone())).await?;
    let groep_ids = ids(&groepen, |g| g.id);
    let teams = rows::<team::Entity>(db, team::Column::KindcentrumId.eq(id)).await?;
    let team_ids = ids(&teams, |t| t.id);
    let members = rows::<team_member::Entity>(db, team_member::Column::TeamId.is_in(team_ids.clone())).await?;
    let linked =
        rows::<professional_kindcentrum::Entity>(db, professional_kindcentrum::Column::KindcentrumId.eq(id)).await?;
    let lrk =
        rows::<lrk_registration::Entity>(db, lrk_registration::Column::LocatieId.is_in(locatie_ids.clone())).await?;

    // The koersplannen.
    let koersplannen = rows::<koersplan::Entity>(db, koersplan::Column::KindcentrumId.eq(id)).await?;
    let koersplan_ids = ids(&koersplannen, |k| k.id);
    let ambities = rows::<ambitie::Entity>(db, ambitie::Column::KoersplanId.is_in(koersplan_ids.clone())).await?;
    let doelen = rows::<doel::Entity>(db, doel::Column::AmbitieId.is_in(ids(&ambities, |a| a.id))).await?;
    let doel_ids = ids(&doelen, |d| d.id);
    let criteria = rows::<succescriterium::Entity>(db, succescriterium::Column::DoelId.is_in(doel_ids.clone())).await?;
    let planning = rows::<planning_item::Entity>(db, planning_item::Column::DoelId.is_in(doel_ids.clone())).await?;
    let doel_indicators =
        rows::<doel_indicator::Entity>(db, doel_indicator::Column::DoelId.is_in(doel_ids.clone())).await?;
    let overrides =
        rows::<signal_override::Entity>(db, signal_override::Column::KoersplanId.is_in(koersplan_ids)).await?;
    let mut marks =
        rows::<criterium_mark::Entity>(db, criterium_mark::Column::SuccescriteriumId.is_in(ids(&criteria, |c| c.id)))
            .await?;

    // Indicators: of the kindcentrum, its locaties and groepen, and those its doelen and
    // criteria use (a bestuur's, for instance).
    let used: BTreeSet<i64> =
        doel_indicators.iter().map(|l| l.indicator_id).chain(criteria.iter().filter_map(|c| c.indicator_id)).collect();
    let indicators = rows::<indicator::Entity>(
        db,
        Condition::any()
            .add(indicator::Column::KindcentrumId.eq(id))
            .add(indicator::Column::LocatieId.is_in(locatie_ids.clone()))
            .add(indicator::Column::GroepId.is_in(groep_ids.clone()))
            .add(indicator::Column::Id.is_in(used)),
    )
    .await?;
    let measurements =
        rows::<measurement::Entity>(db, measurement::Column::IndicatorId.is_in(ids(&indicators, |i| i.id))).await?;

    // The calendar.
    let schedules = rows::<schedule::Entity>(
        db,
        Condition::any()
            .add(scoped("kindcentrum", &BTreeSet::from([id])))
            .add(scoped("locatie", &locatie_ids))
            .add(scoped("groep", &groep_ids))
            .add(scoped("team", &team_ids)),
    )
    .await?;
    let occurrences =
        rows::<occurrence::Entity>(db, occurrence::Column::ScheduleId.is_in(ids(&schedules, |s| s.id))).await?;
    let occurrence_ids = ids(&occurrences, |o| o.id);
    let mut reminders = rows::<reminder::Entity>(
        db,
        Condition::any()
            .add(reminder::Column::KindcentrumId.eq(id))
            .add(reminder::Column::OccurrenceId.is_in(occurrence_ids.clone())),
    )
    .await?;

    // The cycles, with the owners the scheduler and the board view go by.
    let owners = OwnersIn::with(
        db,
        &[id],
        teams.iter().map(|t| (t.id, t.kindcentrum_id)),
        locaties.iter().map(|l| (l.id, l.kindcentrum_id)),
        groepen.iter().map(|g| (g.id, g.locatie_id)),
    )
    .await?;
    let mut cycles = rows::<cycle::Entity>(db, owners.condition()).await?;
    let cycle_ids = ids(&cycles, |c| c.id);
    let cycle_doelen = rows::<cycle_doel::Entity>(
        db,
        Condition::all()
            .add(cycle_doel::Column::CycleId.is_in(cycle_ids.clone()))
            .add(cycle_doel::Column::DoelId.is_in(doel_ids)),
    )
    .await?;
    let events = rows::<cycle_event::Entity>(db, cycle_event::Column::CycleId.is_in(cycle_ids.clone())).await?;
    let pitches = rows::<pitch::Entity>(db, pitch::Column::CycleId.is_in(cycle_ids.clone())).await?;
    let workflows = rows::<workflow_version::Entity>(
        db,
        workflow_version::Column::Id.is_in(ids(&cycles, |c| c.workflow_version_id)),
    )
    .await?;

    // The evidence of its groepen and locaties.
    let mut scans = rows::<scan::Entity>(db, scan::Column::GroepId.is_in(groep_ids)).await?;
    let scores = rows::<scan_score::Entity>(db, scan_score::Column::ScanId.is_in(ids(&scans, |s| s.id))).await?;
    let coaching =
        rows::<coaching_entry::Entity>(db, coaching_entry::Column::LocatieId.is_in(locatie_ids.clone())).await?;
    let coachees =
        rows::<coaching_coachee::Entity>(db, coaching_coachee::Column::CoachingEntryId.is_in(ids(&coaching, |c| c.id)))
            .await?;

    // The professionals: those who work here and those the rows above name.
    let professional_ids: BTreeSet<i64> = linked
        .iter()
        .map(|l| l.professional_id)
        .chain(members.iter().map(|m| m.professional_id))
        .chain(pitches.iter().map(|p| p.professional_id))
        .chain(coaching.iter().map(|c| c.coach_id))
        .chain(coachees.iter().map(|c| c.professional_id))
        .chain(cycles.iter().filter_map(|c| c.professional_id))
        .collect();
    let professionals =
        rows::<professional::Entity>(db, professional::Column::Id.is_in(professional_ids.clone())).await?;
    let roles = rows::<professional_role::Entity>(
        db,
        professional_role::Column::ProfessionalId.is_in(professional_ids.clone()),
    )
    .await?;
    let fte =
        rows::<professional_fte::Entity>(db, professional_fte::Column::ProfessionalId.is_in(professional_ids)).await?;

    // The besturen: its own (with their VE indications) and those the rows above name.
    let own: BTreeSet<i64> =
        links.iter().map(|l| l.bestuur_id).chain(onderdelen.iter().map(|o| o.bestuur_id)).collect();
    let bestuur_ids: BTreeSet<i64> = own
        .iter()
        .copied()
        .chain(professionals.iter().map(|p| p.employer_bestuur_id))
        .chain(coaching.iter().map(|c| c.bestuur_id))
        .chain(indicators.iter().filter_map(|i| i.bestuur_id))
        .collect();
    let besturen = rows::<bestuur::Entity>(db, bestuur::Column::Id.is_in(bestuur_ids)).await?;
    let ve = rows::<ve_indication::Entity>(db, ve_indication::Column::BestuurId.is_in(own)).await?;

    let regions: BTreeSet<String> =
        locaties.iter().filter_map(|l| l.vacation_region).map(|r| sea_orm::ActiveEnum::to_value(&r)).collect();
    let holidays = rows::<school_holiday::Entity>(db, school_holiday::Column::Region.is_in(regions)).await?;

    // The trail of the rows exported, and of those removed from the kindcentrum.
    let mut trail = Condition::any().add(change::Column::KindcentrumId.eq(id));
    for (table, rows) in [
        ("bestuur", ids(&besturen, |r| r.id)),
        ("onderdeel", ids(&onderdelen, |r| r.id)),
        ("locatie", locatie_ids),
        ("lrk_registration", ids(&lrk, |r| r.id)),
        ("groep", ids(&groepen, |r| r.id)),
        ("professional", ids(&professionals, |r| r.id)),
        ("team", team_ids.clone()),
        ("indicator", ids(&indicators, |r| r.id)),
        ("measurement", ids(&measurements, |r| r.id)),
        ("coaching_entry", ids(&coaching, |r| r.id)),
    ] {
        if !rows.is_empty() {
            trail = trail
                .add(Condition::all().add(change::Column::Entity.eq(table)).add(change::Column::EntityId.is_in(rows)));
        }
    }
    let changes = rows::<change::Entity>(db, trail).await?;

    // Cut what points outside the export.
    for row in &mut cycles {
        cut(&mut row.occurrence_id, &occurrence_ids);
    }
    for row in &mut reminders {
        cut(&mut row.occurrence_id, &occurrence_ids);
    }
    for row in &mut scans {
        cut(&mut row.cycle_id, &cycle_ids);
    }
    let measurement_ids = ids(&measurements, |m| m.id);
    for row in &mut marks {
        cut(&mut row.cycle_id, &cycle_ids);
        cut(&mut row.measurement_id, &measurement_ids);
    }

    out.put::<bestuur::Entity>(&besturen)?;
    out.put::<ve_indication::Entity>(&ve)?;
    out.put::<kindcentrum_bestuur::Entity>(&links)?;
    out.put::<onderdeel::Entity>(&onderdelen)?;
    out.put::<locatie::Entity>(&locaties)?;
    out.put::<lrk_registration::Entity>(&lrk)?;
    out.put::<groep::Entity>(&groepen)?;
    out.put::<professional::Entity>(&professionals)?;
    out.put::<professional_role::Entity>(&roles)?;
    out.put::<professional_fte::Entity>(&fte)?;
    out.put::<professional_kindcentrum::Entity>(&linked)?;
    out.put::<team::Entity>(&teams)?;
    out.put::<team_member::Entity>(&members)?;
    out.put::<indicator::Entity>(&indicators)?;
    out.put::<measurement::Entity>(&measurements)?;
    out.put::<koersplan::Entity>(&koersplannen)?;
    out.put::<ambitie::Entity>(&ambities)?;
    out.put::<doel::Entity>(&doelen)?;
    out.put::<succescriterium::Entity>(&criteria)?;
    out.put::<planning_item::Entity>(&planning)?;
    out.put::<doel_indicator::Entity>(&doel_indicators)?;
    out.put::<signal_override::Entity>(&overrides)?;
    out.put::<workflow_version::Entity>(&workflows)?;
    out.put::<schedule::Entity>(&schedules)?;
    out.put::<occurrence::Entity>(&occurrences)?;
    out.put::<reminder::Entity>(&reminders)?;
    out.put::<cycle::Entity>(&cycles)?;
    out.put::<cycle_doel::Entity>(&cycle_doelen)?;
    out.put::<cycle_event::Entity>(&events)?;
    out.put::<pitch::Entity>(&pitches)?;
    out.put::<criterium_mark::Entity>(&marks)?;
    out.put::<scan::Entity>(&scans)?;
    out.put::<scan_score::Entity>(&scores)?;
    out.put::<coaching_entry::Entity>(&coaching)?;
    out.put::<coaching_coachee::Entity>(&coachees)?;
    out.put::<school_holiday::Entity>(&holidays)?;
    out.put::<change::Entity>(&changes)?;
    Ok(out)
}

/// The rows of `E` as its models: each a JSON object of exactly the table's columns, each
/// of its type (an enumeration one of its values), a key a [`Key`], and its timestamps cut
/// to whole microseconds.
fn parse<E>(rows: &[Value]) -> Result<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: Serialize + DeserializeOwned + IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + TryIntoModel<E::Model>,
{
    let table = E::default().table_name();
    let columns: BTreeSet<&str> = E::Column::iter().map(|c| c.as_str()).collect();
    let mut models = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let refuse = |reason: String| refused(table, index, reason);
        let Value::Object(fields) = row else { return Err(refuse("a row must be a JSON object".into())) };
        let keys: BTreeSet<&str> = fields.keys().map(String::as_str).collect();
        if let Some(missing) = columns.difference(&keys).next() {
            return Err(refuse(format!("column `{missing}` is missing")));
        }
        if let Some(unknown) = keys.difference(&columns).next() {
            return Err(refuse(format!("`{unknown}` is not a column of `{table}`")));
        }
        if let Some(Value::String(key)) = fields.get("key") {
            key.parse::<Key>().map_err(|e| refuse(format!("column `key`: {e}")))?;
        }
        check::fixed_sets(table, fields).map_err(refuse)?;
        let mut active = E::ActiveModel::from_json(row.clone()).map_err(|e| refuse(e.to_string()))?;
        whole_microseconds(&mut active)?;
        models.push(active.try_into_model().map_err(|e| refuse(e.to_string()))?);
    }
    Ok(models)
}

/// Inserts the rows of `E` with their ids; answers how many were written and how many
/// shared rows were kept.
async fn insert<E>(txn: &DatabaseTransaction, rows: Vec<E::Model>) -> Result<(usize, usize)>
where
    E: EntityTrait,
    E::Model: Serialize + IntoActiveModel<E::ActiveModel>,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let table = E::default().table_name();
    let shared = SHARED.iter().find(|(t, _)| *t == table).map(|(_, key)| *key);
    let (mut written, mut kept) = (0, 0);
    for (index, row) in rows.into_iter().enumerate() {
        let refuse = |reason: String| refused(table, index, reason);
        if let Some(natural_key) = shared {
            let mut same_id = E::find();
            let active = row.clone().into_active_model();
            for key in E::PrimaryKey::iter() {
                let column = key.into_column();
                if let Some(value) = active.get(column).into_value() {
                    same_id = same_id.filter(column.eq(value));
                }
            }
            if let Some(existing) = same_id.one(txn).await? {
                let json = |model: &E::Model| serde_json::to_value(model).map_err(|e| refuse(e.to_string()));
                let (existing, row) = (json(&existing)?, json(&row)?);
                if natural_key.iter().all(|c| existing.get(c) == row.get(c)) {
                    kept += 1;
                    continue;
                }
                return Err(refuse(format!("the database holds another `{table}` row with this id")));
            }
        }
        // Every column set, the id included: the rows keep the ids they had.
        let active = row.into_active_model().reset_all();
        E::insert(active).exec_without_returning(txn).await.map_err(|e| refuse(e.to_string()))?;
        written += 1;
    }
    crate::store::advance_sequence::<E, _>(txn).await?;
    Ok((written, kept))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_table_is_named_after_its_entity() {
        assert_eq!(entity_table_names(), TABLES);
    }

    #[test]
    fn no_table_is_both_exported_and_not() {
        assert!(NOT_EXPORTED.iter().all(|t| !TABLES.contains(t)));
        assert!(SHARED.iter().all(|(t, _)| TABLES.contains(t)));
    }
}
