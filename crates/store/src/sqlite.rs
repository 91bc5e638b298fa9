//! The embedded default: one SQLite file in WAL mode.

use std::str::FromStr;
use std::time::Duration;

use sqlx::Sqlite;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Connections that read: WAL lets them work while the writer commits.
const READERS: u32 = 4;
/// How long a writer waits for another to finish before giving up (then retried).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Large pages suit the wide, append-mostly event log and sequential analytics scans. Fixed
/// when the file is created.
const PAGE_SIZE: u32 = 16_384;
/// WAL pages before an automatic checkpoint (× 16 KiB = 64 MiB). Checkpointing less often than
/// SQLite's default of 1,000 pages keeps bulk loads from stalling on repeated fsyncs.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 4_096;
/// Page cache per connection, in KiB (SQLite's default is 2 MiB). Foreign-key checks and
/// inserts into large tables touch pages all over them; a cache that holds the hot part of
/// the tables avoids re-reading them from the operating system for every row.
const CACHE_KIB: u32 = 131_072;

pub struct SqliteStore {
    pool: SqlitePool,
    /// One connection that writes. SQLite takes one writer at a time; this process's writers
    /// wait their turn for it in the pool's queue, in order, rather than in SQLite's busy
    /// handler, which sleeps up to 100 ms between tries and made the tail latency of
    /// concurrent writes hundreds of milliseconds. Other processes' writers still meet the
    /// busy timeout.
    writer: SqlitePool,
    description: String,
    written: tokio::sync::broadcast::Sender<crate::Written>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file a `sqlite://` URL names, and migrates it.
    pub async fn open(url: &str) -> crate::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .page_size(PAGE_SIZE)
            .journal_mode(SqliteJournalMode::Wal)
            // With WAL, NORMAL loses no committed transaction when the process dies; only an
            // operating-system crash can roll back the last few.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string())
            // Negative: a size in KiB rather than a number of pages.
            .pragma("cache_size", format!("-{CACHE_KIB}"));
        let description = format!("SQLite database {}", options.get_filename().display());
        // The first connection to a fresh file turns on WAL, which needs the file to itself:
        // another process doing the same at that moment makes it fail at once, busy timeout
        // or not, so it is tried again.
        let pool = crate::retry::retrying(|| async {
            Ok(SqlitePoolOptions::new()
                .max_connections(READERS)
                .connect_with(options.clone())
                .await?)
        })
        .await?;
        let migrator = sqlx::migrate!("migrations/sqlite");
        crate::retry::migrating(|| migrator.run(&pool)).await?;
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            writer,
            description,
            written: crate::announcer(),
        })
    }

    /// Write transactions take the write lock up front, so two writers queue on the busy
    /// timeout instead of failing when one tries to upgrade a read lock.
    async fn begin_write(&self) -> crate::Result<sqlx::Transaction<'static, Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }
}

crate::sql_store::impl_store!(SqliteStore, Sqlite);
