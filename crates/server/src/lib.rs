//! pipewise's HTTP JSON API: thin handlers that parse the request, call the store or the
//! domain, and render the result. Rules live in `pipewise-core`; SQL in `pipewise-store`.

mod analytics;
mod auth;
mod body;
mod directory;
mod error;
mod kept;
mod lead_queue;
mod openapi;
mod responses;
mod routes;
mod snapshots;
mod versioning;
mod web;
mod webhooks;

use std::future::Future;
use std::sync::Arc;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::Html;
use axum::routing::get;
use pipewise_store::Store;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use analytics::ResidentAnalytics;
pub use auth::{HashFailed, hash_password, new_password};
pub use error::ApiError;
pub use snapshots::{schedule_snapshots, take_weekly_snapshots};
pub use webhooks::{schedule_webhooks, send_due_deliveries, signature};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub analytics: Arc<ResidentAnalytics>,
    directory: Arc<directory::Directory>,
    /// Each workspace's latest hygiene report, for the web app's pages.
    hygiene: Arc<web::HygieneReports>,
    /// Each workspace's latest backtest of the last four quarters, for the web app.
    backtests: Arc<kept::Kept<pipewise_analytics::forecast::BacktestReport>>,
    /// Each workspace's leads waiting for a sales attempt.
    lead_queues: Arc<lead_queue::LeadQueues>,
    limiter: Arc<auth::limiter::LoginLimiter>,
    tokens: Arc<auth::KnownTokens>,
    /// Mark session cookies `Secure` even without a proxy's `X-Forwarded-Proto: https`.
    pub secure_cookies: bool,
    /// The wait before a failed webhook delivery's first retry; later waits double.
    pub webhook_backoff: chrono::Duration,
    http: reqwest::Client,
}

impl AppState {
    /// State over `store`, following its writes for the resident analytics. Call within a
    /// Tokio runtime. Fails only if no HTTP client for webhooks can be made (no TLS roots).
    pub fn new(store: Arc<dyn Store>) -> Result<Self, reqwest::Error> {
        Ok(Self {
            analytics: ResidentAnalytics::start(store.clone()),
            directory: directory::Directory::start(store.clone()),
            hygiene: web::HygieneReports::new(store.clone()),
            backtests: kept::Kept::new(store.subscribe()),
            lead_queues: lead_queue::LeadQueues::start(store.clone()),
            store,
            limiter: Arc::default(),
            tokens: Arc::default(),
            secure_cookies: false,
            webhook_backoff: chrono::Duration::seconds(30),
            http: reqwest::Client::builder().build()?,
        })
    }

    /// Reads every workspace's lead queue, so the first look at one need not wait.
    pub async fn warm_lead_queues(&self) -> Result<(), pipewise_store::StoreError> {
        for workspace in self.store.workspaces().await? {
            let settings = pipewise_store::leads::settings(&*self.store, &workspace).await?;
            self.lead_queues
                .read(workspace.id, &settings, |_| ())
                .await?;
        }
        Ok(())
    }

    /// Works out what the web app's pages keep of every workspace (the backtest's replay and
    /// the hygiene report), so the first look at a page need not wait; a workspace whose
    /// report fails is logged and the others go on.
    pub async fn warm_pages(&self) -> Result<(), ApiError> {
        for workspace in self.store.workspaces().await? {
            if let Err(error) = web::kept_backtest(self, &workspace).await {
                tracing::error!(%error, workspace = %workspace.slug, "replaying the forecast backtest failed");
            }
            if let Err(error) = self.hygiene.wait(&workspace).await {
                tracing::error!(%error, workspace = %workspace.slug, "working out the hygiene report failed");
            }
        }
        Ok(())
    }
}

/// The whole API, with its OpenAPI description at `/openapi.json` and a page of it at
/// `/docs`.
pub fn router(state: AppState) -> Router {
    let (routes, described) = openapi::finish(routes::router);
    let json = described.clone();
    routes
        .merge(web::router())
        .route(
            "/openapi.json",
            get(move || async move {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    json.json.clone(),
                )
            }),
        )
        .route(
            "/docs",
            get(move || async move { Html(described.page.clone()) }),
        )
        .layer(DefaultBodyLimit::max(body::BODY_LIMIT))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Client addresses let sign-in attempts be limited per client.
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
