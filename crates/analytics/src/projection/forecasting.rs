//! What the forecast methods read from the projection: the open deals due in a period at a
//! moment, with the facts the deal model weighs; the same facts at past moments with how each
//! deal ended (the model's training set); and how each forecast category converted in past
//! periods, seen from the same point of each period.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use pipewise_core::calendar::DateRange;
use pipewise_core::exchange::{ConversionError, ExchangeRates};
use pipewise_core::ids::{OpportunityId, UserId};
use pipewise_core::opportunity::{LossType, Status};
use pipewise_core::process::{ForecastCategory, ProcessKey, StageKey};
use serde::Serialize;

use super::outcomes::{day_in, days_of, period_micros};
use super::{END, Projection, Tally, micros};

const MICROS_PER_DAY: f64 = 86_400_000_000.0;

/// What the deal model knows of an open deal at a moment. Codes are the projection's.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Facts {
    pub stage: u16,
    /// Days in the current stage over the stage's typical days.
    pub stage_age: f64,
    /// Times the expected close date moved later while the deal was open.
    pub pushes: u32,
    pub segment: u32,
    pub source: u32,
    /// A competitor was named by then.
    pub competitor: bool,
    /// Corporate minor units.
    pub amount: i64,
    /// Distinct buyer contacts reached or engaged by then.
    pub contacts: u32,
    /// Days since the latest call, e-mail or meeting (since the deal opened, if none).
    pub quiet_days: f64,
    /// Gates whose latest decision was a fail or a pause.
    pub gates_open: u32,
}

/// A deal as it stood at a past moment, and whether it was won in the end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Observation {
    pub facts: Facts,
    pub won: bool,
}

/// An open deal due in the forecast period.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenDeal {
    pub opportunity_id: OpportunityId,
    pub owner_id: UserId,
    pub process: ProcessKey,
    pub stage: StageKey,
    /// The deal's category, the rep's override included.
    pub category: ForecastCategory,
    /// Corporate minor units, converted on the as-of day.
    pub amount: i64,
    pub close_date: NaiveDate,
    pub(crate) facts: Facts,
}

/// Open pipeline of one kind at the point, and what of it was won within its period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CategoryHistoryRow {
    pub open: Tally,
    pub won: Tally,
}

impl CategoryHistoryRow {
    /// Won amount over open amount. Deals that grow before they close can take it above 1.
    pub fn rate(&self) -> Option<f64> {
        (self.open.amount > 0).then(|| self.won.amount as f64 / self.open.amount as f64)
    }
}

/// How the pipeline of past periods converted, seen from the same point of each period as
/// the forecast's moment is of its own: per category, the open deals due in the period at
/// that point and the wins among them within it; and the pipeline that came into the period
/// after the point (created, pulled in, reopened) with its wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CategoryHistory {
    pub periods: usize,
    pub categories: BTreeMap<ForecastCategory, CategoryHistoryRow>,
    pub later: CategoryHistoryRow,
}

/// What a walk along a deal's spans knows at a moment.
#[derive(Debug, Clone, Copy)]
struct Walked {
    stage_since: i64,
    pushes: u32,
}

impl Projection {
    /// Open deals at `at` whose close date falls in `period`, amounts converted on the day of
    /// `at`; those in the Omitted category are out of every forecast and left out.
    pub fn open_deals(
        &self,
        period: DateRange,
        at: DateTime<Utc>,
        rates: &ExchangeRates,
    ) -> Result<Vec<OpenDeal>, ConversionError> {
        let moment = micros(at);
        let day = at.date_naive();
        let mut deals = Vec::new();
        let mut found = Vec::new();
        let in_period = day_in(period);
        let days = days_of(period);
        for d in 0..self.deals.id.len() {
            // Most deals are closed or due elsewhere: the dates they were ever due, else the
            // state at the moment, say so without the walk that only a deal in the forecast
            // needs.
            if !self.ever_due_in(d, days) {
                continue;
            }
            let Some(span) = self.span_at(d, moment) else {
                continue;
            };
            if self.spans.status[span] != Status::Open
                || self.spans.category[span] == ForecastCategory::Omitted
                || !in_period(self.spans.close_date[span])
            {
                continue;
            }
            found.clear();
            self.walk(d, &[moment], |_, span, walked| found.push((span, walked)));
            let Some(&(span, walked)) = found.first() else {
                continue;
            };
            let close_date = self.day(span);
            let amount = self.tally_on(span, day, rates)?.amount;
            let info = &self.stages[self.spans.stage[span] as usize];
            deals.push(OpenDeal {
                opportunity_id: self.deals.id[d],
                owner_id: *self.people.value(self.spans.owner[span]),
                process: info.process.clone(),
                stage: info.stage.clone(),
                category: self.spans.category[span],
                amount,
                close_date,
                facts: self.facts(d, span, moment, walked, amount),
            });
        }
        Ok(deals)
    }

    /// Closed won with a close date in `period` as known at `at`, per owner at the win.
    pub fn won_by_owner(
        &self,
        period: DateRange,
        at: DateTime<Utc>,
        rates: &ExchangeRates,
    ) -> Result<HashMap<UserId, Tally>, ConversionError> {
        let (_, end) = period_micros(period);
        let now = micros(at);
        let in_period = day_in(period);
        let days = days_of(period);
        let mut won: HashMap<UserId, Tally> = HashMap::new();
        for d in 0..self.deals.id.len() {
            if !self.ever_due_in(d, days) {
                continue;
            }
            let Some(span) = self
                .closed_in(d, now.min(end - 1), now, &in_period)
                .filter(|s| self.spans.status[*s] == Status::Won)
            else {
                continue;
            };
            let owner = *self.people.value(self.spans.owner[span]);
            let tally = won.entry(owner).or_default();
            *tally = *tally + self.tally(span, rates)?;
        }
        Ok(won)
    }

    /// Qualified deals open at each of `moments`, as they stood then, with how they ended as
    /// known at `known_at`; deals still open then, or closed as duplicates, are left out.
    /// Only every `stride`-th deal is read, so a large history gives a sample of its deals,
    /// each at all its moments. Amounts are converted on each moment's day.
    pub(crate) fn observations(
        &self,
        moments: &[DateTime<Utc>],
        known_at: DateTime<Utc>,
        stride: usize,
        rates: &ExchangeRates,
    ) -> Result<Vec<Observation>, ConversionError> {
        let mut at: Vec<i64> = moments.iter().map(|m| micros(*m)).collect();
        at.sort_unstable();
        let known = micros(known_at);
        let mut rows = Vec::new();
        let mut found = Vec::new();
        for d in (0..self.deals.id.len()).step_by(stride.max(1)) {
            let Some(end) = self.span_at(d, known) else {
                continue;
            };
            let won = match (self.spans.status[end], self.spans.loss[end]) {
                (Status::Won, _) => true,
                (Status::Lost, Some(LossType::Duplicate)) | (Status::Open, _) => continue,
                (Status::Lost, _) => false,
            };
            found.clear();
            self.walk(d, &at, |m, span, walked| found.push((m, span, walked)));
            for &(m, span, walked) in &found {
                let open = self.spans.status[span] == Status::Open;
                let qualified = self.deals.qualified_at[d].is_some_and(|q| q <= at[m]);
                if !open || !qualified {
                    continue;
                }
                let day = DateTime::from_timestamp_micros(at[m])
                    .map_or_else(|| self.day(span), |t| t.date_naive());
                let amount = self.tally_on(span, day, rates)?.amount;
                rows.push(Observation {
                    facts: self.facts(d, span, at[m], walked, amount),
                    won,
                });
            }
        }
        Ok(rows)
    }

    /// How the pipeline of each of `periods` converted, seen from `offset_micros` after each
    /// period's start (before it, if negative), with outcomes as known at `known_at`.
    pub fn category_history(
        &self,
        periods: &[DateRange],
        offset_micros: i64,
        known_at: DateTime<Utc>,
        rates: &ExchangeRates,
    ) -> Result<CategoryHistory, ConversionError> {
        let now = micros(known_at);
        let mut history = CategoryHistory {
            periods: periods.len(),
            ..CategoryHistory::default()
        };
        // One pass over the deals for every period; each deal's state now is found once.
        let windows: Vec<_> = periods
            .iter()
            .map(|period| {
                let (start, end) = period_micros(*period);
                let point = start.saturating_add(offset_micros).min(end - 1);
                let point_day =
                    DateTime::from_timestamp_micros(point).map_or(period.start, |t| t.date_naive());
                let days = days_of(*period);
                (*period, days, end, point, point_day, day_in(*period))
            })
            .collect();
        for d in 0..self.deals.id.len() {
            if windows.iter().all(|w| !self.ever_due_in(d, w.1)) {
                continue;
            }
            let at_now = self.span_at(d, now);
            for (period, days, end, point, point_day, in_period) in &windows {
                if !self.ever_due_in(d, *days) {
                    continue;
                }
                let (period, end, point, point_day) = (*period, *end, *point, *point_day);
                let won = self
                    .closed_given(at_now, || self.span_at(d, now.min(end - 1)), in_period)
                    .filter(|s| self.spans.status[*s] == Status::Won)
                    .map(|s| self.tally(s, rates))
                    .transpose()?;
                let at_point = self.span_at(d, point);
                let row = match at_point {
                    Some(s) if in_period(self.spans.close_date[s]) => {
                        match (self.spans.status[s], self.spans.category[s]) {
                            // Closed by the point, or left out of every forecast.
                            (Status::Won | Status::Lost, _) | (_, ForecastCategory::Omitted) => {
                                continue;
                            }
                            (Status::Open, category) => {
                                let row = history.categories.entry(category).or_default();
                                row.open = row.open + self.tally_on(s, point_day, rates)?;
                                row
                            }
                        }
                    }
                    _ => {
                        let entered = self.entered_after(d, at_point, end, now, in_period);
                        let open = match (entered, won) {
                            (Some(span), _) => {
                                let day = DateTime::from_timestamp_micros(self.spans.from[span])
                                    .map_or(period.start, |t| t.date_naive());
                                self.tally_on(span, day, rates)?
                            }
                            (None, Some(won)) => won,
                            (None, None) => continue,
                        };
                        history.later.open = history.later.open + open;
                        &mut history.later
                    }
                };
                if let Some(won) = won {
                    row.won = row.won + won;
                }
            }
        }
        Ok(history)
    }

    /// The first span after `after` (from the deal's start if `None`) that began before both
    /// `end` and `now` and is open and due in the period.
    fn entered_after(
        &self,
        deal: usize,
        after: Option<usize>,
        end: i64,
        now: i64,
        in_period: &impl Fn(i32) -> bool,
    ) -> Option<usize> {
        let mut span = match after {
            Some(s) => self.spans.next[s],
            None => self.deals.first[deal],
        };
        while span != END {
            let s = span as usize;
            if self.spans.from[s] >= end.min(now.saturating_add(1)) {
                return None;
            }
            if self.spans.status[s] == Status::Open && in_period(self.spans.close_date[s]) {
                return Some(s);
            }
            span = self.spans.next[s];
        }
        None
    }

    /// Walks a deal's spans once, calling `visit` with each of `moments` (ascending) at or
    /// after the deal's creation, the span in force then, and what the walk knows by then.
    fn walk(&self, deal: usize, moments: &[i64], mut visit: impl FnMut(usize, usize, Walked)) {
        let s = &self.spans;
        let mut span = self.deals.first[deal] as usize;
        let mut walked = Walked {
            stage_since: s.from[span],
            pushes: 0,
        };
        let mut m = moments.partition_point(|at| *at < s.from[span]);
        while m < moments.len() {
            let next = s.next[span];
            let next_from = if next == END {
                i64::MAX
            } else {
                s.from[next as usize]
            };
            while m < moments.len() && moments[m] < next_from {
                visit(m, span, walked);
                m += 1;
            }
            if next == END {
                break;
            }
            let n = next as usize;
            if s.status[n] == Status::Open {
                let was_open = s.status[span] == Status::Open;
                if !was_open || s.stage[n] != s.stage[span] {
                    walked.stage_since = s.from[n];
                }
                if was_open && s.close_date[n] > s.close_date[span] {
                    walked.pushes += 1;
                }
            }
            span = n;
        }
    }

    fn facts(&self, deal: usize, span: usize, at: i64, walked: Walked, amount: i64) -> Facts {
        let stage = self.spans.stage[span];
        let days = (at - walked.stage_since).max(0) as f64 / MICROS_PER_DAY;
        let buyers = self.signals.at(deal, at);
        let opened = self.spans.from[self.deals.first[deal] as usize];
        let quiet = at - buyers.last_touch.unwrap_or(opened).max(opened);
        Facts {
            stage,
            stage_age: days / f64::from(self.stages[stage as usize].typical_days),
            pushes: walked.pushes,
            segment: self.deals.segment[deal],
            source: self.deals.source[deal],
            competitor: self.deals.competitor_since[deal] <= at,
            amount,
            contacts: buyers.contacts,
            quiet_days: quiet.max(0) as f64 / MICROS_PER_DAY,
            gates_open: buyers.gates_open,
        }
    }

    /// Every deal closed as known at `known_at` (duplicates aside), as it stood when it
    /// closed: the stage it closed from, its segment, source and competitor then.
    pub(crate) fn closed_deals(&self, known_at: DateTime<Utc>) -> Vec<Observation> {
        let known = micros(known_at);
        let mut rows = Vec::new();
        for d in 0..self.deals.id.len() {
            let Some(span) = self.span_at(d, known) else {
                continue;
            };
            let won = match (self.spans.status[span], self.spans.loss[span]) {
                (Status::Won, _) => true,
                (Status::Lost, Some(LossType::Duplicate)) | (Status::Open, _) => continue,
                (Status::Lost, _) => false,
            };
            let at = self.spans.from[span];
            rows.push(Observation {
                facts: Facts {
                    stage: self.spans.stage[span],
                    segment: self.deals.segment[d],
                    source: self.deals.source[d],
                    competitor: self.deals.competitor_since[d] <= at,
                    ..Facts::default()
                },
                won,
            });
        }
        rows
    }

    /// The code of a stage, if any deal's process has it.
    pub(crate) fn stage_code_of(&self, process: &ProcessKey, stage: &StageKey) -> Option<u16> {
        self.stage_code(process, stage).ok()
    }

    /// The process and key of a stage code.
    pub(crate) fn stage_key(&self, code: u16) -> (&ProcessKey, &StageKey) {
        let info = &self.stages[code as usize];
        (&info.process, &info.stage)
    }

    /// The text of a segment, source or competitor code; `none` for none.
    pub(crate) fn label_text(&self, code: u32) -> &str {
        if code == super::NONE {
            "none"
        } else {
            self.labels.value(code).as_str()
        }
    }

    fn day(&self, span: usize) -> NaiveDate {
        NaiveDate::from_num_days_from_ce_opt(self.spans.close_date[span]).unwrap_or_default()
    }
}
