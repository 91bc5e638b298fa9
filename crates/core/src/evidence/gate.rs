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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
