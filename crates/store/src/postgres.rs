//! PostgreSQL, for teams.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres};

/// Connections in the pool.
const POOL_SIZE: u32 = 10;
/// A connection idle for longer than this is pinged before it is used again, in case the
/// server or the network dropped it meanwhile. One in steady use is not: it was pinged when
/// it was last returned to the pool, and a ping per query is a round trip per query.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

pub struct PgStore {
    pool: PgPool,
    description: String,
    written: tokio::sync::broadcast::Sender<crate::Written>,
}

impl PgStore {
    /// Connects to the database a `postgres://` URL names, and migrates it.
    pub async fn open(url: &str) -> crate::Result<Self> {
        Self::connect_with(url.parse()?).await
    }

    pub async fn connect_with(options: PgConnectOptions) -> crate::Result<Self> {
        let description = format!(
            "PostgreSQL database {} on {}:{}",
            options.get_database().unwrap_or("(default)"),
            options.get_host(),
            options.get_port()
        );
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .test_before_acquire(false)
            .before_acquire(|connection: &mut PgConnection, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_IF_IDLE_FOR {
                        connection.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        let mut migrator = sqlx::migrate!("migrations/postgres");
        // No advisory lock: they are not portable to distributed PostgreSQL-compatible
        // engines. Concurrent first runs are handled by retrying instead.
        migrator.set_locking(false);
        crate::retry::migrating(|| migrator.run(&pool)).await?;
        Ok(Self {
            pool,
            description,
            written: crate::announcer(),
        })
    }

    async fn begin_write(&self) -> crate::Result<sqlx::Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    /// Writes one command's outcome in a transaction of its own, then announces its events.
    /// Concurrent writers each have a connection, and PostgreSQL commits them side by side.
    async fn record_and_announce(
        &self,
        workspace: pipewise_core::ids::WorkspaceId,
        recorded: &pipewise_core::opportunity::Recorded,
    ) -> crate::Result<()> {
        let id = workspace.as_uuid();
        crate::retry::retrying(|| async move {
            let mut tx = self.begin_write().await?;
            record_in(&mut tx, id, recorded).await?;
            tx.commit().await?;
            Ok(())
        })
        .await?;
        // Nobody listening is no error.
        let _ = self.written.send(crate::Written::Events {
            workspace,
            events: recorded.events.clone().into(),
        });
        Ok(())
    }

    /// PostgreSQL keeps its indexes through a bulk load: it has not been measured without
    /// them.
    async fn defer_indexes(&self, _deals: u64) -> crate::Result<bool> {
        Ok(false)
    }

    async fn build_indexes(&self) -> crate::Result<()> {
        Ok(())
    }
}

crate::sql_store::impl_store!(PgStore, Postgres);
