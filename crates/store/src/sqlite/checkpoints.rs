//! Checkpoints: copying the write-ahead log's committed pages into the database file, in the
//! background, so that the writer need not do it while every write waits behind it.
//!
//! A passive checkpoint copies what was committed when it began, without waiting for anyone.
//! Under a steady stream of writes it never quite catches up with the last commit, so the log
//! never starts over from its beginning; it grows until the writer checkpoints it itself
//! ([`super::WAL_AUTOCHECKPOINT_PAGES`]), flushing to disk every page copied since the last
//! flush while every write waits: 130 ms at a million deals under a stream of stage moves.
//! So every few rounds one ends by taking the writer's turn for a moment, when only the pages
//! of the last few commits are left to copy and flush.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use sqlx::{SqliteConnection, SqlitePool};

/// One connection that checkpoints, and what it needs to take the writer's turn.
pub(super) struct Checkpointer {
    connection: SqliteConnection,
    writer: SqlitePool,
    /// The database file, to flush copied pages without holding anything up.
    database: Arc<File>,
}

impl Checkpointer {
    pub(super) fn new(
        connection: SqliteConnection,
        writer: SqlitePool,
        database: &Path,
    ) -> crate::Result<Self> {
        let located = |error: std::io::Error| {
            sqlx::Error::Io(std::io::Error::new(
                error.kind(),
                format!("{}: {error}", database.display()),
            ))
        };
        Ok(Self {
            connection,
            writer,
            database: kept_open(database).map_err(located)?,
        })
    }

    /// Checkpoints every `period`, taking the writer's turn every `turn_every` rounds, until
    /// the task is aborted. A failure is logged when it starts and when it ends, not at every
    /// try.
    pub(super) async fn run_every(mut self, period: Duration, turn_every: u32) {
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        for round in 1u64.. {
            ticks.tick().await;
            match self
                .checkpoint(round % u64::from(turn_every.max(1)) == 0)
                .await
            {
                Err(error) if !failing => {
                    tracing::warn!(%error, "checkpointing the SQLite write-ahead log failed; trying again every {period:?}");
                    failing = true;
                }
                Ok(()) if failing => {
                    tracing::info!("checkpointing the SQLite write-ahead log works again");
                    failing = false;
                }
                _ => {}
            }
        }
    }

    /// One round: copy what is committed while the writer goes on, and flush it to disk.
    /// With the writer's turn, a second round first copies what was committed during the
    /// first, so that the turn is left the least: the last few commits' pages to copy and
    /// flush. The log is then wholly in the database file, and the next write starts it over.
    /// A reader still on an older snapshot can keep the turn from copying everything; a later
    /// turn tries again.
    async fn checkpoint(&mut self, take_writers_turn: bool) -> crate::Result<()> {
        self.copy_and_flush().await?;
        if !take_writers_turn {
            return Ok(());
        }
        self.copy_and_flush().await?;
        let writers_turn = self.writer.acquire().await?;
        let rest = self.passive().await;
        drop(writers_turn);
        rest
    }

    /// A passive checkpoint, then the database file flushed without holding anything up.
    async fn copy_and_flush(&mut self) -> crate::Result<()> {
        self.passive().await?;
        let database = Arc::clone(&self.database);
        tokio::task::spawn_blocking(move || database.sync_data())
            .await
            .map_err(|joined| sqlx::Error::Io(std::io::Error::other(joined)))?
            .map_err(sqlx::Error::Io)?;
        Ok(())
    }

    async fn passive(&mut self) -> crate::Result<()> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut self.connection)
            .await?;
        Ok(())
    }
}

/// A handle on a database file, opened once per file and never closed. Closing any handle on
/// a file releases every lock the process holds on it (POSIX advisory locks), SQLite's
/// included: another process could then take the file for itself and remove its log while this
/// one still uses it. SQLite never closes a handle while the file is in use; neither may this.
fn kept_open(database: &Path) -> std::io::Result<Arc<File>> {
    /// By device and inode: a path can name another file later.
    type Handles = HashMap<(u64, u64), Arc<File>>;
    static OPEN: OnceLock<Mutex<Handles>> = OnceLock::new();
    let metadata = std::fs::metadata(database)?;
    let mut open = OPEN
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(file) = open.get(&(metadata.dev(), metadata.ino())) {
        return Ok(Arc::clone(file));
    }
    let file = Arc::new(File::open(database)?);
    open.insert((metadata.dev(), metadata.ino()), Arc::clone(&file));
    Ok(file)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::io::Read;
    use std::path::PathBuf;

    use super::*;
    use sqlx::Connection;

    use crate::SqliteStore;

    /// A fresh store in a temporary directory, with its file's path.
    async fn fresh_store() -> (SqliteStore, PathBuf, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checkpoints.db");
        let store = SqliteStore::open(&url(&path)).await.unwrap();
        (store, path, dir)
    }

    fn url(path: &Path) -> String {
        format!("sqlite://{}", path.display())
    }

    /// The write-ahead log's checkpoint sequence number (its header's bytes 12–15, big-endian),
    /// which goes up by one each time the log starts over.
    fn log_restarts(path: &Path) -> u32 {
        let mut header = [0u8; 16];
        File::open(path.with_extension("db-wal"))
            .unwrap()
            .read_exact(&mut header)
            .unwrap();
        u32::from_be_bytes([header[12], header[13], header[14], header[15]])
    }

    #[tokio::test]
    async fn the_database_file_takes_the_log_without_the_writer() {
        let (store, path, _dir) = fresh_store().await;
        let size = || std::fs::metadata(&path).unwrap().len();
        // The migrated tables are in the log, far short of the writer's own checkpoint; the
        // background checkpoints have not run yet, as this test has not yielded to them.
        let before = size();
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if size() > before {
                drop(store);
                return;
            }
        }
        panic!("the database file stayed at {before} bytes for 5 s");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_starts_over_under_a_steady_stream_of_writes() {
        let (store, path, _dir) = fresh_store().await;
        sqlx::query("CREATE TABLE stream (n INTEGER)")
            .execute(&store.writer)
            .await
            .unwrap();
        // Beside the store's own, one that takes the writer's turn every 0.2 s.
        let quick = Checkpointer::new(
            SqliteConnection::connect(&url(&path)).await.unwrap(),
            store.writer.clone(),
            &path,
        )
        .unwrap();
        let quick = tokio::spawn(quick.run_every(Duration::from_millis(50), 4));
        // Writes back to back, never leaving the log still: passive checkpoints alone would
        // seldom catch up with them (once in 3 s when tried), and they come nowhere near the
        // writer's own checkpoint.
        let start = std::time::Instant::now();
        let mut last = log_restarts(&path);
        let mut restarts = 0;
        while restarts < 8 && start.elapsed() < Duration::from_secs(10) {
            sqlx::query("INSERT INTO stream (n) VALUES (1)")
                .execute(&store.writer)
                .await
                .unwrap();
            let now = log_restarts(&path);
            restarts += u32::from(now != last);
            last = now;
        }
        quick.abort();
        assert!(
            restarts >= 8,
            "the log started over {restarts} times in 10 s"
        );
    }
}
