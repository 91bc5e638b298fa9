//! The web app: pages rendered on the server (maud) from the same store, domain and
//! analytics the API answers from. Pages only read. Every change a page offers is sent by its
//! script to the JSON API with the session's CSRF token, so a drag on the board and a call to
//! `POST …/moves` are checked by the same code.
//!
//! Pages live under `/app/{workspace}/`; the stylesheet and script are compiled into the
//! binary and served from `/assets/`.

mod admin;
mod assets;
mod board;
mod charts;
mod deal;
mod diagnostics;
mod findings;
mod forecast;
mod format;
mod hygiene;
mod layout;
mod leads;
mod sign_in;
mod timeline;
mod viewer;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{Redirect, Response};
use axum::routing::get;
use pipewise_core::text::Slug;

use crate::{ApiError, AppState};
use viewer::PageError;

pub(crate) use findings::HygieneReports;
pub(crate) use forecast::kept_backtest;

/// What a page may load and who may frame it: its own stylesheet, script and forms only, and
/// no other site (against clickjacking and injected content).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
    style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/app", get(sign_in::workspaces))
        .route("/app/{workspace}", get(home))
        .route("/app/{workspace}/sign-in", get(sign_in::show))
        .route("/app/{workspace}/board", get(board::show))
        .route("/app/{workspace}/deals/{id}", get(deal::show))
        .route("/app/{workspace}/forecast", get(forecast::show))
        .route(
            "/app/{workspace}/forecast/backtest",
            get(forecast::backtest),
        )
        .route("/app/{workspace}/diagnostics", get(diagnostics::show))
        .route("/app/{workspace}/hygiene", get(hygiene::show))
        .route("/app/{workspace}/leads", get(leads::show))
        .route("/app/{workspace}/admin", get(admin::show))
        .route("/assets/{file}", get(assets::serve))
        .layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A workspace's first page is its board.
async fn home(Path(workspace): Path<String>) -> Result<Redirect, PageError> {
    let slug = Slug::parse(&workspace).map_err(|_| ApiError::NotFound {
        what: "workspace",
        key: workspace.clone(),
    })?;
    Ok(Redirect::to(&format!("/app/{slug}/board")))
}
