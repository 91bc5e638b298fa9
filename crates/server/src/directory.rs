//! What every request needs to know about its workspace — the workspace, its people and
//! hierarchy, and the process in force — and what every report reads besides the deals (its
//! report settings: people, teams, quotas, exchange rates), kept in memory for a few seconds
//! instead of read from the database on each request: at a million deals a workspace has
//! thousands of people and tens of thousands of quotas. Forgotten at once when this server
//! replaces any of it (a new process version, a bulk write, a settings change, a record such
//! as a quota for the report settings); changes made by other processes on the same
//! database show within [`FRESH_FOR`] (report settings a second later). Report settings past
//! it are still answered while they are read again in the background: reading them takes a
//! fifth of a second at a million deals, and a person opening a report has most often been
//! idle for longer.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use pipewise_core::ids::WorkspaceId;
use pipewise_core::org::{Hierarchy, User, Workspace};
use pipewise_core::process::ProcessSet;
use pipewise_core::text::Slug;
use pipewise_store::analytics::{ReportSettings, report_settings};
use pipewise_store::{Store, Written, processes};
use tokio::sync::broadcast::error::RecvError;

use crate::ApiError;

/// How long a workspace's context is used before it is read again.
const FRESH_FOR: Duration = Duration::from_secs(5);

/// How long a background read of report settings waits: the request that found them stale
/// is answered first rather than sharing the cores with the read (a report on two cores
/// takes about as long as the read, so sharing them added half to it at a million deals).
const REFRESH_AFTER: Duration = Duration::from_secs(1);

/// A workspace as requests see it.
pub(crate) struct WorkspaceContext {
    pub workspace: Workspace,
    pub users: Vec<User>,
    pub hierarchy: Hierarchy,
    pub processes: ProcessSet,
}

pub(crate) struct Directory {
    store: Arc<dyn Store>,
    entries: Mutex<HashMap<Slug, (Instant, Arc<WorkspaceContext>)>>,
    settings: Mutex<Settings>,
}

/// Report settings by workspace, and how many times any were forgotten: a read that began
/// before a forgetting is not kept, for it may predate the write.
#[derive(Default)]
struct Settings {
    forgotten: u64,
    entries: HashMap<WorkspaceId, (Instant, Arc<ReportSettings>)>,
    /// Workspaces whose settings are being read again in the background.
    refreshing: HashSet<WorkspaceId>,
}

impl Directory {
    /// Starts following the store's writes. Call within a Tokio runtime.
    pub(crate) fn start(store: Arc<dyn Store>) -> Arc<Self> {
        let mut written = store.subscribe();
        let directory = Arc::new(Self {
            store,
            entries: Mutex::default(),
            settings: Mutex::default(),
        });
        let weak = Arc::downgrade(&directory);
        tokio::spawn(async move {
            loop {
                let message = written.recv().await;
                let Some(directory) = weak.upgrade() else {
                    return;
                };
                match message {
                    Ok(Written::Events { .. } | Written::Touch { .. }) => {}
                    Ok(Written::Record { workspace, .. }) => directory.forget_settings(workspace),
                    Ok(Written::Replaced { .. }) | Err(RecvError::Lagged(_)) => directory.forget(),
                    Err(RecvError::Closed) => return,
                }
            }
        });
        directory
    }

    /// The context of the workspace `slug` names; a 404 if there is none.
    pub(crate) async fn get(&self, slug: &str) -> Result<Arc<WorkspaceContext>, ApiError> {
        let not_found = || ApiError::NotFound {
            what: "workspace",
            key: slug.to_owned(),
        };
        let slug = Slug::parse(slug).map_err(|_| not_found())?;
        if let Some((read_at, context)) = self.lock().get(&slug) {
            if read_at.elapsed() < FRESH_FOR {
                return Ok(context.clone());
            }
        }
        let workspace = self.store.workspace(&slug).await?;
        let users = self.store.users(workspace.id).await?;
        let hierarchy = Hierarchy::new(&users).map_err(|e| ApiError::Fault(e.to_string()))?;
        let processes = processes::current(&*self.store, &workspace).await?;
        let context = Arc::new(WorkspaceContext {
            workspace,
            users,
            hierarchy,
            processes,
        });
        self.lock().insert(slug, (Instant::now(), context.clone()));
        Ok(context)
    }

    /// The report settings of `workspace`, without accounts' regions; if those kept are
    /// older than [`FRESH_FOR`], they are answered and read again in the background.
    pub(crate) async fn report_settings(
        self: &Arc<Self>,
        workspace: &Workspace,
    ) -> Result<Arc<ReportSettings>, ApiError> {
        let forgotten = {
            let mut settings = self.lock_settings();
            if let Some((read_at, kept)) = settings.entries.get(&workspace.id) {
                let kept = kept.clone();
                if read_at.elapsed() >= FRESH_FOR && settings.refreshing.insert(workspace.id) {
                    let directory = self.clone();
                    let workspace = workspace.clone();
                    let forgotten = settings.forgotten;
                    tokio::spawn(async move {
                        tokio::time::sleep(REFRESH_AFTER).await;
                        if let Err(error) = directory.read_settings(&workspace, forgotten).await {
                            tracing::warn!(%error, workspace = %workspace.slug, "reading the report settings again failed");
                        }
                        directory.lock_settings().refreshing.remove(&workspace.id);
                    });
                }
                return Ok(kept);
            }
            settings.forgotten
        };
        self.read_settings(workspace, forgotten).await
    }

    /// Reads the report settings of `workspace` and keeps them, unless any were forgotten
    /// since `forgotten` was counted.
    async fn read_settings(
        &self,
        workspace: &Workspace,
        forgotten: u64,
    ) -> Result<Arc<ReportSettings>, ApiError> {
        let read = Arc::new(report_settings(&*self.store, workspace, false).await?);
        let mut settings = self.lock_settings();
        if settings.forgotten == forgotten {
            settings
                .entries
                .insert(workspace.id, (Instant::now(), read.clone()));
        }
        Ok(read)
    }

    /// Forgets every workspace, to be read again on the next request.
    pub(crate) fn forget(&self) {
        self.lock().clear();
        let mut settings = self.lock_settings();
        settings.forgotten += 1;
        settings.entries.clear();
    }

    /// Forgets the report settings of `workspace`, after a write that may change them.
    pub(crate) fn forget_settings(&self, workspace: WorkspaceId) {
        let mut settings = self.lock_settings();
        settings.forgotten += 1;
        settings.entries.remove(&workspace);
    }

    fn lock_settings(&self) -> std::sync::MutexGuard<'_, Settings> {
        self.settings.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Slug, (Instant, Arc<WorkspaceContext>)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
