//! The workspace's people, and their passwords.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::NoContent;
use chrono::Utc;
use pipewise_core::access::Action;
use pipewise_core::credentials::check_password;
use pipewise_core::ids::UserId;
use pipewise_core::org::User;
use pipewise_core::validation::{FieldErrors, Fields, InvalidValue};
use schemars::JsonSchema;
use serde::Deserialize;

use super::IdPath;
use crate::auth::{Caller, hash_password, verify_password};
use crate::body::JsonBody;
use crate::{ApiError, AppState};

/// `GET /api/v1/workspaces/{workspace}/users`: everyone in the workspace, with role and
/// manager, for every role (owners and managers are named on every deal).
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<User>>, ApiError> {
    Ok(Json(state.store.users(caller.workspace.id).await?))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewPassword {
    password: Option<String>,
    /// Required when changing one's own password.
    current_password: Option<String>,
}

/// `PUT /api/v1/workspaces/{workspace}/users/{id}/password`: one's own password (with the
/// current one), or anyone's for an admin. Ends the user's other sessions.
pub(crate) async fn set_password(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
    JsonBody(body): JsonBody<NewPassword>,
) -> Result<NoContent, ApiError> {
    let id: UserId = path.parse()?;
    let user = state.store.user(caller.workspace.id, id).await?;
    let own = user.id == caller.user.id;
    if !own {
        caller.access.check_action(Action::ManageUsers)?;
    }
    let mut fields = Fields::default();
    let password = fields.require("password", body.password.as_deref(), |p| {
        check_password(p).map(|()| p.to_owned())
    });
    let password = fields.build(|| password)?;
    let stored = state.store.password_hash(caller.workspace.id, id).await?;
    let current = body.current_password.unwrap_or_default();
    let hashed = tokio::task::spawn_blocking(move || {
        // Someone at an unlocked screen must not be able to lock its owner out.
        let current_ok = !own || stored.is_none() || verify_password(&current, stored.as_deref());
        current_ok.then(|| hash_password(&password))
    })
    .await
    .map_err(|e| ApiError::Fault(e.to_string()))?;
    let hash = match hashed {
        None => {
            return Err(FieldErrors::from(
                InvalidValue::new("", "your current password").at("current_password"),
            )
            .into());
        }
        Some(hash) => hash.map_err(|e| ApiError::Fault(e.to_string()))?,
    };
    state
        .store
        .set_password(caller.workspace.id, id, &hash, Utc::now())
        .await?;
    Ok(NoContent)
}
