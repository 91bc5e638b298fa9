//! The diagnosis report: the workspace's health over a period, each documented funnel step
//! against its baseline and target range with its guardrail, and the verdict.

use chrono::{Duration, NaiveDate};
use pipewise_core::calendar::Period;
use pipewise_core::crm::TargetOwner;
use serde::Serialize;

use super::{ReportError, Resolved, Scope, a_year_earlier};
use crate::{
    Conversion, CoverageMode, Diagnosis, FunnelPart, Guardrail, Health, StepBenchmark, diagnose,
};

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct DiagnosisReport {
    #[serde(flatten)]
    pub scope: Scope,
    pub process: super::ProcessName,
    /// The same period a year earlier: the baseline of every step.
    pub baseline: Baseline,
    pub health: Health,
    pub steps: Vec<StepBenchmark>,
    pub diagnosis: Diagnosis,
    /// Benchmark settings that match no funnel step of the workspace's processes.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Baseline {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Diagnoses the resolved period; coverage is that of `current`, the quarter in progress.
pub(super) fn run(r: &Resolved, current: Period) -> Result<DiagnosisReport, ReportError> {
    let (p, rates, range, moment) = (r.inputs.projection, r.inputs.rates, r.range, r.moment);
    let process = r.process()?;
    // The same period a year earlier, measured a year earlier: its deals had as long to
    // convert as the period's have now.
    let baseline = a_year_earlier(range)?;
    let outcomes = p.outcomes(range, moment, rates)?;
    let lost = outcomes.lost_to_competition.count + outcomes.lost_to_no_decision.count;
    let company = TargetOwner::Workspace;
    let coverage = p.coverage(
        r.inputs.calendar.range(current),
        moment,
        r.target(current, &company)?,
        CoverageMode::Enterprise,
        outcomes.close_rate().by_amount(),
        rates,
    )?;
    let health = Health {
        coverage: coverage.ratio,
        close_rate: outcomes.close_rate().by_count(),
        win_rate: outcomes.win_rate().by_count(),
        no_decision_share: (lost > 0)
            .then(|| outcomes.lost_to_no_decision.count as f64 / lost as f64),
        bookings_short: outcomes.won.amount < r.target(r.period, &company)?,
    };
    let actual = p.conversions(process, range, moment);
    let history = p.conversions(process, baseline, moment - Duration::days(365));
    let times = p.time_in_stage(process, range, moment);
    let documented: Vec<&Conversion> = actual.iter().filter(|c| c.documented).collect();
    let steps: Vec<StepBenchmark> = documented
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let setting = r.inputs.benchmarks.step(&process.key, &c.from, &c.to);
            StepBenchmark {
                from: c.from.to_string(),
                to: c.to.clone(),
                baseline: history
                    .iter()
                    .find(|h| h.from == c.from && h.to == c.to)
                    .and_then(Conversion::rate),
                actual: c.rate(),
                target: setting.and_then(|s| s.target),
                guardrail: Some(Guardrail {
                    name: format!("P75 days in {}", c.from),
                    value: times
                        .iter()
                        .find(|t| t.stage == c.from)
                        .and_then(|t| t.p75_days),
                    limit: setting.and_then(|s| s.p75_days_at_most),
                }),
                action: setting.and_then(|s| s.action.clone()),
                part: FunnelPart::of(i, documented.len()),
            }
        })
        .collect();
    let diagnosis = diagnose(&health, &steps);
    Ok(DiagnosisReport {
        scope: r.scope.clone(),
        process: super::ProcessName::of(process),
        baseline: Baseline {
            from: baseline.start,
            to: baseline.last_day(),
        },
        health,
        steps,
        diagnosis,
        warnings: r.inputs.benchmarks.unmatched(r.inputs.processes),
    })
}
