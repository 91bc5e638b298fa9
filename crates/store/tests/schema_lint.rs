//! Keeps the PostgreSQL schema distributable by workspace on PostgreSQL-compatible engines
//! (Citus, YugabyteDB, CockroachDB): every workspace-owned table leads with `workspace_id`,
//! which starts its primary key and every foreign key, unique key and index; no sequences,
//! triggers, stored code, ENUM types, extensions or advisory locks; integers are BIGINT; and
//! migrations only add.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

use std::fs;
use std::path::Path;

/// Words that must not appear in a migration, with the rule each breaks.
const FORBIDDEN: &[(&str, &str)] = &[
    ("SERIAL", "ids are UUIDv7 made by the application"),
    ("BIGSERIAL", "ids are UUIDv7 made by the application"),
    ("SMALLSERIAL", "ids are UUIDv7 made by the application"),
    ("SEQUENCE", "ids are UUIDv7 made by the application"),
    ("IDENTITY", "ids are UUIDv7 made by the application"),
    ("AUTOINCREMENT", "ids are UUIDv7 made by the application"),
    ("TRIGGER", "rules live in the application"),
    ("FUNCTION", "rules live in the application"),
    ("PROCEDURE", "rules live in the application"),
    ("EXTENSION", "extensions are not portable"),
    ("ENUM", "enums are TEXT with a CHECK constraint"),
    ("PG_ADVISORY", "advisory locks are not portable"),
    ("DROP", "migrations only add"),
    ("RENAME", "migrations only add"),
    ("TRUNCATE", "migrations only add"),
    ("SMALLINT", "integers are BIGINT"),
    ("INTEGER", "integers are BIGINT"),
    ("INT", "integers are BIGINT"),
    ("INT4", "integers are BIGINT"),
];

/// The one table not owned by a workspace: the workspaces themselves.
const ROOT_TABLE: &str = "workspaces";

fn lint(sql: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let code: String = sql
        .lines()
        .map(|line| line.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    for statement in code.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let upper = statement.to_uppercase();
        let words: Vec<&str> = upper
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect();
        for (word, rule) in FORBIDDEN {
            if words.contains(word) {
                problems.push(format!("{word} in `{}`: {rule}", first_line(statement)));
            }
        }
        if upper.starts_with("CREATE TABLE") {
            lint_table(statement, &mut problems);
        } else if upper.starts_with("CREATE INDEX") || upper.starts_with("CREATE UNIQUE INDEX") {
            let columns = parenthesised(statement).unwrap_or_default();
            if !starts_with_workspace(columns) {
                problems.push(format!(
                    "index `{}` does not start with workspace_id",
                    first_line(statement)
                ));
            }
        } else if !upper.starts_with("ALTER TABLE") || !upper.contains(" ADD ") {
            problems.push(format!("unexpected statement `{}`", first_line(statement)));
        }
    }
    problems
}

fn lint_table(statement: &str, problems: &mut Vec<String>) {
    let name = statement
        .split_whitespace()
        .nth(2)
        .unwrap_or_default()
        .trim_matches('(')
        .to_lowercase();
    let body = parenthesised(statement).unwrap_or_default();
    let items = split_top_level(body);
    if name == ROOT_TABLE {
        return;
    }
    let mut problem = |what: String| problems.push(format!("table {name}: {what}"));
    if !items
        .first()
        .is_some_and(|first| first.to_lowercase().starts_with("workspace_id "))
    {
        problem("the first column must be workspace_id".into());
    }
    let mut has_primary_key = false;
    for item in &items {
        let upper = item.to_uppercase();
        let is_column = ![
            "PRIMARY KEY",
            "FOREIGN KEY",
            "UNIQUE",
            "CHECK",
            "CONSTRAINT",
        ]
        .iter()
        .any(|k| upper.starts_with(k));
        if is_column {
            let column = item
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_lowercase();
            if upper.contains("PRIMARY KEY") || upper.contains(" UNIQUE") {
                problem(format!("column {column} declares a key on its own"));
            }
            if upper.contains("REFERENCES")
                && !(column == "workspace_id" && upper.contains("REFERENCES WORKSPACES"))
            {
                problem(format!(
                    "column {column} declares a foreign key without workspace_id"
                ));
            }
            continue;
        }
        let columns = parenthesised(item).unwrap_or_default();
        if upper.starts_with("PRIMARY KEY") {
            has_primary_key = true;
        }
        if (upper.starts_with("PRIMARY KEY")
            || upper.starts_with("FOREIGN KEY")
            || upper.starts_with("UNIQUE"))
            && !starts_with_workspace(columns)
        {
            problem(format!("`{item}` does not start with workspace_id"));
        }
        if let Some((_, target)) = upper.split_once("REFERENCES") {
            if !starts_with_workspace(parenthesised(target).unwrap_or_default()) {
                problem(format!("`{item}` references columns without workspace_id"));
            }
        }
    }
    if !has_primary_key {
        problem("has no PRIMARY KEY (workspace_id, ...)".into());
    }
}

fn first_line(statement: &str) -> &str {
    statement.lines().next().unwrap_or_default().trim()
}

/// The text inside the first parenthesis and its match.
fn parenthesised(text: &str) -> Option<&str> {
    let start = text.find('(')?;
    let mut depth = 0;
    for (i, c) in text[start..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&text[start + 1..start + i]);
                }
            }
            _ => {}
        }
    }
    None
}

fn split_top_level(body: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in body.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                items.push(current.split_whitespace().collect::<Vec<_>>().join(" "));
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        items.push(current.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    items
}

fn starts_with_workspace(columns: &str) -> bool {
    columns.trim().to_lowercase().starts_with("workspace_id")
}

#[test]
fn postgres_migrations_follow_the_portability_rules() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let problems = lint(&fs::read_to_string(&file).unwrap());
        assert!(
            problems.is_empty(),
            "{}:\n{}",
            file.display(),
            problems.join("\n")
        );
    }
}

#[test]
fn both_backends_have_the_same_migrations() {
    let names = |backend: &str| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(backend);
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names("sqlite"), names("postgres"));
}

#[test]
fn the_lint_catches_each_kind_of_violation() {
    let cases = [
        (
            "CREATE TABLE deals (id UUID NOT NULL, workspace_id UUID NOT NULL, PRIMARY KEY (workspace_id, id));",
            "first column",
        ),
        (
            "CREATE TABLE deals (workspace_id UUID NOT NULL, id UUID NOT NULL, PRIMARY KEY (id));",
            "does not start with workspace_id",
        ),
        (
            "CREATE TABLE deals (workspace_id UUID NOT NULL, id BIGSERIAL, PRIMARY KEY (workspace_id, id));",
            "UUIDv7",
        ),
        (
            "CREATE TABLE deals (workspace_id UUID NOT NULL, n INTEGER, PRIMARY KEY (workspace_id, n));",
            "BIGINT",
        ),
        (
            "CREATE TABLE deals (workspace_id UUID NOT NULL, owner UUID REFERENCES users (id), PRIMARY KEY (workspace_id, owner));",
            "foreign key without workspace_id",
        ),
        (
            "CREATE TABLE deals (workspace_id UUID NOT NULL, a UUID, PRIMARY KEY (workspace_id, a), FOREIGN KEY (workspace_id, a) REFERENCES accounts (id));",
            "references columns without workspace_id",
        ),
        (
            "CREATE TABLE deals (workspace_id UUID NOT NULL, email TEXT UNIQUE, PRIMARY KEY (workspace_id, email));",
            "key on its own",
        ),
        (
            "CREATE TABLE deals (workspace_id UUID NOT NULL, a UUID);",
            "no PRIMARY KEY",
        ),
        ("CREATE INDEX deals_by_owner ON deals (owner_id);", "index"),
        ("CREATE TYPE stage AS ENUM ('a', 'b');", "ENUM"),
        ("ALTER TABLE deals DROP COLUMN name;", "only add"),
        (
            "CREATE TRIGGER t AFTER INSERT ON deals FOR EACH ROW EXECUTE FUNCTION f();",
            "application",
        ),
    ];
    for (sql, expected) in cases {
        let problems = lint(sql);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{sql}\n→ {problems:?}"
        );
    }
    assert!(lint("ALTER TABLE deals ADD COLUMN region TEXT;").is_empty());
}
