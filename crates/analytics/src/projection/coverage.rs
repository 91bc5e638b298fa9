//! Pipeline coverage of a target and the pipeline still required (DESIGN §4).

use chrono::{DateTime, NaiveDate, Utc};
use pipewise_core::calendar::DateRange;
use pipewise_core::exchange::{ConversionError, ExchangeRates};
use pipewise_core::opportunity::Status;
use pipewise_core::process::ForecastCategory;
use serde::Serialize;

use super::outcomes::period_micros;
use super::{Projection, Tally, micros};

/// Which open deals count towards coverage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageMode {
    /// Best Case and Commit: enterprise cycles outlast a quarter, so Pipeline rarely closes
    /// within it.
    Enterprise,
    /// Pipeline too, for cycles shorter than the period.
    Smb,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// (target − won) / close rate, when a close rate is given; never below zero.
    pub required_pipeline: Option<i64>,
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
        let (_, end) = period_micros(period);
        let now = micros(as_of);
        let in_period = |days: i32| {
            NaiveDate::from_num_days_from_ce_opt(days).is_some_and(|d| period.contains(d))
        };
        let day = as_of.date_naive().min(period.last_day());
        let mut c = Coverage {
            mode,
            target,
            won: Tally::default(),
            commit: Tally::default(),
            best_case: Tally::default(),
            pipeline: Tally::default(),
            ratio: None,
            required_pipeline: None,
        };
        for d in 0..self.deals.id.len() {
            // Won in the period, however late the win was entered; else open now and due in it.
            let span = match self.closed_in(d, now.min(end - 1), now, &in_period) {
                Some(span) => span,
                None => match self.span_at(d, now) {
                    Some(span) if in_period(self.spans.close_date[span]) => span,
                    _ => continue,
                },
            };
            let bucket = match (self.spans.status[span], self.spans.category[span]) {
                (Status::Won, _) => &mut c.won,
                (Status::Open, ForecastCategory::Commit) => &mut c.commit,
                (Status::Open, ForecastCategory::BestCase) => &mut c.best_case,
                (Status::Open, ForecastCategory::Pipeline) => &mut c.pipeline,
                _ => continue,
            };
            *bucket = *bucket + self.tally_on(span, day, rates)?;
        }
        let smb = if mode == CoverageMode::Smb {
            c.pipeline
        } else {
            Tally::default()
        };
        let counted = (c.won + c.commit + c.best_case + smb).amount;
        c.ratio = (target > 0).then(|| counted as f64 / target as f64);
        c.required_pipeline = close_rate
            .filter(|rate| *rate > 0.0)
            .map(|rate| (((target - c.won.amount).max(0)) as f64 / rate).round() as i64);
        Ok(c)
    }
}
