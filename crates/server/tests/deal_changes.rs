//! Changing deals over HTTP: what the process refuses, what bad bodies get back, and the
//! history each change leaves, on both databases.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

mod common;

use axum::http::{Method, StatusCode};
use pipewise_core::org::Role;
use serde_json::{Value, json};

use common::TestApp;

const DEALS: &str = "/api/v1/workspaces/demo/opportunities";

/// Sends a change as the admin, with the version `tag`.
async fn change(app: &TestApp, method: Method, uri: &str, tag: &str, body: Value) -> common::Reply {
    app.with_token(
        &app.admin_token,
        method,
        uri,
        &[("if-match", tag)],
        Some(body),
    )
    .await
}

on_both_backends_app! {
    async fn a_deal_is_opened_refused_a_move_moved_back_lost_and_reopened(app) {
        let account = app.store().all_accounts(app.store().workspace(&"demo".parse().unwrap()).await.unwrap().id);
        let account = futures_util::StreamExt::next(&mut Box::pin(account)).await.unwrap().unwrap();
        let rep = app.user(Role::Rep).clone();
        // Opening in the SAL stage needs its entry evidence; without it, every criterion is named.
        let draft = json!({
            "name": "Initech data platform",
            "account_id": account.id.to_string(),
            "owner_id": rep.id.to_string(),
            "amount": "48000.00",
            "close_date": "2027-03-31",
            "next_step": "Discovery call with the CFO",
            "next_step_due": "2026-12-10",
        });
        let refused = app.with_token(&app.admin_token, Method::POST, DEALS, &[], Some(draft.clone())).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
        assert_eq!(refused.body["code"], "refused");
        assert!(!refused.body["unmet"].as_array().unwrap().is_empty());

        let mut draft = draft;
        draft["evidence"] = serde_json::to_value(pipewise_core::testing::qualified_evidence()).unwrap();
        let opened = app.with_token(&app.admin_token, Method::POST, DEALS, &[], Some(draft)).await;
        assert_eq!(opened.status, StatusCode::CREATED, "{}", opened.body);
        assert_eq!(opened.body["stage"], "qualified");
        assert_eq!(opened.body["forecast_category"], "pipeline");
        assert_eq!(opened.header("etag"), "\"1\"");
        let id = opened.body["id"].as_str().unwrap().to_owned();
        assert_eq!(opened.header("location"), format!("{DEALS}/{id}"));
        let uri = format!("{DEALS}/{id}");

        // Skipping to negotiating needs the criteria of every stage skipped.
        let skip = change(&app, Method::POST, &format!("{uri}/moves"), "\"1\"", json!({ "to": "negotiating" })).await;
        assert_eq!(skip.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(skip.body["detail"].as_str().unwrap().starts_with("moving from `qualified` to `negotiating` needs:"));
        // A stale version is refused before anything is decided.
        let stale = change(&app, Method::POST, &format!("{uri}/moves"), "\"7\"", json!({ "to": "business_case" })).await;
        assert_eq!((stale.status, stale.body["current_version"].clone()), (StatusCode::PRECONDITION_FAILED, json!(1)));

        // Lost to competition needs the competitor; then reopened with a reason.
        let lost = change(&app, Method::POST, &format!("{uri}/close-lost"), "\"1\"", json!({ "loss_type": "competition" })).await;
        assert_eq!(lost.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(lost.body["detail"], "closing lost to competition needs the competitor's name");
        let lost = change(&app, Method::POST, &format!("{uri}/close-lost"), "\"1\"",
                          json!({ "loss_type": "competition", "competitor": "Globex Analytics", "on": "2026-12-01" })).await;
        assert_eq!(lost.status, StatusCode::OK, "{}", lost.body);
        assert_eq!((lost.body["status"].clone(), lost.body["forecast_category"].clone()), (json!("lost"), json!("omitted")));
        let reopened = change(&app, Method::POST, &format!("{uri}/reopen"), "\"2\"",
                              json!({ "close_date": "2027-04-30", "reason": "New budget approved" })).await;
        assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.body);
        assert_eq!((reopened.body["status"].clone(), reopened.body["stage"].clone()), (json!("open"), json!("qualified")));

        // Several fields at once are one change: one version each, stored together.
        let patched = change(&app, Method::PATCH, &uri, "\"3\"", json!({ "amount": "52000.00", "segment": null, "close_date": "2027-05-31" })).await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
        assert_eq!(patched.header("etag"), "\"6\"");
        let shown = app.get(&format!("{uri}/history")).await.2;
        let kinds: Vec<&str> = shown.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["created", "closed_lost", "reopened", "amount_changed", "close_date_changed", "field_changed"]);
        assert!(shown.as_array().unwrap().iter().all(|e| e["actor_id"] == app.user(Role::Admin).id.to_string()));
    }

    async fn bad_bodies_are_located_and_change_nothing(app) {
        let uri = format!("{DEALS}/{}", app.get(DEALS).await.2["items"][0]["id"].as_str().unwrap());
        let before = app.get(&uri).await.2;
        let unknown = change(&app, Method::PATCH, &uri, "*", json!({ "amount": "1.00", "colour": "red" })).await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
        assert_eq!(unknown.body["errors"][0]["field"], "colour");
        let invalid = change(&app, Method::PATCH, &uri, "*", json!({ "close_date": "31/03/2027", "next_step": { "text": "" } })).await;
        assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
        let fields: Vec<&str> = invalid.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["close_date", "next_step.text", "next_step.due"]);
        let wrong_type = change(&app, Method::POST, &format!("{uri}/moves"), "*", json!({ "to": 3 })).await;
        assert_eq!((wrong_type.status, wrong_type.body["errors"][0]["field"].clone()), (StatusCode::BAD_REQUEST, json!("to")));
        let not_json = app.with_token(&app.admin_token, Method::PATCH, &uri, &[("if-match", "*"), ("content-type", "text/plain")], None).await;
        assert_eq!(not_json.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let huge = json!({ "name": "x".repeat(2 * 1024 * 1024) });
        let too_large = change(&app, Method::PATCH, &uri, "*", huge).await;
        assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
        let bad_tag = change(&app, Method::PATCH, &uri, "3", json!({ "amount": "1.00" })).await;
        assert_eq!((bad_tag.status, bad_tag.body["errors"][0]["field"].clone()), (StatusCode::BAD_REQUEST, json!("If-Match")));
        // None of it changed the deal.
        assert_eq!(app.get(&uri).await.2, before);
    }
}
