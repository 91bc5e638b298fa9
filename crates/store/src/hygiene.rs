//! Gathers what the hygiene rules read from a workspace and runs them
//! ([`pipewise_core::hygiene::inspect`]).

use chrono::NaiveDate;
use futures_util::TryStreamExt;
use pipewise_core::hygiene::{HygieneRules, Inspection, Report, StageHistory, inspect};
use pipewise_core::org::Workspace;

use crate::{Store, StoreError, processes};

/// The hygiene report of a workspace as of a day, under `rules`.
pub async fn report(
    store: &dyn Store,
    workspace: &Workspace,
    as_of: NaiveDate,
    rules: &HygieneRules,
) -> Result<Report, StoreError> {
    let process_set = processes::current(store, workspace).await?;
    let users = store.users(workspace.id).await?;
    let teams = store.teams(workspace.id).await?;
    let opportunities: Vec<_> = store.all_opportunities(workspace.id).try_collect().await?;
    let mut history = StageHistory::new(as_of, &workspace.fiscal_calendar);
    // Stage visits and pushes need no evidence events.
    let mut events = store.event_log_without_evidence(workspace.id);
    while let Some(event) = events.try_next().await? {
        history.observe(&event);
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
