//! The engine's error type: every variant says what went wrong in terms a user can act on.

use std::fmt;
use std::path::PathBuf;

/// Errors of the engine's services.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An import file was rejected; nothing of it was written.
    #[error(transparent)]
    Import(#[from] ImportError),
    /// A CSV file was rejected; nothing of it was written.
    #[error(transparent)]
    Csv(#[from] CsvRejected),
    /// An export file was refused, or the database to restore it into is not empty;
    /// nothing of it was written.
    #[error(transparent)]
    Export(#[from] ExportRefused),
    /// No such object (or not visible to the caller).
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// The caller's role may not make this change.
    #[error("{0}")]
    Forbidden(String),
    /// The request itself is wrong.
    #[error("{0}")]
    Validation(String),
    /// The transition is not declared from the cycle's phase (or the cycle is closed).
    #[error("{0}")]
    InvalidTransition(String),
    /// A phase cannot be left while required fields are empty.
    #[error("phase `{phase}` cannot be left while these required fields are empty: {}", missing.join(", "))]
    GuardFailed { phase: String, missing: Vec<String> },
    /// Someone else changed the row (a cycle, a doel, ...) since the caller read it.
    #[error("{what} is at version {actual}, not {expected}: read it again and retry")]
    VersionConflict { what: String, expected: i64, actual: i64 },
    /// A workflow definition was refused.
    #[error(transparent)]
    Definition(#[from] DefinitionError),
    /// The database could not be opened.
    #[error("cannot open database {url}: {reason}")]
    Open { url: String, reason: String },
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// The operating system could not give what was needed (randomness for a token).
    #[error("the system cannot give {what}: {reason}")]
    System { what: &'static str, reason: String },
}

impl Error {
    /// Whether the store failed for a moment: another writer held the lock longer than a
    /// writer waits, or no connection was free in time. The same request may succeed when
    /// sent again; nothing of it was written.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Database(sea_orm::DbErr::ConnectionAcquire(_)) => true,
            Error::Database(err) => {
                let text = err.to_string();
                // SQLite's SQLITE_BUSY and SQLITE_LOCKED; PostgreSQL's serialization
                // failure, deadlock and lock-not-available.
                ["database is locked", "database table is locked", "40001", "40P01", "55P03"]
                    .iter()
                    .any(|sign| text.contains(sign))
            }
            _ => false,
        }
    }

    /// JSON the engine itself stored cannot be read back: a fault of the store, not of the
    /// caller.
    pub(crate) fn stored_json(e: serde_json::Error) -> Error {
        Error::Database(sea_orm::DbErr::Custom(format!("stored JSON is unreadable: {e}")))
    }
}

/// Result of the engine's services.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The 1-based line and column (in characters) of a byte offset of `source`, for errors
/// that point into a file. An offset past the end or inside a character counts as the
/// character it falls in.
pub(crate) fn position(source: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(source.len());
    while !source.is_char_boundary(end) {
        end -= 1;
    }
    let before = &source[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A rejected import file, with the place in it that is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: cannot read: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{file}:{line}:{column}: {message}")]
    At { file: String, line: usize, column: usize, message: String },
}

/// One bad row: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    /// The column, when one is to blame.
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(column) => write!(f, "line {}, column `{column}`: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// A rejected CSV file; nothing of it was written.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {} bad row(s), nothing imported\n{}", errors.len(), errors.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
pub struct CsvRejected {
    pub file: String,
    pub errors: Vec<RowError>,
}

/// Why an export file is refused. Nothing of a refused file is written.
#[derive(Debug, thiserror::Error)]
pub enum ExportRefused {
    #[error("not a koers export: {0}")]
    Format(String),
    #[error("export version {found} is not supported: this koers reads version {supported}")]
    Version { found: u64, supported: u64 },
    #[error("table `{0}` is not part of a koers export")]
    UnknownTable(String),
    #[error("table `{0}` is missing from the export")]
    MissingTable(String),
    /// A row that does not fit its table; rows are counted from 1.
    #[error("table `{table}`, row {row}: {reason}")]
    Row { table: String, row: usize, reason: String },
    #[error("the database is not empty: an export is restored only into a database without kindcentra or besturen")]
    NotEmpty,
}

/// Why a definition was refused.
#[derive(Debug, thiserror::Error)]
#[error("workflow {file}: {message}")]
pub struct DefinitionError {
    pub file: String,
    pub message: String,
}
