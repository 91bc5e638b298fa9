//! What every request needs to know about its workspace — the workspace, its people and
//! hierarchy, and the process in force — and what every report reads besides the deals (its
//! report settings: people, teams, quotas, exchange rates), kept in memory instead of read
//! from the database on each request: at a million deals a workspace has thousands of people
//! and tens of thousands of quotas. Forgotten at once when this server replaces any of it (a
//! new process version, a bulk write, a settings change, a record such as a quota for the
//! report settings); changes made by other processes on the same database show within
//! [`FRESH_FOR`] and a read (report settings a second later). Past it, what is kept is still
//! answered while it is read again in the background, once: a workspace's context takes a
//! fortieth of a second to read at a million deals, and when every request under load read it
//! again at the same moment, they stalled each other for up to a second. The first read after
//! a forgetting is likewise made once, by the first request, and the others wait for it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use pipewise_core::ids::WorkspaceId;
use pipewise_core::org::{Hierarchy, User, Workspace};
use pipewise_core::process::ProcessSet;
use pipewise_core::text::Slug;
use pipewise_store::analytics::{ReportSettings, report_settings};
use pipewise_store::{Store, Written, processes};
use tokio::sync::OnceCell;
use tokio::sync::broadcast::error::RecvError;

use crate::ApiError;

/// How long a workspace's context (and an API token, in `auth`) is used before it is read
/// again.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(5);

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
    /// [`FRESH_FOR`] outside tests.
    fresh_for: Duration,
    contexts: Mutex<Contexts>,
    settings: Mutex<Settings>,
}

/// A workspace's context once read, with when the read began.
type Read = (Instant, Arc<WorkspaceContext>);

/// Workspaces' contexts by slug, and how many times all were forgotten: a background read
/// that began before a forgetting is not kept.
#[derive(Default)]
struct Contexts {
    forgotten: u64,
    /// Each cell is filled by the first request to find it empty; the others wait for that
    /// read.
    entries: HashMap<Slug, Arc<OnceCell<Read>>>,
    /// Workspaces whose context is being read again in the background.
    refreshing: HashSet<Slug>,
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
        Self::fresh_for(store, FRESH_FOR)
    }

    fn fresh_for(store: Arc<dyn Store>, fresh_for: Duration) -> Arc<Self> {
        let mut written = store.subscribe();
        let directory = Arc::new(Self {
            store,
            fresh_for,
            contexts: Mutex::default(),
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
    pub(crate) async fn get(
        self: &Arc<Self>,
        slug: &str,
    ) -> Result<Arc<WorkspaceContext>, ApiError> {
        let not_found = || ApiError::NotFound {
            what: "workspace",
            key: slug.to_owned(),
        };
        let slug = Slug::parse(slug).map_err(|_| not_found())?;
        let cell = {
            let mut contexts = self.lock();
            let cell = contexts.entries.entry(slug.clone()).or_default().clone();
            if let Some((read_at, context)) = cell.get() {
                if read_at.elapsed() >= self.fresh_for && contexts.refreshing.insert(slug.clone()) {
                    self.clone().refresh(slug, contexts.forgotten);
                }
                return Ok(context.clone());
            }
            cell
        };
        let _unfilled = Unfilled {
            directory: self,
            slug: &slug,
            cell: &cell,
        };
        let (_, context) = cell.get_or_try_init(|| self.read(&slug)).await?;
        Ok(context.clone())
    }

    /// Reads the context of `slug` again in the background, and keeps it unless the
    /// workspaces were forgotten since `forgotten` was counted; forgets it if the read fails.
    fn refresh(self: Arc<Self>, slug: Slug, forgotten: u64) {
        tokio::spawn(async move {
            let read = self.read(&slug).await;
            let mut contexts = self.lock();
            contexts.refreshing.remove(&slug);
            if let Err(error) = &read {
                tracing::warn!(%error, workspace = %slug, "reading the workspace again failed");
            }
            if contexts.forgotten == forgotten {
                match read {
                    Ok(read) => {
                        let cell = Arc::new(OnceCell::new_with(Some(read)));
                        contexts.entries.insert(slug, cell);
                    }
                    // The next request reads it, and answers the failure if it lasts (a
                    // deleted workspace, a database that does not answer).
                    Err(_) => {
                        contexts.entries.remove(&slug);
                    }
                }
            }
        });
    }

    async fn read(&self, slug: &Slug) -> Result<Read, ApiError> {
        let started = Instant::now();
        let workspace = self.store.workspace(slug).await?;
        let users = self.store.users(workspace.id).await?;
        let hierarchy = Hierarchy::new(&users).map_err(|e| ApiError::Fault(e.to_string()))?;
        let processes = processes::current(&*self.store, &workspace).await?;
        let context = Arc::new(WorkspaceContext {
            workspace,
            users,
            hierarchy,
            processes,
        });
        Ok((started, context))
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
                if read_at.elapsed() >= self.fresh_for && settings.refreshing.insert(workspace.id) {
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
        let mut contexts = self.lock();
        contexts.forgotten += 1;
        contexts.entries.clear();
        drop(contexts);
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Contexts> {
        self.contexts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Drops a workspace's cell from the directory if its read left it empty (the read failed, or
/// the request was cancelled), so a slug of no workspace is not kept.
struct Unfilled<'a> {
    directory: &'a Directory,
    slug: &'a Slug,
    cell: &'a Arc<OnceCell<Read>>,
}

impl Drop for Unfilled<'_> {
    fn drop(&mut self) {
        if self.cell.initialized() {
            return;
        }
        let mut contexts = self.directory.lock();
        if contexts
            .entries
            .get(self.slug)
            .is_some_and(|kept| Arc::ptr_eq(kept, self.cell))
        {
            contexts.entries.remove(self.slug);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use pipewise_core::access::RepVisibility;
    use pipewise_demo::{DemoConfig, Generator};
    use pipewise_store::SqliteStore;

    use super::*;

    /// A small demo workspace `demo` in a fresh SQLite file, and the file's folder.
    async fn demo() -> (Arc<dyn Store>, WorkspaceId, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("directory.db").display());
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&url).await.unwrap());
        let mut generator = Generator::new(DemoConfig {
            seed: 3,
            opportunities: 10,
            as_of: "2026-11-23".parse().unwrap(),
            slug: "demo".parse().unwrap(),
        })
        .unwrap();
        store.create_workspace(generator.workspace()).await.unwrap();
        let workspace = generator.workspace().id;
        for chunk in generator.by_ref() {
            store
                .write_batch(workspace, &chunk.unwrap().batch)
                .await
                .unwrap();
        }
        (store, workspace, dir)
    }

    async fn visibility(directory: &Arc<Directory>) -> RepVisibility {
        directory
            .get("demo")
            .await
            .unwrap()
            .workspace
            .rep_visibility
    }

    /// Waits for the background reads to finish.
    async fn refreshed(directory: &Directory) {
        for _ in 0..500 {
            if directory.lock().refreshing.is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the background read did not finish within 5 s");
    }

    #[tokio::test]
    async fn a_stale_context_is_answered_while_it_is_read_again() {
        let (store, workspace, _dir) = demo().await;
        let directory = Directory::fresh_for(store.clone(), Duration::ZERO);
        assert_eq!(visibility(&directory).await, RepVisibility::Team);
        // As another process would: nothing is announced to this server.
        store
            .set_rep_visibility(workspace, RepVisibility::Own)
            .await
            .unwrap();
        assert_eq!(visibility(&directory).await, RepVisibility::Team);
        refreshed(&directory).await;
        assert_eq!(visibility(&directory).await, RepVisibility::Own);
    }

    #[tokio::test]
    async fn requests_after_a_forgetting_share_one_read() {
        let (store, _, _dir) = demo().await;
        let directory = Directory::start(store);
        let before = directory.get("demo").await.unwrap();
        assert!(Arc::ptr_eq(&before, &directory.get("demo").await.unwrap()));
        directory.forget();
        let after = futures_util::future::join_all((0..8).map(|_| directory.get("demo"))).await;
        let first = after[0].as_ref().unwrap();
        assert!(
            !Arc::ptr_eq(first, &before),
            "read again after the forgetting"
        );
        assert!(
            after
                .iter()
                .all(|c| Arc::ptr_eq(c.as_ref().unwrap(), first))
        );
    }

    #[tokio::test]
    async fn a_read_begun_before_a_forgetting_is_not_kept() {
        let (store, _, _dir) = demo().await;
        let directory = Directory::fresh_for(store, Duration::ZERO);
        directory.get("demo").await.unwrap();
        // Stale at once: answered, and read again in a task that has not run yet.
        directory.get("demo").await.unwrap();
        directory.forget();
        refreshed(&directory).await;
        assert!(directory.lock().entries.is_empty());
    }

    #[tokio::test]
    async fn a_slug_of_no_workspace_is_not_found_and_not_kept() {
        let (store, _, _dir) = demo().await;
        let directory = Directory::start(store);
        let missing = directory.get("nobody").await;
        assert!(matches!(
            missing,
            Err(ApiError::NotFound {
                what: "workspace",
                ..
            })
        ));
        assert!(directory.lock().entries.is_empty());
    }
}
