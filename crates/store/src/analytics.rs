//! Builds the analytics projection of a workspace from its stored event log and process
//! versions.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use pipewise_analytics::{Projection, SliceContext};
use pipewise_core::org::Workspace;

use crate::{Store, StoreError, processes};

/// The projection of every deal in the workspace, read in one pass over its event log
/// (evidence events aside: no pipeline number reads them).
pub async fn projection(
    store: &dyn Store,
    workspace: &Workspace,
) -> Result<Projection, StoreError> {
    let mut versions = Vec::new();
    for revision in store.process_history(workspace.id).await? {
        versions.push(processes::at_version(store, workspace, revision.version).await?);
    }
    let mut projection = Projection::new(&versions);
    let mut events = store.event_log_without_evidence(workspace.id);
    while let Some(event) = events.try_next().await? {
        projection.apply(&event).map_err(|e| StoreError::Corrupt {
            table: "opportunity_events",
            key: format!("{}#{}", e.opportunity_id, e.seq),
            detail: e.problem,
        })?;
    }
    Ok(projection)
}

/// Names of people, their teams and accounts' regions, for breaking reports down.
pub async fn slice_context(
    store: &dyn Store,
    workspace: &Workspace,
) -> Result<SliceContext, StoreError> {
    let users = store.users(workspace.id).await?;
    let teams: HashMap<_, _> = store
        .teams(workspace.id)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name.to_string()))
        .collect();
    let mut context = SliceContext::default();
    for user in users {
        context.user_names.insert(user.id, user.name.to_string());
        if let Some(team) = user.team_id.and_then(|t| teams.get(&t)) {
            context.teams.insert(user.id, team.clone());
        }
    }
    let mut accounts = store.all_accounts(workspace.id);
    while let Some(account) = accounts.try_next().await? {
        if let Some(region) = account.region {
            context.regions.insert(account.id, region.to_string());
        }
    }
    Ok(context)
}
