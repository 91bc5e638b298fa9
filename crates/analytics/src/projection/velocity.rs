//! Net qualified pipeline created, the sales cycle and pipeline velocity (DESIGN §4).

use chrono::{DateTime, NaiveDate, Utc};
use pipewise_core::calendar::DateRange;
use pipewise_core::exchange::{ConversionError, ExchangeRates};
use pipewise_core::opportunity::Status;
use pipewise_core::stats::nearest_rank;
use serde::Serialize;

use super::outcomes::{Outcomes, day_in, days_of, period_micros};
use super::slicing::{Groups, fit};
use super::{Projection, Slice, Slicing, Tally, micros};

/// Values per period, then per group of the period's groups.
type PerPeriod<T> = Vec<Vec<T>>;

/// Days from reaching the SAL stage to the close date, over deals won in a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SalesCycle {
    pub won: u64,
    /// Median (nearest rank) and mean, in days; `None` without wins.
    pub median_days: Option<f64>,
    pub mean_days: Option<f64>,
}

/// (qualified open deals × win rate × average won amount) / average cycle days: the
/// corporate minor units the pipeline turns into per day at the period's rates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Velocity {
    pub qualified_open: u64,
    pub win_rate: Option<f64>,
    /// Average won amount in corporate minor units.
    pub average_won: Option<f64>,
    pub average_cycle_days: Option<f64>,
    pub per_day: Option<f64>,
}

impl SalesCycle {
    fn of(mut days: Vec<f64>) -> Self {
        days.sort_by(f64::total_cmp);
        let n = days.len();
        SalesCycle {
            won: n as u64,
            median_days: nearest_rank(&days, 50),
            mean_days: (n > 0).then(|| days.iter().sum::<f64>() / n as f64),
        }
    }
}

/// A period's qualified pipeline created, sales cycle and velocity, for one slice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Flow {
    pub qualified_created: Tally,
    pub sales_cycle: SalesCycle,
    pub velocity: Velocity,
}

impl Projection {
    /// Deals that reached their SAL stage during `period` and their amount then, converted
    /// on that day.
    pub fn qualified_created(
        &self,
        period: DateRange,
        rates: &ExchangeRates,
    ) -> Result<Tally, ConversionError> {
        let created = self.grouped_created(&[period], rates, &mut [Groups::whole(self)])?;
        Ok(first(first(created)))
    }

    /// Per period, per group of that period's `groups`, the qualified pipeline created.
    fn grouped_created(
        &self,
        periods: &[DateRange],
        rates: &ExchangeRates,
        groups: &mut [Groups],
    ) -> Result<PerPeriod<Tally>, ConversionError> {
        let bounds: Vec<(i64, i64)> = periods.iter().map(|p| period_micros(*p)).collect();
        let mut values: Vec<Vec<Tally>> = periods.iter().map(|_| Vec::new()).collect();
        let mut slices = Vec::new();
        for d in 0..self.deals.id.len() {
            let Some(at) = self.deals.qualified_at[d] else {
                continue;
            };
            for (w, (start, end)) in bounds.iter().enumerate() {
                if !(*start..*end).contains(&at) {
                    continue;
                }
                let Some(span) = self.span_at(d, at) else {
                    continue;
                };
                let day = DateTime::<Utc>::from_timestamp_micros(at)
                    .map_or(periods[w].start, |t| t.date_naive());
                let tally = self.tally_on(span, day, rates)?;
                groups[w].of(d, span, &mut slices)?;
                fit(&mut values[w], &groups[w]);
                for &g in &slices {
                    values[w][g] = values[w][g] + tally;
                }
            }
        }
        for (values, groups) in values.iter_mut().zip(groups.iter()) {
            fit(values, groups);
        }
        Ok(values)
    }

    /// The sales cycle of deals won in `period`, as known at `as_of`.
    pub fn sales_cycle(&self, period: DateRange, as_of: DateTime<Utc>) -> SalesCycle {
        let cycles = self.grouped_cycles(&[period], as_of, &mut [Groups::whole(self)]);
        cycles.map(|c| first(first(c))).unwrap_or_default()
    }

    /// Per period, per group of that period's `groups`, the sales cycle.
    fn grouped_cycles(
        &self,
        periods: &[DateRange],
        as_of: DateTime<Utc>,
        groups: &mut [Groups],
    ) -> Result<PerPeriod<SalesCycle>, ConversionError> {
        let now = micros(as_of);
        let windows: Vec<_> = periods
            .iter()
            .map(|p| (period_micros(*p).1, day_in(*p), days_of(*p)))
            .collect();
        let mut days: Vec<Vec<Vec<f64>>> = periods.iter().map(|_| Vec::new()).collect();
        let mut slices = Vec::new();
        for d in 0..self.deals.id.len() {
            let Some(qualified) = self.deals.qualified_at[d] else {
                continue;
            };
            for (w, (end, in_period, period_days)) in windows.iter().enumerate() {
                if !self.ever_due_in(d, *period_days) {
                    continue;
                }
                let Some(span) = self.closed_in(d, now.min(end - 1), now, in_period) else {
                    continue;
                };
                if self.spans.status[span] != Status::Won {
                    continue;
                }
                let (Some(closed), Some(from)) = (
                    NaiveDate::from_num_days_from_ce_opt(self.spans.close_date[span]),
                    DateTime::<Utc>::from_timestamp_micros(qualified),
                ) else {
                    continue;
                };
                let cycle = (closed - from.date_naive()).num_days() as f64;
                groups[w].of(d, span, &mut slices)?;
                fit(&mut days[w], &groups[w]);
                for &g in &slices {
                    days[w][g].push(cycle);
                }
            }
        }
        Ok(days
            .into_iter()
            .zip(groups.iter())
            .map(|(mut days, groups)| {
                fit(&mut days, groups);
                days.into_iter().map(SalesCycle::of).collect()
            })
            .collect())
    }

    /// Velocity from the open qualified deals at `as_of` and the period's win rate, average
    /// won amount and average cycle.
    pub fn velocity(
        &self,
        period: DateRange,
        as_of: DateTime<Utc>,
        rates: &ExchangeRates,
    ) -> Result<Velocity, ConversionError> {
        Ok(self.flow(period, as_of, rates)?.velocity)
    }

    /// Qualified pipeline created, sales cycle and velocity of `period`, broken down by
    /// `slicing`: created deals by their state on reaching SAL, wins by their closing state,
    /// open deals by their state at `as_of`.
    pub fn flow_by(
        &self,
        period: DateRange,
        as_of: DateTime<Utc>,
        rates: &ExchangeRates,
        slicing: &Slicing,
    ) -> Result<Vec<Slice<Flow>>, ConversionError> {
        let mut groups = Groups::new(self, slicing, rates);
        let values = self.grouped_flow(period, as_of, rates, &mut groups)?;
        Ok(groups.into_slices(values))
    }

    /// The period's flow over the whole.
    pub fn flow(
        &self,
        period: DateRange,
        as_of: DateTime<Utc>,
        rates: &ExchangeRates,
    ) -> Result<Flow, ConversionError> {
        Ok(first(self.grouped_flow(
            period,
            as_of,
            rates,
            &mut Groups::whole(self),
        )?))
    }

    /// [`Projection::outcomes`] and [`Projection::flow`] of each of `periods`, each part
    /// in one pass over the deals for them all: a trend over five quarters costs about one.
    pub fn outcomes_and_flows_over(
        &self,
        periods: &[DateRange],
        as_of: DateTime<Utc>,
        rates: &ExchangeRates,
    ) -> Result<Vec<(Outcomes, Flow)>, ConversionError> {
        let mut groups: Vec<Groups> = periods.iter().map(|_| Groups::whole(self)).collect();
        let (outcomes, flows) = self.grouped_flows(periods, as_of, rates, &mut groups)?;
        Ok(outcomes
            .into_iter()
            .zip(flows)
            .map(|(outcomes, flows)| (first(outcomes), first(flows)))
            .collect())
    }

    fn grouped_flow(
        &self,
        period: DateRange,
        as_of: DateTime<Utc>,
        rates: &ExchangeRates,
        groups: &mut Groups,
    ) -> Result<Vec<Flow>, ConversionError> {
        let (_, flows) =
            self.grouped_flows(&[period], as_of, rates, std::slice::from_mut(groups))?;
        Ok(first(flows))
    }

    /// Per period, per group of that period's `groups`: the outcomes and the flow they give.
    fn grouped_flows(
        &self,
        periods: &[DateRange],
        as_of: DateTime<Utc>,
        rates: &ExchangeRates,
        groups: &mut [Groups],
    ) -> Result<(PerPeriod<Outcomes>, PerPeriod<Flow>), ConversionError> {
        // One set of groups per period for every part, so a slice's index is the same in each.
        let created = self.grouped_created(periods, rates, groups)?;
        let mut outcomes = self.grouped_outcomes(periods, as_of, rates, groups)?;
        let cycles = self.grouped_cycles(periods, as_of, groups)?;
        let now = micros(as_of);
        let mut open: Vec<Vec<u64>> = periods.iter().map(|_| Vec::new()).collect();
        let mut slices = Vec::new();
        for d in 0..self.deals.id.len() {
            if self.deals.qualified_at[d].is_none_or(|at| at > now) {
                continue;
            }
            let Some(span) = self
                .span_at(d, now)
                .filter(|s| self.spans.status[*s] == Status::Open)
            else {
                continue;
            };
            for (groups, open) in groups.iter_mut().zip(open.iter_mut()) {
                groups.of(d, span, &mut slices)?;
                fit(open, groups);
                for &g in &slices {
                    open[g] += 1;
                }
            }
        }
        let mut flows = Vec::with_capacity(periods.len());
        for (w, (((groups, mut created), mut cycles), mut open)) in
            groups.iter().zip(created).zip(cycles).zip(open).enumerate()
        {
            let outcomes = &mut outcomes[w];
            fit(&mut created, groups);
            fit(outcomes, groups);
            fit(&mut cycles, groups);
            fit(&mut open, groups);
            flows.push(
                (0..groups.len())
                    .map(|g| flow(created[g], &outcomes[g], cycles[g].clone(), open[g]))
                    .collect(),
            );
        }
        Ok((outcomes, flows))
    }
}

/// A slice's flow from its qualified pipeline created, outcomes, sales cycle and open
/// qualified deals.
fn flow(created: Tally, outcomes: &Outcomes, cycle: SalesCycle, open: u64) -> Flow {
    let win_rate = outcomes.win_rate().by_count();
    let won = outcomes.won;
    let average_won = (won.count > 0).then(|| won.amount as f64 / won.count as f64);
    let per_day = match (win_rate, average_won, cycle.mean_days) {
        (Some(rate), Some(average), Some(days)) if days > 0.0 => {
            Some(open as f64 * rate * average / days)
        }
        _ => None,
    };
    Flow {
        qualified_created: created,
        velocity: Velocity {
            qualified_open: open,
            win_rate,
            average_won,
            average_cycle_days: cycle.mean_days,
            per_day,
        },
        sales_cycle: cycle,
    }
}

/// The first of `values`: the first period's, or the whole where the groups are the whole
/// alone.
fn first<M: Default>(values: Vec<M>) -> M {
    values.into_iter().next().unwrap_or_default()
}
