//! Workspace settings an admin may change.

use axum::Json;
use axum::extract::State;
use pipewise_core::access::{Action, RepVisibility};
use pipewise_core::validation::Fields;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::auth::Caller;
use crate::body::JsonBody;
use crate::{ApiError, AppState};

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Settings {
    rep_visibility: RepVisibility,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SettingsChange {
    /// `team` (reps read their team's deals) or `own`.
    rep_visibility: Option<String>,
}

/// `GET /api/v1/workspaces/{workspace}/settings`.
pub(crate) async fn show(caller: Caller) -> Json<Settings> {
    Json(Settings {
        rep_visibility: caller.workspace.rep_visibility,
    })
}

/// `PATCH /api/v1/workspaces/{workspace}/settings`: admins only.
pub(crate) async fn change(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<SettingsChange>,
) -> Result<Json<Settings>, ApiError> {
    caller.access.check_action(Action::ConfigureWorkspace)?;
    let mut fields = Fields::default();
    let visibility = fields.check_optional(
        "rep_visibility",
        body.rep_visibility.as_deref(),
        str::parse::<RepVisibility>,
    );
    fields.finish()?;
    let rep_visibility = visibility.unwrap_or(caller.workspace.rep_visibility);
    state
        .store
        .set_rep_visibility(caller.workspace.id, rep_visibility)
        .await?;
    state.directory.forget();
    Ok(Json(Settings { rep_visibility }))
}
