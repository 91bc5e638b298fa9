//! `pipewise-bench`: the pipeline-analytics report suite of `bench/analytics.sh`.
//!
//! - `export` writes the tables a warehouse would hold (opportunity history, opportunities,
//!   stages, users, targets) as CSV, derived by replaying each deal's events with
//!   `pipewise_core::opportunity::apply`, for DuckDB to compute the same suite from.
//! - `suite` builds the in-memory projection from the store, as the server does, times the
//!   application of held-back events, runs the suite several times and writes its numbers as
//!   canonical JSON and its timings as a second JSON file.
//! - `forecast` times one period's forecast (all four methods) and a backtest of eight
//!   quarters on the projection.
//! - `model` scores the forecast's deal model out of sample against fixed stage
//!   probabilities and a naive-Bayes frequency scorer, with a time-based split.

mod export;
mod suite;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use pipewise_analytics::reports::end_of;
use pipewise_core::org::Workspace;
use pipewise_core::process::ProcessSet;
use pipewise_core::text::Slug;
use pipewise_store::Store;

#[derive(Parser)]
#[command(
    name = "pipewise-bench",
    about = "Pipeline-analytics suite: pipewise vs DuckDB"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Source {
    /// The database holding the workspace: sqlite://FILE or postgres://…
    #[arg(long)]
    database_url: String,
    #[arg(long, default_value = "demo")]
    workspace: String,
}

#[derive(Subcommand)]
enum Command {
    /// Writes the warehouse tables as CSV files into a directory.
    Export {
        #[command(flatten)]
        source: Source,
        /// The directory to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// The day at whose end the suite is taken (recorded in meta.json).
        #[arg(long, default_value = "2026-11-23")]
        as_of: NaiveDate,
    },
    /// Builds the projection and runs the suite.
    Suite {
        #[command(flatten)]
        source: Source,
        /// Where to write the suite's numbers (canonical JSON).
        #[arg(long)]
        out: PathBuf,
        /// Where to write the timings (JSON).
        #[arg(long)]
        timings: Option<PathBuf>,
        #[arg(long, default_value = "2026-11-23")]
        as_of: NaiveDate,
        /// How many times to run the suite.
        #[arg(long, default_value_t = 5)]
        runs: usize,
        /// How many real events to hold back from the build and apply afterwards, timed.
        #[arg(long, default_value_t = 10_000)]
        apply_events: usize,
    },
    /// Times the forecast of the quarter holding --as-of and a backtest of eight quarters.
    Forecast {
        #[command(flatten)]
        source: Source,
        #[arg(long, default_value = "2026-11-23")]
        as_of: NaiveDate,
        /// How many times to run the forecast.
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Scores the deal model and its peers on deals after a cutoff.
    Model {
        #[command(flatten)]
        source: Source,
        /// Scorers learn from what was known at the end of this day.
        #[arg(long, default_value = "2026-05-23")]
        cutoff: NaiveDate,
        /// They are scored on every week from the cutoff to the end of this day.
        #[arg(long, default_value = "2026-11-23")]
        as_of: NaiveDate,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Export { source, out, as_of } => {
            let (store, workspace) = open(&source).await?;
            export::run(&*store, &workspace, &out, as_of).await
        }
        Command::Suite {
            source,
            out,
            timings,
            as_of,
            runs,
            apply_events,
        } => {
            let (store, workspace) = open(&source).await?;
            suite::run(
                &*store,
                &workspace,
                &suite::Options {
                    out,
                    timings,
                    as_of,
                    runs: runs.max(1),
                    apply_events,
                },
            )
            .await
        }
        Command::Forecast {
            source,
            as_of,
            runs,
        } => {
            let (store, workspace) = open(&source).await?;
            let projection = timed_projection(&*store, &workspace).await?;
            let settings =
                pipewise_store::analytics::report_settings(&*store, &workspace, false).await?;
            let benchmarks = pipewise_analytics::FunnelBenchmarks::shipped();
            let inputs = settings.inputs(&projection, &workspace, &benchmarks);
            let now = end_of(as_of);
            let request = pipewise_analytics::forecast::ForecastRequest {
                period: None,
                as_of,
                now,
            };
            let mut times = Vec::new();
            for _ in 0..runs.max(1) {
                let started = std::time::Instant::now();
                let report = pipewise_analytics::forecast::run(&request, &inputs, &[])?;
                times.push(started.elapsed().as_secs_f64());
                std::hint::black_box(report);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "{} deals: forecast of one quarter, four methods: best {:.3} s, median {:.3} s ({} runs)",
                projection.len(),
                times[0],
                times[times.len() / 2],
                times.len()
            );
            let started = std::time::Instant::now();
            let backtest = pipewise_analytics::forecast::backtest(
                &pipewise_analytics::forecast::BacktestRequest {
                    periods: 8,
                    as_of,
                    now,
                },
                &inputs,
                &[],
            )?;
            let weeks: usize = backtest.periods.iter().map(|p| p.weeks.len()).sum();
            println!(
                "backtest: {} quarters × {weeks} weeks in all × 4 methods: {:.2} s",
                backtest.periods.len(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Model {
            source,
            cutoff,
            as_of,
        } => {
            let (store, workspace) = open(&source).await?;
            let projection = timed_projection(&*store, &workspace).await?;
            let settings =
                pipewise_store::analytics::report_settings(&*store, &workspace, false).await?;
            let evaluation = pipewise_analytics::forecast::evaluate(
                &projection,
                &settings.processes,
                end_of(cutoff),
                end_of(as_of),
                &settings.rates,
            )?;
            println!(
                "trained on {} deal-weeks to {cutoff}; scored on {} deal-weeks from then to {as_of}",
                evaluation.training_rows, evaluation.test_rows
            );
            println!("{:<28} {:>8} {:>9}", "scorer", "Brier", "log loss");
            for s in &evaluation.scores {
                println!("{:<28} {:>8.4} {:>9.4}", s.scorer, s.brier, s.log_loss);
            }
            Ok(())
        }
    }
}

/// The projection as the server builds it, with the time the build took.
async fn timed_projection(
    store: &dyn Store,
    workspace: &Workspace,
) -> anyhow::Result<pipewise_analytics::Projection> {
    let started = std::time::Instant::now();
    let projection = pipewise_store::analytics::projection(store, workspace).await?;
    println!(
        "projection of {} deals built from the log and activities in {:.1} s",
        projection.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(projection)
}

async fn open(source: &Source) -> anyhow::Result<(Arc<dyn Store>, Workspace)> {
    let store = pipewise_store::connect(&source.database_url)
        .await
        .with_context(|| {
            format!(
                "--database-url: cannot open {}",
                pipewise_store::redact_password(&source.database_url)
            )
        })?;
    let slug = Slug::parse(&source.workspace).map_err(|e| anyhow::anyhow!("--workspace: {e}"))?;
    let workspace = store
        .workspace(&slug)
        .await
        .with_context(|| format!("--workspace: no workspace `{}`", source.workspace))?;
    Ok((store, workspace))
}

/// Every version of the workspace's process definitions, oldest first.
async fn process_versions(
    store: &dyn Store,
    workspace: &Workspace,
) -> anyhow::Result<Vec<ProcessSet>> {
    let mut versions = Vec::new();
    for revision in store
        .process_history(workspace.id)
        .await
        .context("reading the process history")?
    {
        versions.push(
            pipewise_store::processes::at_version(store, workspace, revision.version)
                .await
                .with_context(|| format!("reading process version {}", revision.version.0))?,
        );
    }
    Ok(versions)
}

/// Peak and current resident memory of this process, in KiB, from /proc/self/status.
fn memory_kib() -> (Option<u64>, Option<u64>) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return (None, None);
    };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
    };
    (field("VmHWM:"), field("VmRSS:"))
}
