//! Funnel-step benchmarks (seed methodology, two layers): a target range per documented step
//! of a process, a guardrail beside it and the action to take when the step runs below
//! target. Shipped in `analytics/benchmarks.toml`; a workspace may read its own file instead.

use std::collections::BTreeMap;

use pipewise_core::process::{
    DefinitionError, DefinitionErrors, ProcessKey, ProcessSet, StageKey, read_toml,
};
use serde::{Deserialize, Serialize};
use toml::Spanned;

const SHIPPED: &str = include_str!("../benchmarks.toml");

/// The setting of one funnel step.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StepSetting {
    /// The range aimed for, as shares: below `low` is a shortfall.
    pub target: Option<(f64, f64)>,
    /// Guardrail: the most P75 days deals should spend in the step's first stage.
    pub p75_days_at_most: Option<f64>,
    /// What to work on when the step is below target.
    pub action: Option<String>,
}

/// Benchmarks keyed by process, first stage and second stage (or `won`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FunnelBenchmarks {
    steps: BTreeMap<(ProcessKey, StageKey, String), StepSetting>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    steps: Vec<RawStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    process: Spanned<String>,
    from: Spanned<String>,
    to: Spanned<String>,
    target: Option<Spanned<Vec<f64>>>,
    p75_days_at_most: Option<Spanned<f64>>,
    action: Option<String>,
}

impl FunnelBenchmarks {
    /// The shipped benchmarks.
    #[allow(clippy::expect_used)]
    pub fn shipped() -> Self {
        // The shipped file is part of the program and checked by a test below.
        Self::parse("benchmarks.toml", SHIPPED).expect("shipped benchmarks are valid")
    }

    /// Benchmarks from a file's text; every problem is located by line and column.
    pub fn parse(file: &str, text: &str) -> Result<Self, DefinitionErrors> {
        let locate = |span: std::ops::Range<usize>, key: String, message: String| {
            DefinitionError::located(file, text, span, key, message)
        };
        let raw: RawFile = read_toml(file, text)?;
        let mut errors = Vec::new();
        let mut steps = BTreeMap::new();
        for (i, step) in raw.steps.into_iter().enumerate() {
            let path = format!("steps[{i}]");
            let refused =
                |value: &str, expected: &str| format!("`{value}` is not accepted: {expected}");
            let process = step.process.get_ref().parse::<ProcessKey>();
            let from = step.from.get_ref().parse::<StageKey>();
            let to = step.to.get_ref();
            let to_ok = to == "won" || to.parse::<StageKey>().is_ok();
            if let Err(e) = &process {
                errors.push(locate(
                    step.process.span(),
                    format!("{path}.process"),
                    refused(e.value(), e.expected()),
                ));
            }
            if let Err(e) = &from {
                errors.push(locate(
                    step.from.span(),
                    format!("{path}.from"),
                    refused(e.value(), e.expected()),
                ));
            }
            if !to_ok {
                errors.push(locate(
                    step.to.span(),
                    format!("{path}.to"),
                    refused(to, "a stage key, or `won`"),
                ));
            }
            let target = match &step.target {
                None => None,
                Some(t) => match t.get_ref().as_slice() {
                    [low, high] if 0.0 <= *low && low <= high && *high <= 1.0 => {
                        Some((*low, *high))
                    }
                    _ => {
                        errors.push(locate(
                            t.span(),
                            format!("{path}.target"),
                            "expected [low, high] with 0 ≤ low ≤ high ≤ 1, such as [0.45, 0.50]"
                                .to_owned(),
                        ));
                        None
                    }
                },
            };
            let days = match &step.p75_days_at_most {
                Some(d) if !(*d.get_ref() > 0.0 && *d.get_ref() <= 3650.0) => {
                    errors.push(locate(
                        d.span(),
                        format!("{path}.p75_days_at_most"),
                        refused(
                            &d.get_ref().to_string(),
                            "a number of days above 0, at most 3650",
                        ),
                    ));
                    None
                }
                other => other.as_ref().map(|d| *d.get_ref()),
            };
            let (Ok(process), Ok(from), true) = (process, from, to_ok) else {
                continue;
            };
            let key = (process, from, to.to_owned());
            let setting = StepSetting {
                target,
                p75_days_at_most: days,
                action: step.action,
            };
            if steps.insert(key, setting).is_some() {
                errors.push(locate(
                    step.process.span(),
                    path,
                    format!(
                        "a second entry for {} → {to} of `{}`",
                        step.from.get_ref(),
                        step.process.get_ref()
                    ),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Self { steps })
        } else {
            Err(DefinitionErrors(errors))
        }
    }

    /// The setting of the step `from` → `to` of `process`, if the file has one.
    pub fn step(&self, process: &ProcessKey, from: &StageKey, to: &str) -> Option<&StepSetting> {
        self.steps
            .get(&(process.clone(), from.clone(), to.to_owned()))
    }

    /// Entries that name no documented step of `processes`: each a sentence for the report.
    pub fn unmatched(&self, processes: &ProcessSet) -> Vec<String> {
        self.steps
            .keys()
            .filter(|(process, from, to)| {
                let Some(p) = processes.get(process) else {
                    return true;
                };
                let Some(i) = p.position(from) else {
                    return true;
                };
                let next = p
                    .stages()
                    .get(i + 1)
                    .map_or("won".to_owned(), |s| s.key.to_string());
                *to != next
            })
            .map(|(process, from, to)| {
                format!("the benchmark for {from} → {to} of `{process}` matches no funnel step")
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_shipped_file_covers_every_documented_step_of_the_shipped_processes() {
        let benchmarks = FunnelBenchmarks::shipped();
        let processes = ProcessSet::shipped();
        assert!(benchmarks.unmatched(&processes).is_empty());
        for process in processes.processes() {
            let stages = process.stages();
            for (i, stage) in stages.iter().enumerate() {
                let to = stages
                    .get(i + 1)
                    .map_or("won".to_owned(), |s| s.key.to_string());
                let setting = benchmarks.step(&process.key, &stage.key, &to);
                assert!(
                    setting.is_some_and(|s| s.target.is_some() && s.action.is_some()),
                    "{} {} → {to}",
                    process.key,
                    stage.key
                );
            }
        }
    }

    #[test]
    fn every_mistake_is_located() {
        let text = "[[steps]]\nprocess = \"enterprise\"\nfrom = \"qualified\"\nto = \"Won!\"\ntarget = [0.5, 0.4]\np75_days_at_most = -3\n";
        let errors = FunnelBenchmarks::parse("b.toml", text).unwrap_err();
        let lines: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "b.toml:4:6: steps[0].to: `Won!` is not accepted: a stage key, or `won`",
                "b.toml:5:10: steps[0].target: expected [low, high] with 0 ≤ low ≤ high ≤ 1, such as [0.45, 0.50]",
                "b.toml:6:20: steps[0].p75_days_at_most: `-3` is not accepted: a number of days above 0, at most 3650",
            ]
        );
        let unknown = FunnelBenchmarks::parse("b.toml", "[[steps]]\nproces = 1\n").unwrap_err();
        assert_eq!(unknown.0[0].line, 2);
        assert!(unknown.0[0].message.contains("unknown field `proces`"));
    }

    #[test]
    fn an_entry_for_a_step_the_process_lacks_is_reported() {
        let text = "[[steps]]\nprocess = \"enterprise\"\nfrom = \"qualified\"\nto = \"won\"\n";
        let benchmarks = FunnelBenchmarks::parse("b.toml", text).unwrap();
        assert_eq!(
            benchmarks.unmatched(&ProcessSet::shipped()),
            ["the benchmark for qualified → won of `enterprise` matches no funnel step"]
        );
    }
}
