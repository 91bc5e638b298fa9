//! What the import tests share: the fixtures, an empty workspace, an import run start to
//! end, and reading back what it stored.

#![allow(dead_code)] // Each test file uses some of these.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use futures_util::stream::BoxStream;
use pipewise_analytics::Projection;
use pipewise_core::access::RepVisibility;
use pipewise_core::calendar::{DateRange, FiscalCalendar, Period};
use pipewise_core::ids::{UserId, WorkspaceId};
use pipewise_core::money::Currency;
use pipewise_core::org::{Role, User, Workspace};
use pipewise_core::process::ProcessSet;
use pipewise_core::text::{Email, Name, Slug};
use pipewise_import::mapping::Mapping;
use pipewise_import::values::DateStyle;
use pipewise_import::{Issue, Prepared, Request, Source, Tally};
use pipewise_store::{Batch, Counts, Store, StoreError};

/// The fixture export `name` under `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The fixture's own mapping file.
pub fn mapping(name: &str) -> Mapping {
    let text = std::fs::read_to_string(fixture(name).join("mapping.toml")).unwrap();
    Mapping::parse("mapping.toml", &text, &ProcessSet::shipped()).unwrap()
}

/// An empty workspace with a January fiscal year and its admin.
pub async fn workspace(store: &dyn Store) -> Workspace {
    workspace_with(store, FiscalCalendar::starting_in(1).unwrap()).await
}

/// An empty workspace whose fiscal year is `calendar`'s, and its admin.
pub async fn workspace_with(store: &dyn Store, calendar: FiscalCalendar) -> Workspace {
    let workspace = Workspace {
        id: WorkspaceId::generate(),
        slug: Slug::parse("acme").unwrap(),
        name: Name::parse("Acme").unwrap(),
        corporate_currency: Currency::USD,
        fiscal_calendar: calendar,
        rep_visibility: RepVisibility::Team,
        created_at: Utc::now(),
    };
    store.create_workspace(&workspace).await.unwrap();
    let admin = User {
        id: UserId::generate(),
        name: Name::parse("Ops").unwrap(),
        email: Email::parse("ops@acme.test").unwrap(),
        role: Role::Admin,
        manager_id: None,
        team_id: None,
        created_at: Utc::now(),
    };
    store
        .write_batch(
            workspace.id,
            &Batch {
                users: vec![admin],
                ..Batch::default()
            },
        )
        .await
        .unwrap();
    workspace
}

/// Reads the fixture `name` as an export of `source`.
pub async fn prepare(
    store: &dyn Store,
    workspace: &Workspace,
    source: Source,
    name: &str,
) -> Prepared {
    let mapping = mapping(name);
    let processes = pipewise_store::processes::current(store, workspace)
        .await
        .unwrap();
    let request = Request {
        source,
        folder: &fixture(name),
        mapping: &mapping,
        dates: DateStyle::Iso,
    };
    pipewise_import::prepare(store, workspace, &processes, request)
        .await
        .unwrap()
}

/// Imports the fixture `name`; returns what was read, without the records.
pub async fn import(
    store: &dyn Store,
    workspace: &Workspace,
    source: Source,
    name: &str,
) -> Prepared {
    let mapping = mapping(name);
    let processes = pipewise_store::processes::current(store, workspace)
        .await
        .unwrap();
    let request = Request {
        source,
        folder: &fixture(name),
        mapping: &mapping,
        dates: DateStyle::Iso,
    };
    pipewise_import::import(store, workspace, &processes, request, |_| {})
        .await
        .unwrap()
        .read
}

pub fn tally(read: u64, new: u64, known: u64, skipped: u64) -> Tally {
    Tally {
        read,
        new,
        known,
        skipped,
    }
}

pub fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

pub fn find<'a>(issues: &'a [Issue], file: &str, line: u64) -> &'a Issue {
    issues
        .iter()
        .find(|i| i.file == file && i.line == line)
        .unwrap_or_else(|| panic!("no issue at {file}:{line} in {issues:#?}"))
}

pub async fn projection(store: &dyn Store, workspace: &Workspace) -> Projection {
    pipewise_store::analytics::projection(store, workspace)
        .await
        .unwrap()
}

pub fn q1(workspace: &Workspace) -> DateRange {
    workspace
        .fiscal_calendar
        .range("2025-Q1".parse::<Period>().unwrap())
}

/// Everything is known by the end of June.
pub fn as_of() -> DateTime<Utc> {
    at("2025-06-30T00:00:00Z")
}

pub async fn all<T>(stream: BoxStream<'_, Result<T, StoreError>>) -> Vec<T> {
    stream.try_collect().await.unwrap()
}

pub async fn counts(store: &dyn Store, workspace: &Workspace) -> Counts {
    store.counts(workspace.id).await.unwrap()
}
