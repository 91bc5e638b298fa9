//! Bulk loads (`pipewise generate`, `pipewise import`): many batches of new records written
//! between [`Store::begin_bulk_load`] and [`Store::finish_bulk_load`].

use std::future::Future;

use crate::{Store, StoreError};

/// Runs `write`, the batches of a load bringing `deals` new deals, as a bulk load. Its end
/// runs after a failed write too, so that what was written is found through its indexes;
/// the write's error is then the one returned. `building` is called before indexes dropped
/// for the load are built, for the caller to say so.
pub async fn load<T, E>(
    store: &dyn Store,
    deals: u64,
    write: impl Future<Output = Result<T, E>>,
    building: impl FnOnce(),
) -> Result<T, E>
where
    E: From<StoreError>,
{
    let deferred = store.begin_bulk_load(deals).await?;
    let written = write.await;
    if deferred && written.is_ok() {
        building();
    }
    let built = store.finish_bulk_load().await;
    if let (Err(_), Err(error)) = (&written, &built) {
        tracing::warn!(%error, "building the indexes after the failed load failed too");
    }
    let written = written?;
    built?;
    Ok(written)
}
