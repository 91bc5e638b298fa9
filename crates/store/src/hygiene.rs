//! Gathers what the hygiene rules read from a workspace and runs them
//! ([`pipewise_core::hygiene::inspect`]).

use chrono::NaiveDate;
use futures_util::TryStreamExt;
use pipewise_core::hygiene::{HygieneRules, Inspection, Report, StageHistory, inspect};
use pipewise_core::org::Workspace;

use crate::{Store, StoreError, processes};

#[derive(Debug, thiserror::Error)]
pub enum HygieneFailed {
    /// The rules read the records as they are now, so "today" may not precede their changes.
    #[error(
        "as of {as_of} is before the workspace's latest change on {latest}; hygiene judges \
         records as they are now, so take a day on or after it"
    )]
    AsOfBeforeLatestChange { as_of: NaiveDate, latest: NaiveDate },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The hygiene report of a workspace as of a day (taken as today), under `rules`.
pub async fn report(
    store: &dyn Store,
    workspace: &Workspace,
    as_of: NaiveDate,
    rules: &HygieneRules,
) -> Result<Report, HygieneFailed> {
    let process_set = processes::current(store, workspace).await?;
    let users = store.users(workspace.id).await?;
    let teams = store.teams(workspace.id).await?;
    let opportunities: Vec<_> = store.all_opportunities(workspace.id).try_collect().await?;
    let mut history = StageHistory::new(as_of, &workspace.fiscal_calendar);
    // Stage visits and pushes need no evidence events.
    let mut events = store.event_log_without_evidence(workspace.id);
    let mut latest = None;
    while let Some(event) = events.try_next().await? {
        latest = latest.max(Some(event.effective_at.date_naive()));
        history.observe(&event);
    }
    if let Some(latest) = latest.filter(|latest| *latest > as_of) {
        return Err(HygieneFailed::AsOfBeforeLatestChange { as_of, latest });
    }
    drop(events);
    let history = history.finish();
    let last_activity = store.last_activity(workspace.id).await?;
    let accounts: Vec<_> = store.all_accounts(workspace.id).try_collect().await?;
    let contacts: Vec<_> = store.all_contacts(workspace.id).try_collect().await?;
    Ok(inspect(&Inspection {
        as_of,
        processes: &process_set,
        rules,
        history: &history,
        opportunities: &opportunities,
        last_activity: &last_activity,
        accounts: &accounts,
        contacts: &contacts,
        users: &users,
        teams: &teams,
    }))
}
