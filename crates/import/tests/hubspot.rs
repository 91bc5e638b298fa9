//! A hand-made HubSpot export imported on both databases: stage history from the
//! `hs_date_entered_*` properties, refusals with their place, and metrics derived by hand.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

#[path = "../../store/tests/common/mod.rs"]
mod common;
mod support;

use pipewise_core::exchange::ExchangeRates;
use pipewise_core::external::ExternalKind;
use pipewise_core::money::Currency;
use pipewise_core::opportunity::{LossType, Status};
use pipewise_core::org::Workspace;
use pipewise_core::process::{ProcessKey, ProcessSet};
use pipewise_import::{Prepared, Source};
use pipewise_store::Store;

use support::{all, as_of, at, counts, find, projection, q1, tally, workspace};

async fn import(store: &dyn Store, workspace: &Workspace) -> Prepared {
    support::import(store, workspace, Source::Hubspot, "hubspot").await
}

on_both_backends! {
    async fn deals_move_through_the_stages_they_entered(store) {
        let ws = workspace(store).await;
        let imported = import(store, &ws).await;
        assert_eq!(imported.tallies[&ExternalKind::User], tally(2, 2, 0, 0));
        assert_eq!(imported.tallies[&ExternalKind::Account], tally(2, 2, 0, 0));
        assert_eq!(imported.tallies[&ExternalKind::Contact], tally(2, 1, 0, 1));
        assert_eq!(imported.tallies[&ExternalKind::Opportunity], tally(5, 4, 0, 1));

        let issues = &imported.issues;
        let no_company = find(issues, "contacts.csv", 3);
        assert_eq!(no_company.column, "associatedcompanyid");
        let unknown_company = find(issues, "deals.csv", 5);
        assert_eq!((unknown_company.column.as_str(), unknown_company.value.as_str()), ("associatedcompanyid", "999"));
        // Deal 705's entry into qualifiedtobuy does not read: it is imported without it,
        // and the move to its current stage is recorded at its last modification.
        let entries: Vec<&str> = issues
            .iter()
            .filter(|i| i.file == "deals.csv" && i.line == 6)
            .map(|i| i.reason.as_str())
            .collect();
        assert_eq!(entries.len(), 2, "{issues:#?}");
        assert!(entries[0].ends_with("the deal is imported without this stage entry"));
        assert_eq!(entries[1], "imported; history ends before the current fields: the difference is recorded at the last modification");
        assert_eq!(issues.len(), 4, "{issues:#?}");

        // 701: created, two moves, won = 4; 702: created, move, lost = 3; 703: created,
        // two moves = 3; 705: created, move = 2.
        assert_eq!(counts(store, &ws).await.opportunity_events, 12);
        let deals = all(store.all_opportunities(ws.id)).await;
        let lost = deals.iter().find(|d| d.name.as_str() == "Globex Platform").unwrap();
        assert_eq!(lost.status, Status::Lost);
        assert_eq!(lost.loss.as_ref().map(|l| l.loss_type), Some(LossType::Competition));
        let services = deals.iter().find(|d| d.name.as_str() == "Northwind Services").unwrap();
        let events = store.opportunity_events(ws.id, services.id).await.unwrap();
        assert_eq!(events[1].effective_at, at("2025-03-20T09:00:00Z"));
    }

    async fn the_entry_dates_give_the_metrics_derived_by_hand(store) {
        let ws = workspace(store).await;
        import(store, &ws).await;
        let projection = projection(store, &ws).await;
        let outcomes = projection.outcomes(q1(&ws), as_of(), &ExchangeRates::new(Currency::USD)).unwrap();
        // Won 701 ($100k), lost 702 to competition ($50k).
        let close = outcomes.close_rate();
        assert_eq!((close.numerator.count, close.denominator.count), (1, 2));
        assert_eq!((close.numerator.amount, close.denominator.amount), (10_000_000, 15_000_000));

        let process = ProcessSet::shipped().get(&ProcessKey::parse("enterprise").unwrap()).unwrap().clone();
        // Qualified visits ended in Q1: 701 14 days, 702 21, 703 7, 705 15 (to its last
        // modification) → 7 14 15 21: median 14, P75 15.
        let times = projection.time_in_stage(&process, q1(&ws), as_of());
        let qualified = times.iter().find(|t| t.stage.as_str() == "qualified").unwrap();
        assert_eq!((qualified.completed, qualified.median_days, qualified.p75_days), (4, Some(14.0), Some(15.0)));
        // Entered business case in Q1: 701, 702, 703, 705; went on: 701 and 703; 705 is
        // still there.
        let conversions = projection.conversions(&process, q1(&ws), as_of());
        let step = conversions.iter().find(|c| c.from.as_str() == "business_case" && c.to == "evaluating").unwrap();
        assert_eq!((step.entered, step.reached, step.still_open), (4, 2, 1));
    }

    async fn a_second_import_of_the_same_export_adds_nothing(store) {
        let ws = workspace(store).await;
        import(store, &ws).await;
        let before = counts(store, &ws).await;
        let again = import(store, &ws).await;
        assert_eq!(again.tallies[&ExternalKind::Opportunity], tally(5, 0, 4, 1));
        assert_eq!(counts(store, &ws).await, before);
    }
}
