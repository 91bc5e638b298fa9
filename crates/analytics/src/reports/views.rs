//! The shapes reports take: what JSON shows and what tables and CSV are drawn from.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use pipewise_core::calendar::{DateRange, Period};
use pipewise_core::money::Currency;
use pipewise_core::process::Process;
use serde::Serialize;

use crate::{
    Conversion, Coverage, Dimension, Flow, Outcomes, Pipeline, Ratio, Slice, StageTime, Tally,
    TargetStack, Waterfall, required_coverage,
};

/// What a report covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Scope {
    pub period: String,
    /// First and last day of the period.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub as_of: NaiveDate,
    /// Amounts are in this currency's minor units.
    pub currency: String,
    /// The dimensions of the slices, in order.
    pub by: Vec<Dimension>,
}

impl Scope {
    pub(crate) fn new(
        period: Period,
        range: DateRange,
        as_of: NaiveDate,
        currency: Currency,
        by: Vec<Dimension>,
    ) -> Self {
        Self {
            period: period.to_string(),
            from: range.start,
            to: range.last_day(),
            as_of,
            currency: currency.code().to_owned(),
            by,
        }
    }
}

/// One slice of a report: its value for each dimension, and the numbers over its deals.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Sliced<M> {
    pub slice: BTreeMap<&'static str, String>,
    #[serde(flatten)]
    pub value: M,
}

impl<M> Sliced<M> {
    pub(crate) fn all(by: &[Dimension], slices: Vec<Slice<M>>) -> Vec<Sliced<M>> {
        slices
            .into_iter()
            .map(|s| Sliced {
                slice: by.iter().map(|d| d.as_str()).zip(s.key).collect(),
                value: s.value,
            })
            .collect()
    }

    /// The slice's values in the order of `by`.
    pub fn key<'a>(&'a self, by: &[Dimension]) -> Vec<&'a str> {
        by.iter()
            .map(|d| self.slice.get(d.as_str()).map_or("", String::as_str))
            .collect()
    }
}

/// A rate with what it is made of.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RateView {
    pub numerator: Tally,
    pub denominator: Tally,
    pub by_count: Option<f64>,
    pub by_amount: Option<f64>,
}

impl From<Ratio> for RateView {
    fn from(r: Ratio) -> Self {
        Self {
            numerator: r.numerator,
            denominator: r.denominator,
            by_count: r.by_count(),
            by_amount: r.by_amount(),
        }
    }
}

/// Outcomes with their three rates.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct OutcomesView {
    #[serde(flatten)]
    pub outcomes: Outcomes,
    pub close_rate: RateView,
    pub win_rate: RateView,
    pub slippage_adjusted_close_rate: RateView,
    /// 1 / the slippage-adjusted close rate by count.
    pub required_coverage_by_count: Option<f64>,
}

impl From<Outcomes> for OutcomesView {
    fn from(outcomes: Outcomes) -> Self {
        let adjusted = outcomes.slippage_adjusted_close_rate();
        Self {
            close_rate: outcomes.close_rate().into(),
            win_rate: outcomes.win_rate().into(),
            slippage_adjusted_close_rate: adjusted.into(),
            required_coverage_by_count: adjusted.by_count().and_then(required_coverage),
            outcomes,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct OutcomesReport {
    #[serde(flatten)]
    pub scope: Scope,
    #[serde(flatten)]
    pub outcomes: OutcomesView,
    pub slices: Vec<Sliced<OutcomesView>>,
}

/// The open pipeline at the as-of moment.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PipelineReport {
    #[serde(flatten)]
    pub scope: Scope,
    #[serde(flatten)]
    pub pipeline: Pipeline,
    pub slices: Vec<Sliced<Pipeline>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Snapshot {
    pub week_ending: NaiveDate,
    #[serde(flatten)]
    pub pipeline: Pipeline,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Snapshots {
    pub weeks: Vec<Snapshot>,
}

/// The open pipeline at the end of each week of the period.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SnapshotsReport {
    #[serde(flatten)]
    pub scope: Scope,
    #[serde(flatten)]
    pub snapshots: Snapshots,
    pub slices: Vec<Sliced<Snapshots>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ProcessName {
    pub key: String,
    pub name: String,
}

impl ProcessName {
    pub(crate) fn of(process: &Process) -> Self {
        Self {
            key: process.key.to_string(),
            name: process.name.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ConversionView {
    #[serde(flatten)]
    pub conversion: Conversion,
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Conversions {
    pub conversions: Vec<ConversionView>,
}

impl From<Vec<Conversion>> for Conversions {
    fn from(rows: Vec<Conversion>) -> Self {
        Self {
            conversions: rows
                .into_iter()
                .map(|c| ConversionView {
                    rate: c.rate(),
                    conversion: c,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ConversionReport {
    #[serde(flatten)]
    pub scope: Scope,
    pub process: ProcessName,
    #[serde(flatten)]
    pub conversions: Conversions,
    pub slices: Vec<Sliced<Conversions>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StageTimes {
    pub stages: Vec<StageTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TimeInStageReport {
    #[serde(flatten)]
    pub scope: Scope,
    pub process: ProcessName,
    #[serde(flatten)]
    pub stages: StageTimes,
    pub slices: Vec<Sliced<StageTimes>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct WaterfallReport {
    #[serde(flatten)]
    pub scope: Scope,
    /// The day whose end the waterfall starts from; it ends at the as-of moment.
    pub since: NaiveDate,
    #[serde(flatten)]
    pub waterfall: Waterfall,
    pub slices: Vec<Sliced<Waterfall>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct VelocityReport {
    #[serde(flatten)]
    pub scope: Scope,
    #[serde(flatten)]
    pub flow: Flow,
    pub slices: Vec<Sliced<Flow>>,
}

/// Losses of one type and their share of all losses (competition and no decision).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LossShare {
    pub lost: Tally,
    pub share_by_count: Option<f64>,
    pub share_by_amount: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CompetitorLoss {
    pub competitor: String,
    pub lost: Tally,
}

/// Losses to competition and to no decision, and losses to competition by competitor.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LossMix {
    pub lost: Tally,
    pub competition: LossShare,
    pub no_decision: LossShare,
    pub by_competitor: Vec<CompetitorLoss>,
}

impl LossMix {
    /// Adds the outcomes of the deals with `competitor` (or none).
    pub(crate) fn add(&mut self, competitor: &str, outcomes: &Outcomes) {
        self.competition.lost = self.competition.lost + outcomes.lost_to_competition;
        self.no_decision.lost = self.no_decision.lost + outcomes.lost_to_no_decision;
        if outcomes.lost_to_competition.count > 0 && competitor != crate::NO_VALUE {
            self.by_competitor.push(CompetitorLoss {
                competitor: competitor.to_owned(),
                lost: outcomes.lost_to_competition,
            });
        }
        self.lost = self.competition.lost + self.no_decision.lost;
        for share in [&mut self.competition, &mut self.no_decision] {
            let r = Ratio {
                numerator: share.lost,
                denominator: self.lost,
            };
            share.share_by_count = r.by_count();
            share.share_by_amount = r.by_amount();
        }
    }

    /// The whole's mix from its outcomes and the competitors summed over the slices.
    pub(crate) fn of_whole(
        outcomes: &Outcomes,
        slices: &BTreeMap<Vec<String>, LossMix>,
    ) -> LossMix {
        let mut by_competitor: BTreeMap<&str, Tally> = BTreeMap::new();
        for mix in slices.values() {
            for c in &mix.by_competitor {
                let sum = by_competitor.entry(&c.competitor).or_default();
                *sum = *sum + c.lost;
            }
        }
        let mut whole = LossMix::default();
        let no_competitors = Outcomes {
            lost_to_competition: Tally::default(),
            ..*outcomes
        };
        whole.add(crate::NO_VALUE, &no_competitors);
        for (competitor, lost) in by_competitor {
            let only = Outcomes {
                lost_to_competition: lost,
                ..Outcomes::default()
            };
            whole.add(competitor, &only);
        }
        whole
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LossMixReport {
    #[serde(flatten)]
    pub scope: Scope,
    #[serde(flatten)]
    pub mix: LossMix,
    pub slices: Vec<Sliced<LossMix>>,
}

/// The year before the period, whose rates coverage and the target stack use.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TrailingYear {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub close_rate_by_amount: Option<f64>,
    pub close_rate_by_count: Option<f64>,
    /// Corporate minor units.
    pub average_win: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CoverageReport {
    #[serde(flatten)]
    pub scope: Scope,
    #[serde(flatten)]
    pub coverage: Coverage,
    /// Three times the target.
    pub pipeline_for_3x: i64,
    pub trailing_year: TrailingYear,
    /// Wins and qualified deals still needed for the target, at the trailing year's rates.
    pub target_stack: Option<TargetStack>,
    pub slices: Vec<Sliced<Coverage>>,
}
