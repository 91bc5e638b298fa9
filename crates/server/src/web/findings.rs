//! Hygiene for pages: the shipped rules run over a workspace as `GET …/hygiene` runs them,
//! kept (see [`crate::kept`]) so that the board and the deal room never wait on a pass over
//! the whole event log. A page shows the latest report; only the hygiene page waits for the
//! first one.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::Utc;
use pipewise_core::hygiene::{Finding, HygieneRules, RecordKind, Report};
use pipewise_core::org::Workspace;
use pipewise_store::{Store, hygiene};

use crate::ApiError;
use crate::auth::Caller;
use crate::kept::{Kept, Made};

/// Each workspace's latest hygiene report.
pub(crate) struct HygieneReports {
    store: Arc<dyn Store>,
    kept: Arc<Kept<Report>>,
}

impl HygieneReports {
    /// Starts following the store's writes. Call within a Tokio runtime.
    pub(crate) fn new(store: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Self {
            kept: Kept::new(store.subscribe()),
            store,
        })
    }

    /// The latest report, if one was worked out; a new one is started in the background
    /// when it is stale.
    pub(crate) fn latest(&self, workspace: &Workspace) -> Option<Arc<Made<Report>>> {
        self.kept.latest(workspace.id, self.work_out(workspace))
    }

    /// The latest report, waiting for the first.
    pub(crate) async fn wait(&self, workspace: &Workspace) -> Result<Arc<Made<Report>>, ApiError> {
        self.kept
            .wait(workspace.id, || self.work_out(workspace))
            .await
    }

    fn work_out(
        &self,
        workspace: &Workspace,
    ) -> impl Future<Output = Result<Report, ApiError>> + Send + 'static {
        let (store, workspace) = (self.store.clone(), workspace.clone());
        async move {
            let today = Utc::now().date_naive();
            Ok(hygiene::report(&*store, &workspace, today, &HygieneRules::shipped()).await?)
        }
    }
}

/// The findings on the deals named in `deals` that `caller` may read, by deal id; `None`
/// until the workspace's first report is worked out.
pub(crate) fn by_deal(
    reports: &Arc<HygieneReports>,
    caller: &Caller,
    deals: &HashSet<String>,
) -> Option<HashMap<String, Vec<Finding>>> {
    let report = &reports.latest(&caller.workspace)?.report;
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
