//! Builds the analytics projection of a workspace from its stored event log and process
//! versions.

use futures_util::TryStreamExt;
use pipewise_analytics::Projection;
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
