//! The workspace's sales process: the definitions in force with their version as the ETag,
//! their history, and applying a new set of files. A new set is checked whole — every file,
//! and that no open deal is left in a process or stage it removes — and stored as the next
//! version, or refused with nothing changed.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use pipewise_core::access::Action;
use pipewise_core::process::{DefinitionErrors, Process, ProcessFile, ProcessRevision, ProcessSet};
use pipewise_core::validation::{FieldErrors, Fields, InvalidValue};
use pipewise_store::processes::{self, Applied, ProcessChangeFailed};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::body::JsonBody;
use crate::versioning::{IfMatch, Versioned};
use crate::{ApiError, AppState};

/// The process definitions in force.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct ProcessView {
    /// Changes with every applied set; send it back in `If-Match` to apply the next.
    version: u32,
    /// Each process as it was read from its file: stages, phases, criteria.
    processes: Vec<Process>,
    /// The TOML files that define them, as they were applied.
    files: Vec<ProcessFile>,
}

impl ProcessView {
    fn versioned(set: ProcessSet) -> Versioned<Self> {
        let version = set.version().0;
        Versioned {
            version,
            location: None,
            body: Self {
                version,
                processes: set.processes().to_vec(),
                files: set.files().to_vec(),
            },
        }
    }
}

/// `GET /api/v1/workspaces/{workspace}/process`: the definitions in force.
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Versioned<ProcessView>, ApiError> {
    let set = processes::current(&*state.store, &caller.workspace).await?;
    Ok(ProcessView::versioned(set))
}

/// `GET /api/v1/workspaces/{workspace}/process/history`: every version, oldest first, with
/// who applied it, when, and what changed.
pub(crate) async fn history(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ProcessRevision>>, ApiError> {
    Ok(Json(
        state.store.process_history(caller.workspace.id).await?,
    ))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileBody {
    /// The file's name, such as `enterprise.toml`; errors name it.
    name: Option<String>,
    /// The file's TOML.
    text: Option<String>,
}

/// Every process file of the workspace: processes left out are removed.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProcessBody {
    files: Option<Vec<FileBody>>,
}

/// `PUT /api/v1/workspaces/{workspace}/process`: makes these files the workspace's process
/// definitions, as the next version (admins). Files with errors are refused with each error
/// located by file, line, column and key; a set that would strand open deals is refused
/// with 409. Files that define what is in force already keep the version.
pub(crate) async fn apply(
    State(state): State<AppState>,
    caller: Caller,
    IfMatch(version): IfMatch,
    JsonBody(body): JsonBody<ProcessBody>,
) -> Result<Versioned<ProcessView>, ApiError> {
    caller.access.check_action(Action::EditProcess)?;
    let files = files(body)?;
    let running = processes::current(&*state.store, &caller.workspace).await?;
    if let Some(version) = version.filter(|v| *v != running.version().0) {
        tracing::debug!(version, "stale process version");
        return Err(ApiError::VersionMismatch {
            current: running.version().0,
        });
    }
    let applied = processes::apply(
        &*state.store,
        &caller.workspace,
        files,
        caller.user.id,
        Utc::now(),
    )
    .await;
    match applied {
        Ok(Applied::NewVersion(_) | Applied::Unchanged(_)) => {
            let set = processes::current(&*state.store, &caller.workspace).await?;
            Ok(ProcessView::versioned(set))
        }
        Err(ProcessChangeFailed::Invalid(errors)) => Err(located(errors).into()),
        Err(ProcessChangeFailed::StrandsOpenDeals(stranded)) => {
            Err(ApiError::Conflict(stranded.join("; ")))
        }
        Err(ProcessChangeFailed::Store(error)) => Err(error.into()),
    }
}

fn files(body: ProcessBody) -> Result<Vec<ProcessFile>, FieldErrors> {
    let Some(bodies) = body.files.filter(|f| !f.is_empty()) else {
        return Err(InvalidValue::missing("one or more process files")
            .at("files")
            .into());
    };
    let mut fields = Fields::default();
    let mut files = Vec::new();
    for (i, file) in bodies.into_iter().enumerate() {
        let name = fields.require(&format!("files[{i}].name"), file.name.as_deref(), |name| {
            Some(name)
                .filter(|n| n.ends_with(".toml") && n.len() <= 100 && !n.contains(['/', '\\']))
                .map(str::to_owned)
                .ok_or_else(|| InvalidValue::new(name, "a file name ending in .toml"))
        });
        let text = fields.require(&format!("files[{i}].text"), file.text.as_deref(), |t| {
            Ok::<_, InvalidValue>(t.to_owned())
        });
        if let (Some(name), Some(text)) = (name, text) {
            files.push(ProcessFile { name, text });
        }
    }
    fields.finish()?;
    Ok(files)
}

/// Definition errors as field errors: the field is where in which file.
pub(crate) fn located(errors: DefinitionErrors) -> FieldErrors {
    let mut fields = Fields::default();
    for error in errors.0 {
        let mut at = format!("{}:{}:{}", error.file, error.line, error.column);
        if !error.key.is_empty() {
            at = format!("{at} {}", error.key);
        }
        fields.push(InvalidValue::new("", error.message).at(at));
    }
    match fields.finish() {
        Err(errors) => errors,
        // A refused set always has at least one error.
        Ok(()) => FieldErrors::from(InvalidValue::missing("valid process files").at("files")),
    }
}
