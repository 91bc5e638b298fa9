//! The diagnostics dashboard: the diagnosis in words, then the numbers behind it — funnel
//! conversion against each step's target range, time in stage, close, win and
//! slippage-adjusted close rates over the last quarters, coverage against 3×, the pipeline
//! waterfall and velocity. Every number comes from the same reports as `pipewise report`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Html;
use chrono::{Duration, Utc};
use maud::{Markup, html};
use pipewise_analytics::reports::{
    self, ConversionReport, CoverageReport, DiagnosisReport, OutcomesReport, Report, ReportError,
    ReportName, ReportRequest, TimeInStageReport, VelocityReport, WaterfallReport,
};
use pipewise_analytics::{CoverageMode, Problem, SizeBands};
use pipewise_core::calendar::Period;
use pipewise_core::money::Currency;
use pipewise_core::process::Process;
use pipewise_core::validation::Fields;
use rayon::prelude::*;
use serde::Deserialize;

use super::charts::{self, Bar, Reference, Series, Unit};
use super::format::{grouped, money, percent};
use super::layout::{self, Section};
use super::viewer::{PageError, Viewer};
use crate::AppState;
use crate::routes::lists;
use crate::routes::reports::{refused, with_inputs};

/// Quarters shown in the rate trends, the chosen one included.
const TREND_QUARTERS: usize = 5;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct DiagnosticsQuery {
    period: Option<String>,
}

/// Every report the dashboard shows.
struct Dashboard {
    diagnosis: DiagnosisReport,
    conversion: ConversionReport,
    times: TimeInStageReport,
    trend: Vec<OutcomesReport>,
    /// Qualified pipeline created in each quarter of the trend.
    created: Vec<VelocityReport>,
    coverage: CoverageReport,
    waterfall: WaterfallReport,
    velocity: VelocityReport,
}

/// `GET /app/{workspace}/diagnostics?period=`.
pub(crate) async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<DiagnosticsQuery>, QueryRejection>,
) -> Result<Html<String>, PageError> {
    let query = lists::query(query, "period")?;
    let caller = &viewer.0;
    let workspace = caller.workspace.clone();
    let given = query
        .period
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    let mut fields = Fields::default();
    let period = fields.check_optional("period", given, str::parse::<Period>);
    fields.finish()?;
    let now = Utc::now();
    let calendar = workspace.fiscal_calendar;
    let currency = workspace.corporate_currency;
    let dashboard = with_inputs(&state, &workspace, false, move |inputs| {
        let request = |name: ReportName, period: Option<Period>| ReportRequest {
            name,
            period,
            as_of: now.date_naive(),
            now,
            since: None,
            process: None,
            mode: CoverageMode::Enterprise,
            by: Vec::new(),
            bands: SizeBands::standard(currency),
        };
        let run = |name, period| reports::run(&request(name, period), inputs);
        let mismatch = || ReportError::Request {
            parameter: "period",
            message: "a report answered with another kind of report".to_owned(),
        };
        let current = period.unwrap_or_else(|| calendar.quarter_of(now.date_naive()));
        let mut quarters = vec![current];
        while quarters.len() < TREND_QUARTERS {
            let Some(earliest) = quarters.last().copied() else {
                break;
            };
            quarters.push(calendar.quarter_of(calendar.range(earliest).start - Duration::days(1)));
        }
        quarters.reverse();
        // Every report reads the projection alone: the trend and the period's reports run
        // side by side on every core.
        let names = [
            ReportName::Diagnosis,
            ReportName::Conversion,
            ReportName::TimeInStage,
            ReportName::Coverage,
            ReportName::Waterfall,
        ];
        let (trends, period_reports) = rayon::join(
            || reports::trend(&quarters, now.date_naive(), now, inputs),
            || {
                names
                    .par_iter()
                    .map(|n| run(*n, period))
                    .collect::<Result<Vec<_>, _>>()
            },
        );
        let (trend, created): (Vec<_>, Vec<_>) = trends?.into_iter().unzip();
        let Ok(
            [
                Report::Diagnosis(diagnosis),
                Report::Conversion(conversion),
                Report::TimeInStage(times),
                Report::Coverage(coverage),
                Report::Waterfall(waterfall),
            ],
        ) = <[Report; 5]>::try_from(period_reports?)
        else {
            return Err(mismatch());
        };
        // The period's velocity is the trend's last quarter: the same request.
        let velocity = created.last().cloned().ok_or_else(mismatch)?;
        Ok(Dashboard {
            diagnosis,
            conversion,
            times,
            trend,
            created,
            coverage,
            waterfall,
            velocity,
        })
    })
    .await?
    .map_err(|e| refused(e, |_| query.period.clone()))?;
    let process = caller.context.processes.default_process();
    let content = html! {
        h1 { "Diagnostics" }
        form.filters method="get" action=(viewer.path("diagnostics")) {
            label { "Period"
                input name="period" value=[given] placeholder=(dashboard.coverage.scope.period);
            }
            button type="submit" { "Apply" }
        }
        (diagnosis(&dashboard.diagnosis, process))
        (funnel(&dashboard.diagnosis, process))
        (transitions(&dashboard.conversion, process))
        (time_in_stage(&dashboard.times, process))
        (trends(&dashboard.trend))
        (created(&dashboard.created, currency))
        (coverage(&dashboard.coverage, currency))
        (waterfall(&dashboard.waterfall, currency))
        (velocity(&dashboard.velocity, currency))
    };
    Ok(Html(
        layout::page(&viewer, Section::Diagnostics, "Diagnostics", content).into_string(),
    ))
}

/// A stage's name, or the word for an outcome (`won`).
fn stage_name(process: &Process, key: &str) -> String {
    process
        .stages()
        .iter()
        .find(|s| s.key.as_str() == key)
        .map_or_else(|| capitalised(key), |s| s.name.to_string())
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn diagnosis(report: &DiagnosisReport, process: &Process) -> Markup {
    let d = &report.diagnosis;
    html! {
        section.panel aria-labelledby="diagnosis-heading" {
            h2 id="diagnosis-heading" { "Diagnosis of " (report.scope.period) }
            @if d.problems.is_empty() {
                p.verdict { "No pipeline, conversion or capacity problem: the funnel is healthy." }
            } @else {
                ul.verdict {
                    @for problem in &d.problems {
                        li { (match problem {
                            Problem::Pipeline => "Pipeline problem: not enough pipeline to make the number.",
                            Problem::Conversion => "Conversion problem: deals in the funnel do not turn into wins.",
                            Problem::Capacity => "Capacity problem: pipeline and conversion are healthy, but there are not enough sellers to work them.",
                        }) }
                    }
                }
            }
            @if !d.reasons.is_empty() {
                h3 { "Why" }
                ul { @for reason in &d.reasons { li { (reason) } } }
            }
            @if let Some(step) = &d.leaking_step {
                p { strong { "Leaking step: " } (stage_name(process, &step.from)) " → " (stage_name(process, &step.to))
                    ", converting " (percent(step.actual)) " against a bar of " (percent(step.bar())) "." }
            }
            @if let Some(focus) = &d.focus { p { strong { "Focus: " } (focus) } }
        }
    }
}

fn funnel(report: &DiagnosisReport, process: &Process) -> Markup {
    let bars: Vec<Bar> = report
        .steps
        .iter()
        .map(|s| Bar {
            label: format!(
                "{} → {}",
                stage_name(process, &s.from),
                stage_name(process, &s.to)
            ),
            value: s.actual,
            band: s.target,
        })
        .collect();
    html! {
        section.panel aria-labelledby="funnel-heading" {
            h2 id="funnel-heading" { "Funnel conversion against benchmarks" }
            p.note { "Bars: conversion in " (report.scope.period) "; shaded: the step's target range. Baseline: "
                (report.baseline.from) " to " (report.baseline.to) "." }
            (charts::bars("funnel-chart", "Stage-to-stage conversion", Unit::Rate, &bars, None))
            table.sortable {
                thead { tr {
                    th scope="col" { "Step" } th scope="col" { "Baseline" } th scope="col" { "Actual" }
                    th scope="col" { "Target" } th scope="col" { "Guardrail" } th scope="col" { "What to work on" }
                } }
                tbody {
                    @for s in &report.steps {
                        tr {
                            td { (stage_name(process, &s.from)) " → " (stage_name(process, &s.to)) }
                            td data-sort=[s.baseline] { (percent(s.baseline)) }
                            td data-sort=[s.actual] { (percent(s.actual)) }
                            td { @if let Some((low, high)) = s.target { (percent(Some(low))) " – " (percent(Some(high))) } @else { "—" } }
                            td { @if let Some(g) = &s.guardrail {
                                (g.name) ": " (g.value.map_or("—".to_owned(), |v| format!("{v:.0} days")))
                                @if g.breached() { " (over " (g.limit.map_or(String::new(), |l| format!("{l:.0}"))) ")" }
                            } }
                            td { (s.action.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
    }
}

/// Every transition seen, documented or not (skips, moves back, outcomes).
fn transitions(report: &ConversionReport, process: &Process) -> Markup {
    html! {
        section.panel aria-labelledby="transitions-heading" {
            h2 id="transitions-heading" { "Every stage transition in " (report.scope.period) }
            p.note { "Of the deals that entered a stage, how many went on to each next stage or outcome; "
                "documented steps are those of the process." }
            table.sortable {
                thead { tr {
                    th scope="col" { "From" } th scope="col" { "To" } th scope="col" { "Documented" }
                    th scope="col" { "Entered" } th scope="col" { "Reached" } th scope="col" { "Still open" } th scope="col" { "Rate" }
                } }
                tbody {
                    @for c in &report.conversions.conversions {
                        tr {
                            td { (stage_name(process, c.conversion.from.as_str())) }
                            td { (stage_name(process, &c.conversion.to)) }
                            td { (if c.conversion.documented { "Yes" } else { "No" }) }
                            td data-sort=(c.conversion.entered) { (grouped(c.conversion.entered)) }
                            td data-sort=(c.conversion.reached) { (grouped(c.conversion.reached)) }
                            td data-sort=(c.conversion.still_open) { (grouped(c.conversion.still_open)) }
                            td data-sort=[c.rate] { (percent(c.rate)) }
                        }
                    }
                }
            }
        }
    }
}

fn created(quarters: &[VelocityReport], currency: Currency) -> Markup {
    let points: Vec<(String, Option<f64>)> = quarters
        .iter()
        .map(|q| {
            (
                q.scope.period.clone(),
                Some(q.flow.qualified_created.amount as f64),
            )
        })
        .collect();
    html! {
        section.panel aria-labelledby="created-heading" {
            h2 id="created-heading" { "Qualified pipeline created" }
            p.note { "Deals reaching the SAL stage in each quarter, at their amount then." }
            (charts::columns("created-chart", "Qualified pipeline created by quarter", Unit::Money(currency), &points))
        }
    }
}

fn time_in_stage(report: &TimeInStageReport, process: &Process) -> Markup {
    let stages = &report.stages.stages;
    let bars: Vec<Bar> = stages
        .iter()
        .map(|s| Bar {
            label: stage_name(process, s.stage.as_str()),
            value: s.median_days,
            band: None,
        })
        .collect();
    html! {
        section.panel aria-labelledby="time-heading" {
            h2 id="time-heading" { "Time in stage" }
            (charts::bars("time-chart", "Median days in each stage", Unit::Days, &bars, None))
            table.sortable {
                thead { tr {
                    th scope="col" { "Stage" } th scope="col" { "Median days" } th scope="col" { "P75 days" }
                    th scope="col" { "Stays completed" } th scope="col" { "Open now" } th scope="col" { "Aging (past P75)" }
                } }
                tbody {
                    @for s in stages {
                        tr {
                            td { (stage_name(process, s.stage.as_str())) }
                            td data-sort=[s.median_days] { (s.median_days.map_or("—".to_owned(), |d| format!("{d:.0}"))) }
                            td data-sort=[s.p75_days] { (s.p75_days.map_or("—".to_owned(), |d| format!("{d:.0}"))) }
                            td data-sort=(s.completed) { (grouped(s.completed as u64)) }
                            td data-sort=(s.open) { (grouped(s.open as u64)) }
                            td data-sort=(s.aging) { (grouped(s.aging as u64)) }
                        }
                    }
                }
            }
        }
    }
}

fn trends(quarters: &[OutcomesReport]) -> Markup {
    let labels: Vec<String> = quarters.iter().map(|q| q.scope.period.clone()).collect();
    type Rate = fn(&OutcomesReport) -> Option<f64>;
    let series = [
        ("Close rate", (|q| q.outcomes.close_rate.by_amount) as Rate),
        ("Win rate", |q| q.outcomes.win_rate.by_amount),
        ("Slippage-adjusted close rate", |q| {
            q.outcomes.slippage_adjusted_close_rate.by_amount
        }),
    ]
    .map(|(name, rate)| Series {
        name: name.to_owned(),
        values: quarters.iter().map(rate).collect(),
    });
    html! {
        section.panel aria-labelledby="rates-heading" {
            h2 id="rates-heading" { "Close, win and slippage-adjusted close rates" }
            p.note { "By amount, for deals due in each quarter." }
            (charts::lines("rates-chart", "Rates by quarter", Unit::Rate, &labels, &series))
            table.sortable {
                thead { tr {
                    th scope="col" { "Quarter" } th scope="col" { "Close rate" } th scope="col" { "Win rate" }
                    th scope="col" { "Slippage-adjusted" } th scope="col" { "Implied coverage" }
                } }
                tbody {
                    @for q in quarters {
                        @let o = &q.outcomes;
                        tr {
                            td { (q.scope.period) }
                            td data-sort=[o.close_rate.by_amount] { (percent(o.close_rate.by_amount)) }
                            td data-sort=[o.win_rate.by_amount] { (percent(o.win_rate.by_amount)) }
                            td data-sort=[o.slippage_adjusted_close_rate.by_amount] { (percent(o.slippage_adjusted_close_rate.by_amount)) }
                            td { (o.required_coverage_by_count.map_or("—".to_owned(), |c| format!("{c:.1}×"))) }
                        }
                    }
                }
            }
        }
    }
}

fn coverage(report: &CoverageReport, currency: Currency) -> Markup {
    let c = &report.coverage;
    let needed = report
        .trailing_year
        .close_rate_by_amount
        .filter(|r| *r > 0.0)
        .map(|r| 1.0 / r);
    let bars = [
        Bar {
            label: "Coverage".to_owned(),
            value: c.ratio,
            band: None,
        },
        Bar {
            label: "Needed at the close rate".to_owned(),
            value: needed,
            band: None,
        },
    ];
    let three = Reference {
        value: 3.0,
        label: "3×".to_owned(),
    };
    html! {
        section.panel aria-labelledby="coverage-heading" {
            h2 id="coverage-heading" { "Coverage of " (report.scope.period) }
            (charts::bars("coverage-chart", "Pipeline coverage against 3×", Unit::Times, &bars, Some(&three)))
            dl.figures {
                dt { "Target" } dd { (money(c.target, currency)) }
                dt { "Won" } dd { (money(c.won.amount, currency)) }
                dt { "Commit" } dd { (money(c.commit.amount, currency)) }
                dt { "Best Case" } dd { (money(c.best_case.amount, currency)) }
                dt { "Pipeline" } dd { (money(c.pipeline.amount, currency)) }
                dt { "Required pipeline" } dd { (c.required_pipeline.map_or("—".to_owned(), |r| money(r, currency))) }
            }
        }
    }
}

fn waterfall(report: &WaterfallReport, currency: Currency) -> Markup {
    let w = &report.waterfall;
    let changes = [
        ("Created", w.created.amount),
        ("Pulled in", w.pulled_in.amount),
        ("Reopened", w.reopened.amount),
        ("Pushed out", -w.pushed_out.amount),
        ("Amounts", w.amount_changes.amount),
        ("Won", -w.won.amount),
        ("Lost", -w.lost.amount),
    ];
    html! {
        section.panel aria-labelledby="waterfall-heading" {
            h2 id="waterfall-heading" { "Pipeline waterfall of " (report.scope.period) }
            p.note { "Open pipeline due in the period, from the end of " (report.since) " to " (report.scope.as_of) "." }
            (charts::waterfall("waterfall-chart", "How the period's pipeline changed", currency, ("Start", w.start.amount), &changes, ("End", w.end.amount)))
        }
    }
}

fn velocity(report: &VelocityReport, currency: Currency) -> Markup {
    let f = &report.flow;
    let v = &f.velocity;
    html! {
        section.panel aria-labelledby="velocity-heading" {
            h2 id="velocity-heading" { "Velocity in " (report.scope.period) }
            dl.figures {
                dt { "Pipeline velocity" } dd { (v.per_day.map_or("—".to_owned(), |d| format!("{} a day", money(d.round() as i64, currency)))) }
                dt { "Qualified open deals" } dd { (grouped(v.qualified_open)) }
                dt { "Win rate" } dd { (percent(v.win_rate)) }
                dt { "Average win" } dd { (v.average_won.map_or("—".to_owned(), |a| money(a.round() as i64, currency))) }
                dt { "Sales cycle (median)" } dd { (f.sales_cycle.median_days.map_or("—".to_owned(), |d| format!("{d:.0} days"))) }
                dt { "Qualified pipeline created" } dd { (money(f.qualified_created.amount, currency)) " in " (grouped(f.qualified_created.count)) " deals" }
            }
        }
    }
}
