use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::{ApiError, AppState};

/// `GET /`: what this server holds and where to look.
pub(crate) async fn index(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let workspaces: Vec<Value> = state
        .store
        .workspaces()
        .await?
        .into_iter()
        .map(|w| {
            json!({
                "slug": w.slug,
                "name": w.name,
                "opportunities": format!("/api/v1/workspaces/{}/opportunities", w.slug),
            })
        })
        .collect();
    Ok(Json(json!({
        "name": "pipewise",
        "version": env!("CARGO_PKG_VERSION"),
        "health": "/health",
        "workspaces": workspaces,
    })))
}
