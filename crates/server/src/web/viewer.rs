//! Who is looking at a page: the API's [`Caller`], from the session cookie. Someone not
//! signed in is sent to the workspace's sign-in page and brought back afterwards; any other
//! failure is an error page with the status the API would answer with.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use pipewise_core::ids::UserId;

use crate::auth::{Caller, Via};
use crate::{ApiError, AppState};

/// A signed-in person viewing a page.
pub(crate) struct Viewer(pub Caller);

impl Viewer {
    /// The CSRF token the page's script sends with changes; empty for an API token, which
    /// needs none.
    pub(crate) fn csrf_token(&self) -> &str {
        match &self.0.via {
            Via::Session { csrf_token, .. } => csrf_token,
            Via::Token => "",
        }
    }

    /// Whether the person may change anything at all (viewers may not).
    pub(crate) fn writes(&self) -> bool {
        self.0.access.check_writer().is_ok()
    }

    /// A person's name, by id.
    pub(crate) fn user_name(&self, id: UserId) -> &str {
        self.0
            .context
            .users
            .iter()
            .find(|u| u.id == id)
            .map_or("a former user", |u| u.name.as_str())
    }

    /// The path of a page of this workspace: `path("board")` is `/app/acme/board`.
    pub(crate) fn path(&self, page: &str) -> String {
        format!("/app/{}/{page}", self.0.workspace.slug)
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Caller::from_request_parts(parts, state).await {
            Ok(caller) => Ok(Viewer(caller)),
            Err(ApiError::Unauthenticated(_)) => Err(to_sign_in(&parts.uri)),
            Err(error) => Err(PageError(error).into_response()),
        }
    }
}

/// The sign-in page of the workspace in `uri` (`/app/{workspace}/…`), coming back to `uri`.
fn to_sign_in(uri: &Uri) -> Response {
    let path = uri.path();
    let workspace = path
        .strip_prefix("/app/")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    let back = uri.path_and_query().map_or(path, |p| p.as_str());
    let query = url_encoded(back);
    Redirect::to(&format!("/app/{workspace}/sign-in?next={query}")).into_response()
}

/// `text` percent-encoded for a query string value.
fn url_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// A failure shown as a page: the API's status and message, in words.
pub(crate) struct PageError(pub ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(error: E) -> Self {
        PageError(error.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, _) = self.0.status_title_code();
        let detail = match status {
            StatusCode::INTERNAL_SERVER_ERROR | StatusCode::SERVICE_UNAVAILABLE => {
                // The cause goes to the log, as for the API.
                tracing::error!(error = ?self.0, "a page failed");
                "Something went wrong on the server; try again in a moment.".to_owned()
            }
            _ => self.0.to_string(),
        };
        let body = html! {
            (maud::DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    title { (title) " · pipewise" }
                    link rel="stylesheet" href=(super::assets::STYLESHEET);
                }
                body {
                    main.narrow {
                        h1 { (title) }
                        p role="alert" { (detail) }
                        p { a href="/app" { "Choose a workspace" } }
                    }
                }
            }
        };
        (status, Html(body.into_string())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_in_page_brings_the_reader_back_to_the_page_asked_for() {
        let uri: Uri = "/app/acme/deals/42?tab=plan&x=1".parse().unwrap();
        let response = to_sign_in(&uri);
        let location = response
            .headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap();
        assert_eq!(
            location,
            "/app/acme/sign-in?next=/app/acme/deals/42%3Ftab%3Dplan%26x%3D1"
        );
    }
}
