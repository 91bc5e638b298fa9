//! The open pipeline by stage, as a board totals its columns: against a hand-worked set of
//! deals, and against the deals' states replayed after their last event.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Test code: a failed step fails the test.

mod common;

use common::{at, deal_work, history, random_histories, rep, usd};

use std::collections::{HashMap, HashSet};

use chrono::Duration;
use pipewise_analytics::{OpenFilter, Projection, Tally};
use pipewise_core::calendar::DateRange;
use pipewise_core::ids::UserId;
use pipewise_core::money::{Currency, Money};
use pipewise_core::opportunity::{Command, LossType, Status};
use pipewise_core::process::{ForecastCategory, Process, ProcessKey, ProcessSet, StageKey};
use pipewise_core::testing::evidence_meeting;
use pipewise_core::text::Note;
use proptest::prelude::*;

/// Dollars as they are; euros at two dollars, so sums are easy to check by hand.
fn in_dollars(money: Money) -> i64 {
    match money.currency {
        Currency::EUR => money.minor * 2,
        _ => money.minor,
    }
}

fn everything(process: &ProcessKey) -> OpenFilter<'_> {
    OpenFilter {
        process,
        owners: None,
        closing: None,
        segment: None,
        category: None,
    }
}

fn stage(key: &str) -> StageKey {
    key.parse().unwrap()
}

fn tally(count: u64, amount: i64) -> Tally {
    Tally { count, amount }
}

#[test]
fn open_deals_are_counted_in_their_stage_and_the_filters_narrow_them() {
    let process = Process::default_enterprise();
    // Deal 1: $10,000 in `qualified` (Pipeline). Deal 2: €5,000 in `qualified`, forecast as
    // Commit by hand. Deal 3: $7,000, lost. Deal 4: $3,000, moved on to `evaluating`.
    let to_evaluating: Vec<Command> = process
        .forward_requirements(Some(&stage("qualified")), Some(&stage("evaluating")))
        .iter()
        .flat_map(|key| evidence_meeting(&process, key))
        .map(Command::RecordEvidence)
        .chain([Command::MoveStage {
            to: stage("evaluating"),
            reason: None,
            next_step: None,
        }])
        .collect();
    let deals = [
        history(1, "2026-01-01", usd(10_000), vec![]),
        history(
            2,
            "2026-01-02",
            Some(Money::new(500_000, Currency::EUR)),
            vec![Command::OverrideCategory {
                to: Some(ForecastCategory::Commit),
                reason: Some(Note::parse("Signed order form in hand").unwrap()),
            }],
        ),
        history(
            3,
            "2026-01-03",
            usd(7_000),
            vec![Command::CloseLost {
                on: "2026-01-04".parse().unwrap(),
                loss_type: LossType::NoDecision,
                reason: None,
                competitor: None,
            }],
        ),
        history(4, "2026-01-04", usd(3_000), to_evaluating),
    ];
    let processes = ProcessSet::shipped();
    let projection = Projection::build([&processes], deals.iter().flatten()).unwrap();
    let key = process.key.clone();
    let all = everything(&key);
    assert_eq!(
        projection.open_by_stage(&all, in_dollars),
        HashMap::from([
            (stage("qualified"), tally(2, 2_000_000)),
            (stage("evaluating"), tally(1, 300_000)),
        ])
    );

    let commit = OpenFilter {
        category: Some(ForecastCategory::Commit),
        ..all
    };
    assert_eq!(
        projection.open_by_stage(&commit, in_dollars),
        HashMap::from([(stage("qualified"), tally(1, 1_000_000))])
    );
    // Every deal is due on 31 March 2026.
    let quarter =
        |start: &str, end: &str| DateRange::new(start.parse().unwrap(), end.parse().unwrap());
    let first_quarter = OpenFilter {
        closing: Some(quarter("2026-01-01", "2026-04-01")),
        ..all
    };
    assert_eq!(
        projection.open_by_stage(&first_quarter, in_dollars).len(),
        2
    );
    let second_quarter = OpenFilter {
        closing: Some(quarter("2026-04-01", "2026-07-01")),
        ..all
    };
    assert!(
        projection
            .open_by_stage(&second_quarter, in_dollars)
            .is_empty()
    );
    let someone_else = HashSet::from([UserId::from_parts(9, [9; 10])]);
    let theirs = OpenFilter {
        owners: Some(&someone_else),
        ..all
    };
    assert!(projection.open_by_stage(&theirs, in_dollars).is_empty());
    let segment = OpenFilter {
        segment: Some("Enterprise"),
        ..all
    };
    assert!(projection.open_by_stage(&segment, in_dollars).is_empty());
    let other_process: ProcessKey = "smb".parse().unwrap();
    assert!(
        projection
            .open_by_stage(&everything(&other_process), in_dollars)
            .is_empty()
    );
}

proptest! {
    #[test]
    fn the_count_by_stage_is_that_of_the_deals_states_after_their_last_event(
        work in deal_work(),
        category in proptest::option::of(proptest::sample::select(vec![
            ForecastCategory::Pipeline, ForecastCategory::BestCase, ForecastCategory::Commit,
        ])),
        mine_only in any::<bool>(),
    ) {
        let histories = random_histories(work);
        let processes = ProcessSet::shipped();
        let projection = Projection::build([&processes], histories.iter().flatten()).unwrap();
        let key = Process::default_enterprise().key;
        let mine = HashSet::from([rep()]);
        let filter = OpenFilter {
            owners: mine_only.then_some(&mine),
            category,
            ..everything(&key)
        };
        let after_all = at("2027-01-01") + Duration::days(1);
        let mut expected: HashMap<StageKey, Tally> = HashMap::new();
        for state in projection.states_at(after_all) {
            if state.status == Status::Open
                && category.is_none_or(|c| state.category == c)
                && (!mine_only || state.owner_id == rep())
            {
                let counted = expected.entry(state.stage).or_default();
                counted.count += 1;
                counted.amount += state.amount.map_or(0, in_dollars);
            }
        }
        prop_assert_eq!(projection.open_by_stage(&filter, in_dollars), expected);
    }
}
