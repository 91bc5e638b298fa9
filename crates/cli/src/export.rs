//! `pipewise export`: a workspace written into a folder.

use std::time::Instant;

use anyhow::Context;
use pipewise_export::Format;

use crate::cli::{ExportArgs, ExportFormat};

pub async fn run(args: ExportArgs) -> anyhow::Result<()> {
    let store = crate::open(&args.target.database_url).await?;
    let workspace = store.workspace(&args.target.workspace).await?;
    std::fs::create_dir_all(&args.path)
        .with_context(|| format!("cannot create the folder {}", args.path.display()))?;
    let started = Instant::now();
    let format = match args.format {
        ExportFormat::Csv => Format::Csv,
        ExportFormat::Json => Format::Json,
        ExportFormat::Parquet => Format::Parquet,
    };
    let written = pipewise_export::export(&*store, &workspace, &args.path, format).await?;
    for file in &written {
        println!("{:>10} records  {}", file.records, file.file.display());
    }
    println!(
        "Exported `{}` in {:.1}s.",
        workspace.slug,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
