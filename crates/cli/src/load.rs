//! Generating a demo workspace into a store: the generator runs on its own thread while the
//! store writes the previous batch, each batch in one transaction.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use pipewise_core::text::Slug;
use pipewise_demo::{Chunk, DemoConfig, DemoError, Generator};
use pipewise_store::{Store, StoreError};
use tokio::sync::mpsc;

use crate::cli::DataArgs;

/// Batches generated ahead of the one being written.
const LOOKAHEAD: usize = 2;

pub struct Loaded {
    pub slug: Slug,
    pub opportunities: u64,
    pub events: u64,
    pub elapsed: Duration,
}

/// Generates the workspace `slug` into `store`. An existing workspace of that name is
/// deleted first when `replace` is set, and is otherwise an error.
pub async fn load(
    store: Arc<dyn Store>,
    slug: Slug,
    data: &DataArgs,
    replace: bool,
) -> anyhow::Result<Loaded> {
    match store.workspace(&slug).await {
        Ok(existing) if replace => store
            .delete_workspace(existing.id)
            .await
            .with_context(|| format!("deleting the existing workspace `{slug}`"))?,
        Ok(_) => bail!(
            "workspace `{slug}` already exists in the {}; pass --replace to generate it again",
            store.describe()
        ),
        Err(StoreError::NotFound { .. }) => {}
        Err(error) => return Err(error.into()),
    }
    let started = Instant::now();
    let config = DemoConfig {
        seed: data.seed,
        opportunities: data.opportunities,
        as_of: data
            .as_of
            .unwrap_or_else(|| chrono::Utc::now().date_naive()),
        slug: slug.clone(),
    };
    let generator = Generator::new(config)?;
    let workspace = generator.workspace().id;
    store.create_workspace(generator.workspace()).await?;

    let progress = ProgressBar::new(data.opportunities as u64).with_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} opportunities, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    progress.set_message(format!("Generating `{slug}`"));

    let (sender, mut receiver) = mpsc::channel::<Result<Chunk, DemoError>>(LOOKAHEAD);
    let producer = tokio::task::spawn_blocking(move || {
        for chunk in generator {
            if sender.blocking_send(chunk).is_err() {
                break; // The writer stopped on an error.
            }
        }
    });
    let mut loaded = Loaded {
        slug,
        opportunities: 0,
        events: 0,
        elapsed: Duration::ZERO,
    };
    pipewise_store::bulk::load(
        &*store,
        data.opportunities as u64,
        async {
            while let Some(chunk) = receiver.recv().await {
                let batch = chunk?.batch;
                store.write_batch(workspace, &batch).await?;
                let events: usize = batch.opportunities.iter().map(|r| r.events.len()).sum();
                loaded.opportunities += batch.opportunities.len() as u64;
                loaded.events += events as u64;
                progress.inc(batch.opportunities.len() as u64);
                tracing::debug!(opportunities = loaded.opportunities, "batch committed");
            }
            anyhow::Ok(())
        },
        || progress.set_message("Building indexes"),
    )
    .await?;
    producer.await?;
    progress.finish_and_clear();
    loaded.elapsed = started.elapsed();
    Ok(loaded)
}
