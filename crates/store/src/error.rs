//! The one error type of the store: what callers can act on (a conflict, an unknown match, a
//! database that is down, a stored document that no longer reads) kept apart from the rest.
//! sea-orm's error type stays inside the crate: it is reachable only as a `source()`.

use carematch_domain::ProviderId;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The provider's NPI is already held by another provider. A user error: the caller sent
    /// an NPI that is taken.
    #[error("npi {npi} already belongs to provider {existing_provider_id}")]
    NpiConflict {
        npi: String,
        /// The provider that was being written.
        provider_id: ProviderId,
        /// The provider that holds the NPI.
        existing_provider_id: ProviderId,
    },

    /// An outcome or result refers to a match id that was never logged.
    #[error("match {0} does not exist")]
    UnknownMatch(uuid::Uuid),

    /// A provider's stored JSON document no longer parses or validates (a bad manual edit, or
    /// a domain rule that got stricter). Reads fail loudly rather than skip the provider.
    #[error("stored document of provider {provider_id} is unreadable: {problem}")]
    CorruptDocument {
        provider_id: ProviderId,
        problem: String,
    },

    /// A stored row holds a value no longer in its vocabulary (a code removed from the domain).
    #[error("a row of {table} is unreadable: {problem}")]
    CorruptRow {
        table: &'static str,
        problem: String,
    },

    /// The database URL names no supported backend. Only the scheme is kept, never the URL,
    /// which may carry a password.
    #[error("unsupported database url scheme `{scheme}` (use sqlite: or postgres:)")]
    UnsupportedUrl { scheme: String },

    /// The SQLite file's folder could not be created.
    #[error("could not create the folder of the sqlite database `{path}`")]
    CreateDirectory {
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// The database cannot be reached (connection refused, pool exhausted, timed out). Worth
    /// retrying later; the API answers it as unavailable.
    #[error("database unavailable")]
    Unavailable(#[source] DatabaseError),

    /// Any other database failure: a bug or a broken schema, not something to retry.
    #[error("database error")]
    Database(#[source] DatabaseError),
}

impl StoreError {
    /// Whether the same call may succeed later without any change (the database was down).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }

    /// Whether the database refused the values written, not the write: a constraint, or a
    /// value it cannot store (PostgreSQL's text refuses NUL). The same values fail again
    /// however often they are retried, while other values go in; a full disk, a lock or a
    /// lost connection is not this.
    pub fn is_refused_data(&self) -> bool {
        match self {
            StoreError::Database(DatabaseError(error)) => {
                database_error_code(error).is_some_and(|code| code.refuses_data())
            }
            _ => false,
        }
    }

    /// The database's own error code, when it gave one (`SQLSTATE 22021`, `SQLITE 13`). Safe
    /// to log: it never holds a value.
    pub fn database_code(&self) -> Option<String> {
        match self {
            StoreError::Database(DatabaseError(error))
            | StoreError::Unavailable(DatabaseError(error)) => {
                database_error_code(error).map(|code| code.to_string())
            }
            _ => None,
        }
    }
}

/// A database error code by backend.
enum DatabaseCode {
    /// SQLSTATE.
    Postgres(String),
    /// The extended result code; its low byte is the primary code.
    Sqlite(u32),
}

impl DatabaseCode {
    /// PostgreSQL: SQLSTATE classes 22 (data exception) and 23 (integrity constraint
    /// violation). SQLite: `SQLITE_TOOBIG` (18), `SQLITE_CONSTRAINT` (19), `SQLITE_MISMATCH`
    /// (20).
    fn refuses_data(&self) -> bool {
        match self {
            DatabaseCode::Postgres(sqlstate) => {
                sqlstate.starts_with("22") || sqlstate.starts_with("23")
            }
            DatabaseCode::Sqlite(code) => matches!(code & 0xff, 18..=20),
        }
    }
}

impl std::fmt::Display for DatabaseCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseCode::Postgres(sqlstate) => write!(f, "SQLSTATE {sqlstate}"),
            DatabaseCode::Sqlite(code) => write!(f, "SQLITE {code}"),
        }
    }
}

fn database_error_code(error: &DbErr) -> Option<DatabaseCode> {
    let (DbErr::Exec(RuntimeErr::SqlxError(error)) | DbErr::Query(RuntimeErr::SqlxError(error))) =
        error
    else {
        return None;
    };
    let sea_orm::sqlx::Error::Database(error) = error.as_ref() else {
        return None;
    };
    let code = error.code()?;
    if error
        .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
        .is_some()
    {
        code.parse().ok().map(DatabaseCode::Sqlite)
    } else {
        Some(DatabaseCode::Postgres(code.into_owned()))
    }
}

/// An opaque database error: its message and cause chain are available for logs, its type is
/// not part of the API.
#[derive(Debug)]
pub struct DatabaseError(DbErr);

impl std::fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DatabaseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl From<DbErr> for StoreError {
    fn from(error: DbErr) -> Self {
        match error {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => {
                StoreError::Unavailable(DatabaseError(error))
            }
            other => StoreError::Database(DatabaseError(other)),
        }
    }
}

/// True when the error is a unique-constraint violation (used to retry an upsert that raced
/// with another writer over the same NPI).
pub(crate) fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// True when the error is a foreign-key violation.
pub(crate) fn is_foreign_key_violation(error: &DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(SqlErr::ForeignKeyConstraintViolation(_))
    )
}

/// A conflict is the caller's mistake and an unknown match is not found; everything else,
/// an unreachable database included, is internal: the client is told only to retry later.
impl carematch_domain::HasErrorCode for StoreError {
    fn code(&self) -> carematch_domain::ErrorCode {
        use carematch_domain::ErrorCode;
        match self {
            StoreError::NpiConflict { .. } => ErrorCode::BadUserInput,
            StoreError::UnknownMatch(_) => ErrorCode::NotFound,
            StoreError::CorruptDocument { .. }
            | StoreError::CorruptRow { .. }
            | StoreError::UnsupportedUrl { .. }
            | StoreError::CreateDirectory { .. }
            | StoreError::Unavailable(_)
            | StoreError::Database(_) => ErrorCode::InternalServerError,
        }
    }
}

#[cfg(test)]
mod code_tests {
    use carematch_domain::{ErrorCode, HasErrorCode, ProviderId};

    use super::*;

    #[test]
    fn only_a_conflict_and_an_unknown_match_are_the_callers_to_fix() {
        let id = ProviderId::from_uuid(uuid::Uuid::nil());
        let conflict = StoreError::NpiConflict {
            npi: "1234567893".into(),
            provider_id: id,
            existing_provider_id: id,
        };
        assert_eq!(conflict.code(), ErrorCode::BadUserInput);
        assert_eq!(
            StoreError::UnknownMatch(uuid::Uuid::nil()).code(),
            ErrorCode::NotFound
        );
        let down = StoreError::from(DbErr::Conn(RuntimeErr::Internal("refused".into())));
        assert!(down.is_transient());
        assert_eq!(down.code(), ErrorCode::InternalServerError);
        assert_eq!(
            StoreError::CorruptRow {
                table: "providers",
                problem: "unknown care type".into()
            }
            .code(),
            ErrorCode::InternalServerError
        );
    }
}
