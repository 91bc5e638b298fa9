//! Net qualified pipeline created, the sales cycle and pipeline velocity (DESIGN §4).

use chrono::{DateTime, NaiveDate, Utc};
use pipewise_core::calendar::DateRange;
use pipewise_core::exchange::{ConversionError, ExchangeRates};
use pipewise_core::opportunity::Status;
use pipewise_core::stats::nearest_rank;
use serde::Serialize;

use super::outcomes::period_micros;
use super::{Projection, Tally, micros};

/// Days from reaching the SAL stage to the close date, over deals won in a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SalesCycle {
    pub won: u64,
    /// Median (nearest rank) and mean, in days; `None` without wins.
    pub median_days: Option<f64>,
    pub mean_days: Option<f64>,
}

/// (qualified open deals × win rate × average won amount) / average cycle days: the
/// corporate minor units the pipeline turns into per day at the period's rates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Velocity {
    pub qualified_open: u64,
    pub win_rate: Option<f64>,
    /// Average won amount in corporate minor units.
    pub average_won: Option<f64>,
    pub average_cycle_days: Option<f64>,
    pub per_day: Option<f64>,
}

impl Projection {
    /// Deals that reached their SAL stage during `period` and their amount then, converted
    /// on that day.
    pub fn qualified_created(
        &self,
        period: DateRange,
        rates: &ExchangeRates,
    ) -> Result<Tally, ConversionError> {
        let (start, end) = period_micros(period);
        let mut created = Tally::default();
        for d in 0..self.deals.id.len() {
            let Some(at) = self.deals.qualified_at[d].filter(|at| (start..end).contains(at)) else {
                continue;
            };
            let Some(span) = self.span_at(d, at) else {
                continue;
            };
            let day =
                DateTime::<Utc>::from_timestamp_micros(at).map_or(period.start, |t| t.date_naive());
            created = created + self.tally_on(span, day, rates)?;
        }
        Ok(created)
    }

    /// The sales cycle of deals won in `period`, as known at `as_of`.
    pub fn sales_cycle(&self, period: DateRange, as_of: DateTime<Utc>) -> SalesCycle {
        let mut days = self.won_cycles(period, as_of);
        days.sort_by(f64::total_cmp);
        let n = days.len();
        SalesCycle {
            won: n as u64,
            median_days: nearest_rank(&days, 50),
            mean_days: (n > 0).then(|| days.iter().sum::<f64>() / n as f64),
        }
    }

    /// Velocity from the open qualified deals at `as_of` and the period's win rate, average
    /// won amount and average cycle.
    pub fn velocity(
        &self,
        period: DateRange,
        as_of: DateTime<Utc>,
        rates: &ExchangeRates,
    ) -> Result<Velocity, ConversionError> {
        let outcomes = self.outcomes(period, as_of, rates)?;
        let cycle = self.sales_cycle(period, as_of);
        let now = micros(as_of);
        let qualified_open = (0..self.deals.id.len())
            .filter(|d| self.deals.qualified_at[*d].is_some_and(|at| at <= now))
            .filter(|d| {
                self.span_at(*d, now)
                    .is_some_and(|s| self.spans.status[s] == Status::Open)
            })
            .count() as u64;
        let win_rate = outcomes.win_rate().by_count();
        let won = outcomes.won;
        let average_won = (won.count > 0).then(|| won.amount as f64 / won.count as f64);
        let per_day = match (win_rate, average_won, cycle.mean_days) {
            (Some(rate), Some(average), Some(days)) if days > 0.0 => {
                Some(qualified_open as f64 * rate * average / days)
            }
            _ => None,
        };
        Ok(Velocity {
            qualified_open,
            win_rate,
            average_won,
            average_cycle_days: cycle.mean_days,
            per_day,
        })
    }

    /// Days from SAL to close date of each deal won in the period.
    fn won_cycles(&self, period: DateRange, as_of: DateTime<Utc>) -> Vec<f64> {
        let (_, end) = period_micros(period);
        let now = micros(as_of);
        let in_period = |days: i32| {
            NaiveDate::from_num_days_from_ce_opt(days).is_some_and(|d| period.contains(d))
        };
        (0..self.deals.id.len())
            .filter_map(|d| {
                let qualified = self.deals.qualified_at[d]?;
                let span = self.closed_in(d, now.min(end - 1), now, &in_period)?;
                let closed = NaiveDate::from_num_days_from_ce_opt(self.spans.close_date[span])?;
                let won = self.spans.status[span] == Status::Won;
                let from = DateTime::<Utc>::from_timestamp_micros(qualified)?.date_naive();
                won.then(|| (closed - from).num_days() as f64)
            })
            .collect()
    }
}
