//! The forecast methods on hand-worked histories.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{at, dated_history, ready_to_win, usd};
use pipewise_analytics::forecast::{self, ForecastRequest, Method};
use pipewise_analytics::reports::ReportInputs;
use pipewise_analytics::{CategoryHistoryRow, FunnelBenchmarks, Projection, SliceContext, Tally};
use pipewise_core::calendar::{DateRange, FiscalCalendar};
use pipewise_core::crm::{Target, TargetOwner};
use pipewise_core::exchange::ExchangeRates;
use pipewise_core::ids::TargetId;
use pipewise_core::money::{Currency, Money};
use pipewise_core::opportunity::{Command, LossType, OpportunityEvent};
use pipewise_core::process::{ForecastCategory, ProcessSet};
use pipewise_core::text::Note;

fn won_on(ready: &'static str, on: &'static str) -> Vec<(&'static str, Command)> {
    let mut commands = ready_to_win(ready);
    commands.push((
        on,
        Command::CloseWon {
            on: on.parse().unwrap(),
        },
    ));
    commands
}

fn lost_on(on: &'static str) -> (&'static str, Command) {
    (
        on,
        Command::CloseLost {
            on: on.parse().unwrap(),
            loss_type: LossType::NoDecision,
            reason: Some(Note::parse("Project shelved").unwrap()),
            competitor: None,
        },
    )
}

fn close_date(to: &str) -> Command {
    Command::ChangeCloseDate(to.parse().unwrap())
}

fn tally(count: u64, dollars: i64) -> Tally {
    Tally {
        count,
        amount: dollars * 100,
    }
}

fn project(deals: &[Vec<OpportunityEvent>]) -> Projection {
    Projection::build([&ProcessSet::shipped()], deals.iter().flatten()).unwrap()
}

/// The settings a forecast reads besides the projection: the shipped processes and
/// benchmarks, dollars only, a January fiscal year.
struct Settings {
    processes: ProcessSet,
    benchmarks: FunnelBenchmarks,
    rates: ExchangeRates,
}

impl Settings {
    fn new() -> Self {
        Self {
            processes: ProcessSet::shipped(),
            benchmarks: FunnelBenchmarks::shipped(),
            rates: ExchangeRates::new(Currency::USD),
        }
    }

    fn inputs<'a>(
        &'a self,
        projection: &'a Projection,
        context: &'a SliceContext,
        targets: &'a [Target],
    ) -> ReportInputs<'a> {
        ReportInputs {
            projection,
            processes: &self.processes,
            context,
            targets,
            calendar: FiscalCalendar::default(),
            currency: Currency::USD,
            rates: &self.rates,
            benchmarks: &self.benchmarks,
        }
    }
}

#[test]
fn category_history_sees_each_period_from_the_same_point() {
    // The quarter February–April 2026, seen 10 days in (11 February).
    let quarter = DateRange::new("2026-02-01".parse().unwrap(), "2026-05-01".parse().unwrap());
    let deals = vec![
        // Due in the quarter at the point and won in it.
        dated_history(
            1,
            "2026-01-05",
            usd(10_000),
            "2026-03-31",
            won_on("2026-03-09", "2026-03-10"),
        ),
        // Due in it and lost.
        dated_history(
            2,
            "2026-01-05",
            usd(20_000),
            "2026-03-31",
            vec![lost_on("2026-03-12")],
        ),
        // Created after the point and won in the quarter: pipeline that came later.
        dated_history(
            3,
            "2026-02-20",
            usd(5_000),
            "2026-04-15",
            won_on("2026-04-01", "2026-04-02"),
        ),
        // Due after the quarter at the point, pulled into it, then lost: came later too.
        dated_history(
            4,
            "2026-01-05",
            usd(8_000),
            "2026-06-30",
            vec![
                ("2026-03-01", close_date("2026-04-20")),
                lost_on("2026-04-10"),
            ],
        ),
        // Due in it at the point, then pushed out: converted nothing.
        dated_history(
            5,
            "2026-01-05",
            usd(4_000),
            "2026-04-30",
            vec![("2026-04-25", close_date("2026-06-30"))],
        ),
        // Won before the point: already closed, in neither.
        dated_history(
            6,
            "2026-01-05",
            usd(7_000),
            "2026-03-15",
            won_on("2026-02-04", "2026-02-05"),
        ),
    ];
    let projection = project(&deals);
    let history = projection
        .category_history(
            &[quarter],
            Duration::days(10).num_microseconds().unwrap(),
            at("2026-06-01"),
            &ExchangeRates::new(Currency::USD),
        )
        .unwrap();
    assert_eq!(history.periods, 1);
    let pipeline = history.categories[&ForecastCategory::Pipeline];
    assert_eq!(
        pipeline,
        CategoryHistoryRow {
            open: tally(3, 34_000),
            won: tally(1, 10_000),
        }
    );
    assert_eq!(history.categories.len(), 1, "only Pipeline deals were open");
    assert_eq!(
        history.later,
        CategoryHistoryRow {
            open: tally(2, 13_000),
            won: tally(1, 5_000),
        }
    );
    assert_eq!(pipeline.rate(), Some(10.0 / 34.0));
}

#[test]
fn open_deals_are_those_due_in_the_period() {
    let deals = vec![
        dated_history(1, "2026-04-01", usd(50_000), "2026-05-20", vec![]),
        dated_history(2, "2026-04-01", usd(120_000), "2026-05-28", vec![]),
        dated_history(3, "2026-04-01", usd(30_000), "2026-06-15", vec![]),
        dated_history(
            4,
            "2026-04-01",
            usd(90_000),
            "2026-05-10",
            vec![lost_on("2026-04-10")],
        ),
    ];
    let projection = project(&deals);
    let rates = ExchangeRates::new(Currency::USD);
    let amounts = |month: &str| {
        let calendar = FiscalCalendar::default();
        let range = calendar.range(month.parse().unwrap());
        let mut amounts: Vec<i64> = projection
            .open_deals(range, at("2026-04-30"), &rates)
            .unwrap()
            .iter()
            .map(|d| d.amount / 100)
            .collect();
        amounts.sort_unstable();
        amounts
    };
    assert_eq!(
        amounts("2026-05"),
        [50_000, 120_000],
        "the lost deal is not open"
    );
    assert_eq!(amounts("2026-06"), [30_000]);
}

#[test]
fn stage_probability_is_the_share_of_deals_entering_the_stage_that_won() {
    // 40 deals entered `qualified` in the baseline year; 18 were won and 22 lost.
    let mut deals: Vec<Vec<OpportunityEvent>> = (1..=40u8)
        .map(|n| {
            let commands = if n <= 18 {
                won_on("2026-03-09", "2026-03-10")
            } else {
                vec![lost_on("2026-03-12")]
            };
            dated_history(n, "2026-01-05", usd(10_000), "2026-03-31", commands)
        })
        .collect();
    // The quarter forecast, July–September 2026: one open qualified deal due in it, and a
    // win already.
    deals.push(dated_history(
        41,
        "2026-07-01",
        usd(50_000),
        "2026-08-31",
        vec![],
    ));
    deals.push(dated_history(
        42,
        "2026-07-02",
        usd(30_000),
        "2026-09-30",
        won_on("2026-07-09", "2026-07-10"),
    ));
    let projection = project(&deals);
    let quota = Target {
        version: 1,
        id: TargetId::generate(),
        owner: TargetOwner::Workspace,
        period: "2026-Q3".parse().unwrap(),
        amount: Money::new(100_000 * 100, Currency::USD),
    };
    let settings = Settings::new();
    let context = SliceContext::default();
    let inputs = settings.inputs(&projection, &context, std::slice::from_ref(&quota));
    let now: DateTime<Utc> = at("2026-12-01");
    let report = forecast::run(
        &ForecastRequest {
            period: None,
            as_of: "2026-07-15".parse().unwrap(),
            now,
        },
        &inputs,
        &[],
    )
    .unwrap();
    assert_eq!(report.scope.period, "2026-Q3");
    assert_eq!(
        report.baseline.periods,
        ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    );
    assert_eq!(report.won, tally(1, 30_000));
    assert_eq!(report.quota, Some(100_000 * 100));
    assert_eq!(report.attainment, Some(0.3));

    assert_eq!(report.deals.len(), 1);
    assert_eq!(report.deals[0].stage_probability, Some(0.45));
    let method = |m: Method| report.methods.iter().find(|f| f.method == m).unwrap();
    let staged = method(Method::StageWeighted);
    assert_eq!(staged.lines.len(), 1);
    assert_eq!(staged.lines[0].expected, 22_500 * 100);
    assert_eq!(staged.forecast, 52_500 * 100);
    // The open deal is in Pipeline, which the default call leaves out and is no upside.
    let call = method(Method::DealCall);
    assert_eq!(call.forecast, 30_000 * 100);
    assert_eq!(call.lines[1].amount, 0);
    // The model's range lies between the wins alone and the wins plus every open deal.
    let range = method(Method::DealModel).range.unwrap();
    assert!(
        range.p10 >= 30_000 * 100 && range.p90 <= 80_000 * 100,
        "{range:?}"
    );
    assert!(range.p10 <= range.p50 && range.p50 <= range.p90);
}

#[test]
fn the_latest_calls_and_adjustments_make_the_call_and_its_roll_up() {
    use pipewise_core::forecast::{CallLine, Submission, SubmissionKind};
    use pipewise_core::ids::{SubmissionId, UserId};
    use std::collections::HashMap;

    let ann = common::rep();
    let ben = UserId::from_parts(2, [2; 10]);
    let meg = UserId::from_parts(3, [3; 10]);
    let commit = || Command::OverrideCategory {
        to: Some(ForecastCategory::Commit),
        reason: Some(Note::parse("Vendor of choice, paper in procurement").unwrap()),
    };
    let deals = vec![
        dated_history(
            1,
            "2026-07-01",
            usd(40_000),
            "2026-08-31",
            vec![("2026-07-02", commit())],
        ),
        dated_history(
            2,
            "2026-07-01",
            usd(25_000),
            "2026-09-15",
            vec![
                ("2026-07-02", commit()),
                ("2026-07-03", Command::ChangeOwner(ben)),
            ],
        ),
        dated_history(
            3,
            "2026-07-01",
            usd(10_000),
            "2026-09-20",
            vec![("2026-07-03", Command::ChangeOwner(ben))],
        ),
    ];
    let id = |n: u8| pipewise_core::ids::OpportunityId::from_parts(1, [n; 10]);
    let projection = project(&deals);
    let context = SliceContext {
        user_names: HashMap::from([
            (ann, "Ann".to_owned()),
            (ben, "Ben".to_owned()),
            (meg, "Meg".to_owned()),
        ]),
        managers: HashMap::from([(ann, meg), (ben, meg)]),
        ..SliceContext::default()
    };
    let settings = Settings::new();
    let inputs = settings.inputs(&projection, &context, &[]);
    let submission = |n: u8, subject, by, day: &str, kind| Submission {
        id: SubmissionId::from_parts(1, [n; 10]),
        period: "2026-Q3".parse().unwrap(),
        subject_id: subject,
        kind,
        submitted_by: by,
        submitted_at: at(day),
    };
    let note = |text: &str| Some(Note::parse(text).unwrap());
    let submissions = [
        // Ben's first call follows the categories; his second stands.
        submission(
            1,
            ben,
            ben,
            "2026-07-05",
            SubmissionKind::Call { lines: vec![] },
        ),
        submission(
            2,
            ben,
            ben,
            "2026-07-10",
            SubmissionKind::Call {
                lines: vec![
                    CallLine {
                        opportunity_id: id(2),
                        include: false,
                        note: note("Signature after the quarter"),
                    },
                    CallLine {
                        opportunity_id: id(3),
                        include: true,
                        note: note("Small, champion signs this month"),
                    },
                ],
            },
        ),
        submission(
            3,
            ann,
            meg,
            "2026-07-12",
            SubmissionKind::Adjustment {
                amount: Money::new(30_000 * 100, Currency::USD),
                note: Note::parse("Half of Globex at most").unwrap(),
            },
        ),
    ];
    let request = ForecastRequest {
        period: None,
        as_of: "2026-07-15".parse().unwrap(),
        now: at("2026-12-01"),
    };
    let report = forecast::run(&request, &inputs, &submissions).unwrap();
    let call = &report.methods[0];
    assert_eq!(call.method, Method::DealCall);
    // Ann's Commit deal by default, Ben's Pipeline deal by his call; his Commit deal is upside.
    assert_eq!(call.from_open, 50_000 * 100);
    assert_eq!(
        (call.lines[1].count, call.lines[1].amount),
        (1, 25_000 * 100)
    );
    let people: Vec<(&str, i64, i64, i64, i64)> = report
        .people
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.single,
                p.cumulative,
                p.forecast,
                p.upside,
            )
        })
        .collect();
    let k = 100_000;
    assert_eq!(
        people,
        [
            ("Meg", 0, 40 * k, 40 * k, 0),
            ("Ann", 40 * k, 40 * k, 30 * k, 0),
            ("Ben", 10 * k, 10 * k, 10 * k, 25 * k),
        ]
    );
    assert_eq!(report.people[2].called_at, Some(at("2026-07-10")));
    assert_eq!(report.people[1].adjustment.as_ref().unwrap().by, "Meg");
    // Bottom-up is each rep's own call; with no history to weigh the pipeline by, top-down
    // is their wins alone (none), so there is no ratio to flag.
    let gaps: Vec<(&str, &str, i64, i64)> = report
        .gaps
        .iter()
        .map(|g| (g.level, g.name.as_str(), g.bottom_up, g.top_down))
        .collect();
    assert_eq!(gaps, [("rep", "Ann", 40 * k, 0), ("rep", "Ben", 10 * k, 0)]);
    assert!(
        report
            .gaps
            .iter()
            .all(|g| g.ratio.is_none() && g.flag.is_none())
    );
}

#[test]
fn the_backtest_replays_each_week_against_what_was_booked() {
    use pipewise_analytics::forecast::{BacktestRequest, backtest};
    let commit = Command::OverrideCategory {
        to: Some(ForecastCategory::Commit),
        reason: Some(Note::parse("Vendor of choice").unwrap()),
    };
    let mut won = vec![("2026-03-02", commit)];
    won.extend(won_on("2026-05-19", "2026-05-20"));
    let deals = vec![
        // Commit all quarter, won on 20 May: $40,000 booked in April–June.
        dated_history(1, "2026-03-01", usd(40_000), "2026-05-31", won),
        // Pipeline, lost on 10 June.
        dated_history(
            2,
            "2026-04-01",
            usd(10_000),
            "2026-06-30",
            vec![lost_on("2026-06-10")],
        ),
    ];
    let projection = project(&deals);
    let settings = Settings::new();
    let context = SliceContext::default();
    let inputs = settings.inputs(&projection, &context, &[]);
    let request = BacktestRequest {
        periods: 1,
        as_of: "2026-07-15".parse().unwrap(),
        now: at("2026-12-01"),
    };
    let report = backtest(&request, &inputs, &[]).unwrap();
    assert_eq!(report.periods.len(), 1);
    let quarter = &report.periods[0];
    assert_eq!(
        (quarter.period.as_str(), quarter.actual),
        ("2026-Q2", 40_000 * 100)
    );
    // Thirteen weeks, the last ending on 30 June.
    assert_eq!(quarter.weeks.len(), 13);
    assert_eq!(quarter.weeks[12].day.to_string(), "2026-06-30");
    let numbers = |method: Method| -> Vec<i64> {
        quarter
            .weeks
            .iter()
            .map(|w| {
                w.forecasts
                    .iter()
                    .find(|n| n.method == method)
                    .unwrap()
                    .forecast
                    / 100
            })
            .collect()
    };
    // The call had the Commit deal in from the first week: right every week.
    assert_eq!(numbers(Method::DealCall), [40_000; 13]);
    // Stage-weighted learns `qualified` from deals that entered it in the year before the
    // quarter and have closed: none until the Commit deal is won on 20 May. From week 8
    // (ending 26 May) that one win makes `qualified` 100%, so the open $10,000 deal counts
    // in full until it is lost on 10 June (week 11).
    let mut staged = [0; 13];
    staged[7..10].fill(50_000);
    staged[10..].fill(40_000);
    assert_eq!(numbers(Method::StageWeighted), staged);
    let call = &report.accuracy[0];
    assert_eq!(
        (call.method, call.mean_absolute_error),
        (Method::DealCall, Some(0.0))
    );
    let stage = &report.accuracy[2];
    // −100% for 7 weeks, +25% for 3.
    assert!((stage.mean_absolute_error.unwrap() - 7.75 / 13.0).abs() < 1e-12);
    assert!((stage.bias.unwrap() + 6.25 / 13.0).abs() < 1e-12);
    assert_eq!(stage.by_week[7].bias, 0.25);
    assert_eq!(report.most_accurate, Some(Method::DealCall));
}
