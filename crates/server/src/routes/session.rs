//! Signing in and out of a workspace from a browser: an e-mail and password give a session
//! cookie (HttpOnly, SameSite=Lax, Secure behind TLS) and the CSRF token changes must carry.

use std::net::SocketAddr;
use std::time::Instant;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::response::NoContent;
use chrono::{DateTime, Duration, Utc};
use pipewise_core::credentials::Session;
use pipewise_core::ids::SessionId;
use pipewise_core::org::User;
use pipewise_core::text::Email;
use pipewise_core::validation::Fields;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::WorkspacePath;
use crate::auth::limiter::{MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_CLIENT};
use crate::auth::{Caller, Secret, Via, session_cookie, session_text, verify_password};
use crate::body::JsonBody;
use crate::responses::{Created, SetCookie};
use crate::{ApiError, AppState};

/// How long a session lasts.
const SESSION_DAYS: i64 = 7;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignIn {
    email: Option<String>,
    password: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SessionView {
    user: User,
    /// Send as the `X-CSRF-Token` header with every change made with the session cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<DateTime<Utc>>,
}

/// The client's address, when the server knows it.
pub(crate) struct ClientAddress(Option<SocketAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|info| info.0),
        ))
    }
}

impl aide::operation::OperationInput for ClientAddress {}

/// `POST /api/v1/workspaces/{workspace}/session`: signs in with e-mail and password.
pub(crate) async fn sign_in(
    State(state): State<AppState>,
    Path(WorkspacePath { workspace: slug }): Path<WorkspacePath>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    JsonBody(body): JsonBody<SignIn>,
) -> Result<SetCookie<Created<SessionView>>, ApiError> {
    let mut fields = Fields::default();
    let email = fields.require("email", body.email.as_deref(), Email::parse);
    let password = fields.require("password", body.password.as_deref(), |p| Ok(p.to_owned()));
    let (email, password) = fields.build(|| Some((email?, password?)))?;
    let workspace = state.directory.get(&slug).await?.workspace.clone();
    let email_key = format!("{}:{email}", workspace.slug);
    let mut keys = vec![(email_key.clone(), MAX_FAILURES_PER_ACCOUNT)];
    keys.extend(client.map(|address| (format!("ip:{}", address.ip()), MAX_FAILURES_PER_CLIENT)));
    if let Some(wait) = state.limiter.wait(&keys, Instant::now()) {
        return Err(ApiError::TooManyAttempts {
            retry_after_secs: wait.as_secs().max(1),
        });
    }
    let user = match state.store.user_by_email(workspace.id, &email).await {
        Ok(user) => Some(user),
        Err(pipewise_store::StoreError::NotFound { .. }) => None,
        Err(error) => return Err(error.into()),
    };
    let stored = match &user {
        Some(user) => state.store.password_hash(workspace.id, user.id).await?,
        None => None,
    };
    let verified =
        tokio::task::spawn_blocking(move || verify_password(&password, stored.as_deref()))
            .await
            .map_err(|e| ApiError::Fault(e.to_string()))?;
    let Some(user) = user.filter(|_| verified) else {
        state.limiter.failed(&keys, Instant::now());
        return Err(ApiError::Unauthenticated(
            "the e-mail or the password is wrong",
        ));
    };
    state.limiter.succeeded(&email_key);
    let now = Utc::now();
    let session = Session {
        id: SessionId::generate(),
        user_id: user.id,
        created_at: now,
        expires_at: now + Duration::days(SESSION_DAYS),
    };
    let secret = Secret::generate();
    state
        .store
        .create_session(workspace.id, &session, &secret.hash())
        .await?;
    let secure = state.secure_cookies || forwarded_over_tls(&headers);
    let cookie = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        session_cookie(&workspace.slug),
        session_text(session.id, &secret),
        SESSION_DAYS * 24 * 3600,
        if secure { "; Secure" } else { "" },
    );
    let view = SessionView {
        user,
        csrf_token: Some(secret.csrf_token()),
        expires_at: Some(session.expires_at),
    };
    Ok(SetCookie {
        cookie,
        response: Created(view),
    })
}

/// `GET /api/v1/workspaces/{workspace}/session`: who is signed in, and the CSRF token again.
pub(crate) async fn show(caller: Caller) -> Json<SessionView> {
    let csrf_token = match caller.via {
        Via::Session { csrf_token, .. } => Some(csrf_token),
        Via::Token => None,
    };
    Json(SessionView {
        user: caller.user,
        csrf_token,
        expires_at: None,
    })
}

/// `DELETE /api/v1/workspaces/{workspace}/session`: signs out this browser.
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<SetCookie<NoContent>, ApiError> {
    let Via::Session { id, .. } = caller.via else {
        return Err(ApiError::Forbidden(
            "an API token has no session; revoke the token instead".into(),
        ));
    };
    state.store.delete_session(caller.workspace.id, id).await?;
    let cookie = format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
        session_cookie(&caller.workspace.slug)
    );
    Ok(SetCookie {
        cookie,
        response: NoContent,
    })
}

/// Whether a reverse proxy says the client reached it over HTTPS.
fn forwarded_over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}
