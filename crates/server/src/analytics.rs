//! The resident analytics: each workspace's projection, built once from the store and then
//! kept current by the events the store announces as it commits them, so a report reads
//! memory and never the event log.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use pipewise_analytics::Projection;
use pipewise_core::ids::WorkspaceId;
use pipewise_core::org::Workspace;
use pipewise_store::{Store, StoreError, Written};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{OwnedRwLockReadGuard, RwLock};

/// A workspace's projection; `None` until built, or after a write it cannot follow.
type Slot = Arc<RwLock<Option<Projection>>>;

pub struct ResidentAnalytics {
    store: Arc<dyn Store>,
    slots: Mutex<HashMap<WorkspaceId, Slot>>,
    /// Projections built from the log so far.
    builds: AtomicU64,
}

impl ResidentAnalytics {
    /// Starts following the store's writes. Call within a Tokio runtime.
    pub fn start(store: Arc<dyn Store>) -> Arc<Self> {
        // Subscribed before any projection is built: every event committed after a build
        // has read the log reaches the listener.
        let mut written = store.subscribe();
        let analytics = Arc::new(Self {
            store,
            slots: Mutex::new(HashMap::new()),
            builds: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&analytics);
        tokio::spawn(async move {
            loop {
                let message = written.recv().await;
                let Some(analytics) = weak.upgrade() else {
                    return;
                };
                match message {
                    Ok(written) => analytics.follow(written).await,
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "analytics fell behind the writes; rebuilding");
                        analytics.forget_all().await;
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
        analytics
    }

    /// Builds the projection of every workspace, so the first reports need not wait.
    pub async fn warm(&self) -> Result<(), StoreError> {
        for workspace in self.store.workspaces().await? {
            drop(self.projection(&workspace).await?);
        }
        Ok(())
    }

    /// The workspace's projection, built first if need be.
    pub async fn projection(
        &self,
        workspace: &Workspace,
    ) -> Result<OwnedRwLockReadGuard<Option<Projection>>, StoreError> {
        let slot = self.slot(workspace.id);
        let read = slot.clone().read_owned().await;
        if read.is_some() {
            return Ok(read);
        }
        drop(read);
        let mut write = slot.write_owned().await;
        if write.is_none() {
            let started = std::time::Instant::now();
            let projection = pipewise_store::analytics::projection(&*self.store, workspace).await?;
            tracing::info!(
                workspace = %workspace.slug,
                deals = projection.len(),
                seconds = started.elapsed().as_secs_f64(),
                "analytics projection built"
            );
            *write = Some(projection);
            self.builds.fetch_add(1, Ordering::Relaxed);
        }
        Ok(write.downgrade())
    }

    /// How many projections have been built from the log: one per workspace unless a write
    /// could not be followed.
    pub fn builds(&self) -> u64 {
        self.builds.load(Ordering::Relaxed)
    }

    fn slot(&self, workspace: WorkspaceId) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry(workspace).or_default().clone()
    }

    /// Takes in one announced write.
    async fn follow(&self, written: Written) {
        match written {
            Written::Events { workspace, events } => {
                let slot = self.slot(workspace);
                let mut guard = slot.write().await;
                let Some(projection) = guard.as_mut() else {
                    return;
                };
                for event in events.iter() {
                    // Already in: the build read it from the log.
                    if projection
                        .applied_seq(event.opportunity_id)
                        .is_some_and(|seq| seq >= event.seq)
                    {
                        continue;
                    }
                    if let Err(error) = projection.apply(event) {
                        tracing::warn!(%error, "analytics cannot follow an event; rebuilding");
                        *guard = None;
                        return;
                    }
                }
            }
            Written::Touch {
                workspace, touch, ..
            } => {
                if let Some(projection) = self.slot(workspace).write().await.as_mut() {
                    // A deal is announced before anything is logged on it, so it is known.
                    projection.touch(&touch);
                }
            }
            Written::Replaced { workspace } => {
                *self.slot(workspace).write().await = None;
            }
            // Accounts' regions and targets are read with each report, not projected.
            Written::Record { .. } => {}
        }
    }

    async fn forget_all(&self) {
        let slots: Vec<Slot> = {
            let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            slots.values().cloned().collect()
        };
        for slot in slots {
            *slot.write().await = None;
        }
    }
}
