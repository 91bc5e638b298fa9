//! The retry loops: around write transactions (and opening a SQLite file), and around
//! migrations.

use std::future::Future;
use std::time::Duration;

use crate::StoreError;

/// How often a transaction that failed transiently is tried again.
const ATTEMPTS: u32 = 8;
/// Pause before the first retry; doubled each time.
const FIRST_PAUSE: Duration = Duration::from_millis(5);

/// Runs `transaction` until it succeeds, fails for good, or has failed transiently
/// [`ATTEMPTS`] times. Each attempt must open and commit its own transaction, so a failed one
/// has rolled back before the next starts.
pub(crate) async fn retrying<T, F, Fut>(mut transaction: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut pause = FIRST_PAUSE;
    let mut attempt = 1;
    loop {
        match transaction().await {
            Err(error) if error.is_transient() && attempt < ATTEMPTS => {
                tracing::debug!(attempt, %error, "transient database error; retrying");
                tokio::time::sleep(pause).await;
                pause *= 2;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// Brings a schema up to date, trying again if another process migrating the same fresh
/// database at the same moment made an attempt fail: each migration runs in its own
/// transaction, so the loser's attempt rolled back and the next one finds it applied.
pub(crate) async fn migrating<F, Fut>(mut migrate: F) -> Result<(), StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), sqlx::migrate::MigrateError>>,
{
    let mut attempt = 1;
    loop {
        match migrate().await {
            Err(error) if attempt < ATTEMPTS => {
                tracing::debug!(attempt, %error, "migration failed; retrying");
                tokio::time::sleep(FIRST_PAUSE * 20 * attempt).await;
                attempt += 1;
            }
            result => return Ok(result?),
        }
    }
}
