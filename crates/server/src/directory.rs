//! What every request needs to know about its workspace — the workspace, its people and
//! hierarchy, and the process in force — and what every report reads besides the deals (its
//! report settings: people, teams, quotas, exchange rates), kept in memory instead of read
//! from the database on each request: at a million deals a workspace has thousands of people
//! and tens of thousands of quotas. Forgotten at once when this server replaces any of it (a
//! new process version, a bulk write, a settings change, a record such as a quota for the
//! report settings). A context kept for [`FRESH_FOR`] is read again in the background, once,
//! while requests are still answered from it; one kept for twice as long is read before the
//! request is answered, so changes made by other processes on the same database show within
//! 10 s. Under load, when every request past the fresh time read the context itself (a
//! fortieth of a second at a million deals), they stalled each other for up to a second. The
//! first read after a forgetting is likewise made once, and the requests that wait for it
//! answer its outcome. Report settings past [`FRESH_FOR`] are answered while they are read
//! again in the background, a second later.

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
    /// [`ANSWERED_STALE_FOR`] outside tests.
    answered_stale_for: Duration,
    contexts: Mutex<Contexts>,
    settings: Mutex<Settings>,
}

/// How long past [`FRESH_FOR`] a kept context is still answered while it is read again.
const ANSWERED_STALE_FOR: Duration = FRESH_FOR;

/// A workspace's context as read, with when the read began.
struct ContextRead {
    began: Instant,
    context: Arc<WorkspaceContext>,
}

/// How a read of a workspace's context ended, for every request that waited for it.
type Outcome = Result<ContextRead, ReadFailed>;

/// A failed read of a workspace's context, as the requests that waited for it answer it (the
/// request that made the read answers the store's own error).
#[derive(Clone)]
enum ReadFailed {
    NoWorkspace(String),
    Other(String),
}

impl ReadFailed {
    fn of(error: &ApiError) -> Self {
        match error {
            ApiError::NotFound { key, .. } => Self::NoWorkspace(key.clone()),
            other => Self::Other(format!("reading the workspace failed: {other}")),
        }
    }

    fn answer(&self) -> ApiError {
        match self {
            Self::NoWorkspace(key) => ApiError::NotFound {
                what: "workspace",
                key: key.clone(),
            },
            Self::Other(message) => ApiError::Fault(message.clone()),
        }
    }
}

/// Each workspace's context by slug.
#[derive(Default)]
struct Contexts {
    /// Each cell is filled by the first request to find it empty; the others wait for that
    /// read. A failed read's cell is dropped once answered, so the next request reads again.
    entries: HashMap<Slug, Arc<OnceCell<Outcome>>>,
    /// Workspaces whose context is being read again in the background.
    refreshing: HashSet<Slug>,
}

impl Contexts {
    /// A new, empty cell for `slug`, in place of any kept.
    fn empty_cell(&mut self, slug: &Slug) -> Arc<OnceCell<Outcome>> {
        let cell = Arc::new(OnceCell::new());
        self.entries.insert(slug.clone(), cell.clone());
        cell
    }
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
        Self::with_times(store, FRESH_FOR, ANSWERED_STALE_FOR)
    }

    fn with_times(
        store: Arc<dyn Store>,
        fresh_for: Duration,
        answered_stale_for: Duration,
    ) -> Arc<Self> {
        let mut written = store.subscribe();
        let directory = Arc::new(Self {
            store,
            fresh_for,
            answered_stale_for,
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

    /// The context of the workspace `slug` names; a 404 if there is none. Answered from what
    /// is kept while it is fresh or only a little stale (then read again in the background);
    /// otherwise read once for all the requests that ask meanwhile.
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
            match contexts.entries.get(&slug).cloned() {
                Some(cell) => match cell.get() {
                    Some(Ok(read)) => {
                        let age = read.began.elapsed();
                        if age < self.fresh_for {
                            return Ok(read.context.clone());
                        }
                        if age < self.fresh_for + self.answered_stale_for {
                            if contexts.refreshing.insert(slug.clone()) {
                                self.clone().refresh(slug, cell.clone());
                            }
                            return Ok(read.context.clone());
                        }
                        contexts.empty_cell(&slug)
                    }
                    Some(Err(_)) => contexts.empty_cell(&slug),
                    // A read under way: wait for it.
                    None => cell,
                },
                None => contexts.empty_cell(&slug),
            }
        };
        let _unfilled = Unfilled {
            directory: self,
            slug: &slug,
            cell: &cell,
        };
        let mut own_error = None;
        let (own, slug) = (&mut own_error, &slug);
        let outcome = cell
            .get_or_init(|| async move {
                self.read(slug).await.map_err(|error| {
                    let failed = ReadFailed::of(&error);
                    *own = Some(error);
                    failed
                })
            })
            .await;
        if let Some(error) = own_error {
            return Err(error);
        }
        match outcome {
            Ok(read) => Ok(read.context.clone()),
            Err(failed) => Err(failed.answer()),
        }
    }

    /// Reads the context of `slug` again in the background, and keeps it in place of `stale`:
    /// not after a forgetting, nor over a newer read. A failed read forgets `stale`, so the
    /// next request reads it, and answers the failure if it lasts (a deleted workspace, a
    /// database that does not answer).
    fn refresh(self: Arc<Self>, slug: Slug, stale: Arc<OnceCell<Outcome>>) {
        tokio::spawn(async move {
            let _refreshing = Refreshing {
                directory: &self,
                slug: &slug,
            };
            let read = self.read(&slug).await;
            if let Err(error) = &read {
                tracing::warn!(%error, workspace = %slug, "reading the workspace again failed");
            }
            let mut contexts = self.lock();
            if contexts
                .entries
                .get(&slug)
                .is_some_and(|kept| Arc::ptr_eq(kept, &stale))
            {
                match read {
                    Ok(read) => {
                        let cell = Arc::new(OnceCell::new_with(Some(Ok(read))));
                        contexts.entries.insert(slug.clone(), cell);
                    }
                    Err(_) => {
                        contexts.entries.remove(&slug);
                    }
                }
            }
        });
    }

    async fn read(&self, slug: &Slug) -> Result<ContextRead, ApiError> {
        let began = Instant::now();
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
        Ok(ContextRead { began, context })
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
        self.lock().entries.clear();
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

/// Drops a workspace's cell from the directory once its read has failed, or if the request
/// that was reading it is cancelled with nobody else waiting, so the next request reads it
/// again and a slug of no workspace is not kept.
struct Unfilled<'a> {
    directory: &'a Directory,
    slug: &'a Slug,
    cell: &'a Arc<OnceCell<Outcome>>,
}

impl Drop for Unfilled<'_> {
    fn drop(&mut self) {
        let mut contexts = self.directory.lock();
        let unfilled = match self.cell.get() {
            Some(Ok(_)) => false,
            Some(Err(_)) => true,
            // The directory's reference and this request's, and no other request's.
            None => Arc::strong_count(self.cell) == 2,
        };
        if unfilled
            && contexts
                .entries
                .get(self.slug)
                .is_some_and(|kept| Arc::ptr_eq(kept, self.cell))
        {
            contexts.entries.remove(self.slug);
        }
    }
}

/// Marks a background read as over, however it ends.
struct Refreshing<'a> {
    directory: &'a Directory,
    slug: &'a Slug,
}

impl Drop for Refreshing<'_> {
    fn drop(&mut self) {
        self.directory.lock().refreshing.remove(self.slug);
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
        let directory = Directory::with_times(store.clone(), Duration::ZERO, Duration::MAX / 4);
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
    async fn a_context_past_its_stale_time_is_read_before_the_answer() {
        let (store, workspace, _dir) = demo().await;
        let directory = Directory::with_times(store.clone(), Duration::ZERO, Duration::ZERO);
        assert_eq!(visibility(&directory).await, RepVisibility::Team);
        store
            .set_rep_visibility(workspace, RepVisibility::Own)
            .await
            .unwrap();
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
        let directory = Directory::with_times(store, Duration::ZERO, Duration::MAX / 4);
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
