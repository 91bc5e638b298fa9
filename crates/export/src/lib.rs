//! A workspace written out for other tools: every record as CSV or JSON Lines, and the
//! deal event log as Parquet for DuckDB, Spark or Trino.
//!
//! The CSV layout is the one `pipewise import csv` reads, so an export imported into an
//! empty workspace gives back the same deals with the same histories.

mod csv_rows;
mod parquet_log;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use futures_util::TryStreamExt;
use futures_util::stream::BoxStream;
use pipewise_core::org::Workspace;
use pipewise_store::{Store, StoreError};
use serde::Serialize;

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One CSV file per kind of record (teams, users, accounts, contacts, leads,
    /// opportunities, activities, targets) and `events.csv`.
    Csv,
    /// One JSON Lines file per kind of record and `events.jsonl`, each line a record as the
    /// API returns it.
    Json,
    /// `events.parquet`: the deal event log.
    Parquet,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing {}: {source}", .file.display())]
    Write {
        file: PathBuf,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A file written and how many records it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub file: PathBuf,
    pub records: u64,
}

/// Writes `workspace` into `folder` (which must exist) in `format`.
pub async fn export(
    store: &dyn Store,
    workspace: &Workspace,
    folder: &Path,
    format: Format,
) -> Result<Vec<Written>, ExportError> {
    let id = workspace.id;
    let mut written = Vec::new();
    match format {
        Format::Parquet => {
            let file = folder.join("events.parquet");
            let records = parquet_log::write(store.event_log(id), &file).await?;
            written.push(Written { file, records });
        }
        Format::Csv => {
            let to = |name: &str| folder.join(format!("{name}.csv"));
            written.push(csv_file(to("teams"), stream(store.teams(id).await?), |t| t).await?);
            written.push(csv_file(to("users"), stream(store.users(id).await?), |u| u).await?);
            written.push(csv_file(to("accounts"), store.all_accounts(id), |a| a).await?);
            written.push(csv_file(to("contacts"), store.all_contacts(id), |c| c).await?);
            written.push(csv_file(to("leads"), store.all_leads(id), csv_rows::lead).await?);
            written.push(
                csv_file(
                    to("opportunities"),
                    store.all_opportunities(id),
                    csv_rows::opportunity,
                )
                .await?,
            );
            written.push(csv_file(to("activities"), store.all_activities(id), |a| a).await?);
            written.push(
                csv_file(
                    to("targets"),
                    stream(store.targets(id).await?),
                    csv_rows::target,
                )
                .await?,
            );
            written.push(csv_file(to("events"), store.event_log(id), csv_rows::event).await?);
            let processes = pipewise_store::processes::current(store, workspace).await?;
            let mapping = folder.join("mapping.toml");
            let text = format!(
                "# Written by `pipewise export`; `pipewise import csv` reads it from this folder.\n\
                 # The deals' event log (events.csv) names pipewise's own stages, so none need\n\
                 # mapping; the process is the one deals without a log would follow.\n\
                 process = \"{}\"\n",
                processes.default_process().key
            );
            std::fs::write(&mapping, text).map_err(|e| failed(&mapping, e))?;
        }
        Format::Json => {
            let to = |name: &str| folder.join(format!("{name}.jsonl"));
            written.push(json_file(to("teams"), stream(store.teams(id).await?)).await?);
            written.push(json_file(to("users"), stream(store.users(id).await?)).await?);
            written.push(json_file(to("accounts"), store.all_accounts(id)).await?);
            written.push(json_file(to("contacts"), store.all_contacts(id)).await?);
            written.push(json_file(to("leads"), store.all_leads(id)).await?);
            written.push(json_file(to("opportunities"), store.all_opportunities(id)).await?);
            written.push(json_file(to("activities"), store.all_activities(id)).await?);
            written.push(json_file(to("targets"), stream(store.targets(id).await?)).await?);
            written.push(json_file(to("events"), store.event_log(id)).await?);
        }
    }
    Ok(written)
}

/// Records already read, as a stream like the store's.
fn stream<T: Send + 'static>(records: Vec<T>) -> BoxStream<'static, Result<T, StoreError>> {
    Box::pin(futures_util::stream::iter(records.into_iter().map(Ok)))
}

fn failed(file: &Path, source: impl std::error::Error + Send + Sync + 'static) -> ExportError {
    ExportError::Write {
        file: file.to_owned(),
        source: Box::new(source),
    }
}

fn create(file: &Path) -> Result<BufWriter<File>, ExportError> {
    File::create(file)
        .map(BufWriter::new)
        .map_err(|e| failed(file, e))
}

/// Writes each record of `records`, as `row` makes it, as a CSV row under a header.
async fn csv_file<T, R: Serialize>(
    file: PathBuf,
    mut records: BoxStream<'_, Result<T, StoreError>>,
    row: impl Fn(T) -> R,
) -> Result<Written, ExportError> {
    let mut writer = csv::Writer::from_writer(create(&file)?);
    let mut count = 0;
    while let Some(record) = records.try_next().await? {
        writer
            .serialize(row(record))
            .map_err(|e| failed(&file, e))?;
        count += 1;
    }
    writer.flush().map_err(|e| failed(&file, e))?;
    Ok(Written {
        file,
        records: count,
    })
}

/// Writes each record of `records` as one line of JSON.
async fn json_file<T: Serialize>(
    file: PathBuf,
    mut records: BoxStream<'_, Result<T, StoreError>>,
) -> Result<Written, ExportError> {
    let mut out = create(&file)?;
    let mut count = 0;
    while let Some(record) = records.try_next().await? {
        serde_json::to_writer(&mut out, &record).map_err(|e| failed(&file, e))?;
        out.write_all(b"\n").map_err(|e| failed(&file, e))?;
        count += 1;
    }
    out.flush().map_err(|e| failed(&file, e))?;
    Ok(Written {
        file,
        records: count,
    })
}
