/// What went wrong in storage, in terms the layers above can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} {key} was not found")]
    NotFound { what: &'static str, key: String },
    /// The record changed since it was read; `current` is its version now.
    #[error("the record was changed by someone else; its current version is {current}")]
    VersionConflict { current: u32 },
    /// A unique key is taken or a referenced record does not exist.
    #[error("{0}")]
    Conflict(String),
    /// Stored data that no longer parses: a bug or a hand edit, never user input.
    #[error("stored {table} row {key} is invalid: {detail}")]
    Corrupt {
        table: &'static str,
        key: String,
        detail: String,
    },
    #[error("the database URL `{url}` is not supported: {detail}")]
    UnsupportedUrl { url: String, detail: &'static str },
    /// The failure of a transaction shared by several writes, each answered with it.
    #[error(transparent)]
    Shared(std::sync::Arc<StoreError>),
    /// The task that writes deal changes to a SQLite file has stopped: a bug, never input.
    #[error("the database writer has stopped; restart pipewise")]
    WriterStopped,
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(format!("already exists: {}", db.message()))
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::Conflict(
                format!("refers to a record that does not exist: {}", db.message()),
            ),
            _ => StoreError::Database(error),
        }
    }
}

impl StoreError {
    pub(crate) fn not_found(what: &'static str, key: impl ToString) -> Self {
        StoreError::NotFound {
            what,
            key: key.to_string(),
        }
    }

    /// Whether running the same transaction again may succeed: a serialization failure or
    /// deadlock on PostgreSQL (SQLSTATE 40001, 40P01), a busy or locked database on SQLite.
    pub(crate) fn is_transient(&self) -> bool {
        let StoreError::Database(sqlx::Error::Database(db)) = self else {
            return false;
        };
        if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
            // SQLite reports extended codes; the primary code is the low byte.
            let code = db
                .code()
                .and_then(|c| c.parse::<i32>().ok())
                .unwrap_or_default();
            matches!(code & 0xff, SQLITE_BUSY | SQLITE_LOCKED)
        } else {
            matches!(db.code().as_deref(), Some("40001" | "40P01"))
        }
    }
}

const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
