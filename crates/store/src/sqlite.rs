//! The embedded default: one SQLite file in WAL mode.

mod checkpoints;
mod commits;
mod indexes;

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Sqlite};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// Connections that read: WAL lets them work while the writer commits.
const READERS: u32 = 4;
/// How long a writer waits for another to finish before giving up (then retried).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Large pages suit the wide, append-mostly event log and sequential analytics scans. Fixed
/// when the file is created.
const PAGE_SIZE: u32 = 16_384;
/// How often the write-ahead log is checkpointed into the database file, in the background
/// (`checkpoints`). A checkpoint made by the writer itself, as SQLite does by default, holds
/// up every write queued behind it: at a million deals, stage moves waited up to 0.8 s on one.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// Rounds of background checkpoints between two that take the writer's turn to let the log
/// start over. Writes wait for each such turn: it copies and flushes the last few commits.
const TURN_EVERY: u32 = 4;
/// WAL pages at which the writer checkpoints after all (× 16 KiB = 256 MiB), should the
/// background checkpoints fall behind a bulk load; it keeps the log from growing without end.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 16_384;
/// The writer's page cache, in KiB (SQLite's default is 2 MiB). Foreign-key checks and
/// inserts into large tables touch pages all over them; a cache that holds the hot part of
/// the tables avoids re-reading them from the operating system for every row.
const WRITER_CACHE_KIB: u32 = 131_072;
/// Each reader's page cache, in KiB. A reader empties its cache whenever it starts a read after
/// a commit, and emptying it takes time in proportion to its size: with the writer's size,
/// that was a tenth of the server's time while deals were being moved.
const READER_CACHE_KIB: u32 = 8_192;

pub struct SqliteStore {
    pool: SqlitePool,
    /// One connection that writes. SQLite takes one writer at a time; this process's writers
    /// wait their turn for it in the pool's queue, in order, rather than in SQLite's busy
    /// handler, which sleeps up to 100 ms between tries and made the tail latency of
    /// concurrent writes hundreds of milliseconds. Other processes' writers still meet the
    /// busy timeout.
    writer: SqlitePool,
    /// Writes deal changes, those waiting at the same time in one transaction.
    committer: commits::Committer,
    /// Checkpoints the write-ahead log until the store is dropped.
    checkpointer: tokio::task::JoinHandle<()>,
    description: String,
    written: tokio::sync::broadcast::Sender<crate::Written>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file a `sqlite://` URL names, and migrates it.
    /// Call within a Tokio runtime: the log's checkpoints run as a task of it.
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
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
        // Negative: a size in KiB rather than a number of pages.
        let cache = |kib: u32| options.clone().pragma("cache_size", format!("-{kib}"));
        let description = format!("SQLite database {}", options.get_filename().display());
        // The first connection to a fresh file turns on WAL, which needs the file to itself:
        // another process doing the same at that moment makes it fail at once, busy timeout
        // or not, so it is tried again.
        let pool = crate::retry::retrying(|| async {
            Ok(pool_options(READERS)
                .connect_with(cache(READER_CACHE_KIB))
                .await?)
        })
        .await?;
        crate::retry::migrating(|| MIGRATOR.run(&pool)).await?;
        // A change inside a larger transaction keeps the pages it alters until it is done, to
        // undo it alone if it fails; in memory, not spilt to a temporary file.
        let writer = pool_options(1)
            .connect_with(cache(WRITER_CACHE_KIB).pragma("temp_store", "memory"))
            .await?;
        // Reads answer without the indexes, only more slowly, so failing to build them does
        // not stop the store from opening.
        match indexes::restore(&pool, &writer).await {
            Ok(0) => {}
            Ok(built) => tracing::warn!(
                indexes = built,
                "built the indexes a bulk load had dropped (one still running, or stopped)"
            ),
            Err(error) => tracing::warn!(
                %error,
                "could not build the indexes a bulk load had dropped; reads are slower until they are"
            ),
        }
        let checkpointer = checkpoints::Checkpointer::new(
            options.connect().await?,
            writer.clone(),
            options.get_filename(),
        )?;
        let written = crate::announcer();
        Ok(Self {
            pool,
            committer: commits::Committer::start(writer.clone(), written.clone()),
            writer,
            checkpointer: tokio::spawn(checkpointer.run_every(CHECKPOINT_EVERY, TURN_EVERY)),
            description,
            written,
        })
    }

    async fn begin_write(&self) -> crate::Result<sqlx::Transaction<'static, Sqlite>> {
        begin_write(&self.writer).await
    }

    /// Writes one command's outcome, with any others waiting for the writer, and announces
    /// its events once they are committed.
    async fn record_and_announce(
        &self,
        workspace: pipewise_core::ids::WorkspaceId,
        recorded: &pipewise_core::opportunity::Recorded,
    ) -> crate::Result<()> {
        self.committer.record(workspace, recorded).await
    }

    async fn defer_indexes(&self, deals: u64) -> crate::Result<bool> {
        indexes::defer(&self.writer, deals).await
    }

    async fn build_indexes(&self) -> crate::Result<()> {
        indexes::restore(&self.pool, &self.writer).await.map(drop)
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.checkpointer.abort();
    }
}

/// Write transactions take the write lock up front, so two writers queue on the busy timeout
/// instead of failing when one tries to upgrade a read lock.
async fn begin_write(writer: &SqlitePool) -> crate::Result<sqlx::Transaction<'static, Sqlite>> {
    Ok(writer.begin_with("BEGIN IMMEDIATE").await?)
}

/// A pool of `size` connections. They are not pinged before each use, as they would be over a
/// network: a connection to a local file is not lost, and each ping is a round trip to the
/// connection's thread, as costly as a short query. (sqlx still pings each connection as it
/// returns to the pool, after the query's answer.)
fn pool_options(size: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(size)
        .test_before_acquire(false)
}

crate::sql_store::impl_store!(SqliteStore, Sqlite);
