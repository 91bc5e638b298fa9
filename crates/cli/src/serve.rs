//! Serving the API until Ctrl+C or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use pipewise_core::org::{Role, Workspace};
use pipewise_server::AppState;
use pipewise_store::Store;
use tokio::net::TcpListener;

/// Listens on `bind`, prints the URL, and serves until asked to stop.
pub async fn serve(
    store: Arc<dyn Store>,
    bind: SocketAddr,
    what: &str,
    secure_cookies: bool,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(bind).await.with_context(|| {
        format!("cannot listen on {bind}; is another server using it? Choose another with --bind")
    })?;
    let address = listener.local_addr()?;
    first_admin_passwords(&*store).await?;
    println!("pipewise is serving {what} at http://{address}/  (Ctrl+C to stop)");
    for workspace in store.workspaces().await? {
        // Whoever started the server may stop reading once it serves.
        let _ = writeln!(
            std::io::stdout(),
            "  open http://{address}/app/{}/ in a browser",
            workspace.slug
        );
    }
    let mut state =
        AppState::new(store).context("cannot make the HTTP client webhooks are sent with")?;
    state.secure_cookies = secure_cookies;
    // Build the analytics, the lead queue and what the pages keep (the backtest's replay,
    // the hygiene report) of every workspace while already serving; until then the first
    // report, queue or page waits for its build.
    let analytics = state.analytics.clone();
    let warmed = state.clone();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        match analytics.warm().await {
            Ok(()) => {
                // Whoever started the server may have stopped reading its output; that is no
                // reason to fail.
                let seconds = started.elapsed().as_secs_f64();
                let _ = writeln!(
                    std::io::stdout(),
                    "pipewise analytics are ready ({seconds:.1} s)"
                );
            }
            Err(error) => tracing::error!(%error, "building the analytics projections failed"),
        }
        if let Err(error) = warmed.warm_lead_queues().await {
            tracing::error!(%error, "reading the lead queues failed");
        }
        match warmed.warm_pages().await {
            Ok(()) => {
                let seconds = started.elapsed().as_secs_f64();
                let _ = writeln!(
                    std::io::stdout(),
                    "pipewise pages are ready ({seconds:.1} s)"
                );
            }
            Err(error) => tracing::error!(%error, "working out the pages' reports failed"),
        }
    });
    // A forecast snapshot of each workspace's quarter every week.
    pipewise_server::schedule_snapshots(state.clone());
    // Webhook deliveries as events are written, and their retries.
    pipewise_server::schedule_webhooks(state.clone());
    pipewise_server::serve(listener, state, shutdown_signal()).await?;
    println!("pipewise stopped");
    Ok(())
}

/// The password every user of the demo workspace signs in with.
pub const DEMO_PASSWORD: &str = "pipewise-demo";

/// Gives every user of `workspace` the demo password, and prints whom to sign in as: one
/// person per role, the rep reporting to the manager shown, so that a rep's forecast call
/// shows in that manager's roll-up.
pub async fn demo_passwords(store: &dyn Store, workspace: &Workspace) -> anyhow::Result<()> {
    let password = DEMO_PASSWORD.to_owned();
    let hash =
        tokio::task::spawn_blocking(move || pipewise_server::hash_password(&password)).await??;
    let users = store.users(workspace.id).await?;
    let now = Utc::now();
    for user in &users {
        store
            .set_password(workspace.id, user.id, &hash, now)
            .await?;
    }
    println!(
        "Sign in to workspace `{}` with password `{DEMO_PASSWORD}` as:",
        workspace.slug
    );
    let manager = users.iter().filter(|u| u.role == Role::Manager).find(|m| {
        users
            .iter()
            .any(|u| u.role == Role::Rep && u.manager_id == Some(m.id))
    });
    for role in Role::ALL {
        let shown = match role {
            Role::Manager if manager.is_some() => manager,
            Role::Rep => manager
                .and_then(|m| {
                    users
                        .iter()
                        .find(|u| u.role == Role::Rep && u.manager_id == Some(m.id))
                })
                .or_else(|| users.iter().find(|u| u.role == Role::Rep)),
            _ => users.iter().find(|u| u.role == *role),
        };
        if let Some(user) = shown {
            println!("  {:<8} {} <{}>", role.as_str(), user.name, user.email);
        }
    }
    Ok(())
}

/// On a workspace where nobody has a password yet (a first start), gives its first admin a
/// random one and prints it, once.
async fn first_admin_passwords(store: &dyn Store) -> anyhow::Result<()> {
    for workspace in store.workspaces().await? {
        if !store.users_with_password(workspace.id).await?.is_empty() {
            continue;
        }
        let users = store.users(workspace.id).await?;
        let Some(admin) = users.iter().find(|u| u.role == Role::Admin) else {
            continue;
        };
        let password = pipewise_server::new_password();
        let to_hash = password.clone();
        let hash =
            tokio::task::spawn_blocking(move || pipewise_server::hash_password(&to_hash)).await??;
        store
            .set_password(workspace.id, admin.id, &hash, Utc::now())
            .await?;
        println!(
            "First start of workspace `{}`: sign in as {} with password {password}\n  \
             (shown once; change it with PUT /api/v1/workspaces/{}/users/{}/password)",
            workspace.slug, admin.email, workspace.slug, admin.id
        );
    }
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
