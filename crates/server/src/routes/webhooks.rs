//! Webhook subscriptions, for admins: where to send which deal events and record changes,
//! and the log of what was sent. The signing secret is shown once, when the subscription is made.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::NoContent;
use chrono::Utc;
use pipewise_core::access::Action;
use pipewise_core::ids::WebhookId;
use pipewise_core::validation::{Fields, InvalidValue};
use pipewise_core::webhooks::{
    AllEvents, Delivery, EventFilter, EventPattern, Webhook, WebhookUrl,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::IdPath;
use crate::auth::{Caller, webhook_secret};
use crate::body::JsonBody;
use crate::responses::Created;
use crate::{ApiError, AppState};

/// Deliveries shown in a webhook's log.
const LOG_LENGTH: u32 = 100;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewWebhook {
    /// An `http://` or `https://` URL that accepts POSTs.
    url: Option<String>,
    /// Event types (`opportunity.stage_changed`, `account.changed`, …), every type of one
    /// subject (`opportunity.*`, `lead.*`), or `["*"]` for all.
    events: Option<Vec<String>>,
    /// At least 16 characters; one is made when absent.
    secret: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct CreatedWebhook {
    webhook: Webhook,
    /// Deliveries are signed with it (`X-Pipewise-Signature`). Shown this once only.
    secret: String,
}

/// `POST …/webhooks`: subscribes a URL to deal events and record changes.
pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewWebhook>,
) -> Result<Created<CreatedWebhook>, ApiError> {
    caller.access.check_action(Action::ConfigureWorkspace)?;
    let mut fields = Fields::default();
    let url = fields.require("url", body.url.as_deref(), WebhookUrl::parse);
    let events = match body.events.as_deref() {
        None => Some(EventFilter::All(AllEvents)),
        Some([all]) if all == "*" => Some(EventFilter::All(AllEvents)),
        Some(words) => words
            .iter()
            .enumerate()
            .map(|(i, word)| fields.check(&format!("events[{i}]"), word.parse::<EventPattern>()))
            .collect::<Option<Vec<_>>>()
            .map(EventFilter::Patterns),
    };
    let secret = fields.check_optional("secret", body.secret.as_deref(), |s| {
        (s.chars().count() >= 16)
            .then(|| s.to_owned())
            .ok_or_else(|| InvalidValue::new("", "a secret of at least 16 characters"))
    });
    let (url, events) = fields.build(|| Some((url?, events?)))?;
    let secret = secret.unwrap_or_else(webhook_secret);
    let webhook = Webhook {
        id: WebhookId::generate(),
        url,
        events,
        created_by: caller.user.id,
        created_at: Utc::now(),
        failed_deliveries: 0,
        disabled_at: None,
    };
    state
        .store
        .create_webhook(caller.workspace.id, &webhook, &secret)
        .await?;
    Ok(Created(CreatedWebhook { webhook, secret }))
}

/// `GET …/webhooks`: every subscription, disabled ones included.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Webhook>>, ApiError> {
    caller.access.check_action(Action::ConfigureWorkspace)?;
    Ok(Json(state.store.webhooks(caller.workspace.id).await?))
}

/// `GET …/webhooks/{id}`.
pub(crate) async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Json<Webhook>, ApiError> {
    caller.access.check_action(Action::ConfigureWorkspace)?;
    let (webhook, _) = state
        .store
        .webhook(caller.workspace.id, path.parse()?)
        .await?;
    Ok(Json(webhook))
}

/// `POST …/webhooks/{id}/enable`: sends to a disabled subscription again, once its
/// receiver is fixed.
pub(crate) async fn enable(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Json<Webhook>, ApiError> {
    caller.access.check_action(Action::ConfigureWorkspace)?;
    let id: WebhookId = path.parse()?;
    state.store.enable_webhook(caller.workspace.id, id).await?;
    let (webhook, _) = state.store.webhook(caller.workspace.id, id).await?;
    Ok(Json(webhook))
}

/// `DELETE …/webhooks/{id}`: ends a subscription and drops its deliveries.
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<NoContent, ApiError> {
    caller.access.check_action(Action::ConfigureWorkspace)?;
    state
        .store
        .delete_webhook(caller.workspace.id, path.parse()?)
        .await?;
    Ok(NoContent)
}

/// `GET …/webhooks/{id}/deliveries`: the latest deliveries, newest first, with how each
/// attempt went.
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> Result<Json<Vec<Delivery>>, ApiError> {
    caller.access.check_action(Action::ConfigureWorkspace)?;
    let id: WebhookId = path.parse()?;
    state.store.webhook(caller.workspace.id, id).await?;
    Ok(Json(
        state
            .store
            .deliveries(caller.workspace.id, id, LOG_LENGTH)
            .await?,
    ))
}
