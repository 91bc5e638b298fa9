//! PostgreSQL, for teams.

use sqlx::Postgres;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

/// Connections in the pool.
const POOL_SIZE: u32 = 10;

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
}

crate::sql_store::impl_store!(PgStore, Postgres);
