//! pipewise's HTTP JSON API: thin handlers that parse the request, call the store or the
//! domain, and render the result. Rules live in `pipewise-core`; SQL in `pipewise-store`.

mod analytics;
mod error;
mod routes;
mod snapshots;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use pipewise_store::Store;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use analytics::ResidentAnalytics;
pub use error::ApiError;
pub use snapshots::{schedule_snapshots, take_weekly_snapshots};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub analytics: Arc<ResidentAnalytics>,
}

impl AppState {
    /// State over `store`, following its writes for the resident analytics. Call within a
    /// Tokio runtime.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            analytics: ResidentAnalytics::start(store.clone()),
            store,
        }
    }
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    routes::router()
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
