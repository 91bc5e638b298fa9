//! Forecast calls, adjustments and snapshots submitted over HTTP, on both databases.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

mod common;

use axum::http::{Method, StatusCode};
use chrono::Utc;
use pipewise_core::opportunity::Status;
use pipewise_core::org::{Role, User};
use pipewise_store::PageRequest;
use serde_json::json;

const FORECAST: &str = "/api/v1/workspaces/demo/forecast";

on_both_backends_app! {
    async fn a_call_and_an_adjustment_reach_the_roll_up_and_a_snapshot_freezes_it(app) {
        let workspace = app.store().workspace(&"demo".parse().unwrap()).await.unwrap();
        let period = workspace.fiscal_calendar.quarter_of(Utc::now().date_naive());
        let range = workspace.fiscal_calendar.range(period);
        let page = PageRequest { after: None, limit: 1000 };
        let deals = app.store().opportunities(workspace.id, page, &pipewise_store::DealFilter::default()).await.unwrap().items;
        let due: Vec<_> = deals.iter().filter(|d| d.status == Status::Open && range.contains(d.close_date)).collect();
        // A rep with a deal due this quarter, and their manager.
        let (rep, deal) = app.users.iter()
            .filter(|u| u.role == Role::Rep)
            .find_map(|u| Some((u.clone(), *due.iter().find(|d| d.owner_id == u.id)?)))
            .unwrap();
        let manager: User = app.users.iter().find(|u| Some(u.id) == rep.manager_id).unwrap().clone();
        let rep_token = app.token(&rep, "write").await;
        let manager_token = app.token(&manager, "write").await;

        let call = json!({
            "period": period.to_string(),
            "lines": [{ "opportunity_id": deal.id.to_string(), "include": true, "note": "Signature planned for the 15th" }],
        });
        let called = app.with_token(&rep_token, Method::POST, &format!("{FORECAST}/calls"), &[], Some(call)).await;
        assert_eq!(called.status, StatusCode::CREATED, "{}", called.body);
        assert_eq!(called.body["subject_id"], rep.id.to_string());
        assert_eq!(called.body["submitted_by"], rep.id.to_string());

        // Someone else's deal, and a deal twice, are refused at their lines.
        let other = due.iter().find(|d| d.owner_id != rep.id).unwrap();
        let wrong = json!({
            "period": period.to_string(),
            "lines": [{ "opportunity_id": other.id.to_string(), "include": true, "note": "x" }],
        });
        let refused = app.with_token(&rep_token, Method::POST, &format!("{FORECAST}/calls"), &[], Some(wrong)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(refused.body["errors"][0]["field"], "lines[0].opportunity_id");
        assert_eq!(refused.body["errors"][0]["expected"], "a deal the calling rep owns");

        // A rep cannot adjust anyone; their manager can adjust them.
        let adjustment = json!({ "period": period.to_string(), "subject_id": rep.id.to_string(),
                                 "amount": "125000.00", "note": "Procurement confirmed the date" });
        let by_rep = app.with_token(&rep_token, Method::POST, &format!("{FORECAST}/adjustments"), &[], Some(adjustment.clone())).await;
        assert_eq!(by_rep.status, StatusCode::BAD_REQUEST, "{}", by_rep.body);
        let by_manager = app.with_token(&manager_token, Method::POST, &format!("{FORECAST}/adjustments"), &[], Some(adjustment)).await;
        assert_eq!(by_manager.status, StatusCode::CREATED, "{}", by_manager.body);

        let forecast = app.get(&format!("{FORECAST}?period={period}")).await.2;
        let person = forecast["people"].as_array().unwrap().iter().find(|p| p["user_id"] == rep.id.to_string()).unwrap();
        assert_eq!(person["adjustment"]["amount"], 12_500_000);
        assert_eq!(person["forecast"], 12_500_000);
        assert!(person["called_at"].is_string());
        let line = forecast["deals"].as_array().unwrap().iter().find(|d| d["opportunity_id"] == deal.id.to_string()).unwrap();
        assert_eq!(line["in_call"], true);

        // The rep sees the same numbers, but only their team's deals.
        let theirs = app.with_token(&rep_token, Method::GET, &format!("{FORECAST}?period={period}"), &[], None).await.body;
        // The same numbers; the deal model's may move by a few cents between two requests,
        // as its time-in-stage and quiet-days features read the clock.
        let numbers = |report: &serde_json::Value| -> Vec<(String, i64)> {
            report["methods"].as_array().unwrap().iter()
                .map(|m| (m["method"].as_str().unwrap().to_owned(), m["forecast"].as_i64().unwrap()))
                .collect()
        };
        for ((method, theirs), (_, all)) in numbers(&theirs).into_iter().zip(numbers(&forecast)) {
            let allowed = if method == "deal-model" { 100 } else { 0 };
            assert!((theirs - all).abs() <= allowed, "{method}: {theirs} against {all}");
        }
        let team: Vec<String> = app.users.iter().filter(|u| u.team_id == rep.team_id).map(|u| u.id.to_string()).collect();
        let ids = |deals: &serde_json::Value, keep: &dyn Fn(&str) -> bool| -> Vec<String> {
            deals.as_array().unwrap().iter()
                .filter(|d| keep(d["owner_id"].as_str().unwrap()))
                .map(|d| d["opportunity_id"].as_str().unwrap().to_owned())
                .collect()
        };
        let in_team = |owner: &str| team.iter().any(|t| t == owner);
        assert_eq!(ids(&theirs["deals"], &|_| true), ids(&forecast["deals"], &in_team));
        assert!(theirs["deals"].as_array().unwrap().len() < forecast["deals"].as_array().unwrap().len());

        // A viewer may not take a snapshot; an admin may, and it lists with the period's.
        let viewer = app.user(Role::Viewer).clone();
        let viewer_token = app.token(&viewer, "write").await;
        let snapshots = format!("{FORECAST}/snapshots");
        let by_viewer = app.with_token(&viewer_token, Method::POST, &snapshots, &[], Some(json!({}))).await;
        assert_eq!(by_viewer.status, StatusCode::FORBIDDEN);
        let taken = app.with_token(&app.admin_token, Method::POST, &snapshots, &[], Some(json!({ "period": period.to_string() }))).await;
        assert_eq!(taken.status, StatusCode::CREATED, "{}", taken.body);
        let person = taken.body["people"].as_array().unwrap().iter().find(|p| p["user_id"] == rep.id.to_string()).unwrap();
        assert_eq!(person["forecast"], 12_500_000);
        let listed = app.get(&format!("{snapshots}?period={period}")).await.2;
        assert!(listed.as_array().unwrap().iter().any(|s| s["id"] == taken.body["id"]));
    }

    async fn a_quota_set_or_removed_over_http_is_in_the_next_forecast(app) {
        // A quarter far ahead, with no quota yet: the report settings are read and kept.
        let uri = format!("{FORECAST}?period=2031-Q1");
        assert_eq!(app.get(&uri).await.2["quota"], serde_json::Value::Null);
        let set = app.with_token(&app.admin_token, Method::POST, "/api/v1/workspaces/demo/targets", &[],
            Some(json!({"owner_kind": "workspace", "period": "2031-Q1", "amount": "2500000"}))).await;
        assert_eq!(set.status, StatusCode::CREATED, "{}", set.body);
        assert_eq!(app.get(&uri).await.2["quota"], 250_000_000);
        let target = format!("/api/v1/workspaces/demo/targets/{}", set.body["id"].as_str().unwrap());
        let raised = app.with_token(&app.admin_token, Method::PATCH, &target, &[("if-match", "\"1\"")],
            Some(json!({"amount": "3000000"}))).await;
        assert_eq!(raised.status, StatusCode::OK, "{}", raised.body);
        assert_eq!(app.get(&uri).await.2["quota"], 300_000_000);
        let removed = app.with_token(&app.admin_token, Method::DELETE, &target, &[("if-match", "\"2\"")], None).await;
        assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.body);
        assert_eq!(app.get(&uri).await.2["quota"], serde_json::Value::Null);
    }
}
