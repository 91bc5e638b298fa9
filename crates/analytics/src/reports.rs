//! The reports of `pipewise report` and of the API's report endpoints, each assembled here
//! from the projection and the workspace's settings, so both give the same numbers in the
//! same shape. Rendering (table, CSV, JSON) is the caller's.

mod diagnosis;
mod views;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Months, NaiveDate, NaiveTime, Utc};
use pipewise_core::calendar::{DateRange, FiscalCalendar, Period};
use pipewise_core::crm::{Target, TargetOwner, targets_of};
use pipewise_core::exchange::{ConversionError, ExchangeRates};
use pipewise_core::ids::{TeamId, UserId};
use pipewise_core::money::Currency;
use pipewise_core::process::{Process, ProcessKey, ProcessSet};
use serde::Serialize;

use crate::{
    CoverageMode, Dimension, FunnelBenchmarks, Projection, SizeBands, Slice, SliceContext, Slicing,
    pipeline_for_coverage, target_stack,
};

pub use diagnosis::DiagnosisReport;
pub use views::*;

/// The reports there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReportName {
    Outcomes,
    Pipeline,
    Snapshots,
    Conversion,
    TimeInStage,
    Waterfall,
    Velocity,
    LossMix,
    Coverage,
    Diagnosis,
}

impl ReportName {
    pub const ALL: [ReportName; 10] = [
        ReportName::Outcomes,
        ReportName::Pipeline,
        ReportName::Snapshots,
        ReportName::Conversion,
        ReportName::TimeInStage,
        ReportName::Waterfall,
        ReportName::Velocity,
        ReportName::LossMix,
        ReportName::Coverage,
        ReportName::Diagnosis,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportName::Outcomes => "outcomes",
            ReportName::Pipeline => "pipeline",
            ReportName::Snapshots => "snapshots",
            ReportName::Conversion => "conversion",
            ReportName::TimeInStage => "time-in-stage",
            ReportName::Waterfall => "waterfall",
            ReportName::Velocity => "velocity",
            ReportName::LossMix => "loss-mix",
            ReportName::Coverage => "coverage",
            ReportName::Diagnosis => "diagnosis",
        }
    }

    pub fn parse(name: &str) -> Option<ReportName> {
        ReportName::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// What is asked for.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub name: ReportName,
    /// The fiscal period [default: the quarter holding `as_of`; for diagnosis, the one before].
    pub period: Option<Period>,
    /// The day at whose end the numbers are taken (or `now`, if that comes first).
    pub as_of: NaiveDate,
    pub now: DateTime<Utc>,
    /// Waterfall: the day whose end it starts from [default: the day before the period].
    pub since: Option<NaiveDate>,
    /// Conversion, time in stage, diagnosis: the process [default: the workspace's first].
    pub process: Option<ProcessKey>,
    /// Coverage: which categories count.
    pub mode: CoverageMode,
    /// Break the report down by these dimensions, in this order (none: the whole only).
    pub by: Vec<Dimension>,
    pub bands: SizeBands,
}

/// What reports read: the projection and the workspace's settings.
#[derive(Debug, Clone, Copy)]
pub struct ReportInputs<'a> {
    pub projection: &'a Projection,
    /// The process version in force.
    pub processes: &'a ProcessSet,
    pub context: &'a SliceContext,
    pub targets: &'a [Target],
    pub calendar: FiscalCalendar,
    pub currency: Currency,
    pub rates: &'a ExchangeRates,
    pub benchmarks: &'a FunnelBenchmarks,
}

/// A request the workspace cannot answer, naming the parameter; or an amount that cannot be
/// converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("{parameter}: {message}")]
    Request {
        parameter: &'static str,
        message: String,
    },
    #[error(transparent)]
    Conversion(#[from] ConversionError),
}

fn refuse(parameter: &'static str, message: impl Into<String>) -> ReportError {
    ReportError::Request {
        parameter,
        message: message.into(),
    }
}

/// One report, tagged with its name in JSON.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(tag = "report", rename_all = "kebab-case")]
pub enum Report {
    Outcomes(OutcomesReport),
    Pipeline(PipelineReport),
    Snapshots(SnapshotsReport),
    Conversion(ConversionReport),
    TimeInStage(TimeInStageReport),
    Waterfall(WaterfallReport),
    Velocity(VelocityReport),
    LossMix(LossMixReport),
    Coverage(CoverageReport),
    Diagnosis(DiagnosisReport),
}

/// The last microsecond of `day`.
pub fn end_of(day: NaiveDate) -> DateTime<Utc> {
    (day + Duration::days(1)).and_time(NaiveTime::MIN).and_utc() - Duration::microseconds(1)
}

/// `range` moved back a year.
fn a_year_earlier(range: DateRange) -> Result<DateRange, ReportError> {
    let back = |d: NaiveDate| d.checked_sub_months(Months::new(12));
    match (back(range.start), back(range.end)) {
        (Some(start), Some(end)) => Ok(DateRange::new(start, end)),
        _ => Err(refuse(
            "period",
            format!("the year before {} is out of range", range.start),
        )),
    }
}

/// The request resolved against the workspace: the period, its dates and the moment.
struct Resolved<'a> {
    request: &'a ReportRequest,
    inputs: &'a ReportInputs<'a>,
    period: Period,
    range: DateRange,
    moment: DateTime<Utc>,
    scope: Scope,
}

impl Resolved<'_> {
    fn slicing(&self) -> Option<Slicing<'_>> {
        (!self.request.by.is_empty()).then(|| Slicing {
            dimensions: &self.request.by,
            context: self.inputs.context,
            bands: &self.request.bands,
        })
    }

    fn process(&self) -> Result<&Process, ReportError> {
        let processes = self.inputs.processes;
        match &self.request.process {
            None => Ok(processes.default_process()),
            Some(key) => processes.get(key).ok_or_else(|| {
                let known: Vec<&str> = processes
                    .processes()
                    .iter()
                    .map(|p| p.key.as_str())
                    .collect();
                refuse(
                    "process",
                    format!(
                        "`{key}` is not a process of this workspace: {}",
                        known.join(", ")
                    ),
                )
            }),
        }
    }

    /// The target of `owner` for `period` in corporate minor units.
    fn target(&self, period: Period, owner: &TargetOwner) -> Result<i64, ReportError> {
        let start = self.inputs.calendar.range(period).start;
        let mut sum = 0i64;
        for t in targets_of(self.inputs.targets, &self.inputs.calendar, period, owner) {
            sum = sum.saturating_add(self.inputs.rates.convert(t.amount, start)?);
        }
        Ok(sum)
    }
}

/// Runs one report.
pub fn run(request: &ReportRequest, inputs: &ReportInputs) -> Result<Report, ReportError> {
    let calendar = inputs.calendar;
    let current = calendar.quarter_of(request.as_of);
    let period = request.period.unwrap_or_else(|| match request.name {
        ReportName::Diagnosis => {
            calendar.quarter_of(calendar.range(current).start - Duration::days(1))
        }
        _ => current,
    });
    let range = calendar.range(period);
    let r = Resolved {
        request,
        inputs,
        period,
        range,
        moment: end_of(request.as_of).min(request.now),
        scope: Scope::new(
            period,
            range,
            request.as_of,
            inputs.currency,
            request.by.clone(),
        ),
    };
    let p = inputs.projection;
    let rates = inputs.rates;
    let slicing = r.slicing();
    Ok(match request.name {
        ReportName::Outcomes => {
            let whole = p.outcomes(range, r.moment, rates)?;
            let slices = match &slicing {
                Some(s) => p.outcomes_by(range, r.moment, rates, s)?,
                None => Vec::new(),
            };
            Report::Outcomes(OutcomesReport {
                scope: r.scope.clone(),
                outcomes: OutcomesView::from(whole),
                slices: Sliced::all(&request.by, map(slices, OutcomesView::from)),
            })
        }
        ReportName::Pipeline => {
            let whole = p.pipeline_at(r.moment);
            let slices = match &slicing {
                Some(s) => p.pipeline_series_by(&[r.moment], rates, s)?,
                None => Vec::new(),
            };
            let slices = map(slices, |mut series| series.pop().unwrap_or_default());
            Report::Pipeline(PipelineReport {
                scope: r.scope.clone(),
                pipeline: whole,
                slices: Sliced::all(&request.by, slices),
            })
        }
        ReportName::Snapshots => {
            let last = range.last_day().min(request.as_of);
            let weeks: Vec<NaiveDate> = (0..)
                .map(|w| range.start + Duration::days(7 * w + 6))
                .take_while(|day| *day <= last)
                .collect();
            let moments: Vec<_> = weeks.iter().map(|d| end_of(*d)).collect();
            let series = |pipelines: Vec<crate::Pipeline>| Snapshots {
                weeks: weeks
                    .iter()
                    .zip(pipelines)
                    .map(|(day, pipeline)| Snapshot {
                        week_ending: *day,
                        pipeline,
                    })
                    .collect(),
            };
            let whole = series(p.pipeline_series(&moments));
            let slices = match &slicing {
                Some(s) => p.pipeline_series_by(&moments, rates, s)?,
                None => Vec::new(),
            };
            Report::Snapshots(SnapshotsReport {
                scope: r.scope.clone(),
                snapshots: whole,
                slices: Sliced::all(&request.by, map(slices, series)),
            })
        }
        ReportName::Conversion => {
            let process = r.process()?;
            let whole = Conversions::from(p.conversions(process, range, r.moment));
            let slices = match &slicing {
                Some(s) => p.conversions_by(process, range, r.moment, rates, s)?,
                None => Vec::new(),
            };
            Report::Conversion(ConversionReport {
                scope: r.scope.clone(),
                process: ProcessName::of(process),
                conversions: whole,
                slices: Sliced::all(&request.by, map(slices, Conversions::from)),
            })
        }
        ReportName::TimeInStage => {
            let process = r.process()?;
            let whole = StageTimes {
                stages: p.time_in_stage(process, range, r.moment),
            };
            let slices = match &slicing {
                Some(s) => p.time_in_stage_by(process, range, r.moment, rates, s)?,
                None => Vec::new(),
            };
            Report::TimeInStage(TimeInStageReport {
                scope: r.scope.clone(),
                process: ProcessName::of(process),
                stages: whole,
                slices: Sliced::all(&request.by, map(slices, |stages| StageTimes { stages })),
            })
        }
        ReportName::Waterfall => {
            let since = request.since.unwrap_or(range.start - Duration::days(1));
            if since > request.as_of {
                return Err(refuse(
                    "since",
                    format!("{since} is after the as-of day {}", request.as_of),
                ));
            }
            let from = end_of(since).min(r.moment);
            let whole = p.waterfall(range, from, r.moment, rates)?;
            let slices = match &slicing {
                Some(s) => p.waterfall_by(range, from, r.moment, rates, s)?,
                None => Vec::new(),
            };
            Report::Waterfall(WaterfallReport {
                scope: r.scope.clone(),
                since,
                waterfall: whole,
                slices: Sliced::all(&request.by, slices),
            })
        }
        ReportName::Velocity => {
            let whole = p.flow(range, r.moment, rates)?;
            let slices = match &slicing {
                Some(s) => p.flow_by(range, r.moment, rates, s)?,
                None => Vec::new(),
            };
            Report::Velocity(VelocityReport {
                scope: r.scope.clone(),
                flow: whole,
                slices: Sliced::all(&request.by, slices),
            })
        }
        ReportName::LossMix => loss_mix(&r)?,
        ReportName::Coverage => coverage(&r)?,
        ReportName::Diagnosis => {
            if !request.by.is_empty() {
                return Err(refuse(
                    "by",
                    "diagnosis judges the whole workspace and is not broken down",
                ));
            }
            Report::Diagnosis(diagnosis::run(&r, current)?)
        }
    })
}

/// The outcomes and velocity reports of each of `periods` over the whole, as [`run`] gives
/// them one at a time, worked out together: a trend costs about what one period does.
pub fn trend(
    periods: &[Period],
    as_of: NaiveDate,
    now: DateTime<Utc>,
    inputs: &ReportInputs,
) -> Result<Vec<(OutcomesReport, VelocityReport)>, ReportError> {
    let ranges: Vec<DateRange> = periods.iter().map(|p| inputs.calendar.range(*p)).collect();
    let moment = end_of(as_of).min(now);
    let worked = inputs
        .projection
        .outcomes_and_flows_over(&ranges, moment, inputs.rates)?;
    Ok(periods
        .iter()
        .zip(ranges)
        .zip(worked)
        .map(|((period, range), (outcomes, flow))| {
            let scope = Scope::new(*period, range, as_of, inputs.currency, Vec::new());
            let outcomes = OutcomesReport {
                scope: scope.clone(),
                outcomes: OutcomesView::from(outcomes),
                slices: Vec::new(),
            };
            let velocity = VelocityReport {
                scope,
                flow,
                slices: Vec::new(),
            };
            (outcomes, velocity)
        })
        .collect())
}

fn map<A, B>(slices: Vec<Slice<A>>, f: impl Fn(A) -> B) -> Vec<Slice<B>> {
    slices
        .into_iter()
        .map(|s| Slice {
            key: s.key,
            value: f(s.value),
        })
        .collect()
}

/// Losses by type and by competitor; with slices, each slice's own mix.
fn loss_mix(r: &Resolved) -> Result<Report, ReportError> {
    let (p, rates, range, moment) = (r.inputs.projection, r.inputs.rates, r.range, r.moment);
    let mut dimensions = r.request.by.clone();
    dimensions.push(Dimension::Competitor);
    let slicing = Slicing {
        dimensions: &dimensions,
        context: r.inputs.context,
        bands: &r.request.bands,
    };
    let by_competitor = p.outcomes_by(range, moment, rates, &slicing)?;
    // Group the (slice…, competitor) rows by their slice.
    let mut mixes: BTreeMap<Vec<String>, LossMix> = BTreeMap::new();
    for row in by_competitor {
        let (competitor, key) = row
            .key
            .split_last()
            .map_or((String::new(), Vec::new()), |(c, k)| {
                (c.clone(), k.to_vec())
            });
        mixes.entry(key).or_default().add(&competitor, &row.value);
    }
    let whole = mixes.remove(&Vec::new()).unwrap_or_default();
    let whole = if r.request.by.is_empty() {
        whole
    } else {
        LossMix::of_whole(&p.outcomes(range, moment, rates)?, &mixes)
    };
    let slices = mixes
        .into_iter()
        .map(|(key, value)| Slice { key, value })
        .collect();
    Ok(Report::LossMix(LossMixReport {
        scope: r.scope.clone(),
        mix: whole,
        slices: Sliced::all(&r.request.by, slices),
    }))
}

/// Coverage of the period's company target, the trailing year's rates and the target stack;
/// with slices, each owner's, manager's or team's coverage of their own target.
fn coverage(r: &Resolved) -> Result<Report, ReportError> {
    let (p, rates, range, moment) = (r.inputs.projection, r.inputs.rates, r.range, r.moment);
    let target = r.target(r.period, &TargetOwner::Workspace)?;
    if target == 0 {
        return Err(refuse(
            "period",
            format!("the workspace has no company target for {}", r.period),
        ));
    }
    // Rates of the year before the period.
    let history = DateRange::new(a_year_earlier(range)?.start, range.start);
    let past = p.outcomes(history, moment, rates)?;
    let close_rate = past.close_rate();
    let mode = r.request.mode;
    let whole = p.coverage(range, moment, target, mode, close_rate.by_amount(), rates)?;
    let average_win = (past.won.count > 0).then(|| past.won.amount / past.won.count as i64);
    let stack = match (average_win, close_rate.by_count()) {
        (Some(average), Some(rate)) => {
            target_stack((target - whole.won.amount).max(0), average, &[rate])
        }
        _ => None,
    };
    let slices = match r.slicing() {
        Some(slicing) => {
            let targets = slice_targets(r)?;
            p.coverage_by(
                range,
                moment,
                |key| targets.get(key).copied(),
                mode,
                close_rate.by_amount(),
                rates,
                &slicing,
            )?
        }
        None => Vec::new(),
    };
    Ok(Report::Coverage(CoverageReport {
        scope: r.scope.clone(),
        coverage: whole,
        pipeline_for_3x: pipeline_for_coverage(target, 3.0),
        trailing_year: TrailingYear {
            from: history.start,
            to: history.last_day(),
            close_rate_by_amount: close_rate.by_amount(),
            close_rate_by_count: close_rate.by_count(),
            average_win,
        },
        target_stack: stack,
        slices: Sliced::all(&r.request.by, slices),
    }))
}

/// Targets of the period for slices by owner (the person's), by team (the team's) or by
/// manager (the person's own; else the sum of the teams in their subtree; else, at the top
/// of the hierarchy, the company's), keyed by the slice's name. Names two people or teams
/// share get no target.
fn slice_targets(r: &Resolved) -> Result<HashMap<Vec<String>, i64>, ReportError> {
    let context = r.inputs.context;
    // Per name, for each holder of the name, the ways to find their target in order of
    // preference; each way a list of targets to add up.
    let mut owners: HashMap<&String, Vec<Vec<Vec<TargetOwner>>>> = HashMap::new();
    match r.request.by.as_slice() {
        [Dimension::Owner] => {
            for (user, name) in &context.user_names {
                owners
                    .entry(name)
                    .or_default()
                    .push(vec![vec![TargetOwner::User(*user)]]);
            }
        }
        [Dimension::Manager] => {
            let team_ids: HashMap<&String, TeamId> =
                context.team_names.iter().map(|(id, n)| (n, *id)).collect();
            // The teams of everyone below each manager.
            let mut subtree_teams: HashMap<UserId, BTreeSet<TeamId>> = HashMap::new();
            for (user, team) in &context.teams {
                let Some(team) = team_ids.get(team) else {
                    continue;
                };
                let mut at = *user;
                // At most one step per link: links that loop must not loop for ever.
                for _ in 0..context.managers.len() {
                    let Some(manager) = context.managers.get(&at) else {
                        break;
                    };
                    subtree_teams.entry(*manager).or_default().insert(*team);
                    at = *manager;
                }
            }
            for (user, name) in &context.user_names {
                let teams = subtree_teams.get(user).map_or(Vec::new(), |t| {
                    t.iter().map(|t| TargetOwner::Team(*t)).collect()
                });
                let mut ways = vec![vec![TargetOwner::User(*user)], teams];
                if !context.managers.contains_key(user) {
                    ways.push(vec![TargetOwner::Workspace]);
                }
                owners.entry(name).or_default().push(ways);
            }
        }
        [Dimension::Team] => {
            for (team, name) in &context.team_names {
                owners
                    .entry(name)
                    .or_default()
                    .push(vec![vec![TargetOwner::Team(*team)]]);
            }
        }
        _ => {}
    }
    let mut targets = HashMap::new();
    for (name, holders) in owners {
        let [ways] = holders.as_slice() else {
            continue;
        };
        for way in ways {
            let mut target = 0i64;
            for owner in way {
                target = target.saturating_add(r.target(r.period, owner)?);
            }
            if target > 0 {
                targets.insert(vec![name.clone()], target);
                break;
            }
        }
    }
    Ok(targets)
}
