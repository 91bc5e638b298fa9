//! Test databases and a small sales organisation to put in them.

// Each test binary uses part of this module; failures in setup should stop the test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{DateTime, Utc};
use pipewise_core::access::RepVisibility;
use pipewise_core::calendar::FiscalCalendar;
use pipewise_core::crm::{Account, EmployeeBand};
use pipewise_core::ids::{AccountId, TeamId, UserId, WorkspaceId};
use pipewise_core::money::Currency;
use pipewise_core::org::{Role, Team, User, Workspace};
use pipewise_core::text::{Email, Label, Name, Slug, WebDomain};
use pipewise_store::{Batch, PgStore, SqliteStore, Store};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

/// Set to a PostgreSQL URL (a role allowed to create databases) to run the suite there too.
pub const POSTGRES_URL_VAR: &str = "PIPEWISE_TEST_DATABASE_URL";

/// A store on a fresh database, removed when the test is done with it.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    sqlite_url: Option<String>,
    postgres: Option<PostgresDatabase>,
}

impl TestStore {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let store = SqliteStore::open(&url).await.expect("open SQLite");
        Self {
            store: Arc::new(store),
            _dir: Some(dir),
            sqlite_url: Some(url),
            postgres: None,
        }
    }

    /// A fresh, migrated PostgreSQL database, or `None` (with a note on stderr) when no
    /// server is set.
    pub async fn postgres() -> Option<Self> {
        let database = PostgresDatabase::create().await?;
        let store = PgStore::connect_with(database.options())
            .await
            .expect("open PostgreSQL");
        Some(Self {
            store: Arc::new(store),
            _dir: None,
            sqlite_url: None,
            postgres: Some(database),
        })
    }

    /// A second, independent handle on the same database, as another process would have.
    pub async fn reopen(&self) -> Arc<dyn Store> {
        match (&self.sqlite_url, &self.postgres) {
            (Some(url), _) => Arc::new(SqliteStore::open(url).await.unwrap()),
            (None, Some(database)) => {
                Arc::new(PgStore::connect_with(database.options()).await.unwrap())
            }
            (None, None) => unreachable!("a test store is SQLite or PostgreSQL"),
        }
    }

    /// Drops a PostgreSQL test database (SQLite ones go with their temporary directory).
    pub async fn remove(self) {
        drop(self.store);
        if let Some(database) = self.postgres {
            database.drop().await;
        }
    }
}

/// An empty PostgreSQL database made for one test.
pub struct PostgresDatabase {
    admin: PgConnectOptions,
    name: String,
}

impl PostgresDatabase {
    /// Creates one on the server [`POSTGRES_URL_VAR`] names; `None`, with a note on stderr,
    /// when it is not set.
    pub async fn create() -> Option<Self> {
        let Ok(url) = std::env::var(POSTGRES_URL_VAR) else {
            eprintln!("skipping PostgreSQL: set {POSTGRES_URL_VAR}=postgres://USER@HOST/DB to run");
            return None;
        };
        let admin: PgConnectOptions = url.parse().expect("PostgreSQL URL");
        let name = format!("pipewise_test_{}", uuid::Uuid::now_v7().simple());
        let mut connection = PgConnection::connect_with(&admin)
            .await
            .expect("connect to PostgreSQL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut connection)
            .await
            .expect("create test database");
        Some(Self { admin, name })
    }

    pub fn options(&self) -> PgConnectOptions {
        self.admin.clone().database(&self.name)
    }

    pub async fn drop(self) {
        if let Ok(mut connection) = PgConnection::connect_with(&self.admin).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut connection)
            .await;
        }
    }
}

/// Runs each test body once on SQLite and once on PostgreSQL (skipped without a server).
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($store:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let test = common::TestStore::sqlite().await;
                    {
                        let $store: &dyn pipewise_store::Store = &*test.store;
                        $body
                    }
                    test.remove().await;
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(test) = common::TestStore::postgres().await else { return };
                    {
                        let $store: &dyn pipewise_store::Store = &*test.store;
                        $body
                    }
                    test.remove().await;
                }
            )*
        }
    };
}

pub fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("timestamp")
}

fn id_bytes(n: u8) -> [u8; 10] {
    [n; 10]
}

/// A workspace with one team: a manager (Maria) and two reps (Raj, Rosa), two accounts.
pub struct Org {
    pub workspace: Workspace,
    pub manager: UserId,
    pub reps: [UserId; 2],
    pub team: TeamId,
    pub accounts: [AccountId; 2],
    pub batch: Batch,
}

pub fn org(slug: &str, seed: u8) -> Org {
    let created_at = at("2025-01-01T00:00:00Z");
    let millis = 1_735_689_600_000 + u64::from(seed) * 1_000;
    let workspace = Workspace {
        id: WorkspaceId::from_parts(millis, id_bytes(seed)),
        slug: Slug::parse(slug).unwrap(),
        name: Name::parse(&format!("Test {slug}")).unwrap(),
        corporate_currency: Currency::USD,
        fiscal_calendar: FiscalCalendar::starting_in(2).unwrap(),
        rep_visibility: RepVisibility::Team,
        created_at,
    };
    let team = TeamId::from_parts(millis + 1, id_bytes(seed));
    let user = |n: u64, name: &str, role, manager| User {
        id: UserId::from_parts(millis + 10 + n, id_bytes(seed)),
        name: Name::parse(name).unwrap(),
        email: Email::parse(&format!("{}@{slug}.example.com", name.to_lowercase())).unwrap(),
        role,
        manager_id: manager,
        team_id: Some(team),
        created_at,
    };
    let maria = user(0, "Maria", Role::Manager, None);
    let raj = user(1, "Raj", Role::Rep, Some(maria.id));
    let rosa = user(2, "Rosa", Role::Rep, Some(maria.id));
    let account = |n: u64, name: &str, domain: &str| Account {
        version: 1,
        id: AccountId::from_parts(millis + 20 + n, id_bytes(seed)),
        name: Name::parse(name).unwrap(),
        domain: Some(WebDomain::parse(domain).unwrap()),
        industry: Some(Label::parse("Logistics").unwrap()),
        employee_band: Some(EmployeeBand::From201To500),
        region: Some(Label::parse("EMEA").unwrap()),
        segment: Some(Label::parse("Mid-Market").unwrap()),
        tier: None,
        owner_id: Some(raj.id),
        created_at,
    };
    let globex = account(0, "Globex", "globex.example");
    let initech = account(1, "Initech", "initech.example");
    Org {
        manager: maria.id,
        reps: [raj.id, rosa.id],
        team,
        accounts: [globex.id, initech.id],
        batch: Batch {
            teams: vec![Team {
                id: team,
                name: Name::parse("EMEA Mid-Market").unwrap(),
                created_at,
            }],
            users: vec![maria, raj, rosa],
            accounts: vec![globex, initech],
            ..Batch::default()
        },
        workspace,
    }
}

/// Creates the organisation's workspace and writes its people and accounts.
pub async fn install(store: &dyn Store, org: &Org) {
    store.create_workspace(&org.workspace).await.unwrap();
    store
        .write_batch(org.workspace.id, &org.batch)
        .await
        .unwrap();
}
