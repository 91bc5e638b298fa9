//! Stage metrics of DESIGN §4 from stage *visits* (a deal's stay in one stage, from entering
//! it until it moves or closes): time in stage with its median and P75 and the aging flag, and
//! stage-to-stage conversion.

use chrono::{DateTime, Utc};
use pipewise_core::calendar::DateRange;
use pipewise_core::opportunity::Status;
use pipewise_core::process::{Process, StageKey};
use pipewise_core::stats::nearest_rank;
use serde::Serialize;

use pipewise_core::exchange::{ConversionError, ExchangeRates};

use super::outcomes::period_micros;
use super::slicing::{Groups, whole};
use super::{END, Projection, Slice, Slicing, micros};

const MICROS_PER_DAY: f64 = 86_400_000_000.0;

/// One stay of a deal in a stage.
#[derive(Debug, Clone, Copy)]
struct Visit {
    stage: u16,
    from: i64,
    /// When the deal left the stage (moved or closed); `None` while it is there.
    until: Option<i64>,
}

/// Time in one stage.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StageTime {
    pub stage: StageKey,
    /// Visits that ended in the window.
    pub completed: usize,
    /// Median and 75th percentile (nearest rank) of completed visits, in days.
    pub median_days: Option<f64>,
    pub p75_days: Option<f64>,
    /// Deals in the stage at the as-of moment.
    pub open: usize,
    /// Of those, how many have been there longer than the P75: the aging flag.
    pub aging: usize,
}

/// Of the deals that entered `from` in the window, how many later reached `to` (a later
/// stage or a win counts; `to` is `won` for the step into a win), how many are still open
/// without having reached it, and the rest lost on the way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Conversion {
    pub from: StageKey,
    /// A later stage, or `won`.
    pub to: String,
    /// From a stage to the next one: the headline transitions.
    pub documented: bool,
    pub entered: u64,
    pub reached: u64,
    pub still_open: u64,
}

impl Conversion {
    pub fn rate(&self) -> Option<f64> {
        (self.entered > 0).then(|| self.reached as f64 / self.entered as f64)
    }
}

impl Projection {
    /// The deal's visits that started by `until`, into `visits` (cleared first; reused
    /// across deals so a scan allocates once).
    fn visits(&self, deal: usize, until: i64, visits: &mut Vec<Visit>) {
        visits.clear();
        let mut span = self.deals.first[deal];
        while span != END {
            let s = span as usize;
            let at = self.spans.from[s];
            if at > until {
                break;
            }
            let open = self.spans.status[s] == Status::Open;
            let stage = self.spans.stage[s];
            let current = visits.last_mut().filter(|v| v.until.is_none());
            match current {
                Some(v) if open && v.stage == stage => {}
                Some(v) => {
                    v.until = Some(at);
                    if open {
                        visits.push(Visit {
                            stage,
                            from: at,
                            until: None,
                        });
                    }
                }
                None if open => visits.push(Visit {
                    stage,
                    from: at,
                    until: None,
                }),
                None => {}
            }
            span = self.spans.next[s];
        }
    }

    /// Time in each stage of `process`: completed visits that ended in `window`, and the
    /// deals in each stage at `as_of` with the aging flag against that stage's P75.
    pub fn time_in_stage(
        &self,
        process: &Process,
        window: DateRange,
        as_of: DateTime<Utc>,
    ) -> Vec<StageTime> {
        whole(self.grouped_time_in_stage(process, window, as_of, &mut Groups::whole(self)))
    }

    /// [`Projection::time_in_stage`] broken down by `slicing`, each deal by its state at
    /// `as_of`; every slice judges aging against its own P75.
    pub fn time_in_stage_by(
        &self,
        process: &Process,
        window: DateRange,
        as_of: DateTime<Utc>,
        rates: &ExchangeRates,
        slicing: &Slicing,
    ) -> Result<Vec<Slice<Vec<StageTime>>>, ConversionError> {
        let mut groups = Groups::new(self, slicing, rates);
        let values = self.grouped_time_in_stage(process, window, as_of, &mut groups)?;
        Ok(groups.into_slices(values))
    }

    fn grouped_time_in_stage(
        &self,
        process: &Process,
        window: DateRange,
        as_of: DateTime<Utc>,
        groups: &mut Groups,
    ) -> Result<Vec<Vec<StageTime>>, ConversionError> {
        let (start, end) = period_micros(window);
        let now = micros(as_of);
        let stages: Vec<Option<u16>> = process
            .stages()
            .iter()
            .map(|s| {
                self.stage_codes
                    .get(&(process.key.clone(), s.key.clone()))
                    .copied()
            })
            .collect();
        // Per group and stage: completed visits' days, and open visits' ages.
        let mut durations: Vec<Vec<Vec<f64>>> = Vec::new();
        let mut open_ages: Vec<Vec<Vec<f64>>> = Vec::new();
        let position = |code: u16| stages.iter().position(|s| *s == Some(code));
        let mut slices = Vec::new();
        let mut visits = Vec::new();
        for d in 0..self.deals.id.len() {
            self.visits(d, now, &mut visits);
            if visits.is_empty() {
                continue;
            }
            let state = self.span_at(d, now).unwrap_or(self.deals.last[d] as usize);
            groups.of(d, state, &mut slices)?;
            durations.resize_with(groups.len(), || vec![Vec::new(); stages.len()]);
            open_ages.resize_with(groups.len(), || vec![Vec::new(); stages.len()]);
            for visit in &visits {
                let Some(p) = position(visit.stage) else {
                    continue;
                };
                for &g in &slices {
                    match visit.until {
                        Some(left) if left >= start && left < end => {
                            durations[g][p].push((left - visit.from) as f64 / MICROS_PER_DAY);
                        }
                        None => open_ages[g][p].push((now - visit.from) as f64 / MICROS_PER_DAY),
                        Some(_) => {}
                    }
                }
            }
        }
        durations.resize_with(groups.len(), || vec![Vec::new(); stages.len()]);
        open_ages.resize_with(groups.len(), || vec![Vec::new(); stages.len()]);
        Ok(durations
            .into_iter()
            .zip(open_ages)
            .map(|(mut durations, open_ages)| {
                process
                    .stages()
                    .iter()
                    .enumerate()
                    .map(|(p, stage)| {
                        let mut done = std::mem::take(&mut durations[p]);
                        done.sort_by(f64::total_cmp);
                        let p75 = nearest_rank(&done, 75);
                        StageTime {
                            stage: stage.key.clone(),
                            completed: done.len(),
                            median_days: nearest_rank(&done, 50),
                            p75_days: p75,
                            open: open_ages[p].len(),
                            aging: p75.map_or(0, |limit| {
                                open_ages[p].iter().filter(|age| **age > limit).count()
                            }),
                        }
                    })
                    .collect()
            })
            .collect())
    }

    /// Conversion from every stage of `process` to every later one and to a win, for deals
    /// that entered the earlier stage during `window`, as known at `as_of`. The documented
    /// transitions are those to the next stage, and from the last stage to a win.
    pub fn conversions(
        &self,
        process: &Process,
        window: DateRange,
        as_of: DateTime<Utc>,
    ) -> Vec<Conversion> {
        whole(self.grouped_conversions(process, window, as_of, &mut Groups::whole(self)))
    }

    /// [`Projection::conversions`] broken down by `slicing`, each deal by its state at
    /// `as_of`.
    pub fn conversions_by(
        &self,
        process: &Process,
        window: DateRange,
        as_of: DateTime<Utc>,
        rates: &ExchangeRates,
        slicing: &Slicing,
    ) -> Result<Vec<Slice<Vec<Conversion>>>, ConversionError> {
        let mut groups = Groups::new(self, slicing, rates);
        let values = self.grouped_conversions(process, window, as_of, &mut groups)?;
        Ok(groups.into_slices(values))
    }

    fn grouped_conversions(
        &self,
        process: &Process,
        window: DateRange,
        as_of: DateTime<Utc>,
        groups: &mut Groups,
    ) -> Result<Vec<Vec<Conversion>>, ConversionError> {
        let (start, end) = period_micros(window);
        let now = micros(as_of);
        let n = process.stages().len();
        // Each stage code's position in `process` by key, so a stage a later version removed
        // or moved is not mistaken for the one now at its old position.
        let positions: Vec<Option<usize>> = self
            .stages
            .iter()
            .map(|info| {
                (info.process == process.key)
                    .then(|| process.position(&info.stage))
                    .flatten()
            })
            .collect();
        let mut counts: Vec<StepCounts> = Vec::new();
        let mut slices = Vec::new();
        let mut visits = Vec::new();
        for d in 0..self.deals.id.len() {
            self.visits(d, now, &mut visits);
            let in_process = |code: u16| positions[code as usize];
            let last = self.deals.last[d] as usize;
            let state = self.span_at(d, now).unwrap_or(last);
            let won = self.spans.status[state] == Status::Won;
            let open = self.spans.status[state] == Status::Open;
            let mut grouped = false;
            for i in 0..n {
                let Some(first_entry) = visits.iter().position(|v| {
                    in_process(v.stage) == Some(i) && v.from >= start && v.from < end
                }) else {
                    continue;
                };
                if !grouped {
                    groups.of(d, state, &mut slices)?;
                    counts.resize_with(groups.len(), || StepCounts::new(n));
                    grouped = true;
                }
                let furthest_after = visits[first_entry..]
                    .iter()
                    .filter_map(|v| in_process(v.stage))
                    .max()
                    .unwrap_or(i);
                for &g in &slices {
                    let c = &mut counts[g];
                    c.entered[i] += 1;
                    for j in i + 1..=n {
                        if won || (j < n && furthest_after >= j) {
                            c.reached[i][j] += 1;
                        } else if open {
                            c.still_open[i][j] += 1;
                        }
                    }
                }
            }
        }
        counts.resize_with(groups.len(), || StepCounts::new(n));
        let key = |p: usize| process.stages()[p].key.clone();
        let target = |p: usize| {
            if p == n {
                "won".to_owned()
            } else {
                key(p).to_string()
            }
        };
        Ok(counts
            .iter()
            .map(|c| {
                (0..n)
                    .flat_map(|i| (i + 1..=n).map(move |j| (i, j)))
                    .map(|(i, j)| Conversion {
                        from: key(i),
                        to: target(j),
                        documented: j == i + 1,
                        entered: c.entered[i],
                        reached: c.reached[i][j],
                        still_open: c.still_open[i][j],
                    })
                    .collect()
            })
            .collect())
    }
}

/// Conversion counts of one slice: per stage entered, and per pair of stages (column `n` is
/// the win).
struct StepCounts {
    entered: Vec<u64>,
    reached: Vec<Vec<u64>>,
    still_open: Vec<Vec<u64>>,
}

impl StepCounts {
    fn new(n: usize) -> Self {
        Self {
            entered: vec![0; n],
            reached: vec![vec![0; n + 1]; n],
            still_open: vec![vec![0; n + 1]; n],
        }
    }
}
