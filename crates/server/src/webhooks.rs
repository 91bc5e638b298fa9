//! Sending webhook deliveries: the deliveries the store queued with each deal event and
//! record change are posted, signed, to their subscriptions' URLs, one deal's or record's
//! events in order, retried and given up as `pipewise_core::webhooks` decides.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use pipewise_core::ids::{OpportunityId, WebhookId, WorkspaceId};
use pipewise_core::org::Workspace;
use pipewise_core::webhooks::{Attempt, Delivery, DeliveryStatus, EventType, Webhook};
use serde_json::json;
use sha2::Sha256;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

use crate::{ApiError, AppState};

/// Deliveries sent per workspace in one round.
const ROUND: u32 = 200;
/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server looks for deliveries due when no event wakes it.
const POLL: Duration = Duration::from_secs(1);

/// The headers a receiver checks a delivery with.
pub(crate) const SIGNATURE_HEADER: &str = "x-pipewise-signature";
pub(crate) const TIMESTAMP_HEADER: &str = "x-pipewise-timestamp";

/// `sha256=` and the hex HMAC-SHA256, keyed with the subscription's secret, of the
/// timestamp, a dot and the body: what a receiver recomputes to trust a delivery.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        // HMAC takes keys of any length.
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Sends every delivery due at `now`, in every workspace; returns how many were attempted.
pub async fn send_due_deliveries(state: &AppState, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let mut attempted = 0;
    for workspace in state.store.workspaces().await? {
        attempted += send_due_in(state, &workspace, now).await?;
    }
    Ok(attempted)
}

async fn send_due_in(
    state: &AppState,
    workspace: &Workspace,
    now: DateTime<Utc>,
) -> Result<usize, ApiError> {
    let due = state.store.due_deliveries(workspace.id, now, ROUND).await?;
    let mut hooks: HashMap<WebhookId, (Webhook, String)> = HashMap::new();
    for delivery in &due {
        let hook = match hooks.get(&delivery.webhook_id) {
            Some(found) => found.clone(),
            None => {
                state
                    .store
                    .webhook(workspace.id, delivery.webhook_id)
                    .await?
            }
        };
        let (webhook, secret) = hook;
        // A webhook disabled earlier in this round gets nothing more.
        if webhook.disabled_at.is_some() {
            continue;
        }
        let attempt = send(state, workspace, &webhook, &secret, delivery).await?;
        let sent = delivery.after(attempt, Utc::now(), state.webhook_backoff);
        let webhook = match sent.status {
            DeliveryStatus::Pending => webhook,
            ended => webhook.after_delivery(ended, Utc::now()),
        };
        state
            .store
            .record_delivery(workspace.id, &sent, &webhook)
            .await?;
        if webhook.disabled_at.is_some() {
            tracing::warn!(webhook = %webhook.id, url = webhook.url.as_str(),
                           "webhook disabled after repeated failed deliveries");
        }
        hooks.insert(webhook.id, (webhook, secret));
    }
    Ok(due.len())
}

/// Posts one delivery: the event as JSON with its signature.
async fn send(
    state: &AppState,
    workspace: &Workspace,
    webhook: &Webhook,
    secret: &str,
    delivery: &Delivery,
) -> Result<Attempt, ApiError> {
    let Some(body) = body(state, workspace, delivery).await? else {
        return Ok(Attempt::Refused {
            status: None,
            error: "the event is no longer stored".into(),
        });
    };
    let timestamp = Utc::now().timestamp();
    let response = state
        .http
        .post(webhook.url.as_str())
        .timeout(TIMEOUT)
        .header("content-type", "application/json")
        .header(
            "user-agent",
            concat!("pipewise/", env!("CARGO_PKG_VERSION")),
        )
        .header("x-pipewise-event", delivery.event_type.to_string())
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(
            SIGNATURE_HEADER,
            signature(secret, timestamp, body.as_bytes()),
        )
        .body(body)
        .send()
        .await;
    Ok(match response {
        Ok(answer) if answer.status().is_success() => Attempt::Accepted {
            status: answer.status().as_u16(),
        },
        Ok(answer) => Attempt::Refused {
            status: Some(answer.status().as_u16()),
            error: format!("the receiver answered {}", answer.status()),
        },
        Err(error) => Attempt::Refused {
            status: None,
            error: error.to_string(),
        },
    })
}

/// The JSON a delivery posts: its id and type, and the deal event (`event`) or the record
/// change (`change`) it carries, read from its log; `None` if it is not there.
async fn body(
    state: &AppState,
    workspace: &Workspace,
    delivery: &Delivery,
) -> Result<Option<String>, ApiError> {
    let (field, carried) = match delivery.event_type {
        EventType::Deal(_) => {
            let events = state
                .store
                .opportunity_events(workspace.id, OpportunityId::from_uuid(delivery.record_id))
                .await?;
            let event = events.into_iter().find(|e| e.seq == delivery.seq);
            ("event", event.map(|e| json!(e)))
        }
        EventType::Record(..) => {
            let changes = state
                .store
                .record_history(workspace.id, delivery.record_id)
                .await?;
            let change = changes.into_iter().find(|c| c.version == delivery.seq);
            ("change", change.map(|c| json!(c)))
        }
    };
    Ok(carried.map(|carried| {
        json!({
            "id": format!("{}:{}", delivery.record_id, delivery.seq),
            "type": delivery.event_type,
            "workspace": workspace.slug,
            field: carried,
        })
        .to_string()
    }))
}

/// Sends deliveries for as long as the server runs: every second, all that are due (retries
/// included); and as soon as a write is announced in a workspace with subscriptions, that
/// workspace's (many writes at once make one round). Workspaces without subscriptions cost
/// their writes nothing.
pub fn schedule_webhooks(state: AppState) {
    tokio::spawn(async move {
        let mut written = state.store.subscribe();
        let mut poll = tokio::time::interval(POLL);
        // The workspaces with a subscription, as of the last poll.
        let mut subscribed: HashMap<WorkspaceId, Workspace> = HashMap::new();
        loop {
            tokio::select! {
                _ = poll.tick() => {
                    match with_subscriptions(&state).await {
                        Ok(found) => subscribed = found,
                        Err(error) => tracing::error!(%error, "reading webhook subscriptions failed"),
                    }
                    if let Err(error) = send_due_deliveries(&state, Utc::now()).await {
                        tracing::error!(%error, "sending webhook deliveries failed");
                    }
                }
                message = written.recv() => {
                    let mut touched = HashSet::new();
                    let mut next = message;
                    // Writes announced meanwhile are served by the same round.
                    loop {
                        match next {
                            Ok(written) => {
                                touched.insert(written.workspace());
                            }
                            Err(RecvError::Closed) => return,
                            Err(RecvError::Lagged(_)) => touched.extend(subscribed.keys().copied()),
                        }
                        next = match written.try_recv() {
                            Ok(written) => Ok(written),
                            Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
                            Err(TryRecvError::Closed) => Err(RecvError::Closed),
                            Err(TryRecvError::Empty) => break,
                        };
                    }
                    for workspace in touched.iter().filter_map(|id| subscribed.get(id)) {
                        if let Err(error) = send_due_in(&state, workspace, Utc::now()).await {
                            tracing::error!(%error, "sending webhook deliveries failed");
                        }
                    }
                }
            }
        }
    });
}

/// The workspaces with at least one enabled subscription.
async fn with_subscriptions(state: &AppState) -> Result<HashMap<WorkspaceId, Workspace>, ApiError> {
    let mut found = HashMap::new();
    for workspace in state.store.workspaces().await? {
        let hooks = state.store.webhooks(workspace.id).await?;
        if hooks.iter().any(|hook| hook.disabled_at.is_none()) {
            found.insert(workspace.id, workspace);
        }
    }
    Ok(found)
}
