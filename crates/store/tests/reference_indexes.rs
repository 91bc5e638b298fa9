//! Every foreign key's columns lead an index, on both databases. Before a row others may refer
//! to is removed, the database looks for rows still referring to it; without such an index
//! that look scans the whole referring table once per row removed, which is what made deleting
//! a large workspace not finish.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{Connection, PgConnection, SqliteConnection};

/// Rows of (table, name of a key or index, column), in column order, grouped into the column
/// list of each (table, name).
fn grouped(rows: Vec<(String, String, String)>) -> BTreeMap<(String, String), Vec<String>> {
    let mut groups: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (table, name, column) in rows {
        groups.entry((table, name)).or_default().push(column);
    }
    groups
}

/// The foreign keys no index serves: no index of the same table leads with the key's columns
/// (in any order, as a look-up by all of them can use either).
fn unserved(
    keys: &BTreeMap<(String, String), Vec<String>>,
    indexes: &BTreeMap<(String, String), Vec<String>>,
) -> Vec<String> {
    keys.iter()
        .filter(|((table, _), columns)| {
            let wanted: BTreeSet<&String> = columns.iter().collect();
            !indexes.iter().any(|((indexed, _), leading)| {
                indexed == table
                    && leading.len() >= wanted.len()
                    && leading[..wanted.len()].iter().collect::<BTreeSet<_>>() == wanted
            })
        })
        .map(|((table, _), columns)| format!("{table} ({})", columns.join(", ")))
        .collect()
}

#[tokio::test]
async fn every_foreign_key_leads_an_index_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("keys.db").display());
    drop(pipewise_store::SqliteStore::open(&url).await.unwrap());
    let mut db = SqliteConnection::connect(&url).await.unwrap();

    let keys = grouped(
        sqlx::query_as(
            "SELECT m.name, CAST(k.id AS TEXT), k.\"from\" \
             FROM sqlite_master m, pragma_foreign_key_list(m.name) k \
             WHERE m.type = 'table' ORDER BY m.name, k.id, k.seq",
        )
        .fetch_all(&mut db)
        .await
        .unwrap(),
    );
    let indexes = grouped(
        sqlx::query_as(
            "SELECT m.name, l.name, COALESCE(i.name, '(expression)') \
             FROM sqlite_master m, pragma_index_list(m.name) l, pragma_index_info(l.name) i \
             WHERE m.type = 'table' AND l.partial = 0 ORDER BY m.name, l.name, i.seqno",
        )
        .fetch_all(&mut db)
        .await
        .unwrap(),
    );

    assert!(
        keys.len() >= 40,
        "the schema's foreign keys were read: {keys:?}"
    );
    assert_eq!(unserved(&keys, &indexes), Vec::<String>::new());
}

#[tokio::test]
async fn every_foreign_key_leads_an_index_on_postgres() {
    let Some(database) = common::PostgresDatabase::create().await else {
        return;
    };
    drop(
        pipewise_store::PgStore::connect_with(database.options())
            .await
            .unwrap(),
    );
    let mut db = PgConnection::connect_with(&database.options())
        .await
        .unwrap();

    let keys = grouped(
        sqlx::query_as(
            "SELECT c.conrelid::regclass::text, c.conname::text, a.attname::text \
             FROM pg_constraint c CROSS JOIN unnest(c.conkey) WITH ORDINALITY k (attnum, n) \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum \
             WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace \
             ORDER BY 1, 2, k.n",
        )
        .fetch_all(&mut db)
        .await
        .unwrap(),
    );
    // An expression in an index keeps its place, so the columns after it do not move up. A
    // partial index, or the columns an index only carries (INCLUDE), serve no look-up by key.
    let indexes = grouped(
        sqlx::query_as(
            "SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, \
             COALESCE(a.attname::text, '(expression)') \
             FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid \
             CROSS JOIN unnest(i.indkey::int2[]) WITH ORDINALITY k (attnum, n) \
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
             WHERE t.relnamespace = 'public'::regnamespace AND i.indpred IS NULL \
             AND k.n <= i.indnkeyatts \
             ORDER BY 1, 2, k.n",
        )
        .fetch_all(&mut db)
        .await
        .unwrap(),
    );
    drop(db);

    assert!(
        keys.len() >= 40,
        "the schema's foreign keys were read: {keys:?}"
    );
    assert_eq!(unserved(&keys, &indexes), Vec::<String>::new());
    database.drop().await;
}
