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
const BULK_TABLES: [&str; 6] = [
    "accounts",
    "contacts",
    "opportunities",
    "opportunity_events",
    "leads",
    "activities",
];

/// An index as the migrations define it.
#[derive(sqlx::FromRow)]
struct Index {
    name: String,
    #[sqlx(rename = "tbl_name")]
    table: String,
    sql: String,
}

impl Index {
    /// Whether a bulk load may go without it: it orders a bulk-loaded table and enforces
    /// nothing. Indexes the migrations do not define (an operator's own) are never dropped, as
    /// nothing would build them again.
    fn deferrable(&self) -> bool {
        BULK_TABLES.contains(&self.table.as_str())
            && !self.sql.to_ascii_uppercase().starts_with("CREATE UNIQUE")
    }
}

/// Drops the deferrable indexes if `deals` new deals are at least as many as the database
/// holds; says whether it did.
pub(super) async fn defer(writer: &SqlitePool, deals: u64) -> crate::Result<bool> {
    let deferrable: Vec<String> = defined()
        .await?
        .into_iter()
        .filter(Index::deferrable)
        .map(|index| index.name)
        .collect();
    let deferrable = &deferrable;
    crate::retry::retrying(|| async move {
        let mut tx = super::begin_write(writer).await?;
        let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM opportunities")
            .fetch_one(&mut *tx)
            .await?;
        if deals < u64::try_from(stored).unwrap_or(0) {
            return Ok(false);
        }
        for name in deferrable {
            sqlx::query(&format!("DROP INDEX IF EXISTS \"{name}\""))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        tracing::debug!(
            indexes = deferrable.len(),
            "secondary indexes dropped for a bulk load"
        );
        Ok(true)
    })
    .await
}

/// Builds every index the migrations define that the database lacks; returns how many.
/// Another process building them meanwhile is waited for, and then there is nothing to do.
pub(super) async fn restore(readers: &SqlitePool, writer: &SqlitePool) -> crate::Result<usize> {
    let defined = defined().await?;
    if missing(readers, &defined).await?.is_empty() {
        return Ok(0);
    }
    let defined = &defined;
    crate::retry::retrying(|| async move {
        let mut tx = super::begin_write(writer).await?;
        // Looked at again with the writer's turn: another process may have built them.
        let missing = missing(&mut *tx, defined).await?;
        for index in &missing {
            tracing::info!(index = %index.name, "building index");
            sqlx::query(&index.sql).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(missing.len())
    })
    .await
}

/// Every index the migrations define, as a database migrated in memory holds them.
async fn defined() -> crate::Result<Vec<Index>> {
    let mut reference = SqliteConnectOptions::from_str("sqlite::memory:")?
        .connect()
        .await?;
    super::MIGRATOR.run_direct(&mut reference).await?;
    Ok(sqlx::query_as(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
    )
    .fetch_all(&mut reference)
    .await?)
}

async fn missing<'c, 'd>(
    database: impl sqlx::SqliteExecutor<'c>,
    defined: &'d [Index],
) -> crate::Result<Vec<&'d Index>> {
    let present: HashSet<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'index'")
            .fetch_all(database)
            .await?
            .into_iter()
            .collect();
    Ok(defined
        .iter()
        .filter(|index| !present.contains(&index.name))
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
    const DEFERRED: [&str; 11] = [
        "accounts_by_owner",
        "activities_by_lead",
        "activities_by_opportunity",
        "contacts_by_account",
        "leads_by_email_key",
        "leads_waiting",
        "opportunities_by_account",
        "opportunities_by_close_date",
        "opportunities_by_next_step_owner",
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

        assert_eq!(
            restore(&store.pool, &store.writer).await.unwrap(),
            DEFERRED.len()
        );
        assert_eq!(indexes(&path).await, all);
        assert_eq!(restore(&store.pool, &store.writer).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn an_index_the_migrations_do_not_define_stays_through_a_load() {
        let (store, path, _, _dir) = fresh_store().await;
        sqlx::query("CREATE INDEX deals_by_name ON opportunities (workspace_id, name)")
            .execute(&store.writer)
            .await
            .unwrap();
        let all = indexes(&path).await;

        assert!(defer(&store.writer, 0).await.unwrap());
        let during = indexes(&path).await;
        assert!(during.iter().any(|name| name == "deals_by_name"));
        assert_eq!(during, without_deferred(&all));
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
