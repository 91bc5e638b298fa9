//! Workspace settings an admin may change.

use axum::Json;
use axum::extract::State;
use chrono::Utc;
use pipewise_core::access::{Action, RepVisibility};
use pipewise_core::leads::settings::SHIPPED_TOML;
use pipewise_core::validation::Fields;
use pipewise_store::leads::{self, SettingsRefused};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::process::located;
use crate::auth::Caller;
use crate::body::JsonBody;
use crate::{ApiError, AppState};

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct Settings {
    rep_visibility: RepVisibility,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SettingsChange {
    /// `team` (reps read their team's deals) or `own`.
    rep_visibility: Option<String>,
}

/// `GET /api/v1/workspaces/{workspace}/settings`.
pub(crate) async fn show(caller: Caller) -> Json<Settings> {
    Json(Settings {
        rep_visibility: caller.workspace.rep_visibility,
    })
}

/// `PATCH /api/v1/workspaces/{workspace}/settings`: admins only.
pub(crate) async fn change(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<SettingsChange>,
) -> Result<Json<Settings>, ApiError> {
    caller.access.check_action(Action::ConfigureWorkspace)?;
    let mut fields = Fields::default();
    let visibility = fields.check_optional(
        "rep_visibility",
        body.rep_visibility.as_deref(),
        str::parse::<RepVisibility>,
    );
    fields.finish()?;
    let rep_visibility = visibility.unwrap_or(caller.workspace.rep_visibility);
    state
        .store
        .set_rep_visibility(caller.workspace.id, rep_visibility)
        .await?;
    state.directory.forget();
    Ok(Json(Settings { rep_visibility }))
}

/// The lead settings in force.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct LeadSettingsView {
    /// 0 while the workspace runs on the shipped settings.
    version: u32,
    /// The TOML laid over the shipped settings; empty while none is applied.
    settings: String,
    /// The shipped settings, which name every key a file may set.
    shipped: &'static str,
}

/// `GET /api/v1/workspaces/{workspace}/settings/leads`.
pub(crate) async fn show_leads(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<LeadSettingsView>, ApiError> {
    let applied = state.store.lead_settings(caller.workspace.id).await?;
    Ok(Json(LeadSettingsView {
        version: applied.as_ref().map_or(0, |a| a.version),
        settings: applied.map(|a| a.text).unwrap_or_default(),
        shipped: SHIPPED_TOML,
    }))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeadSettingsChange {
    /// TOML laid over the shipped settings: scoring points, signals, half-life, bands,
    /// thresholds, questions, response windows, business hours, assignment rules.
    settings: String,
}

/// `PUT /api/v1/workspaces/{workspace}/settings/leads`: admins only. Every problem is reported
/// with its line and key, and nothing is stored unless the whole file is valid.
pub(crate) async fn apply_leads(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<LeadSettingsChange>,
) -> Result<Json<LeadSettingsView>, ApiError> {
    caller.access.check_action(Action::ConfigureWorkspace)?;
    let applied = leads::apply_settings(
        &*state.store,
        &caller.workspace,
        "settings",
        &body.settings,
        caller.user.id,
        Utc::now(),
    )
    .await;
    match applied {
        Ok(version) => Ok(Json(LeadSettingsView {
            version,
            settings: body.settings,
            shipped: SHIPPED_TOML,
        })),
        Err(SettingsRefused::Invalid(errors)) => Err(located(errors).into()),
        Err(SettingsRefused::Store(error)) => Err(error.into()),
    }
}
