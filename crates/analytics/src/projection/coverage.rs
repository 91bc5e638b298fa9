//! Pipeline coverage of a target and the pipeline still required (DESIGN §4).

use chrono::{DateTime, Utc};
use pipewise_core::calendar::DateRange;
use pipewise_core::exchange::{ConversionError, ExchangeRates};
use pipewise_core::opportunity::Status;
use pipewise_core::process::ForecastCategory;
use serde::Serialize;

use super::outcomes::{day_in, days_of, period_micros};
use super::slicing::{Groups, fit};
use super::{Projection, Slice, Slicing, Tally, micros};

/// Which open deals count towards coverage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CoverageMode {
    /// Best Case and Commit: enterprise cycles outlast a quarter, so Pipeline rarely closes
    /// within it.
    #[default]
    Enterprise,
    /// Pipeline too, for cycles shorter than the period.
    Smb,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Coverage {
    pub mode: CoverageMode,
    /// Corporate minor units.
    pub target: i64,
    /// Won with a close date in the period.
    pub won: Tally,
    /// Open deals due in the period, by category.
    pub commit: Tally,
    pub best_case: Tally,
    pub pipeline: Tally,
    /// (counted open categories + won) / target.
    pub ratio: Option<f64>,
    /// (target − won) / close rate, when a target and a close rate are given; never below
    /// zero.
    pub required_pipeline: Option<i64>,
}

impl Coverage {
    /// Sets the target and the numbers that follow from it.
    fn against(&mut self, target: i64, mode: CoverageMode, close_rate: Option<f64>) {
        self.mode = mode;
        self.target = target;
        let smb = if mode == CoverageMode::Smb {
            self.pipeline
        } else {
            Tally::default()
        };
        let counted = (self.won + self.commit + self.best_case + smb).amount;
        self.ratio = (target > 0).then(|| counted as f64 / target as f64);
        self.required_pipeline = close_rate
            .filter(|rate| *rate > 0.0 && target > 0)
            .map(|rate| (((target - self.won.amount).max(0)) as f64 / rate).round() as i64);
    }
}

impl Projection {
    /// Coverage of `target` (corporate minor units) in `period` at `as_of`, amounts converted
    /// on the as-of day. `close_rate` (by amount) gives the required pipeline.
    pub fn coverage(
        &self,
        period: DateRange,
        as_of: DateTime<Utc>,
        target: i64,
        mode: CoverageMode,
        close_rate: Option<f64>,
        rates: &ExchangeRates,
    ) -> Result<Coverage, ConversionError> {
        let whole = self.grouped_coverage(period, as_of, rates, &mut Groups::whole(self))?;
        let mut coverage = whole.into_iter().next().unwrap_or_default();
        coverage.against(target, mode, close_rate);
        Ok(coverage)
    }

    /// [`Projection::coverage`] broken down by `slicing`, each deal by the state that counts
    /// (the win, or the open deal at `as_of`); `target` gives each slice's target, if any.
    #[allow(clippy::too_many_arguments)]
    pub fn coverage_by(
        &self,
        period: DateRange,
        as_of: DateTime<Utc>,
        target: impl Fn(&[String]) -> Option<i64>,
        mode: CoverageMode,
        close_rate: Option<f64>,
        rates: &ExchangeRates,
        slicing: &Slicing,
    ) -> Result<Vec<Slice<Coverage>>, ConversionError> {
        let mut groups = Groups::new(self, slicing, rates);
        let values = self.grouped_coverage(period, as_of, rates, &mut groups)?;
        let mut slices = groups.into_slices(values);
        for slice in &mut slices {
            let target = target(&slice.key).unwrap_or(0);
            slice.value.against(target, mode, close_rate);
        }
        Ok(slices)
    }

    fn grouped_coverage(
        &self,
        period: DateRange,
        as_of: DateTime<Utc>,
        rates: &ExchangeRates,
        groups: &mut Groups,
    ) -> Result<Vec<Coverage>, ConversionError> {
        let (_, end) = period_micros(period);
        let now = micros(as_of);
        let in_period = day_in(period);
        let days = days_of(period);
        let day = as_of.date_naive().min(period.last_day());
        let mut values: Vec<Coverage> = Vec::new();
        let mut slices = Vec::new();
        for d in 0..self.deals.id.len() {
            if !self.ever_due_in(d, days) {
                continue;
            }
            // Won in the period, however late the win was entered; else open now and due in it.
            let span = match self.closed_in(d, now.min(end - 1), now, &in_period) {
                Some(span) => span,
                None => match self.span_at(d, now) {
                    Some(span) if in_period(self.spans.close_date[span]) => span,
                    _ => continue,
                },
            };
            let category = self.spans.category[span];
            let status = self.spans.status[span];
            if !matches!(
                (status, category),
                (Status::Won, _)
                    | (
                        Status::Open,
                        ForecastCategory::Commit
                            | ForecastCategory::BestCase
                            | ForecastCategory::Pipeline
                    )
            ) {
                continue;
            }
            let tally = self.tally_on(span, day, rates)?;
            groups.of(d, span, &mut slices)?;
            fit(&mut values, groups);
            for &g in &slices {
                let c = &mut values[g];
                let bucket = match (status, category) {
                    (Status::Won, _) => &mut c.won,
                    (_, ForecastCategory::Commit) => &mut c.commit,
                    (_, ForecastCategory::BestCase) => &mut c.best_case,
                    _ => &mut c.pipeline,
                };
                *bucket = *bucket + tally;
            }
        }
        fit(&mut values, groups);
        Ok(values)
    }
}
