//! Serving the API until Ctrl+C or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use pipewise_server::AppState;
use pipewise_store::Store;
use tokio::net::TcpListener;

/// Listens on `bind`, prints the URL, and serves until asked to stop.
pub async fn serve(store: Arc<dyn Store>, bind: SocketAddr, what: &str) -> anyhow::Result<()> {
    let listener = TcpListener::bind(bind).await.with_context(|| {
        format!("cannot listen on {bind}; is another server using it? Choose another with --bind")
    })?;
    let address = listener.local_addr()?;
    println!("pipewise is serving {what} at http://{address}/  (Ctrl+C to stop)");
    let state = AppState::new(store);
    // Build the analytics of every workspace while already serving.
    let analytics = state.analytics.clone();
    tokio::spawn(async move {
        if let Err(error) = analytics.warm().await {
            tracing::error!(%error, "building the analytics projections failed");
        }
    });
    // A forecast snapshot of each workspace's quarter every week.
    pipewise_server::schedule_snapshots(state.clone());
    pipewise_server::serve(listener, state, shutdown_signal()).await?;
    println!("pipewise stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
