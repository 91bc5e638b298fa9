//! An import from start to end against a store: what earlier imports brought in, the export
//! read against it, and the new records written batch by batch.

use std::path::Path;

use chrono::Utc;
use pipewise_core::external::ExternalSystem;
use pipewise_core::org::Workspace;
use pipewise_core::process::{Process, ProcessSet};
use pipewise_store::{Batch, Store, StoreError};

use crate::handover::{HandOver, Message};
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
    let known = known(store, workspace, request.source).await?;
    read(workspace, processes, request, &known)
}

/// Reads the export for `workspace`, which holds what `known` says from earlier imports.
pub fn read(
    workspace: &Workspace,
    processes: &ProcessSet,
    request: Request<'_>,
    known: &Known,
) -> Result<Prepared, ImportError> {
    read_into(workspace, processes, request, known, &HandOver::keep())
}

/// What an import read and wrote.
#[derive(Debug)]
pub struct Imported {
    /// The counts, issues and notices of the reading; the records are in the store.
    pub read: Prepared,
    /// New records written.
    pub written: u64,
}

/// Batches read ahead of the writer: enough to keep it busy, few enough to bound memory.
const BATCHES_AHEAD: usize = 4;

/// Imports the export into `workspace`, calling `progress` with the records written so far.
/// The files are read on a thread of their own, which hands finished records to the
/// writer, so reading and writing go on at once. Each batch is one transaction holding its
/// records' source ids, so after a failure what was written stays, and running the same
/// import again adds the rest.
pub async fn import(
    store: &dyn Store,
    workspace: &Workspace,
    processes: &ProcessSet,
    request: Request<'_>,
    mut progress: impl FnMut(u64),
) -> Result<Imported, ImportError> {
    let known = known(store, workspace, request.source).await?;
    let (to_writer, mut batches) = tokio::sync::mpsc::channel(BATCHES_AHEAD);
    let reading = {
        let (workspace, processes) = (workspace.clone(), processes.clone());
        let (mapping, folder) = (request.mapping.clone(), request.folder.to_owned());
        let (source, dates) = (request.source, request.dates);
        tokio::task::spawn_blocking(move || {
            let hand_over = HandOver::to(to_writer, source.system());
            let request = Request {
                source,
                folder: &folder,
                mapping: &mapping,
                dates,
            };
            let mut read = read_into(&workspace, &processes, request, &known, &hand_over)?;
            // What the reader did not hand over as it went goes now.
            hand_over.send(&mut read);
            Ok::<_, ImportError>(read)
        })
    };
    let writing = async move {
        let Some(Message::Start { deals }) = batches.recv().await else {
            return Ok(0);
        };
        pipewise_store::bulk::load(
            store,
            deals,
            async {
                let mut written = 0;
                while let Some(message) = batches.recv().await {
                    if let Message::Batch(batch) = message {
                        store.write_batch(workspace.id, &batch).await?;
                        written += records(&batch);
                        progress(written);
                    }
                }
                Ok::<_, StoreError>(written)
            },
            || {},
        )
        .await
    };
    let (read, written) = tokio::join!(reading, writing);
    let written = written.map_err(ImportError::Write)?;
    match read {
        Ok(Ok(read)) => Ok(Imported { read, written }),
        Ok(Err(error)) if written > 0 => Err(ImportError::Partly {
            written,
            error: Box::new(error),
        }),
        Ok(Err(error)) => Err(error),
        Err(stopped) => std::panic::resume_unwind(stopped.into_panic()),
    }
}

async fn known(
    store: &dyn Store,
    workspace: &Workspace,
    source: Source,
) -> Result<Known, StoreError> {
    Ok(Known::new(
        store.external_keys(workspace.id, source.system()).await?,
        &store.users(workspace.id).await?,
    ))
}

fn read_into(
    workspace: &Workspace,
    processes: &ProcessSet,
    request: Request<'_>,
    known: &Known,
    hand_over: &HandOver,
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
        hand_over,
    };
    match request.source {
        Source::Salesforce => salesforce::read(request.folder, &context),
        Source::Hubspot => hubspot::read(request.folder, &context),
        Source::Csv => generic::read(request.folder, &context),
    }
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
