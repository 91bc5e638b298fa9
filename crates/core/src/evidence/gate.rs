//! Qualification gates: six questions a deal must answer before it earns more selling time,
//! each closed by a recorded decision that says what happens next.

use serde::{Deserialize, Serialize};

use crate::text::Note;

text_enum! {
    pub enum Gate {
        /// The problem matches what we solve, and we can reach people who decide.
        FitAccess = "fit_access",
        /// The buyer can state a measurable pain, its cause and the cost of doing nothing.
        ProblemImpact = "problem_impact",
        /// Who decides, signs, blocks and must be consulted is known.
        DecisionProcess = "decision_process",
        /// Something makes this a priority now.
        TimingPriority = "timing_priority",
        /// Budget, procurement, security and delivery constraints are workable.
        CommercialFit = "commercial_fit",
        /// Both sides agreed the next meeting, who attends and what it decides.
        MutualNextStep = "mutual_next_step",
    }
}

impl Gate {
    pub const fn label(self) -> &'static str {
        match self {
            Gate::FitAccess => "Fit and access",
            Gate::ProblemImpact => "Problem clarity and impact",
            Gate::DecisionProcess => "Decision process and stakeholders",
            Gate::TimingPriority => "Timing and priority",
            Gate::CommercialFit => "Commercial fit and constraints",
            Gate::MutualNextStep => "Mutual next-step agreement",
        }
    }
}

/// The outcome of a gate. Every outcome carries the plan that follows from it, so a gate is
/// never left at "we should talk again".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum GateDecision {
    /// The gate holds; `next_step` is what the next meeting covers.
    Pass { next_step: Note },
    /// The gate does not hold; `remedy` is the step that addresses it (a readiness call, a
    /// problem workshop, a stakeholder session…).
    Fail { remedy: Note },
    /// Work stops until `reentry_trigger` happens.
    Pause { reason: Note, reentry_trigger: Note },
}

impl GateDecision {
    pub fn passed(&self) -> bool {
        matches!(self, GateDecision::Pass { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(text: &str) -> Note {
        Note::parse(text).unwrap()
    }

    #[test]
    fn there_are_six_gates_in_the_order_a_deal_meets_them() {
        let labels: Vec<&str> = Gate::ALL.iter().map(|g| g.label()).collect();
        assert_eq!(
            labels,
            [
                "Fit and access",
                "Problem clarity and impact",
                "Decision process and stakeholders",
                "Timing and priority",
                "Commercial fit and constraints",
                "Mutual next-step agreement",
            ]
        );
    }

    #[test]
    fn every_outcome_carries_its_plan_and_only_a_pass_passes() {
        let pass = GateDecision::Pass {
            next_step: note("Proposal with a timeline"),
        };
        let fail = GateDecision::Fail {
            remedy: note("Problem workshop with the worksheet"),
        };
        let pause = GateDecision::Pause {
            reason: note("Current system is stable, no compliance deadline"),
            reentry_trigger: note("Renewal of their current contract in March"),
        };
        assert_eq!(
            [pass.passed(), fail.passed(), pause.passed()],
            [true, false, false]
        );
        assert_eq!(
            serde_json::to_value(&pause).unwrap(),
            serde_json::json!({
                "outcome": "pause",
                "reason": "Current system is stable, no compliance deadline",
                "reentry_trigger": "Renewal of their current contract in March",
            })
        );
        assert_eq!(
            serde_json::to_value(&fail).unwrap(),
            serde_json::json!({"outcome": "fail", "remedy": "Problem workshop with the worksheet"})
        );
        // A pause without its re-entry trigger is not a decision.
        let half: Result<GateDecision, _> =
            serde_json::from_value(serde_json::json!({"outcome": "pause", "reason": "Busy"}));
        assert!(half.is_err());
    }
}
