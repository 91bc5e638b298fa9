//! Command-line flags. Every flag with a default can also be set from the environment.

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};
use pipewise_analytics::Dimension;
use pipewise_analytics::reports::ReportName;
use pipewise_core::calendar::{Period, parse_date};
use pipewise_core::exchange::Rate;
use pipewise_core::ids::{OpportunityId, SnapshotId};
use pipewise_core::money::Currency;
use pipewise_core::process::ProcessKey;
use pipewise_core::text::{Email, Note, Slug};

#[derive(Debug, Parser)]
#[command(
    name = "pipewise",
    version,
    about = "Self-hosted revenue engine: pipeline, forecast and sales process."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app and HTTP API from a database (an embedded SQLite file by default).
    Serve(ServeArgs),
    /// Create a realistic demo workspace in a local database and serve it.
    Demo(DemoArgs),
    /// Generate a demo workspace of any size into a database, without serving it.
    Generate(GenerateArgs),
    /// Check, apply and inspect sales process definitions (TOML files).
    #[command(subcommand)]
    Process(ProcessCommand),
    /// Report hygiene findings and scores per deal, owner and team.
    Hygiene(HygieneArgs),
    /// Pipeline reports computed from the event log.
    Report(ReportArgs),
    /// Forecast a period by four methods side by side, with quota attainment and each open
    /// deal's probabilities.
    Forecast(ForecastArgs),
    /// Exchange rates into the corporate currency, which reports convert amounts with.
    #[command(subcommand)]
    Rates(RatesCommand),
    /// The lead funnel: Lead → MQL → SQL → SAL conversion, speed-to-lead and its breaches.
    #[command(subcommand)]
    Leads(LeadsCommand),
    /// Import users, accounts, contacts, leads, activities and deals with their stage history
    /// from a CRM export. Importing the same files again adds only what is new.
    Import(ImportArgs),
    /// Write a workspace's records and deal event log out as CSV or JSON Lines, or the event
    /// log as Parquet, for spreadsheets and other engines (DuckDB, Spark, Trino).
    Export(ExportArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One CSV per kind of record and events.csv; `pipewise import csv` reads it back.
    Csv,
    /// One JSON Lines file per kind of record and events.jsonl, as the API shows them.
    Json,
    /// events.parquet: the deal event log.
    Parquet,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub target: WorkspaceArgs,
    /// The folder to write into; created if missing.
    pub path: PathBuf,
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportSource {
    /// A Salesforce data export: a folder of CSVs named by object (Opportunity.csv…).
    Salesforce,
    /// HubSpot exports with internal property names: owners.csv, companies.csv,
    /// contacts.csv and deals.csv (stage history from hs_date_entered_<stage>).
    Hubspot,
    /// CSV files in pipewise's layout (as `pipewise export` writes them), or renamed to it
    /// in the mapping file: users, accounts, contacts, opportunities, events or history.
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DateStyleArg {
    /// 2025-03-04, 2025-03-04T14:05:00Z.
    Iso,
    /// 3/4/2025 is March 4.
    Us,
    /// 4/3/2025 or 4.3.2025 is March 4.
    Eu,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What wrote the export.
    #[arg(value_enum)]
    pub source: ImportSource,
    /// The export's folder.
    pub path: PathBuf,
    #[command(flatten)]
    pub target: WorkspaceArgs,
    /// The mapping file: what the source's stages, lead statuses and loss reasons mean here
    /// [default: mapping.toml in the export's folder].
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Print a draft mapping file for the stages and statuses the export uses, and stop.
    #[arg(long, conflicts_with = "mapping")]
    pub suggest: bool,
    /// The process the draft maps stages to [default: the workspace's first process].
    #[arg(long, requires = "suggest", value_parser = ProcessKey::parse)]
    pub process: Option<ProcessKey>,
    /// Read and check everything, report what would be imported, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// How the export writes dates; never guessed, since 3/4/2025 differs by country.
    #[arg(long, value_enum, default_value_t = DateStyleArg::Iso)]
    pub dates: DateStyleArg,
    /// Where to write the rows not imported and the values inferred, as CSV (file, line,
    /// column, value, reason).
    #[arg(long, default_value = "import-issues.csv")]
    pub issues: PathBuf,
    /// E-mail of the admin importing; a new workspace makes them its first admin.
    #[arg(long, required_unless_present = "suggest")]
    pub by: Option<String>,
    /// Corporate currency of a workspace the import creates, and of amounts without one.
    #[arg(long, default_value = "USD", value_parser = str::parse::<Currency>)]
    pub currency: Currency,
    /// Month (1-12) the fiscal year of a workspace the import creates starts in.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=12))]
    pub fiscal_year_start: u32,
}

#[derive(Debug, Subcommand)]
pub enum LeadsCommand {
    /// Lead → MQL → SQL → SAL conversion of the leads created in a period, speed-to-lead
    /// against its windows, and conversion by source and by fit × intent band.
    Funnel {
        #[command(flatten)]
        target: WorkspaceArgs,
        /// Fiscal period, such as 2026-Q3, FY2026 or 2026-07 [default: the current quarter].
        #[arg(long, value_parser = str::parse::<Period>)]
        period: Option<Period>,
        /// table: the funnel, by source and by band, then speed-to-lead; json: everything,
        /// as the API returns it; csv: one row per group.
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
    },
    /// Check and apply lead settings (a TOML file laid over the shipped leads.toml): scoring,
    /// signals, thresholds, response windows, business hours and assignment rules.
    #[command(subcommand)]
    Settings(LeadSettingsCommand),
}

#[derive(Debug, Subcommand)]
pub enum LeadSettingsCommand {
    /// Check a settings file and make it the workspace's lead settings; every problem is
    /// reported with its line and key, and nothing changes unless the whole file is valid.
    Apply {
        #[command(flatten)]
        target: WorkspaceArgs,
        /// E-mail of the admin making the change; recorded with the version.
        #[arg(long)]
        by: String,
        /// The settings file.
        file: PathBuf,
    },
    /// Print the settings file in force (or say the shipped settings are).
    Show {
        #[command(flatten)]
        target: WorkspaceArgs,
    },
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ForecastArgs {
    #[command(subcommand)]
    pub command: Option<ForecastCommand>,
    #[command(flatten)]
    pub show: ForecastShow,
}

#[derive(Debug, Args)]
pub struct ForecastShow {
    #[command(flatten)]
    pub target: WorkspaceArgs,
    /// Fiscal period, such as 2026-Q3, FY2026 or 2026-07 [default: the quarter containing
    /// --as-of].
    #[arg(long, value_parser = str::parse::<Period>)]
    pub period: Option<Period>,
    /// The day at whose end the forecast is taken; rates are learnt from what was known then
    /// [default: today].
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Open deals listed in the table format, largest first.
    #[arg(long, default_value_t = 15)]
    pub deals: usize,
    /// table: methods, their lines, the roll-up by person and the largest deals; json:
    /// everything, as the API returns it; csv: one row per line of each method.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

#[derive(Debug, Subcommand)]
pub enum ForecastCommand {
    /// Submit a rep's call for a period: which of their open deals due in it are in the
    /// number. Deals not named follow their category (Commit in, the rest out); a deal in
    /// or out against its category needs a --note.
    Call {
        #[command(flatten)]
        target: WorkspaceArgs,
        #[arg(long, value_parser = str::parse::<Period>)]
        period: Period,
        /// The rep whose call it is, by e-mail.
        #[arg(long, value_parser = Email::parse)]
        rep: Email,
        /// Who submits it, by e-mail: the rep or a manager above them [default: --rep].
        #[arg(long, value_parser = Email::parse)]
        by: Option<Email>,
        /// A deal in the number (its id); repeat for more.
        #[arg(long, value_parser = str::parse::<OpportunityId>)]
        include: Vec<OpportunityId>,
        /// A deal out of the number (its id); repeat for more.
        #[arg(long, value_parser = str::parse::<OpportunityId>)]
        exclude: Vec<OpportunityId>,
        /// Why, for one deal: ID=TEXT, such as the timing risk of a Commit deal left out.
        #[arg(long, value_parser = parse_deal_note)]
        note: Vec<(OpportunityId, Note)>,
    },
    /// Adjust the number of someone in your subtree (or your own, as a manager) for a
    /// period; the adjustment replaces their roll-up in every level above.
    Adjust {
        #[command(flatten)]
        target: WorkspaceArgs,
        #[arg(long, value_parser = str::parse::<Period>)]
        period: Period,
        /// Whose number, by e-mail.
        #[arg(long = "for", value_parser = Email::parse)]
        subject: Email,
        /// The manager adjusting, by e-mail.
        #[arg(long, value_parser = Email::parse)]
        by: Email,
        /// The number, in the corporate currency, such as 1250000 or 1250000.50.
        #[arg(long)]
        amount: String,
        #[arg(long, value_parser = Note::parse)]
        note: Note,
    },
    /// Replay the forecast at the end of each week of past quarters: each method's error and
    /// bias by week of the quarter, and how well deal probabilities were calibrated.
    Backtest {
        #[command(flatten)]
        target: WorkspaceArgs,
        /// Closed quarters before the one holding --as-of.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=20))]
        periods: u16,
        /// The day whose end counts as now: outcomes are those known then [default: today].
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
        /// table: accuracy by week, calibration and alerts; json: everything, every week's
        /// numbers too; csv: one row per period, week and method.
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
    },
    /// Freeze the forecast of a period as it stands now: every method's number, every
    /// person's and every open deal. The server takes one a week by itself.
    Snapshot {
        #[command(flatten)]
        target: WorkspaceArgs,
        /// [default: the quarter holding today]
        #[arg(long, value_parser = str::parse::<Period>)]
        period: Option<Period>,
    },
    /// List the snapshots of a period, oldest first.
    Snapshots {
        #[command(flatten)]
        target: WorkspaceArgs,
        #[arg(long, value_parser = str::parse::<Period>)]
        period: Period,
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
    },
    /// What moved between two snapshots of a period: every method's number, each person's,
    /// and the deals added, removed or changed.
    Compare {
        #[command(flatten)]
        target: WorkspaceArgs,
        /// The earlier snapshot's id.
        #[arg(long, value_parser = str::parse::<SnapshotId>)]
        from: SnapshotId,
        /// The later snapshot's id.
        #[arg(long, value_parser = str::parse::<SnapshotId>)]
        to: SnapshotId,
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
    },
    /// Every call and adjustment of a period, oldest first, with who and when.
    History {
        #[command(flatten)]
        target: WorkspaceArgs,
        #[arg(long, value_parser = str::parse::<Period>)]
        period: Period,
        #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
        format: ReportFormat,
    },
}

fn parse_deal_note(text: &str) -> Result<(OpportunityId, Note), String> {
    let (id, note) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}`: expected ID=TEXT"))?;
    let id = id.parse::<OpportunityId>().map_err(|e| e.to_string())?;
    let note = Note::parse(note).map_err(|e| e.to_string())?;
    Ok((id, note))
}

#[derive(Debug, Subcommand)]
pub enum RatesCommand {
    /// Set the rate of a currency from a day on (replacing one set for that day).
    Set {
        #[command(flatten)]
        target: WorkspaceArgs,
        /// ISO code of the currency converted, such as EUR.
        #[arg(long, value_parser = str::parse::<Currency>)]
        currency: Currency,
        /// The first day the rate applies, as YYYY-MM-DD; it holds until the next one.
        #[arg(long, value_parser = parse_date)]
        from: NaiveDate,
        /// Corporate-currency units for one unit of the currency, up to nine decimals.
        #[arg(long, value_parser = Rate::parse)]
        rate: Rate,
    },
    /// List the workspace's rates.
    List {
        #[command(flatten)]
        target: WorkspaceArgs,
    },
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// outcomes: won, lost and slipped deals of a period with close, win and
    /// slippage-adjusted close rates; pipeline: open deals by forecast category at a moment;
    /// snapshots: the open pipeline at the end of every week of the period; conversion:
    /// stage-to-stage conversion of deals that entered a stage in the period; time-in-stage:
    /// median and P75 days per stage, and deals past the P75 now; waterfall: how the open
    /// pipeline due in the period changed from --since to --as-of; velocity: qualified
    /// pipeline created, sales cycle and velocity; loss-mix: losses to competition and to no
    /// decision, by competitor; coverage: the period's target against won and late-stage
    /// pipeline, the pipeline still required and the deals it takes; diagnosis: pipeline,
    /// conversion or capacity problem, each funnel step against its benchmark, and the step
    /// that leaks most.
    #[arg(value_parser = report_name())]
    pub name: ReportName,
    #[command(flatten)]
    pub target: WorkspaceArgs,
    /// Fiscal period, such as 2026-Q3, FY2026 or 2026-07 [default: the quarter containing
    /// --as-of; for diagnosis, the quarter before it].
    #[arg(long, value_parser = str::parse::<Period>)]
    pub period: Option<Period>,
    /// The day at whose end every number is taken (the default period is picked from it too)
    /// [default: today].
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// For waterfall: the day whose end the waterfall starts from [default: the day before
    /// the period starts].
    #[arg(long, value_parser = parse_date)]
    pub since: Option<NaiveDate>,
    /// For conversion, time-in-stage and diagnosis: the process [default: the workspace's
    /// first].
    #[arg(long, value_parser = ProcessKey::parse)]
    pub process: Option<ProcessKey>,
    /// For coverage: enterprise counts Best Case and Commit; smb counts Pipeline too.
    #[arg(long, value_enum, default_value_t = CoverageArg::Enterprise)]
    pub mode: CoverageArg,
    /// Break the report down by one or more of owner, manager (each manager's whole
    /// subtree), team, segment, source, competitor, region, size-band; comma-separated for
    /// combinations, such as owner,segment.
    #[arg(long, value_delimiter = ',', value_parser = dimension())]
    pub by: Vec<Dimension>,
    /// For --by size-band: the lower bounds of the bands after the first, in whole units of
    /// the corporate currency [default: 10000,50000,100000,250000].
    #[arg(long, value_delimiter = ',')]
    pub size_bands: Vec<i64>,
    /// For diagnosis: funnel-step benchmarks (a benchmarks.toml) instead of the shipped ones.
    #[arg(long)]
    pub benchmarks: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
}

fn report_name() -> impl TypedValueParser<Value = ReportName> {
    clap::builder::PossibleValuesParser::new(ReportName::ALL.map(ReportName::as_str))
        // Only the names listed reach the map.
        .map(|name| ReportName::parse(&name).unwrap_or(ReportName::Outcomes))
}

fn dimension() -> impl TypedValueParser<Value = Dimension> {
    clap::builder::PossibleValuesParser::new(Dimension::ALL.map(Dimension::as_str))
        // Only the names listed reach the map.
        .map(|name| Dimension::parse(&name).unwrap_or(Dimension::Owner))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CoverageArg {
    Enterprise,
    Smb,
}

#[derive(Debug, Args)]
pub struct HygieneArgs {
    #[command(flatten)]
    pub target: WorkspaceArgs,
    /// The day the rules take as today, as YYYY-MM-DD; not before the latest change
    /// [default: today].
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Rule settings laid over the shipped ones (a hygiene.toml).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// table: summary, owners, teams and the first findings; json: everything; csv: one row
    /// per finding.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Findings listed in the table format.
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum ProcessCommand {
    /// Check process files without a database; print every problem with file, line and key.
    Check {
        /// Process files, one process each.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Make these files the workspace's processes, as a new version (all of them, or nothing).
    Apply {
        #[command(flatten)]
        target: WorkspaceArgs,
        /// E-mail of the admin making the change; recorded with the version.
        #[arg(long)]
        by: String,
        /// Process files: the complete set, one process each.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the workspace's process files, as in force or at an earlier version.
    Show {
        #[command(flatten)]
        target: WorkspaceArgs,
        /// Version to show [default: the one in force].
        #[arg(long)]
        version: Option<u32>,
    },
    /// List every version of the workspace's processes: who changed what, when.
    History {
        #[command(flatten)]
        target: WorkspaceArgs,
    },
}

/// Which workspace in which database.
#[derive(Debug, Args)]
pub struct WorkspaceArgs {
    /// Database: sqlite://FILE (created if missing) or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "PIPEWISE_DATABASE_URL",
        default_value = "sqlite://pipewise.db"
    )]
    pub database_url: String,
    /// Slug of the workspace.
    #[arg(long, default_value = "demo", value_parser = Slug::parse)]
    pub workspace: Slug,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Database to serve: sqlite://FILE (created if missing) or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "PIPEWISE_DATABASE_URL",
        default_value = "sqlite://pipewise.db"
    )]
    pub database_url: String,
    /// Address and port to listen on; port 0 picks a free one.
    #[arg(long, env = "PIPEWISE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Mark session cookies Secure: set when users reach the server over HTTPS (a proxy
    /// sending X-Forwarded-Proto: https gets them anyway).
    #[arg(long, env = "PIPEWISE_SECURE_COOKIES")]
    pub secure_cookies: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Database for the demo; the demo workspace in it is regenerated on every run.
    #[arg(
        long,
        env = "PIPEWISE_DEMO_DATABASE_URL",
        default_value = "sqlite://pipewise-demo.db"
    )]
    pub database_url: String,
    /// Address and port to listen on; port 0 picks a free one.
    #[arg(long, env = "PIPEWISE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The database to write to (created if missing) and the workspace to create.
    #[command(flatten)]
    pub target: WorkspaceArgs,
    /// Delete the workspace first if it already exists.
    #[arg(long)]
    pub replace: bool,
    #[command(flatten)]
    pub data: DataArgs,
}

/// Largest generated history.
const MAX_OPPORTUNITIES: i64 = 10_000_000;

/// What to generate. The same seed, size and date always give the same data.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Number of opportunities; reps, teams and accounts grow in proportion.
    #[arg(
        long,
        default_value_t = pipewise_demo::DEFAULT_OPPORTUNITIES,
        value_parser = clap::value_parser!(u32).range(1..=MAX_OPPORTUNITIES).map(|n| n as usize)
    )]
    pub opportunities: usize,
    /// Seed of the random generator.
    #[arg(long, default_value_t = pipewise_demo::DEFAULT_SEED)]
    pub seed: u64,
    /// Last day of the generated history, as YYYY-MM-DD [default: today].
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<NaiveDate>,
}
