//! Reports too costly to work out on every request (a pass over the whole event log, or the
//! backtest's replay of a year of weeks), kept per workspace and worked out again in the
//! background once the workspace has changed and the report is older than [`FRESH_FOR`] (or
//! was made on an earlier day). A page then never waits on the work, except for the
//! workspace's first report, and a workspace nobody writes to or looks at costs nothing.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use pipewise_core::ids::WorkspaceId;
use pipewise_store::Written;
use tokio::sync::Notify;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::ApiError;

/// How long a report is shown once it is finished, if the workspace has changed, before a
/// new one is worked out.
const FRESH_FOR: Duration = Duration::from_secs(30);

/// A report with the moment its work started: it reflects the writes made before then (a
/// write within moments of it may be left to the next report).
pub(crate) struct Made<R> {
    pub(crate) at: DateTime<Utc>,
    pub(crate) report: R,
}

struct Entry<R> {
    /// The report and when it was finished.
    made: Option<(Instant, Arc<Made<R>>)>,
    refreshing: bool,
    /// Written to since the report being shown was started, or a new one failed.
    changed: bool,
    /// The last report worked out in the background failed.
    failed: bool,
}

impl<R> Default for Entry<R> {
    fn default() -> Self {
        Self {
            made: None,
            refreshing: false,
            changed: false,
            failed: false,
        }
    }
}

/// Each workspace's latest report of one kind.
pub(crate) struct Kept<R> {
    entries: Mutex<HashMap<WorkspaceId, Entry<R>>>,
    /// [`FRESH_FOR`] outside tests.
    fresh_for: Duration,
    /// Told whenever a background report is finished, or has failed.
    finished: Notify,
}

impl<R: Send + Sync + 'static> Kept<R> {
    /// Starts following the store's announced writes. Call within a Tokio runtime.
    pub(crate) fn new(written: broadcast::Receiver<Written>) -> Arc<Self> {
        Self::fresh_for(written, FRESH_FOR)
    }

    fn fresh_for(mut written: broadcast::Receiver<Written>, fresh_for: Duration) -> Arc<Self> {
        let kept = Arc::new(Self {
            entries: Mutex::default(),
            fresh_for,
            finished: Notify::new(),
        });
        let weak = Arc::downgrade(&kept);
        tokio::spawn(async move {
            loop {
                let message = written.recv().await;
                let Some(kept) = weak.upgrade() else {
                    return;
                };
                let mut entries = kept.entries.lock().unwrap_or_else(PoisonError::into_inner);
                match message {
                    Ok(written) => entries.entry(written.workspace()).or_default().changed = true,
                    Err(RecvError::Lagged(_)) => {
                        entries.values_mut().for_each(|entry| entry.changed = true)
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
        kept
    }

    /// The latest report, if one was worked out; starts `work` in the background when the
    /// report is stale or missing and none is under way. Call within a Tokio runtime.
    pub(crate) fn latest<W>(
        self: &Arc<Self>,
        workspace: WorkspaceId,
        work: W,
    ) -> Option<Arc<Made<R>>>
    where
        W: Future<Output = Result<R, ApiError>> + Send + 'static,
    {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.entry(workspace).or_default();
        let today = Utc::now().date_naive();
        let stale = entry.made.as_ref().is_none_or(|(finished, made)| {
            made.at.date_naive() < today || (entry.changed && finished.elapsed() >= self.fresh_for)
        });
        if stale && !entry.refreshing {
            entry.refreshing = true;
            entry.changed = false;
            let kept = self.clone();
            tokio::spawn(async move {
                let made = kept.made_by(work).await;
                if let Err(error) = &made {
                    tracing::warn!(%error, "working out a kept report failed");
                }
                let mut entries = kept.entries.lock().unwrap_or_else(PoisonError::into_inner);
                let entry = entries.entry(workspace).or_default();
                entry.refreshing = false;
                entry.failed = made.is_err();
                match made {
                    Ok(made) => entry.made = Some(made),
                    // The report shown still misses what the failed one was to take in.
                    Err(_) => entry.changed = true,
                }
                drop(entries);
                kept.finished.notify_waiters();
            });
        }
        entry.made.as_ref().map(|(_, made)| made.clone())
    }

    /// The latest report; if there is none yet, the one being worked out in the background
    /// (a page that started it is not made to wait for a second one). Should that fail,
    /// `work` is done here, to answer with its error.
    pub(crate) async fn wait<W>(
        self: &Arc<Self>,
        workspace: WorkspaceId,
        work: impl Fn() -> W,
    ) -> Result<Arc<Made<R>>, ApiError>
    where
        W: Future<Output = Result<R, ApiError>> + Send + 'static,
    {
        loop {
            // Listening before looking, so that a report finished in between is not missed.
            let finished = self.finished.notified();
            tokio::pin!(finished);
            finished.as_mut().enable();
            let failed = {
                let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
                entries
                    .get(&workspace)
                    .is_some_and(|e| e.failed && e.made.is_none())
            };
            if failed {
                break;
            }
            // Starts the first report unless one is under way.
            if let Some(made) = self.latest(workspace, work()) {
                return Ok(made);
            }
            finished.await;
        }
        let (finished, made) = self.made_by(work()).await?;
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.entry(workspace).or_default();
        entry.made = Some((finished, made.clone()));
        entry.failed = false;
        Ok(made)
    }

    /// The report `work` makes, with when it was finished. The work runs as a task of its
    /// own, so that a panic in it is a failed report rather than a refresh never finished.
    async fn made_by(
        &self,
        work: impl Future<Output = Result<R, ApiError>> + Send + 'static,
    ) -> Result<(Instant, Arc<Made<R>>), ApiError> {
        let at = Utc::now();
        let report = tokio::spawn(work)
            .await
            .map_err(|e| ApiError::Fault(format!("a kept report failed: {e}")))??;
        Ok((Instant::now(), Arc::new(Made { at, report })))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// A report that says which run of the work made it; the runs in `failing` fail, those
    /// in `panicking` panic.
    struct Work {
        runs: AtomicU32,
        failing: Vec<u32>,
        panicking: Vec<u32>,
    }

    impl Work {
        fn with(failing: &[u32], panicking: &[u32]) -> Arc<Self> {
            Arc::new(Self {
                runs: AtomicU32::new(0),
                failing: failing.to_vec(),
                panicking: panicking.to_vec(),
            })
        }

        fn new() -> Arc<Self> {
            Self::with(&[], &[])
        }

        fn failing(runs: &[u32]) -> Arc<Self> {
            Self::with(runs, &[])
        }

        fn panicking(runs: &[u32]) -> Arc<Self> {
            Self::with(&[], runs)
        }

        fn run(self: &Arc<Self>) -> impl Future<Output = Result<u32, ApiError>> + Send + 'static {
            let work = self.clone();
            async move {
                let run = work.runs.fetch_add(1, Ordering::SeqCst) + 1;
                assert!(!work.panicking.contains(&run), "run {run} panics");
                if work.failing.contains(&run) {
                    return Err(ApiError::Fault(format!("run {run} failed")));
                }
                Ok(run)
            }
        }

        fn runs(&self) -> u32 {
            self.runs.load(Ordering::SeqCst)
        }
    }

    /// Lets the listener and the background work run until nothing is left to do.
    async fn settle() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    fn touched(workspace: WorkspaceId) -> Written {
        Written::Record {
            workspace,
            leads: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_kept_report_is_worked_out_once_while_nothing_is_written() {
        let (announce, written) = broadcast::channel(16);
        let kept = Kept::fresh_for(written, Duration::ZERO);
        let (workspace, work) = (WorkspaceId::generate(), Work::new());

        let first = kept.wait(workspace, || work.run()).await.unwrap();
        assert_eq!(first.report, 1);
        for _ in 0..3 {
            let again = kept.latest(workspace, work.run()).unwrap();
            assert_eq!(again.report, 1);
        }
        // A write to another workspace leaves this one's report standing.
        announce.send(touched(WorkspaceId::generate())).unwrap();
        settle().await;
        assert_eq!(kept.latest(workspace, work.run()).unwrap().report, 1);
        settle().await;
        assert_eq!(work.runs(), 1);
    }

    #[tokio::test]
    async fn a_write_shows_the_kept_report_once_more_while_a_new_one_is_worked_out() {
        let (announce, written) = broadcast::channel(16);
        let kept = Kept::fresh_for(written, Duration::ZERO);
        let (workspace, work) = (WorkspaceId::generate(), Work::new());
        kept.wait(workspace, || work.run()).await.unwrap();

        announce.send(touched(workspace)).unwrap();
        settle().await;
        assert_eq!(kept.latest(workspace, work.run()).unwrap().report, 1);
        settle().await;
        assert_eq!(kept.latest(workspace, work.run()).unwrap().report, 2);
        assert_eq!(work.runs(), 2);
    }

    #[tokio::test]
    async fn a_write_within_the_fresh_time_does_not_start_new_work() {
        let (announce, written) = broadcast::channel(16);
        let kept = Kept::fresh_for(written, Duration::from_secs(3600));
        let (workspace, work) = (WorkspaceId::generate(), Work::new());
        kept.wait(workspace, || work.run()).await.unwrap();

        announce.send(touched(workspace)).unwrap();
        settle().await;
        assert_eq!(kept.latest(workspace, work.run()).unwrap().report, 1);
        settle().await;
        assert_eq!(work.runs(), 1);
    }

    #[tokio::test]
    async fn a_failed_refresh_is_tried_again_at_the_next_look() {
        let (announce, written) = broadcast::channel(16);
        let kept = Kept::fresh_for(written, Duration::ZERO);
        let (workspace, work) = (WorkspaceId::generate(), Work::failing(&[2]));
        kept.wait(workspace, || work.run()).await.unwrap();

        announce.send(touched(workspace)).unwrap();
        settle().await;
        // Run 2 starts, and fails; the look after it starts run 3 with no new write.
        assert_eq!(kept.latest(workspace, work.run()).unwrap().report, 1);
        settle().await;
        assert_eq!(kept.latest(workspace, work.run()).unwrap().report, 1);
        settle().await;
        assert_eq!(kept.latest(workspace, work.run()).unwrap().report, 3);
        assert_eq!(work.runs(), 3);
    }

    #[tokio::test]
    async fn a_report_whose_work_panics_fails_and_is_tried_again() {
        let (_announce, written) = broadcast::channel(16);
        let kept: Arc<Kept<u32>> = Kept::fresh_for(written, Duration::ZERO);
        let (workspace, work) = (WorkspaceId::generate(), Work::panicking(&[1, 2]));
        // The background run and the one made to answer both panic: an error, not a hang.
        let answered =
            tokio::time::timeout(Duration::from_secs(10), kept.wait(workspace, || work.run()));
        let error = answered.await.expect("answered, not hung").err().unwrap();
        assert!(
            matches!(&error, ApiError::Fault(cause) if cause.contains("panic")),
            "{error:?}"
        );
        // The next look works the report out again.
        assert_eq!(kept.wait(workspace, || work.run()).await.unwrap().report, 3);
        assert_eq!(work.runs(), 3);
    }

    #[tokio::test]
    async fn failed_work_is_answered_with_its_error() {
        let (_announce, written) = broadcast::channel(16);
        let kept: Arc<Kept<u32>> = Kept::fresh_for(written, Duration::ZERO);
        let (workspace, work) = (WorkspaceId::generate(), Work::failing(&[1, 2]));

        let error = kept.wait(workspace, || work.run()).await.err().unwrap();
        assert_eq!(
            error.to_string(),
            ApiError::Fault("run 2 failed".into()).to_string()
        );
        // The background run failed, then the one made to answer.
        assert_eq!(work.runs(), 2);
    }
}
