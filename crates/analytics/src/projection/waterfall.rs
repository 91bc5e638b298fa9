//! The pipeline waterfall of DESIGN §4: how the open pipeline with close dates in a period
//! changed between two moments, line by line, reconciling exactly.

use chrono::{DateTime, NaiveDate, Utc};
use pipewise_core::calendar::DateRange;
use pipewise_core::exchange::{ConversionError, ExchangeRates};
use pipewise_core::money::Money;
use pipewise_core::opportunity::Status;
use serde::Serialize;

use super::outcomes::day_in;
use super::slicing::{Groups, fit};
use super::{END, Projection, Slice, Slicing, Tally, micros};

/// Open pipeline in a period at `from`, the changes until `to`, and the pipeline at `to`:
/// `start + created + pulled_in + reopened − pushed_out ± amount_changes − won − lost = end`,
/// by count and to the cent (amounts converted at one rate, that of `to`'s day).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Waterfall {
    pub start: Tally,
    /// New deals due in the period.
    pub created: Tally,
    /// Open deals whose close date moved into the period.
    pub pulled_in: Tally,
    /// Closed deals reopened with a close date in the period.
    pub reopened: Tally,
    /// Deals whose close date moved out of the period (amount leaving, so positive here).
    pub pushed_out: Tally,
    /// Net change of the amounts of deals that stayed in (count 0).
    pub amount_changes: Tally,
    pub won: Tally,
    pub lost: Tally,
    pub end: Tally,
}

impl Waterfall {
    /// Adds `other` line by line.
    fn add(&mut self, other: &Waterfall) {
        let theirs = other.lines();
        for (mine, theirs) in self.lines_mut().into_iter().zip(theirs) {
            *mine = *mine + theirs;
        }
    }

    fn lines(&self) -> [Tally; 9] {
        let mut copy = *self;
        copy.lines_mut().map(|line| *line)
    }

    fn lines_mut(&mut self) -> [&mut Tally; 9] {
        [
            &mut self.start,
            &mut self.created,
            &mut self.pulled_in,
            &mut self.reopened,
            &mut self.pushed_out,
            &mut self.amount_changes,
            &mut self.won,
            &mut self.lost,
            &mut self.end,
        ]
    }

    /// `start` plus the lines, which always equals `end`.
    pub fn reconciled(&self) -> Tally {
        let inflow =
            self.start + self.created + self.pulled_in + self.reopened + self.amount_changes;
        let outflow = self.pushed_out + self.won + self.lost;
        Tally {
            count: inflow.count.saturating_sub(outflow.count),
            amount: inflow.amount.saturating_sub(outflow.amount),
        }
    }
}

/// A deal's standing at one moment: in the period's open pipeline or not, and its amount.
#[derive(Clone, Copy)]
struct Standing {
    exists: bool,
    open: bool,
    due_in: bool,
    status: Status,
    amount: i64,
}

impl Standing {
    fn counted(&self) -> bool {
        self.exists && self.open && self.due_in
    }
}

impl Projection {
    /// The waterfall of the open pipeline with close dates in `period` from `from` to `to`.
    pub fn waterfall(
        &self,
        period: DateRange,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        rates: &ExchangeRates,
    ) -> Result<Waterfall, ConversionError> {
        let whole = self.grouped_waterfall(period, from, to, rates, &mut Groups::whole(self))?;
        Ok(whole.into_iter().next().unwrap_or_default())
    }

    /// [`Projection::waterfall`] broken down by `slicing`, each deal wholly in the slices of
    /// its state at `to`, so every slice reconciles too.
    pub fn waterfall_by(
        &self,
        period: DateRange,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        rates: &ExchangeRates,
        slicing: &Slicing,
    ) -> Result<Vec<Slice<Waterfall>>, ConversionError> {
        let mut groups = Groups::new(self, slicing, rates);
        let values = self.grouped_waterfall(period, from, to, rates, &mut groups)?;
        Ok(groups.into_slices(values))
    }

    fn grouped_waterfall(
        &self,
        period: DateRange,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        rates: &ExchangeRates,
        groups: &mut Groups,
    ) -> Result<Vec<Waterfall>, ConversionError> {
        let (t0, t1) = (micros(from), micros(to));
        let on = to.date_naive();
        let in_period = day_in(period);
        let mut values: Vec<Waterfall> = Vec::new();
        let mut slices = Vec::new();
        for d in 0..self.deals.id.len() {
            let Some(at_end) = self.span_at(d, t1) else {
                continue;
            };
            let mut w = Waterfall::default();
            let at_start = self.span_at(d, t0);
            // Closed before `from` and unchanged since: in neither end nor any line.
            if at_start == Some(at_end) && self.spans.status[at_end] != Status::Open {
                continue;
            }
            let mut before = match at_start {
                Some(span) => self.standing(span, &in_period, on, rates)?,
                None => Standing {
                    exists: false,
                    open: false,
                    due_in: false,
                    status: Status::Open,
                    amount: 0,
                },
            };
            if before.counted() {
                w.start = add(w.start, 1, before.amount);
            }
            // Every change after `from` up to `to`.
            let mut span = match at_start {
                Some(s) => self.spans.next[s],
                None => self.deals.first[d],
            };
            while span != END && self.spans.from[span as usize] <= t1 {
                let after = self.standing(span as usize, &in_period, on, rates)?;
                classify(&mut w, before, after);
                before = after;
                span = self.spans.next[span as usize];
            }
            if before.counted() {
                w.end = add(w.end, 1, before.amount);
            }
            if w == Waterfall::default() {
                continue;
            }
            groups.of(d, at_end, &mut slices)?;
            fit(&mut values, groups);
            for &g in &slices {
                values[g].add(&w);
            }
        }
        fit(&mut values, groups);
        Ok(values)
    }

    fn standing(
        &self,
        span: usize,
        in_period: &impl Fn(i32) -> bool,
        on: NaiveDate,
        rates: &ExchangeRates,
    ) -> Result<Standing, ConversionError> {
        let amount = match self.currency(span) {
            Some(currency) => rates.convert(Money::new(self.spans.amount[span], currency), on)?,
            None => 0,
        };
        let due = in_period(self.spans.close_date[span]);
        let status = self.spans.status[span];
        Ok(Standing {
            exists: true,
            open: status == Status::Open,
            due_in: due,
            status,
            amount,
        })
    }
}

fn add(t: Tally, count: u64, amount: i64) -> Tally {
    t + Tally { count, amount }
}

/// Books one change of a deal on the waterfall's lines.
fn classify(w: &mut Waterfall, before: Standing, after: Standing) {
    match (before.counted(), after.counted()) {
        (false, true) if !before.exists => w.created = add(w.created, 1, after.amount),
        (false, true) if before.open => w.pulled_in = add(w.pulled_in, 1, after.amount),
        (false, true) => w.reopened = add(w.reopened, 1, after.amount),
        (true, false) => match after.status {
            Status::Won => w.won = add(w.won, 1, before.amount),
            Status::Lost => w.lost = add(w.lost, 1, before.amount),
            Status::Open => w.pushed_out = add(w.pushed_out, 1, before.amount),
        },
        (true, true) => w.amount_changes = add(w.amount_changes, 0, after.amount - before.amount),
        (false, false) => {}
    }
}
