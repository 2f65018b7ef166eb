//! The one place engine errors become GraphQL errors, with `extensions.code`.

use std::sync::Arc;

use async_graphql::{ErrorExtensions, ServerError};
use koers_engine::Error;

/// An engine error as a GraphQL error: NOT_FOUND and VALIDATION carry their message; a
/// store busy with another writer is UNAVAILABLE with `retryable: true`; anything else is
/// logged with its cause and answered as INTERNAL without details.
pub fn to_graphql(err: &Error) -> async_graphql::Error {
    let (code, message) = match err {
        Error::NotFound { .. } => ("NOT_FOUND", err.to_string()),
        Error::Validation(_) | Error::Import(_) | Error::Csv(_) | Error::Export(_) | Error::Definition(_) => {
            ("VALIDATION", err.to_string())
        }
        Error::Forbidden(_) => ("FORBIDDEN", err.to_string()),
        Error::InvalidTransition(_) => ("INVALID_TRANSITION", err.to_string()),
        Error::GuardFailed { .. } => ("GUARD_FAILED", err.to_string()),
        Error::VersionConflict { .. } => ("VERSION_CONFLICT", err.to_string()),
        // Another writer held the store longer than this one waits: nothing was written,
        // and the same request succeeds once it is sent again.
        Error::Database(_) if err.is_transient() => {
            tracing::warn!(error = %err, "request met a busy store");
            (
                "UNAVAILABLE",
                "the database is busy with another writer (an import, a backup) and nothing of this request was \
                 written; send it again in a few seconds"
                    .to_owned(),
            )
        }
        Error::Open { .. } | Error::Database(_) | Error::System { .. } => {
            tracing::error!(error = %err, "request failed");
            ("INTERNAL", "internal error; see the server log".to_owned())
        }
    };
    async_graphql::Error::new(message).extend_with(|_, e| {
        e.set("code", code);
        match err {
            Error::GuardFailed { phase, missing } => {
                e.set("phase", phase.as_str());
                e.set("missing", missing.iter().map(|m| async_graphql::Value::from(m.as_str())).collect::<Vec<_>>());
            }
            Error::VersionConflict { expected, actual, .. } => {
                e.set("expectedVersion", *expected);
                e.set("actualVersion", *actual);
            }
            Error::Database(_) if err.is_transient() => e.set("retryable", true),
            _ => {}
        }
    })
}

/// A VALIDATION error about the request itself.
pub fn validation(message: &str) -> async_graphql::Error {
    to_graphql(&Error::Validation(message.to_owned()))
}

/// An error about the request as a whole, raised before or instead of executing it (a
/// limit, the timeout): no path, no location, just the message and `extensions.code`.
pub fn request_error(code: &'static str, message: impl Into<String>) -> ServerError {
    let mut error = ServerError::new(message, None);
    error.extensions.get_or_insert_with(Default::default).set("code", code);
    error
}

/// Loader errors must be `Clone`; they travel as `Arc`.
pub type LoadError = Arc<Error>;

pub trait IntoGraphql<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> IntoGraphql<T> for Result<T, Error> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| to_graphql(&e))
    }
}

impl<T> IntoGraphql<T> for Result<T, LoadError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(|e| to_graphql(&e))
    }
}

/// The NOT_FOUND answer for an id that does not exist.
pub fn not_found(what: &'static str, id: impl ToString) -> async_graphql::Error {
    to_graphql(&Error::NotFound { what, id: id.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(err: &Error) -> (String, Option<async_graphql::Value>) {
        let extensions = to_graphql(err).extensions.expect("extensions");
        let code = extensions.get("code").expect("code").to_string();
        (code, extensions.get("retryable").cloned())
    }

    #[test]
    fn a_busy_store_is_unavailable_and_retryable_never_internal() {
        for busy in [
            sea_orm::DbErr::Custom("error returned from database: (code: 5) database is locked".into()),
            sea_orm::DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout),
        ] {
            assert_eq!(code_of(&Error::Database(busy)), ("\"UNAVAILABLE\"".to_owned(), Some(true.into())));
        }
        let broken = Error::Database(sea_orm::DbErr::Custom("no such table: cycle".into()));
        assert_eq!(code_of(&broken), ("\"INTERNAL\"".to_owned(), None));
    }
}
