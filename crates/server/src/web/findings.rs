//! Hygiene for pages: the shipped rules run over a workspace as `GET …/hygiene` runs them,
//! kept, and worked out again in the background once the workspace has changed and the
//! report is older than [`FRESH_FOR`] (or was made on an earlier day), so that the board and
//! the deal room never wait on a pass over the whole event log, and an idle workspace costs
//! nothing. A page shows the latest report; only the hygiene page waits for the first one.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::Utc;
use pipewise_core::hygiene::{Finding, HygieneRules, RecordKind, Report};
use pipewise_core::ids::WorkspaceId;
use pipewise_core::org::Workspace;
use pipewise_store::{Store, Written, hygiene};
use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;

use crate::ApiError;
use crate::auth::Caller;

/// How long a report is shown, once the workspace has changed, before a new one is worked
/// out.
const FRESH_FOR: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Entry {
    report: Option<(Instant, Arc<Report>)>,
    refreshing: bool,
    /// Written to since the report being shown was started.
    changed: bool,
    /// The last report worked out in the background failed.
    failed: bool,
}

/// Each workspace's latest hygiene report.
pub(crate) struct HygieneReports {
    store: Arc<dyn Store>,
    entries: Mutex<HashMap<WorkspaceId, Entry>>,
    /// Told whenever a background report is finished, or has failed.
    finished: Notify,
}

impl HygieneReports {
    /// Starts following the store's writes. Call within a Tokio runtime.
    pub(crate) fn new(store: Arc<dyn Store>) -> Arc<Self> {
        let mut written = store.subscribe();
        let reports = Arc::new(Self {
            store,
            entries: Mutex::default(),
            finished: Notify::new(),
        });
        let weak = Arc::downgrade(&reports);
        tokio::spawn(async move {
            loop {
                let message = written.recv().await;
                let Some(reports) = weak.upgrade() else {
                    return;
                };
                let mut entries = reports
                    .entries
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                match message {
                    Ok(
                        Written::Events { workspace, .. }
                        | Written::Touch { workspace, .. }
                        | Written::Record { workspace, .. }
                        | Written::Replaced { workspace },
                    ) => entries.entry(workspace).or_default().changed = true,
                    Err(RecvError::Lagged(_)) => {
                        entries.values_mut().for_each(|entry| entry.changed = true)
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
        reports
    }

    /// The latest report, if one was worked out; starts working out a new one when it is
    /// older than [`FRESH_FOR`] or missing. Call within a Tokio runtime.
    pub(crate) fn latest(self: &Arc<Self>, workspace: &Workspace) -> Option<Arc<Report>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.entry(workspace.id).or_default();
        let today = Utc::now().date_naive();
        let stale = entry.report.as_ref().is_none_or(|(at, report)| {
            report.as_of < today || (entry.changed && at.elapsed() > FRESH_FOR)
        });
        if stale && !entry.refreshing {
            entry.refreshing = true;
            entry.changed = false;
            let (reports, workspace) = (self.clone(), workspace.clone());
            tokio::spawn(async move {
                let result = reports.work_out(&workspace).await;
                if let Err(error) = &result {
                    tracing::warn!(%error, "working out a hygiene report failed");
                }
                let mut entries = reports
                    .entries
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let entry = entries.entry(workspace.id).or_default();
                entry.refreshing = false;
                entry.failed = result.is_err();
                if let Ok(report) = result {
                    entry.report = Some((Instant::now(), Arc::new(report)));
                }
                drop(entries);
                reports.finished.notify_waiters();
            });
        }
        entry.report.as_ref().map(|(_, report)| report.clone())
    }

    /// The latest report; if there is none yet, the one being worked out in the background
    /// (a page that started it is not made to wait for a second pass over the log). Should
    /// that fail, one is worked out here, to answer with its error.
    pub(crate) async fn wait(
        self: &Arc<Self>,
        workspace: &Workspace,
    ) -> Result<Arc<Report>, ApiError> {
        loop {
            // Listening before looking, so that a report finished in between is not missed.
            let finished = self.finished.notified();
            tokio::pin!(finished);
            finished.as_mut().enable();
            let failed = {
                let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
                entries
                    .get(&workspace.id)
                    .is_some_and(|e| e.failed && e.report.is_none())
            };
            if failed {
                break;
            }
            // Starts the first report unless one is under way.
            if let Some(report) = self.latest(workspace) {
                return Ok(report);
            }
            finished.await;
        }
        let report = Arc::new(self.work_out(workspace).await?);
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.entry(workspace.id).or_default();
        entry.report = Some((Instant::now(), report.clone()));
        entry.failed = false;
        Ok(report)
    }

    async fn work_out(&self, workspace: &Workspace) -> Result<Report, ApiError> {
        let today = Utc::now().date_naive();
        Ok(hygiene::report(&*self.store, workspace, today, &HygieneRules::shipped()).await?)
    }
}

/// The findings on the deals named in `deals` that `caller` may read, by deal id; `None`
/// until the workspace's first report is worked out.
pub(crate) fn by_deal(
    reports: &Arc<HygieneReports>,
    caller: &Caller,
    deals: &HashSet<String>,
) -> Option<HashMap<String, Vec<Finding>>> {
    let report = reports.latest(&caller.workspace)?;
    let mut by_deal: HashMap<String, Vec<Finding>> = HashMap::new();
    let wanted = |f: &&Finding| {
        f.record_kind == RecordKind::Opportunity
            && deals.contains(&f.record_id)
            && f.owner_id.is_none_or(|o| caller.access.can_read(o))
    };
    for finding in report.findings.iter().filter(wanted) {
        by_deal
            .entry(finding.record_id.clone())
            .or_default()
            .push(finding.clone());
    }
    Some(by_deal)
}
