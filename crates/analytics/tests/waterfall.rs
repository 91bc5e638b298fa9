//! The pipeline waterfall on a hand-worked month, and its reconciliation on random histories.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

mod common;

use chrono::{DateTime, Utc};
use common::{dated_history, ready_to_win, usd};
use pipewise_analytics::{Projection, Tally, Waterfall};
use pipewise_core::calendar::DateRange;
use pipewise_core::exchange::ExchangeRates;
use pipewise_core::money::Currency;
use pipewise_core::opportunity::{Command, LossType};
use pipewise_core::process::ProcessSet;

fn april() -> DateRange {
    DateRange::new("2026-04-01".parse().unwrap(), "2026-05-01".parse().unwrap())
}

fn noon(day: &str) -> DateTime<Utc> {
    format!("{day}T12:00:00Z").parse().unwrap()
}

fn lose(on: &str) -> Command {
    Command::CloseLost {
        on: on.parse().unwrap(),
        loss_type: LossType::NoDecision,
        reason: None,
        competitor: None,
    }
}

fn date(day: &str) -> Command {
    Command::ChangeCloseDate(day.parse().unwrap())
}

#[test]
fn a_month_of_changes_reconciles_line_by_line() {
    let mut won = ready_to_win("2026-04-04");
    won.push((
        "2026-04-05",
        Command::CloseWon {
            on: "2026-04-05".parse().unwrap(),
        },
    ));
    let deals = [
        // A: due 10 April, $10,000, won on the 5th.
        dated_history(1, "2026-03-01", usd(10_000), "2026-04-10", won),
        // B: due 20 April, raised from $20,000 to $25,000.
        dated_history(
            2,
            "2026-03-01",
            usd(20_000),
            "2026-04-20",
            vec![("2026-03-20", Command::ChangeAmount(usd(25_000)))],
        ),
        // C: due in May, pulled into April.
        dated_history(
            3,
            "2026-03-01",
            usd(30_000),
            "2026-05-15",
            vec![("2026-03-25", date("2026-04-25"))],
        ),
        // D: due 30 April, pushed to June.
        dated_history(
            4,
            "2026-03-01",
            usd(40_000),
            "2026-04-30",
            vec![("2026-04-01", date("2026-06-30"))],
        ),
        // E: opened after the start, due 15 April, lost.
        dated_history(
            5,
            "2026-03-20",
            usd(5_000),
            "2026-04-15",
            vec![("2026-04-02", lose("2026-04-02"))],
        ),
        // F: due 12 April, lost before the month.
        dated_history(
            6,
            "2026-03-01",
            usd(7_000),
            "2026-04-12",
            vec![("2026-03-30", lose("2026-03-30"))],
        ),
    ];
    let projection = Projection::build([&ProcessSet::shipped()], deals.iter().flatten()).unwrap();
    let w = projection
        .waterfall(
            april(),
            noon("2026-03-15"),
            noon("2026-04-20"),
            &ExchangeRates::new(Currency::USD),
        )
        .unwrap();
    let tally = |count, dollars: i64| Tally {
        count,
        amount: dollars * 100,
    };
    assert_eq!(
        w,
        Waterfall {
            start: tally(4, 77_000),
            created: tally(1, 5_000),
            pulled_in: tally(1, 30_000),
            reopened: tally(0, 0),
            pushed_out: tally(1, 40_000),
            amount_changes: tally(0, 5_000),
            won: tally(1, 10_000),
            lost: tally(2, 12_000),
            end: tally(2, 55_000),
        }
    );
    assert_eq!(w.reconciled(), w.end);
}

proptest::proptest! {
    #[test]
    fn the_waterfall_always_reconciles_with_the_pipeline_at_both_ends(
        work in common::deal_work(),
        from in 0i64..200,
        length in 0i64..200,
    ) {
        let histories = common::random_histories(work);
        let projection = Projection::build([&ProcessSet::shipped()], histories.iter().flatten()).unwrap();
        let period = DateRange::new("2026-01-01".parse().unwrap(), "2026-07-01".parse().unwrap());
        let t0 = common::at("2026-01-01") + chrono::Duration::hours(from);
        let t1 = t0 + chrono::Duration::hours(length);
        let mut rates = ExchangeRates::new(Currency::USD);
        rates.set(Currency::EUR, "2025-01-01".parse().unwrap(), pipewise_core::exchange::Rate::parse("1.1").unwrap());
        let w = projection.waterfall(period, t0, t1, &rates).unwrap();
        proptest::prop_assert_eq!(w.reconciled(), w.end);
        // Both ends equal the open pipeline due in the period at that moment.
        for (at, expected) in [(t0, w.start), (t1, w.end)] {
            let mut open = Tally::default();
            for state in projection.states_at(at) {
                if state.status == pipewise_core::opportunity::Status::Open && period.contains(state.close_date) {
                    open.count += 1;
                    open.amount += state.amount.map_or(0, |m| rates.convert(m, t1.date_naive()).unwrap());
                }
            }
            proptest::prop_assert_eq!(open, expected);
        }
    }
}
