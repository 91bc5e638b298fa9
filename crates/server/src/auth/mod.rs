//! Who is asking: a request's session cookie or API token, checked against the store (API
//! tokens as this server keeps them for a few seconds, see [`KnownTokens`]), and
//! what the person behind it may reach in the workspace the path names. Every handler under
//! `/api/v1/workspaces/{workspace}` but sign-in takes a [`Caller`].

mod known_tokens;
pub mod limiter;
mod secrets;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Path};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use chrono::{DateTime, Duration, Utc};
use pipewise_core::access::Access;
use pipewise_core::credentials::{ApiToken, TokenScope};
use pipewise_core::ids::{SessionId, TokenId};
use pipewise_core::opportunity::Stamp;
use pipewise_core::org::{User, Workspace};
use pipewise_core::text::Slug;
use pipewise_store::StoreError;

pub(crate) use known_tokens::KnownTokens;
use known_tokens::StoredToken;
pub use secrets::{HashFailed, hash_password, new_password};
pub(crate) use secrets::{
    Secret, parse_session, session_text, token_text, verify_password, webhook_secret,
};

use crate::directory::WorkspaceContext;
use crate::{ApiError, AppState};

/// The header a browser sends its CSRF token in with every change.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";
/// How often, at most, a token's last use is written.
const LAST_USE_RESOLUTION: Duration = Duration::minutes(1);

/// The session cookie of a workspace. One per workspace, so a browser can be signed in to
/// several.
pub(crate) fn session_cookie(slug: &Slug) -> String {
    format!("pipewise_session_{slug}")
}

/// A signed-in person, or a program with their API token.
pub(crate) struct Caller {
    pub workspace: Workspace,
    /// The workspace's people and process, as this server holds them.
    pub context: Arc<WorkspaceContext>,
    pub user: User,
    pub access: Access,
    pub via: Via,
}

/// How a caller signed in.
pub(crate) enum Via {
    Token,
    Session { id: SessionId, csrf_token: String },
}

impl Caller {
    /// A change made by this caller now.
    pub(crate) fn stamp(&self) -> Stamp {
        Stamp::now(self.user.id, Utc::now())
    }
}

/// The credential a request carries.
enum Presented {
    Token(TokenId, Secret),
    Session(SessionId, Secret),
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::Fault(format!("no workspace in the path: {e}")))?;
        let slug = params.get("workspace").map_or("", String::as_str);
        let context = state.directory.get(slug).await?;
        let workspace = context.workspace.clone();
        let writes = !parts.method.is_safe();
        let (user_id, via) = match presented(&parts.headers, &workspace.slug)? {
            Presented::Token(id, secret) => {
                let stored = check_token(state, &workspace, id, &secret).await?;
                let token = &stored.token;
                if writes && token.scope == TokenScope::Read {
                    return Err(ApiError::Forbidden(
                        "this API token may only read; create one with the write scope".into(),
                    ));
                }
                (token.user_id, Via::Token)
            }
            Presented::Session(id, secret) => {
                let (session, hash) = match state.store.session(workspace.id, id).await {
                    Err(StoreError::NotFound { .. }) => Err(ApiError::Unauthenticated(
                        "the session has ended; sign in again",
                    )),
                    other => Ok(other?),
                }?;
                if !secret.matches(&hash) || session.expires_at <= Utc::now() {
                    return Err(ApiError::Unauthenticated(
                        "the session has ended; sign in again",
                    ));
                }
                if writes && !csrf_matches(&parts.headers, &secret) {
                    return Err(ApiError::Forbidden(format!(
                        "changes from a browser need the {CSRF_HEADER} header given at sign-in"
                    )));
                }
                let csrf_token = secret.csrf_token();
                (session.user_id, Via::Session { id, csrf_token })
            }
        };
        let Some(user) = context.users.iter().find(|u| u.id == user_id).cloned() else {
            return Err(ApiError::Unauthenticated("the user no longer exists"));
        };
        let access = Access::new(
            &user,
            &context.users,
            &context.hierarchy,
            workspace.rep_visibility,
        );
        Ok(Caller {
            workspace,
            context,
            user,
            access,
            via,
        })
    }
}

/// The API token (`Authorization: Bearer`) or, failing one, the workspace's session cookie.
fn presented(headers: &HeaderMap, slug: &Slug) -> Result<Presented, ApiError> {
    if let Some(authorization) = headers.get(axum::http::header::AUTHORIZATION) {
        let token = authorization
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .and_then(|text| secrets::parse_token(text.trim()));
        return match token {
            Some((id, secret)) => Ok(Presented::Token(id, secret)),
            None => Err(ApiError::Unauthenticated(
                "the Authorization header is not `Bearer` and a pipewise API token",
            )),
        };
    }
    let name = session_cookie(slug);
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .and_then(|(_, value)| parse_session(value))
        .map(|(id, secret)| Presented::Session(id, secret))
        .ok_or(ApiError::Unauthenticated(
            "sign in, or send an API token as `Authorization: Bearer`",
        ))
}

async fn check_token(
    state: &AppState,
    workspace: &Workspace,
    id: TokenId,
    secret: &Secret,
) -> Result<Arc<StoredToken>, ApiError> {
    let unknown = || ApiError::Unauthenticated("the API token is unknown or revoked");
    let read = || state.store.api_token(workspace.id, id);
    let stored = match state.tokens.get(workspace.id, id, read).await {
        Err(StoreError::NotFound { .. }) => return Err(unknown()),
        other => other?,
    };
    if !secret.matches(&stored.hash) || stored.token.revoked_at.is_some() {
        return Err(unknown());
    }
    note_use(state, workspace, &stored.token, Utc::now());
    Ok(stored)
}

/// Records a token's use, unless it was recorded within the last minute; in the background,
/// so reads do not wait on a write.
fn note_use(state: &AppState, workspace: &Workspace, token: &ApiToken, now: DateTime<Utc>) {
    if token
        .last_used_at
        .is_some_and(|last| now - last < LAST_USE_RESOLUTION)
    {
        return;
    }
    let store = state.store.clone();
    let (workspace, id) = (workspace.id, token.id);
    state.tokens.used(workspace, id, now);
    tokio::spawn(async move {
        if let Err(error) = store.api_token_used(workspace, id, now).await {
            tracing::warn!(%error, token = %id, "recording an API token's use failed");
        }
    });
}

fn csrf_matches(headers: &HeaderMap, secret: &Secret) -> bool {
    let expected = secret.csrf_token();
    headers
        .get(CSRF_HEADER)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|given| {
            subtle::ConstantTimeEq::ct_eq(given.as_bytes(), expected.as_bytes()).into()
        })
}

/// Every operation with a caller names its workspace in the path and needs a session or a
/// token.
impl aide::operation::OperationInput for Caller {
    fn operation_input(
        _: &mut aide::generate::GenContext,
        operation: &mut aide::openapi::Operation,
    ) {
        crate::openapi::add_parameter(
            operation,
            serde_json::json!({"in": "path", "name": "workspace", "required": true,
                               "description": "The workspace's slug.",
                               "schema": {"type": "string"}}),
        );
        for scheme in ["token", "session"] {
            operation.security.push(indexmap::IndexMap::from_iter([(
                scheme.to_owned(),
                Vec::new(),
            )]));
        }
    }

    fn inferred_early_responses(
        ctx: &mut aide::generate::GenContext,
        operation: &mut aide::openapi::Operation,
    ) -> Vec<(Option<u16>, aide::openapi::Response)> {
        crate::error::problem_response(ctx, operation)
    }
}
