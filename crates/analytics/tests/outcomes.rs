//! Close, win and slippage-adjusted close rates on a hand-worked quarter.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

mod common;

use chrono::{DateTime, Utc};
use common::{dated_history, eur, ready_to_win, usd};
use pipewise_analytics::{Projection, Tally, required_coverage};
use pipewise_core::calendar::DateRange;
use pipewise_core::exchange::{ExchangeRates, Rate};
use pipewise_core::money::Currency;
use pipewise_core::opportunity::{Command, LossType, OpportunityEvent};
use pipewise_core::process::ProcessSet;
use pipewise_core::text::{Label, Note};

/// Fiscal Q1 2026 of a year starting in February.
fn quarter() -> DateRange {
    DateRange::new("2026-02-01".parse().unwrap(), "2026-05-01".parse().unwrap())
}

/// A moment after the quarter.
fn after() -> DateTime<Utc> {
    "2026-06-01T00:00:00Z".parse().unwrap()
}

fn rates() -> ExchangeRates {
    let mut rates = ExchangeRates::new(Currency::USD);
    rates.set(
        Currency::EUR,
        "2026-01-01".parse().unwrap(),
        Rate::parse("1.25").unwrap(),
    );
    rates
}

fn lose(on: &str, loss_type: LossType) -> Command {
    Command::CloseLost {
        on: on.parse().unwrap(),
        loss_type,
        reason: Some(Note::parse("Budget went elsewhere").unwrap()),
        competitor: (loss_type == LossType::Competition).then(|| Label::parse("Initech").unwrap()),
    }
}

fn push(to: &str) -> Command {
    Command::ChangeCloseDate(to.parse().unwrap())
}

/// Every deal opened 5 January at the SAL stage.
fn quarter_of_deals(with_second_slip: bool) -> Vec<Vec<OpportunityEvent>> {
    let mut won = ready_to_win("2026-03-09");
    won.push((
        "2026-03-10",
        Command::CloseWon {
            on: "2026-03-10".parse().unwrap(),
        },
    ));
    let mut won_before = ready_to_win("2026-01-19");
    won_before.push((
        "2026-01-20",
        Command::CloseWon {
            on: "2026-01-20".parse().unwrap(),
        },
    ));
    let mut deals = vec![
        // Won $30,000 in the quarter.
        dated_history(1, "2026-01-05", usd(30_000), "2026-03-31", won),
        // Lost €16,000 ($20,000 at 1.25) to competition.
        dated_history(
            2,
            "2026-01-05",
            eur(16_000),
            "2026-03-31",
            vec![("2026-03-12", lose("2026-03-12", LossType::Competition))],
        ),
        // Lost $10,000 to no decision.
        dated_history(
            3,
            "2026-01-05",
            usd(10_000),
            "2026-04-30",
            vec![("2026-04-02", lose("2026-04-02", LossType::NoDecision))],
        ),
        // Due 15 April, pushed to June on 20 April, open at the end: slipped, $40,000.
        dated_history(
            4,
            "2026-01-05",
            usd(40_000),
            "2026-04-15",
            vec![("2026-04-20", push("2026-06-30"))],
        ),
        // Disqualified: reported, not in any rate.
        dated_history(
            5,
            "2026-01-05",
            usd(5_000),
            "2026-04-30",
            vec![("2026-03-01", lose("2026-03-01", LossType::Disqualified))],
        ),
        // Won in the quarter before.
        dated_history(7, "2026-01-05", usd(99_000), "2026-01-31", won_before),
        // Never due in the quarter.
        dated_history(8, "2026-01-05", usd(70_000), "2026-08-31", vec![]),
    ];
    if with_second_slip {
        // Due 31 March, pushed to 25 April (still inside), then to July: slipped once, $15,000.
        deals.push(dated_history(
            6,
            "2026-01-05",
            usd(15_000),
            "2026-03-31",
            vec![
                ("2026-04-02", push("2026-04-25")),
                ("2026-04-26", push("2026-07-31")),
            ],
        ));
    }
    deals
}

#[test]
fn a_quarter_with_one_slipped_deal_has_a_quarter_slippage_adjusted_close_rate() {
    let deals = quarter_of_deals(false);
    let projection = Projection::build([&ProcessSet::shipped()], deals.iter().flatten()).unwrap();
    let outcomes = projection.outcomes(quarter(), after(), &rates()).unwrap();
    let tally = |count, dollars: i64| Tally {
        count,
        amount: dollars * 100,
    };
    assert_eq!(outcomes.won, tally(1, 30_000));
    assert_eq!(outcomes.lost_to_competition, tally(1, 20_000));
    assert_eq!(outcomes.lost_to_no_decision, tally(1, 10_000));
    assert_eq!(outcomes.excluded, tally(1, 5_000));
    assert_eq!(outcomes.slipped, tally(1, 40_000));

    let close = outcomes.close_rate();
    assert_eq!(
        (close.numerator, close.denominator),
        (tally(1, 30_000), tally(3, 60_000))
    );
    assert_eq!(
        (close.by_count(), close.by_amount()),
        (Some(1.0 / 3.0), Some(0.5))
    );
    let win = outcomes.win_rate();
    assert_eq!((win.by_count(), win.by_amount()), (Some(0.5), Some(0.6)));
    // 1 won of 1 + 1 + 1 + 1 slipped: 25%, which needs 4× coverage.
    let adjusted = outcomes.slippage_adjusted_close_rate();
    assert_eq!(adjusted.by_count(), Some(0.25));
    assert_eq!(adjusted.by_amount(), Some(30.0 / 100.0));
    assert_eq!(required_coverage(adjusted.by_count().unwrap()), Some(4.0));
}

#[test]
fn a_deal_that_slips_twice_counts_once() {
    let deals = quarter_of_deals(true);
    let projection = Projection::build([&ProcessSet::shipped()], deals.iter().flatten()).unwrap();
    let outcomes = projection.outcomes(quarter(), after(), &rates()).unwrap();
    assert_eq!(
        outcomes.slipped,
        Tally {
            count: 2,
            amount: 5_500_000
        }
    );
    assert_eq!(
        outcomes.slippage_adjusted_close_rate().by_count(),
        Some(0.2)
    );
}

#[test]
fn amounts_in_a_currency_without_a_rate_are_refused() {
    let deals = quarter_of_deals(false);
    let projection = Projection::build([&ProcessSet::shipped()], deals.iter().flatten()).unwrap();
    let error = projection
        .outcomes(quarter(), after(), &ExchangeRates::new(Currency::USD))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "no EUR to USD exchange rate on or before 2026-03-12"
    );
}

#[test]
fn empty_periods_have_no_rate() {
    let projection = Projection::build([&ProcessSet::shipped()], []).unwrap();
    let outcomes = projection.outcomes(quarter(), after(), &rates()).unwrap();
    assert_eq!(outcomes.close_rate().by_count(), None);
    assert_eq!(outcomes.win_rate().by_amount(), None);
    assert_eq!(required_coverage(0.0), None);
}

#[test]
fn a_running_quarter_counts_only_deals_already_pushed_out_as_slipped() {
    let deals = quarter_of_deals(true);
    let projection = Projection::build([&ProcessSet::shipped()], deals.iter().flatten()).unwrap();
    // On 21 April deal 4 has been pushed to June, but deal 6 is still due on 25 April.
    let outcomes = projection
        .outcomes(quarter(), "2026-04-21T00:00:00Z".parse().unwrap(), &rates())
        .unwrap();
    assert_eq!(
        outcomes.slipped,
        Tally {
            count: 1,
            amount: 4_000_000
        }
    );
    assert_eq!(outcomes.close_rate().denominator.count, 3);
    // On 1 March nothing had closed in the quarter yet but the disqualification.
    let early = projection
        .outcomes(quarter(), "2026-03-01T18:00:00Z".parse().unwrap(), &rates())
        .unwrap();
    assert_eq!(early.close_rate().denominator.count, 0);
    assert_eq!(early.excluded.count, 1);
}

#[test]
fn a_deal_reopened_after_the_quarter_still_counts_as_won_in_it() {
    let mut commands = ready_to_win("2026-03-09");
    commands.push((
        "2026-03-10",
        Command::CloseWon {
            on: "2026-03-10".parse().unwrap(),
        },
    ));
    commands.push((
        "2026-05-10",
        Command::Reopen {
            stage: None,
            close_date: "2026-06-30".parse().unwrap(),
            reason: Note::parse("Signed by the wrong entity").unwrap(),
        },
    ));
    let deal = dated_history(9, "2026-01-05", usd(8_000), "2026-03-31", commands);
    let projection = Projection::build([&ProcessSet::shipped()], &deal).unwrap();
    let outcomes = projection.outcomes(quarter(), after(), &rates()).unwrap();
    assert_eq!(
        outcomes.won,
        Tally {
            count: 1,
            amount: 800_000
        }
    );
}

#[test]
fn outcomes_break_down_by_segment_and_owner() {
    use pipewise_analytics::{Dimension, NO_VALUE, SizeBands, SliceContext, Slicing};
    use pipewise_core::opportunity::FieldChange;
    let segment =
        |name: &str| Command::ChangeField(FieldChange::Segment(Some(Label::parse(name).unwrap())));
    let mut won = ready_to_win("2026-03-09");
    won.insert(0, ("2026-01-06", segment("Enterprise")));
    won.push((
        "2026-03-10",
        Command::CloseWon {
            on: "2026-03-10".parse().unwrap(),
        },
    ));
    let deals = [
        dated_history(1, "2026-01-05", usd(30_000), "2026-03-31", won),
        dated_history(
            2,
            "2026-01-05",
            eur(16_000),
            "2026-03-31",
            vec![
                ("2026-01-06", segment("Enterprise")),
                ("2026-03-12", lose("2026-03-12", LossType::Competition)),
            ],
        ),
        dated_history(
            3,
            "2026-01-05",
            usd(10_000),
            "2026-04-30",
            vec![
                ("2026-01-06", segment("SMB")),
                ("2026-04-02", lose("2026-04-02", LossType::NoDecision)),
            ],
        ),
        dated_history(
            4,
            "2026-01-05",
            usd(40_000),
            "2026-04-15",
            vec![("2026-04-20", push("2026-06-30"))],
        ),
    ];
    let projection = Projection::build([&ProcessSet::shipped()], deals.iter().flatten()).unwrap();
    let context = SliceContext::default();
    let bands = SizeBands::standard(Currency::USD);
    let slicing = |dimensions| Slicing {
        dimensions,
        context: &context,
        bands: &bands,
    };
    let by_segment = projection
        .outcomes_by(
            quarter(),
            after(),
            &rates(),
            &slicing(&[Dimension::Segment]),
        )
        .unwrap();
    let keys: Vec<&str> = by_segment.iter().map(|s| s.key[0].as_str()).collect();
    assert_eq!(keys, [NO_VALUE, "Enterprise", "SMB"]);
    let of = |key: &str| by_segment.iter().find(|s| s.key == [key]).unwrap().value;
    let enterprise = of("Enterprise");
    assert_eq!(
        (enterprise.won.count, enterprise.lost_to_competition.amount),
        (1, 2_000_000)
    );
    assert_eq!(enterprise.win_rate().by_count(), Some(0.5));
    assert_eq!(of("SMB").lost_to_no_decision.count, 1);
    assert_eq!(of(NO_VALUE).slipped.count, 1);
    // Every deal has one owner; named from the context.
    let named = SliceContext {
        user_names: [(common::rep(), "Ana Silva".to_owned())].into(),
        ..SliceContext::default()
    };
    let by_owner = projection
        .outcomes_by(
            quarter(),
            after(),
            &rates(),
            &Slicing {
                dimensions: &[Dimension::Owner],
                context: &named,
                bands: &bands,
            },
        )
        .unwrap();
    assert_eq!(by_owner.len(), 1);
    assert_eq!(by_owner[0].key, ["Ana Silva"]);
    assert_eq!(
        by_owner[0].value,
        projection.outcomes(quarter(), after(), &rates()).unwrap()
    );
    // Two dimensions at once: segment × size band. The won $30,000 deal is in 10k–50k; the
    // €16,000 loss (converted at 1.25: $20,000) too.
    let by_both = projection
        .outcomes_by(
            quarter(),
            after(),
            &rates(),
            &slicing(&[Dimension::Segment, Dimension::SizeBand]),
        )
        .unwrap();
    let enterprise_mid = by_both
        .iter()
        .find(|s| s.key == ["Enterprise", "10k–50k"])
        .unwrap();
    assert_eq!(
        (
            enterprise_mid.value.won.count,
            enterprise_mid.value.lost_to_competition.count
        ),
        (1, 1)
    );
}

#[test]
fn cycle_velocity_and_qualified_pipeline_created() {
    let deals = quarter_of_deals(false);
    let projection = Projection::build([&ProcessSet::shipped()], deals.iter().flatten()).unwrap();
    // One win in the quarter: qualified 5 January, closed 10 March, 64 days.
    let cycle = projection.sales_cycle(quarter(), after());
    assert_eq!(
        (cycle.won, cycle.median_days, cycle.mean_days),
        (1, Some(64.0), Some(64.0))
    );
    // Open on 1 June: deal 4 (pushed to June) and deal 8 (due in August). Win rate 1 of 2,
    // average win $30,000, 64 days: 2 × 0.5 × $30,000 / 64 = $468.75 a day.
    let velocity = projection.velocity(quarter(), after(), &rates()).unwrap();
    assert_eq!(velocity.qualified_open, 2);
    assert_eq!(velocity.per_day, Some(46_875.0));
    // All seven deals reached the SAL stage on 5 January, none in the quarter:
    // $30,000 + €16,000 at 1.25 + $10,000 + $40,000 + $5,000 + $99,000 + $70,000.
    let january = DateRange::new("2026-01-01".parse().unwrap(), "2026-02-01".parse().unwrap());
    assert_eq!(
        projection.qualified_created(january, &rates()).unwrap(),
        Tally {
            count: 7,
            amount: 27_400_000
        }
    );
    assert_eq!(
        projection.qualified_created(quarter(), &rates()).unwrap(),
        Tally::default()
    );
}

#[test]
fn coverage_counts_won_and_late_categories_against_the_target() {
    use pipewise_analytics::CoverageMode;
    let deals = quarter_of_deals(false);
    let projection = Projection::build([&ProcessSet::shipped()], deals.iter().flatten()).unwrap();
    let as_of: DateTime<Utc> = "2026-03-15T00:00:00Z".parse().unwrap();
    // On 15 March: deal 1 won ($30,000); deals 3 and 4 open in `qualified` (Pipeline) due in
    // the quarter ($10,000 + $40,000); nothing in Best Case or Commit. Target $100,000.
    let target = 10_000_000;
    let enterprise = projection
        .coverage(
            quarter(),
            as_of,
            target,
            CoverageMode::Enterprise,
            Some(0.25),
            &rates(),
        )
        .unwrap();
    assert_eq!(
        enterprise.won,
        Tally {
            count: 1,
            amount: 3_000_000
        }
    );
    assert_eq!(
        enterprise.pipeline,
        Tally {
            count: 2,
            amount: 5_000_000
        }
    );
    assert_eq!(enterprise.ratio, Some(0.3));
    // ($100,000 − $30,000) / 25% = $280,000.
    assert_eq!(enterprise.required_pipeline, Some(28_000_000));
    let smb = projection
        .coverage(quarter(), as_of, target, CoverageMode::Smb, None, &rates())
        .unwrap();
    assert_eq!((smb.ratio, smb.required_pipeline), (Some(0.8), None));
}

#[test]
fn a_deal_that_changes_currency_is_converted_in_its_final_currency_on_its_close_date() {
    // Opened at $10,000, re-quoted at €12,000 in February (1.25 from 1 February: $15,000),
    // won on 10 March.
    let mut commands = vec![("2026-02-03", Command::ChangeAmount(eur(12_000)))];
    commands.extend(ready_to_win("2026-03-09"));
    commands.push((
        "2026-03-10",
        Command::CloseWon {
            on: "2026-03-10".parse().unwrap(),
        },
    ));
    let deal = dated_history(9, "2026-01-05", usd(10_000), "2026-03-31", commands);
    let mut rates = rates();
    rates.set(
        Currency::EUR,
        "2026-02-01".parse().unwrap(),
        Rate::parse("1.25").unwrap(),
    );
    rates.set(
        Currency::EUR,
        "2026-03-01".parse().unwrap(),
        Rate::parse("1.10").unwrap(),
    );
    let projection = Projection::build([&ProcessSet::shipped()], &deal).unwrap();
    let outcomes = projection.outcomes(quarter(), after(), &rates).unwrap();
    // €12,000 at the rate in force on 10 March, 1.10: $13,200.
    assert_eq!(
        outcomes.won,
        Tally {
            count: 1,
            amount: 1_320_000
        }
    );
    // On 20 January the deal was still $10,000 in the pipeline.
    let january = projection.pipeline_at("2026-01-20T00:00:00Z".parse().unwrap());
    let pipeline = &january.categories[&pipewise_core::process::ForecastCategory::Pipeline];
    assert_eq!(pipeline.amounts, [(Currency::USD, 1_000_000)].into());
}

#[test]
fn a_win_entered_after_the_quarter_with_a_close_date_in_it_counts_in_it() {
    // Signed on 30 April, entered on 3 May: won in the quarter, not slipped.
    let mut commands = ready_to_win("2026-04-29");
    commands.push((
        "2026-05-03",
        Command::CloseWon {
            on: "2026-04-30".parse().unwrap(),
        },
    ));
    let deal = dated_history(9, "2026-01-05", usd(8_000), "2026-04-30", commands);
    let projection = Projection::build([&ProcessSet::shipped()], &deal).unwrap();
    let outcomes = projection.outcomes(quarter(), after(), &rates()).unwrap();
    assert_eq!((outcomes.won.count, outcomes.slipped.count), (1, 0));
    // Known on 1 May, before the win was entered, it had slipped.
    let before = projection
        .outcomes(quarter(), "2026-05-01T00:00:00Z".parse().unwrap(), &rates())
        .unwrap();
    assert_eq!((before.won.count, before.slipped.count), (0, 1));
    assert_eq!(projection.sales_cycle(quarter(), after()).won, 1);
}
