//! Stage metrics of DESIGN §4 from stage *visits* (a deal's stay in one stage, from entering
//! it until it moves or closes): time in stage with its median and P75 and the aging flag, and
//! stage-to-stage conversion.

use chrono::{DateTime, Utc};
use pipewise_core::calendar::DateRange;
use pipewise_core::opportunity::Status;
use pipewise_core::process::{Process, StageKey};
use pipewise_core::stats::nearest_rank_by;
use serde::Serialize;

use pipewise_core::exchange::{ConversionError, ExchangeRates};

use super::outcomes::period_micros;
use super::slicing::{Groups, whole};
use super::{END, Projection, Slice, Slicing, micros, sorted_moments};

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

/// Of the deals that entered a stage during a window, how many were won and how many lost
/// as known at some moment: the step into a win of [`Conversion`], whose rate is the stage's
/// win probability.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageWins {
    pub stage: StageKey,
    pub won: u64,
    pub lost: u64,
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

    /// Each stage code's position in `process`, by key, so a stage a later version removed or
    /// moved is not mistaken for the one now at its old position.
    fn positions(&self, process: &Process) -> Vec<Option<usize>> {
        self.stages
            .iter()
            .map(|info| {
                (info.process == process.key)
                    .then(|| process.position(&info.stage))
                    .flatten()
            })
            .collect()
    }

    /// Time in each stage of `process`: completed visits that ended in `window`, and the
    /// deals in each stage at `as_of` with the aging flag against that stage's P75.
    pub fn time_in_stage(
        &self,
        process: &Process,
        window: DateRange,
        as_of: DateTime<Utc>,
    ) -> Vec<StageTime> {
        self.time_in_stage_over(process, &[window], as_of)
            .pop()
            .unwrap_or_default()
    }

    /// [`Projection::time_in_stage`] for each of `windows`, in one pass over the deals: a
    /// trend over eight quarters costs about one quarter.
    pub fn time_in_stage_over(
        &self,
        process: &Process,
        windows: &[DateRange],
        as_of: DateTime<Utc>,
    ) -> Vec<Vec<StageTime>> {
        self.grouped_time_in_stage(process, windows, as_of, &mut Groups::whole(self))
            .map(|per_window| per_window.into_iter().map(|w| whole(Ok(w))).collect())
            .unwrap_or_default()
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
        let values = self.grouped_time_in_stage(process, &[window], as_of, &mut groups)?;
        Ok(groups.into_slices(values.into_iter().next().unwrap_or_default()))
    }

    /// Per window, per group, the time in each stage. A deal's group is that of its state at
    /// `as_of`, whatever the window, so one set of groups serves them all.
    fn grouped_time_in_stage(
        &self,
        process: &Process,
        windows: &[DateRange],
        as_of: DateTime<Utc>,
        groups: &mut Groups,
    ) -> Result<Vec<Vec<Vec<StageTime>>>, ConversionError> {
        let bounds: Vec<(i64, i64)> = windows.iter().map(|w| period_micros(*w)).collect();
        let now = micros(as_of);
        let n = process.stages().len();
        let positions = self.positions(process);
        // Per window, group and stage, completed visits' days; per group and stage, open
        // visits' ages.
        let mut durations: Vec<Vec<Vec<Vec<f64>>>> = vec![Vec::new(); windows.len()];
        let mut open_ages: Vec<Vec<Vec<f64>>> = Vec::new();
        let mut slices = Vec::new();
        let mut visits = Vec::new();
        for d in 0..self.deals.id.len() {
            self.visits(d, now, &mut visits);
            if visits.is_empty() {
                continue;
            }
            let state = self.span_at(d, now).unwrap_or(self.deals.last[d] as usize);
            groups.of(d, state, &mut slices)?;
            open_ages.resize_with(groups.len(), || vec![Vec::new(); n]);
            for durations in &mut durations {
                durations.resize_with(groups.len(), || vec![Vec::new(); n]);
            }
            for visit in &visits {
                let Some(p) = positions[visit.stage as usize] else {
                    continue;
                };
                let Some(left) = visit.until else {
                    let age = (now - visit.from) as f64 / MICROS_PER_DAY;
                    for &g in &slices {
                        open_ages[g][p].push(age);
                    }
                    continue;
                };
                let days = (left - visit.from) as f64 / MICROS_PER_DAY;
                for (w, &(start, end)) in bounds.iter().enumerate() {
                    if left >= start && left < end {
                        for &g in &slices {
                            durations[w][g][p].push(days);
                        }
                    }
                }
            }
        }
        open_ages.resize_with(groups.len(), || vec![Vec::new(); n]);
        Ok(durations
            .into_iter()
            .map(|mut durations| {
                durations.resize_with(groups.len(), || vec![Vec::new(); n]);
                durations
                    .into_iter()
                    .zip(&open_ages)
                    .map(|(durations, open_ages)| stage_times(process, durations, open_ages))
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
        self.conversions_over(process, &[window], as_of)
            .pop()
            .unwrap_or_default()
    }

    /// [`Projection::conversions`] for each of `windows`, in one pass over the deals.
    pub fn conversions_over(
        &self,
        process: &Process,
        windows: &[DateRange],
        as_of: DateTime<Utc>,
    ) -> Vec<Vec<Conversion>> {
        let mut groups: Vec<Groups> = windows.iter().map(|_| Groups::whole(self)).collect();
        self.grouped_conversions(process, windows, as_of, &mut groups)
            .map(|per_window| per_window.into_iter().map(|w| whole(Ok(w))).collect())
            .unwrap_or_default()
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
        let mut groups = [Groups::new(self, slicing, rates)];
        let values = self.grouped_conversions(process, &[window], as_of, &mut groups)?;
        let [groups] = groups;
        Ok(groups.into_slices(values.into_iter().next().unwrap_or_default()))
    }

    /// [`StageWins`] of each stage of `process`, in process order, for deals that entered it
    /// during `window`, as known at each of `moments`: the conversions into a win at many
    /// moments in one pass, so the weeks of a backtest share it.
    pub fn stage_wins_at(
        &self,
        process: &Process,
        window: DateRange,
        moments: &[DateTime<Utc>],
    ) -> Vec<Vec<StageWins>> {
        let (start, end) = period_micros(window);
        let n = process.stages().len();
        let positions = self.positions(process);
        let (order, times) = sorted_moments(moments);
        // Per moment (sorted) and stage: won, lost.
        let mut counts = vec![(0u64, 0u64); times.len() * n];
        // The stages the deal entered in the window, with when it first did.
        let mut entered: Vec<(usize, i64)> = Vec::new();
        for d in 0..self.deals.id.len() {
            let first = self.spans.from[self.deals.first[d] as usize];
            let last = self.spans.from[self.deals.last[d] as usize];
            if last < start || first >= end {
                continue;
            }
            // A deal unchanged since before the first moment is as its latest span says at
            // every moment: still open, it counts at none of them.
            if times.first().is_some_and(|t| last <= *t)
                && self.spans.status[self.deals.last[d] as usize] == Status::Open
            {
                continue;
            }
            // A visit starts where the deal opens, or moves to another stage while open, as
            // `visits` finds them.
            entered.clear();
            let mut span = self.deals.first[d];
            let mut previous: Option<usize> = None;
            while span != END && self.spans.from[span as usize] < end {
                let s = span as usize;
                let stage = self.spans.stage[s];
                let starts = self.spans.status[s] == Status::Open
                    && previous.is_none_or(|p| {
                        self.spans.status[p] != Status::Open || self.spans.stage[p] != stage
                    });
                if starts
                    && self.spans.from[s] >= start
                    && let Some(i) = positions[stage as usize]
                    && entered.iter().all(|(e, _)| *e != i)
                {
                    entered.push((i, self.spans.from[s]));
                }
                previous = Some(s);
                span = self.spans.next[s];
            }
            if entered.is_empty() {
                continue;
            }
            // Each closed span counts at the moments it covers, as the deal's state then.
            for (s, covered) in self.spans_over(d, &times) {
                let won = match self.spans.status[s] {
                    Status::Open => continue,
                    Status::Won => true,
                    Status::Lost => false,
                };
                for k in covered {
                    for &(i, _) in entered.iter().filter(|(_, since)| *since <= times[k]) {
                        let (w, l) = &mut counts[k * n + i];
                        if won {
                            *w += 1;
                        } else {
                            *l += 1;
                        }
                    }
                }
            }
        }
        let mut wins = vec![Vec::new(); moments.len()];
        for (k, &(_, moment)) in order.iter().enumerate() {
            wins[moment] = process
                .stages()
                .iter()
                .zip(&counts[k * n..(k + 1) * n])
                .map(|(stage, &(won, lost))| StageWins {
                    stage: stage.key.clone(),
                    won,
                    lost,
                })
                .collect();
        }
        wins
    }

    /// Per window, per group of that window's `groups`, the conversions.
    fn grouped_conversions(
        &self,
        process: &Process,
        windows: &[DateRange],
        as_of: DateTime<Utc>,
        groups: &mut [Groups],
    ) -> Result<Vec<Vec<Vec<Conversion>>>, ConversionError> {
        let bounds: Vec<(i64, i64)> = windows.iter().map(|w| period_micros(*w)).collect();
        let now = micros(as_of);
        let n = process.stages().len();
        let positions = self.positions(process);
        let mut counts: Vec<Vec<StepCounts>> = windows.iter().map(|_| Vec::new()).collect();
        let mut slices = Vec::new();
        let mut visits = Vec::new();
        // Per visit, the furthest stage of the process reached from it on.
        let mut furthest: Vec<Option<usize>> = Vec::new();
        // Per window and stage, the deal's first visit entering the stage in the window.
        let mut entries: Vec<Option<usize>> = vec![None; windows.len() * n];
        // Visits starting outside every window skip the search.
        let earliest = bounds.iter().map(|(start, _)| *start).min().unwrap_or(0);
        let latest = bounds.iter().map(|(_, end)| *end).max().unwrap_or(0);
        for d in 0..self.deals.id.len() {
            // Visits start when spans do: a deal whose spans all start outside the windows
            // entered no stage in them.
            let first = self.spans.from[self.deals.first[d] as usize];
            let last = self.spans.from[self.deals.last[d] as usize];
            if last < earliest || first >= latest {
                continue;
            }
            self.visits(d, now, &mut visits);
            entries.fill(None);
            let mut entered = false;
            for (k, visit) in visits.iter().enumerate() {
                let Some(i) = positions[visit.stage as usize] else {
                    continue;
                };
                if visit.from < earliest || visit.from >= latest {
                    continue;
                }
                for (w, &(start, end)) in bounds.iter().enumerate() {
                    let first = &mut entries[w * n + i];
                    if first.is_none() && visit.from >= start && visit.from < end {
                        *first = Some(k);
                        entered = true;
                    }
                }
            }
            if !entered {
                continue;
            }
            furthest.clear();
            furthest.resize(visits.len(), None);
            let mut reached = None;
            for k in (0..visits.len()).rev() {
                reached = reached.max(positions[visits[k].stage as usize]);
                furthest[k] = reached;
            }
            let last = self.deals.last[d] as usize;
            let state = self.span_at(d, now).unwrap_or(last);
            let won = self.spans.status[state] == Status::Won;
            let open = self.spans.status[state] == Status::Open;
            for (w, entries) in entries.chunks(n).enumerate() {
                let mut grouped = false;
                for (i, first) in entries.iter().enumerate() {
                    let Some(first) = *first else {
                        continue;
                    };
                    if !grouped {
                        groups[w].of(d, state, &mut slices)?;
                        counts[w].resize_with(groups[w].len(), || StepCounts::new(n));
                        grouped = true;
                    }
                    let furthest_after = furthest[first].unwrap_or(i);
                    for &g in &slices {
                        let c = &mut counts[w][g];
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
        }
        let key = |p: usize| process.stages()[p].key.clone();
        let target = |p: usize| {
            if p == n {
                "won".to_owned()
            } else {
                key(p).to_string()
            }
        };
        Ok(counts
            .into_iter()
            .zip(groups.iter())
            .map(|(mut counts, groups)| {
                counts.resize_with(groups.len(), || StepCounts::new(n));
                counts
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
                    .collect()
            })
            .collect())
    }
}

/// Each stage's time from the days of its completed visits and the ages of its open ones.
fn stage_times(
    process: &Process,
    mut durations: Vec<Vec<f64>>,
    open_ages: &[Vec<f64>],
) -> Vec<StageTime> {
    process
        .stages()
        .iter()
        .enumerate()
        .map(|(p, stage)| {
            let done = &mut durations[p];
            let p75 = nearest_rank_by(done, 75, f64::total_cmp);
            StageTime {
                stage: stage.key.clone(),
                completed: done.len(),
                median_days: nearest_rank_by(done, 50, f64::total_cmp),
                p75_days: p75,
                open: open_ages[p].len(),
                aging: p75.map_or(0, |limit| {
                    open_ages[p].iter().filter(|age| **age > limit).count()
                }),
            }
        })
        .collect()
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
