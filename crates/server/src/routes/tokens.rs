//! API tokens: programs act as the user who made the token, within the token's scope.
//! The secret is shown once, at creation; only its hash is kept.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::NoContent;
use chrono::Utc;
use pipewise_core::access::Action;
use pipewise_core::credentials::{ApiToken, TokenScope};
use pipewise_core::ids::TokenId;
use pipewise_core::text::Label;
use pipewise_core::validation::Fields;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::IdPath;
use crate::auth::{Caller, Secret, token_text};
use crate::body::JsonBody;
use crate::responses::Created;
use crate::{ApiError, AppState};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    name: Option<String>,
    scope: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CreatedToken {
    token: ApiToken,
    /// Send as `Authorization: Bearer <secret>`. Shown this once only.
    secret: String,
}

/// `POST /api/v1/workspaces/{workspace}/tokens`: a new token for the caller.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewToken>,
) -> Result<Created<CreatedToken>, ApiError> {
    let mut fields = Fields::default();
    let name = fields.require("name", body.name.as_deref(), Label::parse);
    let scope = fields.require("scope", body.scope.as_deref(), str::parse::<TokenScope>);
    let (name, scope) = fields.build(|| Some((name?, scope?)))?;
    let token = ApiToken {
        id: TokenId::generate(),
        user_id: caller.user.id,
        name,
        scope,
        created_at: Utc::now(),
        last_used_at: None,
        revoked_at: None,
    };
    let secret = Secret::generate();
    state
        .store
        .create_api_token(caller.workspace.id, &token, &secret.hash())
        .await?;
    let secret = token_text(token.id, &secret);
    Ok(Created(CreatedToken { token, secret }))
}

/// `GET /api/v1/workspaces/{workspace}/tokens`: the caller's tokens; an admin sees all.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ApiToken>>, ApiError> {
    let sees_all = caller.access.check_action(Action::ManageUsers).is_ok();
    let tokens = state.store.api_tokens(caller.workspace.id).await?;
    Ok(Json(
        tokens
            .into_iter()
            .filter(|t| sees_all || t.user_id == caller.user.id)
            .collect(),
    ))
}

/// `DELETE /api/v1/workspaces/{workspace}/tokens/{id}`: revokes one of the caller's tokens
/// (an admin may revoke anyone's).
pub(crate) async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<NoContent, ApiError> {
    let id: TokenId = path.parse()?;
    let (token, _) = state.store.api_token(caller.workspace.id, id).await?;
    if token.user_id != caller.user.id {
        caller.access.check_action(Action::ManageUsers)?;
    }
    state
        .store
        .revoke_api_token(caller.workspace.id, id, Utc::now())
        .await?;
    state.tokens.forget(caller.workspace.id, id);
    Ok(NoContent)
}
