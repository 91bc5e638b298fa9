//! A workspace's process definitions in force, and changing them: a new set of files is
//! parsed and checked as a whole, checked against the deals that use it, and stored as the
//! next version only if all of that passes. Otherwise the running version stays in force.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use pipewise_core::ids::UserId;
use pipewise_core::org::Workspace;
use pipewise_core::process::{
    DefinitionErrors, ProcessFile, ProcessRevision, ProcessSet, ProcessVersion,
};

use crate::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ProcessChangeFailed {
    /// The files have errors; nothing was stored.
    #[error("{0}")]
    Invalid(DefinitionErrors),
    /// The new definitions would strand open deals; nothing was stored.
    #[error("{}", .0.join("\n"))]
    StrandsOpenDeals(Vec<String>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The outcome of [`apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Stored as a new version.
    NewVersion(ProcessRevision),
    /// The files define exactly what is in force; no version was recorded.
    Unchanged(ProcessVersion),
}

/// The process set in force in the workspace: its latest version.
pub async fn current(store: &dyn Store, workspace: &Workspace) -> Result<ProcessSet, StoreError> {
    let (version, files) = store.process_files(workspace.id, None).await?;
    load(version, files)
}

/// The process set of an earlier version, to read history made under it.
pub async fn at_version(
    store: &dyn Store,
    workspace: &Workspace,
    version: ProcessVersion,
) -> Result<ProcessSet, StoreError> {
    let (version, files) = store.process_files(workspace.id, Some(version)).await?;
    load(version, files)
}

fn load(version: ProcessVersion, files: Vec<ProcessFile>) -> Result<ProcessSet, StoreError> {
    // Stored sets were checked when applied; a failure here means the rows were damaged.
    ProcessSet::parse(version, files).map_err(|e| StoreError::Corrupt {
        table: "process_files",
        key: version.0.to_string(),
        detail: e.to_string(),
    })
}

/// Makes `files` the workspace's process definitions, as the next version, recording who
/// changed them and what changed. Refused, with nothing stored, when a file has errors or
/// when a process or stage that open deals are in would disappear.
pub async fn apply(
    store: &dyn Store,
    workspace: &Workspace,
    files: Vec<ProcessFile>,
    changed_by: UserId,
    at: DateTime<Utc>,
) -> Result<Applied, ProcessChangeFailed> {
    let running = current(store, workspace).await?;
    let next = ProcessVersion(running.version().0 + 1);
    let proposed = ProcessSet::parse(next, files).map_err(ProcessChangeFailed::Invalid)?;
    let changes = proposed.changes_since(&running);
    if changes.is_empty() {
        return Ok(Applied::Unchanged(running.version()));
    }
    // Open deals per process or stage that would disappear.
    let mut gone: BTreeMap<String, u64> = BTreeMap::new();
    for (process, stage, deals) in store.open_deals_by_stage(workspace.id).await? {
        let what = match proposed.get(&process) {
            None => format!("process `{process}`"),
            Some(p) if p.stage(&stage).is_none() => {
                format!("stage `{stage}` of process `{process}`")
            }
            Some(_) => continue,
        };
        *gone.entry(what).or_default() += deals;
    }
    let stranded: Vec<String> = gone
        .into_iter()
        .map(|(what, deals)| {
            format!(
                "{what} is removed but {deals} open deal{} in it; move or close them first",
                if deals == 1 { " is" } else { "s are" },
            )
        })
        .collect();
    if !stranded.is_empty() {
        return Err(ProcessChangeFailed::StrandsOpenDeals(stranded));
    }
    let revision = ProcessRevision {
        version: next,
        changed_by: Some(changed_by),
        changed_at: at,
        changes,
    };
    store
        .record_process_version(workspace.id, &revision, proposed.files())
        .await?;
    Ok(Applied::NewVersion(revision))
}
