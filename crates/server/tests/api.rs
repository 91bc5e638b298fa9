//! The HTTP API, in process, against a SQLite store holding a small generated demo.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

use axum::http::StatusCode;
use pipewise_core::ids::OpportunityId;
use serde_json::{Value, json};

mod common;

use common::{DEALS, TestApp};

#[tokio::test]
async fn health_reports_ok_when_the_database_answers() {
    let app = TestApp::sqlite().await;
    let (status, _, body) = app.get("/health").await;
    assert_eq!((status, body), (StatusCode::OK, json!({ "status": "ok" })));
}

#[tokio::test]
async fn the_index_links_each_workspace() {
    let app = TestApp::sqlite().await;
    let (status, _, body) = app.get("/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["workspaces"],
        json!([{
            "slug": "demo",
            "name": "Acme Analytics (demo)",
            "opportunities": "/api/v1/workspaces/demo/opportunities",
        }])
    );
}

#[tokio::test]
async fn pages_cover_every_opportunity_once_in_creation_order() {
    let app = TestApp::sqlite().await;
    let mut ids = Vec::new();
    let mut uri = "/api/v1/workspaces/demo/opportunities?limit=25".to_owned();
    let mut pages = 0;
    loop {
        let (status, _, body) = app.get(&uri).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        pages += 1;
        for item in body["items"].as_array().unwrap() {
            ids.push(
                item["id"]
                    .as_str()
                    .unwrap()
                    .parse::<OpportunityId>()
                    .unwrap(),
            );
            let expected_category = match item["status"].as_str().unwrap() {
                "won" => Some("closed"),
                "lost" => Some("omitted"),
                _ => None,
            };
            if let Some(category) = expected_category {
                assert_eq!(item["forecast_category"], category);
            }
        }
        match body["next_cursor"].as_str() {
            Some(cursor) => {
                uri = format!("/api/v1/workspaces/demo/opportunities?limit=25&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!((pages, ids.len()), (3, DEALS));
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "ascending ids, none twice");
}

#[tokio::test]
async fn one_opportunity_and_its_history() {
    let app = TestApp::sqlite().await;
    let (_, _, list) = app
        .get("/api/v1/workspaces/demo/opportunities?limit=1")
        .await;
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, _, deal) = app
        .get(&format!("/api/v1/workspaces/demo/opportunities/{id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, history) = app
        .get(&format!(
            "/api/v1/workspaces/demo/opportunities/{id}/history"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let workspace = app.workspace().await;
    let stored = app
        .state
        .store
        .opportunity_events(workspace.id, id.parse().unwrap())
        .await
        .unwrap();
    let events = history.as_array().unwrap();
    assert_eq!(events.len(), stored.len());
    assert_eq!(deal["version"], stored.len());
    assert_eq!(events[0]["kind"], "created");
    for (event, seq) in events.iter().zip(1..) {
        assert_eq!(event["seq"], seq);
        assert_eq!(event["opportunity_id"], id.as_str());
    }
    assert_eq!(serde_json::to_value(&stored).unwrap(), history);
}

#[tokio::test]
async fn unknown_workspaces_and_opportunities_are_404_problems() {
    let app = TestApp::sqlite().await;
    let (status, content_type, body) = app.get("/api/v1/workspaces/nowhere/opportunities").await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::NOT_FOUND, "application/problem+json")
    );
    assert_eq!(
        body,
        json!({
            "type": "about:blank",
            "title": "Not found",
            "status": 404,
            "detail": "workspace `nowhere` was not found",
            "code": "not_found",
        })
    );
    let missing = OpportunityId::generate();
    let (status, _, body) = app
        .get(&format!("/api/v1/workspaces/demo/opportunities/{missing}"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["detail"],
        format!("opportunity `{missing}` was not found")
    );
}

#[tokio::test]
async fn bad_parameters_are_400_problems_naming_field_and_value() {
    let app = TestApp::sqlite().await;
    let cases = [
        (
            "/api/v1/workspaces/demo/opportunities?limit=0",
            "limit",
            "0",
        ),
        (
            "/api/v1/workspaces/demo/opportunities?limit=500",
            "limit",
            "500",
        ),
        (
            "/api/v1/workspaces/demo/opportunities?limit=ten",
            "limit",
            "ten",
        ),
        (
            "/api/v1/workspaces/demo/opportunities?cursor=page-2",
            "cursor",
            "page-2",
        ),
        ("/api/v1/workspaces/demo/opportunities/42", "id", "42"),
    ];
    for (uri, field, value) in cases {
        let (status, content_type, body) = app.get(uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(body["code"], "invalid_parameters");
        assert_eq!(body["errors"][0]["field"], field, "{uri}");
        assert_eq!(body["errors"][0]["value"], value, "{uri}");
    }
    let (_, _, body) = app
        .get("/api/v1/workspaces/demo/opportunities?limit=0")
        .await;
    assert_eq!(
        body,
        json!({
            "type": "about:blank",
            "title": "Invalid parameters",
            "status": 400,
            "detail": "limit: `0` is not accepted: a whole number from 1 to 200",
            "code": "invalid_parameters",
            "errors": [{ "field": "limit", "value": "0", "expected": "a whole number from 1 to 200" }],
        })
    );
    let (status, _, body) = app
        .get("/api/v1/workspaces/demo/opportunities?page=2")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["field"], "query");
}

#[tokio::test]
async fn reports_match_the_projection_and_follow_writes_without_a_rebuild() {
    use pipewise_core::money::Money;
    use pipewise_core::opportunity::{Command, Stamp, Status};
    let app = TestApp::sqlite().await;
    let store = app.state.store.clone();
    let workspace = store.workspace(&"demo".parse().unwrap()).await.unwrap();
    // The outcomes of a quarter of the demo's history, computed here from a projection built
    // straight from the log.
    let (status, _, body) = app
        .get("/api/v1/workspaces/demo/reports/outcomes?period=2026-Q3&as_of=2026-11-23")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["report"], "outcomes");
    let projection = pipewise_store::analytics::projection(&*store, &workspace)
        .await
        .unwrap();
    let calendar = workspace.fiscal_calendar;
    let expected = projection
        .outcomes(
            calendar.range("2026-Q3".parse().unwrap()),
            pipewise_analytics::reports::end_of("2026-11-23".parse().unwrap()),
            &pipewise_core::exchange::ExchangeRates::new(workspace.corporate_currency),
        )
        .unwrap();
    assert_eq!(body["won"]["count"], expected.won.count);
    assert_eq!(body["won"]["amount"], expected.won.amount);
    assert_eq!(body["slipped"]["count"], expected.slipped.count);
    assert_eq!(app.state.analytics.builds(), 1);
    // A change written through the store reaches the resident projection.
    let pipeline = |body: &Value| -> i64 {
        body["categories"]
            .as_object()
            .unwrap()
            .values()
            .map(|c| c["amounts"]["USD"].as_i64().unwrap_or(0))
            .sum()
    };
    let (_, _, before) = app.get("/api/v1/workspaces/demo/reports/pipeline").await;
    let deal = store
        .opportunities(
            workspace.id,
            pipewise_store::PageRequest {
                after: None,
                limit: 200,
            },
            &pipewise_store::DealFilter::default(),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .find(|o| o.status == Status::Open && o.amount.is_some())
        .unwrap();
    let amount = deal.amount.unwrap();
    let process = pipewise_store::processes::current(&*store, &workspace)
        .await
        .unwrap();
    pipewise_store::commands::execute(
        &*store,
        &workspace,
        process.process_of(&deal.process),
        deal.id,
        None,
        Command::ChangeAmount(Some(Money::new(amount.minor + 100_000, amount.currency))),
        Stamp::now(deal.owner_id, chrono::Utc::now()),
    )
    .await
    .unwrap();
    // The announcement is taken in by a task of its own; give it a moment.
    let mut after = Value::Null;
    for _ in 0..50 {
        after = app.get("/api/v1/workspaces/demo/reports/pipeline").await.2;
        if pipeline(&after) != pipeline(&before) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(pipeline(&after) - pipeline(&before), 100_000);
    assert_eq!(app.state.analytics.builds(), 1, "followed, not rebuilt");
}

#[tokio::test]
async fn bad_report_requests_name_the_parameter() {
    let app = TestApp::sqlite().await;
    let (status, content_type, body) = app
        .get("/api/v1/workspaces/demo/reports/outcomes?by=owner,owner&as_of=yesterday")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(content_type, "application/problem+json");
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["as_of", "by"]);
    let (status, _, body) = app
        .get("/api/v1/workspaces/demo/reports/coverage?period=2020-Q1&as_of=2026-11-23")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["field"], "period");
    assert_eq!(
        body["errors"][0]["expected"],
        "the workspace has no company target for 2020-Q1"
    );
    let (status, _, body) = app.get("/api/v1/workspaces/demo/reports/forecast").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (status, _, _) = app
        .get("/api/v1/workspaces/demo/reports/outcomes?colour=red")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_forecast_shows_four_methods_over_the_same_wins() {
    let app = TestApp::sqlite().await;
    let (status, _, body) = app
        .get("/api/v1/workspaces/demo/forecast?period=2027-Q4&as_of=2026-11-23")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["period"], "2027-Q4");
    let methods: Vec<&str> = body["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        [
            "deal-call",
            "category-weighted",
            "stage-weighted",
            "deal-model"
        ]
    );
    let won = body["won"]["amount"].as_i64().unwrap();
    for method in body["methods"].as_array().unwrap() {
        let (forecast, from_open) = (method["forecast"].as_i64(), method["from_open"].as_i64());
        assert_eq!(forecast.unwrap() - from_open.unwrap(), won, "{method}");
    }
    let called: i64 = body["deals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["in_call"] == true)
        .map(|d| d["amount"].as_i64().unwrap())
        .sum();
    assert_eq!(body["methods"][0]["from_open"].as_i64(), Some(called));

    let (status, _, body) = app
        .get("/api/v1/workspaces/demo/forecast?period=2027-Q5&colour=red")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, body) = app
        .get("/api/v1/workspaces/demo/forecast?period=2027-Q5")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["field"], "period");
}

#[tokio::test]
async fn the_backtest_replays_past_quarters_for_every_method() {
    let app = TestApp::sqlite().await;
    let (status, _, body) = app
        .get("/api/v1/workspaces/demo/forecast/backtest?periods=2&as_of=2026-11-23")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let periods: Vec<&str> = body["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["2027-Q2", "2027-Q3"]);
    assert_eq!(body["accuracy"].as_array().unwrap().len(), 4);
    assert_eq!(
        body["periods"][0]["weeks"][0]["forecasts"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let (status, _, body) = app
        .get("/api/v1/workspaces/demo/forecast/backtest?periods=0")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["field"], "periods");
}

#[tokio::test]
async fn the_backtest_page_shows_the_kept_replay_of_the_last_four_quarters() {
    let app = TestApp::sqlite().await;
    let today = chrono::Utc::now().date_naive();
    let (status, html) = app
        .page(&app.admin_token, "/app/demo/forecast/backtest")
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (status, _, body) = app
        .get(&format!(
            "/api/v1/workspaces/demo/forecast/backtest?periods=4&as_of={today}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The page's methods in its accuracy table, each with its mean absolute error, are the
    // API's for the same quarters.
    let names = [
        ("deal-call", "Deal-specific call"),
        ("category-weighted", "Category-weighted"),
        ("stage-weighted", "Stage-weighted"),
        ("deal-model", "Deal model"),
    ];
    for accuracy in body["accuracy"].as_array().unwrap() {
        let method = accuracy["method"].as_str().unwrap();
        let name = names.iter().find(|(m, _)| *m == method).unwrap().1;
        let row = format!("<th scope=\"row\">{name}</th>");
        let cell = match accuracy["mean_absolute_error"].as_f64() {
            Some(error) => format!("{row}<td data-sort=\"{error}\">"),
            None => format!("{row}<td>"),
        };
        assert!(html.contains(&cell), "{cell} not in the page");
    }
    assert!(html.contains("Replayed at "), "{html}");
}

#[tokio::test]
async fn the_server_takes_a_snapshot_a_week_and_compares_any_two() {
    let app = TestApp::sqlite().await;
    let monday: chrono::DateTime<chrono::Utc> = "2026-11-23T06:00:00Z".parse().unwrap();
    let taken = |at| pipewise_server::take_weekly_snapshots(&app.state, at);
    assert_eq!(taken(monday).await.unwrap(), 1, "none yet: one is taken");
    assert_eq!(
        taken(monday + chrono::Duration::days(6)).await.unwrap(),
        0,
        "the latest is not a week old"
    );
    assert_eq!(taken(monday + chrono::Duration::days(7)).await.unwrap(), 1);
    let (status, _, list) = app
        .get("/api/v1/workspaces/demo/forecast/snapshots?period=2027-Q4")
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["taken_at"], "2026-11-23T06:00:00Z");
    assert_eq!(list[1]["as_of"], "2026-11-30");
    let (from, to) = (
        list[0]["id"].as_str().unwrap(),
        list[1]["id"].as_str().unwrap(),
    );
    let (status, _, comparison) = app
        .get(&format!(
            "/api/v1/workspaces/demo/forecast/snapshots/compare?from={from}&to={to}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{comparison}");
    let won = &comparison["won"];
    assert_eq!(
        won["to"].as_i64().unwrap() - won["from"].as_i64().unwrap(),
        won["change"].as_i64().unwrap()
    );
    assert_eq!(comparison["methods"].as_array().unwrap().len(), 4);
    let (status, _, body) = app
        .get(&format!(
            "/api/v1/workspaces/demo/forecast/snapshots/compare?from={from}"
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["errors"][0]["field"], "to");
}

#[tokio::test]
async fn the_openapi_document_and_its_page_are_public() {
    let app = TestApp::sqlite().await;
    let reply = app
        .send(axum::http::Method::GET, "/openapi.json", &[], None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), "application/json");
    assert_eq!(reply.body["info"]["title"], "pipewise");
    let deals = &reply.body["paths"]["/api/v1/workspaces/{workspace}/opportunities"];
    assert_eq!(
        deals["get"]["summary"],
        "Deals the caller may read, a page at a time"
    );
    assert_eq!(deals["post"]["summary"], "Open a deal");
}
