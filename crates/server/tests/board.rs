//! The pipeline board's columns over HTTP: each column's count and amount are those of the
//! open deals in its stage that the viewer reaches and the filters keep, as the store holds
//! them, on both databases.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

mod common;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::Utc;
use pipewise_core::access::Access;
use pipewise_core::exchange::ExchangeRates;
use pipewise_core::opportunity::{Opportunity, Status};
use pipewise_core::org::Hierarchy;
use pipewise_core::org::Role;
use pipewise_core::process::ForecastCategory;
use pipewise_store::{DealFilter, DealOrder, PageRequest};

use common::TestApp;

/// Each column's stage with the count and amount its header shows.
fn columns(html: &str) -> BTreeMap<String, (u64, i64)> {
    let attribute = |chunk: &str, name: &str| -> String {
        let start = chunk.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        chunk[start..].split('"').next().unwrap().to_owned()
    };
    html.split("class=\"column\" data-stage=\"")
        .skip(1)
        .map(|chunk| {
            let stage = chunk.split('"').next().unwrap().to_owned();
            let count = attribute(chunk, "data-count").parse().unwrap();
            let total = attribute(chunk, "data-total").parse().unwrap();
            (stage, (count, total))
        })
        .collect()
}

/// Each card's deal with the stage of the column it is in and its version.
fn cards(html: &str) -> BTreeMap<String, (String, u32)> {
    let mut cards = BTreeMap::new();
    for column in html.split("class=\"column\" data-stage=\"").skip(1) {
        let stage = column.split('"').next().unwrap();
        for card in column.split("data-deal=\"").skip(1) {
            let id = card.split('"').next().unwrap().to_owned();
            let version = card.split("data-version=\"").nth(1).unwrap();
            let version = version.split('"').next().unwrap().parse().unwrap();
            cards.insert(id, (stage.to_owned(), version));
        }
    }
    cards
}

/// The cards the board should draw for `deals`, all of them being fewer than it draws.
fn expected_cards(deals: &[&Opportunity]) -> BTreeMap<String, (String, u32)> {
    let process = pipewise_core::process::Process::default_enterprise();
    deals
        .iter()
        .filter(|d| d.process == process.key)
        .map(|d| (d.id.to_string(), (d.stage.to_string(), d.version)))
        .collect()
}

/// Every open deal in the store.
async fn open_deals(app: &TestApp) -> Vec<Opportunity> {
    let workspace = app.workspace().await;
    let filter = DealFilter {
        owners: None,
        stage: None,
        status: Some(Status::Open),
        closing: None,
        order: DealOrder::Created,
    };
    let mut deals = Vec::new();
    let mut after = None;
    loop {
        let page = app
            .store()
            .opportunities(workspace.id, PageRequest { after, limit: 100 }, &filter)
            .await
            .unwrap();
        deals.extend(page.items);
        match page.next_after {
            Some(next) => after = Some(next),
            None => return deals,
        }
    }
}

/// The columns the board should show for `deals`: every stage of the process, empty ones
/// at zero, amounts in the corporate currency today.
async fn expected(app: &TestApp, deals: &[&Opportunity]) -> BTreeMap<String, (u64, i64)> {
    let workspace = app.workspace().await;
    let rates = ExchangeRates::with(
        workspace.corporate_currency,
        &app.store().exchange_rates(workspace.id).await.unwrap(),
    );
    let today = Utc::now().date_naive();
    let process = pipewise_core::process::Process::default_enterprise();
    let mut columns: BTreeMap<String, (u64, i64)> = process
        .stages()
        .iter()
        .map(|s| (s.key.to_string(), (0, 0)))
        .collect();
    for deal in deals.iter().filter(|d| d.process == process.key) {
        let column = columns.get_mut(deal.stage.as_str()).unwrap();
        column.0 += 1;
        column.1 += deal
            .amount
            .map_or(0, |m| rates.convert(m, today).unwrap_or(0));
    }
    columns
}

on_both_backends_app! {
    async fn each_column_counts_the_open_deals_in_its_stage_the_viewer_reaches(app) {
        let deals = open_deals(&app).await;
        assert!(deals.len() >= 3, "the demo has open deals to count: {}", deals.len());
        let all: Vec<&Opportunity> = deals.iter().collect();
        let (status, html) = app.page(&app.admin_token, "/app/demo/board").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(columns(&html), expected(&app, &all).await);
        assert_eq!(cards(&html), expected_cards(&all));

        // One rep's deals, asked for by the admin, and what that rep reaches.
        let rep = app.users.iter()
            .find(|u| u.role == Role::Rep && deals.iter().any(|d| d.owner_id == u.id))
            .unwrap().clone();
        let theirs: Vec<&Opportunity> = deals.iter().filter(|d| d.owner_id == rep.id).collect();
        let (_, html) = app.page(&app.admin_token, &format!("/app/demo/board?owner={}", rep.id)).await;
        assert_eq!(columns(&html), expected(&app, &theirs).await);
        let token = app.token(&rep, "read").await;
        let workspace = app.workspace().await;
        let hierarchy = Hierarchy::new(&app.users).unwrap();
        let access = Access::new(&rep, &app.users, &hierarchy, workspace.rep_visibility);
        let reached: Vec<&Opportunity> = deals.iter().filter(|d| access.can_read(d.owner_id)).collect();
        assert!(reached.len() < deals.len(), "a rep reaches only some deals");
        let (_, html) = app.page(&token, "/app/demo/board").await;
        assert_eq!(columns(&html), expected(&app, &reached).await);

        // Commit deals only, and those due in one quarter.
        let process = pipewise_core::process::Process::default_enterprise();
        let commit: Vec<&Opportunity> = deals.iter()
            .filter(|d| d.forecast_category(&process) == ForecastCategory::Commit).collect();
        let (_, html) = app.page(&app.admin_token, "/app/demo/board?category=commit").await;
        assert_eq!(columns(&html), expected(&app, &commit).await);
        assert_eq!(cards(&html), expected_cards(&commit));
        let period = workspace.fiscal_calendar.quarter_of(deals[0].close_date);
        let quarter = workspace.fiscal_calendar.range(period);
        let due: Vec<&Opportunity> = deals.iter().filter(|d| quarter.contains(d.close_date)).collect();
        assert!(!theirs.is_empty() && !commit.is_empty() && due.len() < deals.len());
        let (_, html) = app.page(&app.admin_token, &format!("/app/demo/board?period={period}")).await;
        assert_eq!(columns(&html), expected(&app, &due).await);
    }
}
