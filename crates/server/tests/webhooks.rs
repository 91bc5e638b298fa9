//! Webhooks against a local receiver: signed deliveries of deal events and record changes,
//! retries, order per deal and per record, and a subscription disabled after repeated
//! failures; on both databases.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::post;
use chrono::Utc;
use hmac::{Hmac, Mac};
use pipewise_core::opportunity::Status;
use pipewise_server::{AppState, send_due_deliveries};
use pipewise_store::PageRequest;
use serde_json::{Value, json};
use sha2::Sha256;

use common::TestApp;

const SECRET: &str = "a long and shared secret";
const DEALS: &str = "/api/v1/workspaces/demo/opportunities";

/// What the receiver was sent: the headers and the body, in arrival order.
type Received = Arc<Mutex<Vec<(HeaderMap, String)>>>;

/// A receiver on a free local port answering `failures` requests with 503 (or every one,
/// with `None`), then 204.
async fn receiver(failures: Option<usize>) -> (String, Received) {
    let received: Received = Arc::default();
    let log = received.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let log = log.clone();
            async move {
                let mut log = log.lock().unwrap();
                log.push((headers, body));
                match failures {
                    Some(n) if log.len() > n => StatusCode::NO_CONTENT,
                    _ => StatusCode::SERVICE_UNAVAILABLE,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

/// Open deals, first-created first.
async fn open_deal_ids(app: &TestApp) -> Vec<String> {
    let workspace = app
        .store()
        .workspace(&"demo".parse().unwrap())
        .await
        .unwrap();
    let page = PageRequest {
        after: None,
        limit: 1000,
    };
    let deals = app
        .store()
        .opportunities(workspace.id, page, &pipewise_store::DealFilter::default())
        .await
        .unwrap()
        .items;
    deals
        .into_iter()
        .filter(|d| d.status == Status::Open)
        .map(|d| d.id.to_string())
        .collect()
}

async fn change_amount(app: &TestApp, id: &str, dollars: u32) {
    let reply = app
        .with_token(
            &app.admin_token,
            Method::PATCH,
            &format!("{DEALS}/{id}"),
            &[("if-match", "*")],
            Some(json!({ "amount": format!("{dollars}.00") })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

async fn subscribe(app: &TestApp, url: &str, events: Value) -> String {
    let reply = app
        .with_token(
            &app.admin_token,
            Method::POST,
            "/api/v1/workspaces/demo/webhooks",
            &[],
            Some(json!({ "url": url, "events": events, "secret": SECRET })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["webhook"]["id"].as_str().unwrap().to_owned()
}

/// Sends what is due, round after round, until `done` holds (or gives up after 200 rounds).
async fn send_until(state: &AppState, done: impl Fn() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        send_due_deliveries(state, Utc::now()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(15)).await;
    }
    panic!("the deliveries did not arrive");
}

fn recomputed_signature(timestamp: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

on_both_backends_app! {
    async fn the_running_server_sends_a_subscribed_workspace_its_deliveries_by_itself(app) {
        let (url, received) = receiver(Some(0)).await;
        subscribe(&app, &url, json!(["*"])).await;
        pipewise_server::schedule_webhooks(app.state.clone());
        let deal = open_deal_ids(&app).await.remove(0);
        // The scheduler learns of the subscription at its first poll, at once; the next is a
        // second later, so a delivery before then was sent because the write was announced.
        tokio::time::sleep(Duration::from_millis(100)).await;
        change_amount(&app, &deal, 51_000).await;
        for _ in 0..35 {
            if !received.lock().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let received = received.lock().unwrap();
        assert_eq!(received.len(), 1, "one delivery, sent before the next poll");
        let body: Value = serde_json::from_str(&received[0].1).unwrap();
        assert_eq!(body["type"], "opportunity.amount_changed");
        assert_eq!(body["event"]["opportunity_id"], deal);
    }

    async fn deliveries_are_signed_retried_and_in_order_per_deal(app) {
        let (url, received) = receiver(Some(2)).await;
        let mut state = app.state.clone();
        state.webhook_backoff = chrono::Duration::milliseconds(5);
        let hook = subscribe(&app, &url, json!(["opportunity.amount_changed", "opportunity.close_date_changed"])).await;
        let deals = open_deal_ids(&app).await;
        let (a, b) = (&deals[0], &deals[1]);
        for dollars in [1_000, 2_000, 3_000] {
            change_amount(&app, a, dollars).await;
        }
        change_amount(&app, b, 4_000).await;
        // A move of another kind is not subscribed to and is never sent.
        let moved = app
            .with_token(&app.admin_token, Method::PATCH, &format!("{DEALS}/{b}"), &[("if-match", "*")],
                        Some(json!({ "name": "Renamed deal" })))
            .await;
        assert_eq!(moved.status, StatusCode::OK);

        let delivered = || received.lock().unwrap().len() >= 2 + 4;
        send_until(&state, delivered).await;
        let received = received.lock().unwrap().clone();
        assert_eq!(received.len(), 6, "two refused attempts, then four deliveries");
        let mut per_deal: std::collections::HashMap<String, Vec<u64>> = Default::default();
        for (i, (headers, body)) in received.iter().enumerate() {
            let timestamp = headers["x-pipewise-timestamp"].to_str().unwrap();
            assert_eq!(headers["x-pipewise-signature"].to_str().unwrap(), recomputed_signature(timestamp, body));
            let payload: Value = serde_json::from_str(body).unwrap();
            assert_eq!(payload["type"], "opportunity.amount_changed");
            assert_eq!(payload["workspace"], "demo");
            if i >= 2 {
                let deal = payload["event"]["opportunity_id"].as_str().unwrap().to_owned();
                per_deal.entry(deal).or_default().push(payload["event"]["seq"].as_u64().unwrap());
            }
        }
        // Both refused deliveries were sent again; each deal's events arrive in order.
        for (_, refused) in &received[..2] {
            assert!(received[2..].iter().any(|(_, body)| body == refused));
        }
        let seqs = &per_deal[a.as_str()];
        assert_eq!(seqs.len(), 3);
        assert!(seqs.windows(2).all(|w| w[0] + 1 == w[1]), "{seqs:?}");
        assert_eq!(per_deal[b.as_str()].len(), 1);

        let log = app.get(&format!("/api/v1/workspaces/demo/webhooks/{hook}/deliveries")).await.2;
        let log = log.as_array().unwrap();
        assert_eq!(log.len(), 4);
        assert!(log.iter().all(|d| d["status"] == "delivered"));
        // Every request the receiver saw is an attempt in the log.
        assert_eq!(log.iter().map(|d| d["attempts"].as_u64().unwrap()).sum::<u64>(), 6);
    }

    async fn record_changes_are_sent_in_version_order_to_the_types_subscribed(app) {
        let (url, received) = receiver(Some(0)).await;
        let refused = app
            .with_token(&app.admin_token, Method::POST, "/api/v1/workspaces/demo/webhooks", &[],
                        Some(json!({ "url": url, "events": ["account.*", "deal.created"] })))
            .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
        assert_eq!(refused.body["errors"][0]["field"], "events[1]");
        subscribe(&app, &url, json!(["account.*", "contact.created"])).await;

        let write = |method: Method, uri: String, version: Option<&'static str>, body: Value| {
            let app = &app;
            async move {
                let headers: Vec<(&str, &str)> = version.map(|v| ("if-match", v)).into_iter().collect();
                let reply = app.with_token(&app.admin_token, method, &uri, &headers, Some(body)).await;
                assert!(reply.status.is_success(), "{}", reply.body);
                reply.body
            }
        };
        let accounts = "/api/v1/workspaces/demo/accounts".to_owned();
        let account = write(Method::POST, accounts.clone(), None, json!({"name": "Hooli"})).await;
        let account_id = account["id"].as_str().unwrap().to_owned();
        let uri = format!("{accounts}/{account_id}");
        write(Method::PATCH, uri.clone(), Some("\"1\""), json!({"tier": "tier_2"})).await;
        write(Method::PATCH, uri, Some("\"2\""), json!({"name": "Hooli XYZ"})).await;
        let contact = write(Method::POST, "/api/v1/workspaces/demo/contacts".to_owned(), None,
                            json!({"name": "Gavin Belson", "account_id": account_id})).await;
        // Not subscribed to: a contact's changes after its creation.
        write(Method::PATCH, format!("/api/v1/workspaces/demo/contacts/{}", contact["id"].as_str().unwrap()),
              Some("\"1\""), json!({"title": "CEO"})).await;

        send_until(&app.state, || received.lock().unwrap().len() >= 4).await;
        send_due_deliveries(&app.state, Utc::now()).await.unwrap();
        let received = received.lock().unwrap().clone();
        let payloads: Vec<Value> = received.iter().map(|(headers, body)| {
            let timestamp = headers["x-pipewise-timestamp"].to_str().unwrap();
            assert_eq!(headers["x-pipewise-signature"].to_str().unwrap(), recomputed_signature(timestamp, body));
            let payload: Value = serde_json::from_str(body).unwrap();
            assert_eq!(headers["x-pipewise-event"].to_str().unwrap(), payload["type"]);
            payload
        }).collect();
        assert_eq!(payloads.len(), 4, "{payloads:?}");
        let of_account: Vec<(&str, u64)> = payloads.iter()
            .filter(|p| p["change"]["record_id"] == account_id.as_str())
            .map(|p| (p["type"].as_str().unwrap(), p["change"]["version"].as_u64().unwrap()))
            .collect();
        assert_eq!(of_account, [("account.created", 1), ("account.changed", 2), ("account.changed", 3)]);
        let renamed = payloads.iter().find(|p| p["id"] == format!("{account_id}:3")).unwrap();
        assert_eq!((renamed["change"]["before"]["name"].as_str(), renamed["change"]["after"]["name"].as_str()),
                   (Some("Hooli"), Some("Hooli XYZ")));
        let created = payloads.iter().find(|p| p["type"] == "contact.created").unwrap();
        assert_eq!(created["change"]["after"]["title"], Value::Null);
        assert_eq!(created["change"]["actor_id"], app.user(pipewise_core::org::Role::Admin).id.to_string());
    }

    async fn a_webhook_whose_deliveries_keep_failing_is_disabled(app) {
        let (url, received) = receiver(None).await;
        let mut state = app.state.clone();
        state.webhook_backoff = chrono::Duration::milliseconds(1);
        let hook = subscribe(&app, &url, json!(["*"])).await;
        let deals = open_deal_ids(&app).await;
        for (i, deal) in deals.iter().take(3).enumerate() {
            change_amount(&app, deal, 5_000 + i as u32).await;
        }
        let uri = format!("/api/v1/workspaces/demo/webhooks/{hook}");
        let disabled = || received.lock().unwrap().len() >= 3 * 10;
        send_until(&state, disabled).await;
        let shown = app.get(&uri).await.2;
        assert!(shown["disabled_at"].is_string(), "{shown}");
        assert_eq!(shown["failed_deliveries"], 3);
        let log = app.get(&format!("{uri}/deliveries")).await.2;
        assert!(log.as_array().unwrap().iter().all(|d| d["status"] == "failed" && d["attempts"] == 10 && d["last_status"] == 503));
        // Nothing more is queued or sent to it.
        change_amount(&app, &deals[3], 9_000).await;
        send_due_deliveries(&state, Utc::now()).await.unwrap();
        assert_eq!(received.lock().unwrap().len(), 30);
        assert_eq!(app.get(&format!("{uri}/deliveries")).await.2.as_array().unwrap().len(), 3);

        // Enabled again, it gets what happens from then on.
        let enabled = app.with_token(&app.admin_token, Method::POST, &format!("{uri}/enable"), &[], None).await;
        assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.body);
        assert_eq!((enabled.body["disabled_at"].clone(), enabled.body["failed_deliveries"].clone()), (Value::Null, json!(0)));
        change_amount(&app, &deals[4], 9_500).await;
        send_due_deliveries(&state, Utc::now()).await.unwrap();
        assert_eq!(received.lock().unwrap().len(), 31);

        // Only admins manage webhooks.
        let rep = app.user(pipewise_core::org::Role::Rep).clone();
        let token = app.token(&rep, "write").await;
        let refused = app.with_token(&token, Method::GET, "/api/v1/workspaces/demo/webhooks", &[], None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
    }
}
