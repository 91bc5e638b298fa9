//! An import from start to end against a store: what earlier imports brought in, the export
//! read against it, and the new records written batch by batch.

use std::path::Path;

use chrono::Utc;
use pipewise_core::external::ExternalSystem;
use pipewise_core::org::Workspace;
use pipewise_core::process::{Process, ProcessSet};
use pipewise_store::{Batch, Store, StoreError};

use crate::mapping::Mapping;
use crate::values::DateStyle;
use crate::{Context, ImportError, Known, Prepared, generic, hubspot, salesforce};

/// What wrote the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Salesforce,
    Hubspot,
    /// CSV files in pipewise's layout, or renamed to it by the mapping file.
    Csv,
}

impl Source {
    pub fn system(self) -> ExternalSystem {
        match self {
            Source::Salesforce => ExternalSystem::Salesforce,
            Source::Hubspot => ExternalSystem::Hubspot,
            Source::Csv => ExternalSystem::Csv,
        }
    }

    /// A draft mapping file for the stages and statuses the export in `folder` uses.
    pub fn suggest(self, folder: &Path, process: &Process) -> Result<String, ImportError> {
        match self {
            Source::Salesforce => salesforce::suggest(folder, process),
            Source::Hubspot => hubspot::suggest(folder, process),
            Source::Csv => generic::suggest(folder, process),
        }
    }
}

/// One import: which export, read how.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub source: Source,
    pub folder: &'a Path,
    pub mapping: &'a Mapping,
    pub dates: DateStyle,
}

/// Reads the export against what `workspace` already holds from the same system; writes
/// nothing.
pub async fn prepare(
    store: &dyn Store,
    workspace: &Workspace,
    processes: &ProcessSet,
    request: Request<'_>,
) -> Result<Prepared, ImportError> {
    let known = Known::new(
        store
            .external_keys(workspace.id, request.source.system())
            .await?,
        &store.users(workspace.id).await?,
    );
    read(workspace, processes, request, &known)
}

/// Reads the export for `workspace`, which holds what `known` says from earlier imports.
pub fn read(
    workspace: &Workspace,
    processes: &ProcessSet,
    request: Request<'_>,
    known: &Known,
) -> Result<Prepared, ImportError> {
    let process = processes
        .get(&request.mapping.process)
        .ok_or_else(|| ImportError::NoProcess(request.mapping.process.to_string()))?;
    let context = Context {
        workspace: workspace.id,
        currency: workspace.corporate_currency,
        process,
        processes,
        version: processes.version(),
        mapping: request.mapping,
        dates: request.dates,
        known,
        now: Utc::now(),
    };
    match request.source {
        Source::Salesforce => salesforce::read(request.folder, &context),
        Source::Hubspot => hubspot::read(request.folder, &context),
        Source::Csv => generic::read(request.folder, &context),
    }
}

/// Records written per transaction: large enough to amortise the commit, small enough that
/// an interrupted import loses little work.
const BATCH_RECORDS: usize = 5_000;

/// Writes `prepared` in batches, calling `progress` with the records written so far and in
/// all. Each batch is one transaction holding its records' source ids, so after a failure
/// what was written stays, and running the same import again adds the rest.
pub async fn write(
    store: &dyn Store,
    workspace: &Workspace,
    source: Source,
    prepared: Prepared,
    mut progress: impl FnMut(u64, u64),
) -> Result<u64, StoreError> {
    let total = prepared.new_records();
    let deals = prepared.opportunities.len() as u64;
    let batches = prepared.into_batches(source.system(), BATCH_RECORDS);
    pipewise_store::bulk::load(
        store,
        deals,
        async {
            let mut written = 0;
            for batch in batches {
                store.write_batch(workspace.id, &batch).await?;
                written += records(&batch);
                progress(written, total);
            }
            Ok(total)
        },
        || {},
    )
    .await
}

fn records(batch: &Batch) -> u64 {
    [
        batch.users.len(),
        batch.accounts.len(),
        batch.contacts.len(),
        batch.leads.len(),
        batch.opportunities.len(),
        batch.activities.len(),
    ]
    .iter()
    .sum::<usize>() as u64
}
