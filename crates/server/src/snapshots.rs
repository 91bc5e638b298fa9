//! Weekly forecast snapshots, taken by the running server: a workspace's current quarter is
//! frozen when it has no snapshot yet or its latest is a week old.

use std::time::Duration;

use chrono::{DateTime, Utc};
use pipewise_analytics::forecast::{ForecastRequest, Snapshot};
use pipewise_core::ids::SnapshotId;

use crate::routes::forecast_report;
use crate::{ApiError, AppState};

/// How often the server looks for workspaces whose snapshot is due.
const CHECK_EVERY: Duration = Duration::from_secs(3600);

/// Takes the snapshots due at `now`; returns how many were taken.
pub async fn take_weekly_snapshots(
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<usize, ApiError> {
    let mut taken = 0;
    for workspace in state.store.workspaces().await? {
        let period = workspace.fiscal_calendar.quarter_of(now.date_naive());
        let latest = state
            .store
            .snapshot_headlines(workspace.id, period)
            .await?
            .pop();
        let due = latest.is_none_or(|s| now - s.taken_at >= chrono::Duration::days(7));
        if !due {
            continue;
        }
        let request = ForecastRequest {
            period: Some(period),
            as_of: now.date_naive(),
            now,
        };
        let report = forecast_report(state, &workspace, request)
            .await?
            .map_err(|e| {
                ApiError::Fault(format!("the weekly snapshot of {}: {e}", workspace.slug))
            })?;
        let snapshot = Snapshot::of(&report, now);
        state
            .store
            .record_snapshot(workspace.id, SnapshotId::generate(), &snapshot)
            .await?;
        tracing::info!(workspace = %workspace.slug, %period, "weekly forecast snapshot taken");
        taken += 1;
    }
    Ok(taken)
}

/// Checks every hour, for as long as the server runs, which snapshots are due.
pub fn schedule_snapshots(state: AppState) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(CHECK_EVERY);
        loop {
            interval.tick().await;
            if let Err(error) = take_weekly_snapshots(&state, Utc::now()).await {
                tracing::error!(%error, "taking the weekly forecast snapshots failed");
            }
        }
    });
}
