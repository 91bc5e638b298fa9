//! Secondary indexes through a bulk load: built once at its end rather than entry by entry.
//!
//! An index ordered by something other than insertion order (a deal's owner, status or close
//! date; a lead's e-mail; an activity's deal) takes each batch's entries all over itself, so
//! every batch rewrote most of its pages, and a load wrote the whole index out again once per
//! batch: the bytes written grew with the square of the load. A load that brings at least as
//! many deals as the database holds drops those indexes first. Its end builds them again, each
//! in one sorted pass; so does the next opening of the database should the load stop before
//! its end, as any index the migrations define and the file lacks is built when it is opened.

use std::collections::HashSet;
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, SqlitePool};

/// The tables a [`crate::Batch`] fills in bulk.
const BULK_TABLES: &str =
    "'accounts', 'contacts', 'opportunities', 'opportunity_events', 'leads', 'activities'";

/// Drops the secondary indexes of the bulk-loaded tables if `deals` new deals are at least as
/// many as the database holds; says whether it did.
pub(super) async fn defer(writer: &SqlitePool, deals: u64) -> crate::Result<bool> {
    let mut tx = super::begin_write(writer).await?;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM opportunities")
        .fetch_one(&mut *tx)
        .await?;
    if deals < u64::try_from(stored).unwrap_or(0) {
        return Ok(false);
    }
    let names: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT name FROM sqlite_master \
         WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({BULK_TABLES})"
    ))
    .fetch_all(&mut *tx)
    .await?;
    for name in &names {
        sqlx::query(&format!("DROP INDEX \"{name}\""))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    tracing::debug!(
        indexes = names.len(),
        "secondary indexes dropped for a bulk load"
    );
    Ok(true)
}

/// Builds every index the migrations define that the database lacks; returns how many.
pub(super) async fn restore(readers: &SqlitePool, writer: &SqlitePool) -> crate::Result<usize> {
    let defined = defined().await?;
    if missing(readers, &defined).await?.is_empty() {
        return Ok(0);
    }
    let mut tx = super::begin_write(writer).await?;
    // Looked at again with the writer's turn: another process may have built them meanwhile.
    let missing = missing(&mut *tx, &defined).await?;
    for (name, sql) in &missing {
        tracing::info!(index = %name, "building index");
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(missing.len())
}

/// Every index the migrations define, by name with its `CREATE INDEX` statement, as a
/// database migrated in memory holds them.
async fn defined() -> crate::Result<Vec<(String, String)>> {
    let mut reference = SqliteConnectOptions::from_str("sqlite::memory:")?
        .connect()
        .await?;
    super::MIGRATOR.run_direct(&mut reference).await?;
    Ok(sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
    )
    .fetch_all(&mut reference)
    .await?)
}

async fn missing<'c>(
    database: impl sqlx::SqliteExecutor<'c>,
    defined: &[(String, String)],
) -> crate::Result<Vec<(String, String)>> {
    let present: HashSet<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'index'")
            .fetch_all(database)
            .await?
            .into_iter()
            .collect();
    Ok(defined
        .iter()
        .filter(|(name, _)| !present.contains(name))
        .cloned()
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::{Path, PathBuf};

    use sqlx::{Connection, SqliteConnection};

    use super::*;
    use crate::SqliteStore;

    /// The indexes of the bulk-loaded tables that are not keys, as the migrations make them.
    const DEFERRED: [&str; 8] = [
        "activities_by_lead",
        "activities_by_opportunity",
        "contacts_by_account",
        "leads_by_email_key",
        "leads_waiting",
        "opportunities_by_close_date",
        "opportunities_by_owner",
        "opportunities_by_status",
    ];

    fn url(path: &Path) -> String {
        format!("sqlite://{}", path.display())
    }

    async fn indexes(path: &Path) -> Vec<String> {
        let mut connection = SqliteConnection::connect(&url(path)).await.unwrap();
        sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
        )
        .fetch_all(&mut connection)
        .await
        .unwrap()
    }

    /// Stores `n` deals, bare rows past the foreign keys: only their number matters here.
    async fn store_deals(path: &Path, n: u8) {
        let options = SqliteConnectOptions::from_str(&url(path))
            .unwrap()
            .foreign_keys(false);
        let mut connection = options.connect().await.unwrap();
        for id in 0..n {
            sqlx::query(
                "INSERT INTO opportunities (workspace_id, id, version, name, account_id, owner_id, \
                 process, stage, status, close_date, evidence, created_at, updated_at) \
                 VALUES (x'01', ?, 1, 'Deal', x'02', x'03', 'new_business', 'discovery', 'open', \
                 '2026-12-31', '{}', 0, 0)",
            )
            .bind(vec![id])
            .execute(&mut connection)
            .await
            .unwrap();
        }
    }

    /// A store on a fresh file, with the file's path and the indexes it starts with.
    async fn fresh_store() -> (SqliteStore, PathBuf, Vec<String>, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("load.db");
        let store = SqliteStore::open(&url(&path)).await.unwrap();
        let all = indexes(&path).await;
        (store, path, all, dir)
    }

    fn without_deferred(all: &[String]) -> Vec<String> {
        all.iter()
            .filter(|name| !DEFERRED.contains(&name.as_str()))
            .cloned()
            .collect()
    }

    #[tokio::test]
    async fn a_load_as_large_as_the_database_builds_its_indexes_at_the_end() {
        let (store, path, all, _dir) = fresh_store().await;
        assert!(DEFERRED.iter().all(|name| all.iter().any(|n| n == name)));
        store_deals(&path, 2).await;

        assert!(defer(&store.writer, 2).await.unwrap());
        let during = indexes(&path).await;
        assert_eq!(during, without_deferred(&all), "other tables keep theirs");

        assert_eq!(restore(&store.pool, &store.writer).await.unwrap(), 8);
        assert_eq!(indexes(&path).await, all);
        assert_eq!(restore(&store.pool, &store.writer).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_load_smaller_than_the_database_keeps_its_indexes() {
        let (store, path, all, _dir) = fresh_store().await;
        store_deals(&path, 3).await;

        assert!(!defer(&store.writer, 2).await.unwrap());
        assert_eq!(indexes(&path).await, all);
    }

    #[tokio::test]
    async fn a_load_stopped_before_its_end_has_its_indexes_built_at_the_next_opening() {
        let (store, path, all, _dir) = fresh_store().await;
        store.defer_indexes(1_000).await.unwrap();
        drop(store);
        assert_eq!(indexes(&path).await, without_deferred(&all));

        let _reopened = SqliteStore::open(&url(&path)).await.unwrap();
        assert_eq!(indexes(&path).await, all);
    }
}
