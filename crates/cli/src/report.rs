//! `pipewise report`: pipeline numbers from the analytics projection, as a table, JSON or CSV.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{NaiveTime, Utc};
use pipewise_analytics::{
    Conversion, CoverageMode, Dimension, FunnelPart, Health, Outcomes, Pipeline, Problem, Ratio,
    StageTime, StepBenchmark, Tally, Waterfall, diagnose, pipeline_for_coverage, required_coverage,
    target_stack,
};
use pipewise_core::calendar::Period;
use pipewise_core::crm::company_targets;
use pipewise_core::exchange::ExchangeRates;
use pipewise_core::money::{Currency, Money};
use pipewise_core::process::ForecastCategory;
use serde_json::json;

use crate::cli::{CoverageArg, ReportArgs, ReportFormat, ReportName, SliceBy};
use crate::output::write_json;

pub async fn run(args: ReportArgs) -> anyhow::Result<()> {
    let (store, workspace) = crate::process::open(&args.target).await?;
    let now = Utc::now();
    let as_of = args.as_of.unwrap_or_else(|| now.date_naive());
    // The end of the as-of day, or now when that is today.
    let moment = end_of(as_of).min(now);
    let projection = pipewise_store::analytics::projection(&*store, &workspace).await?;
    let currency = workspace.corporate_currency;
    let calendar = workspace.fiscal_calendar;
    // The quarter in progress on the as-of day; diagnosis judges the one before it.
    let current = calendar.quarter_of(as_of);
    let period = args.period.unwrap_or_else(|| match args.name {
        ReportName::Diagnosis => {
            calendar.quarter_of(calendar.range(current).start - chrono::Duration::days(1))
        }
        _ => current,
    });
    let range = calendar.range(period);
    // Exchange rates arrive with their own table; until then amounts in other currencies are
    // refused with the currency and day named.
    let rates = ExchangeRates::new(currency);
    let mut out = std::io::stdout().lock();
    match args.name {
        ReportName::Outcomes => {
            let title = format!(
                "Outcomes of qualified deals closed in {period} ({} to {}), amounts in {currency}",
                range.start,
                range.last_day()
            );
            match args.by {
                None => {
                    let outcomes = projection.outcomes(range, moment, &rates)?;
                    write_outcomes(&mut out, args.format, &title, &outcomes, currency)?;
                }
                Some(by) => {
                    let context =
                        pipewise_store::analytics::slice_context(&*store, &workspace).await?;
                    let slices =
                        projection.outcomes_by(range, moment, &rates, dimension(by), &context)?;
                    write_sliced_outcomes(&mut out, args.format, &title, &slices)?;
                }
            }
        }
        ReportName::Pipeline => {
            let pipeline = projection.pipeline_at(moment);
            write_pipeline(&mut out, args.format, as_of, &pipeline)?;
        }
        ReportName::Waterfall => {
            let since = args
                .since
                .unwrap_or(range.start - chrono::Duration::days(1));
            if since > as_of {
                anyhow::bail!("--since: {since} is after the as-of day {as_of}");
            }
            let from = end_of(since).min(moment);
            let waterfall = projection.waterfall(range, from, moment, &rates)?;
            let title = format!(
                "Open pipeline due in {period} ({} to {}), from the end of {since} to the end of {as_of}, amounts in {currency}",
                range.start,
                range.last_day()
            );
            write_waterfall(&mut out, args.format, &title, &waterfall, currency)?;
        }
        ReportName::Velocity => {
            let created = projection.qualified_created(range, &rates)?;
            let cycle = projection.sales_cycle(range, moment);
            let velocity = projection.velocity(range, moment, &rates)?;
            let report = json!({
                "period": period.to_string(),
                "currency": currency.code(),
                "qualified_pipeline_created": created,
                "sales_cycle": cycle,
                "velocity": velocity,
            });
            match args.format {
                ReportFormat::Json => {
                    write_json(&mut out, &report)?;
                }
                ReportFormat::Csv => {
                    let mut csv = csv::Writer::from_writer(&mut out);
                    csv.write_record(["metric", "value"])?;
                    let num = |x: Option<f64>| x.map(|v| format!("{v:.4}")).unwrap_or_default();
                    for (metric, value) in [
                        ("qualified_created_count", created.count.to_string()),
                        ("qualified_created_amount_minor", created.amount.to_string()),
                        ("won", cycle.won.to_string()),
                        ("cycle_median_days", num(cycle.median_days)),
                        ("cycle_mean_days", num(cycle.mean_days)),
                        ("qualified_open", velocity.qualified_open.to_string()),
                        ("win_rate", num(velocity.win_rate)),
                        ("average_won_minor", num(velocity.average_won)),
                        ("velocity_minor_per_day", num(velocity.per_day)),
                    ] {
                        csv.write_record([metric, &value])?;
                    }
                    csv.flush()?;
                }
                ReportFormat::Table => {
                    let money = |minor: f64| Money::new(minor.round() as i64, currency).to_string();
                    let days =
                        |x: Option<f64>| x.map_or("—".to_owned(), |v| format!("{v:.1} days"));
                    writeln!(
                        out,
                        "Velocity, {period} ({} to {})\n",
                        range.start,
                        range.last_day()
                    )?;
                    writeln!(
                        out,
                        "Qualified pipeline created   {} deals, {}",
                        created.count,
                        Money::new(created.amount, currency)
                    )?;
                    writeln!(
                        out,
                        "Sales cycle (SAL to close)   {} wins, median {}, mean {}",
                        cycle.won,
                        days(cycle.median_days),
                        days(cycle.mean_days)
                    )?;
                    writeln!(
                        out,
                        "Open qualified deals now     {}",
                        velocity.qualified_open
                    )?;
                    writeln!(
                        out,
                        "Win rate                     {}",
                        percent(velocity.win_rate)
                    )?;
                    writeln!(
                        out,
                        "Average win                  {}",
                        velocity.average_won.map_or("—".to_owned(), money)
                    )?;
                    writeln!(
                        out,
                        "Velocity                     {}",
                        velocity
                            .per_day
                            .map_or("—".to_owned(), |v| format!("{} a day", money(v)))
                    )?;
                }
            }
        }
        ReportName::LossMix => {
            let outcomes = projection.outcomes(range, moment, &rates)?;
            let by_competitor = projection.outcomes_by(
                range,
                moment,
                &rates,
                Dimension::Competitor,
                &Default::default(),
            )?;
            write_loss_mix(
                &mut out,
                args.format,
                &period.to_string(),
                &outcomes,
                &by_competitor,
                currency,
            )?;
        }
        ReportName::Coverage => {
            // The company target: workspace-level targets of the period, or of the months or
            // quarters inside it.
            let targets = store.targets(workspace.id).await?;
            let target = company_target(&targets, &calendar, period, &rates)?;
            if target == 0 {
                anyhow::bail!("--period: the workspace has no company target for {period}");
            }
            // Rates of the year before the period.
            let history = year_before(range)?;
            let past = projection.outcomes(history, moment, &rates)?;
            let close_rate = past.close_rate();
            let mode = match args.mode {
                CoverageArg::Enterprise => CoverageMode::Enterprise,
                CoverageArg::Smb => CoverageMode::Smb,
            };
            let coverage =
                projection.coverage(range, moment, target, mode, close_rate.by_amount(), &rates)?;
            let average_win = (past.won.count > 0).then(|| past.won.amount / past.won.count as i64);
            let stack = match (average_win, close_rate.by_count()) {
                (Some(average), Some(rate)) => {
                    target_stack((target - coverage.won.amount).max(0), average, &[rate])
                }
                _ => None,
            };
            let report = json!({
                "period": period.to_string(),
                "currency": currency.code(),
                "coverage": coverage,
                "trailing_year": { "from": history.start, "to": history.last_day(), "close_rate_by_amount": close_rate.by_amount(), "close_rate_by_count": close_rate.by_count(), "average_win": average_win },
                "target_stack": stack,
            });
            match args.format {
                ReportFormat::Table => {
                    let money = |minor: i64| Money::new(minor, currency).to_string();
                    writeln!(
                        out,
                        "Coverage of the {period} target ({} to {}), {} mode, at the end of {as_of}\n",
                        range.start,
                        range.last_day(),
                        if mode == CoverageMode::Smb {
                            "SMB"
                        } else {
                            "enterprise"
                        }
                    )?;
                    writeln!(out, "Target                  {:>22}", money(target))?;
                    writeln!(
                        out,
                        "Won                     {:>22}  ({} deals)",
                        money(coverage.won.amount),
                        coverage.won.count
                    )?;
                    writeln!(
                        out,
                        "Commit                  {:>22}  ({} deals)",
                        money(coverage.commit.amount),
                        coverage.commit.count
                    )?;
                    writeln!(
                        out,
                        "Best Case               {:>22}  ({} deals)",
                        money(coverage.best_case.amount),
                        coverage.best_case.count
                    )?;
                    writeln!(
                        out,
                        "Pipeline                {:>22}  ({} deals){}",
                        money(coverage.pipeline.amount),
                        coverage.pipeline.count,
                        if mode == CoverageMode::Smb {
                            ""
                        } else {
                            ", not counted"
                        }
                    )?;
                    writeln!(
                        out,
                        "Coverage                {:>22}  (goal 3.0×)",
                        coverage
                            .ratio
                            .map_or("—".to_owned(), |r| format!("{r:.2}×"))
                    )?;
                    writeln!(
                        out,
                        "Pipeline for 3×         {:>22}",
                        money(pipeline_for_coverage(target, 3.0))
                    )?;
                    if let Some(required) = coverage.required_pipeline {
                        writeln!(
                            out,
                            "Required pipeline       {:>22}  (gap / close rate {:.1}% by amount over {} to {})",
                            money(required),
                            close_rate.by_amount().unwrap_or(0.0) * 100.0,
                            history.start,
                            history.last_day()
                        )?;
                    }
                    if let Some(stack) = &stack {
                        writeln!(
                            out,
                            "Wins still needed       {:>22}  at an average win of {}",
                            stack.wins,
                            money(average_win.unwrap_or(0))
                        )?;
                        writeln!(
                            out,
                            "Qualified deals needed  {:>22}  at a close rate of {:.1}% by count",
                            stack.entries[0],
                            stack.chained_conversion * 100.0
                        )?;
                    }
                }
                ReportFormat::Json => {
                    write_json(&mut out, &report)?;
                }
                ReportFormat::Csv => {
                    let mut csv = csv::Writer::from_writer(&mut out);
                    csv.write_record(["metric", "count", "amount_minor"])?;
                    let none = String::new();
                    for (metric, count, amount) in [
                        ("target", none.clone(), target.to_string()),
                        (
                            "won",
                            coverage.won.count.to_string(),
                            coverage.won.amount.to_string(),
                        ),
                        (
                            "commit",
                            coverage.commit.count.to_string(),
                            coverage.commit.amount.to_string(),
                        ),
                        (
                            "best_case",
                            coverage.best_case.count.to_string(),
                            coverage.best_case.amount.to_string(),
                        ),
                        (
                            "pipeline",
                            coverage.pipeline.count.to_string(),
                            coverage.pipeline.amount.to_string(),
                        ),
                        (
                            "required_pipeline",
                            none.clone(),
                            coverage
                                .required_pipeline
                                .map(|r| r.to_string())
                                .unwrap_or_default(),
                        ),
                    ] {
                        csv.write_record([metric, &count, &amount])?;
                    }
                    csv.flush()?;
                }
            }
        }
        ReportName::Snapshots => {
            let last = range.last_day().min(as_of);
            let weeks: Vec<chrono::NaiveDate> = (0..)
                .map(|w| range.start + chrono::Duration::days(7 * w + 6))
                .take_while(|day| *day <= last)
                .collect();
            let moments: Vec<_> = weeks.iter().map(|d| end_of(*d)).collect();
            let series = projection.pipeline_series(&moments);
            match args.format {
                ReportFormat::Json => {
                    let rows: Vec<serde_json::Value> = weeks
                        .iter()
                        .zip(&series)
                        .map(|(day, p)| json!({ "week_ending": day, "categories": p.categories }))
                        .collect();
                    write_json(
                        &mut out,
                        &json!({ "period": period.to_string(), "snapshots": rows }),
                    )?;
                }
                ReportFormat::Csv => {
                    let mut csv = csv::Writer::from_writer(&mut out);
                    csv.write_record([
                        "week_ending",
                        "category",
                        "deals",
                        "currency",
                        "amount_minor",
                    ])?;
                    for (day, p) in weeks.iter().zip(&series) {
                        for (category, totals) in &p.categories {
                            for (cur, minor) in &totals.amounts {
                                csv.write_record([
                                    &day.to_string(),
                                    category.as_str(),
                                    &totals.count.to_string(),
                                    cur.code(),
                                    &minor.to_string(),
                                ])?;
                            }
                        }
                    }
                    csv.flush()?;
                }
                ReportFormat::Table => {
                    writeln!(out, "Open pipeline at the end of each week of {period}\n")?;
                    writeln!(
                        out,
                        "{:<12} {:>24} {:>24} {:>24}",
                        "WEEK ENDING", "COMMIT", "BEST CASE", "PIPELINE"
                    )?;
                    for (day, p) in weeks.iter().zip(&series) {
                        let cell = |c: ForecastCategory| {
                            p.categories.get(&c).map_or("—".to_owned(), |t| {
                                let amounts: Vec<String> = t
                                    .amounts
                                    .iter()
                                    .map(|(cur, m)| Money::new(*m, *cur).to_string())
                                    .collect();
                                format!("{} ({})", amounts.join(" + "), t.count)
                            })
                        };
                        writeln!(
                            out,
                            "{:<12} {:>24} {:>24} {:>24}",
                            day,
                            cell(ForecastCategory::Commit),
                            cell(ForecastCategory::BestCase),
                            cell(ForecastCategory::Pipeline)
                        )?;
                    }
                }
            }
        }
        ReportName::Diagnosis => {
            // The same period a year earlier, measured a year earlier: its deals had as long to
            // convert as the period's have now.
            let baseline = a_year_earlier(range)?;
            let processes = pipewise_store::processes::current(&*store, &workspace).await?;
            let process = processes.default_process();
            let outcomes = projection.outcomes(range, moment, &rates)?;
            let lost = outcomes.lost_to_competition.count + outcomes.lost_to_no_decision.count;
            let targets = store.targets(workspace.id).await?;
            let target_of = |p: Period| -> anyhow::Result<i64> {
                company_target(&targets, &calendar, p, &rates)
            };
            let close_rate = outcomes.close_rate().by_amount();
            let coverage = projection.coverage(
                calendar.range(current),
                moment,
                target_of(current)?,
                CoverageMode::Enterprise,
                close_rate,
                &rates,
            )?;
            let health = Health {
                coverage: coverage.ratio,
                close_rate: outcomes.close_rate().by_count(),
                win_rate: outcomes.win_rate().by_count(),
                no_decision_share: (lost > 0)
                    .then(|| outcomes.lost_to_no_decision.count as f64 / lost as f64),
                bookings_short: outcomes.won.amount < target_of(period)?,
            };
            let actual = projection.conversions(process, range, moment);
            let history =
                projection.conversions(process, baseline, moment - chrono::Duration::days(365));
            let times = projection.time_in_stage(process, range, moment);
            let documented: Vec<&Conversion> = actual.iter().filter(|c| c.documented).collect();
            let steps: Vec<StepBenchmark> = documented
                .iter()
                .enumerate()
                .map(|(i, c)| StepBenchmark {
                    from: c.from.to_string(),
                    to: c.to.clone(),
                    baseline: history
                        .iter()
                        .find(|h| h.from == c.from && h.to == c.to)
                        .and_then(Conversion::rate),
                    actual: c.rate(),
                    target: None,
                    guardrail: times
                        .iter()
                        .find(|t| t.stage == c.from)
                        .and_then(|t| t.p75_days.map(|p| (format!("P75 days in {}", t.stage), p))),
                    part: FunnelPart::of(i, documented.len()),
                })
                .collect();
            let diagnosis = diagnose(&health, &steps);
            match args.format {
                ReportFormat::Table => {
                    writeln!(
                        out,
                        "Diagnosis of {period} ({} to {}) against {} to {}; coverage of the quarter in progress\n",
                        range.start,
                        range.last_day(),
                        baseline.start,
                        baseline.last_day()
                    )?;
                    let problems: Vec<&str> = diagnosis
                        .problems
                        .iter()
                        .map(|p| match p {
                            Problem::Pipeline => "pipeline problem",
                            Problem::Conversion => "conversion problem",
                            Problem::Capacity => "capacity problem",
                        })
                        .collect();
                    writeln!(
                        out,
                        "{}",
                        if problems.is_empty() {
                            "No problem found".to_owned()
                        } else {
                            format!("A {}", problems.join(" and a "))
                        }
                    )?;
                    for reason in &diagnosis.reasons {
                        writeln!(out, "  - {reason}")?;
                    }
                    writeln!(
                        out,
                        "\n{:<36} {:>9} {:>9} {:>10}  GUARDRAIL",
                        "FUNNEL STEP", "BASELINE", "ACTUAL", "SHORTFALL"
                    )?;
                    for s in &steps {
                        let guardrail = s
                            .guardrail
                            .as_ref()
                            .map_or(String::new(), |(name, v)| format!("{name}: {v:.1}"));
                        writeln!(
                            out,
                            "{:<36} {:>9} {:>9} {:>10}  {guardrail}",
                            format!("{} → {}", s.from, s.to),
                            percent(s.baseline),
                            percent(s.actual),
                            percent(s.shortfall())
                        )?;
                    }
                    if let (Some(leak), Some(focus)) = (&diagnosis.leaking_step, &diagnosis.focus) {
                        writeln!(
                            out,
                            "\nLeaking most: {} → {}. Focus on {focus}.",
                            leak.from, leak.to
                        )?;
                    }
                }
                ReportFormat::Json => {
                    let report = json!({
                        "period": period.to_string(),
                        "baseline": { "from": baseline.start, "to": baseline.last_day() },
                        "health": {
                            "coverage": health.coverage,
                            "close_rate": health.close_rate,
                            "win_rate": health.win_rate,
                            "no_decision_share": health.no_decision_share,
                            "bookings_short": health.bookings_short,
                        },
                        "steps": steps,
                        "diagnosis": diagnosis,
                    });
                    write_json(&mut out, &report)?;
                }
                ReportFormat::Csv => {
                    // The funnel steps; the verdict is in the table and JSON formats.
                    let mut csv = csv::Writer::from_writer(&mut out);
                    csv.write_record([
                        "from",
                        "to",
                        "baseline",
                        "actual",
                        "shortfall",
                        "guardrail",
                        "guardrail_value",
                    ])?;
                    for s in &steps {
                        let (name, value) = s
                            .guardrail
                            .clone()
                            .map_or((String::new(), None), |(n, v)| (n, Some(v)));
                        csv.write_record([
                            s.from.as_str(),
                            s.to.as_str(),
                            &decimal(s.baseline),
                            &decimal(s.actual),
                            &decimal(s.shortfall()),
                            &name,
                            &decimal(value),
                        ])?;
                    }
                    csv.flush()?;
                }
            }
        }
        ReportName::Conversion | ReportName::TimeInStage => {
            let processes = pipewise_store::processes::current(&*store, &workspace).await?;
            let process = match &args.process {
                Some(key) => processes.get(key).ok_or_else(|| {
                    let known: Vec<&str> = processes
                        .processes()
                        .iter()
                        .map(|p| p.key.as_str())
                        .collect();
                    anyhow::anyhow!(
                        "--process: `{key}` is not a process of this workspace: {}",
                        known.join(", ")
                    )
                })?,
                None => processes.default_process(),
            };
            if args.name == ReportName::Conversion {
                let rows = projection.conversions(process, range, moment);
                let title = format!(
                    "Conversion of {} deals that entered each stage in {period}",
                    process.name
                );
                write_conversions(&mut out, args.format, &title, &rows)?;
            } else {
                let rows = projection.time_in_stage(process, range, moment);
                let title = format!(
                    "Time in stage, {} process: visits that ended in {period}; open deals at the end of {as_of}",
                    process.name
                );
                write_stage_times(&mut out, args.format, &title, &rows)?;
            }
        }
    }
    Ok(())
}

/// A share as a percentage with one decimal, or a dash when there is none.
fn percent(share: Option<f64>) -> String {
    share.map_or("—".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

/// A number with six decimals for CSV, or nothing when there is none.
fn decimal(value: Option<f64>) -> String {
    value.map(|v| format!("{v:.6}")).unwrap_or_default()
}

/// The company target of `period` in corporate minor units (see `company_targets`).
fn company_target(
    targets: &[pipewise_core::crm::Target],
    calendar: &pipewise_core::calendar::FiscalCalendar,
    period: Period,
    rates: &ExchangeRates,
) -> anyhow::Result<i64> {
    let start = calendar.range(period).start;
    company_targets(targets, calendar, period)
        .into_iter()
        .map(|t| Ok(rates.convert(t.amount, start)?))
        .sum()
}

/// `range` moved back a year.
fn a_year_earlier(
    range: pipewise_core::calendar::DateRange,
) -> anyhow::Result<pipewise_core::calendar::DateRange> {
    let back = |d: chrono::NaiveDate| d.checked_sub_months(chrono::Months::new(12));
    match (back(range.start), back(range.end)) {
        (Some(start), Some(end)) => Ok(pipewise_core::calendar::DateRange::new(start, end)),
        _ => anyhow::bail!("--period: the year before {} is out of range", range.start),
    }
}

/// The year before `range`: the baseline its numbers are judged against.
fn year_before(
    range: pipewise_core::calendar::DateRange,
) -> anyhow::Result<pipewise_core::calendar::DateRange> {
    let start = a_year_earlier(range)?.start;
    Ok(pipewise_core::calendar::DateRange::new(start, range.start))
}

/// The last microsecond of `day`.
fn end_of(day: chrono::NaiveDate) -> chrono::DateTime<Utc> {
    (day + chrono::Duration::days(1))
        .and_time(NaiveTime::MIN)
        .and_utc()
        - chrono::Duration::microseconds(1)
}

fn write_waterfall(
    out: &mut impl Write,
    format: ReportFormat,
    title: &str,
    w: &Waterfall,
    currency: Currency,
) -> anyhow::Result<()> {
    let lines: [(&str, &str, Tally); 9] = [
        ("start", "", w.start),
        ("created", "+", w.created),
        ("pulled_in", "+", w.pulled_in),
        ("reopened", "+", w.reopened),
        ("pushed_out", "−", w.pushed_out),
        ("amount_changes", "±", w.amount_changes),
        ("won", "−", w.won),
        ("lost", "−", w.lost),
        ("end", "=", w.end),
    ];
    match format {
        ReportFormat::Json => {
            write_json(
                out,
                &json!({ "title": title, "currency": currency.code(), "waterfall": w }),
            )?;
        }
        ReportFormat::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record(["line", "count", "amount_minor"])?;
            for (name, _, t) in lines {
                csv.write_record([name, &t.count.to_string(), &t.amount.to_string()])?;
            }
            csv.flush()?;
        }
        ReportFormat::Table => {
            writeln!(out, "{title}\n")?;
            writeln!(out, "{:<18} {:>7} {:>22}", "LINE", "DEALS", "AMOUNT")?;
            for (name, sign, t) in lines {
                let label = format!("{sign} {}", name.replace('_', " "));
                writeln!(
                    out,
                    "{:<18} {:>7} {:>22}",
                    label.trim(),
                    t.count,
                    Money::new(t.amount, currency).to_string()
                )?;
            }
        }
    }
    Ok(())
}

/// Losses split between competition and no decision, and losses to competition by competitor.
fn write_loss_mix(
    out: &mut impl Write,
    format: ReportFormat,
    period: &str,
    outcomes: &Outcomes,
    by_competitor: &BTreeMap<String, Outcomes>,
    currency: Currency,
) -> anyhow::Result<()> {
    let lost = outcomes.lost_to_competition + outcomes.lost_to_no_decision;
    let share = |part: Tally| Ratio {
        numerator: part,
        denominator: lost,
    };
    let competitors: Vec<(&String, Tally)> = by_competitor
        .iter()
        .map(|(name, o)| (name, o.lost_to_competition))
        .filter(|(_, t)| t.count > 0)
        .collect();
    match format {
        ReportFormat::Json => {
            let rows: serde_json::Map<String, serde_json::Value> = competitors
                .iter()
                .map(|(name, t)| ((*name).clone(), json!(t)))
                .collect();
            let report = json!({
                "period": period,
                "currency": currency.code(),
                "lost": lost,
                "competition": { "lost": outcomes.lost_to_competition, "share_by_count": share(outcomes.lost_to_competition).by_count(), "share_by_amount": share(outcomes.lost_to_competition).by_amount() },
                "no_decision": { "lost": outcomes.lost_to_no_decision, "share_by_count": share(outcomes.lost_to_no_decision).by_count(), "share_by_amount": share(outcomes.lost_to_no_decision).by_amount() },
                "by_competitor": rows,
            });
            write_json(out, &report)?;
        }
        ReportFormat::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record(["loss", "competitor", "count", "amount_minor"])?;
            csv.write_record([
                "no_decision",
                "",
                &outcomes.lost_to_no_decision.count.to_string(),
                &outcomes.lost_to_no_decision.amount.to_string(),
            ])?;
            for (name, t) in &competitors {
                csv.write_record([
                    "competition",
                    name.as_str(),
                    &t.count.to_string(),
                    &t.amount.to_string(),
                ])?;
            }
            csv.flush()?;
        }
        ReportFormat::Table => {
            let share_of = |part: Tally| percent(share(part).by_count());
            writeln!(
                out,
                "Losses of qualified deals closed in {period}: {} deals, {}\n",
                lost.count,
                Money::new(lost.amount, currency)
            )?;
            writeln!(
                out,
                "to no decision   {:>5} ({})  → discovery and business value",
                outcomes.lost_to_no_decision.count,
                share_of(outcomes.lost_to_no_decision)
            )?;
            writeln!(
                out,
                "to competition   {:>5} ({})  → differentiation and validation",
                outcomes.lost_to_competition.count,
                share_of(outcomes.lost_to_competition)
            )?;
            for (name, t) in &competitors {
                writeln!(
                    out,
                    "  {:<24} {:>5} {:>20}",
                    name,
                    t.count,
                    Money::new(t.amount, currency).to_string()
                )?;
            }
        }
    }
    Ok(())
}

fn write_conversions(
    out: &mut impl Write,
    format: ReportFormat,
    title: &str,
    rows: &[Conversion],
) -> anyhow::Result<()> {
    match format {
        ReportFormat::Json => {
            let rows: Vec<serde_json::Value> = rows
                .iter()
                .map(|c| {
                    let mut row = json!(c);
                    row["rate"] = json!(c.rate());
                    row
                })
                .collect();
            write_json(out, &json!({ "title": title, "conversions": rows }))?;
        }
        ReportFormat::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record([
                "from",
                "to",
                "documented",
                "entered",
                "reached",
                "still_open",
                "rate",
            ])?;
            for c in rows {
                let rate = decimal(c.rate());
                csv.write_record([
                    c.from.as_str(),
                    c.to.as_str(),
                    if c.documented { "true" } else { "false" },
                    &c.entered.to_string(),
                    &c.reached.to_string(),
                    &c.still_open.to_string(),
                    &rate,
                ])?;
            }
            csv.flush()?;
        }
        ReportFormat::Table => {
            writeln!(out, "{title}\n")?;
            writeln!(
                out,
                "{:<36} {:>8} {:>8} {:>10} {:>7}",
                "TRANSITION", "ENTERED", "REACHED", "STILL OPEN", "RATE"
            )?;
            // The documented (next-stage) transitions first, then every other one.
            let documented = rows.iter().filter(|c| c.documented).count();
            let ordered = rows
                .iter()
                .filter(|c| c.documented)
                .chain(rows.iter().filter(|c| !c.documented));
            for (i, c) in ordered.enumerate() {
                if i == documented {
                    writeln!(out, "all other transitions:")?;
                }
                let rate = percent(c.rate());
                writeln!(
                    out,
                    "{:<36} {:>8} {:>8} {:>10} {:>7}",
                    format!("{} → {}", c.from, c.to),
                    c.entered,
                    c.reached,
                    c.still_open,
                    rate
                )?;
            }
        }
    }
    Ok(())
}

fn write_stage_times(
    out: &mut impl Write,
    format: ReportFormat,
    title: &str,
    rows: &[StageTime],
) -> anyhow::Result<()> {
    let days = |x: Option<f64>| x.map(|v| format!("{v:.1}")).unwrap_or_default();
    match format {
        ReportFormat::Json => {
            write_json(out, &json!({ "title": title, "stages": rows }))?;
        }
        ReportFormat::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record([
                "stage",
                "completed",
                "median_days",
                "p75_days",
                "open",
                "aging",
            ])?;
            for t in rows {
                csv.write_record([
                    t.stage.as_str(),
                    &t.completed.to_string(),
                    &days(t.median_days),
                    &days(t.p75_days),
                    &t.open.to_string(),
                    &t.aging.to_string(),
                ])?;
            }
            csv.flush()?;
        }
        ReportFormat::Table => {
            writeln!(out, "{title}\n")?;
            writeln!(
                out,
                "{:<20} {:>9} {:>12} {:>9} {:>6} {:>10}",
                "STAGE", "COMPLETED", "MEDIAN DAYS", "P75 DAYS", "OPEN", "PAST P75"
            )?;
            for t in rows {
                writeln!(
                    out,
                    "{:<20} {:>9} {:>12} {:>9} {:>6} {:>10}",
                    t.stage.as_str(),
                    t.completed,
                    days(t.median_days),
                    days(t.p75_days),
                    t.open,
                    t.aging
                )?;
            }
        }
    }
    Ok(())
}

fn dimension(by: SliceBy) -> Dimension {
    match by {
        SliceBy::Owner => Dimension::Owner,
        SliceBy::Team => Dimension::Team,
        SliceBy::Segment => Dimension::Segment,
        SliceBy::Source => Dimension::Source,
        SliceBy::Competitor => Dimension::Competitor,
        SliceBy::Region => Dimension::Region,
    }
}

/// One row per slice: outcome counts and the three rates by count and by amount.
fn write_sliced_outcomes(
    out: &mut impl Write,
    format: ReportFormat,
    title: &str,
    slices: &BTreeMap<String, Outcomes>,
) -> anyhow::Result<()> {
    match format {
        ReportFormat::Json => {
            let rows: serde_json::Map<String, serde_json::Value> = slices
                .iter()
                .map(|(slice, outcomes)| (slice.clone(), outcomes_json(outcomes)))
                .collect();
            write_json(out, &json!({ "title": title, "slices": rows }))?;
        }
        ReportFormat::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record([
                "slice",
                "won",
                "lost_to_competition",
                "lost_to_no_decision",
                "excluded",
                "slipped",
                "close_rate",
                "win_rate",
                "slippage_adjusted_close_rate",
            ])?;
            for (slice, o) in slices {
                let rate = |r: Ratio| decimal(r.by_count());
                csv.write_record([
                    slice.as_str(),
                    &o.won.count.to_string(),
                    &o.lost_to_competition.count.to_string(),
                    &o.lost_to_no_decision.count.to_string(),
                    &o.excluded.count.to_string(),
                    &o.slipped.count.to_string(),
                    &rate(o.close_rate()),
                    &rate(o.win_rate()),
                    &rate(o.slippage_adjusted_close_rate()),
                ])?;
            }
            csv.flush()?;
        }
        ReportFormat::Table => {
            writeln!(out, "{title}\n")?;
            writeln!(
                out,
                "{:<26} {:>5} {:>5} {:>5} {:>7}  {:>14} {:>14} {:>14}",
                "SLICE", "WON", "COMP", "ND", "SLIPPED", "CLOSE RATE", "WIN RATE", "ADJUSTED"
            )?;
            let percent = |r: Ratio| {
                let show =
                    |x: Option<f64>| x.map_or("—".to_owned(), |v| format!("{:.0}%", v * 100.0));
                format!("{} / {}", show(r.by_count()), show(r.by_amount()))
            };
            for (slice, o) in slices {
                writeln!(
                    out,
                    "{:<26} {:>5} {:>5} {:>5} {:>7}  {:>14} {:>14} {:>14}",
                    slice,
                    o.won.count,
                    o.lost_to_competition.count,
                    o.lost_to_no_decision.count,
                    o.slipped.count,
                    percent(o.close_rate()),
                    percent(o.win_rate()),
                    percent(o.slippage_adjusted_close_rate())
                )?;
            }
            writeln!(out, "\nRates by count / by amount.")?;
        }
    }
    Ok(())
}

fn outcomes_json(outcomes: &Outcomes) -> serde_json::Value {
    let rates: serde_json::Map<String, serde_json::Value> = rates(outcomes)
        .into_iter()
        .map(|(name, r)| {
            let value = json!({
                "numerator": r.numerator,
                "denominator": r.denominator,
                "by_count": r.by_count(),
                "by_amount": r.by_amount(),
            });
            (name.to_owned(), value)
        })
        .collect();
    json!({ "outcomes": outcomes, "rates": rates })
}

fn rates(outcomes: &Outcomes) -> [(&'static str, Ratio); 3] {
    [
        ("close_rate", outcomes.close_rate()),
        ("win_rate", outcomes.win_rate()),
        (
            "slippage_adjusted_close_rate",
            outcomes.slippage_adjusted_close_rate(),
        ),
    ]
}

fn write_outcomes(
    out: &mut impl Write,
    format: ReportFormat,
    title: &str,
    outcomes: &Outcomes,
    currency: Currency,
) -> anyhow::Result<()> {
    let rows: [(&str, Tally); 5] = [
        ("won", outcomes.won),
        ("lost_to_competition", outcomes.lost_to_competition),
        ("lost_to_no_decision", outcomes.lost_to_no_decision),
        ("excluded", outcomes.excluded),
        ("slipped", outcomes.slipped),
    ];
    let coverage = outcomes
        .slippage_adjusted_close_rate()
        .by_count()
        .and_then(required_coverage);
    match format {
        ReportFormat::Json => {
            let mut report = outcomes_json(outcomes);
            report["title"] = json!(title);
            report["currency"] = json!(currency.code());
            report["required_coverage_by_count"] = json!(coverage);
            write_json(out, &report)?;
        }
        ReportFormat::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record(["metric", "count", "amount_minor", "by_count", "by_amount"])?;
            for (name, tally) in rows {
                csv.write_record([
                    name,
                    &tally.count.to_string(),
                    &tally.amount.to_string(),
                    "",
                    "",
                ])?;
            }
            for (name, r) in rates(outcomes) {
                csv.write_record([
                    name,
                    &format!("{}/{}", r.numerator.count, r.denominator.count),
                    &format!("{}/{}", r.numerator.amount, r.denominator.amount),
                    &decimal(r.by_count()),
                    &decimal(r.by_amount()),
                ])?;
            }
            csv.flush()?;
        }
        ReportFormat::Table => {
            writeln!(out, "{title}\n")?;
            writeln!(out, "{:<28} {:>7} {:>20}", "OUTCOME", "DEALS", "AMOUNT")?;
            for (name, tally) in rows {
                let amount = Money::new(tally.amount, currency);
                writeln!(
                    out,
                    "{:<28} {:>7} {:>20}",
                    name.replace('_', " "),
                    tally.count,
                    amount.to_string()
                )?;
            }
            writeln!(
                out,
                "\n{:<30} {:>24} {:>10}",
                "RATE", "BY COUNT", "BY AMOUNT"
            )?;
            for (name, r) in rates(outcomes) {
                writeln!(
                    out,
                    "{:<30} {:>14} ({:>3}/{:<3}) {:>10}",
                    name.replace('_', " "),
                    percent(r.by_count()),
                    r.numerator.count,
                    r.denominator.count,
                    percent(r.by_amount())
                )?;
            }
            if let Some(coverage) = coverage {
                writeln!(
                    out,
                    "\nRequired pipeline coverage at the slippage-adjusted close rate: {coverage:.1}×"
                )?;
            }
        }
    }
    Ok(())
}

fn write_pipeline(
    out: &mut impl Write,
    format: ReportFormat,
    as_of: chrono::NaiveDate,
    pipeline: &Pipeline,
) -> anyhow::Result<()> {
    let order = [
        ForecastCategory::Commit,
        ForecastCategory::BestCase,
        ForecastCategory::Pipeline,
        ForecastCategory::Omitted,
    ];
    let rows: Vec<(ForecastCategory, u64, Vec<Money>)> = order
        .iter()
        .filter_map(|c| pipeline.categories.get(c).map(|t| (*c, t)))
        .map(|(c, t)| {
            (
                c,
                t.count,
                t.amounts
                    .iter()
                    .map(|(cur, minor)| Money::new(*minor, *cur))
                    .collect(),
            )
        })
        .collect();
    match format {
        ReportFormat::Json => {
            let report = json!({ "as_of": as_of, "categories": pipeline.categories });
            write_json(out, &report)?;
        }
        ReportFormat::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            // One row per category and currency; the deal count is on each category's first
            // row only, so the column adds up, and a category without amounts still has one.
            csv.write_record(["category", "deals", "currency", "amount_minor"])?;
            for (category, count, amounts) in &rows {
                let count = count.to_string();
                if amounts.is_empty() {
                    csv.write_record([category.as_str(), &count, "", ""])?;
                }
                for (i, money) in amounts.iter().enumerate() {
                    let deals = if i == 0 { count.as_str() } else { "" };
                    csv.write_record([
                        category.as_str(),
                        deals,
                        money.currency.code(),
                        &money.minor.to_string(),
                    ])?;
                }
            }
            csv.flush()?;
        }
        ReportFormat::Table => {
            writeln!(out, "Open pipeline at the end of {as_of}\n")?;
            writeln!(out, "{:<12} {:>7}  AMOUNT", "CATEGORY", "DEALS")?;
            for (category, count, amounts) in &rows {
                let amounts: Vec<String> = amounts.iter().map(ToString::to_string).collect();
                writeln!(
                    out,
                    "{:<12} {:>7}  {}",
                    category.as_str(),
                    count,
                    amounts.join(" + ")
                )?;
            }
        }
    }
    Ok(())
}
