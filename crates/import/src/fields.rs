//! Values read from a row the way every source reads them: optional values dropped with an
//! issue when they do not parse, required ones skipping the row, references to records read
//! earlier, and names and labels cut to what pipewise keeps.

use chrono::{DateTime, Utc};
use pipewise_core::external::ExternalKind;
use pipewise_core::ids::UserId;
use pipewise_core::text::{Label, Name, Note};
use pipewise_core::validation::InvalidValue;
use uuid::Uuid;

use crate::prepared::Ids;
use crate::table::{Column, Row};
use crate::{Context, Issue};

/// Registers the row's record by its id and gives that id with the record's pipewise id;
/// `None` when it was imported before. Says why it cannot be registered: no valid id, or
/// an id an earlier row already had.
pub fn register(
    ids: &mut Ids,
    context: &Context<'_>,
    kind: ExternalKind,
    row: &Row<'_>,
    id: Column,
    created_at: DateTime<Utc>,
) -> Result<Option<(String, Uuid)>, Issue> {
    let external = row.parse_required(id, ids.format())?;
    match ids.register(context, kind, &external, created_at, row.line()) {
        Ok(registered) if registered.known => Ok(None),
        Ok(registered) => Ok(Some((external, registered.uuid))),
        Err(first) => Err(row.issue(
            id,
            &external,
            format!("the id is used again (first at line {first}); the row is skipped"),
        )),
    }
}

/// A person's `Name`, or `FirstName` and `LastName` joined.
pub fn person_name(
    row: &Row<'_>,
    name: Option<Column>,
    first: Option<Column>,
    last: Option<Column>,
) -> Result<Name, Issue> {
    let joined = match row.get(name) {
        Some(name) => name.to_owned(),
        None => [row.get(first), row.get(last)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
    };
    Name::parse(&joined).map_err(|_| match name.or(last) {
        Some(column) => row.issue(column, &joined, "a name is required; the row is skipped"),
        None => {
            row.row_issue("the file has no Name, FirstName or LastName column; the row is skipped")
        }
    })
}

/// The pipewise id of the record `column` names; an issue if it names none.
pub fn reference(row: &Row<'_>, column: Column, ids: &Ids, missing: &str) -> Result<Uuid, Issue> {
    let external = row.parse_required(column, ids.format())?;
    ids.get(&external)
        .map(|id| id.uuid)
        .ok_or_else(|| row.issue(column, &external, missing))
}

/// An optional link to another record; one that names no imported record is dropped and
/// reported.
pub fn linked(
    row: &Row<'_>,
    column: Option<Column>,
    ids: &Ids,
    issues: &mut Vec<Issue>,
) -> Option<Uuid> {
    let text = row.get(column)?;
    let found = (ids.format())(text)
        .ok()
        .and_then(|id| ids.get(&id))
        .map(|id| id.uuid);
    if found.is_none() {
        if let Some(column) = column {
            issues.push(row.issue(
                column,
                text,
                "no imported record has this id; imported without the link",
            ));
        }
    }
    found
}

pub fn optional_user(
    row: &Row<'_>,
    column: Option<Column>,
    users: &Ids,
    issues: &mut Vec<Issue>,
) -> Option<UserId> {
    linked(row, column, users, issues).map(UserId::from_uuid)
}

/// An optional value; one that does not parse is dropped and reported.
pub fn optional<T>(
    row: &Row<'_>,
    column: Option<Column>,
    issues: &mut Vec<Issue>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Option<T> {
    match row.parse(column, |t| {
        parse(t).map_err(|expected| format!("expected {expected}; imported without it"))
    }) {
        Ok(value) => value,
        Err(issue) => {
            issues.push(issue);
            None
        }
    }
}

/// A refused value as what the source should have given.
pub fn expected<T>(parsed: Result<T, InvalidValue>) -> Result<T, String> {
    parsed.map_err(|e| e.expected().to_owned())
}

pub fn label(text: &str) -> Result<Label, String> {
    expected(Label::parse(text))
}

/// A name, cut to the longest pipewise keeps (Salesforce allows 255 characters).
pub fn clipped_name(text: &str) -> Result<Name, String> {
    let clipped: String = text.chars().take(Name::MAX_CHARS).collect();
    Name::parse(&clipped).map_err(|e| e.expected().to_owned())
}

pub fn fixed_note(text: &str) -> Note {
    Note::parse(text).unwrap_or_else(|_| unreachable!("a fixed note is valid"))
}

pub fn fixed_name(text: &str) -> Name {
    Name::parse(text).unwrap_or_else(|_| unreachable!("a fixed name is valid"))
}
