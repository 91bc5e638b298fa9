//! The arithmetic of the three rate-based methods (DESIGN §5): which open amounts each one
//! weighs, at which rate, and what that adds to the period's wins.

use std::collections::{BTreeMap, HashMap};

use pipewise_core::process::{ForecastCategory, ProcessKey, StageKey};
use serde::Serialize;

use crate::{CategoryHistory, OpenDeal, Tally};

/// One part of a method's number: open pipeline of one kind, the rate it is weighed at and
/// what it is expected to bring (amount × rate).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Line {
    /// A forecast category, a stage, `later` (pipeline yet to come into the period), or for
    /// the call `included` / `upside`.
    pub label: String,
    pub count: u64,
    /// Corporate minor units.
    pub amount: i64,
    /// `None` when history has nothing to say: the line then brings nothing.
    pub rate: Option<f64>,
    pub expected: i64,
}

impl Line {
    fn new(label: impl Into<String>, open: Tally, rate: Option<f64>) -> Self {
        Self {
            label: label.into(),
            count: open.count,
            amount: open.amount,
            rate,
            expected: rate.map_or(0, |r| weigh(open.amount, r)),
        }
    }
}

/// `amount` × `rate`, to the nearest minor unit.
pub fn weigh(amount: i64, rate: f64) -> i64 {
    (amount as f64 * rate).round() as i64
}

/// The sum of what the lines bring.
pub fn expected(lines: &[Line]) -> i64 {
    lines.iter().map(|l| l.expected).sum()
}

/// Open amounts by category, Omitted left out: it is the category of deals out of the
/// forecast.
pub fn by_category(deals: &[OpenDeal]) -> BTreeMap<ForecastCategory, Tally> {
    let mut open: BTreeMap<ForecastCategory, Tally> = BTreeMap::new();
    for deal in deals
        .iter()
        .filter(|d| d.category != ForecastCategory::Omitted)
    {
        let tally = open.entry(deal.category).or_default();
        *tally = *tally
            + Tally {
                count: 1,
                amount: deal.amount,
            };
    }
    open
}

/// Category-weighted: each category's open amount at the rate that category converted in
/// past periods from the same point, plus the pipeline a period gains after that point on
/// average (created, pulled in, reopened) at the rate it converted.
pub fn category_weighted(
    open: &BTreeMap<ForecastCategory, Tally>,
    history: &CategoryHistory,
) -> Vec<Line> {
    let counted = [
        ForecastCategory::Commit,
        ForecastCategory::BestCase,
        ForecastCategory::Pipeline,
    ];
    let mut lines: Vec<Line> = counted
        .iter()
        .filter_map(|category| Some((category, open.get(category)?)))
        .map(|(category, tally)| {
            let rate = history.categories.get(category).and_then(|r| r.rate());
            Line::new(category.as_str(), *tally, rate)
        })
        .collect();
    if history.periods > 0 {
        let periods = history.periods as i64;
        let average = Tally {
            count: history.later.open.count / history.periods as u64,
            amount: history.later.open.amount / periods,
        };
        lines.push(Line::new("later", average, history.later.rate()));
    }
    lines
}

/// Stage-weighted: each open deal's amount at its stage's win probability, one line per
/// stage in `stages` order.
pub fn stage_weighted(
    deals: &[OpenDeal],
    stages: &[(ProcessKey, StageKey)],
    probability: &HashMap<(ProcessKey, StageKey), f64>,
) -> Vec<Line> {
    let mut open: HashMap<(&ProcessKey, &StageKey), Tally> = HashMap::new();
    for deal in deals {
        let tally = open.entry((&deal.process, &deal.stage)).or_default();
        *tally = *tally
            + Tally {
                count: 1,
                amount: deal.amount,
            };
    }
    stages
        .iter()
        .filter_map(|key| {
            let tally = open.get(&(&key.0, &key.1))?;
            Some(Line::new(
                key.1.as_str(),
                *tally,
                probability.get(key).copied(),
            ))
        })
        .collect()
}

/// The deal-specific call: the deals the call includes count in full; the excluded Commit and
/// Best Case deals are the upside, counted in nothing.
pub fn deal_call(deals: &[OpenDeal], included: impl Fn(&OpenDeal) -> bool) -> (Line, Line) {
    let mut call = Tally::default();
    let mut upside = Tally::default();
    for deal in deals {
        let tally = Tally {
            count: 1,
            amount: deal.amount,
        };
        if included(deal) {
            call = call + tally;
        } else if matches!(
            deal.category,
            ForecastCategory::Commit | ForecastCategory::BestCase
        ) {
            upside = upside + tally;
        }
    }
    (
        Line::new("included", call, Some(1.0)),
        Line {
            expected: 0,
            ..Line::new("upside", upside, None)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CategoryHistoryRow;

    fn tally(count: u64, dollars: i64) -> Tally {
        Tally {
            count,
            amount: dollars * 100,
        }
    }

    fn row(open: i64, won: i64) -> CategoryHistoryRow {
        CategoryHistoryRow {
            open: tally(10, open),
            won: tally(5, won),
        }
    }

    #[test]
    fn the_smb_example_weighs_categories_and_pipeline_yet_to_come_to_3m() {
        // Two past periods: Commit converted 90%, Best Case 60%, Pipeline 30%, and each period
        // gained $1M after the point on average, 30% of it won.
        let history = CategoryHistory {
            periods: 2,
            categories: BTreeMap::from([
                (ForecastCategory::Commit, row(2_000_000, 1_800_000)),
                (ForecastCategory::BestCase, row(5_000_000, 3_000_000)),
                (ForecastCategory::Pipeline, row(4_000_000, 1_200_000)),
            ]),
            later: row(2_000_000, 600_000),
        };
        let open = BTreeMap::from([
            (ForecastCategory::Commit, tally(4, 1_000_000)),
            (ForecastCategory::BestCase, tally(9, 2_000_000)),
            (ForecastCategory::Pipeline, tally(20, 2_000_000)),
        ]);
        let lines = category_weighted(&open, &history);
        let brought: Vec<(&str, i64)> = lines
            .iter()
            .map(|l| (l.label.as_str(), l.expected / 100))
            .collect();
        assert_eq!(
            brought,
            [
                ("commit", 900_000),
                ("best_case", 1_200_000),
                ("pipeline", 600_000),
                ("later", 300_000)
            ]
        );
        assert_eq!(expected(&lines), 3_000_000 * 100);
        // The pipeline yet to come is the average period's: $2M over two periods.
        assert_eq!(lines[3].amount, 1_000_000 * 100);
    }

    fn deal(stage: &str, dollars: i64, category: ForecastCategory) -> OpenDeal {
        OpenDeal {
            opportunity_id: pipewise_core::ids::OpportunityId::generate(),
            owner_id: pipewise_core::ids::UserId::generate(),
            process: ProcessKey::parse("enterprise").unwrap(),
            stage: StageKey::parse(stage).unwrap(),
            category,
            amount: dollars * 100,
            close_date: chrono::NaiveDate::from_ymd_opt(2026, 5, 20).unwrap(),
            facts: crate::Facts::default(),
        }
    }

    #[test]
    fn the_stage_weighted_example_gives_71_500_for_may_and_16_500_for_june() {
        let stage = |s: &str| {
            (
                ProcessKey::parse("enterprise").unwrap(),
                StageKey::parse(s).unwrap(),
            )
        };
        let stages = [stage("discovery"), stage("solution"), stage("commercial")];
        let probability = HashMap::from([
            (stage("discovery"), 0.35),
            (stage("solution"), 0.55),
            (stage("commercial"), 0.45),
        ]);
        let may = [
            deal("discovery", 50_000, ForecastCategory::Pipeline),
            deal("commercial", 120_000, ForecastCategory::Commit),
        ];
        let june = [deal("solution", 30_000, ForecastCategory::BestCase)];
        let may_lines = stage_weighted(&may, &stages, &probability);
        assert_eq!(expected(&may_lines), 71_500 * 100);
        assert_eq!(may_lines[0].expected, 17_500 * 100, "Deal A");
        assert_eq!(may_lines[1].expected, 54_000 * 100, "Deal B");
        assert_eq!(
            expected(&stage_weighted(&june, &stages, &probability)),
            16_500 * 100
        );
    }

    #[test]
    fn the_call_counts_included_deals_and_leaves_excluded_commit_and_best_case_as_upside() {
        let deals = [
            deal("commercial", 100_000, ForecastCategory::Commit),
            deal("commercial", 40_000, ForecastCategory::Commit),
            deal("solution", 25_000, ForecastCategory::BestCase),
            deal("discovery", 70_000, ForecastCategory::Pipeline),
        ];
        let (included, upside) = deal_call(&deals, |d| d.amount == 100_000 * 100);
        assert_eq!((included.count, included.expected), (1, 100_000 * 100));
        assert_eq!((upside.count, upside.amount), (2, 65_000 * 100));
        assert_eq!(upside.expected, 0);
    }

    #[test]
    fn a_category_without_history_brings_nothing_and_says_so() {
        let open = BTreeMap::from([(ForecastCategory::Commit, tally(1, 5_000))]);
        let lines = category_weighted(&open, &CategoryHistory::default());
        assert_eq!(lines.len(), 1, "no periods, no pipeline yet to come");
        assert_eq!((lines[0].rate, lines[0].expected), (None, 0));
    }
}
