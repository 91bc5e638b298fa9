//! The suite on the resident projection: for the 8 fiscal quarters ending with the last
//! complete one, conversion matrix, time in stage, outcomes by segment × owner, waterfall and
//! coverage; and weekly pipeline snapshots across them.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, Duration as Days, NaiveDate, Utc};
use futures_util::TryStreamExt;
use pipewise_analytics::reports::end_of;
use pipewise_analytics::{
    Conversion, Coverage, CoverageMode, Dimension, Outcomes, Pipeline, Projection, SizeBands,
    Slice, SliceContext, Slicing, StageTime, Tally, Waterfall,
};
use pipewise_core::calendar::{DateRange, FiscalCalendar, Period};
use pipewise_core::crm::{TargetOwner, targets_of};
use pipewise_core::exchange::ExchangeRates;
use pipewise_core::opportunity::{Change, OpportunityEvent};
use pipewise_core::org::Workspace;
use pipewise_core::process::Process;
use pipewise_store::Store;
use serde_json::{Value, json};

pub struct Options {
    pub out: PathBuf,
    pub timings: Option<PathBuf>,
    pub as_of: NaiveDate,
    pub runs: usize,
    pub apply_events: usize,
}

/// One quarter of the suite.
struct Quarter {
    period: Period,
    range: DateRange,
    /// Waterfall: from the end of the day before the quarter to its end (or the as-of moment).
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// The company target, in corporate minor units (0 without one).
    target: i64,
}

/// What the suite is asked: fixed before it is timed.
struct Setup {
    as_of: NaiveDate,
    moment: DateTime<Utc>,
    process: Process,
    quarters: Vec<Quarter>,
    weeks: Vec<NaiveDate>,
    moments: Vec<DateTime<Utc>>,
    context: SliceContext,
    bands: SizeBands,
    rates: ExchangeRates,
}

/// The 8 fiscal quarters ending with the last one complete at `as_of`, oldest first.
fn suite_quarters(calendar: FiscalCalendar, as_of: NaiveDate) -> Vec<(Period, DateRange)> {
    let before = |period: Period| calendar.quarter_of(calendar.range(period).start - Days::days(1));
    let mut period = before(calendar.quarter_of(as_of));
    let mut out = Vec::new();
    for _ in 0..8 {
        out.push((period, calendar.range(period)));
        period = before(period);
    }
    out.reverse();
    out
}

struct QuarterResults {
    conversions: Vec<Conversion>,
    stage_times: Vec<StageTime>,
    outcomes: Vec<Slice<Outcomes>>,
    waterfall: Waterfall,
    coverage: Coverage,
}

struct Results {
    quarters: Vec<QuarterResults>,
    snapshots: Vec<Pipeline>,
}

/// The parts of the suite, for the per-part timings.
const PARTS: [&str; 6] = [
    "conversion",
    "time_in_stage",
    "outcomes",
    "waterfall",
    "coverage",
    "snapshots",
];

/// The suite itself: what is timed. `parts` accumulates the time of each part.
fn run_suite(
    p: &Projection,
    s: &Setup,
    parts: &mut [Duration; PARTS.len()],
) -> anyhow::Result<Results> {
    let dimensions = [Dimension::Segment, Dimension::Owner];
    let slicing = Slicing {
        dimensions: &dimensions,
        context: &s.context,
        bands: &s.bands,
    };
    let ranges: Vec<DateRange> = s.quarters.iter().map(|q| q.range).collect();
    // The parts only read the projection: both cores take them as they come.
    let (mut conversions, mut stage_times, mut outcomes) = (None, None, None);
    let (mut waterfalls, mut coverages, mut snapshots) = (None, None, None);
    rayon::scope(|scope| {
        scope.spawn(|_| {
            conversions = Some(timed(|| {
                Ok(p.conversions_over(&s.process, &ranges, s.moment))
            }));
        });
        scope.spawn(|_| {
            stage_times = Some(timed(|| {
                Ok(p.time_in_stage_over(&s.process, &ranges, s.moment))
            }));
        });
        scope.spawn(|_| {
            outcomes = Some(timed(|| {
                Ok(p.outcomes_by_over(&ranges, s.moment, &s.rates, &slicing)?)
            }));
        });
        scope.spawn(|_| {
            waterfalls = Some(timed(|| {
                s.quarters
                    .iter()
                    .map(|q| p.waterfall(q.range, q.from, q.to, &s.rates))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(anyhow::Error::from)
            }));
        });
        scope.spawn(|_| {
            coverages = Some(timed(|| {
                s.quarters
                    .iter()
                    .map(|q| {
                        let mode = CoverageMode::Enterprise;
                        p.coverage(q.range, s.moment, q.target, mode, None, &s.rates)
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(anyhow::Error::from)
            }));
        });
        scope.spawn(|_| {
            snapshots = Some(timed(|| Ok(p.pipeline_series(&s.moments))));
        });
    });
    let conversions: Vec<Vec<Conversion>> = finished(conversions, &mut parts[0])?;
    let stage_times: Vec<Vec<StageTime>> = finished(stage_times, &mut parts[1])?;
    let outcomes: Vec<Vec<Slice<Outcomes>>> = finished(outcomes, &mut parts[2])?;
    let waterfalls: Vec<Waterfall> = finished(waterfalls, &mut parts[3])?;
    let coverages: Vec<Coverage> = finished(coverages, &mut parts[4])?;
    let snapshots: Vec<Pipeline> = finished(snapshots, &mut parts[5])?;
    let quarters = conversions
        .into_iter()
        .zip(stage_times)
        .zip(outcomes)
        .zip(waterfalls.into_iter().zip(coverages))
        .map(
            |(((conversions, stage_times), outcomes), (waterfall, coverage))| QuarterResults {
                conversions,
                stage_times,
                outcomes,
                waterfall,
                coverage,
            },
        )
        .collect();
    Ok(Results {
        quarters,
        snapshots,
    })
}

/// A part's result, its time added to `total`.
fn finished<T>(
    part: Option<anyhow::Result<(T, Duration)>>,
    total: &mut Duration,
) -> anyhow::Result<T> {
    let (value, time) = part.context("a part of the suite did not run")??;
    *total += time;
    Ok(value)
}

/// Runs one part of the suite and measures how long it took.
fn timed<T>(part: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(T, Duration)> {
    let started = Instant::now();
    let value = part()?;
    Ok((value, started.elapsed()))
}

/// Days rounded to 6 decimals, the same way on both sides.
fn round6(x: f64) -> f64 {
    (x * 1e6 + 0.5).floor() / 1e6
}

fn days(x: Option<f64>) -> Value {
    x.map_or(Value::Null, |v| json!(round6(v)))
}

fn tally(t: Tally) -> Value {
    json!({"count": t.count, "amount": t.amount})
}

fn canonical(s: &Setup, r: &Results) -> anyhow::Result<Value> {
    let mut quarters = Vec::new();
    for (q, res) in s.quarters.iter().zip(&r.quarters) {
        let conversion: Vec<Value> = res
            .conversions
            .iter()
            .map(|c| {
                json!({"from": c.from.as_str(), "to": c.to, "entered": c.entered,
                       "reached": c.reached, "still_open": c.still_open})
            })
            .collect();
        let time_in_stage: Vec<Value> = res
            .stage_times
            .iter()
            .map(|t| {
                json!({"stage": t.stage.as_str(), "completed": t.completed,
                       "median_days": days(t.median_days), "p75_days": days(t.p75_days),
                       "open": t.open, "aging": t.aging})
            })
            .collect();
        let outcomes: Vec<Value> = res
            .outcomes
            .iter()
            .map(|slice| {
                let o = &slice.value;
                json!({"key": slice.key, "won": tally(o.won),
                       "lost_to_competition": tally(o.lost_to_competition),
                       "lost_to_no_decision": tally(o.lost_to_no_decision),
                       "excluded": tally(o.excluded), "slipped": tally(o.slipped)})
            })
            .collect();
        let w = &res.waterfall;
        let waterfall = json!({
            "start": tally(w.start), "created": tally(w.created), "pulled_in": tally(w.pulled_in),
            "reopened": tally(w.reopened), "pushed_out": tally(w.pushed_out),
            "amount_changes": tally(w.amount_changes), "won": tally(w.won),
            "lost": tally(w.lost), "end": tally(w.end),
        });
        let c = &res.coverage;
        let coverage = json!({
            "target": c.target, "won": tally(c.won), "commit": tally(c.commit),
            "best_case": tally(c.best_case), "pipeline": tally(c.pipeline),
            "ratio": days(c.ratio),
        });
        quarters.push(json!({
            "period": q.period.to_string(),
            "start": q.range.start.to_string(),
            "end": q.range.last_day().to_string(),
            "conversion": conversion,
            "time_in_stage": time_in_stage,
            "outcomes": outcomes,
            "waterfall": waterfall,
            "coverage": coverage,
        }));
    }
    let corporate = s.rates.corporate();
    let mut snapshots = Vec::new();
    for (week, pipeline) in s.weeks.iter().zip(&r.snapshots) {
        let mut categories = serde_json::Map::new();
        for (category, totals) in &pipeline.categories {
            if let Some(other) = totals.amounts.keys().find(|c| **c != corporate) {
                anyhow::bail!("an amount in {other}: the suite expects {corporate} only");
            }
            let amount = totals.amounts.get(&corporate).copied().unwrap_or(0);
            categories.insert(
                category.as_str().to_owned(),
                json!({"count": totals.count, "amount": amount}),
            );
        }
        snapshots.push(json!({"week_ending": week.to_string(), "categories": categories}));
    }
    Ok(json!({
        "as_of": s.as_of.to_string(),
        "quarters": quarters,
        "snapshots": snapshots,
    }))
}

/// Builds the projection as `pipewise_store::analytics::projection` does, but without the
/// evidence and activities only the deal model reads, and holds back the last event of every
/// tenth deal (up to `hold` of them, state changes only) to apply later.
async fn build(
    store: &dyn Store,
    workspace: &Workspace,
    hold: usize,
) -> anyhow::Result<(Projection, Vec<OpportunityEvent>)> {
    let versions = crate::process_versions(store, workspace).await?;
    let mut projection = Projection::new(&versions);
    let mut held = Vec::with_capacity(hold);
    let mut pending: Option<OpportunityEvent> = None;
    let mut deals = 0u64;
    let mut events = store.event_log_without_evidence(workspace.id);
    while let Some(event) = events.try_next().await.context("reading the event log")? {
        if let Some(previous) = pending.take() {
            let last_of_deal = previous.opportunity_id != event.opportunity_id;
            if last_of_deal {
                deals += 1;
            }
            let keep = last_of_deal
                && held.len() < hold
                && deals % 10 == 0
                && !matches!(
                    previous.change,
                    Change::Created(_) | Change::FieldChanged(_)
                );
            if keep {
                held.push(previous);
            } else {
                projection.apply(&previous)?;
            }
        }
        pending = Some(event);
    }
    if let Some(last) = pending {
        projection.apply(&last)?;
    }
    Ok((projection, held))
}

fn median(times: &[Duration]) -> Duration {
    let mut sorted = times.to_vec();
    sorted.sort();
    sorted[sorted.len() / 2]
}

pub async fn run(store: &dyn Store, workspace: &Workspace, o: &Options) -> anyhow::Result<()> {
    let settings = pipewise_store::analytics::report_settings(store, workspace, false)
        .await
        .context("reading the report settings")?;
    let currency = workspace.corporate_currency;
    let calendar = workspace.fiscal_calendar;
    let rates = ExchangeRates::new(currency);
    let moment = end_of(o.as_of);
    let mut quarters = Vec::new();
    let mut weeks = Vec::new();
    for (period, range) in suite_quarters(calendar, o.as_of) {
        let mut target = 0i64;
        for t in targets_of(
            &settings.targets,
            &calendar,
            period,
            &TargetOwner::Workspace,
        ) {
            target = target.saturating_add(rates.convert(t.amount, range.start)?);
        }
        let last = range.last_day().min(o.as_of);
        weeks.extend(
            (0..)
                .map(|w| range.start + Days::days(7 * w + 6))
                .take_while(|day| *day <= last),
        );
        quarters.push(Quarter {
            period,
            range,
            from: end_of(range.start - Days::days(1)).min(moment),
            to: end_of(range.last_day()).min(moment),
            target,
        });
    }
    let setup = Setup {
        as_of: o.as_of,
        moment,
        process: settings.processes.default_process().clone(),
        quarters,
        moments: weeks.iter().map(|d| end_of(*d)).collect(),
        weeks,
        context: settings.context,
        bands: SizeBands::standard(currency),
        rates,
    };

    let started = Instant::now();
    let (mut projection, held) = build(store, workspace, o.apply_events).await?;
    let build_time = started.elapsed();
    let deals = projection.len();

    // Applying new events: the held-back last events of real deals, appended to their chains.
    let started = Instant::now();
    for event in &held {
        projection.apply(event)?;
    }
    let apply_time = started.elapsed();
    let applied = held.len();
    let apply_us = if held.is_empty() {
        None
    } else {
        Some(apply_time.as_secs_f64() * 1e6 / held.len() as f64)
    };
    drop(held);
    let (peak_after_build, rss_after_build) = crate::memory_kib();

    let mut times = Vec::with_capacity(o.runs);
    let mut parts = [Duration::ZERO; PARTS.len()];
    let mut results = None;
    for _ in 0..o.runs {
        let started = Instant::now();
        let r = run_suite(&projection, &setup, &mut parts)?;
        times.push(started.elapsed());
        results = Some(r);
    }
    let (peak, rss) = crate::memory_kib();
    let results = results.context("the suite did not run")?;
    let value = canonical(&setup, &results)?;
    std::fs::write(&o.out, serde_json::to_string(&value)?)
        .with_context(|| format!("cannot write {}", o.out.display()))?;

    let min = times.iter().min().copied().unwrap_or_default();
    let med = median(&times);
    let timings = json!({
        "engine": "pipewise",
        "opportunities": deals,
        "build_s": build_time.as_secs_f64(),
        "apply_events": applied,
        "apply_us": apply_us,
        "runs": o.runs,
        "threads": rayon::current_num_threads(),
        "suite_min_s": min.as_secs_f64(),
        "suite_median_s": med.as_secs_f64(),
        "suite_runs_s": times.iter().map(Duration::as_secs_f64).collect::<Vec<_>>(),
        "part_mean_s": PARTS
            .iter()
            .zip(parts)
            .map(|(name, total)| ((*name).to_owned(), json!(total.as_secs_f64() / o.runs as f64)))
            .collect::<serde_json::Map<_, _>>(),
        "peak_rss_after_build_kib": peak_after_build,
        "rss_after_build_kib": rss_after_build,
        "peak_rss_kib": peak,
        "rss_kib": rss,
        "quarters": setup.quarters.iter().map(|q| q.period.to_string()).collect::<Vec<_>>(),
        "snapshots": setup.moments.len(),
    });
    println!(
        "pipewise: {deals} deals, projection built in {:.2} s, apply {} µs/event, suite min {:.3} s median {:.3} s over {} runs, peak RSS {} MiB",
        build_time.as_secs_f64(),
        apply_us.map_or("-".to_owned(), |us| format!("{us:.2}")),
        min.as_secs_f64(),
        med.as_secs_f64(),
        o.runs,
        peak.map_or("-".to_owned(), |k| (k / 1024).to_string()),
    );
    if let Some(path) = &o.timings {
        std::fs::write(path, serde_json::to_string_pretty(&timings)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
