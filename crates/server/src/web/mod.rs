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
use axum::response::Redirect;
use axum::routing::get;

use crate::AppState;

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
}

/// A workspace's first page is its board.
async fn home(Path(workspace): Path<String>) -> Redirect {
    Redirect::to(&format!("/app/{workspace}/board"))
}
