//! Bad input never panics: arbitrary bytes as a CSV file, arbitrary text as values and as a
//! mapping file, arbitrary cells in every column of an export. And the documented handling
//! of duplicate ids, wrong row widths and missing columns.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

use std::path::Path;

use chrono::Utc;
use pipewise_core::access::RepVisibility;
use pipewise_core::calendar::FiscalCalendar;
use pipewise_core::ids::WorkspaceId;
use pipewise_core::money::Currency;
use pipewise_core::org::Workspace;
use pipewise_core::process::ProcessSet;
use pipewise_core::text::{Name, Slug};
use pipewise_import::mapping::Mapping;
use pipewise_import::table::Table;
use pipewise_import::values::{DateStyle, amount, count, flag, salesforce_id};
use pipewise_import::{ImportError, Known, Prepared, Request, Source};
use proptest::prelude::*;

const MAPPING: &str =
    "process = \"enterprise\"\n[stages]\n\"Open\" = \"qualified\"\n\"Won\" = \"won\"\n";

fn read(folder: &Path) -> Result<Prepared, ImportError> {
    let processes = ProcessSet::shipped();
    let mapping = Mapping::parse("m.toml", MAPPING, &processes).unwrap();
    let workspace = Workspace {
        id: WorkspaceId::generate(),
        slug: Slug::parse("robust").unwrap(),
        name: Name::parse("Robust").unwrap(),
        corporate_currency: Currency::USD,
        fiscal_calendar: FiscalCalendar::starting_in(1).unwrap(),
        rep_visibility: RepVisibility::Team,
        created_at: Utc::now(),
    };
    let request = Request {
        source: Source::Csv,
        folder,
        mapping: &mapping,
        dates: DateStyle::Iso,
    };
    pipewise_import::read(&workspace, &processes, request, &Known::default())
}

fn write(folder: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        std::fs::write(folder.join(name), text).unwrap();
    }
}

const USERS: &str = "id,name,email\nu1,Ana Ruiz,ana@acme.test\n";
const ACCOUNTS: &str = "id,name,created_at\na1,Acme,2025-01-01\n";

#[test]
fn a_second_row_with_the_same_id_is_reported_and_skipped() {
    let folder = tempfile::tempdir().unwrap();
    write(
        folder.path(),
        &[
            ("users.csv", USERS),
            (
                "accounts.csv",
                "id,name,created_at\na1,Acme,2025-01-01\na2,Beta,2025-01-01\na1,Acme again,2025-01-02\n",
            ),
            (
                "opportunities.csv",
                "id,name,account_id,owner_id,stage,close_date,created_at\n",
            ),
        ],
    );
    let prepared = read(folder.path()).unwrap();
    assert_eq!(prepared.accounts.len(), 2);
    let issue = &prepared.issues[0];
    assert_eq!(
        (
            issue.file.as_str(),
            issue.line,
            issue.column.as_str(),
            issue.value.as_str()
        ),
        ("accounts.csv", 4, "id", "a1")
    );
    assert_eq!(
        issue.reason,
        "the id is used again (first at line 2); the row is skipped"
    );
}

#[test]
fn missing_files_and_columns_stop_the_import_naming_them() {
    let folder = tempfile::tempdir().unwrap();
    write(
        folder.path(),
        &[("users.csv", USERS), ("accounts.csv", ACCOUNTS)],
    );
    let missing_file = read(folder.path()).unwrap_err().to_string();
    assert!(
        missing_file.ends_with("has no opportunities.csv; it holds the deals"),
        "{missing_file}"
    );
    write(folder.path(), &[("opportunities.csv", "id,name,stage\n")]);
    let missing_columns = read(folder.path()).unwrap_err().to_string();
    assert_eq!(
        missing_columns,
        "opportunities.csv: the header has no column account_id, owner_id, close_date, created_at"
    );
}

#[test]
fn extra_columns_are_ignored_and_rows_of_the_wrong_width_skipped() {
    let folder = tempfile::tempdir().unwrap();
    write(
        folder.path(),
        &[
            ("users.csv", USERS),
            (
                "accounts.csv",
                "id,name,created_at,favourite_colour\na1,Acme,2025-01-01,green\na2,Beta\n",
            ),
            (
                "opportunities.csv",
                "id,name,account_id,owner_id,stage,close_date,created_at\nd1,Deal,a1,u1,Open,2025-06-30,2025-01-02\n",
            ),
        ],
    );
    let prepared = read(folder.path()).unwrap();
    assert_eq!(
        (prepared.accounts.len(), prepared.opportunities.len()),
        (1, 1)
    );
    let accounts: Vec<_> = prepared
        .issues
        .iter()
        .filter(|i| i.file == "accounts.csv")
        .collect();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].line, 3);
    assert!(
        accounts[0]
            .reason
            .starts_with("the row has 2 fields but the header has 4")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_read_as_a_table_or_fail_with_a_located_error(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let lines_in_file = 1 + bytes.iter().filter(|&&b| b == b'\n').count() as u64;
        if let Ok(table) = Table::from_bytes("any.csv".into(), bytes) {
            let mut issues = Vec::new();
            let mut lines = Vec::new();
            let _ = table.rows(&mut issues, |row, _| lines.push(row.line()));
            // Rows come in file order, each on a line the file has.
            prop_assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{:?}", lines);
            prop_assert!(lines.iter().all(|&l| (1..=lines_in_file).contains(&l)), "{:?}", lines);
            for issue in issues {
                prop_assert_eq!(issue.file, "any.csv");
                prop_assert!((1..=lines_in_file).contains(&issue.line));
            }
        }
    }

    #[test]
    fn any_text_as_a_value_is_read_or_refused(text in "\\PC{0,30}") {
        for style in [DateStyle::Iso, DateStyle::Us, DateStyle::Eu] {
            let _ = style.time(&text);
            let _ = style.date(&text);
        }
        let _ = amount(&text, Currency::USD);
        let _ = count(&text);
        let _ = flag(&text);
        if let Ok(id) = salesforce_id(&text) {
            prop_assert_eq!(id.len(), 18);
        }
    }

    #[test]
    fn any_text_as_a_mapping_file_is_read_or_refused_with_lines(text in "[\\[\\]a-z_=\" \\n0-9.{},]{0,200}") {
        if let Err(errors) = Mapping::parse("m.toml", &text, &ProcessSet::shipped()) {
            prop_assert!(errors.0.iter().all(|e| e.line >= 1));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any cell in any column of a deal's row, and any history row: the import reads what
    /// it can and reports the rest.
    #[test]
    fn any_cells_of_an_export_are_read_or_reported(cells in proptest::collection::vec("[^\\n\\r]{0,12}", 14)) {
        let folder = tempfile::tempdir().unwrap();
        let quoted: Vec<String> = cells.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
        write(
            folder.path(),
            &[
                ("users.csv", USERS),
                ("accounts.csv", ACCOUNTS),
                ("opportunities.csv", &format!(
                    "id,name,account_id,owner_id,stage,amount,close_date,created_at,updated_at\n{}\n",
                    quoted[..9].join(","),
                )),
                ("history.csv", &format!("deal_id,at,stage,amount,close_date\n{}\n", quoted[9..].join(","))),
            ],
        );
        match read(folder.path()) {
            Ok(prepared) => {
                let deals = prepared.tallies.values().map(|t| t.skipped).sum::<u64>();
                prop_assert!(prepared.opportunities.len() <= 1);
                prop_assert!(deals <= 1);
            }
            Err(ImportError::Unmapped(unmapped)) => prop_assert!(!unmapped.stages.is_empty()),
            Err(other) => prop_assert!(false, "{other}"),
        }
    }
}
