mod forecast;
mod health;
mod index;
mod opportunities;
mod opportunity_changes;
mod reports;
mod session;
mod settings;
mod tokens;
mod users;

use axum::Router;
use axum::routing::{get, post, put};

use crate::AppState;

pub(crate) use forecast::forecast_report;
pub(crate) use opportunities::workspace;

/// Where each workspace's API lives.
const WORKSPACE: &str = "/api/v1/workspaces/{workspace}";

pub(crate) fn router() -> Router<AppState> {
    let workspace = Router::new()
        .route(
            "/session",
            post(session::sign_in)
                .get(session::show)
                .delete(session::sign_out),
        )
        .route("/settings", get(settings::show).patch(settings::change))
        .route("/tokens", post(tokens::create).get(tokens::list))
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke))
        .route("/users", get(users::list))
        .route("/users/{id}/password", put(users::set_password))
        .route(
            "/opportunities",
            get(opportunities::list).post(opportunity_changes::create),
        )
        .route(
            "/opportunities/{id}",
            get(opportunities::show).patch(opportunity_changes::patch),
        )
        .route(
            "/opportunities/{id}/moves",
            post(opportunity_changes::move_stage),
        )
        .route(
            "/opportunities/{id}/close-won",
            post(opportunity_changes::close_won),
        )
        .route(
            "/opportunities/{id}/close-lost",
            post(opportunity_changes::close_lost),
        )
        .route(
            "/opportunities/{id}/reopen",
            post(opportunity_changes::reopen),
        )
        .route(
            "/opportunities/{id}/evidence",
            post(opportunity_changes::record_evidence),
        )
        .route("/forecast", get(forecast::forecast))
        .route("/forecast/backtest", get(forecast::backtest))
        .route("/forecast/snapshots", get(forecast::snapshots))
        .route("/forecast/snapshots/compare", get(forecast::compare))
        .route("/reports/{name}", get(reports::report));
    Router::new()
        .route("/", get(index::index))
        .route("/health", get(health::health))
        .nest(WORKSPACE, workspace)
}
