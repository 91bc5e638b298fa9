//! Diagnosis (DESIGN §4): is a shortfall a pipeline, a conversion or a capacity problem, and
//! which funnel step leaks most against its benchmark, with what to focus on.

use serde::Serialize;

/// Where a funnel step sits, which says what content and coaching fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FunnelPart {
    Top,
    Middle,
    Bottom,
}

impl FunnelPart {
    /// The part of a funnel of `steps` steps that step `index` (from 0) is in.
    pub fn of(index: usize, steps: usize) -> Self {
        match (3 * index) / steps.max(1) {
            0 => FunnelPart::Top,
            1 => FunnelPart::Middle,
            _ => FunnelPart::Bottom,
        }
    }

    pub fn focus(self) -> &'static str {
        match self {
            FunnelPart::Top => {
                "business value content: ROI cases and impact quantified with the buyer"
            }
            FunnelPart::Middle => {
                "differentiation and validation: demonstrations, references, competitive positioning"
            }
            FunnelPart::Bottom => {
                "negotiation and removing roadblocks: contract terms, procurement, legal and security reviews"
            }
        }
    }
}

/// One funnel step judged against its benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StepBenchmark {
    pub from: String,
    pub to: String,
    /// Conversion over the baseline window (history).
    pub baseline: Option<f64>,
    /// Conversion in the period judged.
    pub actual: Option<f64>,
    /// The target range, when one is set; otherwise the baseline is the bar.
    pub target: Option<(f64, f64)>,
    /// A metric to watch beside the conversion: the P75 days in the step's first stage.
    pub guardrail: Option<Guardrail>,
    /// What to work on when the step is below its bar; the funnel part's focus otherwise.
    pub action: Option<String>,
    pub part: FunnelPart,
}

/// A metric watched beside a step's conversion, and its limit if one is set.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Guardrail {
    pub name: String,
    pub value: Option<f64>,
    pub limit: Option<f64>,
}

impl Guardrail {
    /// Over its limit.
    pub fn breached(&self) -> bool {
        matches!((self.value, self.limit), (Some(v), Some(l)) if v > l)
    }
}

impl StepBenchmark {
    /// The bar the step is held to: the bottom of its target range, or its baseline.
    pub fn bar(&self) -> Option<f64> {
        self.target.map(|(low, _)| low).or(self.baseline)
    }

    /// How far below its bar the step is, as a share of the bar (0 when at or above it).
    pub fn shortfall(&self) -> Option<f64> {
        let (bar, actual) = (self.bar()?, self.actual?);
        (bar > 0.0).then(|| ((bar - actual) / bar).max(0.0))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// Not enough pipeline: coverage under 3× or under what the close rate needs.
    Pipeline,
    /// Deals do not convert: close rate under 33% or win rate under 50%.
    Conversion,
    /// Pipeline and conversion are healthy yet bookings fall short: not enough sellers.
    Capacity,
}

/// What the numbers say, with the reasons in words.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Diagnosis {
    pub problems: Vec<Problem>,
    pub reasons: Vec<String>,
    /// The step furthest below its bar, if any is below.
    pub leaking_step: Option<StepBenchmark>,
    pub focus: Option<String>,
}

/// The inputs of a diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Health {
    pub coverage: Option<f64>,
    pub close_rate: Option<f64>,
    pub win_rate: Option<f64>,
    /// Share of losses (by count) that went to no decision.
    pub no_decision_share: Option<f64>,
    /// Won plus the counted pipeline expected to close at the close rate, against target.
    pub bookings_short: bool,
}

const COVERAGE_GOAL: f64 = 3.0;
const CLOSE_RATE_FLOOR: f64 = 0.33;
const WIN_RATE_FLOOR: f64 = 0.50;

pub fn diagnose(health: &Health, steps: &[StepBenchmark]) -> Diagnosis {
    let mut problems = Vec::new();
    let mut reasons = Vec::new();
    let needed = health.close_rate.filter(|r| *r > 0.0).map(|r| 1.0 / r);
    if let Some(coverage) = health.coverage {
        let bar = needed.map_or(COVERAGE_GOAL, |n| n.max(COVERAGE_GOAL));
        if coverage < bar {
            problems.push(Problem::Pipeline);
            reasons.push(format!(
                "coverage {coverage:.2}× is under {bar:.2}× (3× and 1 / close rate)"
            ));
        }
    }
    let low_close = health.close_rate.is_some_and(|r| r < CLOSE_RATE_FLOOR);
    let low_win = health.win_rate.is_some_and(|r| r < WIN_RATE_FLOOR);
    if low_close || low_win {
        problems.push(Problem::Conversion);
        if let Some(r) = health.close_rate.filter(|_| low_close) {
            reasons.push(format!("close rate {:.1}% is under 33%", r * 100.0));
        }
        if let Some(r) = health.win_rate.filter(|_| low_win) {
            reasons.push(format!("win rate {:.1}% is under 50%", r * 100.0));
        }
        match health.no_decision_share {
            Some(share) if share > 0.5 => reasons.push(format!(
                "{:.0}% of losses are to no decision: strengthen discovery and the business case",
                share * 100.0
            )),
            Some(_) => reasons.push(
                "most losses are to competition: sharpen differentiation and validation".to_owned(),
            ),
            None => {}
        }
    }
    if problems.is_empty() && health.bookings_short {
        problems.push(Problem::Capacity);
        reasons.push(
            "pipeline and conversion are healthy but bookings fall short: add selling capacity"
                .to_owned(),
        );
    }
    let leaking_step = steps
        .iter()
        .filter(|s| s.shortfall().is_some_and(|x| x > 0.0))
        .max_by(|a, b| {
            a.shortfall()
                .unwrap_or(0.0)
                .total_cmp(&b.shortfall().unwrap_or(0.0))
        })
        .cloned();
    let focus = leaking_step.as_ref().map(|s| {
        s.action
            .clone()
            .unwrap_or_else(|| s.part.focus().to_owned())
    });
    Diagnosis {
        problems,
        reasons,
        leaking_step,
        focus,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(from: &str, baseline: f64, actual: f64, index: usize) -> StepBenchmark {
        StepBenchmark {
            from: from.to_owned(),
            to: "next".to_owned(),
            baseline: Some(baseline),
            actual: Some(actual),
            target: None,
            guardrail: None,
            action: None,
            part: FunnelPart::of(index, 4),
        }
    }

    fn healthy() -> Health {
        Health {
            coverage: Some(3.5),
            close_rate: Some(0.40),
            win_rate: Some(0.60),
            no_decision_share: Some(0.4),
            bookings_short: false,
        }
    }

    #[test]
    fn thin_coverage_is_a_pipeline_problem() {
        // A 25% close rate needs 4×; 3.5× is short of it though above 3×.
        let health = Health {
            close_rate: Some(0.25),
            win_rate: Some(0.6),
            ..healthy()
        };
        let d = diagnose(&health, &[]);
        assert_eq!(d.problems, [Problem::Pipeline, Problem::Conversion]);
        assert_eq!(
            d.reasons[0],
            "coverage 3.50× is under 4.00× (3× and 1 / close rate)"
        );
        assert_eq!(d.reasons[1], "close rate 25.0% is under 33%");
    }

    #[test]
    fn losses_to_no_decision_point_at_discovery() {
        let health = Health {
            win_rate: Some(0.45),
            no_decision_share: Some(0.7),
            ..healthy()
        };
        let d = diagnose(&health, &[]);
        assert_eq!(d.problems, [Problem::Conversion]);
        assert_eq!(
            d.reasons,
            [
                "win rate 45.0% is under 50%",
                "70% of losses are to no decision: strengthen discovery and the business case"
            ]
        );
    }

    #[test]
    fn healthy_numbers_with_short_bookings_are_a_capacity_problem() {
        let d = diagnose(
            &Health {
                bookings_short: true,
                ..healthy()
            },
            &[],
        );
        assert_eq!(d.problems, [Problem::Capacity]);
        assert!(diagnose(&healthy(), &[]).problems.is_empty());
    }

    #[test]
    fn the_leaking_step_is_the_one_furthest_below_its_bar() {
        // Against baselines 18%, 40%, 62.5%, 40%: the third step fell to 50% (20% short), the
        // first to 17% (5.6% short); a target range overrides the second's baseline.
        let mut second = step("qualified_lead", 0.40, 0.40, 1);
        second.target = Some((0.45, 0.50));
        let steps = [
            step("lead", 0.18, 0.17, 0),
            second,
            step("discovery", 0.625, 0.50, 2),
            step("proposal", 0.40, 0.41, 3),
        ];
        let d = diagnose(&healthy(), &steps);
        let leak = d.leaking_step.unwrap();
        assert_eq!(leak.from, "discovery");
        assert!((leak.shortfall().unwrap() - 0.2).abs() < 1e-12);
        assert_eq!(leak.part, FunnelPart::Middle);
        assert_eq!(d.focus.unwrap(), FunnelPart::Middle.focus());
        assert_eq!(steps[1].bar(), Some(0.45));
        assert_eq!(steps[3].shortfall(), Some(0.0));
        // A step's own action, when set, is the focus.
        let mut with_action = steps.clone();
        with_action[2].action = Some("Standardise discovery outputs.".to_owned());
        assert_eq!(
            diagnose(&healthy(), &with_action).focus.unwrap(),
            "Standardise discovery outputs."
        );
    }

    #[test]
    fn a_guardrail_is_breached_only_above_its_limit() {
        let guardrail = |value, limit| Guardrail {
            name: "P75 days in qualified".to_owned(),
            value,
            limit,
        };
        assert!(guardrail(Some(22.0), Some(21.0)).breached());
        assert!(!guardrail(Some(21.0), Some(21.0)).breached());
        assert!(!guardrail(Some(40.0), None).breached());
        assert!(!guardrail(None, Some(21.0)).breached());
    }

    #[test]
    fn funnel_parts_split_the_steps_in_thirds() {
        let parts: Vec<FunnelPart> = (0..6).map(|i| FunnelPart::of(i, 6)).collect();
        use FunnelPart::*;
        assert_eq!(parts, [Top, Top, Middle, Middle, Bottom, Bottom]);
    }
}
