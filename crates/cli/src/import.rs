//! `pipewise import`: read an export, report what it holds and what cannot be taken, then
//! write it in batches, each batch with its records' source ids in one transaction.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context as _, bail};
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use pipewise_core::access::RepVisibility;
use pipewise_core::calendar::FiscalCalendar;
use pipewise_core::external::ExternalKind;
use pipewise_core::ids::{UserId, WorkspaceId};
use pipewise_core::org::{Role, User, Workspace};
use pipewise_core::process::ProcessSet;
use pipewise_core::text::{Email, Name};
use pipewise_import::mapping::Mapping;
use pipewise_import::values::DateStyle;
use pipewise_import::{ImportError, Issue, Known, Prepared, Request, Source};
use pipewise_store::{Batch, StoreError};

use crate::cli::{DateStyleArg, ImportArgs, ImportSource};
use crate::table::{Cell, Table, text, write_aligned};

pub async fn run(args: ImportArgs) -> anyhow::Result<()> {
    if (args.suggest || args.dry_run) && no_database_yet(&args.target.database_url) {
        return without_database(&args);
    }
    let store = crate::open(&args.target.database_url).await?;
    let existing = match store.workspace(&args.target.workspace).await {
        Ok(workspace) => Some(workspace),
        Err(StoreError::NotFound { .. }) => None,
        Err(error) => return Err(error.into()),
    };
    let processes = match &existing {
        Some(workspace) => pipewise_store::processes::current(&*store, workspace).await?,
        None => ProcessSet::shipped(),
    };
    if args.suggest {
        return suggest(&args, &processes);
    }
    let Some(by) = &args.by else {
        bail!("--by is needed to import");
    };
    let mapping = mapping(&args, &processes)?;
    // Made first, so that a path it cannot be written to stops the import before anything is
    // written; it is filled at the end.
    write_issues(&args.issues, &[])?;

    let started = Instant::now();
    // A new workspace is made with its admin before reading, so the admin is matched by
    // e-mail like anyone else, and removed again if the import stops.
    let (workspace, created) = match existing {
        Some(workspace) => {
            crate::process::admin(&*store, &workspace, by, "import data").await?;
            (workspace, None)
        }
        None if args.dry_run => (new_workspace(&args)?, None),
        None => {
            let workspace = new_workspace(&args)?;
            let admin = first_admin(by, workspace.created_at)?;
            store.create_workspace(&workspace).await?;
            store
                .write_batch(
                    workspace.id,
                    &Batch {
                        users: vec![admin.clone()],
                        ..Batch::default()
                    },
                )
                .await?;
            (workspace, Some(admin))
        }
    };
    let imported = if args.dry_run {
        let reading = reading(&args);
        let prepared =
            pipewise_import::prepare(&*store, &workspace, &processes, request(&args, &mapping))
                .await;
        reading.finish_and_clear();
        prepared.map(|read| (read, None))
    } else {
        let progress = ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template(
                "{spinner} Importing {msg}: {human_pos} records written, {per_sec}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        progress.set_message(args.path.display().to_string());
        progress.enable_steady_tick(std::time::Duration::from_millis(200));
        let imported = pipewise_import::import(
            &*store,
            &workspace,
            &processes,
            request(&args, &mapping),
            |written| progress.set_position(written),
        )
        .await;
        progress.finish_and_clear();
        imported.map(|imported| (imported.read, Some(imported.written)))
    };
    let (read, written) = match imported {
        Ok(imported) => imported,
        Err(error) => {
            // Holding only its header, the issues file would pass for a clean import.
            let _ = std::fs::remove_file(&args.issues);
            return Err(match (error, created) {
                // A new workspace is kept after a failed write, for the same import to
                // finish, and removed after a bad file, so that nothing of it is left
                // half-read.
                (ImportError::Write(error), Some(admin)) => {
                    announce(&workspace, &admin);
                    ImportError::Write(error).into()
                }
                (error, Some(_)) => {
                    store.delete_workspace(workspace.id).await?;
                    match error {
                        ImportError::Partly { error, .. } => (*error).into(),
                        error => error.into(),
                    }
                }
                (error, None) => error.into(),
            });
        }
    };
    if let Some(admin) = created {
        announce(&workspace, &admin);
    }
    let issues = show(&args, &read)?;
    match written {
        None => println!("Dry run: nothing was written."),
        Some(written) => println!(
            "Imported {written} records and {} deal events into `{}` in {:.1}s.",
            read.events,
            workspace.slug,
            started.elapsed().as_secs_f64()
        ),
    }
    point_to_issues(&args, issues);
    Ok(())
}

fn announce(workspace: &Workspace, admin: &User) {
    println!(
        "Created workspace `{}` with {} as its admin; `pipewise serve` prints their first password.",
        workspace.slug, admin.email
    );
}

/// Whether the database is an SQLite file that does not exist yet: a draft or a dry run
/// reads against the shipped processes and no earlier imports rather than create it.
fn no_database_yet(url: &str) -> bool {
    url.strip_prefix("sqlite://")
        .map(|rest| rest.split('?').next().unwrap_or(rest))
        .is_some_and(|file| !Path::new(file).exists())
}

fn without_database(args: &ImportArgs) -> anyhow::Result<()> {
    let processes = ProcessSet::shipped();
    if args.suggest {
        return suggest(args, &processes);
    }
    let mapping = mapping(args, &processes)?;
    let workspace = new_workspace(args)?;
    let reading = reading(args);
    let prepared = pipewise_import::read(
        &workspace,
        &processes,
        request(args, &mapping),
        &Known::default(),
    );
    reading.finish_and_clear();
    let issues = show(args, &prepared?)?;
    println!("Dry run: nothing was written.");
    point_to_issues(args, issues);
    Ok(())
}

/// Prints a draft mapping file for the export.
fn suggest(args: &ImportArgs, processes: &ProcessSet) -> anyhow::Result<()> {
    let process = match &args.process {
        Some(key) => processes
            .get(key)
            .with_context(|| format!("--process: no process `{key}`"))?,
        None => processes.default_process(),
    };
    print!("{}", source(args.source).suggest(&args.path, process)?);
    Ok(())
}

/// The mapping file `--mapping` names, or `mapping.toml` in the export's folder.
fn mapping(args: &ImportArgs, processes: &ProcessSet) -> anyhow::Result<Mapping> {
    let path = args
        .mapping
        .clone()
        .unwrap_or_else(|| args.path.join("mapping.toml"));
    if !path.exists() {
        bail!(
            "no mapping file {}: pass --mapping, or draft one with --suggest",
            path.display()
        );
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the mapping file {}", path.display()))?;
    let name = path.display().to_string();
    Mapping::parse(&name, &text, processes).map_err(|errors| anyhow::anyhow!("{errors}"))
}

fn request<'a>(args: &'a ImportArgs, mapping: &'a Mapping) -> Request<'a> {
    Request {
        source: source(args.source),
        folder: &args.path,
        mapping,
        dates: match args.dates {
            DateStyleArg::Iso => DateStyle::Iso,
            DateStyleArg::Us => DateStyle::Us,
            DateStyleArg::Eu => DateStyle::Eu,
        },
    }
}

fn reading(args: &ImportArgs) -> ProgressBar {
    let spinner =
        ProgressBar::new_spinner().with_message(format!("Reading {}", args.path.display()));
    spinner.enable_steady_tick(std::time::Duration::from_millis(200));
    spinner
}

/// Prints the notes and the summary and writes the issues file; returns how many issues.
fn show(args: &ImportArgs, prepared: &Prepared) -> anyhow::Result<usize> {
    for notice in &prepared.notices {
        println!("note: {notice}");
    }
    write_issues(&args.issues, &prepared.issues)?;
    print_summary(prepared)?;
    Ok(prepared.issues.len())
}

fn point_to_issues(args: &ImportArgs, issues: usize) {
    if issues > 0 {
        println!(
            "{issues} rows or values need a look: see {}",
            args.issues.display()
        );
    }
}

fn source(source: ImportSource) -> Source {
    match source {
        ImportSource::Salesforce => Source::Salesforce,
        ImportSource::Hubspot => Source::Hubspot,
        ImportSource::Csv => Source::Csv,
    }
}

fn new_workspace(args: &ImportArgs) -> anyhow::Result<Workspace> {
    Ok(Workspace {
        id: WorkspaceId::generate(),
        slug: args.target.workspace.clone(),
        name: Name::parse(args.target.workspace.as_str()).context("workspace name")?,
        corporate_currency: args.currency,
        fiscal_calendar: FiscalCalendar::starting_in(args.fiscal_year_start)?,
        rep_visibility: RepVisibility::Team,
        created_at: Utc::now(),
    })
}

/// The admin `--by` names, made as the first user of a new workspace.
fn first_admin(by: &str, at: chrono::DateTime<Utc>) -> anyhow::Result<User> {
    let email = Email::parse(by).map_err(|e| anyhow::anyhow!("--by: {e}"))?;
    let local = email.as_str().split('@').next().unwrap_or_default();
    Ok(User {
        id: UserId::generate(),
        name: Name::parse(local).context("--by: the e-mail needs a name before the @")?,
        email,
        role: Role::Admin,
        manager_id: None,
        team_id: None,
        created_at: at,
    })
}

/// Writes the issues file, with only its header when there are none, so a file left by an
/// earlier run never passes for this one's.
fn write_issues(path: &Path, issues: &[Issue]) -> anyhow::Result<()> {
    let file = std::fs::File::create(path)
        .with_context(|| format!("cannot write the issues file {}", path.display()))?;
    pipewise_import::issues::write_report(issues, std::io::BufWriter::new(file))
        .with_context(|| format!("writing {}", path.display()))
}

fn print_summary(prepared: &Prepared) -> anyhow::Result<()> {
    let rows = ExternalKind::ALL
        .iter()
        .filter_map(|kind| {
            let tally = prepared.tallies.get(kind)?;
            Some(vec![
                text(match kind {
                    ExternalKind::User => "users",
                    ExternalKind::Account => "accounts",
                    ExternalKind::Contact => "contacts",
                    ExternalKind::Lead => "leads",
                    ExternalKind::Opportunity => "opportunities",
                    ExternalKind::Activity => "activities",
                }),
                Cell::Count(tally.read),
                Cell::Count(tally.new),
                Cell::Count(tally.known),
                Cell::Count(tally.skipped),
            ])
        })
        .collect();
    let table = Table {
        columns: &["records", "read", "new", "imported_before", "skipped"],
        rows,
    };
    write_aligned(&mut std::io::stdout().lock(), &table)
}
