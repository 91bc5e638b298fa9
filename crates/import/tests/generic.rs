//! A hand-made export from another CRM, read as generic CSV: its own column names mapped in
//! the mapping file, US dates, history rows; metrics derived by hand.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

#[path = "../../store/tests/common/mod.rs"]
mod common;
mod support;

use pipewise_core::exchange::ExchangeRates;
use pipewise_core::external::ExternalKind;
use pipewise_core::money::Currency;
use pipewise_core::opportunity::{LossType, Status};
use pipewise_core::process::{ProcessKey, ProcessSet};
use pipewise_import::values::DateStyle;
use pipewise_import::{Request, Source};

use support::{all, as_of, fixture, mapping, projection, q1, tally, workspace};

on_both_backends! {
    async fn another_crms_columns_and_history_give_the_metrics_derived_by_hand(store) {
        let ws = workspace(store).await;
        let mapping = mapping("csv");
        let processes = pipewise_store::processes::current(store, &ws).await.unwrap();
        let folder = fixture("csv");
        let request = Request { source: Source::Csv, folder: &folder, mapping: &mapping, dates: DateStyle::Us };
        let read = pipewise_import::import(store, &ws, &processes, request, |_| {}).await.unwrap().read;
        assert!(read.issues.is_empty(), "{:#?}", read.issues);
        assert_eq!(read.tallies[&ExternalKind::Opportunity], tally(3, 3, 0, 0));

        let deals = all(store.all_opportunities(ws.id)).await;
        let pilot = deals.iter().find(|d| d.name.as_str() == "Umbrella Pilot").unwrap();
        assert_eq!((pilot.status, pilot.loss.as_ref().map(|l| l.loss_type)), (Status::Lost, Some(LossType::NoDecision)));
        let platform = deals.iter().find(|d| d.name.as_str() == "Umbrella Platform").unwrap();
        assert_eq!(platform.amount.map(|m| m.minor), Some(1_000_000), "10,000 with a thousands separator");

        let projection = projection(store, &ws).await;
        // Q1: won G1 ($10k), lost G2 to no decision ($5k); G3 was due 31 March and still
        // open at the end of the quarter: slipped.
        let outcomes = projection.outcomes(q1(&ws), as_of(), &ExchangeRates::new(Currency::USD)).unwrap();
        let close = outcomes.close_rate();
        assert_eq!((close.numerator.count, close.denominator.count), (1, 2));
        assert_eq!((close.numerator.amount, close.denominator.amount), (1_000_000, 1_500_000));
        let adjusted = outcomes.slippage_adjusted_close_rate();
        assert_eq!((adjusted.numerator.count, adjusted.denominator.count), (1, 3));
        // Qualified visits ended in Q1: G1 10 days, G2 41, G3 10 → median 10, P75 41.
        let process = ProcessSet::shipped().get(&ProcessKey::parse("enterprise").unwrap()).unwrap().clone();
        let times = projection.time_in_stage(&process, q1(&ws), as_of());
        let qualified = times.iter().find(|t| t.stage.as_str() == "qualified").unwrap();
        assert_eq!((qualified.completed, qualified.median_days, qualified.p75_days), (3, Some(10.0), Some(41.0)));
    }
}
