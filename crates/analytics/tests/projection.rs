//! The projection against hand-worked histories and against replaying the log with the
//! domain's own `replay`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

mod common;

use common::{at, deal_work, history, random_histories, usd};

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use pipewise_analytics::{CategoryTotals, DealState, Projection};
use pipewise_core::ids::OpportunityId;
use pipewise_core::money::{Currency, Money};
use pipewise_core::opportunity::{Command, LossType, OpportunityEvent, replay};
use pipewise_core::process::{ForecastCategory, Process, ProcessSet};
use pipewise_core::testing::evidence_meeting;
use pipewise_core::text::Note;
use proptest::prelude::*;

/// Evidence meeting every criterion from `qualified` up to entering `evaluating`.
fn evidence_to_evaluating() -> Vec<Command> {
    let process = Process::default_enterprise();
    process
        .forward_requirements(
            Some(&"qualified".parse().unwrap()),
            Some(&"evaluating".parse().unwrap()),
        )
        .iter()
        .flat_map(|key| evidence_meeting(&process, key))
        .map(Command::RecordEvidence)
        .collect()
}

fn totals(count: u64, currency: Currency, minor: i64) -> CategoryTotals {
    CategoryTotals {
        count,
        amounts: BTreeMap::from([(currency, minor)]),
    }
}

#[test]
fn the_pipeline_at_any_moment_follows_the_events() {
    // Deal 1 opens 1 January at $10,000 in `qualified` (Pipeline), reaches `evaluating` (Best
    // Case), is raised to $12,000 and is won. Deal 2 opens 3 January at €5,000, is forecast as
    // Commit by hand the next day and is lost to no decision the day after.
    let mut one = evidence_to_evaluating();
    let evidence = one.len() as i64;
    one.push(Command::MoveStage {
        to: "evaluating".parse().unwrap(),
        reason: Some(Note::parse("Budget approved").unwrap()),
        next_step: None,
    });
    one.push(Command::ChangeAmount(usd(12_000)));
    let deal_one = history(1, "2026-01-01", usd(10_000), one);
    let deal_two = history(
        2,
        "2026-01-03",
        Some(Money::new(500_000, Currency::EUR)),
        vec![
            Command::OverrideCategory {
                to: Some(ForecastCategory::Commit),
                reason: Some(Note::parse("CFO said yes").unwrap()),
            },
            Command::CloseLost {
                on: "2026-01-05".parse().unwrap(),
                loss_type: LossType::NoDecision,
                reason: None,
                competitor: None,
            },
        ],
    );
    let processes = ProcessSet::shipped();
    let projection = Projection::build([&processes], deal_one.iter().chain(&deal_two)).unwrap();
    assert_eq!(projection.len(), 2);
    use ForecastCategory::*;
    let pipeline = |day: &str| projection.pipeline_at(at(day)).categories;
    assert!(pipeline("2025-12-31").is_empty());
    assert_eq!(
        pipeline("2026-01-02"),
        BTreeMap::from([(Pipeline, totals(1, Currency::USD, 1_000_000))])
    );
    assert_eq!(
        pipeline("2026-01-04"),
        BTreeMap::from([
            (Pipeline, totals(1, Currency::USD, 1_000_000)),
            (Commit, totals(1, Currency::EUR, 500_000)),
        ])
    );
    // Deal two lost on the 5th; deal one moved on day `evidence + 1` after 1 January.
    let moved = at("2026-01-01") + Duration::days(evidence + 1);
    assert_eq!(
        projection.pipeline_at(moved).categories,
        BTreeMap::from([(BestCase, totals(1, Currency::USD, 1_000_000))])
    );
    let raised = moved + Duration::days(1);
    assert_eq!(
        projection.pipeline_at(raised).categories,
        BTreeMap::from([(BestCase, totals(1, Currency::USD, 1_200_000))])
    );
    let lost = projection
        .state_at(OpportunityId::from_parts(1, [2; 10]), at("2026-01-06"))
        .unwrap();
    assert_eq!(
        (lost.category, lost.amount),
        (Omitted, Some(Money::new(500_000, Currency::EUR)))
    );
    assert_eq!(
        projection.state_at(OpportunityId::from_parts(1, [2; 10]), at("2026-01-02")),
        None
    );
}

#[test]
fn events_out_of_order_or_for_unknown_deals_are_refused() {
    let events = history(
        1,
        "2026-01-01",
        usd(1),
        vec![Command::ChangeAmount(usd(2)), Command::ChangeAmount(usd(3))],
    );
    let processes = ProcessSet::shipped();
    let error = Projection::build([&processes], [&events[0], &events[2], &events[1]]).unwrap_err();
    assert_eq!(
        (error.seq, error.problem.as_str()),
        (2, "comes after event 3")
    );
    let error = Projection::build([&processes], [&events[1]]).unwrap_err();
    assert_eq!(error.problem, "no created event came before it");
}

/// What `replay` says the deal looked like, in the projection's terms.
fn replayed(events: &[OpportunityEvent], until: DateTime<Utc>) -> Option<DealState> {
    let process = Process::default_enterprise();
    let before: Vec<&OpportunityEvent> =
        events.iter().filter(|e| e.effective_at <= until).collect();
    replay(before).unwrap().map(|o| DealState {
        opportunity_id: o.id,
        category: o.forecast_category(&process),
        process: o.process,
        stage: o.stage,
        status: o.status,
        amount: o.amount,
        close_date: o.close_date,
        owner_id: o.owner_id,
    })
}

proptest! {
    #[test]
    fn the_state_at_any_moment_equals_replaying_the_events_until_then(
        work in deal_work(),
        probes in proptest::collection::vec(0i64..200, 1..12),
    ) {
        let histories = random_histories(work);
        let processes = ProcessSet::shipped();
        let projection = Projection::build([&processes], histories.iter().flatten()).unwrap();
        for hours in probes {
            let t = at("2026-01-01") + Duration::hours(hours);
            for events in &histories {
                let id = events[0].opportunity_id;
                prop_assert_eq!(projection.state_at(id, t), replayed(events, t));
            }
            let live = projection.states_at(t).count();
            prop_assert_eq!(live, histories.iter().filter(|e| e[0].effective_at <= t).count());
        }
    }

    #[test]
    fn updating_event_by_event_equals_rebuilding(work in deal_work(), split in 0usize..400) {
        let histories = random_histories(work);
        // Interleave deals: all first events, then all second events, and so on.
        let longest = histories.iter().map(Vec::len).max().unwrap_or(0);
        let log: Vec<&OpportunityEvent> = (0..longest)
            .flat_map(|i| histories.iter().filter_map(move |h| h.get(i)))
            .collect();
        let processes = ProcessSet::shipped();
        let split = split.min(log.len());
        let mut incremental = Projection::build([&processes], log[..split].iter().copied()).unwrap();
        for event in &log[split..] {
            incremental.apply(event).unwrap();
        }
        let rebuilt = Projection::build([&processes], histories.iter().flatten()).unwrap();
        for hours in (0..240).step_by(7) {
            let t = at("2026-01-01") + Duration::hours(hours);
            prop_assert_eq!(incremental.pipeline_at(t), rebuilt.pipeline_at(t));
            let a: Vec<_> = incremental.states_at(t).collect();
            let mut b: Vec<_> = rebuilt.states_at(t).collect();
            let mut a = a;
            a.sort_by_key(|s| s.opportunity_id);
            b.sort_by_key(|s| s.opportunity_id);
            prop_assert_eq!(a, b);
        }
    }
}

#[test]
fn deals_in_a_process_a_later_version_removed_stay_readable() {
    use pipewise_core::process::{ProcessFile, ProcessVersion, shipped_files};
    let smb_only = ProcessSet::parse(
        ProcessVersion(2),
        vec![ProcessFile {
            name: "smb.toml".into(),
            text: shipped_files()[1].text.clone(),
        }],
    )
    .unwrap();
    let events = history(1, "2026-01-01", usd(7_000), vec![]);
    let projection = Projection::build([&ProcessSet::shipped(), &smb_only], &events).unwrap();
    let state = projection
        .state_at(events[0].opportunity_id, at("2026-01-02"))
        .unwrap();
    assert_eq!(
        (state.stage.as_str(), state.category),
        ("qualified", ForecastCategory::Pipeline)
    );
    // Without the version that defined it, the deal's stage is unknown.
    let error = Projection::build([&smb_only], &events).unwrap_err();
    assert_eq!(
        error.problem,
        "stage `qualified` is not in process `enterprise`"
    );
}

proptest! {
    #[test]
    fn slices_add_up_to_the_whole_and_rates_lie_between_zero_and_one(work in deal_work(), hours in 0i64..300) {
        use pipewise_analytics::{Coverage, CoverageMode, Dimension, Outcomes, SizeBands, SliceContext, Slicing, Tally, Waterfall};
        use pipewise_core::calendar::DateRange;
        use pipewise_core::exchange::ExchangeRates;
        use pipewise_core::ids::UserId;
        use pipewise_core::money::Currency;
        let histories = random_histories(work);
        let projection = Projection::build([&ProcessSet::shipped()], histories.iter().flatten()).unwrap();
        let period = DateRange::new("2026-01-01".parse().unwrap(), "2027-01-01".parse().unwrap());
        let as_of = at("2026-01-01") + Duration::days(hours);
        let mut rates = ExchangeRates::new(Currency::USD);
        rates.set(Currency::EUR, "2025-01-01".parse().unwrap(), pipewise_core::exchange::Rate::parse("1.1").unwrap());
        // Two owners on two teams; the second reports to the first.
        let (first, second) = (common::rep(), UserId::from_parts(2, [2; 10]));
        let context = SliceContext {
            user_names: [(first, "Ana".to_owned()), (second, "Ben".to_owned())].into(),
            teams: [(first, "East".to_owned()), (second, "West".to_owned())].into(),
            managers: [(second, first)].into(),
            ..SliceContext::default()
        };
        let bands = SizeBands::from_major(&[1_000, 4_000], Currency::USD).unwrap();
        let whole = projection.outcomes(period, as_of, &rates).unwrap();
        let waterfall = projection.waterfall(period, at("2026-01-01"), as_of, &rates).unwrap();
        let coverage = projection.coverage(period, as_of, 1, CoverageMode::Smb, None, &rates).unwrap();
        let process = pipewise_core::process::Process::default_enterprise();
        let conversions = projection.conversions(&process, period, as_of);
        let flow = projection.flow(period, as_of, &rates).unwrap();
        let mut sliced: Vec<Vec<Dimension>> = Dimension::ALL.iter().filter(|d| **d != Dimension::Manager).map(|d| vec![*d]).collect();
        sliced.push(vec![Dimension::Owner, Dimension::Segment, Dimension::SizeBand]);
        for dimensions in &sliced {
            let slicing = Slicing { dimensions, context: &context, bands: &bands };
            let slices = projection.outcomes_by(period, as_of, &rates, &slicing).unwrap();
            let mut sum = Outcomes::default();
            for o in slices.iter().map(|s| s.value) {
                sum.won = sum.won + o.won;
                sum.lost_to_competition = sum.lost_to_competition + o.lost_to_competition;
                sum.lost_to_no_decision = sum.lost_to_no_decision + o.lost_to_no_decision;
                sum.excluded = sum.excluded + o.excluded;
                sum.slipped = sum.slipped + o.slipped;
            }
            prop_assert_eq!(sum, whole);
            let slices = projection.waterfall_by(period, at("2026-01-01"), as_of, &rates, &slicing).unwrap();
            let mut sum = Waterfall::default();
            for w in slices.iter().map(|s| s.value) {
                prop_assert_eq!(w.reconciled(), w.end);
                sum.start = sum.start + w.start;
                sum.end = sum.end + w.end;
                sum.won = sum.won + w.won;
                sum.pushed_out = sum.pushed_out + w.pushed_out;
            }
            prop_assert_eq!((sum.start, sum.end, sum.won, sum.pushed_out), (waterfall.start, waterfall.end, waterfall.won, waterfall.pushed_out));
            let slices = projection.coverage_by(period, as_of, |_| None, CoverageMode::Smb, None, &rates, &slicing).unwrap();
            let mut sum = Coverage::default();
            for c in slices.iter().map(|s| &s.value) {
                sum.won = sum.won + c.won;
                sum.commit = sum.commit + c.commit;
                sum.best_case = sum.best_case + c.best_case;
                sum.pipeline = sum.pipeline + c.pipeline;
            }
            prop_assert_eq!((sum.won, sum.commit, sum.best_case, sum.pipeline), (coverage.won, coverage.commit, coverage.best_case, coverage.pipeline));
            let slices = projection.conversions_by(&process, period, as_of, &rates, &slicing).unwrap();
            for (k, total) in conversions.iter().enumerate() {
                let entered: u64 = slices.iter().map(|s| s.value[k].entered).sum();
                let reached: u64 = slices.iter().map(|s| s.value[k].reached).sum();
                prop_assert_eq!((entered, reached), (total.entered, total.reached));
            }
            let slices = projection.flow_by(period, as_of, &rates, &slicing).unwrap();
            let created = slices.iter().fold(Tally::default(), |t, s| t + s.value.qualified_created);
            let won: u64 = slices.iter().map(|s| s.value.sales_cycle.won).sum();
            let open: u64 = slices.iter().map(|s| s.value.velocity.qualified_open).sum();
            prop_assert_eq!((created, won, open), (flow.qualified_created, flow.sales_cycle.won, flow.velocity.qualified_open));
        }
        // The roll-up: Ana manages Ben, so her slice holds every deal; Ben manages no one.
        let slicing = Slicing { dimensions: &[Dimension::Manager], context: &context, bands: &bands };
        let slices = projection.outcomes_by(period, as_of, &rates, &slicing).unwrap();
        prop_assert!(slices.iter().all(|s| s.key == ["Ana"]));
        if let Some(ana) = slices.first() {
            prop_assert_eq!(ana.value, whole);
        }
        for ratio in [whole.close_rate(), whole.win_rate(), whole.slippage_adjusted_close_rate()] {
            for rate in [ratio.by_count(), ratio.by_amount()].into_iter().flatten() {
                prop_assert!((0.0..=1.0).contains(&rate), "{rate}");
            }
        }
    }
}

proptest! {
    #[test]
    fn a_series_of_snapshots_equals_the_states_at_each_moment(
        work in deal_work(),
        probes in proptest::collection::vec(0i64..300, 1..10),
    ) {
        use pipewise_core::opportunity::Status;
        let histories = random_histories(work);
        let projection = Projection::build([&ProcessSet::shipped()], histories.iter().flatten()).unwrap();
        let moments: Vec<DateTime<Utc>> = probes.iter().map(|h| at("2026-01-01") + Duration::hours(*h)).collect();
        let series = projection.pipeline_series(&moments);
        for (moment, pipeline) in moments.iter().zip(&series) {
            let mut expected: BTreeMap<ForecastCategory, CategoryTotals> = BTreeMap::new();
            for state in projection.states_at(*moment).filter(|s| s.status == Status::Open) {
                let totals = expected.entry(state.category).or_default();
                totals.count += 1;
                if let Some(amount) = state.amount {
                    *totals.amounts.entry(amount.currency).or_default() += amount.minor;
                }
            }
            prop_assert_eq!(&pipeline.categories, &expected);
        }
    }
}

proptest! {
    #[test]
    fn several_windows_in_one_pass_equal_each_window_alone(
        work in deal_work(),
        windows in proptest::collection::vec((0i64..20, 1i64..10), 1..5),
        hours in 0i64..500,
    ) {
        use pipewise_analytics::{Dimension, SizeBands, SliceContext, Slicing};
        use pipewise_core::calendar::DateRange;
        use pipewise_core::exchange::ExchangeRates;
        let histories = random_histories(work);
        let projection = Projection::build([&ProcessSet::shipped()], histories.iter().flatten()).unwrap();
        let process = Process::default_enterprise();
        let day = |d: i64| at("2026-01-01").date_naive() + Duration::days(d);
        // Windows of whole days over the first weeks of the histories; they may overlap.
        let windows: Vec<DateRange> = windows.iter().map(|(from, days)| DateRange::new(day(*from), day(from + days))).collect();
        let as_of = at("2026-01-01") + Duration::hours(hours);
        let mut rates = ExchangeRates::new(Currency::USD);
        rates.set(Currency::EUR, "2025-01-01".parse().unwrap(), pipewise_core::exchange::Rate::parse("1.1").unwrap());
        let context = SliceContext::default();
        let bands = SizeBands::standard(Currency::USD);
        let slicing = Slicing { dimensions: &[Dimension::Owner, Dimension::Segment], context: &context, bands: &bands };
        let conversions = projection.conversions_over(&process, &windows, as_of);
        let times = projection.time_in_stage_over(&process, &windows, as_of);
        let outcomes = projection.outcomes_by_over(&windows, as_of, &rates, &slicing).unwrap();
        let flows = projection.outcomes_and_flows_over(&windows, as_of, &rates).unwrap();
        prop_assert_eq!((conversions.len(), times.len(), outcomes.len(), flows.len()), (windows.len(), windows.len(), windows.len(), windows.len()));
        for (w, window) in windows.iter().enumerate() {
            prop_assert_eq!(&conversions[w], &projection.conversions(&process, *window, as_of));
            prop_assert_eq!(&times[w], &projection.time_in_stage(&process, *window, as_of));
            prop_assert_eq!(&outcomes[w], &projection.outcomes_by(*window, as_of, &rates, &slicing).unwrap());
            prop_assert_eq!(&flows[w].0, &projection.outcomes(*window, as_of, &rates).unwrap());
            prop_assert_eq!(&flows[w].1, &projection.flow(*window, as_of, &rates).unwrap());
        }
    }
}

proptest! {
    #[test]
    fn stage_wins_at_many_moments_equal_the_conversions_into_a_win_at_each(
        work in deal_work(),
        from in 0i64..3,
        days in 1i64..4,
        probes in proptest::collection::vec(0i64..120, 1..8),
    ) {
        use pipewise_core::calendar::DateRange;
        use pipewise_core::opportunity::{Change, ClosedWon};
        // The commands alone seldom gather the evidence a win needs, and the projection reads
        // events as given: every other deal's losses become wins.
        let histories: Vec<Vec<OpportunityEvent>> = random_histories(work)
            .into_iter()
            .enumerate()
            .map(|(n, mut events)| {
                for event in events.iter_mut().filter(|_| n % 2 == 1) {
                    if let Change::ClosedLost(lost) = &event.change {
                        event.change = Change::ClosedWon(ClosedWon { on: lost.on });
                    }
                }
                events
            })
            .collect();
        let projection = Projection::build([&ProcessSet::shipped()], histories.iter().flatten()).unwrap();
        let process = Process::default_enterprise();
        let day = |d: i64| at("2026-01-01").date_naive() + Duration::days(d);
        let window = DateRange::new(day(from), day(from + days));
        // The histories run over their first days, hour by hour: windows and moments cover
        // them, moments before, inside and after the window, unsorted and possibly repeated.
        let moments: Vec<DateTime<Utc>> = probes.iter().map(|h| at("2026-01-01") + Duration::hours(*h)).collect();
        let wins = projection.stage_wins_at(&process, window, &moments);
        prop_assert_eq!(wins.len(), moments.len());
        for (moment, wins) in moments.iter().zip(&wins) {
            let expected: Vec<(String, u64, u64)> = projection
                .conversions(&process, window, *moment)
                .into_iter()
                .filter(|c| c.to == "won")
                .map(|c| (c.from.to_string(), c.reached, c.entered - c.still_open - c.reached))
                .collect();
            let got: Vec<(String, u64, u64)> = wins.iter().map(|w| (w.stage.to_string(), w.won, w.lost)).collect();
            prop_assert_eq!(got, expected);
        }
    }
}

proptest! {
    #[test]
    fn deals_never_due_in_a_period_are_passed_by_without_changing_what_it_holds(
        work in deal_work(),
        from in 0i64..400,
        days in 1i64..60,
        hours in 0i64..200,
        after in 0i64..500,
    ) {
        use pipewise_core::calendar::DateRange;
        use pipewise_core::exchange::ExchangeRates;
        use pipewise_core::opportunity::Status;
        let histories = random_histories(work);
        let projection = Projection::build([&ProcessSet::shipped()], histories.iter().flatten()).unwrap();
        let day = |d: i64| at("2026-01-01").date_naive() + Duration::days(d);
        // Close dates fall in the 400 days from 2026-01-01; a period of a few days among them
        // holds some deals and misses others.
        let period = DateRange::new(day(from), day(from + days));
        let due = |state: &DealState| period.start <= state.close_date && state.close_date < period.end;
        // At par, so a win's amount is its minor units whatever its currency.
        let mut rates = ExchangeRates::new(Currency::USD);
        rates.set(Currency::EUR, "2025-01-01".parse().unwrap(), pipewise_core::exchange::Rate::parse("1").unwrap());
        // Open deals, read off every deal's state at the moment.
        let moment = at("2026-01-01") + Duration::hours(hours);
        let mut open: Vec<OpportunityId> = projection
            .open_deals(period, moment, &rates)
            .unwrap()
            .iter()
            .map(|d| d.opportunity_id)
            .collect();
        let mut expected: Vec<OpportunityId> = projection
            .states_at(moment)
            .filter(|s| s.status == Status::Open && s.category != ForecastCategory::Omitted && due(s))
            .map(|s| s.opportunity_id)
            .collect();
        open.sort_unstable();
        expected.sort_unstable();
        prop_assert_eq!(open, expected);
        // Wins: a deal closed and due in the period now counts as it is now; else as it
        // stood at the period's end (or now, while it runs), if closed and due in it then.
        let now = moment + Duration::hours(after);
        let end = period.end.and_time(chrono::NaiveTime::MIN).and_utc() - Duration::microseconds(1);
        let cutoff: BTreeMap<OpportunityId, DealState> =
            projection.states_at(now.min(end)).map(|s| (s.opportunity_id, s)).collect();
        let mut won = 0;
        for state in projection.states_at(now) {
            let closed = |s: &DealState| s.status != Status::Open && due(s);
            let counted = if closed(&state) { Some(&state) } else { cutoff.get(&state.opportunity_id).filter(|s| closed(s)) };
            if let Some(s) = counted.filter(|s| s.status == Status::Won) {
                won += s.amount.map_or(0, |a| a.minor);
            }
        }
        let by_owner = projection.won_by_owner(period, now, &rates).unwrap();
        prop_assert_eq!(by_owner.values().map(|t| t.amount).sum::<i64>(), won);
    }
}
