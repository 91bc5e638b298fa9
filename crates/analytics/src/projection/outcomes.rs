//! How a period's qualified deals ended: won, lost to competition or to no decision,
//! excluded (disqualified, duplicate), or slipped; and the close, win and slippage-adjusted
//! close rates of DESIGN §4, each by count and by amount with numerator and denominator.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use pipewise_core::calendar::DateRange;
use pipewise_core::exchange::{ConversionError, ExchangeRates};
use pipewise_core::money::Money;
use pipewise_core::opportunity::{LossType, Status};
use serde::Serialize;

use super::slicing::{Groups, fit};
use super::{Projection, Slice, Slicing, micros};

/// Deals counted and their amount in corporate minor units (a deal without an amount adds 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Tally {
    pub count: u64,
    pub amount: i64,
}

impl std::ops::Add for Tally {
    type Output = Tally;

    /// Saturates rather than wrapping: amounts are bounded far below where it matters.
    fn add(self, other: Tally) -> Tally {
        Tally {
            count: self.count.saturating_add(other.count),
            amount: self.amount.saturating_add(other.amount),
        }
    }
}

/// A rate with what it is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Ratio {
    pub numerator: Tally,
    pub denominator: Tally,
}

impl Ratio {
    /// Numerator over denominator by count; `None` when nothing is in the denominator.
    pub fn by_count(&self) -> Option<f64> {
        (self.denominator.count > 0)
            .then(|| self.numerator.count as f64 / self.denominator.count as f64)
    }

    /// Numerator over denominator by amount; `None` when the denominator's amount is zero.
    pub fn by_amount(&self) -> Option<f64> {
        (self.denominator.amount != 0)
            .then(|| self.numerator.amount as f64 / self.denominator.amount as f64)
    }
}

/// The first and the last-plus-one microsecond of a period.
pub(super) fn period_micros(period: DateRange) -> (i64, i64) {
    let at = |day: NaiveDate| micros(day.and_time(NaiveTime::MIN).and_utc());
    (at(period.start), at(period.end))
}

/// The days of `period` as spans hold them (days since 1 January of year 1): [start, end).
pub(super) fn days_of(period: DateRange) -> (i32, i32) {
    (
        period.start.num_days_from_ce(),
        period.end.num_days_from_ce(),
    )
}

/// Whether a day as spans hold it falls in `period`, compared as numbers: no date is built
/// per deal.
pub(super) fn day_in(period: DateRange) -> impl Fn(i32) -> bool {
    let (start, end) = days_of(period);
    move |days| start <= days && days < end
}

/// The pipeline needed per unit of target at `rate`: 25% needs 4×.
pub fn required_coverage(rate: f64) -> Option<f64> {
    (rate > 0.0).then(|| 1.0 / rate)
}

/// How a period's qualified deals ended. A deal closed with its close date in the period
/// counts there: by its state at the as-of moment, or, if it was reopened since, as it stood
/// at the end of the period. Slipped deals are judged at the end of the period (or at the
/// as-of moment, for a period not over yet).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Outcomes {
    pub won: Tally,
    pub lost_to_competition: Tally,
    pub lost_to_no_decision: Tally,
    /// Disqualified and duplicate deals: reported, never in a rate.
    pub excluded: Tally,
    /// Open at the end of the period although their expected close date lay inside it at
    /// some moment during it. While the period runs: open deals whose close date lay inside
    /// it and has since been moved out.
    pub slipped: Tally,
}

impl Outcomes {
    /// Won / (won + lost to competition + lost to no decision).
    pub fn close_rate(&self) -> Ratio {
        Ratio {
            numerator: self.won,
            denominator: self.won + self.lost_to_competition + self.lost_to_no_decision,
        }
    }

    /// Won / (won + lost to competition).
    pub fn win_rate(&self) -> Ratio {
        Ratio {
            numerator: self.won,
            denominator: self.won + self.lost_to_competition,
        }
    }

    /// Won / (won + lost to competition + lost to no decision + slipped).
    pub fn slippage_adjusted_close_rate(&self) -> Ratio {
        Ratio {
            numerator: self.won,
            denominator: self.close_rate().denominator + self.slipped,
        }
    }
}

impl Projection {
    /// The outcomes of qualified deals in `period` as known at `as_of`, amounts converted on
    /// the close date (for slipped deals, on the period's last day).
    pub fn outcomes(
        &self,
        period: DateRange,
        as_of: DateTime<Utc>,
        rates: &ExchangeRates,
    ) -> Result<Outcomes, ConversionError> {
        let whole = self.grouped_outcomes(&[period], as_of, rates, &mut [Groups::whole(self)])?;
        Ok(whole.into_iter().flatten().next().unwrap_or_default())
    }

    /// [`Projection::outcomes`] broken down by `slicing`, each deal by its state at the
    /// close (or, slipped, at the end of the period).
    pub fn outcomes_by(
        &self,
        period: DateRange,
        as_of: DateTime<Utc>,
        rates: &ExchangeRates,
        slicing: &Slicing,
    ) -> Result<Vec<Slice<Outcomes>>, ConversionError> {
        Ok(self
            .outcomes_by_over(&[period], as_of, rates, slicing)?
            .pop()
            .unwrap_or_default())
    }

    /// [`Projection::outcomes_by`] for each of `periods`, in one pass over the deals: a trend
    /// over eight quarters costs about one quarter.
    pub fn outcomes_by_over(
        &self,
        periods: &[DateRange],
        as_of: DateTime<Utc>,
        rates: &ExchangeRates,
        slicing: &Slicing,
    ) -> Result<Vec<Vec<Slice<Outcomes>>>, ConversionError> {
        let mut groups: Vec<Groups> = periods
            .iter()
            .map(|_| Groups::new(self, slicing, rates))
            .collect();
        let values = self.grouped_outcomes(periods, as_of, rates, &mut groups)?;
        Ok(groups
            .into_iter()
            .zip(values)
            .map(|(groups, values)| groups.into_slices(values))
            .collect())
    }

    /// Per period, per group of that period's `groups`, the outcomes.
    pub(super) fn grouped_outcomes(
        &self,
        periods: &[DateRange],
        as_of: DateTime<Utc>,
        rates: &ExchangeRates,
        groups: &mut [Groups],
    ) -> Result<Vec<Vec<Outcomes>>, ConversionError> {
        let now = micros(as_of);
        let windows: Vec<_> = periods.iter().map(|p| outcome_window(*p, now)).collect();
        let mut values: Vec<Vec<Outcomes>> = periods.iter().map(|_| Vec::new()).collect();
        let mut slices = Vec::new();
        for d in 0..self.deals.id.len() {
            if self.deals.qualified_at[d].is_none_or(|at| at > now)
                || windows.iter().all(|w| !self.ever_due_in(d, w.days))
            {
                continue;
            }
            // The state now is found once for every period.
            let at_now = self.span_at(d, now);
            for (w, window) in windows.iter().enumerate() {
                if !self.ever_due_in(d, window.days) {
                    continue;
                }
                let in_period = &window.in_period;
                let at_cutoff = self.span_at(d, window.cutoff);
                let closed = self.closed_given(at_now, || at_cutoff, in_period);
                if let Some(span) = closed {
                    let tally = self.tally(span, rates)?;
                    groups[w].of(d, span, &mut slices)?;
                    fit(&mut values[w], &groups[w]);
                    for &g in &slices {
                        let outcomes = &mut values[w][g];
                        let bucket = match (self.spans.status[span], self.spans.loss[span]) {
                            (Status::Won, _) => &mut outcomes.won,
                            (_, Some(LossType::Competition)) => &mut outcomes.lost_to_competition,
                            (_, Some(LossType::NoDecision)) => &mut outcomes.lost_to_no_decision,
                            _ => &mut outcomes.excluded,
                        };
                        *bucket = *bucket + tally;
                    }
                    continue;
                }
                let Some(span) = at_cutoff else {
                    continue;
                };
                if self.spans.status[span] != Status::Open {
                    continue;
                }
                let still_due = in_period(self.spans.close_date[span]);
                if (window.over || !still_due)
                    && self.was_due_in(d, window.start, window.cutoff + 1, in_period)
                {
                    let tally = self.tally_on(span, window.period.last_day(), rates)?;
                    groups[w].of(d, span, &mut slices)?;
                    fit(&mut values[w], &groups[w]);
                    for &g in &slices {
                        values[w][g].slipped = values[w][g].slipped + tally;
                    }
                }
            }
        }
        for (values, groups) in values.iter_mut().zip(groups.iter()) {
            fit(values, groups);
        }
        Ok(values)
    }

    /// The span saying how the deal closed with a close date in the period: its state now if
    /// closed so (a win entered after the period ends still counts in it), else its state at
    /// the period's end (`cutoff`, or now while the period runs) if closed so then (a deal
    /// reopened since still counts as it stood).
    pub(super) fn closed_in(
        &self,
        deal: usize,
        cutoff: i64,
        now: i64,
        in_period: &impl Fn(i32) -> bool,
    ) -> Option<usize> {
        self.closed_given(
            self.span_at(deal, now),
            || self.span_at(deal, cutoff),
            in_period,
        )
    }

    /// As `closed_in`, for a caller that already holds the deal's span now and finds its span
    /// at the cutoff only when needed.
    pub(super) fn closed_given(
        &self,
        at_now: Option<usize>,
        at_cutoff: impl FnOnce() -> Option<usize>,
        in_period: &impl Fn(i32) -> bool,
    ) -> Option<usize> {
        let closed_due = |span: &usize| self.closed_due_in(*span, in_period);
        at_now
            .filter(closed_due)
            .or_else(|| at_cutoff().filter(closed_due))
    }

    /// Whether some span of the deal had its close date in `days` (as [`days_of`] gives
    /// them). A deal never due in a period was neither won, lost nor slipped in it, nor open
    /// in its pipeline.
    pub(super) fn ever_due_in(&self, deal: usize, (start, end): (i32, i32)) -> bool {
        let (earliest, latest) = self.deals.due[deal];
        earliest < end && latest >= start
    }

    /// Whether the deal in `span` is closed with its close date in the period.
    fn closed_due_in(&self, span: usize, in_period: &impl Fn(i32) -> bool) -> bool {
        self.spans.status[span] != Status::Open && in_period(self.spans.close_date[span])
    }

    /// Whether some span of the deal that was open during [start, end) expected to close
    /// within the period.
    fn was_due_in(
        &self,
        deal: usize,
        start: i64,
        end: i64,
        in_period: &impl Fn(i32) -> bool,
    ) -> bool {
        let mut span = self.deals.first[deal];
        while span != super::END {
            let s = span as usize;
            let next = self.spans.next[s];
            let until = if next == super::END {
                i64::MAX
            } else {
                self.spans.from[next as usize]
            };
            let overlaps = self.spans.from[s] < end && until > start;
            if overlaps
                && self.spans.status[s] == Status::Open
                && in_period(self.spans.close_date[s])
            {
                return true;
            }
            span = next;
        }
        false
    }

    pub(super) fn tally(
        &self,
        span: usize,
        rates: &ExchangeRates,
    ) -> Result<Tally, ConversionError> {
        let on =
            NaiveDate::from_num_days_from_ce_opt(self.spans.close_date[span]).unwrap_or_default();
        self.tally_on(span, on, rates)
    }

    pub(super) fn tally_on(
        &self,
        span: usize,
        on: NaiveDate,
        rates: &ExchangeRates,
    ) -> Result<Tally, ConversionError> {
        let amount = match self.currency(span) {
            Some(currency) => rates.convert(Money::new(self.spans.amount[span], currency), on)?,
            None => 0,
        };
        Ok(Tally { count: 1, amount })
    }
}

/// One period of [`Projection::grouped_outcomes`], with what every deal is judged against.
struct OutcomeWindow<F> {
    period: DateRange,
    start: i64,
    /// The end of the period has passed at the as-of moment.
    over: bool,
    /// The state that counts: at the end of the period, or now while it runs.
    cutoff: i64,
    /// The period's days, as [`days_of`] gives them.
    days: (i32, i32),
    in_period: F,
}

fn outcome_window(period: DateRange, now: i64) -> OutcomeWindow<impl Fn(i32) -> bool> {
    let (start, end) = period_micros(period);
    let over = now >= end;
    OutcomeWindow {
        period,
        start,
        over,
        cutoff: if over { end - 1 } else { now },
        days: days_of(period),
        in_period: day_in(period),
    }
}
