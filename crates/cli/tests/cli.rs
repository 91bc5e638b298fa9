//! The `pipewise` binary, run as a user would run it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use pipewise_store::{Store, integrity};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};

/// Set to a PostgreSQL URL (a role allowed to create databases) to run these tests there too.
const POSTGRES_URL_VAR: &str = "PIPEWISE_TEST_DATABASE_URL";
/// The history ends on a fixed day so runs are reproducible.
const AS_OF: &str = "2026-11-23";

fn pipewise(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pipewise"));
    command
        .args(args)
        .env_remove("PIPEWISE_DATABASE_URL")
        .env("RUST_LOG", "warn");
    command
}

fn run(args: &[&str]) -> Output {
    pipewise(args).output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("pipewise.db").display())
}

/// Generates the demo workspace with `opportunities` deals and history up to [`AS_OF`].
fn generate_demo(url: &str, opportunities: &str) {
    let output = run(&[
        "generate",
        "--database-url",
        url,
        "--opportunities",
        opportunities,
        "--as-of",
        AS_OF,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
}

/// Runs a command that must succeed and parses the JSON it prints.
fn json_of(args: &[&str]) -> serde_json::Value {
    let output = run(args);
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A PostgreSQL database made for one test, dropped by [`PostgresDatabase::drop`].
struct PostgresDatabase {
    admin: PgConnectOptions,
    name: String,
    url: String,
}

impl PostgresDatabase {
    /// A fresh database, or `None` when no server is configured.
    async fn create() -> Option<Self> {
        let Ok(url) = std::env::var(POSTGRES_URL_VAR) else {
            eprintln!("skipping PostgreSQL: set {POSTGRES_URL_VAR}=postgres://USER@HOST/DB to run");
            return None;
        };
        let admin: PgConnectOptions = url.parse().unwrap();
        let name = format!("pipewise_test_{}", uuid::Uuid::now_v7().simple());
        let mut connection = PgConnection::connect_with(&admin).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut connection)
            .await
            .unwrap();
        let (base, _) = url.rsplit_once('/').unwrap();
        let url = format!("{base}/{name}");
        Some(Self { admin, name, url })
    }

    async fn drop(self) {
        let mut connection = PgConnection::connect_with(&self.admin).await.unwrap();
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut connection)
        .await
        .unwrap();
    }
}

/// `GET path` on a local server; returns the status line and the body.
fn http_get(address: &str, path: &str) -> (String, String) {
    let (status, _, body) = http(address, "GET", path, &[], "");
    (status, body)
}

/// One HTTP/1.1 request: the status line, the headers' lines and the body of the response.
fn http(
    address: &str,
    method: &str,
    path: &str,
    headers: &[&str],
    body: &str,
) -> (String, Vec<String>, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for header in headers {
        request.push_str(&format!("{header}\r\n"));
    }
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines().map(str::to_owned);
    let status = lines.next().unwrap();
    (status, lines.collect(), body.to_owned())
}

/// Kills the child when dropped, so a failing test leaves no server behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn every_command_has_help() {
    for (args, expected) in [
        (vec!["--help"], "Self-hosted revenue engine"),
        (vec!["serve", "--help"], "Serve the web app and HTTP API"),
        (vec!["demo", "--help"], "demo workspace"),
        (vec!["generate", "--help"], "--opportunities"),
        (vec!["process", "--help"], "Check, apply and inspect"),
        (
            vec!["process", "check", "--help"],
            "every problem with file, line and key",
        ),
        (vec!["process", "apply", "--help"], "--by"),
        (vec!["process", "show", "--help"], "--version"),
        (vec!["process", "history", "--help"], "who changed what"),
        (vec!["hygiene", "--help"], "--rules"),
        (vec!["report", "--help"], "slippage-adjusted close rates"),
        (vec!["forecast", "--help"], "four methods side by side"),
        (vec!["forecast", "backtest", "--help"], "calibrated"),
        (vec!["leads", "funnel", "--help"], "fit × intent band"),
        (vec!["leads", "settings", "apply", "--help"], "line and key"),
        (vec!["import", "--help"], "--dry-run"),
        (vec!["export", "--help"], "Parquet"),
    ] {
        let output = run(&args);
        assert!(output.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains(expected), "{args:?}: {text}");
    }
}

#[test]
fn the_demo_prints_its_url_and_serves_the_generated_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let child = pipewise(&[
        "demo",
        "--database-url",
        &url,
        "--bind",
        "127.0.0.1:0",
        "--opportunities",
        "300",
        "--as-of",
        AS_OF,
    ])
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    let mut server = Running(child);
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let generated = lines.next().unwrap().unwrap();
    assert!(
        generated.starts_with("Generated workspace `demo`: 300 opportunities"),
        "{generated}"
    );
    // Then whom to sign in as, one user per role, and the address.
    let mut sign_in = Vec::new();
    let serving = loop {
        let line = lines.next().unwrap().unwrap();
        if line.starts_with("pipewise is serving") {
            break line;
        }
        sign_in.push(line);
    };
    assert_eq!(
        sign_in[0],
        "Sign in to workspace `demo` with password `pipewise-demo` as:"
    );
    let admin = sign_in
        .iter()
        .find_map(|line| line.trim().strip_prefix("admin"))
        .and_then(|rest| rest.split_once('<'))
        .map(|(_, email)| email.trim_end_matches('>').to_owned())
        .unwrap_or_else(|| panic!("no admin in {sign_in:?}"));
    let address = serving
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no URL in {serving:?}"))
        .to_owned();
    assert_eq!(
        http_get(&address, "/health"),
        (
            "HTTP/1.1 200 OK".to_owned(),
            r#"{"status":"ok"}"#.to_owned()
        )
    );
    let deals = "/api/v1/workspaces/demo/opportunities?limit=3";
    assert_eq!(http_get(&address, deals).0, "HTTP/1.1 401 Unauthorized");
    let credentials = format!(r#"{{"email":"{admin}","password":"pipewise-demo"}}"#);
    let (status, headers, _) = http(
        &address,
        "POST",
        "/api/v1/workspaces/demo/session",
        &[],
        &credentials,
    );
    assert_eq!(status, "HTTP/1.1 201 Created");
    let cookie = headers
        .iter()
        .find_map(|h| h.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_owned();
    let (status, _, body) = http(&address, "GET", deals, &[&format!("Cookie: {cookie}")], "");
    assert_eq!(status, "HTTP/1.1 200 OK");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
}

/// Starts `pipewise serve` on `url`; returns the server and the lines it printed before
/// its address, and the address.
fn start_serving(url: &str) -> (Running, Vec<String>, String) {
    let child = pipewise(&["serve", "--database-url", url, "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = Running(child);
    let mut lines = BufReader::new(server.0.stdout.take().unwrap()).lines();
    let mut before = Vec::new();
    loop {
        let line = lines.next().unwrap().unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            let address = rest.split('/').next().unwrap().to_owned();
            return (server, before, address);
        }
        before.push(line);
    }
}

#[test]
fn the_first_start_prints_a_one_time_admin_password_that_signs_in() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    generate_demo(&url, "50");
    let (server, printed, address) = start_serving(&url);
    let first = printed.join("\n");
    let (email, password) = first
        .strip_prefix("First start of workspace `demo`: sign in as ")
        .and_then(|rest| rest.split_once(" with password "))
        .map(|(email, rest)| {
            (
                email.to_owned(),
                rest.split_whitespace().next().unwrap().to_owned(),
            )
        })
        .unwrap_or_else(|| panic!("no password in {first:?}"));
    assert_eq!(password.len(), 32);
    let credentials = format!(r#"{{"email":"{email}","password":"{password}"}}"#);
    let session = "/api/v1/workspaces/demo/session";
    assert_eq!(
        http(&address, "POST", session, &[], &credentials).0,
        "HTTP/1.1 201 Created"
    );
    drop(server);
    // Shown once: the next start prints none.
    let (_server, printed, _) = start_serving(&url);
    assert!(printed.is_empty(), "{printed:?}");
}

async fn generate_and_check(url: &str) {
    let output = run(&[
        "generate",
        "--database-url",
        url,
        "--opportunities",
        "700",
        "--seed",
        "3",
        "--as-of",
        AS_OF,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("700 opportunities"), "{stdout}");
    let store = pipewise_store::connect(url).await.unwrap();
    let workspace = store.workspace(&"demo".parse().unwrap()).await.unwrap();
    let counts = store.counts(workspace.id).await.unwrap();
    assert_eq!(counts.opportunities, 700);
    let report = integrity::check(&*store, workspace.id).await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.problems);
    assert_eq!(
        (report.opportunities, report.events),
        (700, counts.opportunity_events)
    );

    // Generating again over an existing workspace is refused and changes nothing.
    let again = run(&[
        "generate",
        "--database-url",
        url,
        "--opportunities",
        "50",
        "--as-of",
        AS_OF,
    ]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("workspace `demo` already exists"),
        "{}",
        stderr(&again)
    );
    assert_eq!(store.counts(workspace.id).await.unwrap(), counts);
    // With --replace it is generated anew.
    let replaced = run(&[
        "generate",
        "--database-url",
        url,
        "--opportunities",
        "50",
        "--as-of",
        AS_OF,
        "--replace",
    ]);
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    let workspace = store.workspace(&"demo".parse().unwrap()).await.unwrap();
    assert_eq!(store.counts(workspace.id).await.unwrap().opportunities, 50);
}

/// A load into an empty file drops the indexes that are not keys while it writes; they must
/// be there again when it ends, before anything else opens the file.
#[tokio::test]
async fn generating_into_sqlite_leaves_every_index_built() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let output = run(&[
        "generate",
        "--database-url",
        &url,
        "--opportunities",
        "300",
        "--as-of",
        AS_OF,
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let mut file = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
         AND tbl_name IN ('accounts', 'opportunities', 'leads', 'activities', 'contacts') \
         ORDER BY name",
    )
    .fetch_all(&mut file)
    .await
    .unwrap();
    assert_eq!(
        indexes,
        [
            "accounts_by_owner",
            "activities_by_lead",
            "activities_by_opportunity",
            "contacts_by_account",
            "leads_by_email_key",
            "leads_waiting",
            "opportunities_by_account",
            "opportunities_by_close_date",
            "opportunities_by_next_step_owner",
            "opportunities_by_owner",
            "opportunities_by_status",
        ]
    );
}

#[tokio::test]
async fn generated_data_is_consistent_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    generate_and_check(&sqlite_url(&dir)).await;
}

#[tokio::test]
async fn generated_data_is_consistent_on_postgres() {
    let Some(database) = PostgresDatabase::create().await else {
        return;
    };
    generate_and_check(&database.url).await;
    database.drop().await;
}

/// Starts a large generation, kills it with SIGKILL once some batches are committed and more
/// are being written, and checks that what is left is whole: every stored opportunity has its
/// complete event log and nothing else.
async fn killed_mid_write_leaves_consistent_data(url: &str) {
    const DEALS: u64 = 30_000;
    let log = tempfile::NamedTempFile::new().unwrap();
    let child = pipewise(&[
        "generate",
        "--database-url",
        url,
        "--opportunities",
        &DEALS.to_string(),
        "--as-of",
        AS_OF,
    ])
    .stdout(Stdio::null())
    .stderr(log.reopen().unwrap())
    .spawn()
    .unwrap();
    let mut generating = Running(child);
    let store = wait_for_store(url).await;
    let started = Instant::now();
    let workspace = loop {
        if let Ok(workspace) = store.workspace(&"demo".parse().unwrap()).await {
            if store.counts(workspace.id).await.unwrap().opportunities > 0 {
                break workspace;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no batch was committed; the generator said: {}",
            std::fs::read_to_string(log.path()).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    generating.0.kill().unwrap(); // SIGKILL on Unix.
    generating.0.wait().unwrap();
    let counts = store.counts(workspace.id).await.unwrap();
    assert!(counts.opportunities < DEALS, "killed before the end");
    assert_eq!(
        counts.opportunities % pipewise_demo::DEALS_PER_BATCH as u64,
        0,
        "whole batches only"
    );
    let report = integrity::check(&*store, workspace.id).await.unwrap();
    assert!(report.is_consistent(), "{:?}", report.problems);
    assert_eq!(report.opportunities, counts.opportunities);
    assert_eq!(report.events, counts.opportunity_events);
}

async fn wait_for_store(url: &str) -> std::sync::Arc<dyn Store> {
    let started = Instant::now();
    loop {
        match pipewise_store::connect(url).await {
            Ok(store) => return store,
            Err(error) if started.elapsed() < Duration::from_secs(30) => {
                eprintln!("waiting for the database: {error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("{error}"),
        }
    }
}

#[tokio::test]
async fn sigkill_during_a_bulk_write_leaves_sqlite_consistent() {
    let dir = tempfile::tempdir().unwrap();
    killed_mid_write_leaves_consistent_data(&sqlite_url(&dir)).await;
}

#[tokio::test]
async fn sigkill_during_a_bulk_write_leaves_postgres_consistent() {
    let Some(database) = PostgresDatabase::create().await else {
        return;
    };
    killed_mid_write_leaves_consistent_data(&database.url).await;
    database.drop().await;
}

#[test]
fn bad_flags_name_the_flag_and_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    for (args, expected) in [
        (
            vec!["generate", "--database-url", &url, "--as-of", "2026-13-01"],
            "2026-13-01",
        ),
        (
            vec!["generate", "--database-url", &url, "--opportunities", "0"],
            "--opportunities",
        ),
        (
            vec![
                "generate",
                "--database-url",
                &url,
                "--opportunities",
                "many",
            ],
            "many",
        ),
        (
            vec![
                "generate",
                "--database-url",
                &url,
                "--workspace",
                "Not A Slug",
            ],
            "Not A Slug",
        ),
        (vec!["serve", "--bind", "localhost"], "--bind"),
    ] {
        let output = run(&args);
        assert!(!output.status.success(), "{args:?}");
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let output = run(&["generate", "--database-url", "mysql://root@localhost/crm"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("use sqlite://FILE or postgres://"),
        "{}",
        stderr(&output)
    );
    assert!(
        !dir.path().join("pipewise.db").exists(),
        "nothing was created"
    );
}

#[tokio::test]
async fn process_files_are_checked_applied_and_versioned() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/processes");
    let enterprise = std::fs::read_to_string(shipped.join("enterprise.toml")).unwrap();
    let smb = shipped.join("smb.toml");
    let smb = smb.to_str().unwrap();

    let check = run(&[
        "process",
        "check",
        shipped.join("enterprise.toml").to_str().unwrap(),
        smb,
    ]);
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(String::from_utf8_lossy(&check.stdout).contains("ok: smb (SMB): 3 stages"));

    // Two SAL stages: refused with the file, line and key.
    let two_sal = dir.path().join("enterprise.toml");
    std::fs::write(
        &two_sal,
        enterprise.replacen(
            "phase = \"conversations\"\nexit",
            "phase = \"conversations\"\nsal = true\nexit",
            1,
        ),
    )
    .unwrap();
    let line = std::fs::read_to_string(&two_sal)
        .unwrap()
        .lines()
        .position(|l| l == "sal = true")
        .unwrap();
    let second = std::fs::read_to_string(&two_sal)
        .unwrap()
        .lines()
        .skip(line + 1)
        .position(|l| l == "sal = true")
        .unwrap()
        + line
        + 2;
    let refused = run(&["process", "check", two_sal.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        stderr(&refused).trim(),
        format!(
            "error: enterprise.toml:{second}:7: stages[1].sal: another stage is already the SAL stage; a process has exactly one"
        )
    );

    // Applying to a workspace records a version; a bad set changes nothing.
    let url = sqlite_url(&dir);
    generate_demo(&url, "50");
    let store = pipewise_store::connect(&url).await.unwrap();
    let workspace = store.workspace(&"demo".parse().unwrap()).await.unwrap();
    let users = store.users(workspace.id).await.unwrap();
    let admin = users
        .iter()
        .find(|u| u.role == pipewise_core::org::Role::Admin)
        .unwrap();
    let admin = admin.email.to_string();
    let refused = run(&[
        "process",
        "apply",
        "--database-url",
        &url,
        "--by",
        &admin,
        two_sal.to_str().unwrap(),
        smb,
    ]);
    assert_eq!(refused.status.code(), Some(1));
    let slower = dir.path().join("slow.toml");
    std::fs::write(
        &slower,
        enterprise.replace("typical_days = 14", "typical_days = 20"),
    )
    .unwrap();
    let applied = run(&[
        "process",
        "apply",
        "--database-url",
        &url,
        "--by",
        &admin,
        slower.to_str().unwrap(),
        smb,
    ]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    assert_eq!(
        String::from_utf8_lossy(&applied.stdout),
        "Version 2 is in force. Changes:\n  - enterprise: stage `qualified` changed: typical days\n  - enterprise: stage `redlining` changed: typical days\n"
    );
    let history = run(&["process", "history", "--database-url", &url]);
    let history = String::from_utf8_lossy(&history.stdout).into_owned();
    assert!(
        history.contains("version 2  ") && history.contains(&admin),
        "{history}"
    );
    let shown = run(&["process", "show", "--database-url", &url, "--version", "1"]);
    assert!(String::from_utf8_lossy(&shown.stdout).starts_with("# enterprise.toml (version 1)"));
}

#[test]
fn the_demo_has_realistic_hygiene_findings_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    generate_demo(&url, "2000");
    let hygiene = |format: &str| {
        let output = run(&[
            "hygiene",
            "--database-url",
            &url,
            "--as-of",
            AS_OF,
            "--format",
            format,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    let report: serde_json::Value = serde_json::from_str(&hygiene("json")).unwrap();
    let open = report["deals"].as_array().unwrap();
    let flagged = open
        .iter()
        .filter(|r| r["findings"].as_u64().unwrap() > 0)
        .count();
    let share = flagged as f64 / open.len() as f64;
    // Not zero, not everything.
    assert!(open.len() > 50, "open deals: {}", open.len());
    assert!(
        (0.2..0.9).contains(&share),
        "share of open deals with findings: {share}"
    );
    let findings = report["findings"].as_array().unwrap();
    let mut rules: Vec<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    rules.sort_unstable();
    rules.dedup();
    assert!(rules.len() >= 8, "rules that found something: {rules:?}");
    for rule in &rules {
        let n = findings.iter().filter(|f| f["rule"] == *rule).count();
        assert!(n < open.len(), "{rule} flags {n} records");
    }
    // CSV: a header and one row per finding.
    let csv = hygiene("csv");
    assert!(csv.starts_with("rule,severity,record_kind,record_id,record,owner,detail,fix\n"));
    let rows = csv::Reader::from_reader(csv.as_bytes()).records().count();
    assert_eq!(rows, findings.len());
    // A rule aimed at a stage the process lacks is flagged, and so never fires there.
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[rules.single_threaded]\nfrom_stage = { enterprise = \"evaluatng\" }\n",
    )
    .unwrap();
    let output = run(&[
        "hygiene",
        "--database-url",
        &url,
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert!(stderr(&output).contains(
        "warning: rules.single_threaded.from_stage.enterprise: `evaluatng` is not a stage of it"
    ));
    let retuned: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let single_threaded = retuned["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "single_threaded")
        .count();
    assert_eq!(single_threaded, 0);
    // The table opens with the summary line.
    let table = hygiene("table");
    assert!(
        table.starts_with(&format!(
            "Hygiene of workspace demo as of 2026-11-23: {} open deals, {flagged} with findings;",
            open.len()
        )),
        "{table}"
    );
}

#[test]
fn the_lead_funnel_agrees_with_itself_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    generate_demo(&url, "1500");
    let funnel = |format: &str| {
        let output = run(&[
            "leads",
            "funnel",
            "--database-url",
            &url,
            "--period",
            "2026-Q3",
            "--format",
            format,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&funnel("json")).unwrap();
    let whole = &json["whole"];
    let leads = whole["leads"].as_u64().unwrap();
    assert!(leads > 100, "{whole}");
    let sources = json["by_source"].as_array().unwrap();
    let sum = |key: &str| {
        sources
            .iter()
            .map(|g| g[key].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(
        (sum("leads"), sum("sal")),
        (leads, whole["sal"].as_u64().unwrap())
    );
    // In the demo only inbound leads are converted into deals.
    for group in sources.iter().filter(|g| g["group"] != "inbound") {
        assert_eq!(group["sal"], 0, "{group}");
    }
    let csv = funnel("csv");
    let all = csv.lines().nth(1).unwrap();
    assert!(
        all.starts_with(&format!("all,,{leads},{},", whole["mql"])),
        "{all}"
    );
    let table = funnel("table");
    let queued = json["speed_to_lead"]["queued"].as_u64().unwrap();
    assert!(
        table.contains(&format!(
            "Speed-to-lead: {queued} leads entered the sales queue"
        )),
        "{table}"
    );
}

#[tokio::test]
async fn lead_settings_are_checked_whole_and_applied_by_an_admin() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    generate_demo(&url, "50");
    let store = pipewise_store::connect(&url).await.unwrap();
    let workspace = store.workspace(&"demo".parse().unwrap()).await.unwrap();
    let users = store.users(workspace.id).await.unwrap();
    let email_of = |role| {
        users
            .iter()
            .find(|u| u.role == role)
            .unwrap()
            .email
            .to_string()
    };
    let (admin, rep) = (
        email_of(pipewise_core::org::Role::Admin),
        email_of(pipewise_core::org::Role::Rep),
    );
    let file = dir.path().join("leads.toml");
    let apply = |by: &str| {
        run(&[
            "leads",
            "settings",
            "apply",
            "--database-url",
            &url,
            "--by",
            by,
            file.to_str().unwrap(),
        ])
    };

    std::fs::write(
        &file,
        "[intent]\nhalf_life_days = 0\n\n[calendar]\ntime_zone = \"Mars/Olympus\"\n",
    )
    .unwrap();
    let refused = apply(&admin);
    assert!(!refused.status.success());
    let message = stderr(&refused);
    assert!(
        message.contains("leads.toml:2:18: intent.half_life_days:"),
        "{message}"
    );
    assert!(
        message.contains("leads.toml:5:13: calendar.time_zone:"),
        "{message}"
    );

    std::fs::write(&file, "[intent]\nhalf_life_days = 14\n").unwrap();
    let by_rep = apply(&rep);
    assert!(
        stderr(&by_rep).contains("only admins change lead settings"),
        "{}",
        stderr(&by_rep)
    );
    let applied = apply(&admin);
    assert!(applied.status.success(), "{}", stderr(&applied));
    assert_eq!(
        String::from_utf8_lossy(&applied.stdout),
        "Lead settings version 1 is in force.\n"
    );
    let shown = run(&["leads", "settings", "show", "--database-url", &url]);
    assert_eq!(
        String::from_utf8_lossy(&shown.stdout),
        "# Version 1, laid over the shipped settings.\n[intent]\nhalf_life_days = 14\n\n"
    );
}

#[test]
fn reports_agree_with_themselves_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    generate_demo(&url, "1500");
    let report = |name: &str, format: &str| {
        let output = run(&[
            "report",
            name,
            "--database-url",
            &url,
            "--period",
            "2026-Q3",
            "--as-of",
            AS_OF,
            "--format",
            format,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&report("outcomes", "json")).unwrap();
    let count = |k: &str| json[k]["count"].as_u64().unwrap();
    let (won, comp, nd) = (
        count("won"),
        count("lost_to_competition"),
        count("lost_to_no_decision"),
    );
    assert!(won > 0 && comp > 0 && nd > 0, "{json}");
    let close = &json["close_rate"];
    assert_eq!(
        close["denominator"]["count"].as_u64().unwrap(),
        won + comp + nd
    );
    let by_count = close["by_count"].as_f64().unwrap();
    assert!((by_count - won as f64 / (won + comp + nd) as f64).abs() < 1e-12);
    let adjusted = &json["slippage_adjusted_close_rate"];
    assert_eq!(
        adjusted["denominator"]["count"].as_u64().unwrap(),
        won + comp + nd + count("slipped")
    );
    // The CSV carries the same counts.
    let csv = report("outcomes", "csv");
    assert!(csv.contains(&format!("\nwon,{won},")), "{csv}");
    let close_row = csv.lines().find(|l| l.starts_with("close_rate,")).unwrap();
    let cells: Vec<&str> = close_row.split(',').collect();
    assert_eq!(cells[1], won.to_string(), "{csv}");
    assert_eq!(cells[3], (won + comp + nd).to_string(), "{csv}");
    let table = report("outcomes", "table");
    assert!(
        table.starts_with("Outcomes of qualified deals closed in 2026-Q3"),
        "{table}"
    );
    // By team: the demo's four teams, adding up to the whole.
    let by_team = json_of(&[
        "report",
        "outcomes",
        "--database-url",
        &url,
        "--period",
        "2026-Q3",
        "--as-of",
        AS_OF,
        "--by",
        "team",
        "--format",
        "json",
    ]);
    let slices = by_team["slices"].as_array().unwrap();
    assert_eq!(slices.len(), 4, "{by_team}");
    assert!(slices.iter().all(|s| s["slice"]["team"].is_string()));
    let won_by_team: u64 = slices
        .iter()
        .map(|s| s["won"]["count"].as_u64().unwrap())
        .sum();
    assert_eq!(won_by_team, won);
    // Conversion: every pair of the six enterprise stages, five of them documented; each
    // stage's deals reach the next at most as often as they entered it.
    let conversion: serde_json::Value =
        serde_json::from_str(&report("conversion", "json")).unwrap();
    let rows = conversion["conversions"].as_array().unwrap();
    // 15 pairs of stages and 6 steps into a win; 5 next-stage steps and the last into a win.
    assert_eq!(rows.len(), 21);
    assert_eq!(rows.iter().filter(|r| r["documented"] == true).count(), 6);
    for row in rows {
        assert!(
            row["reached"].as_u64().unwrap() <= row["entered"].as_u64().unwrap(),
            "{row}"
        );
    }
    let times: serde_json::Value = serde_json::from_str(&report("time-in-stage", "json")).unwrap();
    for stage in times["stages"].as_array().unwrap() {
        let (median, p75) = (
            stage["median_days"].as_f64().unwrap(),
            stage["p75_days"].as_f64().unwrap(),
        );
        assert!(0.0 < median && median <= p75, "{stage}");
        assert!(stage["aging"].as_u64().unwrap() <= stage["open"].as_u64().unwrap());
    }
    // The waterfall of the quarter reconciles to the cent.
    let w: serde_json::Value = serde_json::from_str(&report("waterfall", "json")).unwrap();
    let line = |k: &str| w[k]["amount"].as_i64().unwrap();
    assert_eq!(
        line("start") + line("created") + line("pulled_in") + line("reopened") - line("pushed_out")
            + line("amount_changes")
            - line("won")
            - line("lost"),
        line("end"),
        "{w}"
    );
    assert!(line("won") > 0 && line("lost") > 0, "{w}");
    // Losses to competition add up across competitors; velocity has its inputs.
    let mix: serde_json::Value = serde_json::from_str(&report("loss-mix", "json")).unwrap();
    let by_competitor: u64 = mix["by_competitor"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["lost"]["count"].as_u64().unwrap())
        .sum();
    assert_eq!(by_competitor, comp);
    assert_eq!(mix["lost"]["count"].as_u64().unwrap(), comp + nd);
    let velocity: serde_json::Value = serde_json::from_str(&report("velocity", "json")).unwrap();
    assert_eq!(velocity["sales_cycle"]["won"].as_u64().unwrap(), won);
    assert!(
        velocity["velocity"]["per_day"].as_f64().unwrap() > 0.0,
        "{velocity}"
    );
    // Coverage of the quarter after the history's: (won + Commit + Best Case) / target.
    let coverage = json_of(&[
        "report",
        "coverage",
        "--database-url",
        &url,
        "--period",
        "2027-Q4",
        "--as-of",
        AS_OF,
        "--format",
        "json",
    ]);
    let c = &coverage;
    let amount = |k: &str| c[k]["amount"].as_i64().unwrap() as f64;
    let expected = (amount("won") + amount("commit") + amount("best_case"))
        / c["target"].as_i64().unwrap() as f64;
    assert!(
        (c["ratio"].as_f64().unwrap() - expected).abs() < 1e-12,
        "{coverage}"
    );
    // Diagnosis judges the six documented steps; a leaking step, if any, is one of them.
    let diagnosis = json_of(&[
        "report",
        "diagnosis",
        "--database-url",
        &url,
        "--as-of",
        AS_OF,
        "--format",
        "json",
    ]);
    let steps = diagnosis["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 6);
    let leak = &diagnosis["diagnosis"]["leaking_step"];
    if !leak.is_null() {
        assert!(steps.contains(leak), "{diagnosis}");
        assert!(diagnosis["diagnosis"]["focus"].is_string());
    }
    // Thirteen weekly snapshots in a 92-day quarter; the last one (31 October, the week ending
    // on the quarter's 91st day) matches the pipeline report for that day.
    let snapshots: serde_json::Value = serde_json::from_str(&report("snapshots", "json")).unwrap();
    let weeks = snapshots["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 13);
    let last = weeks.last().unwrap();
    let day = last["week_ending"].as_str().unwrap().to_owned();
    let that_day = json_of(&[
        "report",
        "pipeline",
        "--database-url",
        &url,
        "--as-of",
        &day,
        "--format",
        "json",
    ]);
    assert_eq!(last["categories"], that_day["categories"]);
    // The open pipeline on the last day of the history has deals in every open category.
    let pipeline: serde_json::Value = serde_json::from_str(&report("pipeline", "json")).unwrap();
    for category in ["pipeline", "best_case", "commit"] {
        assert!(
            pipeline["categories"][category]["count"].as_u64().unwrap() > 0,
            "{pipeline}"
        );
    }
}

#[test]
fn reports_break_down_by_several_dimensions_and_roll_up_managers() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    generate_demo(&url, "1500");
    let report = |args: &[&str]| {
        let mut all = vec!["report", "--database-url", &url, "--as-of", AS_OF];
        all.extend_from_slice(args);
        run(&all)
    };
    // CSV: the slice columns first; the whole's rows marked (all).
    let output = report(&[
        "conversion",
        "--period",
        "2026-Q3",
        "--by",
        "segment,size-band",
        "--format",
        "csv",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let csv = String::from_utf8(output.stdout).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("segment,size-band,from,to,documented,entered,reached,still_open,rate")
    );
    assert!(lines.next().unwrap().starts_with("(all),(all),qualified,"));
    // Entries into the first stage add up over the slices.
    let entered = |line: &str| line.split(',').nth(5).unwrap().parse::<u64>().unwrap();
    let first_step: Vec<&str> = csv
        .lines()
        .filter(|l| l.contains(",qualified,business_case,"))
        .collect();
    let (whole, parts) = first_step.split_first().unwrap();
    assert!(parts.len() > 1, "{csv}");
    assert_eq!(
        entered(whole),
        parts.iter().map(|l| entered(l)).sum::<u64>()
    );
    // Managers: the top of the hierarchy holds the company's whole pipeline and target; each
    // manager below it has the targets of the teams under them.
    let output = report(&["coverage", "--by", "manager", "--format", "json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let coverage: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let slices = coverage["slices"].as_array().unwrap();
    let top = slices
        .iter()
        .find(|s| s["target"] == coverage["target"])
        .unwrap();
    assert_eq!(top["won"], coverage["won"]);
    assert_eq!(top["best_case"], coverage["best_case"]);
    let below: i64 = slices
        .iter()
        .filter(|s| s["slice"] != top["slice"])
        .map(|s| s["target"].as_i64().unwrap())
        .sum();
    assert_eq!(below, coverage["target"].as_i64().unwrap(), "{coverage}");
    // A dimension named twice, and benchmarks that cannot be read, are refused by name.
    let output = report(&["outcomes", "--by", "owner,owner"]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("--by: owner is named twice"),
        "{}",
        stderr(&output)
    );
    let benchmarks = dir.path().join("benchmarks.toml");
    std::fs::write(&benchmarks, "[[steps]]\nprocess = \"enterprise\"\nfrom = \"qualified\"\nto = \"business_case\"\ntarget = [0.9, 0.2]\n").unwrap();
    let output = report(&["diagnosis", "--benchmarks", benchmarks.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("benchmarks.toml:5:10: steps[0].target: expected [low, high]"),
        "{}",
        stderr(&output)
    );
    // With a target range of its own, a step is held to it rather than to its baseline.
    std::fs::write(&benchmarks, "[[steps]]\nprocess = \"enterprise\"\nfrom = \"qualified\"\nto = \"business_case\"\ntarget = [0.99, 1.0]\naction = \"Tighten discovery.\"\n").unwrap();
    let output = report(&[
        "diagnosis",
        "--benchmarks",
        benchmarks.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let diagnosis: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let first = &diagnosis["steps"][0];
    assert_eq!(first["target"], serde_json::json!([0.99, 1.0]));
    assert_eq!(first["action"], "Tighten discovery.");
    assert!(diagnosis["steps"][1]["target"].is_null());
}

#[test]
fn exchange_rates_are_set_listed_and_refused_for_the_corporate_currency() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    generate_demo(&url, "50");
    let rates = |args: &[&str]| {
        let mut all = vec!["rates"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--database-url", &url]);
        run(&all)
    };
    let listed = rates(&["list"]);
    assert_eq!(
        String::from_utf8(listed.stdout).unwrap(),
        "No exchange rates: only amounts in USD are converted.\n"
    );
    let set = rates(&[
        "set",
        "--currency",
        "EUR",
        "--from",
        "2026-01-01",
        "--rate",
        "1.0825",
    ]);
    assert!(set.status.success(), "{}", stderr(&set));
    assert_eq!(
        String::from_utf8(set.stdout).unwrap(),
        "1 EUR = 1.0825 USD from 2026-01-01 on.\n"
    );
    let listed = rates(&["list"]);
    assert_eq!(
        String::from_utf8(listed.stdout).unwrap(),
        "EUR from 2026-01-01: 1.0825 USD\n"
    );
    let corporate = rates(&[
        "set",
        "--currency",
        "USD",
        "--from",
        "2026-01-01",
        "--rate",
        "1",
    ]);
    assert!(!corporate.status.success());
    assert!(stderr(&corporate).contains("--currency: USD is the corporate currency"));
    let bad = rates(&[
        "set",
        "--currency",
        "EUR",
        "--from",
        "2026-01-01",
        "--rate",
        "1.5e3",
    ]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("a positive rate with up to nine decimals"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn the_forecast_agrees_with_itself_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    generate_demo(&url, "1500");
    let forecast = |format: &str| {
        let output = run(&[
            "forecast",
            "--database-url",
            &url,
            "--as-of",
            AS_OF,
            "--format",
            format,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&forecast("json")).unwrap();
    // The quarter holding 23 November 2026 with a February fiscal year start.
    assert_eq!(json["period"], "2027-Q4");
    let csv = forecast("csv");
    for method in json["methods"].as_array().unwrap() {
        let name = method["method"].as_str().unwrap();
        let lines: Vec<&str> = csv.lines().filter(|l| l.starts_with(name)).collect();
        assert_eq!(
            lines.len(),
            method["lines"].as_array().unwrap().len(),
            "{csv}"
        );
        let expected: i64 = lines
            .iter()
            .map(|l| l.rsplit(',').next().unwrap().parse::<i64>().unwrap())
            .sum();
        assert_eq!(Some(expected), method["from_open"].as_i64(), "{name}");
    }
    let table = forecast("table");
    assert!(
        table.starts_with("Forecast 2027-Q4 (2026-11-01 – 2027-01-31)"),
        "{table}"
    );
    assert!(table.contains("── deal-model ──"), "{table}");
    let output = run(&["forecast", "--database-url", &url, "--period", "2027-Q9"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("--period"), "{}", stderr(&output));

    // The backtest: one CSV row per quarter, week and method, the same numbers as JSON.
    let backtest = |periods: &str, format: &str| {
        let output = run(&[
            "forecast",
            "backtest",
            "--database-url",
            &url,
            "--periods",
            periods,
            "--as-of",
            AS_OF,
            "--format",
            format,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    let json: serde_json::Value = serde_json::from_str(&backtest("2", "json")).unwrap();
    let weeks: usize = json["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["weeks"].as_array().unwrap().len())
        .sum();
    assert_eq!(weeks, 26, "two quarters of 13 weeks");
    assert_eq!(backtest("2", "csv").lines().count(), 1 + weeks * 4);
    let table = backtest("1", "table");
    assert!(
        table.contains("Most accurate over these periods:"),
        "{table}"
    );
    assert!(table.contains("── calibration: deal-model"), "{table}");
}

#[tokio::test]
async fn calls_and_adjustments_change_the_forecast_and_stay_in_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    generate_demo(&url, "1500");
    let forecast = || {
        json_of(&[
            "forecast",
            "--database-url",
            &url,
            "--period",
            "2027-Q4",
            "--format",
            "json",
        ])
    };
    let before = forecast();
    let deal = before["deals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["category"] == "commit" && d["in_call"] == true)
        .unwrap()
        .clone();
    let id = deal["opportunity_id"].as_str().unwrap();
    let amount = deal["amount"].as_i64().unwrap();
    let store = wait_for_store(&url).await;
    let workspace = store.workspace(&"demo".parse().unwrap()).await.unwrap();
    let users = store.users(workspace.id).await.unwrap();
    let rep = users
        .iter()
        .find(|u| u.name.as_str() == deal["owner"])
        .unwrap();
    let manager = users.iter().find(|u| Some(u.id) == rep.manager_id).unwrap();
    let (rep_email, manager_email) = (rep.email.to_string(), manager.email.to_string());

    let call = |extra: &[&str]| {
        let mut args = vec![
            "forecast",
            "call",
            "--database-url",
            &url,
            "--period",
            "2027-Q4",
            "--rep",
            &rep_email,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let snapshot = || {
        let output = run(&[
            "forecast",
            "snapshot",
            "--database-url",
            &url,
            "--period",
            "2027-Q4",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        String::from_utf8(output.stdout).unwrap()
    };
    assert!(snapshot().starts_with("Snapshot "));

    // Leaving a Commit deal out needs a note; the error names the flag.
    let refused = call(&["--exclude", id]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains(&format!("--exclude {id} (--note)")),
        "{}",
        stderr(&refused)
    );
    let note = format!("{id}=Signature slips to February");
    assert!(call(&["--exclude", id, "--note", &note]).status.success());

    let after = forecast();
    let from_open = |f: &serde_json::Value| f["methods"][0]["from_open"].as_i64().unwrap();
    assert_eq!(from_open(&before) - from_open(&after), amount);
    let line = |f: &serde_json::Value, name: &str| {
        f["people"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()
            .clone()
    };
    let rep_line = line(&after, rep.name.as_str());
    assert!(rep_line["called_at"].is_string(), "{rep_line}");
    assert_eq!(
        line(&before, rep.name.as_str())["single"].as_i64().unwrap()
            - rep_line["single"].as_i64().unwrap(),
        amount
    );

    // A second snapshot, compared with the first, shows the deal leaving the call.
    snapshot();
    let listed = json_of(&[
        "forecast",
        "snapshots",
        "--database-url",
        &url,
        "--period",
        "2027-Q4",
        "--format",
        "json",
    ]);
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2, "{listed}");
    let comparison = json_of(&[
        "forecast",
        "compare",
        "--database-url",
        &url,
        "--from",
        ids[0],
        "--to",
        ids[1],
        "--format",
        "json",
    ]);
    let moved = comparison["deals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["opportunity_id"] == id)
        .unwrap();
    assert_eq!(
        (
            moved["change"].as_str(),
            moved["from"]["in_call"].as_bool(),
            moved["to"]["in_call"].as_bool()
        ),
        (Some("changed"), Some(true), Some(false))
    );
    assert_eq!(
        comparison["methods"][0]["change"].as_i64(),
        Some(-amount),
        "{comparison}"
    );

    // The manager puts the rep's number at $1,000,000; their own roll-up follows.
    let adjusted = run(&[
        "forecast",
        "adjust",
        "--database-url",
        &url,
        "--period",
        "2027-Q4",
        "--for",
        &rep_email,
        "--by",
        &manager_email,
        "--amount",
        "1000000",
        "--note",
        "Two renewals land early",
    ]);
    assert!(adjusted.status.success(), "{}", stderr(&adjusted));
    let adjusted = forecast();
    let rep_line = line(&adjusted, rep.name.as_str());
    assert_eq!(rep_line["forecast"].as_i64(), Some(100_000_000));
    let manager_before = line(&after, manager.name.as_str())["cumulative"]
        .as_i64()
        .unwrap();
    let manager_after = line(&adjusted, manager.name.as_str())["cumulative"]
        .as_i64()
        .unwrap();
    assert_eq!(
        manager_after - manager_before,
        100_000_000
            - line(&after, rep.name.as_str())["forecast"]
                .as_i64()
                .unwrap()
    );

    // Both stay in the history, with who submitted them.
    let history = run(&[
        "forecast",
        "history",
        "--database-url",
        &url,
        "--period",
        "2027-Q4",
        "--format",
        "csv",
    ]);
    let history = String::from_utf8(history.stdout).unwrap();
    assert_eq!(history.lines().count(), 3, "{history}");
    assert!(
        history.contains(&format!(
            ",call,{},{id},out,Signature slips to February",
            rep.name
        )),
        "{history}"
    );
    assert!(history.contains(",adjustment,"), "{history}");
}

/// The numbers of one kind's line of an import summary: read, new, imported before, skipped.
fn summary_row<'a>(out: &'a str, kind: &str) -> Vec<&'a str> {
    out.lines()
        .find(|l| l.starts_with(kind))
        .map(|l| l.split_whitespace().skip(1).collect())
        .unwrap_or_default()
}

/// The Salesforce fixture of the import crate.
fn salesforce_export() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../import/tests/fixtures/salesforce")
}

#[test]
fn an_import_is_checked_tried_run_and_run_again_as_users_run_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let folder = salesforce_export();
    let folder = folder.to_str().unwrap();
    let issues = dir.path().join("issues.csv");
    let issues = issues.to_str().unwrap();
    let import = |extra: &[&str]| {
        let mut args = vec![
            "import",
            "salesforce",
            folder,
            "--database-url",
            &url,
            "--workspace",
            "acme",
            "--by",
            "ops@acme.test",
            "--issues",
            issues,
        ];
        args.extend_from_slice(extra);
        run(&args)
    };

    // A draft and a dry run read the export without creating the database.
    let draft = run(&[
        "import",
        "salesforce",
        folder,
        "--suggest",
        "--database-url",
        &url,
    ]);
    assert!(String::from_utf8_lossy(&draft.stdout).contains("\"Closed Won\" = \"won\""));
    let dry = import(&["--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert_eq!(
        summary_row(&String::from_utf8_lossy(&dry.stdout), "opportunities"),
        ["9", "8", "0", "1"]
    );
    assert!(
        !dir.path().join("pipewise.db").exists(),
        "no database file was created"
    );

    // A mapping that leaves stages out stops the import, naming them; nothing is created.
    let partial = dir.path().join("partial.toml");
    std::fs::write(
        &partial,
        "process = \"enterprise\"\n[stages]\n\"Closed Won\" = \"won\"\n",
    )
    .unwrap();
    let refused = import(&["--mapping", partial.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("stages not in the mapping file: \"Qualification\" (8 rows)"),
        "{}",
        stderr(&refused)
    );
    assert!(
        !std::path::Path::new(issues).exists(),
        "the issues file of the dry run before is not left to pass for this import's"
    );

    // A dry run reports everything and writes nothing.
    let dry = import(&["--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(out.contains("Dry run: nothing was written."), "{out}");
    assert_eq!(
        summary_row(&out, "opportunities"),
        ["9", "8", "0", "1"],
        "{out}"
    );
    let report = std::fs::read_to_string(issues).unwrap();
    assert!(report.starts_with("file,line,column,value,reason\n"));
    assert!(
        report.contains("Contact.csv,5,AccountId,001000000000009AAA,"),
        "{report}"
    );
    let workspaces = run(&[
        "report",
        "outcomes",
        "--database-url",
        &url,
        "--workspace",
        "acme",
    ]);
    assert!(
        !workspaces.status.success(),
        "the dry run created no workspace"
    );

    // The import creates the workspace; a second run finds everything imported before.
    let first = import(&[]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        String::from_utf8_lossy(&first.stdout).contains("Imported 23 records and 25 deal events")
    );
    let second = import(&[]);
    let out = String::from_utf8_lossy(&second.stdout);
    assert_eq!(
        summary_row(&out, "opportunities"),
        ["9", "0", "8", "1"],
        "{out}"
    );
    assert!(
        out.contains("Imported 0 records and 0 deal events"),
        "{out}"
    );

    // With nothing to report, the issues file holds only its header.
    let clean = dir.path().join("clean.csv");
    let generic =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../import/tests/fixtures/csv");
    let checked = run(&[
        "import",
        "csv",
        generic.to_str().unwrap(),
        "--database-url",
        &url,
        "--workspace",
        "other",
        "--by",
        "ops@other.test",
        "--dates",
        "us",
        "--dry-run",
        "--issues",
        clean.to_str().unwrap(),
    ]);
    assert!(checked.status.success(), "{}", stderr(&checked));
    assert_eq!(
        std::fs::read_to_string(&clean).unwrap(),
        "file,line,column,value,reason\n"
    );

    // The export reads back into another workspace with the same outcomes.
    let export = dir.path().join("export");
    let exported = run(&[
        "export",
        export.to_str().unwrap(),
        "--database-url",
        &url,
        "--workspace",
        "acme",
    ]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let copy = run(&[
        "import",
        "csv",
        export.to_str().unwrap(),
        "--database-url",
        &url,
        "--workspace",
        "copy",
        "--by",
        "boss@copy.test",
        "--issues",
        issues,
    ]);
    assert!(copy.status.success(), "{}", stderr(&copy));
    let outcomes = |workspace: &str| {
        json_of(&[
            "report",
            "outcomes",
            "--database-url",
            &url,
            "--workspace",
            workspace,
            "--period",
            "2025-Q1",
            "--as-of",
            "2025-06-30",
            "--format",
            "json",
        ])
    };
    let (original, copied) = (outcomes("acme"), outcomes("copy"));
    assert_eq!(original["close_rate"], copied["close_rate"]);
    assert_eq!(original["close_rate"]["numerator"]["count"], 2);
    assert_eq!(original["close_rate"]["denominator"]["count"], 4);
}
