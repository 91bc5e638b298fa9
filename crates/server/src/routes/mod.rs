mod forecast;
mod health;
mod index;
mod opportunities;
mod reports;

use axum::Router;
use axum::routing::get;

use crate::AppState;

pub(crate) use forecast::forecast_report;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index::index))
        .route("/health", get(health::health))
        .route(
            "/api/v1/workspaces/{workspace}/opportunities",
            get(opportunities::list),
        )
        .route(
            "/api/v1/workspaces/{workspace}/opportunities/{id}",
            get(opportunities::show),
        )
        .route(
            "/api/v1/workspaces/{workspace}/forecast",
            get(forecast::forecast),
        )
        .route(
            "/api/v1/workspaces/{workspace}/forecast/backtest",
            get(forecast::backtest),
        )
        .route(
            "/api/v1/workspaces/{workspace}/forecast/snapshots",
            get(forecast::snapshots),
        )
        .route(
            "/api/v1/workspaces/{workspace}/forecast/snapshots/compare",
            get(forecast::compare),
        )
        .route(
            "/api/v1/workspaces/{workspace}/reports/{name}",
            get(reports::report),
        )
}
