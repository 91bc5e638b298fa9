//! `pipewise report`: the reports of `pipewise_analytics::reports` as a table, JSON or CSV.
//! JSON is the report as the API returns it; tables and CSV are drawn from the same values.

mod tables;

use anyhow::Context;
use chrono::Utc;
use pipewise_analytics::reports::{self, ReportRequest};
use pipewise_analytics::{CoverageMode, Dimension, FunnelBenchmarks, SizeBands};

use crate::cli::{CoverageArg, ReportArgs, ReportFormat};
use crate::output::write_json;

/// A refused report or forecast request, named by the flag of the parameter at fault.
pub fn refused(error: reports::ReportError) -> anyhow::Error {
    match error {
        reports::ReportError::Request { parameter, message } => {
            anyhow::anyhow!("--{}: {message}", parameter.replace('_', "-"))
        }
        other => other.into(),
    }
}

pub async fn run(args: ReportArgs) -> anyhow::Result<()> {
    let (store, workspace) = crate::process::open(&args.target).await?;
    let currency = workspace.corporate_currency;
    let bands = if args.size_bands.is_empty() {
        SizeBands::standard(currency)
    } else {
        SizeBands::from_major(&args.size_bands, currency)
            .map_err(|e| anyhow::anyhow!("--size-bands: {e}"))?
    };
    if let Some(twice) = args
        .by
        .iter()
        .enumerate()
        .find(|(i, d)| args.by[..*i].contains(d))
    {
        anyhow::bail!("--by: {} is named twice", twice.1.as_str());
    }
    let benchmarks = match &args.benchmarks {
        None => FunnelBenchmarks::shipped(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("--benchmarks: cannot read {}", path.display()))?;
            FunnelBenchmarks::parse(&path.display().to_string(), &text)?
        }
    };
    let now = Utc::now();
    let request = ReportRequest {
        name: args.name,
        period: args.period,
        as_of: args.as_of.unwrap_or_else(|| now.date_naive()),
        now,
        since: args.since,
        process: args.process,
        mode: match args.mode {
            CoverageArg::Enterprise => CoverageMode::Enterprise,
            CoverageArg::Smb => CoverageMode::Smb,
        },
        by: args.by,
        bands,
    };
    let projection = pipewise_store::analytics::projection(&*store, &workspace).await?;
    let settings = pipewise_store::analytics::report_settings(
        &*store,
        &workspace,
        request.by.contains(&Dimension::Region),
    )
    .await?;
    let inputs = settings.inputs(&projection, &workspace, &benchmarks);
    let report = reports::run(&request, &inputs).map_err(refused)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        ReportFormat::Json => write_json(&mut out, &report),
        ReportFormat::Csv => tables::of(&report, currency).write_csv(&mut out),
        ReportFormat::Table => tables::of(&report, currency).write_table(&mut out),
    }
}
