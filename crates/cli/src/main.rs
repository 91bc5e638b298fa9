//! The `pipewise` command: parse flags, then run one subcommand.

mod cli;
mod export;
mod forecast;
mod hygiene;
mod import;
mod leads;
mod load;
mod output;
mod process;
mod rates;
mod report;
mod serve;
mod table;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command};

/// Log filter when `RUST_LOG` is not set.
const DEFAULT_LOG: &str = "info,sqlx=error";

/// mimalloc rather than the system's allocator: with glibc's, a fifth of a million-deal load's
/// processor time went to `malloc` and `free`, on the generator's, the writer's and the
/// database's threads alike; with mimalloc the load took 22% less time (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG)),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // A reader such as `head` that stops early is not an error.
        Err(error) if closed_pipe(&error) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Whether writing the output failed because its reader went away, however the writer
/// (plain, CSV or JSON) wrapped the error.
fn closed_pipe(error: &anyhow::Error) -> bool {
    let broken = |kind: Option<std::io::ErrorKind>| kind == Some(std::io::ErrorKind::BrokenPipe);
    error.chain().any(|cause| {
        broken(cause.downcast_ref::<std::io::Error>().map(std::io::Error::kind))
            || broken(cause.downcast_ref::<serde_json::Error>().and_then(serde_json::Error::io_error_kind))
            || cause.downcast_ref::<csv::Error>().is_some_and(|e| {
                matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
            })
    })
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let store = open(&args.database_url).await?;
            let what = store.describe();
            serve::serve(store, args.bind, &what, args.secure_cookies).await
        }
        Command::Demo(args) => {
            let store = open(&args.database_url).await?;
            let slug = "demo".parse().context("demo workspace slug")?;
            let loaded = load::load(store.clone(), slug, &args.data, true).await?;
            println!(
                "Generated workspace `{}`: {} opportunities, {} events in {:.1}s",
                loaded.slug,
                loaded.opportunities,
                loaded.events,
                loaded.elapsed.as_secs_f64()
            );
            let workspace = store.workspace(&loaded.slug).await?;
            serve::demo_passwords(&*store, &workspace).await?;
            serve::serve(store, args.bind, "the demo", false).await
        }
        Command::Generate(args) => {
            let store = open(&args.target.database_url).await?;
            let loaded = load::load(
                store.clone(),
                args.target.workspace,
                &args.data,
                args.replace,
            )
            .await?;
            println!(
                "Generated workspace `{}` in the {}: {} opportunities, {} events in {:.1}s",
                loaded.slug,
                store.describe(),
                loaded.opportunities,
                loaded.events,
                loaded.elapsed.as_secs_f64()
            );
            Ok(())
        }
        Command::Process(command) => process::run(command).await,
        Command::Hygiene(args) => hygiene::run(args).await,
        Command::Report(args) => report::run(args).await,
        Command::Forecast(args) => forecast::run(args).await,
        Command::Rates(command) => rates::run(command).await,
        Command::Leads(command) => leads::run(command).await,
        Command::Import(args) => import::run(args).await,
        Command::Export(args) => export::run(args).await,
    }
}

async fn open(url: &str) -> anyhow::Result<std::sync::Arc<dyn pipewise_store::Store>> {
    pipewise_store::connect(url).await.with_context(|| {
        format!(
            "cannot open the database {}",
            pipewise_store::redact_password(url)
        )
    })
}
